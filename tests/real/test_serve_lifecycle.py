"""A server's life beyond ctrl+c: its parent killed, its attendant killed, and what each leaves.

``sipsim tui --live`` killed with SIGKILL left its ``sipsim serve`` (attendant and workers) running
under init, holding the port: the TUI now passes ``--exit-with-parent``. A plain ``serve`` from a
shell must still outlive its parent (nohup). An attendant killed with SIGKILL never merged its
workers' capture parts: the next ``serve --pcap`` with the same file merges them, apart.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
from helpers import free_udp_port
from live_harness import LiveServer, ask_options

from sipsim.real.control import query
from sipsim.real.procinfo import stat_fields

pytestmark = pytest.mark.network

# a parent that starts two servers (the first with --exit-with-parent), says their pids, and waits
PARENT = """
import json, subprocess, sys, time
cmds = json.loads(sys.argv[1])
procs = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
         for c, log in cmds]
print(json.dumps([p.pid for p in procs]), flush=True)
time.sleep(60)
"""


def _state(pid: int) -> str | None:
    """The process's state letter, None if there is no such process."""
    fields = stat_fields(pid)
    return fields[0] if fields is not None else None


def _running(pid: int) -> bool:
    return _state(pid) not in (None, "Z")


def _workers(ctl: str, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return [p["pid"] for p in query(ctl, "ps", timeout=1.0)["processes"] if "slot" in p]
        except (OSError, ValueError):
            assert time.monotonic() < deadline, f"no server answers on {ctl}"
            time.sleep(0.05)


def test_exit_with_parent_stops_the_server_a_killed_parent_started_and_only_that_one(tmp_path, isolated_network):
    ports = [free_udp_port(), free_udp_port()]
    cmds = []
    for n, port in enumerate(ports):
        cmd = [sys.executable, "-m", "sipsim", "serve", "--listen", f"127.0.0.1:{port}", "--workers", "2",
               "--db", str(tmp_path / f"l{n}.sqlite"), "--control", str(tmp_path / f"c{n}.sock")]
        cmds.append((cmd + ["--exit-with-parent"] if n == 0 else cmd, str(tmp_path / f"serve{n}.log")))
    parent = subprocess.Popen([sys.executable, "-c", PARENT, json.dumps(cmds)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    left: list[int] = []
    try:
        servers = json.loads(parent.stdout.readline())
        left = list(servers)  # whatever happens next, both attendants are stopped below
        bound, free = ([servers[0], *_workers(str(tmp_path / "c0.sock"))],
                       [servers[1], *_workers(str(tmp_path / "c1.sock"))])
        left = bound + free
        os.kill(parent.pid, signal.SIGKILL)  # as a TUI killed with -9
        parent.wait(timeout=5)
        deadline = time.monotonic() + 3.0
        while any(_running(p) for p in bound) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in bound if _running(p)], (bound, (tmp_path / "serve0.log").read_text())
        assert "is gone: stopping (--exit-with-parent)" in (tmp_path / "serve0.log").read_text()
        # the port is free again; the server without the option still serves (nohup)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", ports[0]))
        assert all(_running(p) for p in free), free
        assert ask_options(ports[1]) == "SIP/2.0 200 OK"
    finally:
        if parent.poll() is None:
            os.kill(parent.pid, signal.SIGKILL)
            parent.wait(timeout=5)
        for pid in left:  # not our children any more: stopped by PID, attendants first
            if _running(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while any(_running(p) for p in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in left:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_parts_of_an_attendant_killed_with_sigkill_are_merged_apart_by_the_next_start(tmp_path, isolated_network):
    from sipsim.packets.pcap import read_capture

    pcap = tmp_path / "calls.pcap"
    srv = LiveServer(tmp_path, workers=2, args=["--pcap", str(pcap)]).start()
    try:
        workers = srv.worker_pids()
        assert ask_options(srv.port) == "SIP/2.0 200 OK"
        os.kill(srv.pid, signal.SIGKILL)
        srv.proc.wait(timeout=5)
        deadline = time.monotonic() + 3  # the workers leave with their attendant (PR_SET_PDEATHSIG)
        while any(_running(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(_running(p) for p in workers)
    finally:
        srv.stop()
    parts = sorted(tmp_path.glob("calls.pcap.*.part"))
    assert len(parts) == 2 and not pcap.exists(), parts
    assert {stat.S_IMODE(p.stat().st_mode) for p in parts} == {0o600}  # they quote every message
    again = LiveServer(tmp_path, workers=1, args=["--pcap", str(pcap)], port=srv.port).start()
    try:
        log = again.log_text()
        assert ask_options(again.port, cseq=2) == "SIP/2.0 200 OK"
    finally:
        again.stop()
    recovered = tmp_path / "calls-recovered.pcap"
    assert f"left 2 capture part(s): merged 2 datagram(s) into {recovered}" in log, log
    old = read_capture(recovered, ports=srv.port).datagrams
    assert [(d.dst[1], d.data[:12]) for d in old] == [(srv.port, b"OPTIONS sip:"), (old[0].src[1], b"SIP/2.0 200 ")]
    assert b"CSeq: 1 OPTIONS" in old[0].data
    new = read_capture(pcap, ports=srv.port).datagrams  # this run's capture: this run only
    assert len(new) == 2 and b"CSeq: 2 OPTIONS" in new[0].data, new
    assert not list(tmp_path.glob("calls.pcap.*.part"))
    assert stat.S_IMODE(pcap.stat().st_mode) == stat.S_IMODE(recovered.stat().st_mode) == 0o600


def test_the_start_up_line_says_what_relay_means_for_the_script() -> None:
    """--relay defines (or not) SIPSIM_NO_RELAY for the script: the start-up line must not say
    "SIPSIM_NO_RELAY defined" for a script that relays everything and never reads it."""
    from sipsim.real.server import relay_words
    from sipsim.routing import DEFAULT_CFG

    forwarder = DEFAULT_CFG.parent / "forwarder.cfg"
    assert relay_words(None, False).startswith("off") and relay_words(None, True) == "on"
    assert "never reads SIPSIM_NO_RELAY, so --relay changes nothing" in relay_words(str(forwarder), False)
    assert relay_words(str(DEFAULT_CFG), False).endswith("(SIPSIM_NO_RELAY defined)")
    assert "undefined: --relay given" in relay_words(str(DEFAULT_CFG), True)
