"""Stepping and running: ``n`` ``b`` ``]`` ``[`` ``home`` ``end`` ``g`` ``p`` ``+`` ``-``.

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`).
Every action moves the source's cursor and asks the app to redraw; ``p`` runs on a timer that
stops at breakpoints, at a conditional break and where a lesson wants the learner to look.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from sipsim.engine.events import StepEvent
from sipsim.tui.screens.main import MainScreen
from sipsim.tui.screens.prompts import GotoScreen, parse_goto
from sipsim.tui.sources import SimSource, Source

if TYPE_CHECKING:
    from sipsim.tui.panels.lesson import LessonState
    from sipsim.tui.screens.cond_break import Condition

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 500, 2000)  # steps per second for p (run)
TICK = 0.05


class Stepping:
    """``self`` is the App (see Controls for the shared state)."""

    source: Source
    lesson: LessonState | None
    breakpoints: set[str]
    condition: Condition | None
    pinned: int | None
    running: bool
    speed: int
    _run_timer: Timer | None
    _busy: str
    _frozen_at: int

    def _moved(self) -> None:
        self.redraw()  # type: ignore[attr-defined]

    def freeze_gc(self, *, collect: bool = False) -> None:
        """Keep the garbage collector off what is already built (the history, Scapy, the widgets):
        its full passes over a big heap are the pauses a learner would feel at a key press.
        ``collect``: first reclaim what a replaced simulation left behind."""
        if collect:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        self._frozen_at = self.source.length

    def goto(self, n: int) -> None:
        self.source.goto(n)
        self._moved()

    # -- stepping -----------------------------------------------------------------------------------
    def action_step(self) -> None:
        """``n``: one step. While ``p`` runs, the run pauses first (as a debugger's step does):
        the step is taken from where the run stopped, and the cursor stays there."""
        src = self.source
        if self.running:
            self.stop_running()
        if src.live and src.position >= src.length:
            pid = src.go(self._focused_worker())  # type: ignore[attr-defined]
            if pid is None:
                self.notify("no worker is held: nothing to step (p turns live-step on)")  # type: ignore[attr-defined]
            return
        self.goto(src.position + 1)

    def _focused_worker(self) -> int | None:
        if self.pinned is not None:
            return self.pinned
        ev = self.source.event_at(self.source.position)
        return ev.worker if ev is not None else None

    def action_back(self) -> None:
        """``b``: one step back (pausing a run first, as ``n`` does)."""
        if self.running:
            self.stop_running()
        self.goto(self.source.position - 1)

    def action_home(self) -> None:
        self.goto(0)

    def action_end(self) -> None:
        src = self.source
        if src.live:
            src.goto(src.length)
            self._moved()
            return
        self._compute_then_go(None)

    def _compute_then_go(self, target: int | None) -> None:
        """Go to ``target`` (None: the end) computing the simulation in slices, with progress on
        the top bar: a far jump in a big scenario must not freeze the screen."""
        self._busy = "computing …"
        self.run_worker(self._run_to(target), exclusive=True, group="end")  # type: ignore[attr-defined]

    async def _run_to(self, target: int | None) -> None:
        import asyncio

        src = self.source
        assert isinstance(src, SimSource)
        what = "the end" if target is None else f"step {target}"
        try:
            while (target is None or src.length < target) and not src.run_chunk(5000):
                self._busy = f"computing to {what} … {src.length} events"
                self._moved()
                await asyncio.sleep(0)
            src.goto(src.length if target is None else target)
        finally:
            self._busy = ""
            self.freeze_gc()
            self._moved()

    def action_next_msg(self) -> None:
        target = self.source.next_arrival()
        if target is None:
            self.notify("no further datagram arrives")  # type: ignore[attr-defined]
            return
        self.goto(target)

    def action_prev_msg(self) -> None:
        target = self.source.prev_arrival()
        if target is not None:
            self.goto(target)

    def jump_to(self, pos: int) -> None:
        self.stop_running()
        self.goto(pos)

    def action_goto(self) -> None:
        src = self.source

        def time_to_pos(t: float) -> int:
            return src.position_at_time(t)

        def msg_to_pos(mid: int) -> int | None:
            m = src.history.msgs.get(mid)
            if m is None and isinstance(src, SimSource):
                found = src.find(lambda ev: ev.msg == mid)
                return found
            return m.arrive if m is not None else None

        def done(value: str | None) -> None:
            if value is None:
                return
            try:
                target = parse_goto(value, time_to_pos=time_to_pos, msg_to_pos=msg_to_pos,
                                    msg_number=getattr(src, "msg_of_number", None))
            except ValueError as exc:
                self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
                return
            if isinstance(src, SimSource) and target > src.length + 5000:
                self._compute_then_go(target)
                return
            self.goto(target)

        here = src.position
        self.push_screen(GotoScreen(here, time_to_pos=time_to_pos, msg_to_pos=msg_to_pos,  # type: ignore[attr-defined]
                                    msg_number=getattr(src, "msg_of_number", None)), done)

    # -- running ----------------------------------------------------------------------------------------
    def action_run(self) -> None:
        src = self.source
        if src.live:
            on = not src.stepping  # type: ignore[attr-defined]
            src.set_stepping(on)  # type: ignore[attr-defined]
            self.notify("live-step: busy workers stop at their next step; a worker asleep in recvfrom "
                        "stops after its next datagram; n lets one step" if on
                        else "running: the workers go freely")  # type: ignore[attr-defined]
            self._moved()
            return
        if self.running:
            self.stop_running()
        else:
            self.running = True
            self._run_credit = 1.0  # the first step at once, then at the chosen speed
            self._run_timer = self.set_interval(TICK, self._run_tick)  # type: ignore[attr-defined]
        self._moved()

    def stop_running(self) -> None:
        self.running = False
        if self._run_timer is not None:
            self._run_timer.stop()
            self._run_timer = None

    def _stop_positions(self) -> list[int]:
        if self.lesson is None:
            return []
        try:
            return sorted(self.lesson.session.stops())
        except Exception:  # a lesson bug must not stop the app
            return []

    def _run_tick(self) -> None:
        src = self.source
        if src.live or not self.running:
            return
        if not isinstance(self.screen, MainScreen):  # type: ignore[attr-defined]
            # a dialog (inject, goto, help, the palette) is open over the panels: the run waits for
            # it -- "arrives right after the current step" must mean the step on screen when it opened
            return
        pos = src.position
        # steps owed so far: below 20/s a tick owes less than one (1/s is one step every 20 ticks)
        credit = getattr(self, "_run_credit", 1.0) + SPEEDS[self.speed] * TICK
        k = int(credit + 1e-9)  # (twenty 0.05s make 0.99999...: one step, not none)
        if k < 1:
            self._run_credit = credit
            return
        self._run_credit = credit - k
        stops = self._stop_positions()
        i = bisect_right(stops, pos)
        if i < len(stops):
            k = min(k, stops[i] - pos)
        bps = self.breakpoints
        cond = self.condition.matcher(live=False) if self.condition is not None else None

        def stop_here(ev: Any) -> bool:
            return (type(ev) is StepEvent and ev.step in bps) or (cond is not None and cond(ev))

        found = src.find(stop_here, limit=k) if (bps or cond) else None
        if found is not None:
            self.stop_running()
            src.goto(found)
            if cond is not None and cond(src.event_at(found)):
                self.notify(f"conditional break: {self.condition.describe()}")  # type: ignore[attr-defined,union-attr]
                self.condition = None
            else:
                ev = src.event_at(found)
                self.notify(f"breakpoint: {getattr(ev, 'step', '?')}")  # type: ignore[attr-defined]
        else:
            src.goto(pos + k)
            if i < len(stops) and src.position == stops[i]:
                # no toast: the lesson pane's new narration says it, and a toast sat over the
                # pane's last lines -- the question's choices and its verdict
                self.stop_running()
            elif src.position == pos or src.at_end:
                self.stop_running()
        self._moved()

    def action_faster(self) -> None:
        self.speed = min(len(SPEEDS) - 1, self.speed + 1)
        self._speed_said()

    def action_slower(self) -> None:
        self.speed = max(0, self.speed - 1)
        self._speed_said()

    def _speed_said(self) -> None:
        """Redraw; and paused on a narrow screen, say the new speed: the short top bar shows it only
        while running, so there ``+``/``-`` seemed to do nothing."""
        from sipsim.tui.topline import COMPACT_BELOW

        if not self.running and self.size.width < COMPACT_BELOW:  # type: ignore[attr-defined]
            self.notify(f"p will run at {SPEEDS[self.speed]} steps/s", timeout=2)  # type: ignore[attr-defined]
        self._moved()
