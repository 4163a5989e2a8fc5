"""A lesson's exercises at the end of its text: predict, check, hint, reveal.

`ExercisesPanel(lesson, solved)` shows each `tui_lab.lessons.Exercise`: its prompt (and numbered
choices), an input for the prediction, and a feedback line. Enter checks the prediction with
`tui_lab.lessons.judge` (right, wrong, or "cannot read that"); Ctrl+T shows the hint; Ctrl+G reveals
the answer and why. A right answer posts `ExercisesPanel.Solved` (the lesson screen records it in the
run store). Nothing here decides what is right: the judging is the core's, tested there.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from tui_lab.i18n import N_, _


class ExerciseBox(Vertical):
    """One exercise: prompt, prediction input, feedback."""

    BINDINGS = [
        Binding("ctrl+t", "hint", N_("Hint")),
        Binding("ctrl+g", "reveal", N_("Reveal")),
    ]

    def __init__(self, exercise, solved: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise
        self.solved = solved
        self.revealed = False
        if solved:
            self.add_class("-solved")

    def compose(self) -> ComposeResult:
        ex = self.exercise
        prompt = Text.assemble((f"{ex.number}. ", "bold"), ex.prompt)
        if ex.choices:
            prompt.append("\n" + "   ".join(f"{i}) {c}" for i, c in enumerate(ex.choices, start=1)), style="italic")
        yield Static(prompt, classes="ex-prompt")
        placeholder = {"number": _("your prediction (a number), Enter to check"),
                       "choice": _("the choice or its number, Enter to check")}.get(ex.kind, _("your prediction, Enter to check"))
        yield Input(placeholder=placeholder, id=f"ex-input-{ex.number}", classes="ex-input", compact=True)
        yield Static(self._status_text(), id=f"ex-feedback-{ex.number}", classes="ex-feedback")

    def _status_text(self) -> Text:
        if self.solved:
            return Text(_("✓ solved"), style="green")
        return Text(_("Enter: check  Ctrl+T: hint  Ctrl+G: reveal"), style="dim")

    @property
    def feedback(self) -> Static:
        return self.query_one(".ex-feedback", Static)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from tui_lab.lessons import judge

        event.stop()
        verdict = judge(self.exercise, event.value)
        if not verdict.understood:
            self.feedback.update(Text(_(verdict.message), style="yellow"))
            return
        if verdict.correct:
            first = not self.solved
            self.solved = True
            self.add_class("-solved")
            self.remove_class("-wrong")
            self.feedback.update(Text.assemble((_("✓ right.") + " ", "bold green"), self.exercise.explain))
            if first:
                self.post_message(ExercisesPanel.Solved(self.exercise.number))
        else:
            self.add_class("-wrong")
            self.feedback.update(Text.assemble((_("✗ not quite.") + " ", "bold red"),
                                               (_("Try again, Ctrl+T for a hint, Ctrl+G to reveal."), "dim")))

    def action_hint(self) -> None:
        self.feedback.update(Text.assemble((_("Hint:") + " ", "bold"), self.exercise.hint))

    def action_reveal(self) -> None:
        self.revealed = True
        self.feedback.update(Text.assemble((_("Answer:") + " ", "bold"), (self.exercise.answer, "bold"), "  ",
                                           self.exercise.explain))


class ExercisesPanel(Vertical):
    """Every exercise of a lesson, under a heading that counts the solved ones."""

    class Solved(Message):
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(self, exercises, solved: set[int] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exercises = tuple(exercises)
        self.solved = set(solved or ())

    def compose(self) -> ComposeResult:
        yield Static(self._heading(), id="ex-heading")
        for ex in self.exercises:
            yield ExerciseBox(ex, solved=ex.number in self.solved, id=f"ex-{ex.number}", classes="ex-box")

    def _heading(self) -> Text:
        solved = len(self.solved & {e.number for e in self.exercises})
        return Text.assemble((_("Exercises"), "bold"), ("  " + _("{solved}/{total} solved · predict first, then check").format(
            solved=solved, total=len(self.exercises)), "dim"))

    def set_exercises(self, exercises) -> None:
        """The same exercises in another language (a language switch): prompts redrawn, predictions
        typed so far kept, solved ones still solved."""
        typed = {box.exercise.number: box.query_one(Input).value for box in self.query(ExerciseBox)}
        self.exercises = tuple(exercises)

        async def refill() -> None:
            await self.recompose()
            for box in self.query(ExerciseBox):
                box.query_one(Input).value = typed.get(box.exercise.number, "")

        self.call_later(refill)

    def on_exercises_panel_solved(self, event: "ExercisesPanel.Solved") -> None:
        self.solved.add(event.number)
        self.query_one("#ex-heading", Static).update(self._heading())

    def first_open(self) -> Input | None:
        """The input of the first unsolved exercise (or the first one when all are solved)."""
        boxes = list(self.query(ExerciseBox))
        box = next((b for b in boxes if not b.solved), boxes[0] if boxes else None)
        return None if box is None else box.query_one(Input)
