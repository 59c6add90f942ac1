"""The lesson's answers and hints (``h``), and the simulation's choices from the palette.

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`):
a new scenario, profile, policy or worker count builds a new simulation; an open lesson is
attached to it again, or closed with a word when what it talks about no longer happens there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sipsim.engine.scenario import ScenarioError, load_scenario
from sipsim.tui.sources import SimSource, Source

if TYPE_CHECKING:
    from sipsim.tui.panels.lesson import LessonState


class SimChoices:
    """``self`` is the App (see Controls for the shared state)."""

    source: Source
    sim_source: SimSource | None
    lesson: LessonState | None

    def answer_lesson(self, qid: str, answer: str) -> None:
        if self.lesson is None:
            return
        try:
            result = self.lesson.session.answer(qid, answer)
        except Exception as exc:  # a lesson bug: say it, keep going
            self.notify(f"the lesson could not check that answer: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        pos = self.source.position
        self.lesson.result, self.lesson.result_pos = result, pos
        try:  # a refused answer ("not one of the choices") leaves the question open: not kept as a verdict
            still = self.lesson.session.question(pos)
        except Exception:
            still = None
        if still is None or still.id != qid:
            self.lesson.results[qid] = result  # shown again whenever the learner is back at its stop
        self._moved()

    def action_hint(self) -> None:
        if self.lesson is None:
            return
        try:
            hint = self.lesson.session.hint(self.source.position)
        except Exception as exc:
            hint = f"(no hint: {exc})"
        self.lesson.hint, self.lesson.hint_pos = hint or "no hint here", self.source.position
        self._moved()

    # -- scenario, profile … (command palette) ---------------------------------------------------------------
    def switch_scenario(self, name: str) -> None:
        try:
            sc = load_scenario(name)
        except ScenarioError as exc:
            self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
            return
        self._use_sim(SimSource(sc), keep_position=False)

    def override(self, **changes: Any) -> None:
        base = self.sim_source
        if base is None:
            return
        try:
            sc = base.scenario.with_overrides(**changes)
        except ScenarioError as exc:
            self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
            return
        self._use_sim(SimSource(sc, base.selection), keep_position=True)  # a --call-id/--frames replay keeps it
        what = ", ".join(f"{k} {v}" for k, v in changes.items())
        self.notify(f"{what}: the simulation starts again" + (" (live mode: press L to see it)"
                                                             if self.source.live else ""))  # type: ignore[attr-defined]

    def _reattach_lesson(self, sim: Any) -> None:
        """Give the lesson the changed simulation; if what it speaks about no longer happens there
        (another scenario, other workers …), leave the lesson rather than fail."""
        try:
            self.lesson.session.attach(sim)  # type: ignore[union-attr]
        except Exception:  # LessonError: an anchor never happens in this simulation
            session = self.lesson.session  # type: ignore[union-attr]
            number = getattr(session, "number", "")
            own = getattr(getattr(session, "scenario", None), "name", "")
            self.closed_lesson = self.lesson  # the palette's "lesson: N" reopens it, answers and all
            self.lesson = None
            # said plainly: the anchor's name and its filters are the lesson author's words, not the learner's
            self.notify(f"Lesson {number} needs its own scenario{f' ({own})' if own else ''} and what it "
                        f"talks about does not happen in this one; it is closed. Reopen it from the palette "
                        f"(ctrl+p, \"lesson {number}\") or with `sipsim lesson {number}`.",
                        severity="warning")  # type: ignore[attr-defined]
            self.refresh_bindings()  # type: ignore[attr-defined]

    def _use_sim(self, new: SimSource, *, keep_position: bool) -> None:
        self.stop_running()
        old = self.sim_source
        pos = old.position if (keep_position and old is not None) else 0
        if old is not None:
            old.close()
        self.sim_source = new
        if self.lesson is not None:
            self._reattach_lesson(new.sim)
        self.freeze_gc(collect=True)
        if not self.source.live:
            self.source = new
            new.goto(pos)
            self.pinned = None
            self._moved()
