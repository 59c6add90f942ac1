"""Panel 8 — the lesson: narration for the current step, the open question, the check, a hint.

It speaks only through :mod:`sipsim.lessons.api`: ``narration(position)`` whenever the cursor
moves, ``question(position)`` (asked, not answered yet) with its choices or a free-text input,
``answer(id, text)`` → :class:`~sipsim.lessons.api.CheckResult`, ``hint(position)`` on ``h``.
The lesson content itself lives with the lessons (``sipsim lesson N`` opens the TUI on one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static

from sipsim.tui.panels.base import PanelInfo


@dataclass
class LessonState:
    """The lesson and what the learner did on this screen (answers are kept by the session)."""

    session: Any  # sipsim.lessons.api.LessonSession
    result: Any = None  # the last CheckResult
    result_pos: int = -1
    hint: str = ""
    hint_pos: int = -1


class LessonPanel(PanelInfo, Vertical, can_focus=True):
    NUMBER = 8
    TITLE = "Lesson"
    HELP = """\
### 8 Lesson — a teacher beside the simulation

What the lesson says about the step on screen (its narration is tied to *what happens* — "the first
`parse_msg` of the INVITE" — not to step numbers), then a **question**: predict what comes next
*before* you step on. Choose an answer (`up`/`down`, `enter`) or type it and press `enter`; the
check compares it with what the simulation really does and says why. `h` shows a hint. `p` (run)
stops where the lesson has something to say.

Each claim about Kamailio names its source (file and function) so you can read the real thing.
"""

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(id=self.panel_id())
        self.ui = ui if ui is not None else {}
        self.border_title = f"{self.NUMBER} {self.TITLE}"
        self.state: LessonState | None = None
        self.pos = 0
        self._question: Any = None
        self.plain = ""  # what the pane says, as plain text
        self._shown: Any = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="lesson-scroll"):
            yield Static(id="lesson-text")
        # the open question sits outside the scrolled text, right above its choices: on a short
        # pane (80×24) the choices must never be all the learner sees
        yield Static(id="lesson-question")
        yield OptionList(id="lesson-choices")
        yield Input(placeholder="your answer, then enter", id="lesson-answer")

    def on_mount(self) -> None:
        self.query_one("#lesson-question").display = False
        self.query_one("#lesson-choices").display = False
        self.query_one("#lesson-answer").display = False

    def on_focus(self) -> None:
        """Focus goes to where the learner answers, when a question is open."""
        for sel in ("#lesson-choices", "#lesson-answer"):
            w = self.query_one(sel)
            if w.display:
                w.focus()
                return

    def show_lesson(self, state: LessonState | None, pos: int) -> None:
        self.state, self.pos = state, pos
        text = self.query_one("#lesson-text", Static)
        choices = self.query_one("#lesson-choices", OptionList)
        answer = self.query_one("#lesson-answer", Input)
        question = self.query_one("#lesson-question", Static)
        if state is None:
            self.plain = "no lesson is open — `sipsim lesson N` starts one"
            text.update(Text(self.plain, style="dim"))
            choices.display = answer.display = question.display = False
            return
        s = state.session
        nar = s.narration(pos)
        q = s.question(pos)
        key = (id(state), nar, q, state.result if state.result_pos == pos else None,
               state.hint if state.hint_pos == pos else None)
        if key == self._shown:
            return  # nothing new to say at this step (stepping stays cheap with a lesson open)
        self._shown = key
        parts: list[RenderableType] = [Text(f"Lesson {s.number}: {s.title}", style="bold")]
        if nar is not None:
            parts.append(Text(nar.title, style="bold cyan"))
            parts.append(Markdown(nar.text))
            if nar.source:
                parts.append(Text(f"read: {nar.source}", style="italic dim"))
        asked: list[Text] = []
        if q is not None:
            asked.append(Text(f"? {q.prompt}", style="bold yellow"))
            how = "↑/↓ choose, enter answers" if q.choices else "type your answer below, enter answers"
            asked.append(Text(f"8 focuses this pane · {how} · h hint", style="dim"))
        if state.result is not None and state.result_pos == pos:
            r = state.result
            mark = "✓ right" if r.passed else "✗ not quite"
            parts.append(Text(f"{mark}: {r.message}", style="bold green" if r.passed else "bold red"))
            if r.expected and not r.passed:
                parts.append(Text(f"expected: {r.expected}", style="dim"))
        if state.hint and state.hint_pos == pos:
            parts.append(Text(f"hint: {state.hint}", style="italic magenta"))
        self.plain = "\n".join(x.plain if isinstance(x, Text) else nar.text if nar is not None else ""
                               for x in parts + asked)
        text.update(Group(*parts))
        question.update(Group(*asked))
        question.display = bool(asked)
        if q is not None and (self._question is None or q.id != self._question.id):
            choices.clear_options()
            if q.choices:
                choices.add_options([f"{chr(97 + i)}) {c}" for i, c in enumerate(q.choices)])
                choices.highlighted = 0
            answer.value = ""
        self._question = q
        choices.display = q is not None and bool(q.choices)
        answer.display = q is not None and not q.choices

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        q = self._question
        if q is not None and q.choices:
            self.app.answer_lesson(q.id, q.choices[event.option_index])  # type: ignore[attr-defined]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        q = self._question
        if q is not None and event.value.strip():
            self.app.answer_lesson(q.id, event.value.strip())  # type: ignore[attr-defined]
