"""Step 2: UMIN's five password rules and the kiosk's data note; agree only after reading to the end."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button

from indice_kiosk.core.flow import Step
from indice_kiosk.core.text import t
from indice_kiosk.walkup.messages import Agreed
from indice_kiosk.walkup.steps.base import KioskScreen, leaving_button
from indice_kiosk.widgets.prose import Prose

RULES = ("consent.rule1", "consent.rule2", "consent.rule3", "consent.rule4", "consent.rule5")
# What the kiosk does with the data; the second note names where the application goes, which depends on
# the site's delivery mode (informed consent must name the FAX destination when the kiosk faxes).
DATA_NOTES = ("consent.data1", "consent.data2.{mode}", "consent.data3", "consent.data4")


class ConsentScreen(KioskScreen):
    FIRST_FOCUS = "#consent-text"
    KEYS: ClassVar = [("escape", "back", "key.back"), ("f10", "agree", "consent.agree")]

    read_to_end = False

    @classmethod
    def step_id(cls) -> str:
        return Step.CONSENT

    def compose(self) -> ComposeResult:
        # The help desk's variant: the operator reads the rules to the caller and confirms the caller agreed.
        operator = self.kiosk.session.operator
        prefix = "consent.operator_" if operator else "consent."
        yield from self.compose_header()
        with Vertical(id="body"):
            yield Prose(self.t(f"{prefix}heading"), classes="heading")
            if operator:
                yield Prose(self.t("consent.operator_note", operator=operator), id="operator-note",
                            classes="note")
            # UMIN's rules are shown as written, in Japanese; an English reader also gets a rendering. A
            # terminal that cannot draw Japanese shows the rendering alone, and says so.
            original = not self.kiosk.ascii_only
            with VerticalScroll(id="consent-text", can_focus=True):
                yield Prose(self.t("consent.rules_intro" if original else "consent.rules_intro_translation"),
                            classes="note")
                for number, key in enumerate(RULES, 1):
                    if original:
                        yield Prose(f"{number}．{t('ja', key)}", classes="rule")
                    if self.lang != "ja":
                        rendering = t(self.lang, key)
                        line = f"   {rendering}" if original else f"{number}. {rendering}"
                        yield Prose(line, classes="rule-en")
                if original:
                    yield Prose(t("ja", "consent.rules_note"), classes="rule")
                if self.lang != "ja":
                    yield Prose(t(self.lang, "consent.rules_note"), classes="rule-en")
                yield Prose(self.t("consent.data_heading"), classes="subheading")
                config = self.kiosk.config
                for key in DATA_NOTES:
                    note = self.t(key.format(mode=config.delivery.mode), fax=config.fax.number)
                    yield Prose("・" + note, classes="rule")
                yield Prose("━" * 8, id="consent-end")
            yield Prose(self.t("consent.scroll_hint"), id="consent-hint")
        yield self.nav_buttons(
            leaving_button(self.t("button.back"), id="back"),
            leaving_button(self.t(f"{prefix}disagree"), id="disagree", variant="error"),
            leaving_button(self.t(f"{prefix}agree"), id="agree", variant="success", disabled=True),
        )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        scroller = self.query_one("#consent-text", VerticalScroll)
        self.focus_first()
        self.watch(scroller, "scroll_y", self._check_read, init=False)
        # If the whole text fits on a large terminal it has been shown once laid out.
        self.call_after_refresh(self._check_read)

    def _check_read(self, _value: float | None = None) -> None:
        scroller = self.query_one("#consent-text", VerticalScroll)
        if scroller.max_scroll_y == 0 and scroller.size.height == 0:
            return  # not laid out yet
        if scroller.scroll_y >= scroller.max_scroll_y - 0.5:
            agree = self.query_one("#agree", Button)
            if agree.disabled:
                # The scroll, the focus's move and the new hint reach the terminal as one paint, not three
                # (about a screenful each over a slow SSH link; bench row 9).
                self.kiosk.paint_when_settled()
                self.read_to_end = True
                agree.disabled = False
                # The next thing to do; Enter now agrees. Focused at once (Widget.focus would wait a
                # refresh): everything this scroll changes reaches the terminal as one paint.
                self.set_focus(agree, scroll_visible=False)
                self.refresh_bindings()
                hint = self.query_one("#consent-hint", Prose)
                # The shorter hint keeps the longer one's height: the text above would otherwise move up a
                # row and every row of the screen be sent again (seconds over a slow SSH link).
                hint.styles.min_height = hint.size.height
                hint.update(self.t("consent.read_hint"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "agree":
            self.agree()
        elif event.button.id == "disagree":
            self.kiosk.wipe("disagree", notice="consent.disagreed")
        elif event.button.id == "back":
            self.action_back()

    def action_back(self) -> None:
        # Back from consent is back to the start: whatever this session held goes, as after "disagree".
        self.kiosk.wipe("back to welcome")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "agree":
            # Shown but greyed out in the footer until the whole text has been shown.
            return True if self.read_to_end else None
        return True

    def action_agree(self) -> None:
        if not self.read_to_end:
            # Pressed too early: point at what is missing instead of doing nothing.
            hint = self.query_one("#consent-hint", Prose)
            hint.add_class("-flash")
            self.set_timer(1.5, lambda: hint.remove_class("-flash"))
            return
        self.agree()

    def agree(self) -> None:
        if not self.read_to_end:
            return  # the rules have not all been shown
        self.post_message(Agreed())  # the app records the consent (with its time) and goes on
