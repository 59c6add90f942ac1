"""A real peer: sipp registers a UAS under an AOR, then calls that AOR through `sipsim serve`.

Several workers on one socket may reorder a 180 and its 200, or a BYE and the ACK before it (two
datagrams back to back are taken by two workers; whichever finishes first sends first), so the
reorder-tolerant sipp scenarios are used (tests/data/sipp/README.md): that reordering is a lesson
about stateless multi-process proxies, not a failure of the proxy.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import need_tool, stop_pid
from live_harness import LiveServer, register, run_sipp, start_uas, uac_args

pytestmark = [pytest.mark.network, pytest.mark.sipp]

CALLS = 50


def test_sipp_calls_a_registered_uas_through_the_proxy(tmp_path, isolated_network):
    sipp = need_tool("sipp")
    uas, uas_port = start_uas(sipp, tmp_path)
    try:
        with LiveServer(tmp_path, workers=4) as srv:
            reg = register(sipp, tmp_path, srv.port, "alice", f"127.0.0.1:{uas_port}")
            assert reg["rc"] == 0 and reg["SuccessfulCall"] == 1, reg
            listing = subprocess.run([sys.executable, "-m", "sipsim", "location", "--db", str(srv.db)],
                                     capture_output=True, text=True, timeout=20)
            assert listing.returncode == 0, listing.stderr
            assert "AOR:: alice" in listing.stdout
            assert f"Contact:: sip:alice@127.0.0.1:{uas_port}" in listing.stdout

            res = run_sipp(sipp, tmp_path, uac_args(srv.port, "alice", CALLS, 50), timeout=60, name="uac")
            stats = srv.stats()
            log = srv.log_text()
    finally:
        stop_pid(uas)
    assert res["SuccessfulCall"] == CALLS and res["FailedCall"] == 0, res
    assert res["FailedUnexpectedMessage"] == 0 and res["rc"] == 0, res
    # every INVITE, ACK and BYE went through lookup() to the UAS; every 180/200/200 came back by Via
    assert stats["fwd_requests"] >= 3 * CALLS and stats["fwd_replies"] >= 3 * CALLS, stats
    assert stats["err_requests"] == 0 and stats["drop_requests"] == 0 and stats["send_refused"] == 0, stats
    forwarded = [ln for ln in log.splitlines() if " INVITE sip:alice@" in ln and f"to 127.0.0.1:{uas_port}" in ln]
    assert len(forwarded) >= CALLS, "one info line per message, with the outcome"
