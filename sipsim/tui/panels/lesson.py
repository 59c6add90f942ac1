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

An answer can be changed (``a``) until the simulation shows what happens: the question opens
again with the old answer chosen, and the new answer replaces it, saved and judged as a second
``--answer`` of ``sipsim lesson N --check`` would be. A lesson opened again (``sipsim lesson N``,
the palette) resumes at the stop the learner last read, saved with the progress as they move;
``r`` starts over (the first step; pressed there, it forgets the answers as ``--reset`` does).
Each stop's explanation starts at its top, and ``pgup``/``pgdn`` scroll it while answering: on a
short pane the question and its choices leave it a few lines only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text
from textual import events
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
    source: Any = None  # the simulation the lesson was last shown on: another one means it was (re)opened
    resuming: bool = False  # on the way to where the learner left off (the place is not saved meanwhile)
    resumed_at: int = -1  # ... arrived there: the pane says so, with how to start over
    save_failed: bool = False  # the place could not be saved (said once)


def _call(session: Any, name: str, *args: Any) -> Any:
    """A method beyond the protocol, if the session has it (None when it has not, or fails: a
    lesson bug must not take the pane down)."""
    fn = getattr(session, name, None)
    if fn is None:
        return None
    try:
        return fn(*args)
    except Exception:
        return None


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
    again = getattr(state.session, "reopened", None)  # asked again: the pane says the old answer in one line
    if state.result is not None and state.result_pos == pos:
        said_here = state.result.id
        if not (said_here == again and state.results.get(again) is state.result):  # (a refusal is said)
            out.extend(_result_lines(state.result))
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
        if q.position != last or q.id in (said_here, again):
            continue
        r = state.results.get(q.id)
        if r is not None:
            out.extend(_result_lines(r))
        elif progress is not None and q.id in progress.answered:  # answered in an earlier session
            right = q.id in progress.passed
            out.append(Text(f"{'✓ right' if right else '✗ not quite'} (answered earlier): "
                            f"you said {progress.answered[q.id]!r}", style="green" if right else "red"))
        elif progress is not None and q.reveal is not None and pos >= q.reveal:  # shown before it was answered
            out.append(Text("not answered: the simulation has just shown it — b steps back to the question",
                            style="yellow"))
    return out


def _again_line(session: Any, qid: str) -> Text:
    """The old answer of a question asked again, in one line (on 80×24 its verdict's two or three
    lines left the choices no room)."""
    progress = _progress(session)
    old = progress.answered.get(qid, "") if progress is not None else ""
    right = progress is not None and qid in progress.passed
    return Text(f"asked again · esc keeps {old!r} ({'right' if right else 'not quite'})",
                style="dim", no_wrap=True, overflow="ellipsis")


def _result_lines(r: Any) -> list[Text]:
    if not getattr(r, "attempt", True):  # unreadable: no verdict, the question stays open
        return [Text(f"? not an answer: {r.message}", style="bold yellow")]
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
    missed = ids & set(getattr(progress, "missed", ()))  # the first answer was wrong
    right = len(ids & set(progress.passed) - missed)  # right first time: the predictions
    second = len(ids & set(progress.passed) & missed)
    also = f" · {second} more on a second try" if second else ""
    if at_end:
        left = len(ids) - answered
        more = "" if not left else (" · answer the question below" if open_now and left == 1
                                    else f" · {left} not answered yet (b steps back to them)")
        return Text(f"end of the lesson: {right}/{len(ids)} right{also}{more}", style="bold")
    if not answered:
        return None
    return Text(f"answered {answered} of {len(ids)} · {right} right{also}", style="dim")


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


def _resume(app: Any, state: LessonState, source: Any, target: int) -> None:
    """Go to where the learner left off — unless the lesson was closed or the learner moved meanwhile."""
    state.resuming = False
    if getattr(app, "lesson", None) is state and app.source is source and source.position == 0:
        state.resumed_at = target
        app.goto(target)
        app.notify(f"lesson {state.session.number}: resumed where you left off — r (in the lesson pane) starts over",
                   timeout=4)  # (the toast covers the pane's last lines: the pane says it too)
    else:
        app.redraw()  # the place is saved again from here


