"""What ``sipsim serve`` says and counts, after a review of live mode.

* a registrar refusal names its reason at info level (``Contact: *`` with a non-zero Expires, a
  stale CSeq), not just ``replied 400 Bad Request``;
* the script's ``xlog`` (here KSR.info/warn/dbg) is logged at the level it names, at info level
  too, as Kamailio prints it — it used to appear only as a DEBUG step line at ``--log-level debug``;
* ``localhost`` is "myself" on a loopback listen, as Kamailio's auto_aliases makes it;
* ``sipsim location`` shows usrloc's ``Received:: [not set]`` (no nathelper) and the REGISTER's
  source as ``Source::``;
* a datagram a held worker (live-step) took is counted in ``rcv_datagrams`` at once.
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from live_harness import LiveServer, eventually, options_request, wait_all_asleep

from sipsim.real.netinfo import loopback_aliases
from sipsim.real.observe import Observer

pytestmark = pytest.mark.network


def _register(port: int, local: int, *, domain: str, cseq: int, contact: str, expires: int,
              callid: str = "reg-review") -> bytes:
    return (f"REGISTER sip:{domain} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-r{cseq}-{callid}\r\n"
            f"From: <sip:carol@{domain}>;tag=r{cseq}\r\nTo: <sip:carol@{domain}>\r\n"
            f"Call-ID: {callid}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\nExpires: {expires}\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def _ask(port: int, data: bytes, sock: socket.socket) -> str:
    sock.sendto(data, ("127.0.0.1", port))
    try:
        return sock.recvfrom(65535)[0].split(b"\r\n", 1)[0].decode("latin-1")
    except TimeoutError:
        return ""


def _client() -> socket.socket:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    c.settimeout(2.0)
    return c


def _lines(srv: LiveServer, level: str) -> list[str]:
    return [x.split("] ", 1)[1] for x in srv.log_text().splitlines() if f" {level} [" in x]


def test_registrar_refusals_say_why_and_localhost_is_myself(tmp_path, isolated_network):
    with LiveServer(tmp_path, workers=1) as srv, _client() as c:
        local = c.getsockname()[1]
        here = f"127.0.0.1:{local}"
        # localhost: an alias on a loopback listen (it was 403 Relaying Forbidden)
        ok = _register(srv.port, local, domain=f"localhost:{srv.port}", cseq=5, contact=f"<sip:carol@{here}>",
                       expires=600)
        assert _ask(srv.port, ok, c) == "SIP/2.0 200 OK"
        star = _register(srv.port, local, domain=f"localhost:{srv.port}", cseq=6, contact="*", expires=600)
        assert _ask(srv.port, star, c) == "SIP/2.0 400 Bad Request"
        stale = _register(srv.port, local, domain=f"localhost:{srv.port}", cseq=4, contact=f"<sip:carol@{here}>",
                          expires=600)
        assert _ask(srv.port, stale, c) == "SIP/2.0 400 Bad Request"
        assert eventually(lambda: len([x for x in _lines(srv, "INFO") if " REGISTER " in x]) == 3, 5.0), \
            srv.log_text()
        info = [x for x in _lines(srv, "INFO") if " REGISTER " in x]
        listing = subprocess.run([sys.executable, "-m", "sipsim", "location", "--db", str(srv.db)],
                                 capture_output=True, text=True, timeout=30)
        notice = _lines(srv, "NOTICE")[0]
    assert info[0].endswith(": replied 200 OK"), info[0]
    assert info[1].endswith(": replied 400 Bad Request (* used in contact and expires is not zero)"), info[1]
    assert info[2].endswith(": replied 400 Bad Request (Invalid CSeq number)"), info[2]
    assert notice.endswith(f", alias localhost:{srv.port} (auto_aliases, as Kamailio names its loopback listen)"), \
        notice
    # usrloc's received is set only by nathelper; the source is sipsim's own line
    assert listing.returncode == 0, listing.stderr
    assert "\t\t\tReceived:: [not set]\n" in listing.stdout, listing.stdout
    assert f"\t\t\tSource:: {here} (where the REGISTER came from" in listing.stdout, listing.stdout


def test_loopback_aliases_only_where_the_loopback_name_points() -> None:
    assert loopback_aliases("127.0.0.1", 5070) == ("localhost:5070",)
    assert loopback_aliases("[::1]", 5060) == ("localhost:5060",)
    assert loopback_aliases("0.0.0.0", 5060) == ("localhost:5060",)  # the wildcard receives on 127.0.0.1 too
    assert loopback_aliases("127.0.0.2", 5060) == ()  # /etc/hosts names another loopback address nothing
    assert loopback_aliases("192.0.2.1", 5060) == ()


SCRIPT = '''import KSR as KSR


def ksr_request_route(msg):
    KSR.info("saw " + KSR.pv.get("$rm") + " from " + KSR.pv.get("$si") + "\\n")
    KSR.warn("a warning for the operator\\n")
    KSR.dbg("only at debug\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return 1
'''


@pytest.mark.parametrize("level", ["info", "warning"])
def test_xlog_lines_are_logged_at_their_own_level(tmp_path, isolated_network, level):
    script = tmp_path / "talks.py"
    script.write_text(SCRIPT)
    with LiveServer(tmp_path, workers=1, args=["--route", str(script)], log_level=level) as srv, _client() as c:
        assert _ask(srv.port, options_request(srv.port, c.getsockname()[1]), c) == "SIP/2.0 200 OK"
        assert eventually(lambda: any("xlog: a warning" in x for x in _lines(srv, "WARNING")), 5.0), srv.log_text()
        if level == "info":
            assert eventually(lambda: any(" from 127.0.0.1:" in x for x in _lines(srv, "INFO")), 5.0)
        info, warning, debug = _lines(srv, "INFO"), _lines(srv, "WARNING"), _lines(srv, "DEBUG")
    xinfo = [x for x in info if " xlog: " in x]
    assert [x.split(" ", 1)[1] for x in warning if " xlog: " in x] == ["xlog: a warning for the operator"]
    assert not debug  # L_DBG stays below info
    if level == "info":
        assert [x.split(" ", 1)[1] for x in xinfo] == ["xlog: saw OPTIONS from 127.0.0.1"], info
        assert xinfo[0].startswith("#")  # which message said it: its id, as in the one line per message
    else:
        assert not info  # warning level: neither the info xlog nor the per-message line


def test_a_held_datagram_is_counted_received_at_once(tmp_path, isolated_network):
    """Live-step: the worker holds the datagram it took; the server's rcv_datagrams counts it
    already (the TUI's Socket panel read 'received 0' while Workers said 'handled 2')."""
    with Observer(str(tmp_path / "obs.sock")) as obs, \
            LiveServer(tmp_path, workers=1, observe=obs.path, args=["--step-control"]) as srv, _client() as c:
        wait_all_asleep(srv.worker_pids())
        c.sendto(options_request(srv.port, c.getsockname()[1]), ("127.0.0.1", srv.port))
        held = None
        deadline = 50
        while held is None and deadline:
            ev = obs.next(timeout=0.1)
            deadline -= 1
            if ev is not None and ev["type"] == "ready":
                held = ev
        assert held is not None and held["step"] == "recvfrom", "the worker holds the datagram"
        assert srv.stats()["rcv_datagrams"] == 1
        obs.set_stepping(False, [held["worker"]])
        assert c.recvfrom(65535)[0].startswith(b"SIP/2.0 200 OK")
        assert eventually(lambda: srv.stats()["rcv_datagrams"] == 1, 2.0)  # counted once, not again at the end
