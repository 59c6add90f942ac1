"""The discrete-event simulator: N workers, one simulated kernel, peers, and a virtual clock.

The workers are the engine's own ``udp_rcv_loop`` generators — the code live mode runs — each with
its own :class:`~sipsim.engine.context.WorkerContext` (sharing the configuration, the routing
script, the callbacks and one location table). The :class:`Runner` plays the operating system:
it answers ``Recv`` from the simulated socket (``kernel_queue.py``), performs ``Send`` on a
virtual network where the peers (``peers.py``) live, and charges every step virtual time.

Time. Every :class:`~sipsim.engine.events.StepEvent` takes the cost of its step (``DEFAULT_COSTS``,
overridable per step name in the scenario) times the worker's speed factor (how much slower
than the calibration machine this worker runs the pipeline), times
``uniform(1-jitter, 1+jitter)`` from a seeded ``random.Random``. The kernel side costs
``try_to_wake_up`` (a woken worker starts running that long after the wake-up), ``sys_recvfrom``
and ``sys_sendto``. The machine has ``cpus`` CPUs: a runnable worker beyond them waits in a FIFO
run-queue, and a worker that has run for a ``timeslice`` (default: Linux's EEVDF base slice, 0.75 ms ×
(1 + ⌊log₂ min(cpus, 8)⌋)) yields its CPU at the next step boundary when others wait — a simplification
of the Linux scheduler (no wake-up preemption, no virtual run time).

Calibration (the defaults). Pipeline costs are the engine's own, measured on the development
machine (Python 3.11, 2 shared cores) by ``bench/simulate.py --calibrate``: it drives
``udp_rcv_loop`` over the RFC 3261 §24 flow (REGISTER, INVITE, 180, 200) 3,000 times per profile
and takes, for each step name, the median wall time from the previous yield to the one producing
that step's event — the work done for that step. Medians in µs (ser / kamailio): recvfrom 3.2 /
3.0, udp_rcv_loop 1.5 / 1.4, receive_msg 4.5 / 4.0, parse_msg 25.0 / 23.1, parse_headers – / 47.1,
exec_pre_script_cb 4.7 / 4.1, receive_msg.sanity 1.8 / 3.1, request_route 1.8 / 2.0,
mf_process_maxfwd_header 27.5 / 8.9, rfc_checks 73.1 / –, sanity_check – / 33.3, check_self
7.5 / 6.5, save 19.6 / 24.7, lookup 8.0 / 6.8, forward_request 44.6 / 35.5, sl_send_reply
33.5 / 28.0, forward_reply 82.3 / 12.4, exec_post_script_cb 3.3 / 2.9, free_sip_msg 2.4 / 2.3 —
171 / 148 µs per datagram (``DEFAULT_COSTS``). The same script measured the kernel side in a
private network namespace over loopback: ``sendto`` of 500 bytes 3.9-4.5 µs, ``recvfrom`` of a
queued datagram 2.1-2.4 µs, and a datagram sent to a process blocked in ``recvfrom`` wakes it
36-65 µs later (medians of two runs on a loaded machine; p10 24 µs, p90 123 µs): we charge
``try_to_wake_up`` 45 µs. Steps not in the table (e.g. a routing script's own) cost
``DEFAULT_STEP_COST`` (5 µs).

Stepping (forward, back, inject) is ``stepping.Simulation``, built on this runner.

Determinism. Same scenario + seed + injections = same event stream: the agenda is ordered by
(time, insertion number), randomness comes only from seeded generators (jitter here, start order
and Poisson arrivals in the scenario), and every action emits at most one event — so an
injection "after step k" has one meaning.

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
from sipsim.engine.script_cb import default_callbacks
from sipsim.engine.snapshot import Event
from sipsim.engine.stats import CoreStats
from sipsim.engine.udp_server import udp_rcv_loop

_US = 1e-6
DEFAULT_STEP_COST = 5 * _US
KERNEL_COSTS = {"try_to_wake_up": 45 * _US, "sys_recvfrom": 2.2 * _US, "sys_sendto": 4.2 * _US}
_SER_US = {"recvfrom": 3.2, "udp_rcv_loop": 1.5, "receive_msg": 4.5, "parse_msg": 25.0, "exec_pre_script_cb": 4.7,
           "receive_msg.sanity": 1.8, "request_route": 1.8, "mf_process_maxfwd_header": 27.5, "rfc_checks": 73.1,
           "check_self": 7.5, "save": 19.6, "lookup": 8.0, "forward_request": 44.6, "sl_send_reply": 33.5,
           "forward_reply": 82.3, "exec_post_script_cb": 3.3, "free_sip_msg": 2.4,
           "parse_headers": 47.1, "sanity_check": 33.3}  # (the last two: kamailio's, for cfg scripts)
_KAMAILIO_US = {"recvfrom": 3.0, "udp_rcv_loop": 1.4, "receive_msg": 4.0, "parse_msg": 23.1, "parse_headers": 47.1,
                "receive_msg.sanity": 3.1, "exec_pre_script_cb": 4.1, "request_route": 2.0,
                "mf_process_maxfwd_header": 8.9, "sanity_check": 33.3, "check_self": 6.5, "save": 24.7,
                "lookup": 6.8, "forward_request": 35.5, "sl_send_reply": 28.0, "forward_reply": 12.4,
                "exec_post_script_cb": 2.9, "free_sip_msg": 2.3, "rfc_checks": 73.1}
DEFAULT_COSTS: dict[str, dict[str, float]] = {
    "ser": {k: v * _US for k, v in _SER_US.items()} | KERNEL_COSTS,
    "kamailio": {k: v * _US for k, v in _KAMAILIO_US.items()} | KERNEL_COSTS,
}
CHECKPOINT = 256
Injection = tuple[bytes, Addr, dict[str, Any]]  # data, source, meta (shown in the arrival's detail)

# where a simulated worker process is
_NEW, _CPU, _RUNQ, _SLEEP, _HELD, _DEAD = range(6)


class _Proc:
    """One simulated worker process: its generator, what it yielded last, where it is."""

    __slots__ = ("id", "ctx", "gen", "item", "where", "sock", "speed", "cont", "delay", "slice", "pause")

    def __init__(self, wid: int, ctx: WorkerContext, sock: SimSocket, speed: float) -> None:
        self.id = wid
        self.ctx = ctx
        self.gen = udp_rcv_loop(ctx)
        self.item: Any = None
        self.where = _NEW
        self.sock = sock
        self.speed = speed
        self.cont: Callable[[_Proc], Event | None] | None = None  # what it does when it gets a CPU
        self.delay = 0.0  # ... that long after getting it
        self.slice = 0.0  # when it got the CPU
        self.pause = 0  # nesting depth of pause windows


@dataclass(frozen=True, slots=True)
class WireRecord:
    """One datagram on the proxy's wire: arriving (``"in"``, even if the receive buffer then drops it)
    or leaving (``"out"``). Kept only when asked (``record_wire``): the TUI's message panel and
    ``--save-pcap`` need the bytes, the events carry only their first line."""

    time: float
    src: Addr
    dst: Addr
    data: bytes
    direction: str  # "in" | "out"
    msg: int  # the datagram id (for "out": the id of the datagram being handled)
    worker: int | None = None
    event: int = -1  # index of the event that reports it (datagram_queued/_dropped, datagram_sent)


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
        self.rcvbuf = effective_rcvbuf(sc.rcvbuf)
        self.kernel = Kernel(sc.policy, rcvbuf=self.rcvbuf, workers=sc.workers, seed=sc.seed)
        costs = dict(DEFAULT_COSTS[sc.profile])
        costs.update(sc.costs)
        self._costs = costs
        self._wake_cost = costs["try_to_wake_up"]
        self._recv_cost = costs["sys_recvfrom"]
        self._send_cost = costs["sys_sendto"]
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
        self._runq: deque[_Proc] = deque()
        self._free = sc.cpu_count()
        self._until = sc.until if sc.until is not None else float("inf")
        self._next_id = 0
        self._inject = {k: list(v) for k, v in (injections or {}).items()}
        location, callbacks = MemoryLocation(), default_callbacks()
        self.location = location
        order = sc.worker_start_order()
        self.procs: list[_Proc] = [None] * sc.workers  # type: ignore[list-item]
        for k, wid in enumerate(order):
            ctx = WorkerContext(config=config, worker=wid, router=router, callbacks=callbacks, location=location,
                                stats=CoreStats())
            self.procs[wid] = _Proc(wid, ctx, self.kernel.bind(wid), sc.speed(wid))
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
        first = next(self._arrivals, None)
        if first is not None:
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
            self._at(nxt.time, self._arrive_scheduled, nxt)
        return self._arrive(a.data, a.src, dict(a.meta))

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
            detail["rmem"] = sock.rmem
            detail["queued"] = len(sock.queue)
            if sock.waiters:
                self._imm.append((self._wake, sock))
            note = f" — {meta['note']}" if meta and "note" in meta else ""
            return KernelEvent(DATAGRAM_QUEUED, now, None, mid,
                               f"#{mid} {summary} from {s_src}: {n} bytes queued, charged {charge} "
                               f"({sock.rmem}/{sock.rcvbuf} bytes, {len(sock.queue)} in the queue){note}", detail)
        detail["rmem"] = sock.rmem
        return KernelEvent(DATAGRAM_DROPPED, now, None, mid,
                           f"#{mid} {summary} from {s_src}: dropped, the receive buffer is full "
                           f"({sock.rmem} + {charge} > {sock.rcvbuf} bytes)", detail)

    # -- wake-ups ------------------------------------------------------------------------------
    def _wake(self, sock: SimSocket) -> Event | None:
        ids = self.kernel.to_wake(sock)
        if not ids:
            return None
        for wid in ids[1:]:
            self._imm.append((self._wakeup, self.procs[wid]))
        return self._wakeup(self.procs[ids[0]])

    def _wakeup(self, p: _Proc) -> Event:
        p.cont = self._woken
        p.delay = self._wake_cost
        self._make_runnable(p)
        return KernelEvent(WORKER_WAKEUP, self.now, p.id, None,
                           f"the kernel wakes W{p.id}: off the wait-queue; recvfrom returns once it runs",
                           {"socket": p.sock.index})

    def _woken(self, p: _Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._woken)
        skb = p.sock.dequeue()
        if skb is None:
            self._imm.append((self._sleep, p))
            return KernelEvent(WASTED_WAKEUP, self.now, p.id, None,
                               f"W{p.id} woke up but the queue is empty: another worker took the datagram",
                               {"socket": p.sock.index})
        return self._got(p, skb, WORKER_WOKEN)

    def _sleep(self, p: _Proc) -> Event:
        at = p.sock.add_waiter(p.id)
        p.where = _SLEEP
        self._free_cpu(p)
        q = p.sock.waiters
        return KernelEvent(WORKER_SLEEPS, self.now, p.id, None,
                           f"W{p.id} calls recvfrom: nothing queued, sleeps at the {at} of the wait-queue "
                           f"({' → '.join(f'W{w}' for w in q)})",
                           {"socket": p.sock.index, "at": at, "wait_queue": tuple(q)})

    def _got(self, p: _Proc, skb: Skb, kind: str) -> Event:
        d = skb.dgram
        sock = p.sock
        detail = {"socket": sock.index, "src": format_addr(d.src), "len": len(d.data), "charge": skb.charge,
                  "first_line": skb.summary, "waited": self.now - d.time}
        how = "woken, recvfrom returns" if kind == WORKER_WOKEN else "finds data queued and takes without sleeping"
        ev = KernelEvent(kind, self.now, p.id, d.id, f"W{p.id} {how} #{d.id} ({skb.summary})", detail)
        self._advance(p, d)
        return ev

    # -- the CPUs --------------------------------------------------------------------------------
    def _make_runnable(self, p: _Proc) -> None:
        p.where = _RUNQ
        self._runq.append(p)
        self._dispatch()

    def _dispatch(self) -> None:
        runq = self._runq
        while self._free and runq:
            p = runq.popleft()
            self._free -= 1
            p.where = _CPU
            p.slice = self.now
            self._at(self.now + p.delay, p.cont, p)  # type: ignore[arg-type]

    def _free_cpu(self, p: _Proc) -> None:
        self._free += 1
        self._dispatch()

    def _hold(self, p: _Proc, cont: Callable[[_Proc], Event | None]) -> None:
        """A paused worker stops here; it goes on with ``cont`` when resumed."""
        p.cont, p.delay, p.where = cont, 0.0, _HELD
        self._free_cpu(p)
        return None

    # -- a worker's steps -------------------------------------------------------------------------
    def _start(self, p: _Proc) -> Event:
        p.item = next(p.gen)
        p.cont, p.delay = self._cont, 0.0
        self._make_runnable(p)
        return KernelEvent(WORKER_STARTED, self.now, p.id, None, f"W{p.id} starts (fork) and enters udp_rcv_loop",
                           {"socket": p.sock.index})

    def _cont(self, p: _Proc) -> None:
        self._process(p)

    def _process(self, p: _Proc) -> None:
        """Schedule what the worker yielded last (it is on a CPU)."""
        now = self.now
        if self._runq and now - p.slice >= self.timeslice:  # time slice used up and others wait
            p.cont, p.delay, p.where = self._cont, 0.0, _RUNQ
            self._runq.append(p)
            self._free += 1
            self._dispatch()
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

    def _advance(self, p: _Proc, value: Any) -> None:
        try:
            p.item = p.gen.send(value)
        except Exception as exc:  # a broken routing script must not break the simulator
            p.item = exc
            p.where = _DEAD
            self._imm.appendleft((self._exited, p))
            return
        self._process(p)

    def _exited(self, p: _Proc) -> Event:
        self._free_cpu(p)
        return KernelEvent(WORKER_EXITED, self.now, p.id, None, f"W{p.id} died: {p.item!r}",
                           {"error": repr(p.item)})

    def _step_done(self, p: _Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._step_done)
        ev = p.item
        try:
            item = p.item = p.gen.send(None)
        except Exception as exc:
            p.item = exc
            p.where = _DEAD
            self._imm.appendleft((self._exited, p))
            return ev
        if type(item) is StepEvent and not self._runq and not self._jitter:  # the common case, inline
            self._seq += 1
            heapq.heappush(self._heap, (self.now + self._costs.get(item.step, DEFAULT_STEP_COST) * p.speed,
                                        self._seq, self._step_done, p))
        else:
            self._process(p)
        return ev

    def _sent(self, p: _Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._sent)
        send: Send = p.item
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
                          "peer": peer.name if peer is not None else None})
        self._advance(p, None)
        return ev

    def _recv(self, p: _Proc) -> Event | None:
        if p.pause:
            return self._hold(p, self._recv)
        skb = p.sock.dequeue()
        if skb is None:
            return self._sleep(p)
        return self._got(p, skb, WORKER_TAKES)

    # -- pause windows (SIGSTOP / SIGCONT) ------------------------------------------------------------
    def _pause_targets(self, pause: Pause) -> list[_Proc]:
        ids = range(len(self.procs)) if pause.workers is None else pause.workers
        return [self.procs[i] for i in ids]

    def _pause(self, pause: Pause) -> Event:
        targets = self._pause_targets(pause)
        for p in targets:
            p.pause += 1
            if p.pause > 1:
                continue
            if p.where == _SLEEP:  # leaves recvfrom (-ERESTARTSYS); re-enters it on SIGCONT
                p.sock.remove_waiter(p.id)
                p.cont, p.delay, p.where = self._recv, 0.0, _HELD
            elif p.where == _RUNQ:
                self._runq.remove(p)
                p.where = _HELD
        ids = [p.id for p in targets]
        return KernelEvent(WORKERS_PAUSED, self.now, None, None,
                           f"SIGSTOP to {', '.join(f'W{i}' for i in ids)} until t={pause.end:g}s",
                           {"workers": ids, "until": pause.end})

    def _resume(self, pause: Pause) -> Event:
        targets = self._pause_targets(pause)
        for p in targets:
            p.pause -= 1
            if p.pause == 0 and p.where == _HELD:
                self._make_runnable(p)
        return KernelEvent(WORKERS_RESUMED, self.now, None, None,
                           f"SIGCONT to {', '.join(f'W{p.id}' for p in targets)}", {"workers": [p.id for p in targets]})

    # -- results --------------------------------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        """Nothing is left to happen (False when ``until`` cut the run short)."""
        return not self._heap and not self._imm and not self._inject

    def core_stats(self) -> dict[str, int]:
        total = CoreStats()
        for p in self.procs:
            total.update(p.ctx.stats)
        return total.snapshot()


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


def run_scenario(scenario: Scenario, *, trace: Callable[[Event, float], None] | None = None,
                 router: Any = None, wire: list[WireRecord] | None = None) -> RunResult:
    """Run a scenario to its end, feeding the metrics (and ``trace``, if given) every event.
    With ``wire`` (a list), every datagram in and out is appended to it (for a pcap)."""
    runner = Runner(scenario, router=router, record_wire=wire is not None)
    metrics = Metrics()
    observe = metrics.observe
    if trace is None:
        runner.run(observe)
    else:
        def both(ev: Event, t: float) -> None:
            observe(ev, t)
            trace(ev, t)

        runner.run(both)
    if wire is not None:
        wire.extend(runner.wire or ())
    return RunResult(scenario, metrics, runner.count, runner.rcvbuf, [p.summary() for p in runner.peers],
                     runner.core_stats(), finished=runner.exhausted)
