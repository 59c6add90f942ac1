"""sl_send_reply's parameters given as variables, against the real Kamailio 5.6.3 (kamdiff.py).

Kamailio reads a code given as one pseudo-variable by its *type*, not its text: a variable holding
a number (``$var(i) = 404``, ``$avp(c)``, ``$rp``) is that code; one holding text -- ``$hdr(X)``
even when it reads ``404``, ``$rU``, ``$cs`` (the CSeq number is text in Kamailio), a ``$var``
assigned ``"405"`` -- or ``$null`` is "Could not convert PV to int", and sl answers its default
**500** with the given reason (and returns true). A reason that is one variable holding ``$null``
becomes ``Internal Server Error``; one holding a number is its digits; in a longer text ``$null``
prints ``<null>``. ``send_reply`` (no tm) does the same.

``$cs`` is text in Kamailio (``$cs + 1`` appends): :func:`test_the_cseq_number_is_text`.

One difference is left, on purpose: a variable's code outside 100..699 is sent by Kamailio as its
last three digits (``$hdrc(Via)`` = 1 as ``001``, ``$sp`` = 5060 as ``060``); sipsim sends nothing
and says the code is invalid. :func:`test_an_out_of_range_code_is_the_difference_left` pins both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

SCRIPT = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"

request_route {
	$var(i) = 404;
	$var(s) = "405";
	$var(h) = $hdr(X-Code);
	$avp(c) = 406;
	switch ($hdr(X-Act)) {
	case "hdr": sl_send_reply("$hdr(X-Code)", "hdr"); break;
	case "int": sl_send_reply("$var(i)", "int"); break;
	case "str": sl_send_reply("$var(s)", "str"); break;
	case "varh": sl_send_reply("$var(h)", "varh"); break;
	case "null": sl_send_reply("$hdr(X-None)", "null"); break;
	case "send": send_reply("$hdr(X-Code)", "send"); break;
	case "avp": sl_send_reply("$avp(c)", "avp"); break;
	case "cs": sl_send_reply("$cs", "cs"); break;
	case "rp": sl_send_reply("$rp", "rp"); break;
	case "rU": sl_send_reply("$rU", "rU"); break;
	case "reason-int": sl_send_reply("$var(i)", "$var(i)"); break;
	case "reason-null": sl_send_reply("$var(i)", "$hdr(X-None)"); break;
	case "reason-null-in-text": sl_send_reply("$var(i)", "x $hdr(X-None)"); break;
	case "reason-text": sl_send_reply("$var(i)", "$hdr(X-Code)"); break;
	case "rc":
		if (sl_send_reply("$hdr(X-Code)", "rc")) { xlog("L_INFO", "true $rc\\n"); }
		else { xlog("L_INFO", "false $rc\\n"); }
		break;
	default: sl_send_reply("200", "OK");
	}
}
"""

OUT_OF_RANGE = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"

request_route {
	if ($hdr(X-Act) == "hdrc") { sl_send_reply("$hdrc(Via)", "hdrc"); exit; }
	sl_send_reply("$sp", "sp");
}
"""


def _msg(n: int, act: str, code: str = "404", ruri: str = "sip:bob@127.0.0.1") -> bytes:
    return crafted.request("OPTIONS", ruri, n=n, extra=(f"X-Act: {act}", f"X-Code: {code}"))


def test_a_code_in_a_variable_must_be_a_number(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(SCRIPT)
    acts = ["hdr", "int", "str", "varh", "null", "send", "avp", "cs", "rU", "reason-int", "reason-null",
            "reason-null-in-text", "reason-text", "rc"]
    messages = [_msg(n, act) for n, act in enumerate(acts, start=1)]
    messages += [_msg(90, "rp", ruri="sip:bob@127.0.0.1:486"), _msg(91, "rU", ruri="sip:404@127.0.0.1"),
                 _msg(92, "hdr", code="abc"), _msg(93, "rc", code="abc")]
    data = [(m, crafted.UA) for m in messages]
    seen_k, seen_s = kamdiff.kamailio_run(SCRIPT, data), kamdiff.sipsim_run(path, data)
    firsts = []
    for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)):
        assert kamdiff.agree(k, s), kamdiff.describe(f"message {i}", k, s)
        firsts.append(k.sent[0][1].split("\r\n", 1)[0])
    # what the comparison covered, so that it cannot pass on nothing
    assert firsts[:9] == ["SIP/2.0 500 hdr", "SIP/2.0 404 int", "SIP/2.0 500 str", "SIP/2.0 500 varh",
                          "SIP/2.0 500 null", "SIP/2.0 500 send", "SIP/2.0 406 avp", "SIP/2.0 500 cs",
                          "SIP/2.0 500 rU"]
    assert firsts[9:13] == ["SIP/2.0 404 404", "SIP/2.0 404 Internal Server Error", "SIP/2.0 404 x <null>",
                            "SIP/2.0 404 404"]
    assert seen_k[13].logs == ["true 1"] and firsts[14] == "SIP/2.0 486 rp"


def test_an_out_of_range_code_is_the_difference_left(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(OUT_OF_RANGE)
    data = [(_msg(1, "hdrc"), crafted.UA), (_msg(2, "sp"), crafted.UA)]
    seen_k, seen_s = kamdiff.kamailio_run(OUT_OF_RANGE, data), kamdiff.sipsim_run(path, data)
    assert [k.sent[0][1].split("\r\n", 1)[0] for k in seen_k] == ["SIP/2.0 001 hdrc", "SIP/2.0 060 sp"]
    assert [s.sent for s in seen_s] == [[], []]
    assert [k.lines for k in seen_k] == [s.lines for s in seen_s]


CSEQ = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"

request_route {
	if ($cs > 5) { xlog("L_INFO", "gt\\n"); } else { xlog("L_INFO", "not gt\\n"); }
	$var(x) = $cs + 1;
	$var(y) = 1 + $cs;
	xlog("L_INFO", "x=$var(x) y=$var(y)\\n");
	if ($cs == "010") { xlog("L_INFO", "eq010\\n"); }
	if ($cs == 10) { xlog("L_INFO", "eq10\\n"); }
	sl_send_reply("200", "OK");
}
"""


def test_the_cseq_number_is_text(tmp_path: Path, isolated_network: None) -> None:
    """``$cs`` is text: ``+`` appends, ``==`` compares the text, ``>`` converts."""
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(CSEQ)
    data = [(crafted.request("OPTIONS", "sip:bob@127.0.0.1", n=n, cseq=f"{c} OPTIONS"), crafted.UA)
            for n, c in ((1, "10"), (2, "010"))]
    seen_k, seen_s = kamdiff.kamailio_run(CSEQ, data), kamdiff.sipsim_run(path, data)
    for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)):
        assert kamdiff.agree(k, s), kamdiff.describe(f"message {i}", k, s)
    assert [k.logs for k in seen_k] == [["gt", "x=101 y=11", "eq10"], ["gt", "x=0101 y=11", "eq010"]]
