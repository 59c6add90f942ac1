"""sipp phones through `sipsim serve`'s default route: a callee that is busy, and a caller that gives up
while the callee rings.

A stateless proxy keeps no transaction, so the ACK for a non-2xx answer and a CANCEL find the
callee only because the proxy computes its own Via branch from what they share with the INVITE
(RFC 3261 §16.11: the same branch for the same request, CANCEL and non-2xx ACK included), as
Kamailio's stateless forward() does. Each sipp callee (tests/data/sipp/uas-busy.xml,
uas-cancel.xml) compares the branches it receives with the INVITE's and fails the call when one
differs; the caller fails when an answer does not come back through the proxy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import DATA, free_udp_port, need_tool, stop_pid
from live_harness import LiveServer, register, run_sipp

pytestmark = [pytest.mark.network, pytest.mark.sipp, pytest.mark.timeout(30)]

SIPP = DATA / "sipp"


def _flow(sipp: str, tmp: Path, uac: str, uas: str) -> tuple[dict[str, int], int, dict[str, int], str]:
    """Register a sipp callee as 'bob', have a sipp caller call bob once; both results and the stats."""
    port = free_udp_port()
    callee = subprocess.Popen([sipp, "-sf", str(SIPP / uas), "-i", "127.0.0.1", "-p", str(port), "-m", "1",
                               "-nostdin", "-timeout", "8"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=tmp)
    try:
        with LiveServer(tmp, workers=2) as srv:
            reg = register(sipp, tmp, srv.port, "bob", f"127.0.0.1:{port}")
            assert reg["SuccessfulCall"] == 1, reg
            res = run_sipp(sipp, tmp, ["-sf", str(SIPP / uac), f"127.0.0.1:{srv.port}", "-s", "bob",
                                       "-p", str(free_udp_port()), "-m", "1", "-recv_timeout", "3000"],
                           timeout=10, name=uac)
            callee_rc = callee.wait(timeout=5)
            stats, log = srv.stats(), srv.log_text()
    finally:
        stop_pid(callee)
    return res, callee_rc, stats, log  # type: ignore[return-value]


def test_busy_callee_gets_the_ack_with_the_invites_branch(tmp_path: Path, isolated_network: None) -> None:
    sipp = need_tool("sipp")
    res, callee_rc, stats, log = _flow(sipp, tmp_path, "uac-busy.xml", "uas-busy.xml")
    assert res["rc"] == 0 and res["SuccessfulCall"] == 1 and res["FailedCall"] == 0, res
    assert callee_rc == 0, "the callee saw no ACK, or one with another branch than the INVITE's"
    assert stats["rcv_replies_486"] == 1 and stats["rcv_requests_ack"] == 1, stats
    assert stats["fwd_requests"] == 2 and stats["fwd_replies"] == 1 and stats["err_requests"] == 0, stats
    assert " ACK sip:bob@" in log and "forwarded to 127.0.0.1:" in log


def test_cancel_while_ringing_reaches_the_callee_with_the_invites_branch(tmp_path: Path,
                                                                          isolated_network: None) -> None:
    sipp = need_tool("sipp")
    res, callee_rc, stats, _ = _flow(sipp, tmp_path, "uac-cancel.xml", "uas-cancel.xml")
    assert res["rc"] == 0 and res["SuccessfulCall"] == 1 and res["FailedCall"] == 0, res
    assert callee_rc == 0, "the callee saw no CANCEL/ACK, or one with another branch than the INVITE's"
    # INVITE, CANCEL, ACK forwarded by lookup(); 180, 200 (CANCEL), 487 back by Via
    assert stats["fwd_requests"] == 3 and stats["fwd_replies"] == 3, stats
    assert stats["rcv_requests_cancel"] == 1 and stats["rcv_replies_2xx_cancel"] == 1, stats
    assert stats["rcv_replies_4xx_invite"] == 1 and stats["rcv_replies_18x"] == 1, stats
