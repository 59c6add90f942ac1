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
  ``msg->id`` + ``msg->pid`` pair is.
* ``Send`` — the destination policy (:mod:`sipsim.real.policy`) first, then a real ``sendto`` from
  the shared socket (Kamailio sends from the socket it received on, too). A refusal or failure is
  answered with the engine's error strings, which the pipeline turns into 477/478.
* ``StepEvent`` — kept for the log line, sent to the observer if there is one; with
  ``--step-control`` the worker waits for the observer's go-ahead before going on.

After each message the worker logs one line (info level), stores its counters in its row of
the shared statistics, and goes back to ``recvfrom``. SIGTERM/SIGINT: a worker asleep in
``recvfrom`` leaves at once; a busy one finishes its message first. A bug in the engine is
logged and the generator restarted: a worker never dies of its input.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

from sipsim.engine.config import ServerConfig
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
from sipsim.engine.script_cb import default_callbacks
from sipsim.engine.stats import CoreStats
from sipsim.engine.udp_server import udp_rcv_loop
from sipsim.real.log import INFO, Log, printable
from sipsim.real.netinfo import is_link_local
from sipsim.real.observe import ObserverLink, ObserverStop
from sipsim.real.policy import DestPolicy, error_code
from sipsim.real.stats import SharedStats

ID_BASE = 10**9
# recvfrom errors after which Kamailio's udp_rcv_loop just goes on (udp_server.c)
_RETRY_ERRNOS = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR, errno.ECONNREFUSED, errno.ENOBUFS, errno.ENOMEM)


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
        stats.update({k: v for k, v in setup.stats.read(setup.slot).items() if v})  # go on from the slot's totals
        self.ctx = WorkerContext(config=setup.config, worker=self.pid, router=setup.router,
                                 callbacks=default_callbacks(), location=setup.location, stats=stats)
        # Without an observer nobody reads the narration of each step: only the steps that decide a
        # message's fate are made (the log line needs them).
        self.ctx.tracing = bool(setup.observe)
        self.listen = setup.config.listen
        self.where = f"udp:{format_addr(self.listen)}"
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
                                    step_timeout=setup.step_timeout, hello=hello)
        self.counter = 0
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
        if ip is None:
            stats["send_refused"] += 1
            self.log.warning(f"not sending {item.kind} of #{item.msg} to {format_addr(item.to)}: {why}")
            return error_code(why)
        try:
            if is_link_local(ip):
                self.s.sock.sendto(item.data, (ip, item.to[1], 0, self.scope or self.scopes.get(ip, 0)))
            else:
                self.s.sock.sendto(item.data, (ip, item.to[1]))
        except (OSError, OverflowError, ValueError, TypeError) as exc:
            stats["send_failed"] += 1
            self.log.warning(f"sendto {format_addr(item.to)} failed for #{item.msg}: {exc}")
            return "send-failed"
        if self.capture is not None:
            self.capture.write(time.time(), self.listen, (ip, item.to[1]), item.data)
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
        status = 0
        while True:
            kind = type(item)
            if kind is Recv:
                if dgram is not None:
                    if log_info:
                        self._log_message(dgram, final)
                    if obs is not None:
                        stats["observer_lost"] = obs.lost
                    shared.write(slot, stats)
                    if self.capture is not None:
                        self.capture.flush()
                    dgram = final = None
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
                    data, src = sock.recvfrom(65535)
                except ObserverStop:
                    break
                except OSError as exc:
                    interruptible[0] = False
                    if exc.errno in _RETRY_ERRNOS:
                        log.warning(f"recvfrom: {exc.strerror}; going on")
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
                if obs is not None:
                    obs.poll_commands()  # "stop at the next step" may have come while we slept
                if self.capture is not None:
                    self.capture.write(now, (host, src[1]), listen, data)
                    if obs is not None and obs.stepping:
                        self.capture.flush()  # a held message's bytes must be readable at once
                self.counter += 1
                dgram = Datagram(data, (host, src[1]), listen, base + self.counter, now)
                stats["rcv_datagrams"] += 1
                if obs is not None and obs.active:
                    first = printable(data.split(b"\r\n", 1)[0])
                    obs.kernel(KernelEvent(WORKER_WOKEN, now, pid, dgram.id,
                                           f"recvfrom returned {len(data)} bytes from {format_addr(dgram.src)}",
                                           {"src": format_addr(dgram.src), "len": len(data), "first_line": first}))
                reply: Any = dgram
            elif kind is StepEvent:
                if item.outcome is not None:
                    final = item
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
                log.error(f"internal error on #{dgram.id if dgram else '?'}: {type(exc).__name__}: {exc}; "
                          "message dropped, udp_rcv_loop restarted")
                stats["internal_errors"] += 1
                gen = udp_rcv_loop(self.ctx)
                item = next(gen)
        if obs is not None:
            obs.kernel(KernelEvent(WORKER_EXITED, time.time(), pid, None, f"worker {pid} leaves udp_rcv_loop",
                                   {"slot": slot}))
            obs.close()
        shared.write(slot, stats)
        if self.capture is not None:
            self.capture.close()
        return status

    def _log_message(self, dgram: Datagram, final: StepEvent | None) -> None:
        data = dgram.data
        end = data.find(b"\r\n")
        first = printable(data[:end] if end >= 0 else data, 80).strip() if data else "(empty datagram)"
        first = first or "(blank first line)"
        if final is None:
            outcome = "dropped: no outcome"
        elif final.outcome == "replied":
            outcome = f"replied {final.status} {final.reason or ''}".rstrip()
            cause = final.detail.get("cause") if final.detail else None
            if cause:  # sl_reply_error: say what failed first (forward() refused, no socket ...)
                outcome += f" ({cause})"
        else:
            outcome = f"{final.outcome}: {final.reason}" if final.reason else str(final.outcome)
            if final.outcome == "forwarded" and final.reason and final.reason.startswith("forwarded"):
                outcome = final.reason
        self.log.info(f"#{dgram.id} {first} from {format_addr(dgram.src)}: {outcome}")


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
