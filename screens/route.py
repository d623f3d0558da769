"""Step 3: which application fits the person, and whether the ID is personal or a group's."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content, ContentText
from textual.geometry import Size
from textual.widgets import Button, RadioButton, RadioSet, Static

from kiosk.application import IdType, Route
from kiosk.flow import Step
from screens.base import KioskScreen


class ChoiceButton(RadioButton):
    """A radio button whose label may have a second line: the plain-words hint under the choice."""

    DEFAULT_CSS = """
    ChoiceButton {
        width: 100%;
        height: auto;
        text-wrap: wrap;
        text-overflow: fold;
    }
    """

    def _make_label(self, label: ContentText) -> Content:
        # Hint lines are indented to sit under the title, past the radio mark.
        text = label if isinstance(label, str) else label.plain
        return Content(text.rstrip().replace("\n", "\n      "))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.render().wrap(width))


class RouteScreen(KioskScreen):
    KEYS: ClassVar = [("escape", "back", "key.back"), ("f10", "next", "key.next")]

    @classmethod
    def step_id(cls) -> str:
        return Step.ROUTE

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            yield Static(self.t("route.heading"), classes="heading")
            with RadioSet(id="route"):
                for route in Route:
                    yield ChoiceButton(
                        f"{self.t(f'route.{route}.title')}\n{self.t(f'route.{route}.hint')}",
                        id=f"route-{route}",
                        value=session.route is route,
                    )
            yield Static(self.t("route.id_heading"), classes="subheading")
            with RadioSet(id="id-type"):
                yield RadioButton(self.t("id_type.personal"), id="id-personal",
                                  value=session.id_type is IdType.PERSONAL)
                yield ChoiceButton(self.t("id_type.group") + "\n" + self.t("id_type.group.hint"),
                                  id="id-group", value=session.id_type is IdType.GROUP)
            yield Static("", id="route-problem", classes="problem")
        yield self.nav_buttons(
            Button(self.t("button.back"), id="back"),
            Button(self.t("button.next"), id="next", variant="primary"),
        )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#route", RadioSet).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        session = self.kiosk.session
        pressed = event.pressed.id or ""
        if event.radio_set.id == "route":
            session.route = Route(pressed.removeprefix("route-"))
            self.query_one("#route-problem", Static).update("")
        else:
            session.id_type = IdType(pressed.removeprefix("id-"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "next":
            self.action_next()
        elif event.button.id == "back":
            self.action_back()

    def action_next(self) -> None:
        session = self.kiosk.session
        if session.route is None:
            self.query_one("#route-problem", Static).update(self.t("route.pick_first"))
            self.query_one("#route", RadioSet).focus()
            return
        self.kiosk.goto(Step.GUIDANCE if session.route is Route.NOT_ISSUED else Step.APPLICANT)
