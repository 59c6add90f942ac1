"""One lesson bound to one simulation: the :class:`~sipsim.lessons.api.LessonSession` the TUI and
``sipsim lesson N --check`` drive.

The session builds the lesson's scenario (the lesson's overrides, then the caller's: ``--policy
lifo``, ``--route my.cfg`` …), finds the anchors in the simulation it is attached to, and answers
the contract's calls. Questions are judged by their predicate against the *simulation* — the
lesson's reference answer is only what a teacher believes it will say, and a test keeps the two
in agreement. Checks that need another run (``variant = { profile = "kamailio" }``) get their own
simulation of the same scenario.

Driving it without a screen (what the pilot tests and ``--text`` do): ``stops()`` gives the
positions to pause at, in order; at each, ``narration(p)`` and ``question(p)``; answer with
``answer(id, text)`` where text is a choice's text, its value, or its number on screen
("2", 1-based). Everything is deterministic: same scenario, same stops, same results.

Beyond the protocol: ``refusal(id, text)`` (why an answer cannot be judged at all — no choice, no
number — and what to type instead; ``answer`` refuses such an answer without recording it),
``questions()`` (all of them, with positions), ``position_of(anchor)``,
``resume_position()`` (where the learner last was), ``progress()``, ``reference_answers()``,
``save()`` (writes the last anchor read; answers and checks are saved as they happen),
``changeable(p)`` / ``reopen(id)`` (an answered question asked again: a learner who mistyped or
changed their mind answers once more, and the latest answer is the one judged — as a second
``--answer`` in ``sipsim lesson N --check`` replaces the first), ``reset()`` (as ``--reset``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipsim.engine.events import StepEvent
from sipsim.lessons.anchors import resolve
from sipsim.lessons.api import CheckResult, Narration, Progress, Question
from sipsim.lessons.judge import (
    Observation,
    choice_for,
    choice_refusal,
    normalise,
    resolve_choice,
    same,
    show,
    unreadable,
)
from sipsim.lessons.model import CheckSpec, Judged, Lesson, LessonError, QuestionSpec
from sipsim.lessons.predicates import evaluate
from sipsim.lessons.progress import ProgressStore, with_answer
from sipsim.lessons.view import RunView

if TYPE_CHECKING:
    from sipsim.engine.scenario import Scenario
    from sipsim.engine.stepping import Simulation

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def build_scenario(lesson: Lesson, overrides: dict[str, Any] | None = None) -> Scenario:
    """The lesson's scenario with the lesson's overrides, then the caller's."""
    from sipsim.engine.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(lesson.scenario)
        merged = dict(lesson.overrides)
        merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
        if "route" in merged:
            route = Path(str(merged["route"])).expanduser()
            if not route.is_file():
                beside = lesson.path.parent / route.name  # "lessons/13-route-start.cfg" typed outside the repo
                hint = f" (the lesson's own is {beside})" if beside.is_file() else ""
                raise LessonError(f"routing script {merged['route']} not found{hint}")
            merged["route"] = str(route.resolve())
        if "start_order" in merged:
            merged["start_order"] = tuple(merged["start_order"])
        return sc.with_overrides(**merged) if merged else sc
    except ScenarioError as exc:
        raise LessonError(f"lesson {lesson.number}: scenario: {exc}") from None
    except TypeError as exc:
        raise LessonError(f"lesson {lesson.number}: bad override: {exc}") from None


def make_simulation(scenario: Scenario, number: int) -> Simulation:
    """A simulation of ``scenario``; a scenario that cannot run (a routing script with an error,
    a missing file) is a LessonError with the scenario's own message."""
    from sipsim.engine.scenario import ScenarioError
    from sipsim.engine.stepping import Simulation

    try:
        return Simulation(scenario)
    except ScenarioError as exc:
        raise LessonError(f"lesson {number}: {exc}") from None


