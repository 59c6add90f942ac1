"""A learner's progress, kept between runs in the XDG state directory.

The file is ``$XDG_STATE_HOME/sipsim/progress.json`` (``~/.local/state/sipsim/progress.json`` when
the variable is unset), as the XDG Base Directory specification puts state that should survive a
restart but is not worth backing up. One entry per lesson number::

    {"version": 1,
     "lessons": {"1": {"answered": {"fifth": "W1"}, "passed": ["fifth", "round-robin"],
                       "completed": false, "at": "fifth-taken"}}}

``missed`` (when there is one) lists the questions whose first answer was wrong: a right answer
after it passes, but the score counts it apart from the predictions right first time.
``at`` is the anchor the learner last read — an anchor id, not a position, so it still means the
same place after an engine change. Writes are atomic (a temporary file renamed over the old
one). An unreadable file is not fatal: the store starts empty and says why in ``warning``, and
the next save replaces it (the old one is kept beside it as ``progress.json.bad``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from sipsim.lessons.api import Progress

VERSION = 1


class _Keep:
    """The type of :data:`KEEP`: ``put`` without a place keeps the one saved."""


KEEP = _Keep()


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "sipsim"


def progress_path() -> Path:
    return state_dir() / "progress.json"


class ProgressStore:
    """Read and write the progress file. ``path`` defaults to the XDG location."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else progress_path()
        self.warning = ""
        self._data: dict[str, Any] = {"version": VERSION, "lessons": {}}
        self._bad = False
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"cannot read {self.path}: {exc.strerror or exc}; progress starts empty"
            return
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
                raise ValueError("not a progress file")
        except ValueError as exc:
            self.warning = f"{self.path} is not a progress file ({exc}); progress starts empty"
            self._bad = True
            return
        self._data = data

    # -- one lesson --------------------------------------------------------------------------------
    def get(self, lesson: int) -> Progress:
        entry = self._data["lessons"].get(str(lesson), {})
        answered = entry.get("answered", {})
        passed = entry.get("passed", [])
        missed = entry.get("missed", [])
        return Progress(
            lesson=lesson,
            answered={str(k): str(v) for k, v in answered.items()} if isinstance(answered, dict) else {},
            passed=tuple(str(x) for x in passed) if isinstance(passed, list) else (),
            completed=bool(entry.get("completed", False)),
            missed=tuple(str(x) for x in missed) if isinstance(missed, list) else (),
        )

    def at(self, lesson: int) -> str | None:
        """The anchor the learner last read in ``lesson``."""
        value = self._data["lessons"].get(str(lesson), {}).get("at")
        return str(value) if value else None

    def put(self, progress: Progress, *, at: str | None | _Keep = KEEP) -> None:
        """Write ``progress``; ``at`` is the learner's place (None forgets it: back at the lesson's
        start), left as it was when not given."""
        entry: dict[str, Any] = {"answered": dict(progress.answered), "passed": list(progress.passed),
                                 "completed": progress.completed}
        if progress.missed:
            entry["missed"] = list(progress.missed)
        place = self.at(progress.lesson) if isinstance(at, _Keep) else at
        if place:
            entry["at"] = place
        self._data["lessons"][str(progress.lesson)] = entry
        self.save()

    def reset(self, lesson: int) -> None:
        self._data["lessons"].pop(str(lesson), None)
        self.save()

    def all(self) -> dict[int, Progress]:
        out = {}
        for key in self._data["lessons"]:
            if str(key).isdigit():
                out[int(key)] = self.get(int(key))
        return out

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._bad and self.path.exists():
            os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            self._bad = False
        self._data["version"] = VERSION
        fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._data, f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def with_answer(progress: Progress, question_id: str, answer: str) -> Progress:
    """The latest answer replaces an earlier one."""
    answered = dict(progress.answered)
    answered[question_id] = answer
    return replace(progress, answered=answered)
