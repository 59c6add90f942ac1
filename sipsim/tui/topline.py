"""The top bar: SIM/LIVE badge, what runs, where the cursor is, the run state.

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`):
one line of plain text rebuilt at every redraw, shorter below ``COMPACT_BELOW`` columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from sipsim.tui.sources import SimSource, Source
from sipsim.tui.stepping import SPEEDS

if TYPE_CHECKING:
    from sipsim.tui.panels.lesson import LessonState
    from sipsim.tui.screens.cond_break import Condition

COMPACT_BELOW = 110  # columns: a shorter top bar, run state first


class TopLine:
    """``self`` is the App (see Controls for the shared state)."""

    source: Source
    lesson: LessonState | None
    breakpoints: set[str]
    condition: Condition | None
    running: bool
    speed: int
    _busy: str

    def top_line(self) -> Text:
        """SIM/LIVE badge, what runs, where the cursor is, the run state (plain text: no markup).

        Narrower than ``COMPACT_BELOW`` columns the run state comes right after the step, in short
        words, and what runs comes last: at 80 columns a learner must still read "paused" or
        "running", the scenario's name can be cut. Live, the server comes first at any width (see
        ``live_top_parts``)."""
        src = self.source
        compact = self.size.width < COMPACT_BELOW  # type: ignore[attr-defined]
        what = [src.describe()]
        if self.lesson is not None and not src.live:
            what.insert(0, f"lesson {self.lesson.session.number}")
        if compact and isinstance(src, SimSource):
            # the profile and the wake-up policy change what every panel shows: they come before
            # the scenario and its workers (the part that may be cut)
            sc = src.scenario
            what = [f"{sc.profile} · {sc.policy}", *what[:-1],
                    f"{sc.name} · {sc.workers} worker{'s' if sc.workers != 1 else ''}"]
        where: list[str] = []
        pos = src.position
        if src.live:  # the server first (address, workers, profile), then what the observer does
            what = self.live_top_parts(compact)  # type: ignore[attr-defined]
            compact = False
        else:
            end = " (end)" if src.at_end else ""
            where.append(f"step {pos}{end} · t={src.time_at(pos):.6f}" + ("s" if compact else " s"))
            speed = SPEEDS[self.speed]
            if compact:
                # (paused, the speed is only what p would do: it gives way to the profile and policy)
                where.append(f"▶ running {speed}/s" if self.running else "paused")
            else:
                where.append(f"▶ running {speed} steps/s (+/-)" if self.running
                             else f"paused (p runs at {speed}/s, +/-)")
        if self.breakpoints:
            where.append(f"● {len(self.breakpoints)} breakpoint{'s' if len(self.breakpoints) > 1 else ''}")
        if self.condition is not None:
            where.append(f"break when {self.condition.describe()}")
        if self._busy:
            where.append(self._busy)
        line = Text.assemble((" LIVE ", "reverse bold green") if src.live else (" SIM ", "reverse bold"), " │ ")
        line.append(" │ ".join([*where, *what] if compact else [*what, *where]))
        return line
