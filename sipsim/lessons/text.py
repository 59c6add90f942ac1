"""Plain-text renderings of a lesson for the terminal: the check report and a read-through.

``sipsim lesson N --check`` prints :func:`check_report`; ``sipsim lesson N --text`` prints
:func:`walkthrough` — every stop of the lesson in order, with the event the simulation shows
there, the narration, and the questions (with their choices, numbered as the TUI numbers them).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from sipsim.lessons.api import CheckResult
from sipsim.lessons.judge import list_choices, numbered_choices
from sipsim.lessons.loader import command_ref
from sipsim.lessons.session import Session

WIDTH = 100


def scenario_line(session: Session) -> str:
    sc = session.scenario
    route = f", route {sc.proxy.route}" if sc.proxy.route else ""
    return (f"scenario {sc.name}: {sc.workers} workers, policy {sc.policy}, profile {sc.profile}{route}")


def _wrap(text: str, indent: str) -> str:
    out = []
    for para in text.split("\n\n"):
        lines = para.splitlines()
        if any(line.startswith(("    ", "```", "|", "- ", "* ")) for line in lines):
            out.append("\n".join(indent + line for line in lines))
        else:
            out.append(textwrap.fill(" ".join(lines), WIDTH, initial_indent=indent, subsequent_indent=indent))
    return "\n\n".join(out)


def check_report(session: Session, results: Iterable[CheckResult]) -> tuple[str, bool]:
    """(report text, whether every check passed)."""
    results = list(results)
    width = max((len(r.id) for r in results), default=4)
    lines = [f"Lesson {session.number}: {session.title}", scenario_line(session), ""]
    unanswered = {q.id: q for q in session.lesson.questions if q.id not in session.progress().answered}
    questions = {q.id for q in session.lesson.questions}
    for r in results:
        if r.id in unanswered:
            q = unanswered[r.id]
            tag = "TODO"
            msg = f"{q.prompt} — answer with --answer {q.id}=VALUE"
            if q.choices:
                msg += f" ({list_choices(q.choices)})"
        else:
            tag = "PASS" if r.passed else "FAIL"
            msg = r.message
            if r.passed and r.id in session.progress().missed and "(a second try" not in msg:
                msg += " (a second try)"
            if not r.passed and r.expected and r.id in questions:
                msg += f" [the simulation says: {r.expected}]"
        head = f"  {tag}  {r.id:<{width}}  "
        lines.append(textwrap.fill(msg, WIDTH + len(head), initial_indent=head, subsequent_indent=" " * len(head)))
    passed = sum(1 for r in results if r.passed)
    ok = passed == len(results)
    lines.append("")
    lines.append(f"{passed} of {len(results)} passed." + (" Lesson complete." if ok else ""))
    return "\n".join(lines), ok


def walkthrough(session: Session) -> str:
    """The whole lesson as text: each stop, the simulation's event there, narration, questions."""
    sim = session.simulation
    how = (f"(as text: where the lesson names the TUI's keys, n to step or p to run, read on; answer its "
           f"questions with sipsim lesson {command_ref(session.lesson)} --check --answer ID=VALUE)")
    lines = [f"Lesson {session.number}: {session.title}", scenario_line(session), textwrap.fill(how, WIDTH), ""]
    intro = session.narration(0)
    if intro is not None and intro.position == 0:
        lines += [_wrap(intro.text, "  "), ""]
    asked: set[str] = set()
    questions = session.questions()
    ref = command_ref(session.lesson)
    for pos in session.stops():
        ev = sim.events[pos - 1]
        t = sim.times[pos - 1]
        lines.append(f"-- at event {pos}, t = {1000 * t:.3f} ms: {ev.text}")
        n = session.narration(pos)
        if n is not None and n.position == pos:
            lines.append(f"   {n.title}" + (f"   [{n.source}]" if n.source else ""))
            lines.append(_wrap(n.text, "   "))
        for q in questions:
            if q.position == pos and q.id not in asked:
                asked.add(q.id)
                lines.append(f"   QUESTION {q.id}: {q.prompt}")
                spec = session.lesson.question_spec(q.id)
                mark = "#" if spec is not None and numbered_choices(spec.choices) else ""
                for i, c in enumerate(q.choices, 1):
                    lines.append(f"      {mark}{i}. {c}")
                lines.append(f"      (sipsim lesson {ref} --check --answer {q.id}=VALUE)")
                # the next stops show what happened: a reader who wants to predict stops here
                lines.append("      ---- predict before you read on: what follows shows the answer ----")
        lines.append("")
    return "\n".join(lines)
