"""Metrics of a run, accumulated from the event stream (simulated or live).

:class:`Metrics` reads the same events the snapshots are folded from, one at a time, and keeps only
counters and a bounded sample of the queue lengths, so it can follow a 100,000-datagram run
without keeping the events. What it measures:

* per worker: datagrams handled, busy time (``recvfrom`` returned → the next ``recvfrom``),
  datagrams taken without sleeping, wasted wake-ups and the CPU time they cost (``wasted_cpu``,
  seconds: the simulator charges each a context switch and an empty ``recvfrom``; live events
  carry no such figure, so live it stays 0); workers are numbered by the order they first
  went to sleep (``sleep_index``) — the order Linux's FIFO wake-ups serve them in;
* ``handled_by``: for each datagram that reached a worker, in arrival order, that worker's
  ``sleep_index`` (the round-robin lessons and tests read it);
* the socket: datagrams queued and dropped (the receive buffer refused them: ``RcvbufErrors``),
  queue depth in datagrams and charged bytes over time — summed over the sockets, and for each
  socket its own maximum (with ``reuseport`` every worker has its own socket and its own buffer:
  one of them can be full while the others are empty); the wait-queue length over time
  (maximum, time-weighted mean, and up to ``SERIES_POINTS`` samples each); a worker stopped by
  a pause window leaves the wait-queue (as the simulator's kernel does) until it calls
  ``recvfrom`` again;
* outcomes of the datagrams the workers handled (forwarded / replied / dropped — the latter are
  the ``pipeline_drops``); latency from arrival (queued) to the first datagram sent because of it,
  p50/p99 (live streams have no arrival event: their latency starts when ``recvfrom`` returns).
"""

from __future__ import annotations

from typing import Any

from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    DATAGRAM_QUEUED,
    DATAGRAM_SENT,
    DROPPED,
    FORWARDED,
    REPLIED,
    WASTED_WAKEUP,
    WORKER_SLEEPS,
    WORKER_TAKES,
    WORKER_WAKEUP,
    WORKER_WOKEN,
    WORKERS_PAUSED,
    KernelEvent,
    StepEvent,
)

SERIES_POINTS = 200


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


class _Series:
    """A value over time: max, time-weighted mean, and a bounded sample (every k-th change)."""

    __slots__ = ("value", "max", "area", "t_last", "t0", "points", "stride", "n")

    def __init__(self) -> None:
        self.value = 0
        self.max = 0
        self.area = 0.0
        self.t_last = 0.0
        self.t0: float | None = None
        self.points: list[tuple[float, int]] = []
        self.stride = 1
        self.n = 0

    def set(self, t: float, value: int) -> None:
        if self.t0 is None:
            self.t0 = t
        self.area += self.value * (t - self.t_last)
        self.t_last = t
        self.value = value
        if value > self.max:
            self.max = value
        self.n += 1
        if self.n % self.stride == 0:
            self.points.append((t, value))
            if len(self.points) >= 2 * SERIES_POINTS:
                self.points = self.points[::2]
                self.stride *= 2

    def summary(self, t_end: float) -> dict[str, Any]:
        span = t_end - (self.t0 or 0.0)
        area = self.area + self.value * max(0.0, t_end - self.t_last)
        return {"max": self.max, "mean": area / span if span > 0 else float(self.value),
                "series": [[round(t, 9), v] for t, v in self.points]}


