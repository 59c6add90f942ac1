"""Scripts a learner writes, after Kamailio's default kamailio.cfg, against the real Kamailio 5.6.3:
the same datagrams, executed cfg lines and xlog output for every message (tests/routing/kamdiff.py).

* ``cfgs/learner_proxy.cfg``: REQINIT/WITHINDLG/RELAY routes, keepalive OPTIONS, sanity, a blocked
  network, loose_route, record_route, $ru/$du rewriting for a PSTN gateway, append_hf/remove_hf;
* ``cfgs/learner_features.cfg``: core tests, append_to_reply and a 302, route() return codes,
  switch, URI rewrites, flags, an indexed $hdr, onreply_route with status tests;
* ``cfgs/learner_misc.cfg``: a $var counter, xlog with one parameter, strip/strip_tail (Kamailio
  traces ``striptail``), append_hf without CRLF, ``log("...")`` (level 4: Kamailio prints nothing
  at debug=3), forward(host, port);
* ``cfgs/learner_values.cfg`` and ``cfgs/learner_rewrites.cfg``: netmasks, loops adding headers,
  values built from variables, recursive routes; R-URI parts rewritten and reverted, $du unset,
  onreply_route editing replies.

What they found is fixed (the ``striptail`` trace name, ``log()``'s level, ``append_to_reply``
which was not modelled). Two differences are left, each pinned in its exact form:
:func:`test_max_forwards_read_after_it_was_decremented` and :func:`test_append_to_reply_without_crlf`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFGS = Path(__file__).parent / "cfgs"
R = crafted.request
DIALOG = "<sip:bob@example.com>;tag=b1"
UAS = ("192.0.2.9", 5060)


def _proxy() -> list[tuple[bytes, tuple[str, int]]]:
    ua = crafted.UA
    return [
        (R("INVITE", "sip:bob@example.com", extra=("Contact: <sip:alice@192.0.2.1>", "User-Agent: softphone 1.0",
                                                    "Route: <sip:127.0.0.1;lr>"), n=1), ua),
        (R("INVITE", "sip:+15551234@127.0.0.1", extra=("Contact: <sip:alice@192.0.2.1>",), n=2), ua),
        (R("INVITE", "sip:5551234@127.0.0.1;user=phone", maxfwd="10", n=3), ua),
        (R("INVITE", "sip:carol@127.0.0.1", n=4), ua),
        (R("OPTIONS", "sip:127.0.0.1", n=5), ua),
        (R("OPTIONS", "sip:bob@example.com", maxfwd="0", n=6), ua),
        (R("MESSAGE", "sip:127.0.0.1:5060", n=7), ua),
        (R("BYE", "sip:bob@192.0.2.9", to=DIALOG, extra=("Route: <sip:127.0.0.1;lr>", "Route: <sip:192.0.2.77;lr>"),
           n=8), ua),
        (R("ACK", "sip:127.0.0.1", to=DIALOG, n=9), ua),
        (R("ACK", "sip:bob@192.0.2.9", to=DIALOG, n=10), ua),
        (R("INFO", "sip:bob@192.0.2.9", to=DIALOG, n=11), ua),
        (R("CANCEL", "sip:bob@example.com", n=12), ua),
        (R("INVITE", "sip:bob@192.0.2.9", n=13), ("198.51.100.7", 5060)),
        (R("INVITE", "sip:bob@192.0.2.9", cseq="14 BYE", n=14), ua),  # sanity: xlog with one parameter
        (R("SUBSCRIBE", "sip:bob@192.0.2.9",
           extra=("Event: presence", "Route: <sip:127.0.0.1;lr>, <sip:192.0.2.80;lr>"), n=15), ua),
        (R("BYE", "sip:127.0.0.1;lr", to=DIALOG, extra=("Route: <sip:192.0.2.81>",), n=16), ua),  # strict router
        (R("REGISTER", "sip:127.0.0.1", n=17), ua),
        (R("INVITE", "sip:dave@192.0.2.9", extra=("Route: <sip:192.0.2.77;lr>",), n=18), ua),  # a foreign Route
    ]


def _features() -> list[tuple[bytes, tuple[str, int]]]:
    ua = crafted.UA
    via = (crafted.OURS, crafted.UAC_VIA)
    return [
        (R("INVITE", "sip:echo@127.0.0.1", extra=("Subject: urgent call", "User-Agent: phone/2"), n=1), ua),
        (R("INVITE", "sip:voicemail@127.0.0.1", n=2), ua),
        (R("INVITE", "sip:0207946@127.0.0.1", extra=("X-Dest: 192.0.2.99:5099",), n=3), ua),
        (R("INVITE", "sip:bob@192.0.2.9", frm="<sip:mallory@evil.example>;tag=m1", n=4), ua),
        (R("REGISTER", "sip:127.0.0.1", n=5), ua),
        (R("OPTIONS", "sip:bob@192.0.2.9", extra=("X-Redirect: yes",), n=6), ua),
        (R("MESSAGE", "sip:bob@192.0.2.9", frm="<sip:alice@127.0.0.1>;tag=a1", n=7), ua),
        (R("MESSAGE", "sip:bob@192.0.2.9", n=8), ("192.0.2.1", 5080)),
        (crafted.reply(180, "Ringing", vias=via, extra=("Server: uas",)), UAS),
        (crafted.reply(503, "Busy", vias=via), UAS),
        (crafted.reply(200, "OK", vias=via, extra=("Server: uas",)), UAS),
    ]


def _misc() -> list[tuple[bytes, tuple[str, int]]]:
    ua = crafted.UA
    return [
        (R("INVITE", "sip:*72123#@127.0.0.1", n=1), ua),
        (R("INVITE", "sip:bob@192.0.2.9", extra=("User-Agent: friendly-scanner",), n=2), ua),
        (R("MESSAGE", "sip:bob@127.0.0.1", body="hello", extra=("Content-Type: text/plain",), n=3), ua),
        (R("OPTIONS", "sip:bob@192.0.2.9", maxfwd="3", n=4), ua),
        (R("OPTIONS", "sip:bob@192.0.2.9", maxfwd="100", n=5), ua),
        (R("INFO", "sip:bob@192.0.2.9", n=6), ("127.0.0.1", 5090)),
        (R("INVITE", "sip:bob@192.0.2.9", cseq="x INVITE", n=7), ua),
        (R("INVITE", "sip:bob@192.0.2.9", extra=("Content-Length: 5",), n=8), ua),
        (R("BYE", "sip:bob@192.0.2.9", to="<sip:bob@b>;tag=1", n=9), ua),
    ]


def _values() -> list[tuple[bytes, tuple[str, int]]]:
    ua = crafted.UA
    return [
        (R("INVITE", "sip:bob@192.0.2.9", n=1, body="v=0\r\n", extra=("Content-Type: application/sdp",)), ua),
        (R("INVITE", "sip:back@192.0.2.9", n=2), ua),
        (R("INVITE", "sip:to@127.0.0.1", to="<sip:carol@192.0.2.33:5066>", n=3), ua),
        (R("INVITE", "sip:avp@192.0.2.9", cseq="7 INVITE", n=4), ua),
        (R("INVITE", "sip:5551@atlanta.com", n=5, extra=("Proxy-Require: foo",)), ua),
        (R("OPTIONS", "sip:12345@192.0.2.9", n=6), ("198.51.100.9", 5070)),
        (R("MESSAGE", "sip:x@atlanta.com", n=7), ua),
    ]


def _rewrites() -> list[tuple[bytes, tuple[str, int]]]:
    ua = crafted.UA
    via = (crafted.OURS, crafted.UAC_VIA)
    return [
        (R("INVITE", "sip:rd@127.0.0.1", n=1), ua), (R("INVITE", "sip:null@192.0.2.9", n=2), ua),
        (R("INVITE", "sip:du@192.0.2.9", n=3), ua), (R("INVITE", "sip:rr@192.0.2.9", n=4), ua),
        (crafted.reply(486, "Busy Here", vias=via), UAS),
        (crafted.reply(200, "OK", vias=via, extra=("Contact: <sip:bob@192.0.2.9>",)), UAS),
        (crafted.reply(200, "OK", vias=via, method="BYE"), UAS),
    ]


@pytest.mark.parametrize(("script", "messages"), [("learner_proxy.cfg", _proxy), ("learner_features.cfg", _features),
                                                  ("learner_misc.cfg", _misc), ("learner_values.cfg", _values),
                                                  ("learner_rewrites.cfg", _rewrites)])
def test_a_learners_script_behaves_as_in_kamailio(script: str, messages, isolated_network: None) -> None:  # noqa: ANN001
    need_tool("kamailio")
    path = CFGS / script
    data = messages()
    seen_k, seen_s = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(f"{script} message {i}", k, s)
           for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)) if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    assert sum(len(k.sent) for k in seen_k) >= len(data) // 2 and any(k.logs for k in seen_k)  # not nothing


MAXFWD = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "maxfwd.so"

request_route {
	$var(mf) = $hdr(Max-Forwards);
	mf_process_maxfwd_header("10");
	xlog("L_INFO", "was [$var(mf)] reads [$hdr(Max-Forwards)]\\n");
	sl_send_reply("200", "OK");
}
"""


