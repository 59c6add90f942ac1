"""Run ``sipsim serve`` and sipp as real processes for the live-mode tests (stopped by PID).

    with LiveServer(tmp_path, workers=4, observe=obs_path) as srv:
        srv.port, srv.worker_pids(), srv.stats(), srv.log_text()

Also: :func:`run_sipp` (a sipp client run, its final counters from ``-trace_stat``), the UAS
helper, :func:`wait_all_asleep` (every worker blocked in ``recvfrom``, read from /proc), and
:func:`worker_order` (which worker took each datagram, from an observer stream).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from helpers import DATA, free_udp_port, stop_pid

from sipsim.real import procinfo
from sipsim.real.control import default_control_path, query
from sipsim.real.location import default_db_path
from sipsim.real.procinfo import asleep_in_recvfrom, sipp_counters  # noqa: F401

HERE = Path(__file__).parent
REGISTER_XML = HERE / "real" / "register.xml"
UAC_XML = DATA / "sipp" / "uac-reorder.xml"
UAS_XML = DATA / "sipp" / "uas-reorder.xml"


class LiveServer:
    """A ``python -m sipsim serve`` child process on a free port, with its own db/control/log."""

    def __init__(self, tmp: Path, *, workers: int = 4, args: Iterable[str] = (), observe: str | None = None,
                 port: int | None = None, log_level: str = "info", default_paths: bool = False) -> None:
        """``default_paths``: no --db and --control, the server picks its own from $XDG_STATE_HOME
        and $XDG_RUNTIME_DIR (the test points them at its tmp folder first)."""
        self.tmp = tmp
        self.port = port or free_udp_port()
        if default_paths:
            self.db = default_db_path(("127.0.0.1", self.port))
            self.control = default_control_path(("127.0.0.1", self.port))
            paths: list[str] = []
        else:
            self.db = tmp / f"loc-{self.port}.sqlite"
            self.control = str(tmp / f"ctl-{self.port}.sock")
            paths = ["--db", str(self.db), "--control", self.control]
        self.log_path = tmp / f"serve-{self.port}.log"
        self.workers = workers
        cmd = [sys.executable, "-m", "sipsim", "serve", "--listen", f"127.0.0.1:{self.port}", "--workers",
               str(workers), *paths, "--log-level", log_level, *args]
        if observe:
            cmd += ["--observe", observe]
        self.cmd = cmd
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> LiveServer:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self._log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sipsim serve exited with {self.proc.returncode}: {self.log_text()}")
            try:
                if len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"sipsim serve did not start: {self.log_text()}")

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None:
            pids = self.worker_pids_safe()
            stop_pid(self.proc)
            for pid in pids:  # never leave a worker behind, even if the attendant failed
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if not self._log.closed:
            self._log.close()

    def query(self, cmd: str) -> dict[str, Any]:
        return query(self.control, cmd, timeout=2.0)

    def worker_pids(self) -> list[int]:
        return [p["pid"] for p in self.query("ps")["processes"] if "slot" in p]

    def worker_pids_safe(self) -> list[int]:
        try:
            return self.worker_pids()
        except (OSError, ValueError):
            return []

    def stats(self) -> dict[str, int]:
        answer = self.query("stats")  # Kamailio's core group and sipsim's own live counters
        return {**answer["core"], **answer.get("sipsim", {})}

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def udp_client() -> socket.socket:
    """A UDP socket on 127.0.0.1, any free port: the phone of a test."""
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    return c


def recv_answer(c: socket.socket, timeout: float) -> bytes | None:
    """The next datagram on ``c`` within ``timeout`` seconds, or None."""
    c.settimeout(timeout)
    try:
        return c.recvfrom(65535)[0]
    except (TimeoutError, BlockingIOError):
        return None


def eventually(check, timeout: float = 2.0, interval: float = 0.02) -> bool:  # noqa: ANN001
    """Poll ``check()`` until it is true or ``timeout`` passes (counters are written after the reply)."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def options_request(port: int, local_port: int, *, cseq: int = 1, callid: str = "opt") -> bytes:
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK-{callid}-{cseq};rport\r\n"
            f"From: <sip:tester@127.0.0.1>;tag=t{cseq}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {callid}-{cseq}\r\nCSeq: {cseq} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            ).encode()


