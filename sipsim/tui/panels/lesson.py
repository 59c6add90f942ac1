"""Panel 8 — the lesson: narration for the current step, the open question, the check, a hint.

It speaks only through :mod:`sipsim.lessons.api`: ``narration(position)`` whenever the cursor
moves, ``question(position)`` (asked, not answered yet) with its choices or a free-text input,
``answer(id, text)`` → :class:`~sipsim.lessons.api.CheckResult`, ``hint(position)`` on ``h``.
The lesson content itself lives with the lessons (``sipsim lesson N`` opens the TUI on one).

Layout, top to bottom: the narration (the only part that scrolls), then what must never scroll
out of sight — the verdict on the answer given at this stop, the hint, the score so far
("answered 2 of 5 · 1 right", and "end of the lesson: n/m right" at the end) — then the open
question and its choices; the keys to answer are in the pane's bottom border (a row saved: on
80×24 it was the last choice's). A long narration on a short pane can push none of these away.
The verdict stays with its question: it shows from the question's stop until the next question
is asked, so stepping on to the reveal (or coming back later) still shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static

from sipsim.tui.panels.base import PanelInfo


@dataclass
class LessonState:
    """The lesson and what the learner did on this screen (answers are kept by the session)."""

    session: Any  # sipsim.lessons.api.LessonSession
    result: Any = None  # the last CheckResult (also a refused answer: "not counted as an attempt")
    result_pos: int = -1
    hint: str = ""
    hint_pos: int = -1
    results: dict[str, Any] = field(default_factory=dict)  # question id → its CheckResult, once answered
    checked: list[Any] = field(default_factory=list)  # the lesson's checks, judged at the end of the run
    checked_for: tuple[Any, ...] | None = None  # ... for these answers (judged again when they change)


def _questions(session: Any) -> list[Any] | None:
    """Every question with its position (beyond the protocol: None when the session cannot say)."""
    fn = getattr(session, "questions", None)
    if fn is None:
        return None
    try:
        return list(fn())
    except Exception:  # a lesson bug must not take the pane down
        return None


def _progress(session: Any) -> Any:
    fn = getattr(session, "progress", None)
    try:
        return fn() if fn is not None else None
    except Exception:
        return None


def verdicts(state: LessonState, pos: int) -> list[Text]:
    """The verdict(s) to show at ``pos``: the answer just given here, else the answers to the
    question(s) asked at the latest question stop at or before ``pos`` (kept until the next
    question is asked, so the reveal a step or two later still shows what was said)."""
    out: list[Text] = []
    said_here = ""
    if state.result is not None and state.result_pos == pos:
        out.extend(_result_lines(state.result))
        said_here = state.result.id
    qs = _questions(state.session)
    if qs is None:  # a session that does not list its questions: the last verdict until the next one
        if not out and state.result is not None and 0 <= state.result_pos <= pos:
            q = state.session.question(pos)
            if q is None or q.position <= state.result_pos:
                out.extend(_result_lines(state.result))
        return out
    asked = [q for q in qs if q.position <= pos]
    if not asked:
        return out
    last = max(q.position for q in asked)
    progress = _progress(state.session)
    for q in asked:
        if q.position != last or q.id == said_here:
            continue
        r = state.results.get(q.id)
        if r is not None:
            out.extend(_result_lines(r))
        elif progress is not None and q.id in progress.answered:  # answered in an earlier session
            right = q.id in progress.passed
            out.append(Text(f"{'✓ right' if right else '✗ not quite'} (answered earlier): "
                            f"you said {progress.answered[q.id]!r}", style="green" if right else "red"))
    return out


def _result_lines(r: Any) -> list[Text]:
    mark = "✓ right" if r.passed else "✗ not quite"
    lines = [Text(f"{mark}: {r.message}", style="bold green" if r.passed else "bold red")]
    if r.expected and not r.passed:
        lines.append(Text(f"expected: {r.expected}", style="dim"))
    return lines


def score_line(session: Any, at_end: bool, open_now: bool = False) -> Text | None:
    """"answered 2 of 5 · 1 right"; at the end of the run "end of the lesson: 4/5 right" (and what
    is left to answer: the question open below, or ones to step back to)."""
    qs, progress = _questions(session), _progress(session)
    if not qs or progress is None:
        return None
    ids = {q.id for q in qs}
    answered = len(ids & set(progress.answered))
    right = len(ids & set(progress.passed))
    if at_end:
        left = len(ids) - answered
        more = "" if not left else (" · answer the question below" if open_now and left == 1
                                    else f" · {left} not answered yet (b steps back to them)")
        return Text(f"end of the lesson: {right}/{len(ids)} right{more}", style="bold")
    if not answered:
        return None
    return Text(f"answered {answered} of {len(ids)} · {right} right", style="dim")


def check_lines(state: LessonState) -> list[Text]:
    """At the end of the run, the lesson's checks judged as ``sipsim lesson N --check`` judges
    them (and saved with the progress, as there): without this a learner who uses only the TUI
    never saw a check, nor "lesson complete". Judged once per set of answers."""
    session = state.session
    fn, progress = getattr(session, "checks", None), _progress(session)
    if fn is None or progress is None:
        return []
    key = tuple(sorted(progress.answered.items()))
    if state.checked_for != key:
        try:
            state.checked = list(fn())
        except Exception as exc:  # a lesson bug must not take the pane down
            state.checked, state.checked_for = [], key
            return [Text(f"the lesson's checks could not run: {exc}", style="red")]
        state.checked_for = key
    results = state.checked
    if not results:
        return []
    if all(r.passed for r in results):
        return [Text(f"lesson complete: every answer right, every check passed ({len(results)})", style="bold green")]
    questions = {q.id for q in _questions(session) or ()}
    checks = [r for r in results if r.id not in questions]
    lines = [Text(f"checks: {sum(r.passed for r in checks)}/{len(checks)} passed", style="bold")] if checks else []
    lines += [Text(f"✗ {r.message}", style="red") for r in checks if not r.passed]
    return lines


class LessonPanel(PanelInfo, Vertical, can_focus=True):
    NUMBER = 8
    TITLE = "Lesson"
    HELP = """\
