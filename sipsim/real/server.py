"""``sipsim serve``: the main process — it opens the socket, forks the workers, then attends.

Kamailio's process model (``src/main.c`` ``main_loop``), in small:

1. The main process creates the UDP socket and binds it (``udp_init``: SO_RCVBUF set here), before
   any fork, so every child inherits the same descriptor — one socket, one receive queue, N
   processes blocked in ``recvfrom`` on it.
2. It forks ``--workers`` children; each runs ``udp_rcv_loop`` for ever (:mod:`sipsim.real.worker`).
   We fork them one at a time and wait until each is about to enter ``recvfrom`` before forking
   the next: the kernel's wait-queue order is then the fork order (Kamailio does not wait; its
   order is whatever the scheduler makes of it — the lesson is the same, our tests are steadier).
3. It becomes the *attendant* (``main process - attendant``): it handles no SIP; it waits for
   signals and serves the control socket (``sipsim stats``).

Child death: Kamailio reaps the child and shuts the whole server down (``handle_sigs`` on
SIGCHLD). ``--on-child-death shutdown`` does exactly that; the default, ``respawn``, forks a new
worker into the dead one's slot at once and logs it (more forgiving in a lab; a crash loop of
more than ``MAX_DEATHS`` deaths in ``DEATH_WINDOW`` seconds still stops the server).
SIGTERM/SIGINT: every worker finishes its current message and exits; a worker still there after
``KILL_AFTER`` seconds is killed; the attendant reaps every child, closes the location database
last (so SQLite folds its WAL back in: :meth:`SQLiteLocation.close_last`) and exits (Kamailio waits
up to ``ser_kill_timeout`` = 60 s; we keep it short so the server is gone within 2 s).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.context import Router
from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    WORKER_EXITED,
    WORKER_STARTED,
    Addr,
    KernelEvent,
    format_addr,
)
from sipsim.real.control import ControlServer, default_control_path
from sipsim.real.location import SQLiteLocation, default_db_path
from sipsim.real.log import ERROR, INFO, Log
from sipsim.real.netinfo import advertise_needed, listen_address, loopback_aliases, wildcard_aliases
from sipsim.real.observe import UNIX_PATH_MAX, ObserverLink, control_path
from sipsim.real.policy import DestPolicy, IPNetwork
from sipsim.real.shared_clock import SharedSlTimeout
from sipsim.real.stats import SharedStats
from sipsim.real.udp_init import MAX_RCVBUF, ServeError, open_socket, socket_meminfo  # noqa: F401 - the CLI reads MAX_RCVBUF here
from sipsim.real.worker import XLOG_LEVELS, WorkerSetup, run_worker, set_process_name

KILL_AFTER = 1.5  # seconds between SIGTERM and SIGKILL for a worker that does not leave
READY_WAIT = 2.0  # how long to wait for a new worker to reach recvfrom before forking the next
MAX_DEATHS, DEATH_WINDOW = 20, 10.0
PURGE_EVERY = 60.0  # usrloc timer: delete expired bindings
_FORK_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}


@dataclass
class ServeOptions:
    listen: Addr = ("127.0.0.1", 5060)
    workers: int = 4
    profile: Profile = Profile.SER
    route: str | None = None
    db: Path | None = None
    max_bindings: int = 100_000  # the location table's bound (sipsim.real.location, "a size limit")
    max_contacts: int = 10  # the registrar's max_contacts when the script sets none (= cli.serve.MAX_CONTACTS)
    rcvbuf: int | None = None
    relay: bool = False
    allow_dest: tuple[IPNetwork, ...] = ()
    dns: bool = False
    observe: str | None = None
    step_control: bool = False
    step_timeout: float = 120.0
    on_child_death: str = "respawn"
    control: str | None = None
    log_level: int = INFO
    advertise: str | None = None
    aliases: tuple[str, ...] = ()
    pcap: str | None = None
    pcap_force: bool = False  # --force: --pcap may replace a file that exists
    exit_with_parent: bool = False


@dataclass
class Slot:
    index: int
    pid: int = 0
    started: float = 0.0
    respawns: int = 0
    history: list[int] = field(default_factory=list)


def check_writable(path: str, option: str, *, force: bool = True) -> None:
    """A file the server will write later (each worker's capture part) must be writable now: a
    worker that cannot open it would die at once, again and again, with the reason lost. Without
    ``force`` a file that exists is refused too (a usage error, 2): ``serve --pcap`` writes, and
    the user may have meant to replay that capture (sipsim.packets.pcapwriter.existing_capture_error)."""
    if not force:
        from sipsim.packets.pcapwriter import existing_capture_error

        exists = existing_capture_error(path, f"serve {option}")
        if exists:
            raise ServeError(exists, 2)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ServeError(f"{option} {path}: is a folder; give a file name")
    if not os.path.isdir(folder):
        raise ServeError(f"{option} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ServeError(f"{option} {path}: cannot write in {folder} (permission denied)")


def load_router(path: str | None, config: ServerConfig) -> Router | None:
    if not path:
        return None
    if os.path.isdir(path):
        raise ServeError(f"--route {path}: is a folder; give a .cfg or KEMI .py script")
    if not os.path.isfile(path):
        raise ServeError(f"--route {path}: no such file")
    try:
        from sipsim.routing import load_route  # the routing engine: written in parallel (issue 5)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("sipsim.routing"):
            raise ServeError("--route needs the routing engine (sipsim.routing), which this build does not have") \
                from None
        raise
    try:
        return load_route(path, config)
    except Exception as exc:  # any failure to load a script is a startup error, in one line
        raise ServeError(f"cannot load route {path}: {exc}") from None


class Server:
    """The attendant. ``Server(opts).run()`` returns the process exit status."""

    def __init__(self, opts: ServeOptions) -> None:
        self.opts = opts
        self.log = Log(opts.log_level)
        self.slots = [Slot(i) for i in range(opts.workers)]
        self.stopping = False
        self.exit_status = 0
        self.deaths: list[float] = []
        self.started = time.time()
        self.sock: socket.socket | None = None
        self.control: ControlServer | None = None
        self.obs: ObserverLink | None = None
        self._last_drops = 0
        self._next_purge = 0.0
        self._wake_r = self._wake_w = -1
        self.announced = False
        self.auto_aliases: tuple[str, ...] = ()  # names added as Kamailio's auto_aliases would (localhost)
        # --exit-with-parent: the process that started us, read first thing (see _parent_gone)
        self.parent = os.getppid() if opts.exit_with_parent else 0

    # -- start-up ------------------------------------------------------------------------------
    def setup(self) -> None:
        o = self.opts
        if o.pcap:  # first: a refused --pcap leaves no socket bound and no database made
            check_writable(o.pcap, "--pcap", force=o.pcap_force)
        if o.workers < 1 or o.workers > 256:
            raise ServeError(f"--workers {o.workers}: give 1 to 256")
        if o.observe and len(control_path(o.observe, 4194304).encode()) > UNIX_PATH_MAX:
            raise ServeError(f"--observe {o.observe}: path too long for a Unix socket")
        self.config = ServerConfig(profile=o.profile, listen=o.listen, relay=o.relay, advertise=o.advertise,
                                   aliases=o.aliases, max_contacts=o.max_contacts)
        self.router = load_router(o.route, self.config)
        if self.router is not None:
            # the script's globals (advertised_address, alias, check_via, server_signature) describe
            # this server, as `sipsim trace --route` and the simulator apply them
            self.config = getattr(self.router, "config", self.config)
        for warning in getattr(getattr(self.router, "script", None), "warnings", ()):
            # what `sipsim check` warns about (a failure_route that never runs here, a global sipsim
            # does not use): a lab user who starts the server with a script must see it too
            self.log.warning(str(warning))
        for level, text in getattr(self.router, "load_log", ()):
            # a KEMI script's KSR.info() ... in mod_init: logged at start-up at its level, as Kamailio does
            self.log(XLOG_LEVELS.get(level, ERROR), f"{o.route}: {text.rstrip()}")
        self._wildcard_names()
        self.sock, self.sock_info = open_socket(o.listen, o.rcvbuf)
        # the engine writes the address in its canonical text (FE80:0::1 -> fe80::1, as Kamailio
        # prints its sockets) and without its scope (a scope means nothing to the peers)
        self.config = self.config.with_(listen=(str(listen_address(*o.listen)[0]), self.sock.getsockname()[1]))
        # Kamailio's auto_aliases: the loopback's name, with the socket's port (netinfo.loopback_aliases)
        taken = {a.lower() for a in self.config.aliases}
        self.auto_aliases = tuple(a for a in loopback_aliases(o.listen[0], self.config.listen[1]) if a not in taken)
        self.config = self.config.with_(aliases=self.config.aliases + self.auto_aliases)
        if self.router is None:
            # the shipped default.cfg, parsed here once as Kamailio parses its cfg before forking:
            # otherwise every worker (and every respawned one) imported the routing engine and
            # parsed the script again after fork — some 60 ms of CPU each before its first recvfrom
            from sipsim.routing import default_router

            try:
                self.router = default_router(self.config)
            except Exception as exc:  # a broken install: one line, as for --route
                raise ServeError(f"cannot load the shipped default.cfg: {exc}") from None
        self.policy = DestPolicy(o.allow_dest, dns=o.dns, family=self.sock.family)
        db = o.db or default_db_path(self.config.listen)
        self.location = SQLiteLocation(db, max_bindings=o.max_bindings)
        try:
            self.location.create()
            self.location.purge(time.time())
            self.location.close()
        except Exception as exc:  # sqlite3.Error, OSError: one line
            raise ServeError(f"location database {db}: {exc}") from None
        self.db = db
        if o.pcap:
            # what each worker's capture needs, imported once here rather than after every fork
            # (sipsim.packets loads its parts on first use)
            from sipsim.packets import PcapWriter  # noqa: F401
            from sipsim.real.capture import WorkerCapture, recover_at_start  # noqa: F401

            for line in recover_at_start(o.pcap):  # parts a server killed with SIGKILL left behind
                self.log.warning(line)
        self.stats = SharedStats(o.workers)
        self.sl_timeout = SharedSlTimeout()  # made once: a respawned worker shares it too
        ctl = o.control or default_control_path(self.config.listen)
        try:
            self.control = ControlServer(ctl, self._control)
        except OSError as exc:
            why = f"control socket {ctl}: {exc.strerror}" if exc.strerror else str(exc)
            raise ServeError(why) from None

    def _max_contacts_words(self) -> str:
        """The registrar's max_contacts for the start-up line: a script's modparam wins over
        --max-contacts (sipsim.routing.modules.registrar)."""
        modparams = getattr(getattr(self.router, "script", None), "modparams", None)
        mine = modparams.get(("registrar", "max_contacts")) if isinstance(modparams, dict) else None
        if mine is not None:
            return f"max_contacts {int(mine) if int(mine) > 0 else 'none'} (the script's modparam)"
        return f"max_contacts {self.opts.max_contacts or 'none'}"

    def _wildcard_names(self) -> None:
        """``--listen 0.0.0.0`` / ``[::]``: every local address means "me"; --advertise names the Via.

        Without this the server would answer 403 to a request for its own address (``uri ==
        myself`` knew only 0.0.0.0) and put 0.0.0.0 in its Via (see :mod:`sipsim.real.netinfo`).
        """
        host, port = self.opts.listen
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return  # open_socket says what is wrong with it
        if not ip.is_unspecified:
            return
        if not self.config.advertise:
            raise ServeError(advertise_needed(f"--listen {format_addr((str(ip), port))}"), 2)
        mine = tuple(a for a in wildcard_aliases(ip.version, port) if a not in self.config.aliases)
        self.config = self.config.with_(aliases=self.config.aliases + mine)

    # -- control socket -----------------------------------------------------------------------
    def _control(self, cmd: str) -> dict[str, Any]:
        if cmd == "stats":
            workers = [{"slot": s.index, "pid": s.pid, "respawns": s.respawns, "stats": self.stats.read(s.index)}
                       for s in self.slots]
            sock = dict(self.sock_info)
            if self.sock is not None:
                sock.update(socket_meminfo(self.sock))
            return {"server": os.getpid(), "uptime": round(time.time() - self.started, 3),
                    **self.stats.total_grouped((getattr(self.router, "script", None), self.config), self.location),
                    "workers": workers, "socket": sock,
                    "profile": self.config.profile.value, "relay": self.config.relay, "db": str(self.db)}
        if cmd == "ps":
            where = format_addr(self.config.listen)
            procs = [{"pid": os.getpid(), "desc": "main process - attendant"}]
            procs += [{"pid": s.pid, "desc": f"udp receiver child={s.index} sock={where}", "slot": s.index}
                      for s in self.slots if s.pid]
            return {"processes": procs}
        return {"error": f"unknown command {cmd!r} (try: stats, ps)"}

    # -- forking -------------------------------------------------------------------------------
    def _fork_worker(self, slot: Slot) -> None:
        assert self.sock is not None and self.control is not None
        ready_r, ready_w = os.pipe()
        setup = WorkerSetup(
            sock=self.sock, config=self.config, router=self.router, location=self.location, policy=self.policy,
            stats=self.stats, slot=slot.index, sl_timeout=self.sl_timeout, log_level=self.opts.log_level,
            observe=self.opts.observe,
            step_control=self.opts.step_control, step_timeout=self.opts.step_timeout, server_pid=os.getpid(),
            ready_fd=ready_w, pcap=self.opts.pcap,
            close_fds=tuple(fd for fd in (ready_r, self._wake_r, self._wake_w, self.control.fileno()) if fd >= 0),
        )
        signal.pthread_sigmask(signal.SIG_BLOCK, _FORK_SIGNALS)
        pid = -1
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                status = 1
                try:
                    status = run_worker(setup)
                except BaseException as exc:  # noqa: BLE001 - no traceback from a worker: say why it stopped
                    with contextlib.suppress(Exception):
                        Log(self.opts.log_level).error(
                            f"worker (slot {slot.index}) cannot run: {type(exc).__name__}: {exc}")
                finally:
                    os._exit(status)
        finally:
            if pid != 0:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORK_SIGNALS)
        os.close(ready_w)
        slot.pid, slot.started = pid, time.time()
        slot.history.append(pid)
        # wait until the child is about to call recvfrom (or died): keeps the wait-queue in fork order
        try:
            select.select([ready_r], [], [], READY_WAIT)
        except InterruptedError:
            pass
        os.close(ready_r)
        if self.obs is not None:
            self._hello_workers()
            self.obs.kernel(KernelEvent(WORKER_STARTED, time.time(), pid, None,
                                        f"attendant forked worker {pid} into slot {slot.index}",
                                        {"slot": slot.index, "respawns": slot.respawns}))
            self.obs.flush()

    def _hello_workers(self) -> None:
        assert self.obs is not None
        o = self.opts
        self.obs.set_hello(workers=[{"pid": s.pid, "slot": s.index,
                                     "ctl": control_path(o.observe, s.pid) if o.step_control and o.observe else ""}
                                    for s in self.slots if s.pid])

    # -- signals -------------------------------------------------------------------------------
    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _install_signals(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGCHLD, lambda s, f: None)  # the wakeup fd does the work
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    # -- the attendant's loop ------------------------------------------------------------------
    def run(self) -> int:
        self.setup()
        assert self.sock is not None and self.control is not None
        o = self.opts
        self._install_signals()
        set_process_name("sipsim-attendant")
        if o.observe:
            self.obs = ObserverLink(o.observe, os.getpid(), warn=self.log.warning,
                                    hello={"role": "attendant", "listen": format_addr(self.config.listen)})
        try:
            for slot in self.slots:
                if self.stopping:
                    break
                self._fork_worker(slot)
            if not self.stopping:  # a SIGTERM during start-up: no banner with half the workers
                self._announce()
                self.announced = True
            while not self.stopping:
                self._tick()
        finally:
            self._shutdown()
        return self.exit_status

    def _announce(self) -> None:
        o, info = self.opts, self.sock_info
        pids = " ".join(str(s.pid) for s in self.slots)
        buf = f"rcvbuf {info['rcvbuf']} bytes"
        asked = info.get("rcvbuf_requested")
        if asked:
            cap = info.get("rmem_max")
            if info["rcvbuf"] == 2 * asked:
                why = "Linux doubles the value for its bookkeeping"
            elif cap is not None and asked > cap:
                why = (f"Linux caps it at net.core.rmem_max = {cap}, then doubles it; "
                       f"sysctl -w net.core.rmem_max={asked} raises the cap")
            else:
                why = "Linux doubles the value, within its minimum and maximum"
            buf += f" (asked {asked}; {why})"
        relay = relay_words(o.route, o.relay)
        n = len(self.slots)
        self.log.notice(
            f"sipsim serve: listening on udp:{self.sock_info['listen']}, profile {o.profile.value}, "
            f"{n} worker{'s' if n != 1 else ''} ({pids}), {buf}, relay {relay}, "
            f"route {o.route or 'default.cfg (shipped)'}, location {self.db}, "
            f"{self._max_contacts_words()}, "
            f"control {self.control.path if self.control else '-'}"
            + (f", observer {o.observe}{' with step control' if o.step_control else ''}" if o.observe else "")
            + (f", alias {', '.join(self.auto_aliases)} (auto_aliases, as Kamailio names its loopback listen)"
               if self.auto_aliases else ""))
        self.log.info(f"destination policy: {self.policy.describe()}")
        if self.config.advertise or self.config.aliases:
            self.log.info(f"this server is {self.config.advertised_host} in its Via; uri == myself also for: "
                          + (", ".join(self.config.aliases) or "(no alias)"))

    def _tick(self) -> None:
        assert self.control is not None
        try:
            r, _, _ = select.select([self._wake_r, self.control.fileno()], [], [], 0.5)
        except InterruptedError:
            r = []
        if self._wake_r in r:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wake_r, 512):
                    pass
        self._reap()
        if self.parent and not self.stopping:
            self._parent_gone()
        if self.stopping:
            return
        if self.control.fileno() in r:
            self.control.serve_one()
        self._watch_drops()
        if self.obs is not None:
            self.obs.ping()
        now = time.time()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY
            try:
                gone = self.location.purge(now)
                if gone:
                    self.log.info(f"location: purged {gone} expired binding(s)")
            except Exception as exc:  # noqa: BLE001 - a busy or broken DB must not stop the attendant
                self.log.warning(f"location purge failed: {exc}")
            finally:
                self.location.close()  # no connection may cross the next fork

    def _parent_gone(self) -> None:
        """``--exit-with-parent``: when the process that started serve is gone, stop as on SIGTERM.

        A dead parent's children are handed to init (or to a sub-reaper): ``getppid()`` changes,
        and the attendant sees it at its next tick (twice a second). Not prctl(PR_SET_PDEATHSIG):
        the kernel sends that signal when the parent *thread* that forked us ends, and the TUI
        starts serve from a short-lived worker thread — the server would stop as soon as it is up.
        Kamailio has no such option (a supervisor such as systemd stops it); a program that runs
        serve as its child, and may be killed with SIGKILL, needs it so as not to leave the port held.
        """
        if os.getppid() == self.parent:
            return
        self.log.notice(f"the process that started serve ({self.parent}) is gone: stopping (--exit-with-parent)")
        self.stopping = True

    def _watch_drops(self) -> None:
        if self.sock is None:
            return
        drops = socket_meminfo(self.sock)["drops"]
        if drops > self._last_drops:
            new = drops - self._last_drops
            self._last_drops = drops
            self.log.warning(f"receive buffer full: the kernel dropped {new} datagram(s) (total {drops}); "
                             "raise --rcvbuf or add workers")
            if self.obs is not None:
                self.obs.kernel(KernelEvent(DATAGRAM_DROPPED, time.time(), None, None,
                                            f"the kernel dropped {new} datagram(s): receive buffer full",
                                            {"count": new, "total": drops}))
                self.obs.flush()

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._child_gone(pid, status)

    def _child_gone(self, pid: int, status: int) -> None:
        slot = next((s for s in self.slots if s.pid == pid), None)
        if slot is None:
            return
        slot.pid = 0
        if self.obs is not None:
            self._hello_workers()
        if self.opts.observe:
            with contextlib.suppress(OSError):
                os.unlink(control_path(self.opts.observe, pid))
        why = describe_status(status)
        if self.obs is not None:
            self.obs.kernel(KernelEvent(WORKER_EXITED, time.time(), pid, None, f"worker {pid} {why}",
                                        {"slot": slot.index, "status": why}))
            self.obs.flush()
        if self.stopping:
            return
        if self.opts.on_child_death == "shutdown":
            # Kamailio: a child's death takes the whole server down (handle_sigs, SIGCHLD)
            self.log.error(f"worker {pid} (slot {slot.index}) {why}: shutting down the server "
                           "(--on-child-death shutdown, as Kamailio does)")
            self.exit_status = 1
            self.stopping = True
            return
        now = time.time()
        self.deaths = [t for t in self.deaths if now - t < DEATH_WINDOW] + [now]
        if len(self.deaths) > MAX_DEATHS:
            self.log.error(f"{len(self.deaths)} workers died within {DEATH_WINDOW:.0f} s: giving up, shutting down")
            self.exit_status = 1
            self.stopping = True
            return
        slot.respawns += 1
        self._fork_worker(slot)
        self.log.warning(f"worker {pid} (slot {slot.index}) {why}; respawned as {slot.pid}")

    def _shutdown(self) -> None:
        alive = [s.pid for s in self.slots if s.pid]
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_AFTER
        while any(s.pid for s in self.slots) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.01)
        for s in self.slots:
            if s.pid:
                self.log.warning(f"worker {s.pid} did not leave within {KILL_AFTER} s: killed")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(s.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(s.pid, 0)
                if self.opts.observe:
                    with contextlib.suppress(OSError):
                        os.unlink(control_path(self.opts.observe, s.pid))
                s.pid = 0
        if self.control is not None:
            self.control.close()
        if self.obs is not None:
            self.obs.close()
        if self.sock is not None:
            self.sock.close()
        # every worker is reaped: the attendant's connection is the last one, and its close folds
        # the WAL back into the database (see sipsim.real.location: the workers' own closes,
        # all at once, each see the others open and leave -wal/-shm behind)
        try:
            if not self.location.close_last():
                self.log.info(f"location: {self.db}-wal kept: another process has the database open "
                              "(the last one to close it folds it in)")
        except Exception as exc:  # noqa: BLE001 - a busy or broken DB must not stop the shutdown
            self.log.warning(f"location {self.db}: could not close it cleanly: {exc}")
        if self.opts.pcap:
            from sipsim.real.capture import merge_parts

            try:
                n = merge_parts(self.opts.pcap, self.opts.listen[1], [p for s in self.slots for p in s.history])
                self.log.notice(f"saved {n} datagrams to {self.opts.pcap}")
            except Exception as exc:  # noqa: BLE001 - a capture problem must not hide the shutdown
                self.log.error(f"could not write {self.opts.pcap}: {exc}")
        if self.announced or alive:  # also when Ctrl-C reached the workers first (the terminal signals the group)
            self.log.notice("sipsim serve: stopped")


def relay_words(route: str | None, relay: bool) -> str:
    """What ``--relay`` means for this run, for the start-up line. It only defines or leaves out
    ``SIPSIM_NO_RELAY`` for the script: the shipped default route reads it; a script of the user's
    decides by itself, and one that never reads it (forwarder.cfg) relays whatever --relay says."""
    if not route:
        return "on" if relay else "off (--relay to allow foreign domains)"
    try:
        reads = "SIPSIM_NO_RELAY" in Path(route).read_text(encoding="utf-8", errors="replace")
    except OSError:
        reads = False
    if not reads:
        return "as the script decides (it never reads SIPSIM_NO_RELAY, so --relay changes nothing)"
    return f"as the script decides (SIPSIM_NO_RELAY {'undefined: --relay given' if relay else 'defined'})"


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"was killed by signal {sig} ({name})"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"
