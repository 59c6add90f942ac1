"""What a lesson file says, once read: anchors, narration, questions, checks (frozen dataclasses).

The loader (``loader.py``) builds these from a Markdown file with TOML front matter; the session
(``session.py``) binds them to a simulation. Nothing here knows about the simulator: an anchor is a
*description* of an event ("the first ``parse_msg`` of the INVITE"), a question or a check is the
*name* of a predicate with its arguments. That is what lets lessons survive engine changes: no step
numbers, no positions, only what happens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: what ``{{name}}`` in a section's narration is replaced with (from the anchored event; session.py)
PLACEHOLDERS = ("worker", "msg", "step", "first_line", "time_ms", "event")


class LessonError(ValueError):
    """A lesson that cannot be used (bad file, unknown predicate, anchor not found …), said for people."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """"did you mean 'taker'?" when ``word`` looks like a typo of one of ``options``; else ""."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=3, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


@dataclass(frozen=True)
class AnchorSpec:
    """Where something is said: the ``nth`` event matching every given filter.

    ``step`` names a pipeline step (``parse_msg``, ``route:sl_send_reply`` …) and ``kernel`` a kernel
    event kind (``worker_sleeps``, ``datagram_dropped`` …); exactly one of them is given. The
    message filters (``msg``) select by what the datagram is; ``fields`` filter on the event itself
    (``worker``, ``outcome``, ``status`` of the step, ``callback``, ``line``, ``action``).
    ``after`` starts the search after another anchor.
    """

    id: str
    step: str | None = None
    kernel: str | None = None
    msg: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    nth: int = 1
    after: str | None = None
    source: str = ""
    hint: str = ""

    def describe(self) -> str:
        what = self.step or self.kernel or "?"
        parts = [f"{what}"]
        if self.msg:
            parts.append("of " + ", ".join(f"{k}={v}" for k, v in self.msg.items()))
        if self.fields:
            parts.append("with " + ", ".join(f"{k}={v}" for k, v in self.fields.items()))
        if self.nth != 1:
            parts.append(f"(occurrence {self.nth})")
        if self.after:
            parts.append(f"after anchor {self.after!r}")
        return " ".join(parts)


@dataclass(frozen=True)
class Choice:
    """One choice of a question: what the learner reads, and the value the predicate reports."""

    text: str
    value: str


@dataclass(frozen=True)
class Judged:
    """A predicate call: ``check`` (its registered name) with ``args``, on ``variant`` of the scenario
    (overrides such as ``{profile = "kamailio"}``; empty: the lesson's own simulation)."""

    check: str
    args: dict[str, Any] = field(default_factory=dict)
    variant: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionSpec:
    """Predict-then-see: asked at anchor ``at``, shown by the simulation at anchor ``reveal``.

    ``answer`` is the reference answer (a choice's text or value, or free text); the check judges
    the learner's answer against what the predicate reads in the simulation, not against it.
    """

    id: str
    at: str
    prompt: str
    judged: Judged
    answer: str
    choices: tuple[Choice, ...] = ()
    reveal: str | None = None
    hints: tuple[str, ...] = ()
    explain: str = ""
    tolerance: float = 0.0


@dataclass(frozen=True)
class CheckSpec:
    """A claim of the lesson that the simulation must bear out: the predicate's value equals
    ``expect`` (default: true), or lies within ``at_least``/``at_most`` when those are given."""

    id: str
    says: str
    judged: Judged
    expect: Any = True
    tolerance: float = 0.0
    at_least: float | None = None
    at_most: float | None = None


@dataclass(frozen=True)
class Section:
    """A narration section of the Markdown body (``## Title {#anchor}``)."""

    anchor: str
    title: str
    text: str


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    path: Path
    scenario: str  # a shipped scenario's name or a path to a .toml file
    summary: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    intro: str = ""
    anchors: tuple[AnchorSpec, ...] = ()
    sections: tuple[Section, ...] = ()
    questions: tuple[QuestionSpec, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    hints: tuple[str, ...] = ()
    module: Path | None = None  # a small Python module of extra predicates, beside the lesson
    files: dict[str, Path] = field(default_factory=dict)  # exercise files: start, solution …
    live: str = ""  # a live comparison the lesson offers (``--check --live``): "wake-order"

    @property
    def slug(self) -> str:
        return self.path.stem

    def anchor(self, anchor_id: str) -> AnchorSpec:
        for a in self.anchors:
            if a.id == anchor_id:
                return a
        raise LessonError(f"{self.path.name}: no anchor {anchor_id!r}")

    def section(self, anchor_id: str) -> Section | None:
        for s in self.sections:
            if s.anchor == anchor_id:
                return s
        return None

    def question_spec(self, question_id: str) -> QuestionSpec | None:
        for q in self.questions:
            if q.id == question_id:
                return q
        return None
