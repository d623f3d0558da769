"""The form's answer fields: a plain one, and one that types Japanese through the kiosk's own mozc.

Conversion happens inside the kiosk (``indice_kiosk.core.ime``), so it works the same at a walk-up
terminal with no input method, over SSH and in tests. Typing romaji composes kana (「やまだ」), Space
converts and shows the candidates, Space/↓/↑ move through them, a number or a click picks one, Enter
commits, Esc goes back. F2 or the field's 「かな」 button switches between kana and plain letters.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from indice_kiosk.core import application as model
from indice_kiosk.core.ime import ImeState, ImeUnavailable, Mozc, Segment

# The candidate window shows this many at a time, numbered 1..9 as mozc numbers them.
PAGE = 9
# Keys mozc gets while something is being composed (others keep their meaning: F9 start over, F10 next).
COMPOSING_KEYS = frozenset({"space", "enter", "escape", "backspace", "delete", "up", "down", "left", "right",
                            "home", "end", "f6", "f7", "f8"})


class FormInput(Input):
    """An answer field. Nothing typed or pasted is drawn raw, and a multi-line paste keeps every line."""

    def on_mount(self) -> None:
        # A steady cursor (the focused field is also framed in the accent colour): a blinking one redraws
        # the line twice a second for as long as the form is open, ~300 bytes a second over an operator's
        # SSH link and most of the kiosk's idle CPU (bench/RESULTS.md, row 6).
        self.cursor_blink = False

    def _on_paste(self, event: events.Paste) -> None:
        # Textual keeps only a paste's first line; an address pasted from an e-mail has several.
        if event.text:
            text = model.defuse(event.text)
            if self.selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *self.selection)
        event.stop()
        event.prevent_default()  # Input's own handler would insert the first line again


class KanaInput(FormInput):
    """A field whose keys go through mozc while kana input is on.

    ``provider`` gives the session's running mozc, or None when there is none (then it is a plain field).
    """

    kana: reactive[bool] = reactive(True)

    class Composition(Message):
        """What is being composed changed (``state`` None: nothing is)."""

        def __init__(self, field: KanaInput, state: ImeState | None) -> None:
            super().__init__()
            self.field = field
            self.state = state

    def __init__(self, provider: Callable[[], Mozc | None], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._provider = provider
        self.state: ImeState | None = None  # the last answer while composing

    @property
    def composing(self) -> bool:
        return self.state is not None and self.state.composing

    async def _on_key(self, event: events.Key) -> None:
        if not self.kana or not self._wants(event):
            await super()._on_key(event)
            return
        mozc = self._provider()
        if mozc is None:  # conversion unavailable: the field still takes the letters
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        try:
            if self.composing and event.character and event.character in "123456789" and self.state:
                self._choose(mozc, self._page_start() + int(event.character) - 1)
                return
            self._show(mozc.key(event.key, event.character))
        except ImeUnavailable:
            self._lost()

    def _wants(self, event: events.Key) -> bool:
        """Keys mozc gets: romaji (ASCII) that starts or continues a composition, and the keys that edit or
        convert it. Text that arrives already converted (an operator's own input method over SSH, kana typed
        directly) is not romaji: it goes into the field as it is. Tab and F-keys keep their meaning."""
        romaji = bool(event.is_printable and event.character and event.character.isascii()
                      and event.character != " ")
        if not self.composing:
            return romaji
        if event.key in COMPOSING_KEYS or romaji:
            return True
        self.commit()  # Tab, or converted text: what was composed goes in first, then the key as usual
        return False

    def choose(self, index: int) -> None:
        """Commit candidate ``index`` (a click in the list)."""
        if not self.composing:
            return
        mozc = self._provider()
        if mozc is None:
            return
        try:
            self._choose(mozc, index)
        except ImeUnavailable:
            self._lost()

    def _choose(self, mozc: Mozc, index: int) -> None:
        assert self.state is not None
        if not any(candidate.index == index for candidate in self.state.candidates):
            return
        self._show(mozc.choose(index, self.state))

    def _page_start(self) -> int:
        focused = self.state.focused if self.state and self.state.focused is not None else 0
        return focused // PAGE * PAGE

    def commit(self) -> None:
        """Put what is being composed into the field as it is shown (leaving the field does this too)."""
        if not self.composing:
            return  # (and no mozc is started for nothing: a wiped field blurs as its screen goes)
        mozc = self._provider()
        if mozc is None:
            return
        try:
            self._show(mozc.key("enter"))
        except ImeUnavailable:
            self._lost()

    def _show(self, state: ImeState) -> None:
        if state.committed:
            self.insert_text_at_cursor(model.defuse(state.committed))
        self._set_state(state if state.composing else None)

    def _lost(self) -> None:
        # mozc stopped answering: what was being composed is gone, the field goes on as a plain one.
        self._set_state(None)
        self.kana = False

    def _set_state(self, state: ImeState | None) -> None:
        self.state = state
        self.post_message(self.Composition(self, state))

    def _on_blur(self, event: events.Blur) -> None:
        self.commit()  # nothing typed is lost by clicking or tabbing away
        super()._on_blur(event)

    def watch_kana(self, kana: bool) -> None:
        if not kana and self.composing:
            self.commit()


def switch_kana(screen: Widget) -> None:
    """Kana input on or off in every Japanese field of ``screen`` at once, as an input method's key does."""
    fields = list(screen.query(KanaInput))
    if fields:
        kana = not fields[0].kana
        for field in fields:
            field.kana = kana


