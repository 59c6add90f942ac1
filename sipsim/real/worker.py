"""A live worker: the engine's ``udp_rcv_loop`` driven by real system calls.

This is the third driver of the same generator (the in-memory driver and the simulated kernel are
the other two). After ``fork()`` the child runs :func:`run_worker`, which answers what the worker
yields:

* ``Recv`` — a real, blocking ``recvfrom(sock, 65535)`` on the socket shared by every worker. The
  socket has no timeout, so CPython calls ``recvfrom`` directly and the process sleeps in the
  kernel's exclusive wait-queue of the socket: the kernel wakes the sleepers one at a time, first
  come first served (see the reference note on Linux wake order). A timeout would make CPython
  ``poll()`` first, and ``poll`` sleepers are all woken together — a different lesson.
  The answer is ``Datagram(data, src, listen, id, time.time())`` with ``id = pid * 10**9 + n``
  (``n`` counts this worker's datagrams from 1), unique within the server as Kamailio's
  ``msg->id`` + ``msg->pid`` pair is. On a wildcard socket (0.0.0.0, ::) it is ``recvmsg`` with
  IP_PKTINFO instead, and the datagram's ``dst`` is the local address it really reached
  (:mod:`sipsim.real.pktinfo`).
* ``Send`` — the destination policy (:mod:`sipsim.real.policy`) first, then a real ``sendto`` from
  the shared socket (Kamailio sends from the socket it received on, too; a wildcard socket answers
  a peer from the address that peer used, with ``sendmsg``). A refusal or failure is answered with
  the engine's error strings, which the pipeline turns into 477/478.
* ``StepEvent`` — kept for the log line, sent to the observer if there is one; with
  ``--step-control`` the worker waits for the observer's go-ahead before going on. With
  ``--log-level debug`` each step is also one DEBUG line (``#id step: text``); the worker then
  makes every step, as for an observer (about twice the engine's work per message), where info
  makes only the deciding ones. The level is read once, before the loop. An ``xlog`` step (the
  script's own ``xlog``/``xinfo``/``KSR.info`` ...) is logged at the level it names, whatever the
  tracing (L_ERR → error, L_WARN → warning, L_NOTICE → notice, L_INFO → info, L_DBG → debug), as
  Kamailio prints it: ``#id xlog: text``.

After each message the worker logs one line (info level; debug for a phone's CRLF keep-alive),
stores its counters in its row of the shared statistics, and goes back to ``recvfrom`` (watched
by an observer, it stores the row at ``recvfrom`` too, so ``rcv_datagrams`` counts a held message
as the TUI does). SIGTERM/SIGINT: a worker asleep in ``recvfrom`` leaves at once; a busy one
finishes its message first. A bug in the engine is logged and the generator restarted: a worker never dies of its input.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

from sipsim.engine.config import MIN_UDP_PACKET, ServerConfig
from sipsim.engine.context import Router, WorkerContext
from sipsim.engine.events import (
    DATAGRAM_SENT,
    WORKER_EXITED,
    WORKER_SLEEPS,
    WORKER_STARTED,
    WORKER_WOKEN,
    Datagram,
    KernelEvent,
    Recv,
    Send,
    StepEvent,
    format_addr,
)
from sipsim.engine.location import LocationStore
from sipsim.engine.script_cb import callbacks_for
from sipsim.engine.sl_timeout import SlTimeout
from sipsim.engine.stats import CoreStats
from sipsim.engine.udp_server import udp_rcv_loop
from sipsim.real import pktinfo
from sipsim.real.guard import Throttle, too_many_vias
from sipsim.real.log import DEBUG, ERROR, INFO, NOTICE, WARNING, Log, printable, printable_text
from sipsim.real.netinfo import is_link_local
from sipsim.real.observe import ObserverLink, ObserverStop
from sipsim.real.policy import DestPolicy, error_code
from sipsim.real.stats import SharedStats

ID_BASE = 10**9
# recvfrom errors after which Kamailio's udp_rcv_loop just goes on (udp_server.c)
_RETRY_ERRNOS = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR, errno.ECONNREFUSED, errno.ENOBUFS, errno.ENOMEM)

KEEPALIVE_BYTES = b"\r\n \t\x00"  # what a UDP keep-alive is made of (see is_keepalive)


@dataclass
class WorkerSetup:
    """Everything a child needs, prepared by the attendant before ``fork()``."""

    sock: socket.socket
    config: ServerConfig
    router: Router | None
    location: LocationStore
    policy: DestPolicy
    stats: SharedStats
    slot: int
    sl_timeout: SlTimeout  # sl's reply time, shared by the workers (sipsim.real.shared_clock)
    log_level: int = INFO
    observe: str | None = None
    step_control: bool = False
    step_timeout: float = 120.0
    server_pid: int = 0
    ready_fd: int = -1  # the child writes one byte here just before its first recvfrom
    pcap: str | None = None  # --pcap FILE: this worker writes FILE.<pid>.part
    close_fds: tuple[int, ...] = ()  # the attendant's own descriptors, closed in the child


def set_process_name(name: str) -> None:
    """What ``ps -o comm``/``top`` show (15 characters), like Kamailio's process descriptions."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


