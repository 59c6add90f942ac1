"""Stepping through a simulation: forward, back, to any step, and injecting datagrams on the way.

Generators cannot be copied, so the past is kept as *events* and the future as *inputs*:
:class:`Simulation` records every event the runner (``simulation.Runner``) emits — one per
``step()`` — folds them into immutable snapshots (``snapshot.fold``) with a checkpoint every
``CHECKPOINT`` events, and moves a cursor over them. ``back()``/``goto(n)`` inside what was already
computed only move the cursor (at most ``CHECKPOINT - 1`` folds from the nearest checkpoint).
``inject()`` at an earlier step rewrites the future: the run is re-executed deterministically from
the start with the same scenario and the injections up to that step (later ones belonged to the
discarded future), so "go back to step k and inject" is by construction the same as a fresh run
that injects at k.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sipsim.engine import snapshot as snapmod
from sipsim.engine.events import Addr
from sipsim.engine.metrics import Metrics
from sipsim.engine.scenario import Scenario
from sipsim.engine.scenario_check import check_datagram_size
from sipsim.engine.simulation import CHECKPOINT, Event, Injection, Runner, WireRecord
from sipsim.engine.snapshot import Snapshot

__all__ = ["CHECKPOINT", "Simulation"]


class Simulation:
    """A scenario you can step through, back and forth, and inject datagrams into.

    ``position`` is the number of events applied; ``snapshot`` the state after them.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._injections: dict[int, list[Injection]] = {}
        self._runner = Runner(scenario, record_wire=True)
        self._arrived: dict[Any, Any] = {}  # datagram id -> its WireRecord (rebuilt as the wire grows)
        self.position = 0
        start = snapmod.initial(policy=scenario.policy, rcvbuf=self._runner.rcvbuf,
                                sockets=len(self._runner.kernel.sockets))
        self.timeline = snapmod.Timeline(start, checkpoint=CHECKPOINT)
        self.events, self.times = self.timeline.events, self.timeline.times  # read-only views

    def _ensure(self, n: int) -> None:
        r, timeline = self._runner, self.timeline
        while len(timeline) < n:
            ev = r.next_event()
            if ev is None:
                return
            timeline.append(ev, r.now)

    def snapshot_at(self, n: int) -> Snapshot:
        """The state after ``n`` events (computed as needed)."""
        self._ensure(n)
        return self.timeline.snapshot_at(n)

    @property
    def snapshot(self) -> Snapshot:
        return self.snapshot_at(self.position)

    @property
    def time(self) -> float:
        return self.times[self.position - 1] if self.position else 0.0

    @property
    def at_end(self) -> bool:
        self._ensure(self.position + 1)
        return self.position >= len(self.events)

    @property
    def runner(self) -> Runner:
        """The runner at the frontier (peers' and core statistics are as of ``len(events)``)."""
        return self._runner

    # -- moving ---------------------------------------------------------------------------------------
    def step(self) -> Snapshot:
        """One event forward (nothing happens at the end)."""
        return self.goto(self.position + 1)

    def back(self) -> Snapshot:
        """One event back: exactly the state before the last step."""
        return self.goto(self.position - 1)

    def goto(self, n: int) -> Snapshot:
        self._ensure(n)
        self.position = max(0, min(n, len(self.events)))
        return self.snapshot

    def run_until(self, until: float | Callable[[Snapshot], bool], *, max_steps: int = 1_000_000) -> Snapshot:
        """Step until virtual time ``until`` (the last event not after it) or until
        ``until(snapshot)`` is true after a step; stops at the end or after ``max_steps``."""
        if callable(until):
            for _ in range(max_steps):
                if self.at_end:
                    break
                if until(self.step()):
                    break
            return self.snapshot
        limit = float(until)
        for _ in range(max_steps):
            self._ensure(self.position + 1)
            if self.position >= len(self.events) or self.times[self.position] > limit:
                break
            self.position += 1
        return self.snapshot

    def run(self) -> Snapshot:
        """To the end."""
        return self.goto(self._run_all())

    def _run_all(self) -> int:
        self._ensure(1 << 62)
        return len(self.events)

    # -- changing the future ----------------------------------------------------------------------
    def inject(self, data: bytes, src: Addr = ("192.0.2.99", 5060), *, note: str = "") -> None:
        """A datagram arrives at the proxy right after the current step. Anything computed after
        the current step (and any injection there) is discarded and recomputed.

        ScenarioError (a ValueError) for a datagram UDP cannot carry (over 65,507 bytes from an
        IPv4 source, 65,527 from IPv6): its sender's ``sendto`` would fail, nothing would arrive."""
        check_datagram_size(data, src, "inject")
        p = self.position
        entry = (bytes(data), src, {"note": note} if note else {})
        if p < len(self.events):
            self._injections = {k: v for k, v in self._injections.items() if k < p}
            self._injections.setdefault(p, []).append(entry)
            self.timeline.truncate(p)
            self._runner = Runner(self.scenario, {k: list(v) for k, v in self._injections.items()},
                                  record_wire=True)
            for _ in range(p):
                self._runner.next_event()
        else:
            self._injections.setdefault(p, []).append(entry)
            self._runner.inject(entry[0], entry[1], entry[2])

    def find(self, match: Callable[[Event], bool], *, start: int | None = None, backwards: bool = False,
             limit: int = 1_000_000) -> int | None:
        """The position right after the next (or previous) event ``match`` accepts, searching from
        ``start`` (default: the cursor) without moving the cursor — for "next message", breakpoints
        and conditional breaks. None when there is none (within ``limit`` events)."""
        i = self.position if start is None else start
        if backwards:
            for k in range(i - 2, max(-1, i - 2 - limit), -1):
                if match(self.events[k]):
                    return k + 1
            return None
        for k in range(i, i + limit):
            self._ensure(k + 1)
            if k >= len(self.events):
                return None
            if match(self.events[k]):
                return k + 1
        return None

    def wire(self, position: int | None = None) -> list[WireRecord]:
        """Every datagram that reached or left the proxy in the first ``position`` events (default:
        the cursor) — cut by event, not by time: events at the same instant after ``position``
        are not in it, however far the run was computed."""
        n = self.position if position is None else position
        self._ensure(n)
        return [r for r in self._runner.wire or () if r.event < n]

    def datagram(self, msg: int) -> WireRecord | None:
        """The datagram with this id as it arrived (its bytes, source, time), if it did."""
        wire = self._runner.wire or []
        index = self._arrived
        if index.get("_n") != len(wire) or index.get("_runner") is not self._runner:
            index.clear()
            for r in wire:
                if r.direction == "in":
                    index[r.msg] = r
            index["_n"], index["_runner"] = len(wire), self._runner
        return index.get(msg)

    @property
    def injections(self) -> list[tuple[int, bytes, Addr]]:
        return [(k, d, s) for k, v in sorted(self._injections.items()) for d, s, _ in v]

    # -- reading ----------------------------------------------------------------------------------------
    def metrics(self) -> Metrics:
        """Metrics of the events up to the cursor."""
        m = Metrics()
        for ev, t in zip(self.events[: self.position], self.times[: self.position], strict=True):
            m.observe(ev, t)
        return m
