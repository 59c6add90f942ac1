"""What ``sipsim serve`` logs: the reason of a refusal, a script's exception, and debug's steps.

The one line per message said ``replied 400 Bad Request`` without the header that failed, and
``dropped: KEMI script error at x.py:6`` without the exception; ``--log-level debug`` logged no
more than info. Now the line carries the reason, and debug adds each receive_msg step.
"""

from __future__ import annotations

import re
import socket

import pytest
from live_harness import LiveServer, ask_options, eventually, options_request

pytestmark = pytest.mark.network

SCRIPT = '''import KSR as KSR


def ksr_request_route(msg):
    if KSR.pv.get("$rU") == "late":
        KSR.sl.sl_send_reply(200, "OK")
        raise ValueError("broken after\\nthe answer")
    return {"a": 1}["missing"]
'''


def _send(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.bind(("127.0.0.1", 0))
        c.sendto(data.replace(b"{lp}", str(c.getsockname()[1]).encode()), ("127.0.0.1", port))


def _request(port: int, cseq: int, *, user: str = "", **changes: bytes) -> bytes:
    data = options_request(port, 0, cseq=cseq, callid=f"log{cseq}").replace(b"127.0.0.1:0;", b"127.0.0.1:{lp};")
    if user:
        data = data.replace(f"OPTIONS sip:127.0.0.1:{port}".encode(), f"OPTIONS sip:{user}@127.0.0.1:{port}".encode())
    for old, new in changes.values():
        data = data.replace(old, new)
    return data


def _lines(srv: LiveServer, level: str) -> list[str]:
    return [x for x in srv.log_text().splitlines() if f" {level} [" in x]


def test_script_errors_and_parse_failures_are_named_in_the_one_line(tmp_path, isolated_network):
    script = tmp_path / "raises.py"
    script.write_text(SCRIPT)
    with LiveServer(tmp_path, workers=1, args=["--route", str(script)]) as srv:
        _send(srv.port, _request(srv.port, 1))
        _send(srv.port, _request(srv.port, 2, user="late"))
        _send(srv.port, _request(srv.port, 3, via=(b"Via: SIP/2.0/UDP ", b"Via: SIP/2.0/UDP ;;;")))
        assert eventually(lambda: len([x for x in _lines(srv, "INFO") if " from 127.0.0.1:" in x]) == 3, 5.0), \
            srv.log_text()
        lines = [x for x in _lines(srv, "INFO") if " from 127.0.0.1:" in x]
        assert not _lines(srv, "DEBUG")  # info: not one step line
    assert lines[0].endswith(": dropped: KEMI script error at raises.py:8 (KeyError: 'missing')"), lines[0]
    assert lines[1].endswith(": replied 200 OK; then KEMI script error at raises.py:7 "
                             "(ValueError: broken after the answer)"), lines[1]
    assert re.search(r": replied 400 Bad Request \(expected a host at .+\)$", lines[2]), lines[2]


def test_debug_logs_each_step_and_a_refused_header_is_named(tmp_path, isolated_network):
    with LiveServer(tmp_path, workers=1, log_level="debug") as srv:
        assert ask_options(srv.port) == "SIP/2.0 200 OK"
        _send(srv.port, _request(srv.port, 2, bad=(b"CSeq: 2 OPTIONS", b"CSeq: x OPTIONS")))
        assert eventually(lambda: any("400 Bad Request" in x for x in _lines(srv, "INFO")), 5.0), srv.log_text()
        info = [x for x in _lines(srv, "INFO") if " from 127.0.0.1:" in x]
        debug = _lines(srv, "DEBUG")
    assert info[1].endswith(": replied 400 Bad Request (CSeq does not start with a number)"), info[1]
    first = info[0].split("] ", 1)[1].split(" ", 1)[0]  # "#<id>"
    steps = [x.split("] ", 1)[1] for x in debug if x.split("] ", 1)[1].startswith(first + " ")]
    names = [s.split(" ", 2)[1].rstrip(":") for s in steps]
    for step in ("recvfrom", "udp_rcv_loop", "receive_msg", "parse_msg", "request_route", "sl_send_reply",
                 "free_sip_msg"):
        assert step in names, (step, names)
    assert names.index("recvfrom") < names.index("parse_msg") < names.index("sl_send_reply") \
        < names.index("free_sip_msg")
    assert f"{first} parse_msg: first line 'OPTIONS sip:127.0.0.1:{srv.port}'" in "\n".join(steps)


def test_a_483_says_why_at_info_level(tmp_path, isolated_network):
    """Info level makes only the steps that decide (no narration): the reason must still reach
    the line — from the function that refused (mf_process_maxfwd_header), not from a step text."""
    with LiveServer(tmp_path, workers=1) as srv:
        _send(srv.port, _request(srv.port, 1, mf=(b"Max-Forwards: 70", b"Max-Forwards: 0")))
        assert eventually(lambda: any(" 483 " in x for x in _lines(srv, "INFO")), 5.0), srv.log_text()
        line = next(x for x in _lines(srv, "INFO") if " 483 " in x)
    assert line.endswith(": replied 483 Too Many Hops (Max-Forwards is 0)"), line