def test_max_forwards_read_after_it_was_decremented(tmp_path: Path, isolated_network: None) -> None:
    """Kamailio's maxfwd writes the new value into the received message's own buffer (right-aligned,
    ``10`` becomes `` 9``), so a later ``$hdr(Max-Forwards)`` reads it; sipsim's engine changes it
    with a lump, and the script still reads the value as received. A difference of sipsim/engine
    (maxfwd.py), left as it is here."""
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(MAXFWD)
    data = [(R("OPTIONS", "sip:bob@127.0.0.1", maxfwd=mf, n=n), crafted.UA) for n, mf in ((1, "70"), (2, "10"))]
    seen_k, seen_s = kamdiff.kamailio_run(MAXFWD, data), kamdiff.sipsim_run(path, data)
    assert [k.logs for k in seen_k] == [["was [70] reads [69]"], ["was [10] reads [ 9]"]]
    assert [s.logs for s in seen_s] == [["was [70] reads [70]"], ["was [10] reads [10]"]]
    assert [(k.sent, k.lines) for k in seen_k] == [(s.sent, s.lines) for s in seen_s]


REPLY_LUMPS = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"

request_route {
	append_to_reply("X-A: 1");
	append_to_reply("X-B: $si\\r\\n");
	sl_send_reply("403", "No");
}
"""


def test_append_to_reply_without_crlf(tmp_path: Path, isolated_network: None) -> None:
    """Kamailio copies append_to_reply's text as it is: without CRLF it runs into the next header;
    sipsim ends the line (the reply builder of sipsim/engine does) and its step says so."""
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(REPLY_LUMPS)
    data = [(R("INVITE", "sip:bob@127.0.0.1"), crafted.UA)]
    (k,), (s,) = kamdiff.kamailio_run(REPLY_LUMPS, data), kamdiff.sipsim_run(path, data)
    assert "\r\nX-A: 1X-B: 192.0.2.1\r\nServer: <server>\r\n" in k.sent[0][1]
    assert "\r\nX-A: 1\r\nX-B: 192.0.2.1\r\nServer: <server>\r\n" in s.sent[0][1]
    assert k.lines == s.lines


METHODS = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"

request_route {
	if (method == INVITE) { xlog("L_INFO", "eq INVITE\\n"); }
	if (method != INVITE) { xlog("L_INFO", "ne INVITE\\n"); }
	if (method =~ INV) { xlog("L_INFO", "re INV\\n"); }
	if (method == FOO) { xlog("L_INFO", "eq FOO\\n"); }
	if (is_method("INVITE|")) { xlog("L_INFO", "im INVITE|\\n"); }
	if (is_method("INVITE |BYE")) { xlog("L_INFO", "im INVITE |BYE\\n"); }
	if (is_method("INVITE,BYE")) { xlog("L_INFO", "im INVITE,BYE\\n"); }
	if (is_method(" bye\\t| prack ")) { xlog("L_INFO", "im bye prack\\n"); }
	if (is_method("foo")) { xlog("L_INFO", "im foo\\n"); }
	append_hf("X-After: 1\\r\\n", "Call-ID:");
	insert_hf("X-Before: 1\\r\\n", "CSeq :");
	forward("192.0.2.9", 5070);
}
"""


def test_method_tests_as_learners_write_them(tmp_path: Path, isolated_network: None) -> None:
    """``method == INVITE`` without quotes is ``method == "INVITE"`` (the grammar's ``METHOD strop
    ID``); is_method's list takes ``|`` or ``,`` with blanks around the names and a trailing
    separator; a header-name parameter may end in ``:``."""
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(METHODS)
    data = [(R(m, "sip:bob@127.0.0.1", n=n), crafted.UA)
            for n, m in enumerate(("INVITE", "invite", "BYE", "FOO", "foo", "PRACK"), start=1)]
    seen_k, seen_s = kamdiff.kamailio_run(METHODS, data), kamdiff.sipsim_run(path, data)
    for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)):
        assert kamdiff.agree(k, s), kamdiff.describe(f"message {i}", k, s)
    assert seen_k[0].logs == ["eq INVITE", "re INV", "im INVITE|", "im INVITE |BYE", "im INVITE,BYE"]
    assert seen_k[5].logs == ["ne INVITE", "im bye prack"]
    assert "\r\nCall-ID: call-1@atlanta.com\r\nX-After: 1\r\nX-Before: 1\r\nCSeq: 1 INVITE" in seen_k[0].sent[0][1]
