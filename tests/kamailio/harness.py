"""Run the real Kamailio 5.6 and record exactly what it does with each datagram.

    from kamailio.harness import KamailioProcess

    with KamailioProcess(Path("tests/kamailio/cfgs/default.cfg"), defines=["WITH_ALIASES"]) as k:
        obs = k.send(invite_bytes, src=("192.0.2.1", 5060))
        obs.sent        # [Sent(src, dst, data)]: replies and forwards, in order, exact bytes
        obs.steps       # [CfgStep]: cfg lines the routing engine executed (debugger cfgtrace)
        obs.reached     # ["request_route"] / ["onreply_route"] / [] (dropped by the core)
        obs.log         # the worker's log records for this message (debug=3)

How (details in tests/kamailio/README.md):

* Kamailio runs in a network namespace of its own (:mod:`kamailio.netns`) where every IPv4 address
  is local, so whatever it sends -- to 192.0.2.x, 10.0.0.1, or a hostname mapped with ``hosts=`` --
  loops back and an ``AF_PACKET`` capture on ``lo`` records it. Port 5060 is free there.
* The script under test is written to a temp dir and *included* by a small generated main cfg
  that holds the environment: listen address, children, ``debug=3``, ``dns=no``, ``rev_dns=no``,
  no TCP, the ``debugger`` module with ``cfgtrace=1``. Line numbers in the trace are therefore the
  script's own. Extra ``#!define``\\ s come from ``-A`` on the command line.
* Kamailio starts in a private *mount* namespace (``unshare -m``) where temp files are
  bind-mounted on /etc/hosts (localhost only) and /etc/resolv.conf (nameserver 127.0.0.1), so its
  resolver never depends on this machine. ``hosts={"example.com": "203.0.113.10"}`` adds names to
  that hosts file and sets ``use_dns_cache=off``: only then does 5.6 resolve through libc, which
  reads /etc/hosts. With its DNS cache on (the default) Kamailio sends DNS queries itself and never
  looks at /etc/hosts; in the namespace they are refused at once and forward() fails.
* The end of one message is read from the worker's debug log (``receive_msg(): cleaning up``, the
  last line of an error exit, or a udp_rcv_loop refusal); then a barrier datagram through the
  capture makes sure every packet Kamailio sent before that is recorded. Sends are sequential.

Kamailio is stopped by its PID (SIGTERM to the main process, which stops its children; any child
left is killed by PID). Never by name.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from helpers import stop_pid

from kamailio import kamlog
from kamailio.kamlog import LogReader, LogRecord
from kamailio.netns import ALL_IPV4, Datagram, LoopbackCapture, PrivateNetns
from kamailio.observation import Addr, Observation, Sent, fmt_addr
from sipsim.real.procinfo import asleep_in_recvfrom

__all__ = ["DEFAULT_SRC", "KamailioError", "KamailioProcess", "Observation", "Sent", "find_kamailio"]

DEFAULT_SRC: Addr = ("192.0.2.1", 5060)
BARRIER_DST: Addr = ("127.0.0.2", 9)
ENV_RESET_GRACE = 0.015  # env-reset lines, no error logged, no 'cleaning up' after them: ended ...
# ... once the worker is asleep in recvfrom again and a sync line sent down Kamailio's own log pipe
# has come out of it (every line the worker wrote is in): a worker preempted between its env-reset
# lines and "cleaning up" on a loaded machine was taken for an error exit
LOG_SYNC = "sipsim-log-sync "
QUIET = 0.5  # fallback: nothing logged or sent for this long = finished (reported as end="quiet")


class KamailioError(RuntimeError):
    """Kamailio could not be started (bad cfg, missing module, no namespace ...): message + log tail."""


def kamcmd_stats(kamcmd: str, sock: str, group: str) -> dict[str, int]:
    """``kamcmd stats.get_statistics GROUP:`` of a running Kamailio: every counter of the group, by name."""
    res = subprocess.run([kamcmd, "-s", f"unix:{sock}", "stats.get_statistics", f"{group}:"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stdout.splitlines():
        name, _, value = line.strip().partition(" = ")
        assert name.startswith(f"{group}:"), line
        out[name.removeprefix(f"{group}:")] = int(value)
    return out


def find_kamailio() -> str | None:
    return shutil.which("kamailio") or next(
        (p for p in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if os.access(p, os.X_OK)), None
    )


#: Core settings the harness owns: a script that sets them would break the capture or the markers.
_RESERVED = re.compile(r"^\s*(listen|debug|log_stderror|log_stderr|fork|port)\s*=", re.M)


def check_script(text: str) -> None:
    """Refuse a script that sets what the harness owns (see the README: "Writing cfgs")."""
    m = _RESERVED.search(text)
    if m:
        line = text.count("\n", 0, m.start(1)) + 1
        raise KamailioError(
            f"script line {line} sets '{m.group(1)}': the harness owns it "
            "(it listens on 127.0.0.1:<port> with debug=3 logging to stderr); remove the line"
        )


def _main_cfg(script: Path, port: int, children: int, use_dns_cache: bool, load_debugger: bool) -> str:
    """The generated main cfg: the harness's environment, then the script under test included."""
    lines = [
        "#!KAMAILIO",
        "# Generated by tests/kamailio/harness.py: the test environment. The script under test is",
        "# included at the end, so its cfgtrace line numbers are its own.",
        "debug=3",
        "log_stderror=yes",
        f"children={children}",
        f"listen=udp:127.0.0.1:{port}",
        "dns=no",
        "rev_dns=no",
        "disable_tcp=yes",
        "auto_aliases=no",
    ]
    if not use_dns_cache:
        lines.append("use_dns_cache=off  # resolve through libc, which honours the private /etc/hosts")
    if load_debugger:
        lines += ['loadmodule "debugger.so"', 'modparam("debugger", "cfgtrace", 1)']
    lines.append(f'include_file "{script}"')
    return "\n".join(lines) + "\n"


