"""A live TUI that is killed (``kill PID``, a closed terminal) stops the server it started.

Before, SIGTERM or SIGHUP ended the TUI at once: its ``sipsim serve`` and workers went on
running, reparented to init, holding the port and leaving their temporary folder behind."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

import pytest
from helpers import free_udp_port


def _children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _alive(pid: int) -> bool:
    """Running or sleeping (a zombie has exited; a reused pid would not be our child's child)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_killed_live_tui_stops_its_server(isolated_network: None, sig: signal.Signals) -> None:
    port = free_udp_port()
    pid, master = pty.fork()
    if pid == 0:  # the child: a terminal of its own; nothing of pytest may run here
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
            os.execve(sys.executable, [sys.executable, "-m", "sipsim", "tui", "--live", f"127.0.0.1:{port}",
                                       "--workers", "2"], dict(os.environ, TERM="xterm-256color"))
        finally:
            os._exit(127)
    status = None
    procs: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while True:  # the server and its two workers, all asleep in recvfrom
            assert time.monotonic() < deadline, "the live server did not start"
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 65536)  # keep the terminal drained
            servers = _children(pid)
            procs = servers + [w for s in servers for w in _children(s)]
            if servers and len(procs) >= 3:
                break
        time.sleep(0.3)  # the app has mounted and its handlers are in place
        os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while status is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    pass
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(st)
        assert status is not None, "the TUI did not exit"
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in procs if _alive(p)], f"left running: {procs}"
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        for p in procs:  # never leave one behind, even when the test fails
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        os.close(master)