class LiveWorker:
    """One worker process's driver state."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.s = setup
        self.pid = os.getpid()
        self.log = Log(setup.log_level)
        self.stopping = [False]
        self.interruptible = [False]
        stats = CoreStats()
        # go on from the slot's totals; every name present, zeros too, so the write after each
        # message never falls into Counter.__missing__ (a Python call per absent name)
        stats.update(setup.stats.read(setup.slot))
        self.ctx = WorkerContext(config=setup.config, worker=self.pid, router=setup.router,
                                 callbacks=callbacks_for(setup.router), location=setup.location, stats=stats,
                                 sl_timeout=setup.sl_timeout)
        # Without an observer (or --log-level debug) nobody reads the narration of each step: only
        # the steps that decide a message's fate are made (the log line needs them).
        self.ctx.tracing = bool(setup.observe) or self.log.enabled(DEBUG)
        self.listen = setup.config.listen
        self.where = f"udp:{format_addr(self.listen)}"
        # a wildcard socket (0.0.0.0, ::): each datagram says which local address it reached
        # (sipsim.real.pktinfo); a socket on one address keeps plain recvfrom/sendto
        self.wildcard = setup.config.listen[0] in ("0.0.0.0", "::")
        self.local: tuple[str, str, int] | None = None  # (dst, answer-from, ifindex) of the current datagram
        self.peer = ""  # the current datagram's source address
        self.route_source = pktinfo.RouteSource(setup.sock.family, self.listen[0]) if self.wildcard else None
        # A link-local peer (fe80::/10) is reached through one interface: the scope the socket is
        # bound with, else the one its datagram came in on (a wildcard socket; per worker)
        name = setup.sock.getsockname()
        self.scope: int = name[3] if len(name) == 4 else 0
        self.scopes: dict[str, int] = {}
        self.obs: ObserverLink | None = None
        if setup.observe:
            hello: dict[str, Any] = {"role": "worker", "slot": setup.slot, "server": setup.server_pid,
                                     "listen": format_addr(self.listen), "profile": setup.config.profile.value}
            self.obs = ObserverLink(setup.observe, self.pid, step_control=setup.step_control,
                                    step_timeout=setup.step_timeout, hello=hello, warn=self.log.warning)
        self.counter = 0
        # per-datagram warnings (a refused or failed send) are throttled: see sipsim.real.guard
        # one throttle per kind, so a count of lines held back is a count of lines of that kind
        self.refusals = Throttle()
        self.send_failures = Throttle()
        self.recv_errors = Throttle()
        self.bugs = Throttle()
        self.capture = None
        if setup.pcap:
            from sipsim.real.capture import WorkerCapture

            self.capture = WorkerCapture(setup.pcap, self.pid)

    # -- signals ---------------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping[0] = True
        if self.interruptible[0]:
            raise ObserverStop()

    def install_signals(self) -> None:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)

    # -- sending -----------------------------------------------------------------------------
    def send(self, item: Send) -> str | None:
        ip, why = self.s.policy.check(item.to[0])
        stats = self.ctx.stats
        if ip is not None and item.kind == "fwd_reply":
            vias = too_many_vias(item.data)
            if vias:  # a reply that loops through us (or a peer) once per Via: sipsim.real.guard
                ip, why = None, (f"not-allowed: the reply carries {vias} Via values, more than a request "
                                 "can collect under Max-Forwards (a Via loop)")
        if ip is None:
            stats["send_refused"] += 1
            if self.refusals.allow(time.time()):
                self.log.warning(f"not sending {item.kind} of #{item.msg} to {format_addr(item.to)}: {why}"
                                 + self.refusals.note())
            return error_code(why)
        src = self.listen
        # stamped before the send: the peer may answer, and another worker capture its answer,
        # before this worker runs again — a stamp taken after would put the answer first
        sent_at = time.time() if self.capture is not None else 0.0
        try:
            scope = (self.scope or self.scopes.get(ip, 0)) if is_link_local(ip) else 0
            to = (ip, item.to[1], 0, scope) if scope else (ip, item.to[1])
            if not self.wildcard:
                self.s.sock.sendto(item.data, to)
            elif self.local is not None and ip == self.peer:
                # back to the host that sent the message: from the address it sent it to
                local, index = self.local[1], self.local[2]
                self.s.sock.sendmsg([item.data], pktinfo.source(self.s.sock.family, local, index), 0, to)
                src = (local, self.listen[1])
            else:  # another host: the kernel picks the source; the capture records its pick
                self.s.sock.sendto(item.data, to)
                assert self.route_source is not None
                src = (self.route_source(ip, scope), self.listen[1])
        except (OSError, OverflowError, ValueError, TypeError) as exc:
            stats["send_failed"] += 1
            if self.send_failures.allow(time.time()):
                self.log.warning(f"sendto {format_addr(item.to)} failed for #{item.msg}: {exc}"
                                 + self.send_failures.note())
            return "send-failed"
        if self.capture is not None:
            self.capture.sent(sent_at, src, (ip, item.to[1]), item.data)
        obs = self.obs
        if obs is not None and obs.active:
            first = printable(item.data.split(b"\r\n", 1)[0])
            obs.kernel(KernelEvent(DATAGRAM_SENT, time.time(), self.pid, item.msg,
                                   f"sendto {format_addr(item.to)}: {first}",
                                   {"to": format_addr(item.to), "kind": item.kind, "first_line": first,
                                    "len": len(item.data)}))
        return None

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> int:
        s = self.s
        obs = self.obs
        sock = s.sock
        pid = self.pid
        stats = self.ctx.stats
        shared = s.stats
        slot = s.slot
        log = self.log
        log_info = log.enabled(INFO)
        log_debug = log.enabled(DEBUG)  # read once: the hot path tests a local, never the level
        log_level = log.level
        wildcard = self.wildcard
        ancillary = pktinfo.ANCILLARY_SIZE
        base = pid * ID_BASE
        listen = self.listen
        stopping = self.stopping
        interruptible = self.interruptible
        send = self.send

        if obs is not None:
            obs.kernel(KernelEvent(WORKER_STARTED, time.time(), pid, None,
                                   f"worker {pid} (slot {slot}) starts udp_rcv_loop on {self.where}",
                                   {"slot": slot}))
        gen = udp_rcv_loop(self.ctx)
        item: Any = next(gen)
        if s.ready_fd >= 0:
            try:
                os.write(s.ready_fd, b".")
                os.close(s.ready_fd)
            except OSError:
                pass
        dgram: Datagram | None = None
        final: StepEvent | None = None
        failed: StepEvent | None = None  # a route:error after the message was already answered
        status = 0
        while True:
            kind = type(item)
            if kind is Recv:
                if dgram is not None:
                    if log_info:
                        self._log_message(dgram, final, failed)
                    if obs is not None:
                        stats["observer_lost"] = obs.lost
                    shared.write(slot, stats)
                    if self.capture is not None:
                        self.capture.flush()
                    dgram = final = failed = None
                if stopping[0]:
                    break
                if obs is not None:
                    obs.poll_commands()
                    if obs.active:
                        obs.kernel(KernelEvent(WORKER_SLEEPS, time.time(), pid, None,
                                               f"enters recvfrom on {self.where}"))
                    obs.flush()
                interruptible[0] = True
                try:
                    if stopping[0]:
                        break
                    if wildcard:
                        data, anc, _flags, src = sock.recvmsg(65535, ancillary)
                        self.local = pktinfo.destination(anc)
                    else:
                        data, src = sock.recvfrom(65535)
                except ObserverStop:
                    break
                except OSError as exc:
                    interruptible[0] = False
                    if exc.errno in _RETRY_ERRNOS:
                        if self.recv_errors.allow(time.time()):
                            log.warning(f"recvfrom: {exc.strerror}; going on" + self.recv_errors.note())
                        continue
                    log.error(f"recvfrom on {self.where} failed: {exc}; worker exits")
                    status = 1
                    break
                finally:
                    interruptible[0] = False
                now = time.time()
                host = src[0]
                if "%" in host:  # a link-local peer: the engine sees the address, not the scope
                    host = host.partition("%")[0]
                    if len(self.scopes) >= 4096:
                        self.scopes.clear()
                    self.scopes[host] = src[3]
                dst = listen
                if wildcard:
                    self.peer = host
                    if self.local is not None:
                        dst = (self.local[0], listen[1])
                if obs is not None:
                    obs.poll_commands()  # "stop at the next step" may have come while we slept
                if self.capture is not None:
                    self.capture.received(now, (host, src[1]), dst, data)
                    if obs is not None and obs.stepping:
                        self.capture.flush()  # a held message's bytes must be readable at once
                self.counter += 1
                dgram = Datagram(data, (host, src[1]), dst, base + self.counter, now)
                stats["rcv_datagrams"] += 1
                if obs is not None and obs.active:
                    # watched (the TUI): the row counts the datagram at recvfrom, as the TUI does —
                    # a worker held in live-step has "received" it long before it is done with it.
                    # Unwatched, the row is written when the message is done (one write per message).
                    shared.write(slot, stats)
                    first = printable(data.split(b"\r\n", 1)[0])
                    obs.kernel(KernelEvent(WORKER_WOKEN, now, pid, dgram.id,
                                           f"recvfrom returned {len(data)} bytes from {format_addr(dgram.src)}",
                                           {"src": format_addr(dgram.src), "len": len(data), "first_line": first}))
                reply: Any = dgram
            elif kind is StepEvent:
                if item.outcome is not None:
                    final = item
                elif final is not None and item.step == "route:error":
                    failed = item
                if item.step == "xlog":  # the script's own log line, at the level it names
                    level, text = xlog_level(item.text)
                    if level >= log_level:
                        log(level, f"#{item.msg} xlog: {printable_text(text)}")
                elif log_debug:
                    log.debug(f"#{item.msg} {item.step}: {printable_text(item.text)}")
                if obs is not None:
                    obs.step(item)
                    if obs.stepping:
                        interruptible[0] = True
                        try:
                            obs.wait_go(item, stopping)
                        except ObserverStop:
                            stopping[0] = True
                        finally:
                            interruptible[0] = False
                reply = None
            elif kind is Send:
                reply = send(item)
            else:
                reply = None
            try:
                item = gen.send(reply)
            except Exception as exc:  # an engine bug: log it, keep the worker alive
                if self.bugs.allow(time.time()):  # a datagram that finds one may come again and again
                    log.error(f"internal error on #{dgram.id if dgram else '?'}: {type(exc).__name__}: {exc}; "
                              "message dropped, udp_rcv_loop restarted" + self.bugs.note())
                stats["internal_errors"] += 1
                gen = udp_rcv_loop(self.ctx)
                item = next(gen)
        if obs is not None:
            obs.kernel(KernelEvent(WORKER_EXITED, time.time(), pid, None, f"worker {pid} leaves udp_rcv_loop",
                                   {"slot": slot}))
            obs.close()
        shared.write(slot, stats)
        for what, throttle in (("refused sends", self.refusals), ("failed sends", self.send_failures),
                               ("recvfrom errors", self.recv_errors), ("internal errors", self.bugs)):
            held = throttle.held()
            if held:  # the end of a flood: what the last second held back is said once, here
                log.warning(f"{held} more warning line(s) about {what} were not logged (at most "
                            f"{throttle.burst} a second)")
        if self.capture is not None:
            self.capture.close()
        return status

    def _log_message(self, dgram: Datagram, final: StepEvent | None, failed: StepEvent | None = None) -> None:
        """The one line per message: what came in, from whom, and what became of it — with the
        reason when the server refused it (which header did not parse, what the script raised)."""
        data = dgram.data
        # a phone's keep-alive (CRLF, or a few NULs) every 15-30 s is no message: Kamailio drops it
        # as a "probing packet" at debug level, and so does this line; info keeps one line per message
        level = DEBUG if is_keepalive(data) else INFO
        if not self.log.enabled(level):
            return
        end = data.find(b"\n")  # (a bare LF ends a line too: the parser takes it, so must the log)
        first = printable(data[:end].rstrip(b"\r") if end >= 0 else data, 80).strip() if data else "(empty datagram)"
        first = first or "(blank first line)"
        cause = final.detail.get("cause") if final is not None and final.detail else None
        if final is None:
            outcome = "dropped: no outcome"
        elif final.outcome == "replied":
            outcome = f"replied {final.status} {final.reason or ''}".rstrip()
        else:
            outcome = f"{final.outcome}: {final.reason}" if final.reason else str(final.outcome)
            if final.outcome == "forwarded" and final.reason and final.reason.startswith("forwarded"):
                outcome = final.reason
        if cause:  # sl_reply_error: what failed first (forward() refused ...); a script's exception ...
            outcome += f" ({printable_text(cause, 200)})"
        if failed is not None:  # the script failed after the message had its answer
            why = failed.detail.get("cause") if failed.detail else None
            outcome += f"; then {printable_text(failed.reason or failed.text, 200)}" + \
                (f" ({printable_text(why, 200)})" if why else "")
        cid = call_id_of(data)  # to follow one call through the lines of several workers (grep)
        tail = f" [Call-ID {printable(cid, 60).strip()}]" if cid else ""
        self.log(level, f"#{dgram.id} {first} from {format_addr(dgram.src)}{tail}: {outcome}")


_CALL_ID = re.compile(rb"\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+)", re.IGNORECASE)


def call_id_of(data: bytes) -> bytes | None:
    """The first Call-ID header's value as written (long or compact name), searched in the header
    part only, or None. For the log line: read from the bytes, since the message is freed by then."""
    ends = [k for k in (data.find(b"\n\r\n"), data.find(b"\n\n")) if k >= 0]
    m = _CALL_ID.search(data, 0, min(ends) + 1 if ends else len(data))
    return m.group(1).strip() if m else None


def is_keepalive(data: bytes) -> bool:
    """A datagram shorter than ``MIN_UDP_PACKET`` that holds nothing but CR, LF, blanks and NULs:
    what phones send over UDP to keep a NAT binding open (empty datagrams included)."""
    return len(data) < MIN_UDP_PACKET and not data.strip(KEEPALIVE_BYTES)


# xlog's levels (Kamailio's L_* names) as the server's log levels: L_ALERT, L_BUG and L_CRIT are
# worse than an error, but the server has no level above ERROR
XLOG_LEVELS = {"L_ALERT": ERROR, "L_BUG": ERROR, "L_CRIT": ERROR, "L_ERR": ERROR, "L_WARN": WARNING,
               "L_NOTICE": NOTICE, "L_INFO": INFO, "L_DBG": DEBUG}


def xlog_level(text: str) -> tuple[int, str]:
    """The level and message of an ``xlog`` step, whose text reads ``[L_INFO] message`` (the
    routing engine's xlog module writes it so; the text is kept even when the worker does not
    trace, where the detail with the level is dropped). Kamailio prints an xlog line at the
    level it names, whatever else it logs; a level it does not know is printed as L_ERR, xlog's
    default."""
    if text.startswith("[L_"):
        name, sep, message = text[1:].partition("] ")
        if sep:
            return XLOG_LEVELS.get(name, ERROR), message
    return ERROR, text


def die_with_parent(server_pid: int) -> None:
    """Ask for SIGTERM if the attendant dies (prctl PR_SET_PDEATHSIG): no orphan keeps the port.

    Kamailio's children notice a dead main process through their Unix sockets; a pre-fork server in
    Python gets the same guarantee from the kernel. If the attendant is already gone, leave now.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if server_pid and os.getppid() != server_pid:
        os.kill(os.getpid(), signal.SIGTERM)


def run_worker(setup: WorkerSetup) -> int:
    """The child's whole life after fork(); the caller ``os._exit``\\ s with the result.

    The attendant forks with SIGTERM/SIGINT/SIGCHLD blocked; the child installs its own handlers
    and only then unblocks them, so a signal can never reach the attendant's handlers in here.
    """
    worker = LiveWorker(setup)
    worker.install_signals()
    die_with_parent(setup.server_pid)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD})
    for fd in setup.close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    set_process_name(f"sipsim-udp-{setup.slot}")
    profile_dir = os.environ.get("SIPSIM_PROFILE_DIR")
    try:
        if profile_dir:  # developers: one cProfile dump per worker, to find hot spots under real load
            import cProfile

            prof = cProfile.Profile(time.process_time)  # CPU, not time spent asleep or preempted
            try:
                return prof.runcall(worker.run)
            finally:
                prof.dump_stats(os.path.join(profile_dir, f"worker-{worker.pid}.prof"))
        return worker.run()
    except ObserverStop:
        return 0
    finally:
        close = getattr(setup.location, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - leaving anyway
                pass
