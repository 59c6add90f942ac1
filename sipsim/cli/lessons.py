"""`sipsim lessons`: the course, lesson by lesson, with your progress.

    sipsim lessons [--json]

Lessons are read from $SIPSIM_LESSONS when it is set, else from the lessons/ folder of the
source tree, else from where pip installed them (<prefix>/share/sipsim/lessons); your progress
from $XDG_STATE_HOME/sipsim/progress.json (~/.local/state/sipsim/progress.json). Open one with
`sipsim lesson N`; read it without a screen with `sipsim lesson N --text` and check your answers
with `sipsim lesson N --check --answer ID=VALUE`.

Teachers: lessons/README.md describes the lesson format; `sipsim lesson path/to/15-mine.md
--validate` checks a new lesson against its simulation before class, and SIPSIM_LESSONS=folder
makes a folder of your own the course. Two lessons with the same number are refused (progress is
kept by number), and a lesson that does not load is listed with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys

from sipsim.cli.common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lessons", help="list the lessons, with your progress",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="one JSON object: the lessons and your progress")


def run(args: argparse.Namespace) -> int:
    from sipsim.lessons import lessons_dir, list_lessons
    from sipsim.lessons.progress import ProgressStore

    folder = lessons_dir()
    lessons, errors = list_lessons(folder)
    if not lessons and not errors:
        return fail(f"no lessons found in {folder} (set SIPSIM_LESSONS to the folder holding NN-name.md files)", 1)
    store = ProgressStore()
    if store.warning:
        print(f"sipsim: {store.warning}", file=sys.stderr)
    rows = []
    for lesson in lessons:
        prog = store.get(lesson.number)
        total = len(lesson.questions) + len(lesson.checks)
        passed = len(set(prog.passed) & ({q.id for q in lesson.questions} | {c.id for c in lesson.checks}))
        if prog.completed:
            state = "complete"
        elif prog.answered or prog.passed:
            state = f"{passed}/{total} passed, {len(prog.answered)}/{len(lesson.questions)} answered"
        else:
            state = "not started"
        rows.append({"number": lesson.number, "slug": lesson.slug, "title": lesson.title,
                     "summary": lesson.summary, "scenario": lesson.scenario.rsplit("/", 1)[-1],
                     "questions": len(lesson.questions), "checks": len(lesson.checks), "passed": passed,
                     "answered": len(prog.answered), "completed": prog.completed, "state": state})
    if args.json:
        print(json.dumps({"folder": str(folder), "progress_file": str(store.path), "lessons": rows,
                          "errors": errors}, indent=1))
        return 0 if not errors else 1
    width = max(len(r["title"]) for r in rows) if rows else 10
    print(f"Lessons in {folder}\n")
    print(f"  {'#':>2}  {'lesson':<{width}}  progress")
    for r in rows:
        print(f"  {r['number']:>2}  {r['title']:<{width}}  {r['state']}")
    for e in errors:
        print(f"  !!  {e}")
    done = sum(1 for r in rows if r["completed"])
    nxt = next((r for r in rows if not r["completed"]), None)
    print(f"\n{done} of {len(rows)} complete. Progress is kept in {store.path}.")
    if nxt is not None:
        print(f"Next: sipsim lesson {nxt['number']}   (without a screen: sipsim lesson {nxt['number']} --text, "
              f"then --check --answer ID=VALUE)")
    return 0 if not errors else 1