class Metrics:
    """Feed it ``observe(event, time)`` for every event; read ``summary()``."""

    def __init__(self) -> None:
        self.time = 0.0
        self.arrived = 0
        self.queued = 0
        self.drops = 0
        self.wasted_wakeups = 0
        self.wasted_cpu = 0.0
        self.sent = 0
        self.sleep_index: dict[int, int] = {}
        self.worker_of: dict[int, int] = {}  # msg -> worker
        self.outcome: dict[int, str] = {}  # msg -> last outcome
        self.arrival_time: dict[int, float] = {}
        self.latencies: list[float] = []
        self._answered: set[int] = set()
        self.handled_per_worker: dict[int, int] = {}
        self.took: dict[int, int] = {}
        self.wasted: dict[int, int] = {}
        self.wasted_cpu_of: dict[int, float] = {}
        self.busy: dict[int, float] = {}
        self._busy_since: dict[int, float] = {}
        self.depth = _Series()
        self.depth_bytes = _Series()
        self.waiting = _Series()
        self._depth = 0
        self._bytes = 0
        self._charge: dict[int, tuple[int, int]] = {}  # queued msg -> (bytes charged, socket)
        self._sockets: dict[int, list[int]] = {}  # socket -> [depth, bytes, max depth, max bytes, drops]
        self._waiters: set[int] = set()

    def observe(self, ev: StepEvent | KernelEvent, t: float) -> None:
        self.time = t
        if type(ev) is StepEvent:
            if ev.outcome is not None:
                self.outcome[ev.msg] = ev.outcome
            return
        kind = ev.kind
        if kind == DATAGRAM_QUEUED:
            self.arrived += 1
            self.queued += 1
            charge = ev.detail.get("charge", 0)
            sock = ev.detail.get("socket", 0)
            self._charge[ev.msg] = (charge, sock)
            self.arrival_time[ev.msg] = t
            self._depth += 1
            self._bytes += charge
            st = self._socket(sock)
            st[0] += 1
            st[1] += charge
            if st[0] > st[2]:
                st[2] = st[0]
            if st[1] > st[3]:
                st[3] = st[1]
            self.depth.set(t, self._depth)
            self.depth_bytes.set(t, self._bytes)
        elif kind == DATAGRAM_DROPPED:
            n = ev.detail.get("count", 1) if ev.detail else 1  # live: the kernel's counter moved by n
            self.arrived += n
            self.drops += n
            self._socket(ev.detail.get("socket", 0) if ev.detail else 0)[4] += n
        elif kind == WORKER_WOKEN or kind == WORKER_TAKES:
            w, m = ev.worker, ev.msg
            self._end_busy(w, t)
            self._busy_since[w] = t
            self.worker_of[m] = w
            self.handled_per_worker[w] = self.handled_per_worker.get(w, 0) + 1
            if kind == WORKER_TAKES:
                self.took[w] = self.took.get(w, 0) + 1
            if m not in self.arrival_time:
                self.arrival_time[m] = t
            if m in self._charge:
                charge, sock = self._charge.pop(m)
                self._depth -= 1
                self._bytes -= charge
                st = self._sockets[sock]
                st[0] -= 1
                st[1] -= charge
                self.depth.set(t, self._depth)
                self.depth_bytes.set(t, self._bytes)
            self._leave_wait(w, t)
        elif kind == WORKER_SLEEPS:
            w = ev.worker
            self._end_busy(w, t)
            if w not in self.sleep_index:
                self.sleep_index[w] = len(self.sleep_index)
            self._waiters.add(w)
            self.waiting.set(t, len(self._waiters))
        elif kind == WORKER_WAKEUP:
            self._leave_wait(ev.worker, t)
        elif kind == WORKERS_PAUSED:  # a stopped sleeper leaves recvfrom; it re-enters it when resumed
            for w in ev.detail.get("workers", ()) if ev.detail else ():
                self._leave_wait(w, t)
        elif kind == WASTED_WAKEUP:
            self.wasted_wakeups += 1
            self.wasted[ev.worker] = self.wasted.get(ev.worker, 0) + 1
            cpu = ev.detail.get("cpu", 0.0) if ev.detail else 0.0
            if cpu:
                self.wasted_cpu += cpu
                self.wasted_cpu_of[ev.worker] = self.wasted_cpu_of.get(ev.worker, 0.0) + cpu
        elif kind == DATAGRAM_SENT:
            self.sent += 1
            m = ev.msg
            if m is not None and m not in self._answered and m in self.arrival_time:
                self._answered.add(m)
                self.latencies.append(t - self.arrival_time[m])

    def _socket(self, sock: int) -> list[int]:
        st = self._sockets.get(sock)
        if st is None:
            st = self._sockets[sock] = [0, 0, 0, 0, 0]
        return st

    def _leave_wait(self, w: int, t: float) -> None:
        if w in self._waiters:
            self._waiters.discard(w)
            self.waiting.set(t, len(self._waiters))

    def _end_busy(self, w: int, t: float) -> None:
        since = self._busy_since.pop(w, None)
        if since is not None:
            self.busy[w] = self.busy.get(w, 0.0) + (t - since)

    # -- results ---------------------------------------------------------------------------------
    def worker_index(self, w: int) -> int:
        """A worker's rank in the order workers first went to sleep (unknown ones after)."""
        if w not in self.sleep_index:
            self.sleep_index[w] = len(self.sleep_index)
        return self.sleep_index[w]

    def handled_by(self) -> list[int]:
        return [self.worker_index(self.worker_of[m]) for m in sorted(self.worker_of)]

    @property
    def handled(self) -> int:
        """Datagrams that reached a worker."""
        return len(self.worker_of)

    @property
    def pipeline_drops(self) -> int:
        return sum(1 for m in self.worker_of if self.outcome.get(m, DROPPED) == DROPPED)

    def outcomes(self) -> dict[str, int]:
        out = {FORWARDED: 0, REPLIED: 0, DROPPED: 0}
        for m in self.worker_of:
            o = self.outcome.get(m, DROPPED)
            out[o] = out.get(o, 0) + 1
        return out

    def workers(self) -> list[dict[str, Any]]:
        ids = sorted(set(self.sleep_index) | set(self.handled_per_worker), key=self.worker_index)
        span = self.time or 1.0
        return [{"index": self.worker_index(w), "id": w, "handled": self.handled_per_worker.get(w, 0),
                 "busy": round(self.busy.get(w, 0.0), 9), "utilization": round(self.busy.get(w, 0.0) / span, 6),
                 "took_without_sleeping": self.took.get(w, 0), "wasted_wakeups": self.wasted.get(w, 0),
                 "wasted_cpu": round(self.wasted_cpu_of.get(w, 0.0), 9)}
                for w in ids]

    def summary(self) -> dict[str, Any]:
        lat = self.latencies
        return {
            "time": self.time,
            "arrived": self.arrived,
            "queued": self.queued,
            "drops": self.drops,
            "handled": self.handled,
            "pipeline_drops": self.pipeline_drops,
            "wasted_wakeups": self.wasted_wakeups,
            "wasted_cpu": round(self.wasted_cpu, 9),
            "took_without_sleeping": sum(self.took.values()),
            "sent": self.sent,
            "outcomes": self.outcomes(),
            "latency": {"count": len(lat), "p50": percentile(lat, 50), "p99": percentile(lat, 99),
                        "mean": sum(lat) / len(lat) if lat else None, "max": max(lat) if lat else None},
            "socket_queue": {"datagrams": self.depth.summary(self.time), "bytes": self.depth_bytes.summary(self.time),
                             "sockets": [{"socket": k, "max_datagrams": st[2], "max_bytes": st[3], "drops": st[4]}
                                         for k, st in sorted(self._sockets.items())]},
            "wait_queue": self.waiting.summary(self.time),
            "workers": self.workers(),
        }
