"""Breakpoints: ``x`` on a pipeline step, ``X`` a conditional break (next reply, next INVITE …).

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`).
``p`` (``stepping``) and the live clock (``live_controls``) are what stop at them.
"""

from __future__ import annotations

from sipsim.engine.events import StepEvent
from sipsim.tui.panels import PipelinePanel
from sipsim.tui.screens.cond_break import CondBreakScreen, Condition
from sipsim.tui.sources import Source


class Breaks:
    """``self`` is the App (see Controls for the shared state)."""

    source: Source
    breakpoints: set[str]
    condition: Condition | None

    def action_breakpoint(self) -> None:
        step = None
        main = self.main  # type: ignore[attr-defined]
        pipeline = main.panel(PipelinePanel) if main is not None else None
        if pipeline is not None and pipeline.has_focus:
            step = pipeline.selected_step()
        if step is None:
            ev = self.source.event_at(self.source.position)
            step = ev.step if type(ev) is StepEvent else None
        if step is None:
            self.notify("choose a step: focus the pipeline (3), up/down, then x", severity="warning")  # type: ignore[attr-defined]
            return
        if step in self.breakpoints:
            self.breakpoints.discard(step)
            self.notify(f"breakpoint removed: {step}")  # type: ignore[attr-defined]
        else:
            self.breakpoints.add(step)
            self.notify(f"breakpoint: p (run) stops at every {step}")  # type: ignore[attr-defined]
        self._moved()

    def action_cond_break(self) -> None:
        def done(cond: Condition | None) -> None:
            if cond is None:
                return
            self.arm(cond)

        self.push_screen(CondBreakScreen(), done)  # type: ignore[attr-defined]

    def arm(self, cond: Condition) -> None:
        """Stop where ``cond`` first holds after the cursor: at once in a simulation, when it happens live."""
        src = self.source
        if src.live:
            self.condition = cond
            self.notify(f"armed: live-step turns on when {cond.describe()}")  # type: ignore[attr-defined]
            self._moved()
            return
        found = src.find(cond.matcher(live=False))
        if found is None:
            self.notify(f"never: nothing until the end matches ({cond.describe()})", severity="warning")  # type: ignore[attr-defined]
            return
        self.goto(found)
        self.notify(f"stopped: {cond.describe()}")  # type: ignore[attr-defined]
