"""`sipsim lesson N`: open lesson N in the TUI — or read it, or check your answers, without one.

    sipsim lesson N                                  # the TUI, stopping where the lesson speaks
    sipsim lesson N --text                           # the lesson as text, with its question IDs
    sipsim lesson N --check [--answer ID=VALUE ...]  # judge your answers against the simulation
    sipsim lesson N --check --reference              # judge the lesson's own answers (teachers;
                                                     # lesson 13: add --route lessons/13-route-solution.cfg)
    sipsim lesson N --validate                       # teachers: is the lesson ready? (every anchor,
                                                     # reference answer and check, against the run)
    sipsim lesson N --reset                          # forget your progress in lesson N

N is the lesson's number or file name (sipsim lessons lists them), or the path of a lesson file
(path/to/15-mine.md) anywhere. --answer gives an answer (a choice's text or its number on screen,
#N when the choices are numbers themselves) and implies --check; an answer that cannot be read is
refused, with what to type, and nothing is saved; answers are saved with your progress
($XDG_STATE_HOME/sipsim/progress.json, by default ~/.local/state/sipsim/progress.json) and count
again the next time. --route FILE runs the lesson's scenario with your routing script (lesson 13);
--policy, --profile and --workers change the scenario too, to see what a check says under another
kernel or era. --live (lesson 12) also runs a real `sipsim serve` on 127.0.0.1 and compares the
real kernel's wake order with the simulator's. --validate runs the lesson as a teacher's last look
before class (an exercise lesson with its solution file): each anchor is found (or it says why
not), every reference answer must agree with the simulation, a question must have a right choice
and a wrong one, every check must pass. The exit status is 0 when every check passes (--validate:
no problem), 1 when one fails, 2 on an error.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sipsim.cli.common import fail, no_terminal

POLICY_CHOICES = ("fifo", "wake-all", "reuseport", "lifo")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lesson", help="open a lesson in the TUI, or check your answers headless",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lesson", metavar="N", help="the lesson's number (sipsim lessons lists them) or file name")
    p.add_argument("--check", action="store_true", help="run the lesson's checks without the TUI and print each")
    p.add_argument("--answer", action="append", default=[], metavar="ID=VALUE",
                   help="answer question ID (a choice's text or number); repeatable; implies --check")
    p.add_argument("--reference", action="store_true",
                   help="check with the lesson's reference answers (nothing is saved)")
    p.add_argument("--text", action="store_true", help="print the lesson stop by stop, with the simulation's events")
    p.add_argument("--reset", action="store_true", help="forget your progress in this lesson")
    p.add_argument("--validate", action="store_true",
                   help="teachers: check the lesson itself against its simulation (nothing is saved)")
    p.add_argument("--route", metavar="FILE", help="run the lesson's scenario with this routing script (.cfg or .py)")
    p.add_argument("--policy", choices=POLICY_CHOICES, help="the simulated kernel's wake-up policy")
    p.add_argument("--profile", choices=("ser", "kamailio"), help="which era of the receive path to model")
    p.add_argument("--workers", type=int, metavar="COUNT", help="number of workers")
    p.add_argument("--live", action="store_true",
                   help="check, and also compare with a real server on 127.0.0.1 (lesson 12's live check)")


def _answers(items: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        qid, sep, value = item.partition("=")
        if not sep or not qid.strip():
            raise ValueError(f"--answer {item!r}: write ID=VALUE (e.g. --answer fifth=W1)")
        out.append((qid.strip(), value.strip()))
    return out


def run(args: argparse.Namespace) -> int:
    from sipsim.lessons import LessonError, find_lesson, lessons_dir
    from sipsim.lessons.loader import in_course
    from sipsim.lessons.progress import ProgressStore
    from sipsim.lessons.session import Session

    try:
        answers = _answers(args.answer)
    except ValueError as exc:
        return fail(str(exc))
    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    overrides = {"route": args.route, "policy": args.policy, "profile": args.profile, "workers": args.workers}
    try:
        lesson = find_lesson(args.lesson)
        if args.validate:
            from sipsim.lessons.validate import report, validate

            text, ready = report(lesson, validate(lesson, {k: v for k, v in overrides.items() if v is not None}))
            print(text)
            return 0 if ready else 1
        store = None if args.reference else ProgressStore()
        if store is not None and not in_course(lesson):  # a draft must not write over course lesson N's progress
            if not args.text or args.check or answers:
                print(f"sipsim: {lesson.path.name} is not lesson {lesson.number} of the course in {lessons_dir()}: "
                      f"answers are judged but not saved (SIPSIM_LESSONS=folder makes your folder the course)",
                      file=sys.stderr)
            store = None
        if store is not None and store.warning:
            print(f"sipsim: {store.warning}", file=sys.stderr)
        if args.reset and store is not None:
            store.reset(lesson.number)
            print(f"progress in lesson {lesson.number} forgotten")
            if not (args.check or answers or args.text):
                return 0
        session = Session(lesson, overrides={k: v for k, v in overrides.items() if v is not None}, store=store)
        if args.check or answers or args.reference or args.live or args.text:
            session.simulation  # noqa: B018 - runs it and finds the anchors: a broken route is one clear error
        if args.check or answers or args.reference or args.live:
            return _check(session, answers, reference=args.reference, live=args.live)
        if args.text:
            from sipsim.lessons.text import walkthrough

            print(walkthrough(session))
            return 0
        return _tui(session)
    except LessonError as exc:
        return fail(str(exc))


def _check(session: object, answers: list[tuple[str, str]], *, reference: bool, live: bool) -> int:
    from sipsim.lessons.session import Session
    from sipsim.lessons.text import check_report

    assert isinstance(session, Session)
    if live and getattr(session.lesson, "live", "") != "wake-order":
        # a usage mistake, not a failed check: nothing was compared
        return fail(f"lesson {session.number} has no live comparison (lesson 12 has: sipsim lesson 12 --live)")
    known = {q.id for q in session.lesson.questions}
    for qid, _ in answers:
        if qid not in known:
            return fail(f"lesson {session.number} has no question {qid!r} (its questions: "
                        f"{', '.join(sorted(known)) or 'none'})")
    if reference:
        answers = list(session.reference_answers().items()) + answers
    for qid, value in answers:  # every answer is read before any is judged: a typo saves nothing
        refused = session.refusal(qid, value, write=lambda v, qid=qid: f"--answer {shlex.quote(f'{qid}={v}')}")
        if refused is not None:
            return fail(f"--answer {qid}={value}: {refused}")
    for qid, value in answers:
        session.answer(qid, value)
    results = session.checks()
    if live:
        from sipsim.lessons.live import live_results

        results += live_results(session)
    text, ok = check_report(session, results)
    if reference:  # (no store: nothing the lesson's own reference answers did counts as the learner's)
        text += "\n(judged with the lesson's reference answers: nothing is saved to your progress)"
        solution = session.lesson.files.get("solution")
        if not ok and solution is not None and not session.overrides.get("route"):
            # an exercise: its checks judge the route the lesson ran, the starting script here
            text += (f"\n(lesson {session.number} is an exercise: its checks judge the route, here the starting "
                     f"script; the lesson's solution passes them: --route {_shown_path(solution)})")
    print(text)
    return 0 if ok else 1


def _tui(session: object) -> int:
    try:
        from sipsim.tui.app import run_tui  # the TUI is built beside the lessons; imported only here
    except ImportError as exc:
        number = getattr(session, "number", "N")
        return fail(f"the TUI is not available in this installation ({exc}). Meanwhile: "
                    f"`sipsim lesson {number} --text` prints the lesson stop by stop, and "
                    f"`sipsim lesson {number} --check --answer ID=VALUE` checks your answers.", 1)
    number = getattr(session, "number", "N")
    refused = no_terminal(f"without one, `sipsim lesson {number} --text` prints the lesson stop by stop and "
                          f"`sipsim lesson {number} --check --answer ID=VALUE` checks your answers")
    if refused:
        return fail(refused)
    return int(run_tui(lesson=session) or 0)


def _shown_path(path: Path) -> str:
    """``path`` as a learner can type it: relative to the working folder when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