class KamailioProcess:
    """Kamailio 5.6 running one script, in its own network namespace; a context manager.

    ``script``: cfg text or a Path (it must not ``listen=`` itself: the harness owns the socket).
    ``children``: UDP workers. ``port``: listen port on 127.0.0.1 (5060 is free in the namespace).
    ``defines``: ``"NAME"`` or ``"NAME=value"``, passed as ``-A`` (``#!ifdef`` in the script).
    ``hosts``: name -> IPv4 made resolvable through a private /etc/hosts (see module docstring).
    ``private_etc``: run Kamailio with its own /etc/hosts (localhost + ``hosts``) and an
    /etc/resolv.conf naming 127.0.0.1, so its resolver does not depend on this machine's files
    (its DNS queries then go to 127.0.0.1:53 in the namespace: captured in ``other``, refused).
    ``local_routes``: IPv4 networks made local in the namespace (default: all of IPv4).
    """

    def __init__(
        self,
        script: str | Path,
        *,
        children: int = 1,
        port: int = 5060,
        defines: list[str] | tuple[str, ...] = (),
        hosts: dict[str, str] | None = None,
        local_routes: tuple[str, ...] = ALL_IPV4,
        private_etc: bool = True,
        script_name: str = "script.cfg",
        startup_timeout: float = 15.0,
    ) -> None:
        if isinstance(script, Path):
            script_name = script.name
            script = script.read_text()
        check_script(script)
        self.script_text = script
        self.script_name = script_name
        self.children = children
        self.port = port
        self.addr: Addr = ("127.0.0.1", port)
        self.defines = list(defines)
        self.hosts = dict(hosts or {})
        self.local_routes = local_routes
        self.private_etc = private_etc or bool(self.hosts)
        self.startup_timeout = startup_timeout
        self.startup_seconds = 0.0
        self.proc: subprocess.Popen | None = None
        self.pids: set[int] = set()
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._netns: PrivateNetns | None = None
        self._capture: LoopbackCapture | None = None
        self._socks: dict[Addr, socket.socket] = {}
        self._ours: set[Addr] = set()  # addresses our sockets are bound to (inputs, probes, barriers)
        self._log = LogReader()
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = None
        self._barrier_no = 0
        self._sync_sent = self._sync_seen = 0

    # -- life cycle -----------------------------------------------------------------------------
    def __enter__(self) -> KamailioProcess:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def tmpdir(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp.name)

    @property
    def script_path(self) -> Path:
        """Where the script was written: the ``c=[...]`` of its cfgtrace lines."""
        return self.tmpdir / self.script_name

    @property
    def records(self) -> list[LogRecord]:
        """Every log record so far (all processes)."""
        return self._log.records

    def command(self) -> list[str]:
        binary = find_kamailio()
        if binary is None:
            raise KamailioError("kamailio is not installed (Debian package 'kamailio')")
        cmd = [
            binary, "-f", str(self.tmpdir / "main.cfg"), "-DD", "-E",
            "-Y", str(self.tmpdir / "run"), "-P", str(self.tmpdir / "kamailio.pid"),
        ]
        for d in self.defines:
            cmd += ["-A", d]
        if not self.private_etc:
            return cmd
        unshare = shutil.which("unshare")
        if unshare is None:
            raise KamailioError("private_etc needs util-linux 'unshare' (private mount namespace)")
        resolv = "/etc/resolv.conf" if os.path.exists("/etc/resolv.conf") else ""
        mount = 'mount --bind "$1" /etc/hosts && { [ -z "$3" ] || mount --bind "$2" "$3"; } && shift 3'
        return [
            unshare, "--mount", "--propagation", "private", "--", "/bin/sh", "-c", mount + ' && exec "$@"',
            "sh", str(self.tmpdir / "hosts"), str(self.tmpdir / "resolv.conf"), resolv, *cmd,
        ]

    def start(self) -> None:
        t0 = time.monotonic()
        self._tmp = tempfile.TemporaryDirectory(prefix="sipsim-kamailio-")
        (self.tmpdir / "run").mkdir()
        self.script_path.write_text(self.script_text)
        load_debugger = "debugger.so" not in self.script_text
        (self.tmpdir / "main.cfg").write_text(
            _main_cfg(self.script_path, self.port, self.children, not self.hosts, load_debugger)
        )
        hosts = "127.0.0.1 localhost\n" + "".join(f"{ip} {name}\n" for name, ip in self.hosts.items())
        (self.tmpdir / "hosts").write_text(hosts)
        (self.tmpdir / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        cmd = self.command()
        self._netns = PrivateNetns(self.local_routes)
        self._capture = LoopbackCapture(self._netns)
        self.proc = self._netns.call(
            subprocess.Popen, cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=self.tmpdir, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_log, name="kamailio-log", daemon=True)
        self._reader.start()
        self._wait_ready(t0 + self.startup_timeout)
        self.startup_seconds = time.monotonic() - t0

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("latin-1")
            with self._cond:
                if line.startswith(LOG_SYNC):  # ours (see _log_sync), not Kamailio's
                    self._sync_seen = max(self._sync_seen, int(line[len(LOG_SYNC):].strip() or 0))
                    self._cond.notify_all()
                    continue
                rec = self._log.feed(time.monotonic(), line)
                if rec is not None:
                    self.pids.add(rec.pid)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _wait_ready(self, deadline: float) -> None:
        """Ready = a worker took a datagram out of recvfrom: 5-byte probes it drops silently.

        A probe goes every 50 ms, each from a new port (before the bind they are simply lost).
        When one is logged ("probing packet received from 127.0.0.1 PORT", the port printed
        byte-swapped by 5.6 on little-endian machines) every probe sent
        before it has left the socket queue; a last probe, once logged, proves the queue empty.
        """
        assert self._netns is not None and self.proc is not None
        probes: dict[str, socket.socket] = {}
        try:
            next_probe, final = 0.0, ""
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    if self._reader is not None:
                        self._reader.join(timeout=2)
                    raise KamailioError(
                        f"kamailio exited with status {self.proc.returncode}:\n{self.log_tail()}"
                    )
                with self._cond:
                    self._cond.wait(0.01)
                    logged = {
                        r.text.rsplit(" ", 1)[1] for r in self._log.records
                        if "probing packet received from 127.0.0.1 " in r.text
                    }
                if final and final in logged:
                    time.sleep(0.02)
                    return
                first_seen = bool(logged & probes.keys()) and not final
                if first_seen or time.monotonic() >= next_probe:
                    s = self._netns.udp_socket(("127.0.0.1", 0))
                    port = s.getsockname()[1]
                    # 5.6 prints this port in network byte order: key the probe by that number
                    port = str(int.from_bytes(port.to_bytes(2, "big"), "little"))
                    probes[port] = s
                    s.sendto(b"ready", self.addr)
                    next_probe = time.monotonic() + 0.05
                    if first_seen:
                        final = port
        finally:
            for s in probes.values():
                s.close()
        raise KamailioError(f"kamailio not ready after {self.startup_timeout} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 25) -> str:
        lines = self._log.preamble[-5:] + [str(r) for r in self._log.records if r.level != "DEBUG"]
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        """SIGTERM to Kamailio's main PID (it stops its children), then kill any leftover by PID."""
        if self.proc is not None:
            stop_pid(self.proc, timeout=10)
            if self._reader is not None:
                self._reader.join(timeout=5)
            for pid in self.leftover_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.proc.stdout:
                self.proc.stdout.close()
        for s in self._socks.values():
            s.close()
        self._socks.clear()
        if self._capture is not None:
            self._capture.close()
            self._capture = None
        if self._netns is not None:
            self._netns.close()
            self._netns = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def leftover_pids(self) -> list[int]:
        """PIDs seen in the log that still run this Kamailio binary (should be none after stop)."""
        alive = []
        for pid in sorted(self.pids):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if "(kamailio)" in stat and stat.rsplit(")", 1)[1].split()[0] != "Z":
                alive.append(pid)
        return alive

    # -- sending --------------------------------------------------------------------------------
    def _sock(self, src: Addr) -> socket.socket:
        """Our socket bound to ``src`` (made once, inside the namespace; port 0 = any free port)."""
        if src not in self._socks:
            assert self._netns is not None
            s = self._netns.udp_socket(src)
            self._socks[src] = s
            self._ours.add(s.getsockname()[:2])
        return self._socks[src]

    def send(self, data: bytes, src: Addr = DEFAULT_SRC, timeout: float = 5.0) -> Observation:
        """Send ``data`` to Kamailio from ``src`` and record everything until it is done with it.

        ``src`` is any IPv4 address and port except Kamailio's own; the message is finished when
        its worker logged the end of receive_msg (``Observation.end`` says how it was detected),
        or after ``timeout`` seconds at most.
        """
        assert self._capture is not None and self.proc is not None
        if src == self.addr:
            raise ValueError(f"{fmt_addr(src)} is Kamailio's own socket; send from another address")
        sock = self._sock(src)
        with self._cond:
            log_i = len(self._log.records)
        with self._capture.cond:
            cap_i = len(self._capture.datagrams)
        t0 = time.monotonic()
        sock.sendto(data, self.addr)
        end, workers = self._wait_done(log_i, t0, timeout)
        elapsed = time.monotonic() - t0
        datagrams = self._barrier(cap_i)
        return self._observation(data, src, log_i, datagrams, workers, end, elapsed)

    def _wait_done(self, log_i: int, t0: float, timeout: float) -> tuple[str, list[int]]:
        """Follow the workers' markers until every datagram they took out of recvfrom is done.

        Per worker PID: busy from its "received on udp socket" line until "cleaning up" (normal
        end), or until its env-reset lines when the message took an error exit of receive_msg
        (a core ERROR line was logged: at once; otherwise after ENV_RESET_GRACE with no more
        lines), or a udp_rcv_loop refusal (a single line, no start line).
        """
        # pid -> [time of last env-reset line or None, resets, error seen, asleep and its lines all in]
        busy: dict[int, list] = {}
        workers: list[int] = []
        end = ""
        scan = log_i
        last = t0
        while True:
            with self._cond:
                recs = self._log.records
                new = recs[scan:]
                scan = len(recs)
                if not new:
                    self._cond.wait(0.005)
            now = time.monotonic()
            for rec in new:
                last = max(last, rec.t)
                state = busy.get(rec.pid)
                if kamlog.is_udp_drop(rec):  # refused in udp_rcv_loop: logged once, no start line
                    busy.pop(rec.pid, None)
                    workers.append(rec.pid)
                    end = "udp-drop"
                elif kamlog.is_start(rec) is not None:
                    busy[rec.pid] = [None, 0, False, False]
                    workers.append(rec.pid)
                elif state is None:
                    continue
                elif kamlog.END_OK in rec.text:
                    busy.pop(rec.pid)
                    end = "cleaning-up"
                elif kamlog.END_ENV_RESET in rec.text:
                    state[0], state[1], state[3] = rec.t, state[1] + 1, False
                    if state[1] == kamlog.ENV_RESET_XAVP_LISTS and state[2]:
                        busy.pop(rec.pid)
                        end = "error-exit"
                else:
                    state[0], state[1], state[3] = None, 0, False
                    state[2] = state[2] or kamlog.is_receive_error(rec)
            for pid, state in list(busy.items()):
                if state[0] is not None and now - state[0] >= ENV_RESET_GRACE:
                    if state[3]:  # synced, and nothing of it since: it ended there
                        busy.pop(pid)
                        end = "error-exit"
                    elif asleep_in_recvfrom(pid) and self._log_sync():
                        state[3] = True  # the next scan reads its last lines, if any came
            if workers and not busy:
                return end, workers
            if not workers and now - t0 > 1.0:
                return "not-received", workers
            if now - last > QUIET or now - t0 > timeout or self.proc.poll() is not None:  # type: ignore[union-attr]
                return "quiet", workers

    def _log_sync(self, timeout: float = 2.0) -> bool:
        """Write a sync line into Kamailio's log pipe (its fd 2, opened through /proc) and wait until
        the reader has it: every line written before it has been read. False if it never came."""
        assert self.proc is not None
        self._sync_sent += 1
        n = self._sync_sent
        try:
            with open(f"/proc/{self.proc.pid}/fd/2", "wb", buffering=0) as pipe:
                pipe.write(f"{LOG_SYNC}{n}\n".encode())
        except OSError:
            return False
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._sync_seen < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _barrier(self, cap_i: int) -> list[Datagram]:
        """Send a marker through lo and wait until the capture has it: every earlier packet is in."""
        assert self._capture is not None
        self._barrier_no += 1
        token = f"sipsim-barrier-{os.getpid()}-{self._barrier_no}".encode()
        sock = self._sock(("127.0.0.2", 0))
        deadline = time.monotonic() + 2
        sock.sendto(token, BARRIER_DST)
        with self._capture.cond:
            while time.monotonic() < deadline:
                got = self._capture.datagrams[cap_i:]
                if any(d.data == token for d in got):
                    break
                self._capture.cond.wait(0.01)
            got = self._capture.datagrams[cap_i:]
        return [d for d in got if d.data != token]

    def _observation(
        self, data: bytes, src: Addr, log_i: int, datagrams: list[Datagram], workers: list[int],
        end: str, elapsed: float,
    ) -> Observation:
        ours = self._ours
        obs = Observation(data=data, src=src, workers=workers, end=end, elapsed=elapsed)
        for d in datagrams:
            if d.src == self.addr:
                obs.sent.append(Sent(d.src, d.dst, d.data))
            elif d.src not in ours:
                obs.other.append(Sent(d.src, d.dst, d.data))
        with self._cond:
            recs = self._log.records[log_i:]
        wset = set(workers)
        obs.log = [r for r in recs if r.pid in wset or r.level != "DEBUG"]
        obs.steps = [s for r in obs.log if (s := kamlog.parse_cfgtrace(r.text)) is not None]
        return obs
