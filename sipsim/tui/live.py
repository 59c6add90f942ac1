"""Live mode: a real ``sipsim serve`` on a UDP port, its workers watched — and held — step by step.

:class:`LiveSource` starts ``sipsim serve --observe PATH --step-control --pcap PART`` as a child
process (stopped by its PID when the TUI leaves live mode), binds the observer socket first, and
folds what the real workers report with the very ``snapshot.Timeline``/``fold`` the simulator
uses: the panels then show real pids handling real datagrams from real peers.

Live-step (the start state; ``p`` toggles it): every worker waits for a go-ahead after each step
(``--step-control``), and ``n`` lets one held worker take one step. Workers are never held *in* ``recvfrom``: a worker
that finishes goes back to the kernel's wait-queue by itself, so while one worker is held the
others keep taking datagrams, and the kernel keeps queueing them — meanwhile SIP clients, hearing
nothing, retransmit (the event log says so). Running (``p`` again) releases every worker.

Switching live-step *on* again after running: a worker asleep in ``recvfrom`` reads the command
only when it next comes back to ``recvfrom`` (``sipsim serve`` polls its control socket there), so
it handles one more datagram without pausing; busy workers stop at their next step.

Too fast to watch: a worker that reports every step to an observer pays for it (each step is
encoded and sent), and a screen cannot show tens of thousands of steps a second anyway. When the
workers report more than ``DETACH_EVENTS`` events a second while running, the TUI *stops
watching*: it unbinds the observer socket, so the workers stop encoding events (they look for an
observer again once a second) and the server runs at full speed — no call fails because it is
watched. The screen then shows the server's own counters (read from its control socket, as
``sipsim stats`` does), and watching resumes by itself when the load falls below
``REATTACH_RATE`` datagrams a second (or at once when you turn live-step on).

What live mode cannot show: the kernel does not report its queue (only drops, read by the
attendant), so the socket panel has no queued datagrams; and the observer channel carries no
datagram bytes — they come from the server's capture, once a worker has finished a message
(:mod:`sipsim.tui.live_capture`).

CPU time: twice a second, with the server's counters, the TUI reads each worker's
``se.sum_exec_runtime`` from ``/proc/PID/schedstat`` (:attr:`LiveSource.cpu_ns`) — the CPU time the
scheduler has charged it, in nanoseconds, exact (not the ticks of ``utime``/``stime``). For a
nice-0 task the kernel's vruntime grows by exactly that much, so it is the real counterpart of the
simulated vruntime the workers panel shows in the simulator. (The absolute ``se.vruntime`` in
``/proc/PID/sched`` is measured against the worker's per-CPU run-queue: it compares nothing across
workers, so it is not shown.) It is side information about *now*, not an event: it does not go into
the fold, which stays a function of the events alone.

History is bounded: past ``MAX_EVENTS`` events the oldest half is forgotten (positions stay
absolute; ``base`` says where the kept history starts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sipsim.engine import snapshot as snapmod
from sipsim.engine.events import DATAGRAM_SENT, WORKER_STARTED, Addr, KernelEvent, format_addr
from sipsim.engine.snapshot import Event, Snapshot
from sipsim.real.capture import capture_addr
from sipsim.real.procinfo import schedstat_ns
from sipsim.tui.history import History
from sipsim.tui.live_capture import Captured, LiveCapture
from sipsim.tui.live_options import SERVE_DEFAULTS, ServerOptions
from sipsim.tui.sources import Source, Wire
from sipsim.tui.wiretext import line_text

MAX_EVENTS = 200_000
POLL_BUDGET = 600  # events folded in per poll; beyond, the observer socket fills and workers count losses
DETACH_EVENTS = 8_000  # events/s (folded + lost) beyond which the TUI stops watching (running only)
REATTACH_RATE = 50.0  # datagrams/s below which it watches again (after QUIET seconds)
QUIET = 2.0
STATS_EVERY = 0.5


class LiveError(Exception):
    """Live mode could not start (port taken, server died …): one line for people."""


class LiveSource(Source):
    kind = "LIVE"
    live = True

    def __init__(self, listen: Addr, *, workers: int = 4, profile: str = "ser", route: str | None = None,
                 python: str = sys.executable, stepping: bool = True,
                 options: ServerOptions = SERVE_DEFAULTS) -> None:
        # Two forms of one address. ``where``, as given (``[fe80::1%lo]:5060``): the server's
        # --listen, and what the top bar says. ``listen_addr``/``listen``, as peers and the capture
        # see it (``fe80::1``: canonical, no scope — an IP header has no interface): what the ladder,
        # the datagram panels and the capture compare with. inject() sends to ``where`` (the scope).
        self.where = format_addr(listen)
        self.listen_addr = capture_addr(listen)
        self.listen = format_addr(self.listen_addr)
        self._given = listen
        # serve sends to loopback only unless told otherwise (`sipsim tui --live ... --allow-dest
        # CIDR`): a teaching server never sprays the addresses it reads in messages by default
        self.options = options
        self.workers = workers
        self.profile = profile
        self.route = route
        self.python = python
        self.stepping = stepping  # workers start held between steps (--step-control's own start state)
        self.following = True
        self.base = 0
        self._pos = 0
        self.t0: float | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.obs: Any = None
        self.tmp = ""
        self.died = ""
        self.pids: list[int] = []
        self._started: set[int | None] = set()
        self._sent_k: dict[int, int] = {}  # pid -> datagram_sent events seen
        self._sent_index: dict[int, list[tuple[int, int, int]]] = {}  # msg -> [(pid, k, len)]
        self.timeline = snapmod.Timeline(snapmod.initial(policy="linux"))
        self.stats: dict[str, Any] = {}  # the server's `stats` answer (control socket), refreshed twice a second
        self.msg_rate: float | None = None  # datagrams/s received by the workers, from those stats
        self.received: int | None = None  # datagrams the workers' recvfrom returned, from those stats
        self.cpu_ns: dict[int, int] = {}  # pid -> CPU time so far (ns, /proc/PID/schedstat), read with the stats
        self._gone: set[int] = set()  # worker pids found gone: never read again (the pid may be reused)
        self.watching = True
        self.detached_why = ""
        self._stats_at = 0.0
        self._last_rcv: tuple[float, int] | None = None
        self._quiet_since: float | None = None
        self._win = (0.0, 0, 0)  # (start, events folded, observer losses at start)
        self._backlog = 0
        self.capture: LiveCapture | None = None
        self._may_refresh = False  # poll(): one more read of the capture allowed for this batch
        self.history = History(self.listen, datagram=self._data_in)
        # Display numbers: each worker numbers its own datagrams (id = pid × 10⁹ + n, as Kamailio's
        # msg->id is per process), so two workers' first datagrams are both "1". The screen numbers
        # them once more, in the order their recvfrom reached the TUI: #1, #2 … unique and short.
        self._number: dict[int, int] = {}  # msg id -> display number
        self._by_number: dict[int, int] = {}  # display number -> msg id
        self._numbered = 0

    # -- the server ------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> LiveSource:
        from sipsim.real.observe import Observer

        self.tmp = tempfile.mkdtemp(prefix="sipsim-tui-")
        try:
            self.obs = Observer(os.path.join(self.tmp, "obs.sock"))
            pcap = os.path.join(self.tmp, "live.pcap")
            self.capture = LiveCapture(pcap, self.listen_addr)
            cmd = [self.python, "-m", "sipsim", "serve", "--listen", self.where, "--workers", str(self.workers),
                   "--profile", self.profile, "--observe", self.obs.path, "--step-control", "--pcap", pcap,
                   "--control", os.path.join(self.tmp, "ctl.sock"), "--db", os.path.join(self.tmp, "loc.sqlite"),
                   "--log-level", "warning", "--exit-with-parent"]  # a TUI killed with -9 leaves no server
            if self.route:
                cmd += ["--route", self.route]
            cmd += self.options.args()
            self._log = open(os.path.join(self.tmp, "serve.log"), "wb")  # noqa: SIM115 - closed in close()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
            deadline = time.monotonic() + timeout
            while len(self.pids) < self.workers:
                if self.proc.poll() is not None:
                    raise LiveError(f"sipsim serve on {self.where} exited: {self.log_tail() or self.proc.returncode}")
                if time.monotonic() > deadline:
                    raise LiveError(f"sipsim serve on {self.where} did not start in {timeout:g} s")
                self.poll(wait=0.05)
        except BaseException:
            self.close()
            raise
        return self

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.tmp, "serve.log"), "rb") as f:
                lines = [x for x in f.read().decode("utf-8", "replace").splitlines() if x.strip()]
        except OSError:
            return ""
        return lines[-1].removeprefix("sipsim: ") if lines else ""

    def describe(self) -> str:
        pids = ", ".join(str(p) for p in self.pids[:6]) + (" …" if len(self.pids) > 6 else "")
        return f"live {self.where} · {self.profile} · {len(self.pids)} workers (pids {pids})"

    def close(self) -> None:
        """Release held workers, stop the server by its PID (then any worker left), clean up."""
        if self.obs is not None:
            with contextlib.suppress(OSError):
                self.obs.set_stepping(False)
        if self.proc is not None and self.proc.poll() is None:
            _stop_pid(self.proc)
        for pid in self.pids:  # never leave a worker behind, even if the attendant failed
            if _is_our_worker(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        if self.obs is not None:
            self.obs.close()
            self.obs = None
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = ""

    # -- the observer stream ---------------------------------------------------------------------
    def poll(self, wait: float = 0.0, budget: int = POLL_BUDGET) -> int:
        """Fold in what the workers reported since the last call. Returns the number of new events."""
        now = time.monotonic()
        if now - self._stats_at >= STATS_EVERY:
            self._read_stats(now)
            self._read_cpu()
        if self.proc is not None and not self.died and self.proc.poll() is not None:
            self.died = f"sipsim serve exited ({self.proc.returncode}): {self.log_tail()}"
        obs = self.obs
        if obs is None:
            self._maybe_reattach(now)
            return 0
        new = 0
        first = first_batch = True
        while new < budget:
            recs = obs.recv(timeout=wait if first else 0)
            first = False
            if not recs:
                break
            if first_batch and self.capture is not None:
                self.capture.refresh()  # workers flush their capture before their events
                first_batch = False
            else:  # a batch sent after that read: its bytes may be newer (one more read if so)
                self._may_refresh = self.capture is not None
            for rec in recs:
                new += self._handle(rec)
        self._may_refresh = False
        self.history.lost = obs.lost
        self._backlog = self._backlog + 1 if new >= budget else 0
        if self._backlog >= 1 and not self.stepping:  # a whole poll's budget and more waiting: too fast
            self._detach(new / 0.05)
        else:
            self._watch_rate(now, new, obs.lost)
        if new and self.following:
            self._pos = self.length
        if len(self.timeline) > MAX_EVENTS:
            self._forget(len(self.timeline) // 2)
        return new

    def _handle(self, rec: dict[str, Any]) -> int:
        from sipsim.real.observe import as_event

        kind = rec.get("type")
        if kind == "hello":
            pids = [int(w["pid"]) for w in rec.get("workers", [])] if rec.get("role") == "attendant" \
                else [int(rec["worker"])]
            fresh = [p for p in pids if p not in self.pids]
            self.pids.extend(fresh)
            if fresh:
                self.obs.set_stepping(self.stepping, fresh)
            return 0
        if kind == "ready":
            if not self.stepping and int(rec["worker"]) in self.obs.waiting:
                self.obs.set_stepping(False, [int(rec["worker"])])
            return 0
        ev = as_event(rec)
        if ev is None:
            return 0
        if type(ev) is KernelEvent and ev.kind == WORKER_STARTED:
            if ev.worker in self._started:
                return 0  # the attendant reports the fork too, often after the worker's own report
            self._started.add(ev.worker)
        t = float(rec.get("time", getattr(ev, "time", 0.0)) or 0.0)
        if self.t0 is None:
            self.t0 = t
        self.timeline.append(ev, t)
        pos = self.base + len(self.timeline)
        if ev.msg is not None and ev.msg not in self._number:
            self._numbered += 1
            self._number[ev.msg] = self._numbered
            self._by_number[self._numbered] = ev.msg
        if type(ev) is KernelEvent and ev.kind == DATAGRAM_SENT and ev.worker is not None and ev.msg is not None:
            k = self._sent_k.get(ev.worker, 0)
            self._sent_k[ev.worker] = k + 1
            self._sent_index.setdefault(ev.msg, []).append((ev.worker, k, int(ev.detail.get("len", 0))))
        self.history.feed(ev, pos)
        return 1

    # -- watching, or not -------------------------------------------------------------------------
    def _read_stats(self, now: float) -> None:
        from sipsim.real.control import query

        self._stats_at = now
        if not self.tmp:
            return
        try:
            self.stats = query(os.path.join(self.tmp, "ctl.sock"), "stats", timeout=0.3)
        except (OSError, ValueError):
            return
        rcv = sum(int(w.get("stats", {}).get("rcv_datagrams", 0)) for w in self.stats.get("workers", []))
        self.received = rcv
        if self._last_rcv is not None and now > self._last_rcv[0]:
            self.msg_rate = max(0.0, (rcv - self._last_rcv[1]) / (now - self._last_rcv[0]))
        self._last_rcv = (now, rcv)

    def _read_cpu(self) -> None:
        """Each known worker's CPU time now (a new dict each time, so a reader can tell a fresh read).
        Only the pids the stream introduced; a few small procfs reads, which never block. A worker
        that is gone reads as absent, and stays absent: its pid may later belong to someone else."""
        cpu: dict[int, int] = {}
        for pid in self.pids:
            if pid in self._gone:
                continue
            ns = schedstat_ns(pid)
            if ns is None:
                self._gone.add(pid)
            else:
                cpu[pid] = ns
        self.cpu_ns = cpu

    def _watch_rate(self, now: float, new: int, lost: int) -> None:
        start, events, lost0 = self._win
        if start == 0.0:
            self._win = (now, new, lost)
            return
        events += new
        if now - start < 0.5:
            self._win = (start, events, lost0)
            return
        rate = (events + max(0, lost - lost0)) / (now - start)
        self._win = (now, 0, lost)
        if rate > DETACH_EVENTS and not self.stepping:
            self._detach(rate)

    def _detach(self, rate: float) -> None:
        if self.obs is None:
            return
        msgs = f"about {self.msg_rate:,.0f} datagrams/s" if self.msg_rate else f"{rate:,.0f} events/s"
        self.detached_why = (f"{msgs}: more than a screen can show step by step — the server runs untraced; "
                             f"watching resumes below {REATTACH_RATE:g}/s (p: live-step now)")
        self.watching = False
        if self.obs is not None:
            self.obs.close()  # the workers find no observer: they stop encoding events
            self.obs = None
        self._quiet_since = None

    def _maybe_reattach(self, now: float) -> None:
        if self.msg_rate is None or self.msg_rate >= REATTACH_RATE:
            self._quiet_since = None
            return
        if self._quiet_since is None:
            self._quiet_since = now
        elif now - self._quiet_since >= QUIET:
            self.attach()

    def attach(self) -> None:
        """Watch again: bind the observer socket; the workers introduce themselves within a second."""
        from sipsim.real.observe import Observer

        if self.obs is not None or not self.tmp:
            return
        self.obs = Observer(os.path.join(self.tmp, "obs.sock"))
        self.obs.set_stepping(self.stepping, self.pids)
        self.watching, self.detached_why = True, ""
        self._win = (0.0, 0, 0)
        self._backlog = 0

    def _forget(self, n: int) -> None:
        before = len(self.timeline)
        self.timeline.drop_front(n)
        dropped = before - len(self.timeline)
        self.base += dropped
        self.history.trim(self.base)
        self._pos = max(self._pos, self.base)
        kept = self.history.msgs
        self._number = {mid: k for mid, k in self._number.items() if mid in kept}
        self._by_number = {k: mid for mid, k in self._number.items()}

    # -- names -----------------------------------------------------------------------------------
    def msg_label(self, msg: int) -> str:
        """How the screen names a live datagram: ``#7`` — the 7th datagram the TUI saw a worker
        receive — unique across workers, where the worker's own number (``#1@4242``: its 1st)
        repeats from worker to worker. A datagram the TUI never saw keeps the worker's form."""
        k = self._number.get(msg)
        return f"#{k}" if k is not None else f"#{msg % 10**9}@{msg // 10**9}"

    def msg_of_number(self, k: int) -> int | None:
        """The datagram the screen calls ``#k`` (None: no such number, or forgotten)."""
        return self._by_number.get(k)

    # -- step control ----------------------------------------------------------------------------
    @property
    def waiting(self) -> dict[int, dict[str, Any]]:
        return dict(self.obs.waiting) if self.obs is not None and self.stepping else {}

    def set_stepping(self, on: bool) -> None:
        """Live-step on: every worker waits before each step. Off: they all run freely."""
        self.stepping = on
        if on and self.obs is None:
            self.attach()
        if self.obs is not None:
            self.obs.set_stepping(on, self.pids)

    def go(self, pid: int | None = None) -> int | None:
        """Let one held worker take one step (``pid``, else the one waiting longest)."""
        waiting = self.waiting
        if not waiting:
            return None
        if pid is None or pid not in waiting:
            pid = min(waiting, key=lambda p: waiting[p].get("time", 0.0))
        self.obs.go(pid, waiting[pid].get("seq"))
        return pid

    # -- moving ----------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self._pos

    @property
    def length(self) -> int:
        return self.base + len(self.timeline)

    @property
    def at_end(self) -> bool:
        return self._pos >= self.length

    def goto(self, n: int) -> int:
        self._pos = max(self.base, min(n, self.length))
        self.following = self._pos >= self.length
        return self._pos

    def snapshot_at(self, n: int) -> Snapshot:
        return self.timeline.snapshot_at(max(0, n - self.base))

    def event_at(self, pos: int) -> Event | None:
        i = pos - self.base - 1
        return self.timeline.events[i] if 0 <= i < len(self.timeline.events) else None

    def time_at(self, pos: int) -> float:
        i = pos - self.base - 1
        times = self.timeline.times
        return times[i] - (self.t0 or 0.0) if 0 <= i < len(times) else 0.0

    def position_at_time(self, t: float) -> int:
        """The last position at or before ``t`` seconds after the first event."""
        from bisect import bisect_right

        return self.base + bisect_right(self.timeline.times, t + (self.t0 or 0.0))

    def find(self, match: Callable[[Event], bool], *, backwards: bool = False, limit: int = 1_000_000) -> int | None:
        events = self.timeline.events
        i = self._pos - self.base
        rng = range(i - 2, max(-1, i - 2 - limit), -1) if backwards else range(i, min(len(events), i + limit))
        for k in rng:
            if match(events[k]):
                return self.base + k + 1
        return None

    # -- bytes -----------------------------------------------------------------------------------
    def _data_in(self, msg: int) -> bytes | None:
        """For the history index. poll() reads the capture before the first batch of each call;
        a later batch in the same call may be about a datagram flushed after that read, so one
        more read per batch is allowed when a datagram is missing (without it the history kept
        "likely" or hash-based guesses where the bytes could decide, depending on timing)."""
        if self.capture is None:
            return None
        m = self.history.msgs.get(msg)
        rec = self.capture.received(msg, m.size if m else None, refresh=False)
        if rec is None and self._may_refresh:
            self._may_refresh = False
            self.capture.refresh()
            rec = self.capture.received(msg, m.size if m else None, refresh=False)
        return rec.data if rec is not None else None

    def datagram(self, msg: int) -> Wire | None:
        m = self.history.msgs.get(msg)
        rec = self.capture.received(msg, m.size if m else None) if self.capture is not None else None
        if rec is not None:
            return Wire(rec.time, rec.src, rec.dst, rec.data, "in", msg, m.worker if m else None, len(rec.data),
                        line_text(rec.data.split(b"\r\n", 1)[0]))
        if m is None:
            return None
        host, _, port = m.src.rpartition(":")
        return Wire(0.0, capture_addr((host, int(port or 0))), self.listen_addr, None, "in", msg, m.worker, m.size,
                    m.first_line)

    def sent(self, msg: int) -> list[Wire]:
        out = []
        m = self.history.msgs.get(msg)
        for (pid, k, length), pos in zip(self._sent_index.get(msg, []), m.sends if m else [], strict=False):
            ev = self.event_at(pos)
            d = ev.detail if ev is not None else {}
            recs = self.capture.sent_by(pid) if self.capture is not None else []
            if len(recs) <= k and self.capture is not None:
                self.capture.refresh()
                recs = self.capture.sent_by(pid)
            rec = recs[k] if k < len(recs) and len(recs[k].data) == length else None
            host, _, port = str(d.get("to", "")).rpartition(":")
            # the capture has the real source: on a wildcard listen, the address the peer used
            src = rec.src if rec is not None else self.listen_addr
            out.append(Wire(self.time_at(pos), src, capture_addr((host, int(port or 0))), rec.data if rec else None,
                            "out", msg, pid, length, str(d.get("first_line", ""))))
        return out

    def pcap_records(self, upto: int | None = None) -> list[Captured]:
        """The datagrams ``s`` saves, in the file's order: the whole capture so far (``upto`` is
        the simulator's; live, what the workers flushed is saved). The layers panel numbers a
        datagram's frame from it."""
        return self.capture.all_records() if self.capture is not None else []

    def save_pcap(self, path: str) -> int:
        from sipsim.packets import PcapWriter
        from sipsim.tui.sources import refuse_to_overwrite

        refuse_to_overwrite(path)
        if self.capture is None:
            return 0
        records = self.pcap_records()
        directions = bool(records) and all(r.direction is not None for r in records)  # as the parts have them
        with PcapWriter(path, directions=directions) as w:
            for r in records:
                w.write(r.time, r.src, r.dst, r.data, r.direction if directions else None)
        return len(records)

    # -- sending ---------------------------------------------------------------------------------
    def inject(self, data: bytes, src: Addr, note: str = "") -> str:
        """Send ``data`` for real to the server from ``src`` (a local address: 127.0.0.x works)."""
        fam = socket.AF_INET6 if ":" in src[0] else socket.AF_INET
        try:
            there, here = _sockaddr(self._given), _sockaddr(src)
            if len(here) == 4 and not here[3] and len(there) == 4:
                here = (*here[:3], there[3])  # a link-local source without its scope: the server's link
            with socket.socket(fam, socket.SOCK_DGRAM) as s:
                s.bind(here)
                s.sendto(data, there)
        except (OSError, ValueError) as exc:
            raise LiveError(f"cannot send from {format_addr(src)}: {exc.strerror or exc} "
                            "(live mode sends real datagrams: use a local address such as 127.0.0.2:5070)") from None
        return f"sent {len(data)} bytes from {format_addr(src)} to {self.where}"


def _sockaddr(addr: Addr) -> tuple[str, int] | tuple[str, int, int, int]:
    """The socket address of ``addr``: IPv6 as a 4-tuple whose scope id comes from a ``%scope``
    (``fe80::1%lo`` -> ``("fe80::1", port, 0, 1)``); Python's 2-tuple form does not give ``bind``
    the scope, and a link-local address without one is refused ("Invalid argument")."""
    host, port = addr
    host = host.strip("[]")
    if ":" not in host:
        return host, port
    bare, _, scope = host.partition("%")
    index = (int(scope) if (scope.isascii() and scope.isdigit()) else socket.if_nametoindex(scope)) if scope else 0
    return bare, port, 0, index


def _stop_pid(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL: the server we started, by its PID."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _is_our_worker(pid: int) -> bool:
    """A worker pid we learned from the stream, still alive and still a sipsim process."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return b"sipsim" in cmd
