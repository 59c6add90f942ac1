"""The discrete-event simulator: N workers, one simulated kernel, peers, and a virtual clock.

The workers are the engine's own ``udp_rcv_loop`` generators — the code live mode runs — each with
its own :class:`~sipsim.engine.context.WorkerContext` (sharing the configuration, the routing
script, the callbacks and one location table). The :class:`Runner` plays the operating system:
it answers ``Recv`` from the simulated socket (``kernel_queue.py``), performs ``Send`` on a
virtual network where the peers (``peers.py``) live, and charges every step virtual time.

Time. Every :class:`~sipsim.engine.events.StepEvent` takes the cost of its step (``DEFAULT_COSTS``,
calibrated in ``costs.py``, overridable per step name in the scenario) times the worker's speed
factor (how much slower than the calibration machine this worker runs the pipeline), times
``uniform(1-jitter, 1+jitter)`` from a seeded ``random.Random``. The kernel side costs
``try_to_wake_up`` (a woken worker starts running that long after the wake-up — or as soon as it
gets a CPU, if it waited longer than that), ``sys_recvfrom`` and ``sys_sendto``. A woken worker
that finds the queue empty (``wasted_wakeup``: a loser of a herd, or a FIFO sleeper whose datagram
a passing worker took) holds its CPU for a ``context_switch`` and an empty ``sys_recvfrom_empty``,
is charged that CPU time like any other, then goes back to ``recvfrom`` — taking a datagram that
came meanwhile, or sleeping again at the tail of the wait-queue.

CPUs. The machine has ``cpus`` CPUs; a runnable worker beyond them waits in a fair run-queue
(``sched_fair.py``): like Linux's CFS/EEVDF, each worker accumulates virtual run time
(``vruntime``, the CPU time it was charged), a waking worker is placed at no less than the
run-queue's ``min_vruntime`` minus a bounded sleeper credit (``place_entity``), and a free CPU
takes the waiting worker with the lowest vruntime — the one that has had the least CPU. A herd
(``wake-all``) is woken head first, the most recent sleeper first; like Linux's wake-up path,
which gives a waking task an idle CPU, each woken worker takes an idle CPU at once — except the
CPU that delivers the datagram (its softirq; on loopback, the sender), given out only after the
whole herd is woken, to the lowest vruntime. So with an idle CPU the last winner, woken first,
wins again; on one CPU the scheduler picks, and the winner rotates (both measured on Linux). A
worker that has run for a ``timeslice`` (default: Linux's EEVDF base slice, 0.75 ms ×
(1 + ⌊log₂ min(cpus, 8)⌋)) yields its CPU at the next step boundary when others wait, and the
lowest vruntime runs next (EEVDF's ``RUN_TO_PARITY``). Simplified: no wake-up preemption, one
run-queue for all CPUs (Linux has one per CPU, and gives a waking task an idle CPU if there is
one), no nice levels; ``sched_fair.py`` says what else. Events about a worker carry its
``vruntime`` (in ns, as last charged) for the snapshots.

Arrivals come from the scenario's streams at their times — with ``wait_for_workers``, not before
every worker has slept once (the whole stream moves later, spacing kept) — from the peers, and
from injections.

Stepping (forward, back, inject) is ``stepping.Simulation``, built on this runner. Determinism:
same scenario + seed + injections = same event stream: the agenda is ordered by (time, insertion
number), randomness comes only from seeded generators (jitter here, start order and Poisson
arrivals in the scenario), and every action emits at most one event — so an injection "after
step k" has one meaning.

Simplifications (besides those of ``kernel_queue.py``): worker pauses (SIGSTOP) take effect at the
next step boundary; a worker paused while sleeping leaves ``recvfrom`` and re-enters it (at the
tail of the wait-queue) when resumed, as a restarted system call does; the network has one fixed
latency and never loses or reorders what it carries; the peers cost nothing.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sipsim.engine.context import WorkerContext
from sipsim.engine.costs import DEFAULT_COSTS, DEFAULT_STEP_COST
from sipsim.engine.costs import KERNEL_COSTS as KERNEL_COSTS  # (where tests and tools find them)
from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    DATAGRAM_QUEUED,
    DATAGRAM_SENT,
    WASTED_WAKEUP,
    WORKER_EXITED,
    WORKER_SLEEPS,
    WORKER_STARTED,
    WORKER_TAKES,
    WORKER_WAKEUP,
    WORKER_WOKEN,
    WORKERS_PAUSED,
    WORKERS_RESUMED,
    Addr,
    Datagram,
    KernelEvent,
    Recv,
    Send,
    StepEvent,
    format_addr,
    oversize_error,
)
from sipsim.engine.kernel_queue import (
    Kernel,
    SimSocket,
    Skb,
    effective_rcvbuf,
    first_line,
    skb_truesize,
)
from sipsim.engine.location import MemoryLocation
from sipsim.engine.metrics import Metrics
from sipsim.engine.network import VirtualNetwork
from sipsim.engine.peers import Peer, Timer, make_peers
from sipsim.engine.scenario import Arrival, Pause, Scenario, load_router
from sipsim.engine.sched_fair import CfsRq
from sipsim.engine.script_cb import callbacks_for
from sipsim.engine.sim_proc import CPU, DEAD, HELD, RUNQ, SLEEP, Proc
from sipsim.engine.sl_timeout import SlTimeout
from sipsim.engine.snapshot import Event
from sipsim.engine.stats import CoreStats
from sipsim.engine.wire import WireRecord as WireRecord  # (stepping and the CLI import it from here)

CHECKPOINT = 256
Injection = tuple[bytes, Addr, dict[str, Any]]  # data, source, meta (shown in the arrival's detail)

class Runner:
    """Runs one scenario as a stream of events: ``next_event()`` returns them one by one."""

    def __init__(self, scenario: Scenario, injections: dict[int, list[Injection]] | None = None,
                 *, router: Any = None, record_wire: bool = False) -> None:
        sc = self.scenario = scenario
        self.wire: list[WireRecord] | None = [] if record_wire else None
        config = sc.server_config()
        router = router if router is not None else load_router(sc, config)
        config = getattr(router, "config", None) or config  # a cfg script may add aliases etc.
        self.listen = config.listen
        self.rcvbuf = effective_rcvbuf(sc.rcvbuf, sc.rmem_max)
        self.kernel = Kernel(sc.policy, rcvbuf=self.rcvbuf, workers=sc.workers, seed=sc.seed)
        costs = dict(DEFAULT_COSTS[sc.profile])
        costs.update(sc.costs)
        self._costs = costs
        self._wake_cost = costs["try_to_wake_up"]
        self._recv_cost = costs["sys_recvfrom"]
        self._send_cost = costs["sys_sendto"]
        self._wasted_cost = costs["context_switch"] + costs["sys_recvfrom_empty"]
        self._jitter = sc.jitter
        self._rng = random.Random(f"jitter:{sc.seed}")
        self.timeslice = sc.time_slice()
        self.latency = sc.latency
        self.now = 0.0
        self.count = 0  # events emitted so far
        self.finished = False
        self._heap: list[tuple[float, int, Callable[[Any], Event | None], Any]] = []
        self._seq = 0
        self._imm: deque[tuple[Callable[[Any], Event | None], Any]] = deque()
        self._rq = CfsRq(sc.cpu_count())
        self._runq = self._rq.queue  # the waiting workers (the same list)
        self._free = sc.cpu_count()
        self._waking = 0  # wake-ups of a herd still to happen before the last CPU is given out
        self._until = sc.until if sc.until is not None else float("inf")
        self._next_id = 0
        self._inject = {k: list(v) for k, v in (injections or {}).items()}
        location, callbacks, sl_timeout = MemoryLocation(), callbacks_for(router), SlTimeout()
        self.location = location
        order = sc.worker_start_order()
        self.procs: list[Proc] = [None] * sc.workers  # type: ignore[list-item]
        for k, wid in enumerate(order):
            ctx = WorkerContext(config=config, worker=wid, router=router, callbacks=callbacks, location=location,
                                stats=CoreStats(), sl_timeout=sl_timeout)
            self.procs[wid] = Proc(wid, ctx, self.kernel.bind(wid), sc.speed(wid))
            self._at(k * sc.start_gap, self._start, self.procs[wid])
        self.peers = make_peers(sc)
        names = (*config.aliases, *((config.advertise,) if config.advertise else ()))
        self.net = VirtualNetwork(config.listen, names, dict(sc.hosts), self.peers)
        for p in self.peers:
            p.start(self)
        for pause in sc.pauses:
            self._at(pause.start, self._pause, pause)
            self._at(pause.end, self._resume, pause)
        self._arrivals = sc.iter_arrivals()
        self._shift = 0.0  # how much later than written the arrival streams run (wait_for_workers)
        self._held: Arrival | None = None  # while they wait: the first arrival; and who has not slept yet
        self._not_asleep = set(range(sc.workers)) if sc.wait_for_workers else set()
        first = next(self._arrivals, None)
        if first is not None and sc.wait_for_workers:
            self._held = first
        elif first is not None:
            self._at(first.time, self._arrive_scheduled, first)

    # -- the agenda ---------------------------------------------------------------------------
    def _at(self, t: float, fn: Callable[[Any], Event | None], arg: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, fn, arg))

    def next_event(self) -> Event | None:
        """Run the simulation until it emits one event; None when nothing is left to happen."""
        if self._inject:
            pending = self._inject.pop(self.count, None)
            if pending:  # the injected datagrams are the very next events, in the order given
                self._imm.extendleft((self._arrive_injected, x) for x in reversed(pending))
        imm, heap, pop = self._imm, self._heap, heapq.heappop
        while True:
            if imm:
                fn, arg = imm.popleft()
            elif heap and heap[0][0] <= self._until:
                t, _, fn, arg = pop(heap)
                self.now = t
            else:
                self.finished = not self._inject
                return None
            ev = fn(arg)
            if ev is not None:
                self.count += 1
                return ev

    def inject(self, data: bytes, src: Addr, meta: dict[str, Any] | None = None) -> None:
        """A datagram arrives at the proxy right after the last emitted event."""
        self._inject.setdefault(self.count, []).append((data, src, dict(meta or {})))
        self.finished = False

    def run(self, sink: Callable[[Event, float], None] | None = None) -> int:
        """Run to the end; ``sink(event, time)`` sees every event. Returns the number of events.

        The agenda loop of :meth:`next_event`, kept running instead of returning at each event
        (a whole run is tens of events per datagram). Same order, same events; should a datagram
        be injected meanwhile, the rest goes through :meth:`next_event`, which places it.
        """
        imm, heap, pop = self._imm, self._heap, heapq.heappop
        while not self._inject:
            if imm:
                fn, arg = imm.popleft()
            elif heap and heap[0][0] <= self._until:
                t, _, fn, arg = pop(heap)
                self.now = t
            else:
                self.finished = True
                return self.count
            ev = fn(arg)
            if ev is not None:
                self.count += 1
                if sink is not None:
                    sink(ev, self.now)
        nxt = self.next_event
        while (ev := nxt()) is not None:
            if sink is not None:
                sink(ev, self.now)
        return self.count

    # -- peers' side (the PeerNet protocol) -----------------------------------------------------
    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(fn)
        self._at(self.now + delay, self._fire, timer)
        return timer

    def _fire(self, timer: Timer) -> None:
        if not timer.cancelled:
            timer.fn()

    def send(self, peer: Peer, data: bytes, dst: Addr, meta: dict[str, Any] | None = None) -> None:
        ip = self.net.resolve(dst[0])
        if ip is None:
            return
        if self.net.is_proxy(ip, dst[1]):
            self._at(self.now + self.latency, self._arrive_net, (data, peer.addr, {"peer": peer.name, **(meta or {})}))
        elif (target := self.net.peer_at(ip, dst[1])) is not None:
            self._at(self.now + self.latency, self._deliver, (target, data, peer.addr))

    def _deliver(self, arg: tuple[Peer, bytes, Addr]) -> None:
        peer, data, src = arg
        peer.receive(data, src)

    # -- arrivals at the proxy's socket ---------------------------------------------------------
    def _arrive_scheduled(self, a: Arrival) -> Event:
        nxt = next(self._arrivals, None)
        if nxt is not None:
            self._at(nxt.time + self._shift, self._arrive_scheduled, nxt)
        return self._arrive(a.data, a.src, dict(a.meta))

    def _first_sleep(self, wid: int) -> None:
        """``wait_for_workers``: ``wid`` sleeps (or dies) for the first time; after the last, the
        streams start — at their time, or now if it has passed, moving every datagram as much."""
        self._not_asleep.discard(wid)
        if self._not_asleep or self._held is None:
            return
        a, self._held = self._held, None
        if self.now > a.time:
            self._shift = self.now - a.time
            note = (f"the arrival streams waited for the workers: the last one went to sleep at "
                    f"{self.now * 1e3:.3f} ms, so they start {self._shift * 1e3:.3f} ms later than written")
            a = Arrival(self.now, a.data, a.src, (*a.meta, ("note", note)))
        self._at(a.time, self._arrive_scheduled, a)

    def _arrive_net(self, arg: tuple[bytes, Addr, dict[str, Any]]) -> Event:
        return self._arrive(*arg)

    def _arrive_injected(self, arg: tuple[bytes, Addr, dict[str, Any]]) -> Event:
        data, src, meta = arg
        return self._arrive(data, src, {"injected": True, **meta})

    def _arrive(self, data: bytes, src: Addr, meta: dict[str, Any]) -> Event:
        self._next_id += 1
        mid = self._next_id
        now = self.now
        sock = self.kernel.socket_for(src)
        n = len(data)
        charge = skb_truesize(n)
        s_src = format_addr(src)
        summary = first_line(data)
        if self.wire is not None:
            self.wire.append(WireRecord(now, src, self.listen, bytes(data), "in", mid, None, self.count))
        detail = {"src": s_src, "len": n, "charge": charge, "socket": sock.index, "rcvbuf": sock.rcvbuf,
                  "first_line": summary}
        if meta:
            detail.update(meta)  # who sent it, retransmission and its note, injected, stream label
        if sock.enqueue(Skb(Datagram(data, src, self.listen, mid, now), charge, summary)):
            detail["rmem"], detail["held"] = sock.rmem, sock.held
            detail["queued"] = len(sock.queue)
            if sock.waiters:
                self._imm.append((self._wake, sock))
            note = f" — {meta['note']}" if meta and "note" in meta else ""
            return KernelEvent(DATAGRAM_QUEUED, now, None, mid,
                               f"#{mid} {summary} from {s_src}: {n} bytes queued, charged {charge} "
                               f"({sock.rmem}/{sock.rcvbuf} bytes, {len(sock.queue)} in the queue"
                               f"{f'; {sock.held} bytes read, not yet released' if sock.held else ''}){note}", detail)
        detail["rmem"], detail["held"] = sock.rmem, sock.held
        return KernelEvent(DATAGRAM_DROPPED, now, None, mid,
                           f"#{mid} {summary} from {s_src}: dropped, the receive buffer is full "
                           f"({sock.rmem} + {charge} > {sock.rcvbuf} bytes)", detail)

    # -- wake-ups ------------------------------------------------------------------------------
    def _wake(self, sock: SimSocket) -> Event | None:
        ids = self.kernel.to_wake(sock)
        if not ids:
            return None
        # the kernel wakes the whole herd in one go (__wake_up_common), head first: one event each;
        # a woken worker takes an idle CPU at once, but the waking CPU is given out after the last
        self._waking += len(ids) - 1
        for wid in ids[1:]:
            self._imm.append((self._herd_wakeup, self.procs[wid]))
        return self._wakeup(self.procs[ids[0]])

    def _herd_wakeup(self, p: Proc) -> Event:
        self._waking -= 1
        return self._wakeup(p)

    def _wakeup(self, p: Proc) -> Event:
        p.cont = self._woken
        self._make_runnable(p, self.now + self._wake_cost)
        return KernelEvent(WORKER_WAKEUP, self.now, p.id, None,
                           f"the kernel wakes W{p.id}: off the wait-queue; recvfrom returns once it runs",
                           {"socket": p.sock.index, "vruntime": p.vruntime})

    def _woken(self, p: Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._woken)
        skb = p.sock.dequeue()
        if skb is None:  # on its CPU for a context switch and an empty look, then back into recvfrom
            cost = self._wasted_cost
            if self._jitter:
                cost *= 1.0 + self._rng.uniform(-self._jitter, self._jitter)
            self._at(self.now + cost, self._recv, p)
            return KernelEvent(WASTED_WAKEUP, self.now, p.id, None,
                               f"W{p.id} woke up but the queue is empty: another worker took the datagram; "
                               f"{cost * 1e6:.1f} µs of CPU (a context switch, an empty recvfrom) for nothing",
                               {"socket": p.sock.index, "cpu": cost, "vruntime": p.vruntime})
        return self._got(p, skb, WORKER_WOKEN)

    def _sleep(self, p: Proc) -> Event:
        at = p.sock.add_waiter(p.id)
        p.where = SLEEP
        if self._held is not None:  # wait_for_workers, and the streams wait still
            self._first_sleep(p.id)
        self._free_cpu(p)
        q = p.sock.waiters
        return KernelEvent(WORKER_SLEEPS, self.now, p.id, None,
                           f"W{p.id} calls recvfrom: nothing queued, sleeps at the {at} of the wait-queue "
                           f"({' → '.join(f'W{w}' for w in q)})",
                           {"socket": p.sock.index, "at": at, "wait_queue": tuple(q), "vruntime": p.vruntime})

    def _got(self, p: Proc, skb: Skb, kind: str) -> Event:
        d = skb.dgram
        sock = p.sock
        detail = {"socket": sock.index, "src": format_addr(d.src), "len": len(d.data), "charge": skb.charge,
                  "first_line": skb.summary, "waited": self.now - d.time, "vruntime": p.vruntime,
                  "rmem": sock.rmem, "held": sock.held}  # sk_rmem_alloc after the read (release is batched)
        how = "woken, recvfrom returns" if kind == WORKER_WOKEN else "finds data queued and takes without sleeping"
        ev = KernelEvent(kind, self.now, p.id, d.id, f"W{p.id} {how} #{d.id} ({skb.summary})", detail)
        self._advance(p, d)
        return ev

    # -- the CPUs --------------------------------------------------------------------------------
    def _make_runnable(self, p: Proc, ready: float, *, place: bool = True, initial: bool = False,
                       dispatch: bool = True) -> None:
        """``p`` wants a CPU, to run ``p.cont`` not before ``ready``. ``place``: it wakes up (or,
        ``initial``, was just forked), so the scheduler places it (``place_entity``)."""
        if place:
            self._rq.place_entity(p, self.now, initial=initial)
        p.where, p.ready = RUNQ, ready
        self._rq.enqueue_entity(p)
        if dispatch:
            self._dispatch()

    def _dispatch(self) -> None:
        """Free CPUs take waiting workers (``CfsRq.pick_next_entity``); while a herd is being woken,
        all but one (the waking CPU, kept for its last wake-up). A woken worker starts
        ``try_to_wake_up`` after its wake-up, or now if it waited longer for the CPU."""
        rq, now = self._rq, self.now
        keep = 1 if self._waking else 0
        while self._free > keep and rq.queue:
            p: Proc = rq.pick_next_entity(self._free - keep)  # type: ignore[assignment]
            self._free -= 1
            p.where = CPU
            start = p.ready if p.ready > now else now
            rq.set_next_entity(p, start)
            self._at(start, p.cont, p)  # type: ignore[arg-type]

    def _free_cpu(self, p: Proc) -> None:
        self._rq.put_prev_entity(p, self.now)
        self._free += 1
        self._dispatch()

    def _hold(self, p: Proc, cont: Callable[[Proc], Event | None]) -> None:
        """A paused worker stops here; it goes on with ``cont`` when resumed."""
        p.cont, p.where = cont, HELD
        self._free_cpu(p)

    # -- a worker's steps -------------------------------------------------------------------------
    def _start(self, p: Proc) -> Event:
        p.item = next(p.gen)
        p.cont = self._process
        self._make_runnable(p, self.now, initial=True)
        return KernelEvent(WORKER_STARTED, self.now, p.id, None, f"W{p.id} starts (fork) and enters udp_rcv_loop",
                           {"socket": p.sock.index, "vruntime": p.vruntime})

    def _process(self, p: Proc) -> None:
        """Schedule what the worker yielded last (it is on a CPU)."""
        now = self.now
        if self._runq and now - p.exec_start >= self.timeslice:  # time slice used up and others wait
            p.cont = self._process
            self._rq.put_prev_entity(p, now)
            self._free += 1
            self._make_runnable(p, now, place=False)  # the lowest vruntime runs next (maybe p again)
            return
        item = p.item
        tp = type(item)
        if tp is StepEvent:
            cost = self._costs.get(item.step, DEFAULT_STEP_COST) * p.speed
            fn = self._step_done
        elif tp is Send:
            cost, fn = self._send_cost, self._sent
        elif tp is Recv:
            cost, fn = self._recv_cost, self._recv
        else:  # pragma: no cover - the pipeline yields nothing else
            raise TypeError(f"worker {p.id} yielded {item!r}")
        if self._jitter:
            cost *= 1.0 + self._rng.uniform(-self._jitter, self._jitter)
        self._seq += 1
        heapq.heappush(self._heap, (now + cost, self._seq, fn, p))

    def _advance(self, p: Proc, value: Any) -> None:
        try:
            p.item = p.gen.send(value)
        except Exception as exc:  # a broken routing script must not break the simulator
            p.item = exc
            p.where = DEAD
            self._imm.appendleft((self._exited, p))
            return
        self._process(p)

    def _exited(self, p: Proc) -> Event:
        self._first_sleep(p.id)
        self._free_cpu(p)
        return KernelEvent(WORKER_EXITED, self.now, p.id, None, f"W{p.id} died: {p.item!r}",
                           {"error": repr(p.item), "vruntime": p.vruntime})

    def _step_done(self, p: Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._step_done)
        ev = p.item
        try:
            item = p.item = p.gen.send(None)
        except Exception as exc:
            p.item = exc
            p.where = DEAD
            self._imm.appendleft((self._exited, p))
            return ev
        if type(item) is StepEvent and not self._runq and not self._jitter:  # the common case, inline
            self._seq += 1
            heapq.heappush(self._heap, (self.now + self._costs.get(item.step, DEFAULT_STEP_COST) * p.speed,
                                        self._seq, self._step_done, p))
        else:
            self._process(p)
        return ev

    def _sent(self, p: Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._sent)
        send: Send = p.item
        too_long = oversize_error(send)
        if too_long:  # sendto() fails: nothing leaves
            self._advance(p, too_long)
            return None
        host, port = send.to
        ip = self.net.resolve(host)
        if ip is None:
            self._advance(p, "unresolvable")
            return None
        peer = None
        if self.net.is_proxy(ip, port):
            self._at(self.now + self.latency, self._arrive_net, (send.data, self.listen, {"loop": True}))
        else:
            peer = self.net.peer_at(ip, port)
            if peer is not None:
                self._at(self.now + self.latency, self._deliver, (peer, send.data, self.listen))
        to = format_addr(send.to)
        summary = first_line(send.data)
        if self.wire is not None:
            self.wire.append(WireRecord(self.now, send.src, (ip, port), send.data, "out", send.msg, p.id, self.count))
        ev = KernelEvent(DATAGRAM_SENT, self.now, p.id, send.msg, f"W{p.id} sends {summary} to {to}",
                         {"to": to, "len": len(send.data), "kind": send.kind, "first_line": summary,
                          "peer": peer.name if peer is not None else None, "vruntime": p.vruntime})
        self._advance(p, None)
        return ev

    def _recv(self, p: Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._recv)
        skb = p.sock.dequeue()
        if skb is None:
            return self._sleep(p)
        return self._got(p, skb, WORKER_TAKES)

    # -- pause windows (SIGSTOP / SIGCONT) ------------------------------------------------------------
    def _pause_targets(self, pause: Pause) -> list[Proc]:
        ids = range(len(self.procs)) if pause.workers is None else pause.workers
        return [self.procs[i] for i in ids]

    def _pause(self, pause: Pause) -> Event:
        targets = self._pause_targets(pause)
        for p in targets:
            p.pause += 1
            if p.pause > 1:
                continue
            if p.where == SLEEP:  # leaves recvfrom (-ERESTARTSYS); re-enters it on SIGCONT
                p.sock.remove_waiter(p.id)
                p.cont, p.where = self._recv, HELD
            elif p.where == RUNQ:
                self._rq.dequeue_entity(p)
                p.where = HELD
        ids = [p.id for p in targets]
        return KernelEvent(WORKERS_PAUSED, self.now, None, None,
                           f"SIGSTOP to {', '.join(f'W{i}' for i in ids)} until t={pause.end:g}s",
                           {"workers": ids, "until": pause.end})

    def _resume(self, pause: Pause) -> Event:
        targets = self._pause_targets(pause)
        for p in targets:  # SIGCONT wakes each stopped worker; the CPUs are given out after the last
            p.pause -= 1
            if p.pause == 0 and p.where == HELD:
                self._make_runnable(p, self.now, dispatch=False)
        self._dispatch()
        said = ", ".join(f"W{p.id}" for p in targets)
        return KernelEvent(WORKERS_RESUMED, self.now, None, None, f"SIGCONT to {said}",
                           {"workers": [p.id for p in targets], "vruntime": {p.id: p.vruntime for p in targets}})

    # -- results --------------------------------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        """Nothing is left to happen (False when ``until`` cut the run short)."""
        return not self._heap and not self._imm and not self._inject

    @property
    def arrival_shift(self) -> float:
        """How much later than written the arrival streams run (``wait_for_workers``; 0 else)."""
        return self._shift

    def totals(self) -> CoreStats:
        """The workers' counters summed: ``.snapshot()`` is Kamailio's core group, ``.sl_snapshot()`` sl's."""
        total = CoreStats()
        for p in self.procs:
            total.update(p.ctx.stats)
        return total


