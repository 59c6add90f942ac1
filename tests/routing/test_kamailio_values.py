"""Numbers and text in the cfg language, against the real Kamailio 5.6.3: the same script, the same
messages, the same datagrams, executed lines and xlog output (tests/routing/kamdiff.py).

* **text to number** (``rval_get_int``): ``$hdr(X-N)`` carries each value below into ``0 + ...``,
  a comparison, a ``(int)`` cast, a ``switch`` and ``-``. What Kamailio cannot convert (``"7 "``,
  ``"1_0"``, ``"2147483648"``, ``"-0x10"`` ...) is a WARNING and **0**, not a skipped assignment;
  ``0x`` hexadecimal is read, decimal must fit 32 bits, a lone sign is 0;
* **32-bit arithmetic**: overflow wraps, a shift counts modulo 32, ``>>`` keeps the sign, literals
  are read by ``strtol`` (octal ``010`` is 8, ``4294967295`` is -1), division truncates;
* **``#!subst``/``#!substdef``** apply to a ``#!define``'s value where it is used;
* **xlog's level** is read from its third character (``"L_INFOO"`` logs at INFO);
* **``if ($rU = "bob")``** assigns in Kamailio (and tests true); sipsim refuses it with a message
  saying so (a deliberate difference, sipsim/routing/KAMAILIO_DIFFERENCES.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route, operators
from sipsim.routing.errors import CfgError

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

HEAD = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\n\n'

STR2INT = HEAD + """request_route {
	$var(i) = 0 + $hdr(X-N);
	xlog("L_INFO", "sum=[$var(i)]\\n");
	if ($hdr(X-N) > 5) { xlog("L_INFO", "gt5\\n"); } else { xlog("L_INFO", "not gt5\\n"); }
	$var(c) = (int)$hdr(X-N);
	xlog("L_INFO", "cast=[$var(c)]\\n");
	$var(n) = -$hdr(X-N);
	xlog("L_INFO", "neg=[$var(n)]\\n");
	switch ($hdr(X-N)) {
		case 0: xlog("L_INFO", "case0\\n"); break;
		case 16: xlog("L_INFO", "case16\\n"); break;
		default: xlog("L_INFO", "default\\n");
	}
	if ($hdr(X-N)) { xlog("L_INFO", "true\\n"); }
	sl_send_reply("200", "OK");
}
"""
#: header values: read, refused (0 + a warning), wrapped
VALUES = ["+7", "-3", "07", "0x10", "0XfF", "0x7fffffff", "0x80000000", "0xffffffff", "0x100000000",
          "2147483647", "-2147483648", "-", "+", "0", "00000000000000000000007",
          "7 ", "7\t", "1_0", "7x", "0b11", "0o7", "0x", "0xg", "-0x10", "+0x10", "--7", "- 7",
          "2147483648", "-2147483649", "4294967295", "99999999999", "\u0663"]

INT32 = HEAD + """request_route {
	$var(a) = 2147483647;
	$var(a) = $var(a) + 1;
	xlog("L_INFO", "overflow=$var(a) big=$var(b)\\n");
	$var(b) = 4294967295;
	$var(c) = 0 - 7;
	$var(d) = $var(c) / 2;
	$var(e) = $var(c) mod 3;
	xlog("L_INFO", "big=$var(b) div=$var(d) mod=$var(e)\\n");
	$var(e) = 1 << 31;
	$var(f) = 1 << 33;
	$var(g) = 1 << -1;
	$var(h) = $var(c) >> 33;
	$var(i) = -1 >> 28;
	xlog("L_INFO", "shl31=$var(e) shl33=$var(f) shlneg=$var(g) sar33=$var(h) sar=$var(i)\\n");
	$var(e) = 65536 * 65536;
	$var(f) = ~0;
	$var(g) = 0 - 2147483647 - 1;
	$var(h) = -$var(g);
	$var(i) = $var(g) - 1;
	xlog("L_INFO", "mul=$var(e) not0=$var(f) min=$var(g) negmin=$var(h) under=$var(i)\\n");
	$var(e) = 99999999999;
	$var(f) = 99999999999999999999;
	$var(g) = 010;
	$var(h) = 0xFFFFFFFFF;
	$var(i) = (2147483647 + 1) > 0;
	xlog("L_INFO", "lit11=$var(e) lit20=$var(f) oct=$var(g) hexbig=$var(h) cmp=$var(i)\\n");
	$var(j) = 10;
	$var(j) = $var(j) / $var(zero);
	xlog("L_INFO", "divzero=$var(j)\\n");
	sl_send_reply("200", "OK");
}
"""

SUBST = "#!KAMAILIO\n" + """#!define GREETING "hello from PROXY"
#!subst "/PROXY/sipsim-proxy/"
#!substdef "/HOSTX/10.1.1.1/"
#!define G2 "at HOSTX"
""" + HEAD + """request_route {
	xlog("L_INFO", "literal: hello from PROXY\\n");
	xlog("L_INFO", "define: " + GREETING + "\\n");
	xlog("L_INFO", "substdef-define: " + G2 + "\\n");
	sl_send_reply("200", "OK");
}
"""

LEVELS = HEAD + """request_route {
	xlog("L_INFOO", "infoo\\n");
	xlog("M_INFO", "m-info\\n");
	xlog("L_EVIL", "evil\\n");
	xlog("L_WARNING", "warning\\n");
	xlog("L_Notice", "notice\\n");
	sl_send_reply("200", "OK");
}
"""
#: Kamailio's names of the levels in its log lines
K_LEVEL = {"L_ALERT": "ALERT", "L_BUG": "BUG", "L_CRIT": "CRITICAL", "L_ERR": "ERROR", "L_WARN": "WARNING",
           "L_NOTICE": "NOTICE", "L_INFO": "INFO", "L_DBG": "DEBUG"}

ASSIGN_IN_IF = HEAD + """request_route {
	if ($rU = "carol") { xlog("L_INFO", "true rU=$rU\\n"); } else { xlog("L_INFO", "false rU=$rU\\n"); }
	sl_send_reply("200", "OK");
}
"""


def _options(n: int, *extra: str) -> bytes:
    return crafted.request("OPTIONS", "sip:bob@127.0.0.1", extra=extra, n=n)


def _both(tmp_path: Path, script: str, messages: list[bytes]) -> tuple[list[kamdiff.Seen], list[kamdiff.Seen]]:
    need_tool("kamailio")
    path = tmp_path / "script.cfg"
    path.write_text(script)
    data = [(m, crafted.UA) for m in messages]
    return kamdiff.kamailio_run(script, data), kamdiff.sipsim_run(path, data)


def test_text_to_number_as_kamailio_converts_it(tmp_path: Path, isolated_network: None) -> None:
    msgs = [_options(i + 1, f"X-N: {v}") for i, v in enumerate(VALUES)]
    seen_k, seen_s = _both(tmp_path, STR2INT, msgs)
    for v, k, s in zip(VALUES, seen_k, seen_s, strict=True):
        assert kamdiff.agree(k, s), kamdiff.describe(repr(v), k, s)
    # the failures are Kamailio's 0, not a stale value: "7 " after "+7" in one worker
    assert seen_s[VALUES.index("7 ")].logs[0] == "sum=[0]"


def test_32_bit_arithmetic_and_literals(tmp_path: Path, isolated_network: None) -> None:
    (k,), (s,) = _both(tmp_path, INT32, [_options(1)])
    assert kamdiff.agree(k, s), kamdiff.describe("int32", k, s)
    assert "overflow=-2147483648" in k.logs[0]  # what the comparison is about, from the binary itself


def test_subst_applies_to_define_values(tmp_path: Path, isolated_network: None) -> None:
    (k,), (s,) = _both(tmp_path, SUBST, [_options(1)])
    assert kamdiff.agree(k, s), kamdiff.describe("subst", k, s)
    assert k.logs[1:] == ["define: hello from sipsim-proxy", "substdef-define: at 10.1.1.1"]


def test_xlog_reads_the_level_by_its_third_letter(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    from kamailio.harness import KamailioProcess

    with KamailioProcess(LEVELS, script_name="levels.cfg") as kp:
        obs = kp.send(_options(1), src=crafted.UA)
    k_levels = [(r.text[len("<script>: "):].rstrip(), r.level) for r in obs.log if r.text.startswith("<script>: ")]
    path = tmp_path / "levels.cfg"
    path.write_text(LEVELS)
    router = load_route(path, ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060)))
    res = MemoryDriver(router.config, router=router).feed(_options(1), crafted.UA)
    s_levels = [(ev.detail["message"].rstrip(), K_LEVEL[ev.detail["level"]]) for ev in res.events if ev.step == "xlog"]
    assert s_levels == k_levels
    assert ("infoo", "INFO") in k_levels and ("evil", "ERROR") in k_levels


def test_assignment_in_a_condition(tmp_path: Path, isolated_network: None) -> None:
    """Kamailio assigns and tests the result; sipsim refuses, saying what Kamailio would do."""
    need_tool("kamailio")
    msg = crafted.request("OPTIONS", "sip:alice@127.0.0.1", n=1)
    (k,) = kamdiff.kamailio_run(ASSIGN_IN_IF, [(msg, crafted.UA)])
    assert k.logs == ["true rU=carol"]
    path = tmp_path / "assign.cfg"
    path.write_text(ASSIGN_IN_IF)
    with pytest.raises(CfgError) as info:
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    err = info.value
    assert (err.line, err.column) == (6, 10)
    assert "did you mean '=='" in str(err) and "Kamailio 5.6 would assign" in str(err)


def test_a_failed_conversion_leaves_a_warning() -> None:
    """The operators cannot make a step event: the warning goes to the caller's list (the
    interpreter passes the message's own, so a warning never shows in another worker's trace)."""
    notes: list[str] = []
    assert operators.binop_value("+", 0, "7 ", notes) == 0
    assert operators.unop_value("int", "0x10", notes) == 16 and operators.unop_value("int", "-", notes) == 0
    (w,) = notes
    assert "'7 '" in w and "0 is used" in w
    assert operators.to_int("x") == 0  # no list: nobody listens, nothing is kept