class Preedit(Widget):
    """What is being composed, after a short label: the part being converted reversed, the rest underlined."""

    DEFAULT_CSS = """
    Preedit {
        height: 1;
    }
    """

    def __init__(self, label: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.label = label
        self.segments: tuple[Segment, ...] = ()

    def show(self, segments: tuple[Segment, ...]) -> None:
        if segments != self.segments:
            self.segments = segments
            self.refresh()

    def render(self) -> Content:
        if not self.segments:
            return Content("")
        return Content.assemble(self.label, *((segment.text, "reverse" if segment.focused else "underline")
                                              for segment in self.segments))


class JapaneseField(Vertical):
    """A labelled kana field: the input, its 「かな」 switch, what is being composed, and the candidates."""

    def __init__(self, label: str, field: KanaInput, problem: Widget, *, kana_label: str, plain_label: str,
                 reading: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.label, self.field, self.problem = label, field, problem
        self.kana_label, self.plain_label, self.reading = kana_label, plain_label, reading

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(self.label, classes="field-label")
            yield self.field
            switch = Button(self.kana_label, id=f"kana-{self.field.id}", classes="kana-switch", compact=True)
            switch.can_focus = False  # a click, or F2: Tab goes from field to field, never to the switches
            yield switch
        with Vertical(classes="composition"):
            yield Preedit(self.reading, id=f"preedit-{self.field.id}", classes="preedit")
            candidates = OptionList(id=f"candidates-{self.field.id}", classes="candidates")
            candidates.can_focus = False  # a click picks a candidate without taking the focus from the field
            yield candidates
        yield self.problem

    def on_mount(self) -> None:
        self.query_one(".composition").display = False
        self.watch(self.field, "kana", self._kana_changed)

    def _kana_changed(self, kana: bool) -> None:
        switch = self.query_one(".kana-switch", Button)
        switch.label = self.kana_label if kana else self.plain_label
        switch.set_class(kana, "-on")

    @on(Button.Pressed, ".kana-switch")
    def _switch(self, event: Button.Pressed) -> None:
        event.stop()
        switch_kana(self.screen)
        self.field.focus()

    @on(KanaInput.Composition)
    def _composition(self, event: KanaInput.Composition) -> None:
        event.stop()
        panel = self.query_one(".composition")
        state = event.state
        panel.display = state is not None
        preedit = self.query_one(".preedit", Preedit)
        candidates = self.query_one(".candidates", OptionList)
        if state is None:
            preedit.show(())
            candidates.clear_options()
            return
        preedit.show(state.preedit)
        options = [Option(f"{candidate.index % PAGE + 1}. {candidate.text}"
                          + (f"  {candidate.note}" if candidate.note else ""), id=str(candidate.index))
                   for candidate in state.candidates]
        candidates.set_options(options)
        candidates.display = bool(options)
        if options and state.focused is not None:
            candidates.highlighted = next((i for i, c in enumerate(state.candidates)
                                           if c.index == state.focused), None)
        self.call_after_refresh(panel.scroll_visible)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.field.choose(int(event.option.id))
        self.field.focus()