### 8 Lesson — a teacher beside the simulation

What the lesson says about the step on screen (its narration is tied to *what happens* — "the first
`parse_msg` of the INVITE" — not to step numbers), then a **question**: predict what comes next
*before* you step on. Choose an answer (`up`/`down`, `enter`) or type it and press `enter`
(`escape` leaves the answer box: while you type, `n`, `p`, `h` … are letters of the answer); the
check compares it with what the simulation really does and says why, right above the question's
place, and keeps saying it until the next question (come back to the stop and it is still there).
Below it: how many questions you answered and got right; at the end of the run, your score.
With no question open, `up`/`down`/`pgup`/`pgdn`/`home`/`end` scroll the narration while this pane
has the focus. `h` shows a hint. `p` (run) stops where the lesson has something to say.

Each claim about Kamailio names its source (file and function) so you can read the real thing.
"""

    BINDINGS: ClassVar = [Binding("escape", "leave_answer", "leave answer")]

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
        # what must stay in sight outside the scrolled text: the verdict, the hint, the score, then
        # the open question right above its choices (on 80×24 the choices must never be all there is)
        yield Static(id="lesson-status")
        yield Static(id="lesson-question")
        yield OptionList(id="lesson-choices")
        yield Input(placeholder="your answer, then enter", id="lesson-answer")

    def on_mount(self) -> None:
        for sel in ("#lesson-status", "#lesson-question", "#lesson-choices", "#lesson-answer"):
            self.query_one(sel).display = False

    def on_focus(self) -> None:
        """Focus goes to where the learner answers when a question is open, else to the narration
        (so that ↑/↓/PgDn scroll it, and ``end`` goes to its end rather than the simulation's)."""
        for sel in ("#lesson-choices", "#lesson-answer"):
            w = self.query_one(sel)
            if w.display:
                w.focus()
                return
        self.query_one("#lesson-scroll").focus()

    def show_lesson(self, state: LessonState | None, pos: int) -> None:
        self.state, self.pos = state, pos
        text = self.query_one("#lesson-text", Static)
        status = self.query_one("#lesson-status", Static)
        choices = self.query_one("#lesson-choices", OptionList)
        answer = self.query_one("#lesson-answer", Input)
        question = self.query_one("#lesson-question", Static)
        if state is None:
            self.border_subtitle = ""
            self.plain = "no lesson is open — `sipsim lesson N` or the palette (ctrl+p, lesson) starts one"
            self.border_title = f"{self.NUMBER} {self.TITLE}"
            self._shown = self._question = None
            text.update(Text(self.plain, style="dim"))
            choices.display = answer.display = question.display = status.display = False
            return
        s = state.session
        nar = s.narration(pos)
        q = s.question(pos)
        said = verdicts(state, pos)
        if state.hint and state.hint_pos == pos:
            said.append(Text(f"hint: {state.hint}", style="italic magenta"))
        at_end = bool(getattr(self.app.source, "at_end", False))  # type: ignore[attr-defined]
        score = score_line(s, at_end, q is not None)
        if score is not None:
            said.append(score)
        if at_end:
            said.extend(check_lines(state))
        key = (id(state), nar, q, tuple(x.plain for x in said))
        if key == self._shown:
            return  # nothing new to say at this step (stepping stays cheap with a lesson open)
        self._shown = key
        # the lesson's title lives in the border: on 80×24 every line inside is worth a line of narration
        head = f"Lesson {s.number}: {s.title}"
        self.border_title = f"{self.NUMBER} {head}"
        parts: list[RenderableType] = []
        if nar is not None:
            parts.append(Text(nar.title, style="bold cyan"))
            parts.append(Markdown(nar.text))
            if nar.source:
                parts.append(Text(f"read: {nar.source}", style="italic dim"))
        asked: list[Text] = []
        how = ""
        if q is not None:
            asked.append(Text(f"? {q.prompt}", style="bold yellow"))
            how = ("8 focuses this pane · ↑/↓ choose, enter answers · h hint" if q.choices
                   else "8 focuses this pane · type your answer, enter answers · esc leaves it")
        # the keys to answer go in the bottom border: on 80×24 the row they took was the last
        # choice's, cut off below the pane (a learner saw a) b) c) of four)
        self.border_subtitle = how
        self.plain = "\n".join([head] + [x.plain if isinstance(x, Text) else nar.text if nar is not None else ""
                                         for x in parts] + [x.plain for x in said + asked] + ([how] if how else []))
        text.update(Group(*parts))
        status.update(Group(*said))
        status.display = bool(said)
        question.update(Group(*asked))
        question.display = bool(asked)
        if q is not None and (self._question is None or q.id != self._question.id):
            choices.clear_options()
            if q.choices:
                choices.add_options([f"{chr(97 + i)}) {c}" for i, c in enumerate(q.choices)])
                choices.highlighted = 0
            answer.value = ""
        self._question = q
        had_focus = self.app.focused in (choices, answer)  # type: ignore[attr-defined]
        choices.display = q is not None and bool(q.choices)
        answer.display = q is not None and not q.choices
        if had_focus and not (choices.display or answer.display):
            self.query_one("#lesson-scroll").focus()  # answered: the keys scroll the narration again

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_answer":  # only in the answer box, where the keys type instead of stepping
            return self.app.focused is self.query_one("#lesson-answer")
        return True

    def action_leave_answer(self) -> None:
        """``escape`` in the answer box: back to the narration, where ``n``, ``p``,
        ``h`` … work again — in the box they are letters of the answer (the footer then shows only
        this key and quit; without it the learner had no visible way out)."""
        self.query_one("#lesson-scroll").focus()

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
