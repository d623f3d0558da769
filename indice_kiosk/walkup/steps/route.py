"""Step 3: which application fits the person, and whether the ID is personal or a group's."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Button, RadioButton, RadioSet

from indice_kiosk.core.application import IdType, Route
from indice_kiosk.core.flow import Step
from indice_kiosk.walkup.messages import RouteChosen
from indice_kiosk.walkup.steps.base import KioskScreen, leaving_button
from indice_kiosk.widgets.prose import Prose, wrap


class ChoiceButton(RadioButton):
    """A radio button with the plain-words hint under its title, wrapped as Japanese text wraps."""

    DEFAULT_CSS = """
    ChoiceButton {
        width: 100%;
        height: auto;
    }
    """
    INDENT = 6  # the hint sits under the title, past the radio mark

    def __init__(self, title: str, hint: str = "", **kwargs: Any) -> None:
        super().__init__(title, **kwargs)
        self.hint = hint

    def _hint_lines(self, width: int) -> list[str]:
        if not self.hint:
            return []
        return [" " * self.INDENT + line for line in wrap(self.hint, max(width - self.INDENT, 10))]

    def render(self) -> Content:
        lines = self._hint_lines(self.content_region.width or 80)
        return Content.assemble(super().render(), *(f"\n{line}" for line in lines))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(self._hint_lines(width))


class ChoiceSet(RadioSet):
    """A RadioSet that also says when Enter/Space confirmed a choice, even one already selected."""

    class Chosen(Message):
        def __init__(self, choice_set: ChoiceSet) -> None:
            super().__init__()
            self.choice_set = choice_set

    def action_toggle_button(self) -> None:
        super().action_toggle_button()
        self.post_message(self.Chosen(self))


class RouteScreen(KioskScreen):
    FIRST_FOCUS = "#route"
    KEYS: ClassVar = [("escape", "back", "key.back"), ("f10", "next", "key.next")]

    def __init__(self) -> None:
        super().__init__()
        # The choice on screen; the session takes it when Next confirms it (RouteChosen).
        self.route: Route | None = self.kiosk.session.route
        self.id_type: IdType = self.kiosk.session.id_type

    @classmethod
    def step_id(cls) -> str:
        return Step.ROUTE

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            yield Prose(self.t("route.heading"), classes="heading")
            # Right under the question it is about, where it is seen at any terminal size.
            yield Prose("", id="route-problem", classes="problem")
            with ChoiceSet(id="route"):
                for route in Route:
                    yield ChoiceButton(
                        self.t(f"route.{route}.title"),
                        self.t(f"route.{route}.hint"),
                        id=f"route-{route}",
                        value=self.route is route,
                    )
            with Vertical(id="id-section"):
                yield Prose(self.t("route.id_heading"), classes="subheading")
                with ChoiceSet(id="id-type"):
                    yield RadioButton(self.t("id_type.personal"), id="id-personal",
                                      value=self.id_type is IdType.PERSONAL)
                    yield ChoiceButton(self.t("id_type.group"), self.t("id_type.group.hint"),
                                       id="id-group", value=self.id_type is IdType.GROUP)
        yield self.nav_buttons(
            leaving_button(self.t("button.back"), id="back"),
            Button(self.t("button.next"), id="next", variant="primary"),
        )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.focus_first()
        self._show_id_section()

    def _show_id_section(self) -> None:
        # Whoever never had an INDICE password applies nowhere here: the ID type does not matter to them.
        self.query_one("#id-section").display = self.route is not Route.NOT_ISSUED

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        pressed = event.pressed.id or ""
        if event.radio_set.id == "route":
            self.route = Route(pressed.removeprefix("route-"))
            self.query_one("#route-problem", Prose).update("")
            self._show_id_section()
        else:
            self.id_type = IdType(pressed.removeprefix("id-"))
        section = self.query_one("#id-section")
        if not section.display and (self.focused is None or section in self.focused.ancestors):
            # The choice hid the ID-type question while it had the focus (Enter's ChoiceSet.Chosen, below,
            # can arrive before this message and move the focus there): Next takes it, so Enter goes on.
            self.set_focus(self.query_one("#next"))

    def on_choice_set_chosen(self, event: ChoiceSet.Chosen) -> None:
        # The next question, or the way on: a keyboard user should not hunt for it.
        # At once (set_focus, not Widget.focus, which waits): the RadioSet.Changed that may follow must find
        # the focus where this left it.
        asks_id_type = event.choice_set.id == "route" and self.route is not Route.NOT_ISSUED
        self.set_focus(self.query_one("#id-type" if asks_id_type else "#next"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "next":
            self.action_next()
        elif event.button.id == "back":
            self.action_back()

    def action_next(self) -> None:
        if self.route is None:
            problem = self.query_one("#route-problem", Prose)
            problem.update(self.t("route.pick_first"))
            problem.scroll_visible()
            self.focus_first()
            return
        self.post_message(RouteChosen(self.route, self.id_type))  # the app records it and goes on
