"""``sipsim lesson N --validate``: everything a teacher needs to know about a lesson before class.

Loading a lesson already refuses what can be seen in the file alone (an unknown key, predicate or
placeholder, an ``expect`` the predicate can never report, a reveal that names no anchor …), and
attaching it to its simulation refuses an anchor that never happens — saying why — or a question
whose answer shows before it is asked. What is left needs the simulation's answers, and this
module asks them, the way ``tests/lessons`` asks them of the shipped lessons:

* every reference answer agrees with the simulation (a question the teacher got wrong);
* a question with choices has a right choice, and at least one wrong one (a question that cannot
  be failed teaches nothing);
* every check passes on the lesson's own run — an exercise lesson (``[files] solution = …``) is
  run with its solution as the route, as its learners' finished work would be;
* warnings for what a learner would miss: a question with no hint, an anchor that neither speaks
  nor asks (a stop with nothing new on screen), a lesson without a question or a check.

Nothing is saved: the session has no progress store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipsim.lessons.judge import choice_for, same
from sipsim.lessons.model import Lesson, LessonError
from sipsim.lessons.session import Session


@dataclass(frozen=True)
class Finding:
    level: str  # "ok", "problem" or "warning"
    text: str


def exercise_overrides(lesson: Lesson, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides a validation runs with: an exercise lesson runs its solution unless a route is given."""
    out = dict(overrides)
    if "solution" in lesson.files and not out.get("route"):
        out["route"] = str(lesson.files["solution"])
    return out


def validate(lesson: Lesson, overrides: dict[str, Any] | None = None) -> list[Finding]:
    """Findings for ``lesson`` (LessonError: it cannot run at all — the message says why)."""
    session = Session(lesson, overrides=exercise_overrides(lesson, overrides or {}))
    stops = session.stops()  # runs the scenario and finds every anchor, or raises
    found = [Finding("ok", f"loads: {len(lesson.anchors)} anchors, {len(lesson.sections)} sections, "
                           f"{len(lesson.questions)} questions, {len(lesson.checks)} checks"),
             Finding("ok", f"every anchor happens in the run ({len(stops)} stops)")]
    if "route" in session.overrides and "solution" in lesson.files:
        found.append(Finding("ok", f"an exercise: run with the route {session.overrides['route']}"))
    for q in lesson.questions:
        try:
            obs = session._observe(q.judged)
        except LessonError as exc:
            found.append(Finding("problem", f"question {q.id}: cannot judge: {exc}"))
            continue
        if q.choices:
            right = choice_for(obs, q.choices)
            if right is None:
                found.append(Finding("problem", f"question {q.id}: no choice is right — {obs.says} — so no answer "
                                                f"can pass; add a choice whose value is {obs.value!r}"))
                continue
            if all(same(c.value, obs, q.tolerance) for c in q.choices):
                found.append(Finding("problem", f"question {q.id}: every choice is right ({obs.says}): it cannot "
                                                f"be failed"))
            if q.answer.casefold() not in (right.text.casefold(), right.value.casefold()):
                found.append(Finding("problem", f"question {q.id}: the reference answer {q.answer!r} is wrong: "
                                                f"{obs.says} The right choice is {right.text!r}"))
        elif not same(q.answer, obs, q.tolerance):
            found.append(Finding("problem", f"question {q.id}: the reference answer {q.answer!r} is wrong: "
                                            f"{obs.says}"))
        if not q.hints and not lesson.hints:
            found.append(Finding("warning", f"question {q.id} has no hint (hints = [...]), and the lesson none"))
    changed = ", ".join(f"--{k} {v}" for k, v in sorted((overrides or {}).items()))
    run = f"the run with {changed}" if changed else "the lesson's own run"
    for result, spec in zip(session.checks()[len(lesson.questions):], lesson.checks, strict=True):
        if not result.passed:
            found.append(Finding("problem", f"check {spec.id} fails on {run}: {result.message}"))
    used = {q.at for q in lesson.questions} | {q.reveal for q in lesson.questions if q.reveal}
    for a in lesson.anchors:
        if lesson.section(a.id) is None and a.id not in used and not any(b.after == a.id for b in lesson.anchors):
            found.append(Finding("warning", f"anchor {a.id} has no section and no question: the lesson stops there "
                                            f"with nothing new to say"))
    if not lesson.questions:
        found.append(Finding("warning", "no question: a lesson asks the learner to predict at least once"))
    if not lesson.checks:
        found.append(Finding("warning", "no check: nothing verifies the lesson's claims against the simulation"))
    problems = sum(1 for f in found if f.level == "problem")
    if not problems:
        found.append(Finding("ok", f"every reference answer and every check agrees with the simulation "
                                   f"({len(lesson.questions)} questions, {len(lesson.checks)} checks)"))
    return found


def report(lesson: Lesson, findings: list[Finding]) -> tuple[str, bool]:
    """The findings as text, and whether the lesson is ready (no problem; warnings allowed)."""
    marks = {"ok": "ok      ", "problem": "PROBLEM ", "warning": "warning "}
    lines = [f"Lesson {lesson.number}: {lesson.title} ({lesson.path})", ""]
    lines += [f"  {marks[f.level]}{f.text}" for f in findings]
    problems = sum(1 for f in findings if f.level == "problem")
    warnings = sum(1 for f in findings if f.level == "warning")
    lines.append("")
    lines.append(f"{problems} problem(s), {warnings} warning(s)." + (" Ready." if not problems else ""))
    return "\n".join(lines), problems == 0
