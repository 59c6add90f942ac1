"""The contract between a lesson and whoever shows it (the TUI's lesson pane, ``sipsim lesson --check``).

A lesson drives a :class:`~sipsim.engine.simulation.Simulation` built from its scenario. It says
things at *anchors* — positions in the simulation's event stream found by what happens there
("the first ``parse_msg`` of the INVITE"), never by step numbers — asks the learner to predict what
comes next, and checks answers against what the simulation really did.

The TUI uses only this module's types: it asks ``session.narration(position)`` whenever the cursor
moves, stops a run at ``session.stops()``, shows ``session.question(position)`` with its choices,
sends the learner's answer to ``session.answer(...)`` and shows the :class:`CheckResult`, and
shows ``session.hint(...)`` on request. ``sipsim lesson N --check`` runs the same checks headless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sipsim.engine.scenario import Scenario
    from sipsim.engine.stepping import Simulation


@dataclass(frozen=True)
class Narration:
    """What the lesson says at an anchor. ``text`` is Markdown; ``position`` is the anchored event."""

    position: int
    title: str
    text: str
    source: str = ""  # e.g. "src/core/receive.c: receive_msg()" — where to read the real thing


@dataclass(frozen=True)
class Question:
    """A predict-then-see question, asked at ``position`` (before the answer shows on screen)."""

    id: str
    position: int
    prompt: str
    choices: tuple[str, ...] = ()  # empty: a free-text / number answer
    reveal: int | None = None  # the position where the simulation shows the answer


@dataclass(frozen=True)
class CheckResult:
    """One check, judged against the simulation's outcome (and the learner's answer when it has one)."""

    id: str
    passed: bool
    message: str  # what the simulation showed, in words a learner can follow
    expected: str = ""  # the reference answer, shown after an attempt
    attempt: bool = True  # False: the answer could not be read ("abc" for a number): nothing was judged


@dataclass(frozen=True)
class Progress:
    """What a learner did in one lesson (kept under the XDG state directory)."""

    lesson: int
    answered: dict[str, str] = field(default_factory=dict)
    passed: tuple[str, ...] = ()
    completed: bool = False
    # questions whose *first* answer was judged wrong: its verdict said what the simulation does,
    # so a right answer after it passes, but as a second try, not as a prediction right first time
    missed: tuple[str, ...] = ()


class LessonSession(Protocol):
    """One lesson bound to one simulation."""

    number: int
    title: str
    scenario: Scenario

    def attach(self, sim: Simulation) -> None:
        """Bind to the simulation made from ``scenario`` (finds the anchors' positions)."""

    def stops(self) -> list[int]:
        """Positions where a run should pause (narration anchors, question anchors, breakpoints)."""

    def narration(self, position: int) -> Narration | None:
        """The narration of the latest anchor at or before ``position``."""

    def question(self, position: int) -> Question | None:
        """The question open at ``position`` (asked, not yet answered), if any."""

    def answer(self, question_id: str, answer: str) -> CheckResult:
        """Record an answer and judge it against what the simulation does."""

    def checks(self) -> list[CheckResult]:
        """Every check of the lesson, judged against the simulation (runs it to the end if needed)."""

    def hint(self, position: int) -> str:
        """A hint for what is on screen at ``position`` (the open question's first)."""
