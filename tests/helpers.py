"""Small helpers shared by tests: corpus access, free ports, processes stopped by PID, a program
in a terminal of its own."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CORPUS_DIRS = ("rfc4475", "rfc5118", "rfc3261")


@dataclass(frozen=True)
class CorpusEntry:
    folder: str
    file: str
    path: Path
    proxy_action: str  # "" for rfc3261 files
    body_omitted: bool

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.file}"


def corpus() -> list[CorpusEntry]:
    out: list[CorpusEntry] = []
    for folder in CORPUS_DIRS:
        with open(DATA / folder / "MANIFEST.tsv", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                out.append(
                    CorpusEntry(
                        folder=folder,
                        file=row["file"],
                        path=DATA / folder / row["file"],
                        proxy_action=row.get("proxy_action", "") or "",
                        body_omitted=row.get("body_omitted_in_rfc") == "True",
                    )
                )
    return out


def with_body(entry: CorpusEntry) -> bytes:
    """The RFC 3261 §24 messages omit the SDP but keep Content-Length: give them a body that long."""
    data = entry.path.read_bytes()
    if not entry.body_omitted:
        return data
    head, _, _ = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            length = int(value.strip())
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
    body = (body + b"a=x" * length)[:length - 2] + b"\r\n"
    assert len(body) == length
    return head + b"\r\n\r\n" + body


def free_udp_port(host: str = "127.0.0.1") -> int:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def stop_pid(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Stop a process we started, by its PID: SIGTERM, then SIGKILL. Never by name."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return
        time.sleep(0.02)
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=5)


IN_CI = bool(os.environ.get("CI"))


def need_tool(name: str) -> str:
    """Path of an external tool; skip only when it is absent *and* CI is unset, fail in CI."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    if IN_CI:
        pytest.fail(f"{name} is not installed; .ci/run installs it and CI must run this test")
    pytest.skip(f"{name} is not installed and CI is unset (install it: see .ci/run)")
    raise AssertionError("unreachable")


SIOCSIFADDR, SIOCDIFADDR = 0x8916, 0x8936


@contextlib.contextmanager
def link_local_on_lo(addr: str = "fe80::1") -> Iterator[int]:
    """``ip -6 addr add fe80::1/64 dev lo`` in the tests' private network namespace (SIOCSIFADDR on
    an AF_INET6 socket takes a struct in6_ifreq), removed afterwards; yields lo's index. Returns
    once the address can be bound: right after the ioctl ``bind`` fails (EADDRNOTAVAIL) for ~10 ms."""
    index = socket.if_nametoindex("lo")
    req = struct.pack("16sIi", socket.inet_pton(socket.AF_INET6, addr), 64, index)
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), SIOCSIFADDR, req)
        try:
            deadline = time.monotonic() + 3
            while True:
                try:
                    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
                        probe.bind((addr, 0, 0, index))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            yield index
        finally:
            fcntl.ioctl(s.fileno(), SIOCDIFADDR, req)


def spawn_in_pty(args: list[str], rows: int = 30, cols: int = 120) -> tuple[int, int]:
    """``python -m sipsim ARGS`` in a terminal of its own (a real TUI, as a user starts it).
    Returns (pid, the terminal's master fd); the caller waits for it (:func:`wait_exit_draining`),
    kills it by that pid if it does not end, and closes the fd."""
    size = struct.pack("HHHH", rows, cols, 0, 0)
    pid, master = pty.fork()
    if pid == 0:  # the child: nothing of pytest may run here
        try:  # its size before the app starts (set from the parent it may come too late: 80×24)
            fcntl.ioctl(0, termios.TIOCSWINSZ, size)
            os.execve(sys.executable, [sys.executable, "-m", "sipsim", *args], dict(os.environ, TERM="xterm-256color"))
        finally:
            os._exit(127)
    fcntl.ioctl(master, termios.TIOCSWINSZ, size)
    return pid, master


def read_pty(master: int, wait: float = 0.1) -> bytes:
    """What the program wrote to its terminal within ``wait`` seconds (b"" if nothing, or gone)."""
    if select.select([master], [], [], wait)[0]:
        with contextlib.suppress(OSError):
            return os.read(master, 65536)
    return b""


def wait_exit_draining(pid: int, master: int, timeout: float) -> int | None:
    """The exit code of the program in the pty, reading its terminal meanwhile (a full terminal
    would block it); None if it is still running after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        read_pty(master)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(st)
    return None
