"""Step 5: the form. Input ids are the answer keys; problems show under their field, in place."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label

from indice_kiosk.core import application as model
from indice_kiosk.core.application import FIND_ID_KEYS, IDENTITY_KEYS, IdType, Problem, Route
from indice_kiosk.core.flow import Step
from indice_kiosk.walkup.messages import AnswerChanged, FormCompleted
from indice_kiosk.walkup.steps.base import KioskScreen, leaving_button
from indice_kiosk.widgets.form_input import FormInput, JapaneseField, KanaInput, switch_kana
from indice_kiosk.widgets.prose import Prose

MAIN_KEYS = ("umin_id", "name_kanji", "name_kana", "name_roman", "institution", "department", "position",
             "phone", "email")


class ApplicantScreen(KioskScreen):
    FIRST_FOCUS = "Input"
    KEYS: ClassVar = [("escape", "back", "key.back"), ("f2", "toggle_kana", "key.kana"),
                      ("f10", "next", "key.next")]
    BINDINGS: ClassVar = [Binding("enter", "next_field", show=False, priority=True)]

    def __init__(self) -> None:
        super().__init__()
        session = self.kiosk.session
        # What the fields hold; each change is told to the app (AnswerChanged), which keeps the session's.
        self.answers: dict[str, str] = dict(session.answers)
        if session.operator and not self.answers.get("identity_checked_by"):
            # Who checked is, by default, the operator at the keyboard.
            self.answers["identity_checked_by"] = session.operator

    def forget_person(self) -> None:
        """Called by the wipe (privacy.scrub): the answers held here go with the session's."""
        self.answers.clear()

    @classmethod
    def step_id(cls) -> str:
        return Step.APPLICANT

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        yield from self.compose_header()
        # The form itself takes no focus: a click beside a field (or on a candidate under it) must not take
        # the focus from the field being typed in; the wheel still scrolls it, and focus scrolls to fields.
        with VerticalScroll(id="body", can_focus=False):
            yield Prose(self.t("applicant.heading"), classes="heading")
            yield Prose(self.t("applicant.intro"), classes="note")
            if self.kana_offered:
                yield Prose(self.t("kana.hint"), id="kana-hint", classes="note")
            if session.route is Route.INDICE_ONLY:
                yield Prose(self.t("applicant.indice_only_note"), id="general-password-note", classes="note")
            for key in MAIN_KEYS:
                yield self._field(key)
            with Vertical(id="find-id"):
                yield Prose(self.t("applicant.find_id_heading"), classes="subheading")
                for key in FIND_ID_KEYS:
                    yield self._field(key)
            with Vertical(id="group"):
                yield Prose(self.t("applicant.group_heading"), classes="subheading")
                yield self._field("representative_name")
            if session.operator:
                with Vertical(id="identity"):
                    yield Prose(self.t("applicant.identity_heading"), classes="subheading")
                    for key in IDENTITY_KEYS:
                        yield self._field(key)
        # Outside the scrolling form, just above the buttons, so it is seen where Next was pressed.
        yield Prose("", id="form-problem", classes="problem")
        yield self.nav_buttons(
            leaving_button(self.t("button.back"), id="back"),
            Button(self.t("button.next"), id="next", variant="primary"),
        )
        yield from self.compose_footer()

    @property
    def kana_offered(self) -> bool:
        # Not where Japanese cannot be drawn: the person could not see what they compose.
        return self.kiosk.config.input.kana and not self.kiosk.ascii_only

    def _field(self, key: str) -> Vertical:
        session = self.kiosk.session
        required = model.required_when_shown(key, session.route or Route.INDICE_ONLY)
        label = self.t(f"field.{key}") + (" *" if required else self.t("optional"))
        settings = {
            "value": self.answers.get(key, ""),
            "placeholder": self.t(f"placeholder.{key}"),
            "id": key,
            # Long enough for any honest answer, short enough that a paste cannot flood the form.
            "max_length": model.FIELD_BY_KEY[key].max_len * 4,
            "select_on_focus": False,
            "compact": True,
        }
        problem = Prose("", id=f"problem-{key}", classes="problem")
        if self.kana_offered and model.FIELD_BY_KEY[key].kind == "text":
            # Japanese text: typed through the kiosk's own mozc while kana input is on (F2 switches it).
            field = KanaInput(self.kiosk.mozc, **settings)
            field.kana = self.lang == "ja"
            return JapaneseField(label, field, problem, kana_label=self.t("kana.switch_on"),
                                 plain_label=self.t("kana.switch_off"), reading=self.t("kana.reading"),
                                 id=f"field-{key}", classes="field")
        return Vertical(
            Horizontal(Label(label, classes="field-label"), FormInput(**settings), classes="field-row"),
            problem,
            id=f"field-{key}",
            classes="field",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_kana":
            return self.kana_offered  # not offered: not on the key line either
        return True

    def action_toggle_kana(self) -> None:
        """F2: kana input on or off, for every Japanese field at once (as an input method's key would)."""
        switch_kana(self)

    def on_mount(self) -> None:
        for key, value in self.answers.items():
            if value != self.kiosk.session.answers.get(key, ""):
                self.post_message(AnswerChanged(key, value))  # the operator's name, filled in above
        self._update_sections()
        self.focus_first()
        # Load the font in the background so the first "cannot be printed" check does not stall typing.
        self.app.call_later(self.kiosk.warm_pdf_engine)
        if self.kana_offered:
            self.app.call_later(self.kiosk.warm_mozc)

    def _update_sections(self) -> None:
        session = self.kiosk.session
        visible = model.visible_keys(session.route or Route.INDICE_ONLY, session.id_type, self.answers,
                                     session.operator is not None)
        self.query_one("#find-id").display = "past_affiliations" in visible
        self.query_one("#group").display = session.id_type is IdType.GROUP

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        # An escape sequence or control character is made visible (U+FFFD) at once, never echoed raw to
        # the terminal, even while the field still has the focus; the message under the field says why.
        safe = model.defuse(event.value)
        if safe != event.value:
            event.input.value = safe
            return  # the assignment posts Changed again, with the safe value
        key = event.input.id or ""
        self.answers[key] = event.value
        self.post_message(AnswerChanged(key, event.value))
        if key == "umin_id":
            self._update_sections()
        problem_line = self.query_one(f"#problem-{key}", Prose)
        if problem_line.has_class("-shown") and self._problem(key) is None:
            self._show(key, None)
        if self.query_one("#form-problem", Prose).text:
            self._summarise()

    def action_next_field(self) -> None:
        """Enter in a field goes to the next field shown, and from the last one to Next -- at once, as the key
        arrives (a priority binding), so the keys typed after it go to the next field (see Tab in base.py).
        Elsewhere, or while a Japanese field is composing (Enter commits), Enter does what it always does."""
        field = self.focused
        if not isinstance(field, Input) or (isinstance(field, KanaInput) and field.composing):
            raise SkipAction()
        inputs = [i for i in self.query(Input) if i.parent and i.parent.parent and self._shown(i)]
        if field not in inputs:
            raise SkipAction()
        position = inputs.index(field)
        following = inputs[position + 1] if position < len(inputs) - 1 else self.query_one("#next", Button)
        self.set_focus(following)

    def _shown(self, field: Input) -> bool:
        node = field
        while node is not None and node is not self:
            if not node.display:
                return False
            node = node.parent  # type: ignore[assignment]
        return True

    def _summarise(self) -> bool:
        """Name the fields still wrong, above the buttons. Returns True when there are none."""
        checked = self._check()
        names = self.t("list.separator").join(self.t(f"field.{p.key}") for p in checked.problems)
        summary = self.query_one("#form-problem", Prose)
        summary.update(self.t("applicant.fix_these", fields=names) if names else "")
        return checked.ok

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        key = event.input.id or ""
        cleaned = model.normalize(key, event.value)
        if cleaned != event.value:
            # Show the conversion (hiragana to katakana, full-width digits) so nothing changes unseen.
            event.input.value = cleaned
        self._show(key, self._problem(key))

    def _problem(self, key: str) -> Problem | None:
        checked = self._check()
        return checked.problem_for(key) or checked.warning_for(key)

    def _check(self) -> model.Checked:
        """The form as it stands, checked (nothing is recorded: the app checks again on FormCompleted)."""
        session = self.kiosk.session
        return model.check(session.route or Route.INDICE_ONLY, session.id_type, self.answers,
                           printable=self.kiosk.printable, on_behalf=session.operator is not None)

    def _show(self, key: str, problem: Problem | None) -> None:
        line = self.query_one(f"#problem-{key}", Prose)
        if problem is None:
            line.update("")
            line.remove_class("-shown", "-warning")
            return
        line.update(self.t(f"problem.{problem.code}", chars=problem.chars))
        line.add_class("-shown")
        line.set_class(problem.code == "unprintable", "-warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "next":
            self.action_next()
        elif event.button.id == "back":
            self.action_back()

    def action_next(self) -> None:
        session = self.kiosk.session
        checked = self._check()
        visible = model.visible_keys(session.route or Route.INDICE_ONLY, session.id_type, checked.answers,
                                     session.operator is not None)
        for key in visible:
            self._show(key, checked.problem_for(key) or checked.warning_for(key))
        if not self._summarise():
            first = checked.problems[0].key
            self.query_one(f"#{first}", Input).focus()
            self.query_one(f"#field-{first}").scroll_visible()
            return
        self.post_message(FormCompleted())  # the app makes the application and shows it for review
