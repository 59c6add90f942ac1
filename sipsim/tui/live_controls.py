"""Live mode's keys and clock: ``L`` starts or stops a real server, a timer folds in what its
workers report, arms breakpoints and conditional breaks on the live stream, and keeps the screen
following the newest event at a pace a screen can take.

A mixin of :class:`~sipsim.tui.app.SipsimApp`, beside :class:`~sipsim.tui.controls.Controls`.
"""

from __future__ import annotations

import time
from typing import Any

from sipsim.engine.events import Addr, format_addr
from sipsim.tui.controls import addr_of
from sipsim.tui.screens.prompts import LiveStartScreen

LIVE_POLL = 0.05
LIVE_REDRAW = 0.1  # at most 10 redraws a second while following a busy live server


class LiveControls:
    """``self`` is the App (see Controls for the shared state)."""

    def action_live(self) -> None:
        if self.source.live:
            self.stop_live()
            return
        sc = self.sim_source.scenario if self.sim_source is not None else None
        default = f"{format_addr(sc.proxy.listen) if sc else '127.0.0.1:5060'} {sc.workers if sc else 4}"

        def done(value: str | None) -> None:
            if not value:
                return
            parts = value.split()
            self.start_live(addr_of(parts[0]), workers=int(parts[1]) if len(parts) > 1 else None)

        self.push_screen(LiveStartScreen(default), done)  # type: ignore[attr-defined]

    def start_live(self, addr: Addr, *, workers: int | None = None, profile: str | None = None) -> None:
        from sipsim.tui.live import LiveError, LiveSource

        sc = self.sim_source.scenario if self.sim_source is not None else None
        live = LiveSource(addr, workers=workers or (sc.workers if sc else 4),
                          profile=profile or (sc.profile if sc else "ser"), route=sc.proxy.route if sc else None,
                          options=self.live_options)  # type: ignore[attr-defined]
        self.notify(f"starting sipsim serve on {format_addr(addr)} …")  # type: ignore[attr-defined]

        def start() -> None:
            try:
                live.start()
            except (LiveError, OSError) as exc:
                # (a long notice: the TUI stays on the simulation, and this is the only word of why)
                self.call_from_thread(self.notify, f"live mode: {exc}", severity="error",  # type: ignore[attr-defined]
                                      timeout=30)
                return
            self.call_from_thread(self._use_live, live)  # type: ignore[attr-defined]

        self.run_worker(start, thread=True, group="live", name="start live")  # type: ignore[attr-defined]

    def _use_live(self, live: Any) -> None:
        self.stop_running()
        self.source = live
        self.pinned = None
        self._live_timer = self.set_interval(LIVE_POLL, self._live_tick)  # type: ignore[attr-defined]
        held = (" — workers start held (live-step): press p to let them run, n for one step"
                if live.stepping else "")
        self.notify(f"live: {live.describe()}{held}")  # type: ignore[attr-defined]
        self._moved()

    def stop_live(self) -> None:
        """Leave live mode. When we stop the server (``L``) the note says so, with its pid; the
        words of a crash are kept for a server that exited by itself (``_live_tick`` has already
        shown why, from its log)."""
        src = self.source
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        died = bool(getattr(src, "died", ""))
        proc = getattr(src, "proc", None)
        pid = f" (pid {proc.pid})" if proc is not None else ""
        if src.live:
            src.close()
        if self.sim_source is not None:
            self.source = self.sim_source
        self.condition = None
        if died:
            self.notify(f"live mode ended: the server{pid} exited by itself; back to the simulation",  # type: ignore[attr-defined]
                        severity="error")
        else:
            self.notify(f"live mode stopped: the server was stopped{pid}; back to the simulation")  # type: ignore[attr-defined]
        self._moved()

    def live_top_parts(self, compact: bool) -> list[str]:
        """The live top bar, most important first, so that 80 columns cut only the end: which
        server (listen address, workers, profile), what the observer does (live-step and how many
        workers it holds, running, or not watching and why), then the cursor. The pids are in the
        workers panel (and in the "live: ..." note at the start). Narrow: shorter words, no clock."""
        src = self.source
        n = len(src.pids) or src.workers  # type: ignore[attr-defined]
        server = f"{src.where} · {n} worker{'s' if n != 1 else ''} · {src.profile}"  # type: ignore[attr-defined]
        held = len(src.waiting)
        if not src.watching:  # type: ignore[attr-defined]
            state = f"not watching: {src.detached_why}"  # type: ignore[attr-defined]
        elif not src.stepping:  # type: ignore[attr-defined]
            state = "running"
        elif compact:
            state = f"live-step: {held} held" + (" (n)" if held else "")
        else:
            state = f"live-step: {held} worker{'s' if held != 1 else ''} held (n: one step)"
        pos = src.position
        if compact:  # following the newest step is the usual case: only history is said
            history = "" if src.following else " · history (end: live)"  # type: ignore[attr-defined]
            return [server, state, f"step {pos}/{src.length}{history}"]
        follow = "following" if src.following else "history (end: back to live)"  # type: ignore[attr-defined]
        return [server, state, f"step {pos}/{src.length} · t={src.time_at(pos):.3f} s · {follow}"]

    def _live_tick(self) -> None:
        src = self.source
        if not src.live:
            return
        before = src.length
        new = src.poll()  # type: ignore[attr-defined]
        if src.died:  # type: ignore[attr-defined]
            self.notify(src.died, severity="error")  # type: ignore[attr-defined]
            self.stop_live()
            return
        if new and self.breakpoints and not src.stepping:  # type: ignore[attr-defined]
            bps = self.breakpoints
            found = next((p for p in range(before + 1, src.length + 1)
                          if getattr(src.event_at(p), "step", None) in bps), None)
            if found is not None:
                src.set_stepping(True)  # type: ignore[attr-defined]
                src.goto(found)
                self.notify(f"breakpoint {src.event_at(found).step}: live-step is on — workers stop at "  # type: ignore[attr-defined,union-attr]
                            "their next step")
                self._moved()
                return
        if new and self.condition is not None:
            match = self.condition.matcher(live=True)
            found = next((p for p in range(before + 1, src.length + 1) if match(src.event_at(p))), None)
            if found is not None:
                src.set_stepping(True)  # type: ignore[attr-defined]
                src.goto(found)
                self.notify(f"conditional break: {self.condition.describe()} — live-step is on")  # type: ignore[attr-defined]
                self.condition = None
                self._moved()
                return
        if src.length - self._frozen_at > 20_000:
            self.freeze_gc()
        # A worker held in live-step changes the screen without a new event (its "ready"), and the
        # last events before a quiet spell may come within LIVE_REDRAW of a redraw: remember that a
        # redraw is owed and pay it at the next tick, or the screen stays behind (held workers
        # shown asleep) until something else happens.
        held = tuple(sorted((p, r.get("seq")) for p, r in src.waiting.items()))  # type: ignore[attr-defined]
        changed = bool(new) or held != self._live_held
        if changed:
            self._live_held = held
            self._live_owed = True
        now = time.monotonic()
        if self._live_owed and src.following and now - self._last_live_draw >= LIVE_REDRAW:  # type: ignore[attr-defined]
            self._last_live_draw = now
            self._live_owed = False
            self._moved()
        elif changed:
            main = self.main  # type: ignore[attr-defined]
            if main is not None:
                from sipsim.tui.screens.main import TopBar

                main.query_one("#topbar", TopBar).update(self.top_line())