@dataclass
class RunResult:
    """A whole run without keeping the events (``sipsim simulate``, benchmarks)."""

    scenario: Scenario
    metrics: Metrics
    events: int
    rcvbuf: int
    peers: list[dict[str, Any]] = field(default_factory=list)
    core_stats: dict[str, int] = field(default_factory=dict)
    finished: bool = True
    sl_stats: dict[str, int] = field(default_factory=dict)
    arrival_shift: float = 0.0  # seconds the arrival streams waited for the workers (wait_for_workers)


def run_scenario(scenario: Scenario, *, trace: Callable[[Event, float], None] | None = None,
                 router: Any = None, wire: list[WireRecord] | None = None) -> RunResult:
    """Run a scenario to its end, feeding the metrics (and ``trace``, if given) every event.
    With ``wire`` (a list), every datagram in and out is appended to it (for a pcap)."""
    runner = Runner(scenario, router=router, record_wire=wire is not None)
    metrics = Metrics()
    observe = metrics.observe
    runner.run(observe if trace is None else lambda ev, t: (observe(ev, t), trace(ev, t)))
    if wire is not None:
        wire.extend(runner.wire or ())
    totals = runner.totals()
    return RunResult(scenario, metrics, runner.count, runner.rcvbuf, [p.summary() for p in runner.peers],
                     totals.snapshot(), finished=runner.exhausted, sl_stats=totals.sl_snapshot(),
                     arrival_shift=runner.arrival_shift)
