"""What the keys do, one mixin per job, gathered in :class:`Controls` (live mode: live_controls).

A mixin of :class:`~sipsim.tui.app.SipsimApp`. Every action moves the source's cursor (or changes
a UI choice) and then asks the app to redraw; ``check_action`` hides the keys that would do
nothing now (no ``b`` at step 0, no ``n`` at the end), so the footer shows only live bindings.

* ``stepping``: n b ] [ home end g p + - (and the run's clock);   ``call_keys``: } { (the call in focus);
* ``breaks``: x X;   ``inject_keys``: i s;   ``panel_keys``: 1–8 f ? and filters;
* ``sim_choices``: lesson answers and hints, the palette's scenario/profile/policy/workers;
* ``topline``: the top bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.timer import Timer

from sipsim.tui.breaks import Breaks
from sipsim.tui.call_keys import CALL_ACTIONS, CallKeys
from sipsim.tui.inject_keys import InjectKeys, addr_of, inject_source
from sipsim.tui.panel_keys import APP_HELP, PanelKeys
from sipsim.tui.sim_choices import SimChoices
from sipsim.tui.sources import SimSource, Source
from sipsim.tui.stepping import SPEEDS, TICK, Stepping
from sipsim.tui.topline import COMPACT_BELOW, TopLine

if TYPE_CHECKING:
    from sipsim.tui.panels.lesson import LessonState
    from sipsim.tui.screens.cond_break import Condition

__all__ = ["APP_HELP", "COMPACT_BELOW", "SPEEDS", "TICK", "Controls", "addr_of", "inject_source"]


class Controls(TopLine, Stepping, CallKeys, Breaks, InjectKeys, PanelKeys, SimChoices):
    """Actions and their state; mixed into the App (``self`` is the App)."""

    source: Source
    sim_source: SimSource | None
    lesson: LessonState | None

    def init_controls(self) -> None:
        self.breakpoints: set[str] = set()
        self.condition: Condition | None = None
        self.pinned: int | None = None
        self.running = False
        # p runs at 10 steps/s; in a lesson at 50/s: the lesson stops the run itself where something
        # happens, and between two stops there can be hundreds of kernel steps (+/- still adjust)
        self.speed = SPEEDS.index(50) if self.lesson is not None else SPEEDS.index(10)
        self._run_timer: Timer | None = None
        self._run_credit = 0.0  # steps a run owes (stepping._run_tick)
        self._live_timer: Timer | None = None
        self._last_live_draw = 0.0
        self._live_owed = False  # live: events or held workers the panels have not shown yet
        self._live_held: tuple[tuple[int, object], ...] = ()
        self._busy = ""  # a long computation runs (end of a big scenario): moving keys wait
        self._frozen_at = 0

    # -- which keys are live ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        src = self.source
        letters = self._letters_answering()
        if letters and any(b.action == action and b.key in letters for b in self.BINDINGS):  # type: ignore[attr-defined]
            return False  # the lesson's choices have the focus: this letter picks one (b is choice b, not back)
        if self._busy and action in ("step", "back", "next_msg", "prev_msg", "home", "end", "run", "goto",
                                     *CALL_ACTIONS):
            return False
        pos = src.position
        base = getattr(src, "base", 0)
        if action == "step":
            if src.live:
                return pos < src.length or bool(src.waiting)
            return not src.at_end
        if action in ("back", "home"):
            return pos > base
        if action == "end":
            return not src.following if src.live else not src.at_end  # type: ignore[attr-defined]
        if action == "next_msg":
            return src.history.next_arrival(pos) is not None if src.live else not src.at_end
        if action == "prev_msg":
            return src.history.prev_arrival(pos) is not None
        if action == "run":
            return True if src.live else (self.running or not src.at_end)
        if action == "faster":
            return self.speed < len(SPEEDS) - 1
        if action == "slower":
            return self.speed > 0
        if action == "hint":
            return self.lesson is not None
        if action == "focus_panel":
            return True
        return True

    def _letters_answering(self) -> str:
        """The letters that pick a lesson choice now: a)… of the choices that have the focus."""
        from sipsim.tui.panels.lesson import Choices

        focused = self.focused  # type: ignore[attr-defined]
        if isinstance(focused, Choices):
            return "".join(chr(ord("a") + i) for i in range(focused.option_count))
        return ""

    def key_label(self, action: str) -> str | None:
        """What the footer calls a key whose effect depends on the state (None: its own words)."""
        src = self.source
        if action == "run":
            if src.live:
                return "run" if src.stepping else "live-step"  # type: ignore[attr-defined]
            return "pause" if self.running else "run"
        if action == "live":
            return "leave live" if src.live else "live"
        return None

    def key_shown(self, action: str) -> bool:
        """May the footer show this key now? ``}``/``{`` only while a call is chosen on purpose (the
        ladder's filter, a capture's selection): otherwise two more keys would push others off 80
        columns for a move most people do not need (``?`` and the palette list them always)."""
        return self.call_selected() if action in CALL_ACTIONS else True

    def on_unmount(self) -> None:
        if self.source.live:
            self.source.close()
