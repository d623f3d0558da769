"""The private parts of Textual the kiosk relies on, all named here (Textual 8.2.8, pinned in pyproject).

Each has no public equivalent; tests/test_private_apis.py fails on the upgrade that moves one, and says
which. Nothing else in the product reaches into Textual's underscore names, except the handler overrides
listed at the end (the methods must carry Textual's names to be called at all).
"""

from __future__ import annotations

from textual.app import App
from textual.dom import DOMNode
from textual.widgets import Input

TEXTUAL_VERSION = "8.2.8"


def bind_key(node: DOMNode, key: str, action: str, description: str, *, priority: bool = False) -> None:
    """Bind ``key`` on this node only, with a description in the person's language. BINDINGS is a class
    attribute, fixed before the language is known; Textual has no public per-instance bind."""
    node._bindings.bind(key, action, description, priority=priority)


def reset_bindings(node: DOMNode) -> None:
    """Back to the class's own BINDINGS (before binding the keys again in another language)."""
    node._bindings = node._merge_bindings()


def replace_crash_report(app: App[object], renderable: object) -> None:
    """Instead of Textual's crash report (every local variable, answers included), leave ``renderable`` on
    the terminal and close down as Textual's own ``_fatal_error`` does."""
    app._exit_renderables.append(renderable)  # type: ignore[arg-type]
    app._close_messages_no_wait()


# Handler methods the product overrides, which must keep Textual's names:
#   App._handle_exception, App._fatal_error   (indice_kiosk/walkup/app.py: the session is wiped first,
#                                             the report replaced, see replace_crash_report)
#   Input._on_key, Input._on_blur, Input._on_paste (indice_kiosk/widgets/form_input.py: kana input sees
#                                             keys before the Input does; a paste keeps every line)
OVERRIDDEN: dict[type, tuple[str, ...]] = {
    App: ("_handle_exception", "_fatal_error"),
    Input: ("_on_key", "_on_blur", "_on_paste"),
}