class Choices(OptionList):
    """The question's choices. ``pgup``/``pgdn`` scroll the stop's explanation: among a handful of
    choices they only jumped to the first or last, and the explanation had no key while answering.
    A choice's letter picks it: the choices are labelled ``a)`` ``b)`` … (the letters the CLI's
    ``--answer`` takes too), and a learner types the one they mean — where ``b`` was step back."""

    def on_key(self, event: events.Key) -> None:
        ch = event.character or ""
        if len(ch) == 1 and "a" <= ch <= "z" and ord(ch) - 97 < self.option_count:
            event.stop()
            event.prevent_default()  # (before the app's and the pane's keys: b steps back, a asks again)
            self.highlighted = ord(ch) - 97
            self.action_select()

    def _scroll_text(self, pages: int) -> None:
        for node in self.ancestors:
            if isinstance(node, LessonPanel):
                node.action_scroll_text(pages)
                return

    def action_page_up(self) -> None:
        self._scroll_text(-1)

    def action_page_down(self) -> None:
        self._scroll_text(1)


class LessonPanel(PanelInfo, Vertical, can_focus=True):
    NUMBER = 8
    TITLE = "Lesson"
    HELP = """\
### 8 Lesson — a teacher beside the simulation

What the lesson says about the step on screen (its narration is tied to *what happens* — "the first
`parse_msg` of the INVITE" — not to step numbers), then a **question**: predict what comes next
*before* you step on. Choose an answer (`up`/`down`, `enter`, or its letter) or type it and press `enter`
(`escape` leaves the answer box: while you type, `n`, `p`, `h` … are letters of the answer); the
check compares it with what the simulation really does and says why, right above the question's
place, and keeps saying it until the next question (come back to the stop and it is still there).
While the choices have the focus their letters pick them (`escape` leaves them, to step with `b`
and the other keys again). Mistyped, or changed
your mind? `a` asks the question again until the simulation shows the answer (step back to its
stop after that): the new answer replaces the old one, as a second `--answer` does in `sipsim
lesson N --check` (`escape` keeps the old one) — but a wrong first answer's verdict told you what
the simulation does, so a right answer after it counts as *a second try*, not as a prediction right
first time.
Below it: how many questions you answered and got right; at the end of the run, your score.
With no question open, `up`/`down`/`pgup`/`pgdn`/`home`/`end` scroll the narration while this pane
has the focus; while you answer, `pgup`/`pgdn` scroll it. `h` shows a hint. `p` (run) stops where
the lesson has something to say.

A lesson opened again resumes where you left off (your place is saved with your answers). `r`
starts over: back to the first step, your answers kept; `r` there forgets them too and asks every
question again (as `sipsim lesson N --reset`).

Each claim about Kamailio names its source (file and function) so you can read the real thing.
"""

    BINDINGS: ClassVar = [
        Binding("escape", "leave_answer", "leave answer"),
        Binding("a", "answer_again", "answer again"),
        Binding("r", "start_over", "start over"),
        Binding("pageup", "scroll_text(-1)", "text up", show=False),
        Binding("pagedown", "scroll_text(1)", "text down", show=False),
    ]

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(id=self.panel_id())
        self.ui = ui if ui is not None else {}
        self.border_title = f"{self.NUMBER} {self.TITLE}"
        self.state: LessonState | None = None
        self.pos = 0
        self._question: Any = None
        self.body = ""  # what the pane says inside, as plain text (``plain`` adds its border's keys)
        self._shown: Any = None
        self._narrated: Any = None  # the explanation on screen: a new one is shown from its top
        self._keys: tuple[bool, bool] = (False, False)  # a and r usable (the footer follows them)
        self._status_below = False  # the status lines after the choices (a question is open)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="lesson-scroll"):
            yield Static(id="lesson-text")
        # what must stay in sight outside the scrolled text: the verdict, the hint, the score, then
        # the open question right above its choices (on 80×24 the choices must never be all there is)
        yield Static(id="lesson-status")
        yield Static(id="lesson-question")
        yield Choices(id="lesson-choices")
        yield Input(placeholder="your answer, then enter", id="lesson-answer")

    def on_mount(self) -> None:
        for sel in ("#lesson-status", "#lesson-question", "#lesson-choices", "#lesson-answer"):
            self.query_one(sel).display = False

    def on_focus(self) -> None:
        """Focus goes to where the learner answers when a question is open, else to the narration
        (so that ↑/↓/PgDn scroll it, and ``end`` goes to its end rather than the simulation's)."""
        if not self._focus_answer():
            self.query_one("#lesson-scroll").focus()

    def _focus_answer(self) -> bool:
        for sel in ("#lesson-choices", "#lesson-answer"):
            w = self.query_one(sel)
            if w.display:
                w.focus()
                return True
        return False

    # -- (re)opening: resume where the learner left off ------------------------------------------------
    def _opened(self, state: LessonState, pos: int) -> None:
        """The lesson shown on a simulation it was not shown on before — opened by ``sipsim lesson
        N`` or the palette, or reopened there: from step 0 it goes on to the stop the learner last
        read (the session's saved place, read before this screen's narration moves it)."""
        src = self.app.source  # type: ignore[attr-defined]
        if state.source is src or getattr(src, "live", False):
            return
        state.source = src
        _call(state.session, "rejudge")  # answered on another run (lesson 13, another --route): this run judges
        target = _call(state.session, "resume_position") or 0
        if pos == 0 and target > 0:
            state.resuming = True
            self.app.call_later(_resume, self.app, state, src, target)

    def _save_place(self, state: LessonState) -> None:
        if state.resuming:
            return  # on the way: step 0's intro is not where the learner was
        try:
            save = getattr(state.session, "save", None)
            if save is not None:
                save()
        except OSError as exc:
            if not state.save_failed:
                state.save_failed = True
                self.app.notify(f"your place in the lesson cannot be saved: {exc}", severity="warning")

    def show_lesson(self, state: LessonState | None, pos: int) -> None:
        self.state, self.pos = state, pos
        text = self.query_one("#lesson-text", Static)
        status = self.query_one("#lesson-status", Static)
        choices = self.query_one("#lesson-choices", Choices)
        answer = self.query_one("#lesson-answer", Input)
        question = self.query_one("#lesson-question", Static)
        if state is None:
            self.border_subtitle = ""
            self.body = "no lesson is open — `sipsim lesson N` or the palette (ctrl+p, lesson) starts one"
            self.border_title = f"{self.NUMBER} {self.TITLE}"
            self._shown = self._question = self._narrated = None
            text.update(Text(self.body, style="dim"))
            choices.display = answer.display = question.display = status.display = False
            self.remove_class("-asking")
            self._keys_changed()
            return
        self._opened(state, pos)
        s = state.session
        nar = s.narration(pos)
        self._save_place(state)
        q = s.question(pos)
        reopened = getattr(s, "reopened", None)
        if reopened is not None and (q is None or q.id != reopened):
            _call(s, "reopen", None)  # the learner left the reopened question: the old answer stays
        if state.resumed_at != pos:
            state.resumed_at = -1  # said once, where the lesson resumed
        said = verdicts(state, pos)
        if q is not None and q.id == getattr(s, "reopened", None):
            said.insert(0, _again_line(s, q.id))
        if state.hint and state.hint_pos == pos:
            said.append(Text(f"hint: {state.hint}", style="italic magenta"))
        at_end = bool(getattr(self.app.source, "at_end", False))  # type: ignore[attr-defined]
        score = score_line(s, at_end, q is not None)
        if score is not None:
            said.append(score)
        if at_end:
            said.extend(check_lines(state))
        said.extend(self._place_lines(state, pos, q))
        how = self._keys_line(state, pos, q)
        key = (id(state), nar, q, tuple(x.plain for x in said), how)
        self._keys_changed()
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
        if q is not None:
            asked.append(Text(f"? {q.prompt}", style="bold yellow"))
        # the keys go in the bottom border: on 80×24 the row they took was the last choice's, cut
        # off below the pane (a learner saw a) b) c) of four)
        self.border_subtitle = how
        self.body = "\n".join([head] + [x.plain if isinstance(x, Text) else nar.text if nar is not None else ""
                                        for x in parts] + [x.plain for x in said + asked])
        text.update(Group(*parts))
        if (id(state), nar) != self._narrated:  # a new stop: its explanation from the top, not where
            self._narrated = (id(state), nar)  # the last one was scrolled to (its start was out of view)
            self.query_one("#lesson-scroll", VerticalScroll).scroll_home(animate=False, immediate=True)
        status.update(Group(*said))
        status.display = bool(said)
        if (q is not None) != self._status_below:
            # while a question is open, what the pane says (a hint, the old answer, the score) comes
            # after its choices: a short pane cuts its last lines, and the choices must stay whole
            # (on 80×24 a hint and a question asked again left only a) of four)
            self._status_below = q is not None
            if self._status_below:
                self.move_child(status, after=self.query_one("#lesson-answer"))
            else:
                self.move_child(status, before=question)
        question.update(Group(*asked))
        question.display = bool(asked)
        if q is not None and (self._question is None or q.id != self._question.id):
            before = _progress(s).answered.get(q.id, "") if q.id == getattr(s, "reopened", None) else ""
            choices.clear_options()
            if q.choices:
                choices.add_options([f"{chr(97 + i)}) {c}" for i, c in enumerate(q.choices)])
                choices.highlighted = q.choices.index(before) if before in q.choices else 0
            answer.value = before  # asked again: the old answer, to change
        self._question = q
        had_focus = self._answering()
        choices.display = q is not None and bool(q.choices)
        answer.display = q is not None and not q.choices
        self.set_class(q is not None, "-asking")  # the wide layout gives the pane more room (sipsim.tcss)
        if had_focus and not (choices.display or answer.display):
            self.query_one("#lesson-scroll").focus()  # answered: the keys scroll the narration again

    def _place_lines(self, state: LessonState, pos: int, q: Any) -> list[Text]:
        """Where the learner is in the lesson, when it matters: resumed here, or back at the start
        with answers that ``r`` would forget."""
        if pos == state.resumed_at and q is None:  # (with a question open the choices need the row: a toast says it)
            return [Text("resumed where you left off · r starts over", style="italic cyan")]
        if pos == 0 and self._answered(state) and hasattr(state.session, "reset"):
            return [Text("r forgets your answers: every question is asked again", style="dim")]
        return []

    def _answered(self, state: LessonState) -> bool:
        progress = _progress(state.session)
        return progress is not None and bool(progress.answered)

    def _keys_line(self, state: LessonState, pos: int, q: Any) -> str:
        """The pane's keys for this moment, in its bottom border (the footer shows them only while
        the pane has the focus)."""
        if q is not None:
            # (what to press first: on 80×24 the border cuts the end). The question does not take
            # the focus by itself: stepping back with b onto it would answer b)
            last = chr(ord("a") + len(q.choices) - 1) if q.choices else ""
            if not self._answering():
                return "8 to answer here · " + (f"↑/↓ or a–{last}, enter" if q.choices else "type, enter") + \
                    " · pgup/pgdn text"
            if q.choices:
                return f"↑/↓ choose, enter answers · or a–{last} · pgup/pgdn text · esc leaves"
            return "type, enter answers · esc leaves it · pgup/pgdn text"
        keys = []
        if _call(state.session, "changeable", pos) is not None:
            keys.append("a answers again")
        if self._can_start_over(state, pos):
            keys.append("r starts over")
        return "8 focuses this pane · " + " · ".join(keys) if keys else ""

    @property
    def plain(self) -> str:
        """What the pane says, as plain text: its text, then the keys in its border (which follow
        the focus: 8 to answer here, or the keys that answer)."""
        keys = str(self.border_subtitle or "")
        return f"{self.body}\n{keys}" if keys else self.body

    def _answering(self) -> bool:
        """The choices or the answer box have the focus (keys answer there, instead of stepping)."""
        return self.app.focused in (self.query_one("#lesson-choices"), self.query_one("#lesson-answer"))  # type: ignore[attr-defined]

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._border_keys()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.call_after_refresh(self._border_keys)  # (the focus has moved on by then)

    def _border_keys(self) -> None:
        """The border says how to answer from where the focus is now (8 first, or the keys there)."""
        if self.state is not None:
            self.border_subtitle = self._keys_line(self.state, self.pos, self._question)

    def _can_start_over(self, state: LessonState, pos: int) -> bool:
        if getattr(self.app.source, "live", False):  # type: ignore[attr-defined]
            return False
        return pos > 0 or (self._answered(state) and hasattr(state.session, "reset"))

    def _keys_changed(self) -> None:
        """The footer shows ``a`` and ``r`` only while they do something: tell it when that changes."""
        keys = (self.check_action("answer_again", ()) is True, self.check_action("start_over", ()) is True)
        if keys != self._keys:
            self._keys = keys
            self.app.refresh_bindings()  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.app.focused is self.query_one("#lesson-answer")  # type: ignore[attr-defined]
        if action == "leave_answer":  # only where the keys answer instead of stepping: the answer box,
            # and the choices, whose letters pick them (asked again, escape also keeps the old answer)
            return self._answering()
        if action == "answer_again":
            return (self.state is not None and not typing
                    and _call(self.state.session, "changeable", self.pos) is not None)
        if action == "start_over":
            return self.state is not None and not typing and self._can_start_over(self.state, self.pos)
        return True

    def action_leave_answer(self) -> None:
        """``escape`` in the answer box: back to the narration, where ``n``, ``p``,
        ``h`` … work again — in the box they are letters of the answer (the footer then shows only
        this key and quit; without it the learner had no visible way out). A question asked again
        closes, its old answer kept."""
        state = self.state
        if state is not None and getattr(state.session, "reopened", None) is not None:
            _call(state.session, "reopen", None)
            self.app.redraw()  # type: ignore[attr-defined]
        self.query_one("#lesson-scroll").focus()

    def action_answer_again(self) -> None:
        """``a``: the answered question open again (until the simulation shows its answer), the old
        answer chosen; the next answer replaces it — saved and judged like any answer."""
        state = self.state
        if state is None:
            return
        q = _call(state.session, "changeable", self.pos)
        if q is None:
            return
        _call(state.session, "reopen", q.id)
        self.app.redraw()  # type: ignore[attr-defined]
        self._focus_answer()

    def action_start_over(self) -> None:
        """``r``: back to the lesson's first step, the answers kept (the footer and the pane say that
        ``r`` there forgets them); at the first step, forget them, as ``sipsim lesson N --reset``."""
        state, app = self.state, self.app
        if state is None:
            return
        if getattr(app, "running", False):
            app.stop_running()  # type: ignore[attr-defined]
        if app.source.position > 0:  # type: ignore[attr-defined]
            app.goto(0)  # type: ignore[attr-defined]
            return
        s = state.session
        try:
            s.reset()
        except Exception as exc:  # a progress file that cannot be written: say so, keep going
            app.notify(f"the answers could not be forgotten: {exc}", severity="error")
            return
        state.results.clear()
        state.result, state.result_pos, state.hint, state.hint_pos = None, -1, "", -1
        state.checked, state.checked_for = [], None
        app.redraw()  # type: ignore[attr-defined]
        app.notify(f"lesson {s.number}: your answers are forgotten — every question is asked again")

    def action_scroll_text(self, pages: int) -> None:
        """``pgup``/``pgdn`` while answering: the explanation scrolls, the answer keeps the focus."""
        scroll = self.query_one("#lesson-scroll", VerticalScroll)
        if pages < 0:
            scroll.scroll_page_up(animate=False)
        else:
            scroll.scroll_page_down(animate=False)

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