def ask_options(port: int, *, cseq: int = 1, timeout: float = 2.0) -> str:
    """Send one OPTIONS from a fresh socket; the status line of the answer ('' on timeout)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.bind(("127.0.0.1", 0))
        c.settimeout(timeout)
        c.sendto(options_request(port, c.getsockname()[1], cseq=cseq), ("127.0.0.1", port))
        try:
            return c.recvfrom(65535)[0].split(b"\r\n", 1)[0].decode("latin-1")
        except TimeoutError:
            return ""


# -- sipp ---------------------------------------------------------------------------------------
def start_uas(sipp: str, tmp: Path, port: int | None = None) -> tuple[subprocess.Popen, int]:
    port = port or free_udp_port()
    proc = subprocess.Popen([sipp, "-sf", str(UAS_XML), "-i", "127.0.0.1", "-p", str(port), "-nostdin",
                             "-buff_size", "4194304"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=tmp)
    return proc, port


def run_sipp(sipp: str, tmp: Path, args: list[str], timeout: float = 60.0, name: str = "sipp",
             background: bool = False) -> subprocess.Popen | dict[str, int]:
    """Run a sipp client with ``-trace_stat``; returns its final cumulative counters (or the process)."""
    stf = tmp / f"{name}.csv"
    cmd = [sipp, *args, "-i", "127.0.0.1", "-nostdin", "-trace_stat", "-stf", str(stf), "-fd", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            cwd=tmp)
    if background:
        proc.stf = stf  # type: ignore[attr-defined]
        return proc
    try:
        proc.wait(timeout=timeout)
    finally:
        stop_pid(proc)
    return sipp_counters(stf) | {"rc": proc.returncode}


def register(sipp: str, tmp: Path, proxy_port: int, aor: str, contact: str) -> dict[str, int]:
    return run_sipp(sipp, tmp, ["-sf", str(REGISTER_XML), f"127.0.0.1:{proxy_port}", "-s", aor,
                                "-set", "contact", contact, "-p", str(free_udp_port()), "-m", "1",
                                "-recv_timeout", "3000"], timeout=15, name=f"register-{aor}")  # type: ignore[return-value]


def uac_args(proxy_port: int, aor: str, calls: int, rate: int) -> list[str]:
    return ["-sf", str(UAC_XML), f"127.0.0.1:{proxy_port}", "-s", aor, "-p", str(free_udp_port()),
            "-m", str(calls), "-r", str(rate), "-recv_timeout", "5000", "-buff_size", "4194304"]


# -- the kernel's view of the workers -----------------------------------------------------------
def wait_all_asleep(pids: Iterable[int], timeout: float = 5.0) -> None:
    pids = list(pids)
    if not procinfo.wait_all_asleep(pids, timeout):
        raise AssertionError(f"workers not all asleep in recvfrom: { {p: procinfo.wchan(p) for p in pids} }")

def worker_order(events: Iterable[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """From an observer stream: (order in which workers first entered recvfrom, worker of each datagram).

    The second list follows ``worker_woken`` records in arrival order (each worker flushes its
    batch before it goes back to recvfrom, so with one datagram in flight at a time the arrival
    order is the datagram order). The lead compares it with the simulator's prediction.
    """
    first_sleep: list[int] = []
    takers: list[int] = []
    for ev in events:
        if ev.get("type") != "kernel":
            continue
        if ev["kind"] == "worker_sleeps" and ev["worker"] not in first_sleep:
            first_sleep.append(ev["worker"])
        elif ev["kind"] == "worker_woken":
            takers.append(ev["worker"])
    return first_sleep, takers


def record_live_order(tmp: Path, *, workers: int = 4, count: int = 24, gap: float = 0.02,
                      profile: str = "ser") -> tuple[list[int], list[int], list[int]]:
    """Run a real server and send ``count`` OPTIONS ``gap`` s apart, each only once every worker sleeps.

    Returns (worker pids in slot order, order in which they first went to sleep, worker that took
    each datagram). The simulator comparison (issue 3) feeds the same scenario to the simulated
    kernel and compares its prediction with these lists.
    """
    from sipsim.real.observe import Observer

    with Observer(str(tmp / "order-obs.sock")) as obs, \
            LiveServer(tmp, workers=workers, observe=obs.path, args=["--profile", profile]) as srv:
        pids = srv.worker_pids()
        events: list[dict[str, Any]] = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.bind(("127.0.0.1", 0))
            c.settimeout(3.0)
            for i in range(count):
                wait_all_asleep(pids)
                events.extend(obs.events(timeout=0))  # what was flushed before sleeping
                c.sendto(options_request(srv.port, c.getsockname()[1], cseq=i + 1), ("127.0.0.1", srv.port))
                status = c.recvfrom(65535)[0].split(b"\r\n", 1)[0]
                assert status == b"SIP/2.0 200 OK", status
                time.sleep(gap)
            wait_all_asleep(pids)
            events.extend(obs.events(timeout=0.2))
        first_sleep, takers = worker_order(events)
    return pids, first_sleep, takers
