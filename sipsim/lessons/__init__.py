"""Lessons: a course through the receive path, with predictions checked against the simulation.

The content lives in the repository's ``lessons/`` folder (Markdown with TOML front matter; the
format is documented in ``lessons/README.md``). This package reads it and runs it:

* ``loader.py`` — finds and parses lesson files (``find_lesson``, ``list_lessons``);
* ``anchors.py`` — finds each anchor ("the first parse_msg of the INVITE") in a simulation;
* ``view.py`` / ``predicates.py`` / ``builtin.py`` — what checks can read in a finished run;
* ``judge.py`` — reading answers ("1", "w1", "worker 1" are all W1) and comparing them;
* ``session.py`` — :class:`Session`, the :class:`~sipsim.lessons.api.LessonSession` the TUI and
  ``sipsim lesson N --check`` drive;
* ``progress.py`` — the learner's progress under ``$XDG_STATE_HOME/sipsim/progress.json``;
* ``api.py`` — the contract with the TUI (owned with the TUI; not changed here).

    from sipsim.lessons import open_lesson
    session = open_lesson(1)                  # the lesson's own simulation, no saved progress
    for p in session.stops(): ...
"""

from __future__ import annotations

from typing import Any

from sipsim.lessons.loader import find_lesson, lessons_dir, list_lessons
from sipsim.lessons.model import Lesson, LessonError
from sipsim.lessons.progress import ProgressStore
from sipsim.lessons.session import Session

__all__ = ["Lesson", "LessonError", "ProgressStore", "Session", "find_lesson", "lessons_dir", "list_lessons",
           "open_lesson"]


def open_lesson(ref: str | int, *, overrides: dict[str, Any] | None = None, store: ProgressStore | None = None,
                attach: bool = True) -> Session:
    """A session on lesson ``ref`` (number, slug or path). ``overrides`` change the scenario
    (``{"policy": "lifo"}``, ``{"route": "my.cfg"}``); ``store`` keeps progress (None: nothing saved).
    With ``attach`` the session makes and attaches its own simulation (the TUI attaches its own)."""
    session = Session(find_lesson(ref), overrides=overrides, store=store)
    if attach:
        session.simulation  # noqa: B018 - builds the simulation and finds the anchors
    return session