class Session:
    """A lesson on a simulation (see the module docstring)."""

    def __init__(self, lesson: Lesson, *, overrides: dict[str, Any] | None = None,
                 store: ProgressStore | None = None) -> None:
        self.lesson = lesson
        self.number = lesson.number
        self.title = lesson.title
        self.overrides = dict(overrides or {})
        self.scenario = build_scenario(lesson, self.overrides)
        self.store = store
        self._progress = store.get(lesson.number) if store is not None else Progress(lesson.number)
        self._sim: Simulation | None = None
        self._injections: list[tuple[int, bytes, Any]] = []
        self._positions: dict[str, int] = {}
        self._hints_shown: dict[str, int] = {}
        self._variants: dict[tuple[tuple[str, Any], ...], RunView] = {}
        self._at: str | None = store.at(lesson.number) if store is not None else None
        self._saved_at = self._at  # the place the store has: save() writes only a change
        self._reopened: str | None = None  # an answered question asked again (see reopen)

    # -- binding ---------------------------------------------------------------------------------------
    def attach(self, sim: Simulation) -> None:
        """Find the anchors in ``sim`` (LessonError names one that never happens). If the learner
        later injects datagrams, the anchors are found again in the rewritten run."""
        try:
            self._positions = resolve(sim, self.lesson.anchors, where=f"lesson {self.number}: ")
        except LessonError as exc:
            changed = ", ".join(f"--{k} {v}" for k, v in sorted(self.overrides.items()) if k != "route")
            if not changed:
                raise
            raise LessonError(f"{exc} — the lesson's stops are written for its own scenario, and {changed} "
                              f"changes the run too much (without it the lesson runs)") from None
        for q in self.lesson.questions:  # a question revealed before it is asked is never open in the TUI
            asked, shown = self._positions[q.at], self._positions.get(q.reveal or "", 1 << 62)
            if shown <= asked:
                when = "at the same event" if shown == asked else "before it"
                raise LessonError(f"lesson {self.number}: question {q.id!r} is asked at {q.at!r}, but its answer "
                                  f"shows at {q.reveal!r}, which happens {when}: the TUI would never ask it "
                                  f"(reveal must name an anchor later in the run)")
        self._sim = sim
        self._injections = list(sim.injections)

    def _simulation(self) -> Simulation:
        if self._sim is None:
            self.attach(make_simulation(self.scenario, self.number))
        assert self._sim is not None
        if list(self._sim.injections) != self._injections:  # the TUI injected: the future changed
            self._injections = list(self._sim.injections)
            try:
                self._positions = resolve(self._sim, self.lesson.anchors, where=f"lesson {self.number}: ")
            except LessonError:
                pass  # an anchor no longer happens: keep the old positions, the narration still reads
        return self._sim

    @property
    def simulation(self) -> Simulation:
        """The attached simulation (made from ``scenario`` when nothing was attached)."""
        return self._simulation()

    def position_of(self, anchor_id: str) -> int:
        self._simulation()
        if anchor_id not in self._positions:
            raise LessonError(f"lesson {self.number}: no anchor {anchor_id!r}")
        return self._positions[anchor_id]

    # -- the contract ------------------------------------------------------------------------------------
    def stops(self) -> list[int]:
        self._simulation()
        return sorted(set(self._positions.values()))

    def _latest(self, position: int, want: str) -> str | None:
        """The latest anchor at or before ``position`` (``want="section"``: only those with narration)."""
        best: tuple[int, int] | None = None
        found = None
        for i, a in enumerate(self.lesson.anchors):
            pos = self._positions.get(a.id)
            if pos is None or pos > position:
                continue
            if want == "section" and self.lesson.section(a.id) is None:
                continue
            if best is None or (pos, i) > best:
                best, found = (pos, i), a.id
        return found

    def narration(self, position: int) -> Narration | None:
        self._simulation()
        anchor_id = self._latest(position, "section")
        if anchor_id is None:
            self._at = None  # back before the first stop: a lesson reopened later starts at its start
            if not self.lesson.intro:
                return None
            return Narration(0, self.title, self.lesson.intro)
        self._at = anchor_id
        section = self.lesson.section(anchor_id)
        assert section is not None
        pos = self._positions[anchor_id]
        return Narration(pos, section.title, self._fill(section.text, pos), self.lesson.anchor(anchor_id).source)

    def _fill(self, text: str, pos: int) -> str:
        """``{{worker}}``, ``{{msg}}``, ``{{step}}``, ``{{first_line}}``, ``{{time_ms}}``, ``{{event}}``
        in narration are taken from the anchored event (so a sentence stays true if it changes)."""
        sim = self._simulation()
        if pos <= 0 or "{{" not in text:
            return text
        ev = sim.events[pos - 1]
        first_line = ""
        if ev.msg is not None:
            from sipsim.lessons.view import MessageIndex

            idx = MessageIndex()
            for e in sim.events:
                idx.learn(e)
                if ev.msg in idx.msgs:
                    first_line = idx.msgs[ev.msg].first_line
                    break
        values = {
            "worker": "" if ev.worker is None else f"W{ev.worker}",
            "msg": "" if ev.msg is None else f"#{ev.msg}",
            "step": ev.step if type(ev) is StepEvent else ev.kind,
            "first_line": first_line,
            "time_ms": f"{1000 * sim.times[pos - 1]:.3f}",
            "event": ev.text,
        }
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def questions(self) -> list[Question]:
        """Every question, with the positions where it is asked and answered on screen."""
        self._simulation()
        out = []
        for q in self.lesson.questions:
            out.append(Question(q.id, self._positions[q.at], q.prompt, tuple(c.text for c in q.choices),
                                self._positions[q.reveal] if q.reveal else None))
        return sorted(out, key=lambda q: q.position)

    def question(self, position: int) -> Question | None:
        open_q = None
        for q in self.questions():
            if (q.id in self._progress.answered and q.id != self._reopened) or q.position > position:
                continue
            if q.reveal is not None and position >= q.reveal:
                continue
            open_q = q  # the most recently asked open question
        return open_q

    def answer(self, question_id: str, answer: str) -> CheckResult:
        q = self.lesson.question_spec(question_id)
        if q is None:
            known = ", ".join(x.id for x in self.lesson.questions)
            return CheckResult(question_id, False, f"lesson {self.number} has no question {question_id!r} "
                                                   f"(its questions: {known})")
        given = str(answer).strip()
        refused = self.refusal(q.id, given)
        if refused is not None:  # not an attempt: nothing is judged or recorded
            return CheckResult(q.id, False, refused, attempt=False)
        if q.choices:
            choice = resolve_choice(given, q.choices)
            assert choice is not None
            given = choice.text
        result = self._judge_question(q, given)
        first = q.id not in self._progress.answered
        self._progress = with_answer(self._progress, q.id, given)  # the latest answer replaces an earlier one
        if first and not result.passed:  # the prediction was wrong; its verdict then said what happens
            self._progress = replace(self._progress, missed=(*self._progress.missed, q.id))
        elif not first and result.passed and q.id in self._progress.missed:
            result = replace(result, message=f"{result.message} (a second try: your first answer was the prediction)")
        if self._reopened == q.id:
            self._reopened = None
        self._record(result)
        return result

    def changeable(self, position: int) -> Question | None:
        """The answered question a learner may answer again at ``position`` (None while another is
        open): the latest one asked at or before it whose answer the simulation has not shown yet —
        after the reveal an answer is no longer a prediction (step back to its stop to change it)."""
        if self.question(position) is not None:
            return None
        found = None
        for q in self.questions():
            if (q.id in self._progress.answered and q.position <= position
                    and (q.reveal is None or position < q.reveal)):
                found = q
        return found

    def reopen(self, question_id: str | None) -> None:
        """Ask the answered question ``question_id`` again: ``question()`` offers it where it was
        asked until a new answer is given (which replaces the old one) or ``reopen(None)`` keeps
        the old answer."""
        if question_id is not None and question_id not in self._progress.answered:
            raise LessonError(f"lesson {self.number}: question {question_id!r} has no answer to change")
        self._reopened = question_id

    @property
    def reopened(self) -> str | None:
        """The answered question asked again, if any (see :meth:`reopen`)."""
        return self._reopened

    def reset(self) -> None:
        """Forget the learner's answers, checks and place in this lesson, saved ones too — what
        ``sipsim lesson N --reset`` does: every question is asked again."""
        self._progress = Progress(self.number)
        self._at = self._saved_at = self._reopened = None
        self._hints_shown.clear()
        if self.store is not None:
            self.store.reset(self.number)

    def refusal(self, question_id: str, answer: str, write: Callable[[str], str] = repr) -> str | None:
        """Why ``answer`` cannot be an answer to the question at all — it names none of the choices,
        or a number question gets no number ("abc") — saying what to type instead (``write``
        spells an answer as the learner gives it); None when it can be judged. A refused answer
        is not an attempt: :meth:`answer` records nothing for it."""
        q = self.lesson.question_spec(question_id)
        if q is None:
            known = ", ".join(x.id for x in self.lesson.questions)
            return f"lesson {self.number} has no question {question_id!r} (its questions: {known})"
        given = str(answer).strip()
        if q.choices:
            return None if resolve_choice(given, q.choices) is not None else choice_refusal(given, q.choices, write)
        try:
            kind = self._observe(q.judged).kind
        except LessonError:
            return None  # judging will say why it cannot judge
        why = unreadable(given, kind)
        return None if why is None else f"{why}; it was not counted as an attempt"

    def rejudge(self) -> None:
        """Judge the saved answers again against this run and record it, as ``--check`` does: a
        lesson opened on another run than the one it was answered on (lesson 13 with another
        ``--route``) says what this run shows, in its verdicts and its score alike."""
        ids = {q.id for q in self.lesson.questions}
        passed = [x for x in self._progress.passed if x not in ids]  # the checks': judged at the end
        for q in self.lesson.questions:
            given = self._progress.answered.get(q.id)
            if given is not None and self._judge_question(q, given).passed:
                passed.append(q.id)
        if set(passed) != set(self._progress.passed):
            self._set_passed(passed)

    def checks(self) -> list[CheckResult]:
        results = []
        for q in self.lesson.questions:
            given = self._progress.answered.get(q.id)
            if given is None:
                results.append(CheckResult(q.id, False, f"not answered yet: {q.prompt}"))
            else:
                results.append(self._judge_question(q, given))
        results.extend(self._judge_check(c) for c in self.lesson.checks)
        self._set_passed(r.id for r in results if r.passed)
        return results

    def hint(self, position: int) -> str:
        """The open question's hints one after the other (the first, then the next on each call,
        staying on the last); with no open question, the hint of the anchor on screen, else the
        lesson's first."""
        q = self.question(position)
        if q is not None:
            spec = self.lesson.question_spec(q.id)
            assert spec is not None
            if spec.hints:
                shown = self._hints_shown.get(q.id, 0)
                self._hints_shown[q.id] = shown + 1
                return spec.hints[min(shown, len(spec.hints) - 1)]
        anchor_id = self._latest(position, "any")
        if anchor_id is not None and self.lesson.anchor(anchor_id).hint:
            return self.lesson.anchor(anchor_id).hint  # the hint of the anchor on screen, not an old one
        return self.lesson.hints[0] if self.lesson.hints else ""

    # -- beyond the protocol ------------------------------------------------------------------------------
    def progress(self) -> Progress:
        return self._progress

    def resume_position(self) -> int:
        """Where the learner last was (the anchor last narrated), 0 for a fresh start."""
        self._simulation()
        return self._positions.get(self._at or "", 0)

    def reference_answers(self) -> dict[str, str]:
        return {q.id: q.answer for q in self.lesson.questions}

    def save(self) -> None:
        """Write the learner's place (the anchor last narrated) when it changed since the last
        write: the TUI calls this as the learner moves, and most moves stay at the same stop."""
        if self._at != self._saved_at:
            self._save()

    # -- judging -----------------------------------------------------------------------------------------
    def _view(self, judged: Judged) -> RunView:
        if not judged.variant:
            return RunView(self._simulation())
        key = tuple(sorted(judged.variant.items()))
        view = self._variants.get(key)
        if view is None:
            variant = dict(judged.variant)
            if "route" in variant:
                variant["route"] = str(self.lesson.path.parent / str(variant["route"]))
            merged = {**self.overrides, **variant}
            view = self._variants[key] = RunView(make_simulation(build_scenario(self.lesson, merged), self.number))
        return view

    def _observe(self, judged: Judged) -> Observation:
        obs = evaluate(judged.check, self._view(judged), judged.args)
        changed = {k: v for k, v in judged.variant.items() if k == "route" or getattr(self.scenario, k, None) != v}
        if changed:  # say that this is another run than the one on screen (not when it is the same)
            run = ", ".join(f"{k} {v}" for k, v in sorted(changed.items()))
            obs = Observation(obs.value, obs.kind, f"(the same scenario run with {run}) {obs.says}")
        return obs

    def _judge_question(self, q: QuestionSpec, given: str) -> CheckResult:
        try:
            obs = self._observe(q.judged)
        except LessonError as exc:
            return CheckResult(q.id, False, f"cannot judge: {exc}")
        value = given
        if q.choices:
            choice = resolve_choice(given, q.choices)
            value = choice.value if choice is not None else given
        ok = same(value, obs, q.tolerance)
        right = choice_for(obs, q.choices) if q.choices else None
        expected = right.text if right is not None else show(obs.value, obs.kind)
        # the verdict itself is the caller's mark (PASS/FAIL, ✓ right/✗ not quite): the message
        # says what the simulation did, and what was said when it differs
        message = obs.says if ok else f"you said {given!r}; {obs.says}"
        if q.explain:
            message += f" {q.explain}"
        return CheckResult(q.id, ok, message, expected)

    def _judge_check(self, c: CheckSpec) -> CheckResult:
        try:
            obs = self._observe(c.judged)
        except LessonError as exc:
            return CheckResult(c.id, False, f"{c.says} — cannot judge: {exc}")
        if c.at_least is not None or c.at_most is not None:
            value = normalise(obs.value, "number")
            lo = -float("inf") if c.at_least is None else c.at_least
            hi = float("inf") if c.at_most is None else c.at_most
            ok = value is not None and lo <= value <= hi
            want = " and ".join(x for x in (f"at least {show(c.at_least, 'number')}" if c.at_least is not None else "",
                                            f"at most {show(c.at_most, 'number')}" if c.at_most is not None else "")
                                if x)
        else:
            ok = same(c.expect, obs, c.tolerance)
            want = show(c.expect, obs.kind)
        verdict = "" if ok else f" (the lesson expects {want})"
        return CheckResult(c.id, ok, f"{c.says}: {obs.says}{verdict}", want)

    def _record(self, result: CheckResult) -> None:
        passed = [x for x in self._progress.passed if x != result.id]
        if result.passed:
            passed.append(result.id)
        self._set_passed(passed)

    def _set_passed(self, passed: Iterable[str]) -> None:
        """Record what passes now, saved; the lesson is complete when every question and check does."""
        passed = tuple(passed)
        every = {q.id for q in self.lesson.questions} | {c.id for c in self.lesson.checks}
        self._progress = replace(self._progress, passed=passed, completed=every <= set(passed))
        self._save()

    def _save(self) -> None:
        if self.store is not None:
            self.store.put(self._progress, at=self._at)
            self._saved_at = self._at
