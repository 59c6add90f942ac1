"""sl's ACK filter across forked workers: the 404 leaves through one worker, its ACK wakes another.

Kamailio keeps sl's reply time in shared memory; sipsim's live workers share it through a
``MAP_SHARED`` mapping (``sipsim.real.shared_clock``). With one time per worker, the second
worker would not know a reply went out and would hand the ACK to the script.
"""

from __future__ import annotations

import os
import re

import pytest
from live_harness import LiveServer, eventually, recv_answer, udp_client, wait_all_asleep

from sipsim.real.shared_clock import SharedSlTimeout

pytestmark = pytest.mark.network


def test_the_reply_time_written_by_one_process_is_read_by_another() -> None:
    shared = SharedSlTimeout()
    assert not shared.expects_ack(0.0)
    pid = os.fork()
    if pid == 0:  # the child sends "a reply" at t=10 and leaves at once
        shared.replied(10.0)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert shared.expects_ack(11.9) and not shared.expects_ack(12.0)


def test_an_ack_handled_by_another_worker_is_still_swallowed(tmp_path, isolated_network) -> None:
    with LiveServer(tmp_path, workers=2) as srv, udp_client() as c:
        pids = srv.worker_pids()
        lp = c.getsockname()[1]
        invite = (f"INVITE sip:nobody@127.0.0.1:{srv.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bKsh1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"
                  f"To: <sip:nobody@127.0.0.1>\r\nCall-ID: shared-ack\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                  "Content-Length: 0\r\n\r\n").encode()
        wait_all_asleep(pids)
        c.sendto(invite, ("127.0.0.1", srv.port))
        answer = recv_answer(c, 3.0)
        assert answer is not None and answer.startswith(b"SIP/2.0 404 "), answer
        tag = re.search(rb"\r\nTo: [^\r]*;tag=([^;\r]+)", answer).group(1)
        ack = (invite.replace(b"INVITE sip", b"ACK sip", 1).replace(b"CSeq: 1 INVITE", b"CSeq: 1 ACK")
               .replace(b"To: <sip:nobody@127.0.0.1>", b"To: <sip:nobody@127.0.0.1>;tag=" + tag))
        wait_all_asleep(pids)  # both asleep again: FIFO wakes the other worker for the ACK
        c.sendto(ack, ("127.0.0.1", srv.port))
        assert eventually(lambda: srv.query("stats")["sl"]["received_ACKs"] == 1, 3.0), srv.query("stats")
        lines = [ln for ln in srv.log_text().splitlines() if re.search(r" (INVITE|ACK) sip:nobody@", ln)]
        handled_by = {re.search(r" INFO \[(\d+)\] ", ln).group(1) for ln in lines}
        assert len(lines) == 2 and len(handled_by) == 2, lines  # two different workers, one reply time
