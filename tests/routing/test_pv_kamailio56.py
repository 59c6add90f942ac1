"""Pseudo-variables and core tests against the real Kamailio 5.6.3 (tests/routing/kamdiff.py):

* a variable as an index: ``$(hdr(Via)[$var(i)])`` in a loop, ``$(avp(x)[$var(j)])``, a negative
  one (the last header; no AVP), one past the end, one that holds text (Kamailio: "invalid index
  value", xlog prints nothing);
* the variables added here: ``$ou $oU $od $op $oP $rP $dd $dp $dP $cT $cl $bs $su $RAi $RAp $mf $fs``;
* lazy parsing seen from variables: with a second From after ``User-Agent``, ``$ua`` is read (its
  header comes first) while ``$hdr(X)`` and ``is_present_hf`` need every header and fail;
* ``uri == myself`` on an R-URI that does not parse is an error: false alone, false with ``!``,
  but "not 0" next to another, non-constant test;
* ``is_myself("SIP:bob@...")``: an upper-case scheme is not a URI for kex.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route
from sipsim.routing.errors import CfgError

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

HEAD = ('loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\nloadmodule "textops.so"\n'
        'loadmodule "kex.so"\n\n')

INDEX = HEAD + """request_route {
	$var(i) = 0;
	while ($var(i) < $hdrc(Via)) {
		xlog("L_INFO", "via[$var(i)]=$(hdr(Via)[$var(i)])\\n");
		$var(i) = $var(i) + 1;
	}
	$var(j) = 0;
	while ($var(j) < 3) {
		$avp(stack) = "item" + $var(j);
		$var(j) = $var(j) + 1;
	}
	$avp(k) = 1;
	xlog("L_INFO", "all=$(avp(stack)[*]) j=$(avp(stack)[$var(j)]) k=$(avp(stack)[$avp(k)])\\n");
	$var(n) = -1; $var(t) = "1";
	xlog("L_INFO", "last=$(hdr(Via)[$var(n)]) avp-1=$(avp(stack)[$var(n)]) text=[$(hdr(Via)[$var(t)])]\\n");
	$var(i) = 1;
	if ($(hdr(Via)[$var(i)]) =~ "10.0.0.2") { xlog("L_INFO", "second via in an expression\\n"); }
	sl_send_reply("200", "OK");
}
"""

MORE = HEAD + """request_route {
	xlog("L_INFO", "ou=$ou oU=$oU od=$od op=$op oP=$oP rP=$rP su=$su RAi=$RAi RAp=$RAp fs=$fs rp=$rp\\n");
	xlog("L_INFO", "cT=$cT cl=$cl bs=$bs mf=$mf dd=$dd dp=$dp\\n");
	setflag(3);
	$ru = "sip:carol@192.0.2.7:5090;transport=tcp";
	$du = "sip:192.0.2.8;transport=sctp";
	xlog("L_INFO", "after: ou=$ou oU=$oU rP=$rP dd=$dd dp=$dp dP=$dP mf=$mf sf=$sf\\n");
	sl_send_reply("200", "OK");
}
"""

LAZY = HEAD + """request_route {
	xlog("L_INFO", "ua=$ua xnum=$hdr(X-Num) from=$hdr(From) cnt=$hdrc(From)\\n");
	if (is_present_hf("User-Agent")) { xlog("L_INFO", "User-Agent present\\n"); }
	if (is_present_hf("X-Num")) { xlog("L_INFO", "X-Num present\\n"); }
	sl_send_reply("200", "OK");
}
"""

#: conditions on an R-URI that does not parse (``$var(x)`` is 0)
CONDS = ["uri == myself", "uri != myself", "!(uri == myself)", 'uri == myself || $rd == "localhost"',
         "$var(x) == 1 || uri == myself", "uri == myself || 1 == 0", "uri == myself || 0", "0 || uri == myself",
         "uri == myself && 1", "uri == myself && $var(x) == 0", "uri == myself && $var(x) == 1",
         "!(uri == myself) || $var(x) == 1", "(uri == myself || 0) || $var(x) == 1", "uri == myself || !1",
         "uri == myself || $var(x)", "1 || uri == myself", '$rd == "zzz" || 0', "!(uri == myself || $var(x) == 1)"]
MYSELF = HEAD + 'request_route {\n\t$var(x) = 0;\n\tif ($hdr(X-Act) == "garbage") { $ru = "not a uri"; }\n' + "".join(
    f'\tif ({c}) {{ xlog("L_INFO", "{i}: true\\n"); }} else {{ xlog("L_INFO", "{i}: false\\n"); }}\n'
    for i, c in enumerate(CONDS)) + """	if (is_myself("$ru")) { xlog("L_INFO", "is_myself $ru\\n"); }
	if (is_myself("$hdr(X-Uri)")) { xlog("L_INFO", "is_myself X-Uri\\n"); }
	sl_send_reply("200", "OK");
}
"""


def _run(tmp_path: Path, script: str, messages: list[bytes]) -> None:
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(script)
    data = [(m, crafted.UA) for m in messages]
    seen_k, seen_s = kamdiff.kamailio_run(script, data), kamdiff.sipsim_run(path, data)
    for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)):
        assert k.logs, "Kamailio logged nothing"
        assert kamdiff.agree(k, s), kamdiff.describe(f"message {i}", k, s)


def _opt(n: int, ruri: str = "sip:bob@127.0.0.1", **kw: object) -> bytes:
    return crafted.request("OPTIONS", ruri, n=n, **kw)  # type: ignore[arg-type]


def test_a_variable_as_an_index(tmp_path: Path, isolated_network: None) -> None:
    vias = "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2, SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK3"
    _run(tmp_path, INDEX, [_opt(1, extra=(vias,)), _opt(2)])


def test_more_message_variables(tmp_path: Path, isolated_network: None) -> None:
    _run(tmp_path, MORE, [_opt(1), _opt(2, "sip:bob@127.0.0.1:5062;transport=udp",
                                       extra=("Content-Type: text/plain",), body="hello"),
                          _opt(3, "sip:127.0.0.1;transport=TLS"), _opt(4, "sips:bob@127.0.0.1")])


def test_lazy_parsing_seen_from_variables(tmp_path: Path, isolated_network: None) -> None:
    ua = ("User-Agent: ua/1", "X-Num: 10")
    _run(tmp_path, LAZY, [_opt(1, extra=ua), _opt(2, extra=(*ua, "From: <sip:x@y>;tag=1")),
                          _opt(3, extra=(*ua, "t: <sip:x@y>")), _opt(4, extra=(*ua, "CSeq: 9 OPTIONS"))])


def test_myself_on_a_bad_or_upper_case_uri(tmp_path: Path, isolated_network: None) -> None:
    _run(tmp_path, MYSELF, [_opt(1, extra=("X-Act: garbage",)), _opt(2, "SIP:bob@127.0.0.1"),
                            _opt(3, extra=("X-Uri: SIP:bob@127.0.0.1:5060",)),
                            _opt(4, extra=("X-Uri: sip:bob@127.0.0.1:5060",))])


def test_why_a_variable_is_null_is_in_the_trace(tmp_path: Path) -> None:
    path = tmp_path / "lazy.cfg"
    path.write_text(LAZY)
    router = load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    msg = _opt(1, extra=("User-Agent: ua/1", "X-Num: 10", "From: <sip:x@y>;tag=1"))
    res = MemoryDriver(router.config, router=router).feed(msg, crafted.UA)
    notes = [e.text for e in res.events if e.step == "route:pv-null"]
    assert any(n.startswith("$hdr(X-Num) is $null") and "second From" in n for n in notes), notes
    absent = [e.text for e in res.events if e.step == "is_present_hf"]
    assert absent and all("cannot parse all the headers" in t for t in absent)


@pytest.mark.parametrize(("pv", "words"), [("$pp", "exists in Kamailio but is not modeled"),
                                            ("$TF", "exists in Kamailio but is not modeled"),
                                            ("$rq", "unknown pseudo-variable $rq")])
def test_unmodeled_and_unknown_variables(tmp_path: Path, pv: str, words: str) -> None:
    path = tmp_path / "pv.cfg"
    path.write_text(HEAD + f'request_route {{\n\txlog("L_INFO", "{pv}\\n");\n\tsl_send_reply("200", "OK");\n}}\n')
    with pytest.raises(CfgError, match=words.replace("$", r"\$")):
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))


def test_the_null_note_of_a_condition_comes_before_the_block_it_chooses(tmp_path: Path) -> None:
    """The note belongs to the ``if`` that read the variable: it is shown before the block's first
    action (it used to be shown after that action, as if the xlog inside had read the header)."""
    path = tmp_path / "cond.cfg"
    path.write_text(HEAD + """request_route {
	if ($hdr(X-Num) == $null) {
		xlog("L_INFO", "no X-Num\\n");
	}
	sl_send_reply("200", "OK");
}
""")
    router = load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    msg = _opt(1, extra=("User-Agent: ua/1", "X-Num: 10", "From: <sip:x@y>;tag=1"))
    res = MemoryDriver(router.config, router=router).feed(msg, crafted.UA)
    steps = [e.step for e in res.events]
    note = steps.index("route:pv-null")
    assert next(e for e in res.events if e.step == "route:pv-null").detail["line"] == HEAD.count("\n") + 2  # the if
    assert note < steps.index("xlog"), steps
    assert steps.count("route:pv-null") == 1
