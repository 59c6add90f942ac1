"""A live TUI that is killed (``kill PID``, a closed terminal) stops the server it started.

Before, SIGTERM or SIGHUP ended the TUI at once: its ``sipsim serve`` and workers went on
running, reparented to init, holding the port and leaving their temporary folder behind. SIGTERM
and SIGHUP now leave the app as ctrl+q does; SIGKILL cannot be caught, so the TUI starts its
server with ``--exit-with-parent`` and the attendant leaves when it sees its parent gone."""

from __future__ import annotations

import os
import signal
import time

import pytest
from helpers import free_udp_port, read_pty, spawn_in_pty, wait_exit_draining

from sipsim.real.procinfo import stat_fields


def _children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(int(name))
            if fields is not None and fields[1] == str(pid):
                out.append(int(name))
    return out


def _alive(pid: int) -> bool:
    """Running or sleeping (a zombie has exited; a reused pid would not be our child's child)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_a_killed_live_tui_stops_its_server(isolated_network: None, sig: signal.Signals) -> None:
    pid, master = spawn_in_pty(["tui", "--live", f"127.0.0.1:{free_udp_port()}", "--workers", "2"])
    status = None
    procs: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while True:  # the server and its two workers
            assert time.monotonic() < deadline, "the live server did not start"
            read_pty(master)  # keep the terminal drained
            servers = _children(pid)
            procs = servers + [w for s in servers for w in _children(s)]
            if servers and len(procs) >= 3:
                break
        # the handlers are in place: on_mount installs them before it starts the server found above
        os.kill(pid, sig)
        status = wait_exit_draining(pid, master, 10)
        assert status is not None, "the TUI did not exit"
        if sig != signal.SIGKILL:  # it left as ctrl+q does, not killed by the signal (its server would
            assert status >= 0, status  # go anyway, --exit-with-parent: only this tells the handler ran)
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
