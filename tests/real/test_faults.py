"""Faults: a worker killed mid-run is replaced within a second; SIGTERM stops everything cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest
from helpers import free_udp_port, need_tool, stop_pid
from live_harness import REGISTER_XML, LiveServer, register, run_sipp, sipp_counters, start_uas, uac_args

from sipsim.real.procinfo import stat_fields

pytestmark = [pytest.mark.network, pytest.mark.sipp]


def _state(pid: int) -> str | None:
    """The process's state letter, None if there is no such process."""
    fields = stat_fields(pid)
    return fields[0] if fields is not None else None


def test_kill_a_worker_during_calls_then_sigterm(tmp_path, isolated_network):
    sipp = need_tool("sipp")
    uas, uas_port = start_uas(sipp, tmp_path)
    try:
        srv = LiveServer(tmp_path, workers=4).start()
        try:
            assert register(sipp, tmp_path, srv.port, "bob", f"127.0.0.1:{uas_port}")["rc"] == 0
            calls = 300
            uac = run_sipp(sipp, tmp_path, uac_args(srv.port, "bob", calls, 100), name="uac", background=True)
            time.sleep(1.0)
            before = srv.worker_pids()
            victim = before[1]
            os.kill(victim, signal.SIGKILL)
            t0 = time.monotonic()
            while True:
                now = srv.worker_pids()
                if victim not in now and len(now) == 4 and all(p > 0 for p in now):
                    break
                assert time.monotonic() - t0 < 1.0, f"no new worker within 1 s: {now}"
                time.sleep(0.01)
            respawn_time = time.monotonic() - t0
            new = (set(now) - set(before)).pop()
            assert now[1] == new, "the new worker took the dead one's slot"
            uac.wait(timeout=60)
            res = sipp_counters(uac.stf)
            # registrations keep coming while we stop the server: the DB is being written
            regs = run_sipp(sipp, tmp_path, ["-sf", str(REGISTER_XML), f"127.0.0.1:{srv.port}", "-s", "carol",
                                             "-set", "contact", f"127.0.0.1:{uas_port}", "-p", str(free_udp_port()),
                                             "-m", "100000", "-r", "300", "-recv_timeout", "2000"],
                            name="regs", background=True)
            time.sleep(0.7)
            workers = srv.worker_pids()
            t1 = time.monotonic()
            os.kill(srv.pid, signal.SIGTERM)
            srv.proc.wait(timeout=5)
            gone_in = time.monotonic() - t1
            stop_pid(regs)
            log = srv.log_text()
        finally:
            srv.stop()
    finally:
        stop_pid(uas)
    # a stateless worker holds at most the one message it is handling: at most one call can fail
    # (sipp retransmits INVITE and BYE, so usually none does)
    assert res["SuccessfulCall"] + res["FailedCall"] == calls, res
    assert res["FailedCall"] <= 1, res
    assert f"worker {victim} (slot 1) was killed by signal 9 (SIGKILL); respawned as {new}" in log
    assert respawn_time < 1.0
    assert srv.proc.returncode == 0 and gone_in < 2.0, (srv.proc.returncode, gone_in)
    for pid in workers + [srv.pid]:
        assert _state(pid) in (None,), f"process {pid} left behind in state {_state(pid)}"
    assert "did not leave" not in log, "every worker finished its message and left by itself"
    conn = sqlite3.connect(srv.db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    aors = {row[0] for row in conn.execute("SELECT aor FROM location")}
    conn.close()
    assert {"bob", "carol"} <= aors
    out = subprocess.run([os.sys.executable, "-m", "sipsim", "location", "--db", str(srv.db), "--aor", "bob"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0 and f"sip:bob@127.0.0.1:{uas_port}" in out.stdout


def test_child_death_shuts_the_server_down_like_kamailio(tmp_path, isolated_network):
    srv = LiveServer(tmp_path, workers=3, args=["--on-child-death", "shutdown"]).start()
    try:
        pids = srv.worker_pids()
        os.kill(pids[0], signal.SIGKILL)
        srv.proc.wait(timeout=3)
        log = srv.log_text()
    finally:
        srv.stop()
    assert srv.proc.returncode == 1
    assert "shutting down the server" in log
    assert all(_state(p) is None for p in pids)
