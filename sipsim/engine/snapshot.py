"""Immutable snapshots of a server, and the pure fold that builds them from its events.

A :class:`Snapshot` is everything a screen needs at one instant: each worker's state (sleeping in
``recvfrom``, woken, running step X …) and the message it holds, the wait-queue in wake-up order,
each socket's queued datagrams and charged bytes, and the counters (drops, wasted wake-ups …).
It is made of frozen dataclasses and tuples, so a panel can keep one and compare it with another.

``fold(snapshot, event, time) -> snapshot`` is a pure function. The simulator folds its own event
stream, and live mode (real forked workers) folds what its workers report — the same function, so
the TUI and the lessons show both with the same code. The two streams differ, and the fold
accepts both:

* the simulator reports the whole kernel side: ``datagram_queued``/``datagram_dropped``,
  ``worker_sleeps`` (with where it joined the wait-queue), ``worker_wakeup`` (the kernel woke it;
  it is not running yet), ``worker_woken``/``worker_takes`` (``recvfrom`` returned a datagram,
  after sleeping / at once because data was queued), ``wasted_wakeup``, ``datagram_sent`` …
* real workers only know when they enter ``recvfrom`` (``worker_sleeps``: a real worker cannot
  tell whether it will really sleep), when it returns (``worker_woken`` with the datagram's id and
  summary in ``detail``), what they send (``datagram_sent``) and their pipeline steps. Worker ids
  are then process ids, datagrams never appear in the socket queue (the real kernel does not
  report it), and the wait-queue is the order the workers entered ``recvfrom`` — which is the real
  order for Linux's FIFO wake-ups.

Scheduler figures. The simulator's events about a worker carry its ``vruntime`` (``sched_fair.py``:
the CPU time the scheduler has charged it, in ns) — when it starts, is woken, takes a datagram,
wastes a wake-up, sends, sleeps, dies, or is resumed (SIGCONT; that event carries one per
worker) — and the fold keeps the last figure reported. The scheduler charges a worker when it
leaves its CPU, so a sleeping worker's figure is exact; a worker preempted at the end of its time
slice shows its new figure at its next system call. Real workers report no vruntime: ``None``.

Pipeline steps are :class:`~sipsim.engine.events.StepEvent`; each updates the worker's current
message: the step, the steps done, the header flags parsed so far, the unparsed offset, the
outcome, the lumps and the size of what was sent (when the step's ``detail`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    DATAGRAM_QUEUED,
    DATAGRAM_SENT,
    DROPPED,
    WASTED_WAKEUP,
    WORKER_EXITED,
    WORKER_SLEEPS,
    WORKER_STARTED,
    WORKER_TAKES,
    WORKER_WAKEUP,
    WORKER_WOKEN,
    WORKERS_PAUSED,
    WORKERS_RESUMED,
    KernelEvent,
    StepEvent,
)
from sipsim.engine.snapshot_replace import replacer

Event = StepEvent | KernelEvent

# worker states
STARTING = "starting"  # started, not yet in recvfrom
SLEEPING = "sleeping"  # blocked in recvfrom, on the wait-queue
WOKEN = "woken"  # the kernel woke it; on its way out of recvfrom (may wait for a CPU)
RECEIVED = "received"  # recvfrom returned a datagram after sleeping
TOOK = "took"  # recvfrom returned at once: data was queued, the worker never slept
RUNNING = "running"  # running the pipeline step ``step``
PAUSED = "paused"  # stopped (SIGSTOP) by a scenario pause window
EXITED = "exited"

STATE_TEXT = {
    STARTING: "starting",
    SLEEPING: "sleeping in recvfrom",
    WOKEN: "woken by the kernel",
    RECEIVED: "recvfrom returned (after sleeping)",
    TOOK: "took queued data without sleeping",
    RUNNING: "running",
    PAUSED: "paused (SIGSTOP)",
    EXITED: "exited",
}


@dataclass(frozen=True, slots=True)
class QueuedDatagram:
    id: int
    src: str
    size: int
    charge: int  # bytes charged in the receive buffer (skb truesize)
    summary: str
    time: float
    note: str = ""  # e.g. "retransmission 2 (Timer A) by alice"


@dataclass(frozen=True, slots=True)
class SocketView:
    index: int
    queue: tuple[QueuedDatagram, ...] = ()
    rmem: int = 0  # bytes charged
    rcvbuf: int | None = None  # sk_rcvbuf (None: unknown, live)
    drops: int = 0
    waiters: tuple[int, ...] = ()  # wait-queue, next to wake first
    owner: int | None = None  # reuseport: the worker reading it

    @property
    def fill(self) -> float:
        return self.rmem / self.rcvbuf if self.rcvbuf else 0.0


@dataclass(frozen=True, slots=True)
class MessageView:
    """What a worker knows about the datagram it holds."""

    id: int
    src: str = ""
    size: int = 0
    summary: str = ""
    slept: bool = True  # False: taken from the queue without sleeping
    step: str | None = None
    steps: tuple[str, ...] = ()
    parsed: tuple[str, ...] = ()  # header flags parsed so far (HDR_*_F names)
    unparsed: int | None = None
    outcome: str | None = None
    status: int | None = None
    reason: str | None = None
    lumps: tuple[tuple[Any, ...], ...] = ()  # (op, offset, length, text, why), from detail["changes"]
    new_uri: str | None = None
    out_bytes: int | None = None
    sent_to: tuple[str, ...] = ()
    text: str = ""  # narration of the current step


@dataclass(frozen=True, slots=True)
class WorkerView:
    id: int  # index in the simulator, pid live
    state: str = STARTING
    step: str | None = None
    msg: MessageView | None = None
    sleep_index: int | None = None  # rank in the order the workers first went to sleep
    handled: int = 0
    took_without_sleeping: int = 0
    wasted_wakeups: int = 0
    busy: float = 0.0  # seconds between recvfrom returning and the next recvfrom
    since: float = 0.0  # when it entered this state
    paused: bool = False
    vruntime: int | None = None  # ns of CPU the scheduler charged, as last reported (simulator only)

    @property
    def state_text(self) -> str:
        if self.state == RUNNING and self.step:
            return f"running {self.step}"
        return STATE_TEXT.get(self.state, self.state)


@dataclass(frozen=True, slots=True)
class Snapshot:
    step: int = 0  # events folded so far (index into the event list)
    time: float = 0.0
    event: Event | None = None  # the event that led here
    workers: tuple[WorkerView, ...] = ()  # in the order first seen
    sockets: tuple[SocketView, ...] = (SocketView(0),)
    policy: str | None = None
    arrived: int = 0
    drops: int = 0  # datagrams the receive buffer refused
    pipeline_drops: int = 0  # datagrams a worker dropped (finished ones)
    wasted_wakeups: int = 0
    wasted_cpu: float = 0.0  # seconds the wasted wake-ups cost (the simulator's ``cpu`` detail; live: 0)
    handled: int = 0  # datagrams that reached a worker
    took_without_sleeping: int = 0
    sent: int = 0
    replied: int = 0
    forwarded: int = 0
    paused: bool = False

    @property
    def wait_queue(self) -> tuple[int, ...]:
        """Sleeping workers in the order they will be woken (all sockets)."""
        if len(self.sockets) == 1:
            return self.sockets[0].waiters
        return tuple(w for s in self.sockets for w in s.waiters)

    @property
    def queued(self) -> int:
        return sum(len(s.queue) for s in self.sockets)

    @property
    def queued_bytes(self) -> int:
        return sum(s.rmem for s in self.sockets)

    def worker(self, wid: int) -> WorkerView | None:
        for w in self.workers:
            if w.id == wid:
                return w
        return None

    def sleep_order(self) -> tuple[int, ...]:
        ranked = sorted((w.sleep_index, w.id) for w in self.workers if w.sleep_index is not None)
        return tuple(wid for _, wid in ranked)


# ``dataclasses.replace`` for each view, made for its class: the fold makes one or more per event,
# and the generic function was most of its cost on long captures (snapshot_replace.py).
_replace_snapshot = replacer(Snapshot)
_replace_worker = replacer(WorkerView)
_replace_socket = replacer(SocketView)
_replace_message = replacer(MessageView)


def initial(*, policy: str | None = None, rcvbuf: int | None = None, sockets: int = 1,
            workers: tuple[int, ...] = ()) -> Snapshot:
    """The snapshot before any event: ``sockets`` empty sockets, the given workers starting."""
    return Snapshot(workers=tuple(WorkerView(w) for w in workers),
                    sockets=tuple(SocketView(i, rcvbuf=rcvbuf) for i in range(sockets)), policy=policy)


# -- the fold --------------------------------------------------------------------------------------
def fold(snap: Snapshot, ev: Event, time: float | None = None) -> Snapshot:
    """The snapshot after ``ev``. ``time`` is when it happened (kernel events carry their own)."""
    if type(ev) is StepEvent:
        return _step(snap, ev, snap.time if time is None else time)
    assert isinstance(ev, KernelEvent)
    handler = _KERNEL.get(ev.kind)
    t = ev.time if time is None else time
    base = _replace_snapshot(snap, step=snap.step + 1, time=t, event=ev)
    snap = handler(base, ev, t) if handler is not None else base
    vr = ev.detail.get("vruntime") if ev.detail else None
    return snap if vr is None else _vruntime(snap, ev.worker, vr)


def _vruntime(snap: Snapshot, wid: int | None, vr: Any) -> Snapshot:
    """Record the ``vruntime`` an event reports: one figure for its worker, or (SIGCONT) one per
    worker, keyed by worker id (a str key once the event went through JSON)."""
    figures = vr if isinstance(vr, dict) else {wid: vr} if wid is not None else {}
    if not figures:
        return snap
    figures = {int(k): int(v) for k, v in figures.items()}
    if all(w.vruntime == figures[w.id] for w in snap.workers if w.id in figures):
        return snap
    workers = tuple(_replace_worker(w, vruntime=figures[w.id]) if w.id in figures else w for w in snap.workers)
    return _replace_snapshot(snap, workers=workers)


def fold_all(snap: Snapshot, events: list[Event] | tuple[Event, ...], times: list[float] | None = None) -> Snapshot:
    for i, ev in enumerate(events):
        snap = fold(snap, ev, None if times is None else times[i])
    return snap


class Timeline:
    """A growing list of events (with their times) and the snapshot after any prefix of it.

    The simulator keeps its history in one; live mode can append what real workers report and
    step back and forth over it the same way. ``snapshot_at(n)`` folds from the nearest
    checkpoint (one every ``checkpoint`` events, kept as the fold passes them), so going back
    costs at most ``checkpoint - 1`` folds, whatever the length of the history.
    """

    def __init__(self, initial_snapshot: Snapshot | None = None, *, checkpoint: int = 256) -> None:
        self.events: list[Event] = []
        self.times: list[float] = []
        self.checkpoint = checkpoint
        self._checkpoints = {0: initial_snapshot if initial_snapshot is not None else initial()}
        self._cur = self._checkpoints[0]

    def __len__(self) -> int:
        return len(self.events)

    def append(self, ev: Event, time: float | None = None) -> None:
        self.events.append(ev)
        self.times.append(time if time is not None else getattr(ev, "time", self.times[-1] if self.times else 0.0))

    def truncate(self, n: int) -> None:
        """Forget the events after the first ``n`` (and what was folded from them)."""
        del self.events[n:]
        del self.times[n:]
        self._checkpoints = {k: v for k, v in self._checkpoints.items() if k <= n}
        if self._cur.step > n:
            self._cur = self._checkpoints[max(self._checkpoints)]

    def drop_front(self, n: int) -> None:
        """Forget the oldest events (rounded down to a checkpoint): live history is bounded.

        Snapshots keep their ``step`` relative to the kept history; a caller counting absolute
        positions adds what it dropped."""
        self.snapshot_at(len(self.events))  # every checkpoint up to the end exists now
        n -= n % self.checkpoint
        if n <= 0:
            return
        kept = {k - n: _replace_snapshot(v, step=k - n) for k, v in self._checkpoints.items() if k >= n}
        cur = self._cur
        del self.events[:n]
        del self.times[:n]
        self._checkpoints = kept
        self._cur = _replace_snapshot(cur, step=cur.step - n) if cur.step >= n else kept[0]

    def snapshot_at(self, n: int) -> Snapshot:
        n = max(0, min(n, len(self.events)))
        cur = self._cur
        if cur.step == n:
            return cur
        base = max(k for k in self._checkpoints if k <= n)
        snap = cur if base < cur.step < n else self._checkpoints[base]
        events, times, every = self.events, self.times, self.checkpoint
        for i in range(snap.step, n):
            snap = fold(snap, events[i], times[i])
            if (i + 1) % every == 0:
                self._checkpoints.setdefault(i + 1, snap)
        self._cur = snap
        return snap


def _find(snap: Snapshot, wid: int) -> tuple[int, WorkerView]:
    for i, w in enumerate(snap.workers):
        if w.id == wid:
            return i, w
    return -1, WorkerView(wid)


def _put(snap: Snapshot, i: int, w: WorkerView, **changes: Any) -> Snapshot:
    workers = snap.workers
    workers = workers + (w,) if i < 0 else workers[:i] + (w,) + workers[i + 1:]
    return _replace_snapshot(snap, workers=workers, **changes)


def _sock_index(snap: Snapshot, ev: KernelEvent) -> int:
    idx = ev.detail.get("socket", 0) if ev.detail else 0
    return idx if 0 <= idx < len(snap.sockets) else 0


def _set_sock(snap: Snapshot, idx: int, sock: SocketView) -> tuple[SocketView, ...]:
    return snap.sockets[:idx] + (sock,) + snap.sockets[idx + 1:]


def _remove_waiter(sockets: tuple[SocketView, ...], wid: int) -> tuple[SocketView, ...]:
    out = []
    for s in sockets:
        if wid in s.waiters:
            s = _replace_socket(s, waiters=tuple(x for x in s.waiters if x != wid))
        out.append(s)
    return tuple(out)


def _finish(snap: Snapshot, w: WorkerView, t: float) -> tuple[WorkerView, int]:
    """The worker leaves its message (goes back to recvfrom): busy time, pipeline drop."""
    drop = 0
    if w.msg is not None and w.state not in (SLEEPING, WOKEN, STARTING):
        if w.msg.outcome in (None, DROPPED):
            drop = 1
        w = _replace_worker(w, busy=w.busy + max(0.0, t - w.since))
    return w, drop


def _queued(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    d = ev.detail
    idx = _sock_index(snap, ev)
    s = snap.sockets[idx]
    note = d.get("note", "")
    item = QueuedDatagram(ev.msg or 0, d.get("src", ""), d.get("len", 0), d.get("charge", 0),
                          _first_line(d), t, note)
    rcvbuf = d.get("rcvbuf", s.rcvbuf)
    # the kernel's own sk_rmem_alloc when the event carries it (it counts bytes read but not yet
    # released: udp_rmem_release batches the release); live streams only have the charges
    s = _replace_socket(s, queue=s.queue + (item,), rmem=d.get("rmem", s.rmem + item.charge), rcvbuf=rcvbuf)
    return _replace_snapshot(snap, sockets=_set_sock(snap, idx, s), arrived=snap.arrived + 1)


def _first_line(d: Any) -> str:
    return d.get("first_line", d.get("summary", "")) if d else ""


def _dropped(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    """One datagram refused — or, live, ``count`` of them (the server reads the kernel's counter)."""
    n = int(ev.detail.get("count", 1)) if ev.detail else 1
    idx = _sock_index(snap, ev)
    s = snap.sockets[idx]
    s = _replace_socket(s, drops=s.drops + n, rcvbuf=ev.detail.get("rcvbuf", s.rcvbuf))
    return _replace_snapshot(snap, sockets=_set_sock(snap, idx, s), arrived=snap.arrived + n, drops=snap.drops + n)


def _started(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    """A worker starts. With one socket per worker (reuseport) the socket it bound is its own:
    the fold records who reads it; a shared socket has no owner."""
    wid = ev.worker or 0
    i, w = _find(snap, wid)
    if len(snap.sockets) > 1:
        idx = _sock_index(snap, ev)
        snap = _replace_snapshot(snap, sockets=_set_sock(snap, idx, _replace_socket(snap.sockets[idx], owner=wid)))
    return _put(snap, i, _replace_worker(w, state=STARTING, since=t))


def _sleeps(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    wid = ev.worker if ev.worker is not None else 0
    i, w = _find(snap, wid)
    w, drop = _finish(snap, w, t)
    if w.sleep_index is None:
        w = _replace_worker(w, sleep_index=sum(1 for x in snap.workers if x.sleep_index is not None))
    sockets = _remove_waiter(snap.sockets, wid)
    idx = _sock_index(snap, ev)
    s = sockets[idx]
    waiters = (wid,) + s.waiters if ev.detail.get("at") == "head" else s.waiters + (wid,)
    sockets = sockets[:idx] + (_replace_socket(s, waiters=waiters),) + sockets[idx + 1:]
    w = _replace_worker(w, state=SLEEPING, step=None, msg=None, since=t)
    return _put(snap, i, w, sockets=sockets, pipeline_drops=snap.pipeline_drops + drop)


def _wakeup(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    wid = ev.worker if ev.worker is not None else 0
    i, w = _find(snap, wid)
    return _put(snap, i, _replace_worker(w, state=WOKEN, since=t), sockets=_remove_waiter(snap.sockets, wid))


def _receives(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    """worker_woken / worker_takes: recvfrom returned the datagram ``ev.msg``."""
    wid = ev.worker if ev.worker is not None else 0
    slept = ev.kind == WORKER_WOKEN
    i, w = _find(snap, wid)
    drop = 0
    if not slept:
        w, drop = _finish(snap, w, t)
    d = ev.detail
    sockets = _remove_waiter(snap.sockets, wid)
    item = None
    out = []
    for s in sockets:
        if item is None:
            for q in s.queue:
                if q.id == ev.msg:
                    item = q
                    s = _replace_socket(s, queue=tuple(x for x in s.queue if x.id != ev.msg),
                                rmem=d["rmem"] if "rmem" in d else s.rmem - q.charge)
                    break
        out.append(s)
    msg = MessageView(ev.msg or 0, src=d.get("src", item.src if item else ""),
                      size=d.get("len", item.size if item else 0),
                      summary=_first_line(d) or (item.summary if item else ""), slept=slept)
    w = _replace_worker(w, state=RECEIVED if slept else TOOK, step=None, msg=msg, since=t, handled=w.handled + 1,
                took_without_sleeping=w.took_without_sleeping + (0 if slept else 1))
    return _put(snap, i, w, sockets=tuple(out), handled=snap.handled + 1,
                took_without_sleeping=snap.took_without_sleeping + (0 if slept else 1),
                pipeline_drops=snap.pipeline_drops + drop)


def _wasted(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    i, w = _find(snap, ev.worker if ev.worker is not None else 0)
    cpu = float(ev.detail.get("cpu", 0.0)) if ev.detail else 0.0
    w = _replace_worker(w, wasted_wakeups=w.wasted_wakeups + 1)
    return _put(snap, i, w, wasted_wakeups=snap.wasted_wakeups + 1, wasted_cpu=snap.wasted_cpu + cpu)


def _sent(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    kind = ev.detail.get("kind", "")
    replied = 1 if kind == "reply" else 0
    changes: dict[str, Any] = {"sent": snap.sent + 1, "replied": snap.replied + replied,
                               "forwarded": snap.forwarded + (1 - replied if kind else 0)}
    if ev.worker is None:
        return _replace_snapshot(snap, **changes)
    i, w = _find(snap, ev.worker)
    if w.msg is not None:
        to = ev.detail.get("to", "")
        m = _replace_message(w.msg, sent_to=w.msg.sent_to + (to,), out_bytes=ev.detail.get("len", w.msg.out_bytes))
        w = _replace_worker(w, msg=m)
    return _put(snap, i, w, **changes)


def _exited(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    wid = ev.worker if ev.worker is not None else 0
    i, w = _find(snap, wid)
    w, drop = _finish(snap, w, t)
    w = _replace_worker(w, state=EXITED, step=None, since=t)
    return _put(snap, i, w, sockets=_remove_waiter(snap.sockets, wid), pipeline_drops=snap.pipeline_drops + drop)


def _paused(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    ids = set(ev.detail.get("workers", ()))
    sockets = snap.sockets
    workers = []
    for w in snap.workers:
        if w.id in ids:
            if w.state == SLEEPING:  # it leaves recvfrom to stop; it will re-enter it on SIGCONT
                sockets = _remove_waiter(sockets, w.id)
                w = _replace_worker(w, state=PAUSED, since=t)
            w = _replace_worker(w, paused=True)
        workers.append(w)
    return _replace_snapshot(snap, workers=tuple(workers), sockets=sockets, paused=True)


def _resumed(snap: Snapshot, ev: KernelEvent, t: float) -> Snapshot:
    ids = set(ev.detail.get("workers", ()))
    workers = tuple(_replace_worker(w, paused=False) if w.id in ids else w for w in snap.workers)
    return _replace_snapshot(snap, workers=workers, paused=any(w.paused for w in workers))


_KERNEL = {
    DATAGRAM_QUEUED: _queued,
    DATAGRAM_DROPPED: _dropped,
    WORKER_STARTED: _started,
    WORKER_SLEEPS: _sleeps,
    WORKER_WAKEUP: _wakeup,
    WORKER_WOKEN: _receives,
    WORKER_TAKES: _receives,
    WASTED_WAKEUP: _wasted,
    DATAGRAM_SENT: _sent,
    WORKER_EXITED: _exited,
    WORKERS_PAUSED: _paused,
    WORKERS_RESUMED: _resumed,
}


def _step(snap: Snapshot, ev: StepEvent, t: float) -> Snapshot:
    i, w = _find(snap, ev.worker)
    m = w.msg if w.msg is not None and w.msg.id == ev.msg else MessageView(ev.msg)
    d = ev.detail
    changes: dict[str, Any] = {"step": ev.step, "steps": m.steps + (ev.step,), "text": ev.text}
    if ev.parsed:
        changes["parsed"] = m.parsed + tuple(p for p in ev.parsed if p not in m.parsed)
    if ev.unparsed is not None:
        changes["unparsed"] = ev.unparsed
    if ev.outcome is not None:
        changes.update(outcome=ev.outcome, status=ev.status, reason=ev.reason)
    if d:
        ch = d.get("changes")
        if ch:
            changes["lumps"] = tuple(tuple(lump) for lump in ch.get("lumps", ()))
            changes["new_uri"] = ch.get("new_uri")
        if "bytes" in d:
            changes["out_bytes"] = d["bytes"]
        if ev.step == "recvfrom":
            changes["src"] = d.get("src", m.src)
            changes["size"] = d.get("len", m.size)
        if "first_line" in d:
            changes["summary"] = d["first_line"]
    w = _replace_worker(w, state=RUNNING, step=ev.step, msg=_replace_message(m, **changes))
    workers = snap.workers  # (_put, inline: nine events in ten are steps)
    workers = workers + (w,) if i < 0 else workers[:i] + (w,) + workers[i + 1:]
    return _replace_snapshot(snap, workers=workers, step=snap.step + 1, time=t, event=ev)
