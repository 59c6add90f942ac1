"""Two differences a fuzz round found, measured on the real Kamailio 5.6.3 and fixed:

* a header value read by a pseudo-variable (``$ci``, ``$hdr(X)``) loses the NULs right before its
  line end, and only those (``a\\0\\0`` is ``a``; ``a \\0 \\0\\t`` keeps its NULs);
* an xlog message of 4096 bytes or more does not fit xlog's buffer: nothing is printed and xlog
  fails (-1), so as the last action of an onreply_route it keeps the reply from being forwarded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

R = crafted.request

NULS = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"

request_route {
	append_hf("X-Copy: [$ci] [$hdr(X-H)]\\r\\n");
	if ($ci =~ "^ca$") { xlog("L_INFO", "ci is ca\\n"); }
	forward("192.0.2.9", 5060);
}
"""


def test_nuls_before_the_line_end_are_not_part_of_a_value(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    path = tmp_path / "nuls.cfg"
    path.write_text(NULS)
    values = ["a\0", "a\0\0", "a \0 \0\t", "a \0", "a\0 ", "a\0\t", "a\0b\0"]
    data = [(R("OPTIONS", "sip:b@127.0.0.1", callid="c" + v, extra=("X-H: x" + v,), n=n), crafted.UA)
            for n, v in enumerate(values, 1)]
    seen_k, seen_s = kamdiff.kamailio_run(NULS, data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(repr(v), k, s) for v, k, s in zip(values, seen_k, seen_s, strict=True)
           if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    assert "X-Copy: [ca] [xa]\r\n" in seen_k[1].sent[0][1] and seen_k[1].logs == ["ci is ca"]
    assert "X-Copy: [ca \0 \0\t] [xa \0 \0\t]\r\n" in seen_k[2].sent[0][1]


LONG = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"

request_route {
	if (xlog("L_INFO", "$rU\\n")) { xlog("L_INFO", "true\\n"); } else { xlog("L_INFO", "false $rc\\n"); }
	sl_send_reply("200", "OK");
}

onreply_route {
	xlog("L_INFO", "$hdr(X-Long)\\n");
}
"""


def test_an_xlog_message_too_long_for_the_buffer(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    path = tmp_path / "long.cfg"
    path.write_text(LONG)
    via = (crafted.OURS, crafted.UAC_VIA)
    data = [(R("OPTIONS", f"sip:{'x' * n}@127.0.0.1", n=n), crafted.UA) for n in (4094, 4095)]
    data += [(crafted.reply(200, "OK", vias=via, extra=("X-Long: " + "z" * n,)), ("192.0.2.9", 5060))
             for n in (4094, 4095)]
    seen_k, seen_s = kamdiff.kamailio_run(LONG, data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(f"message {i}", k, s)
           for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)) if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    assert [len(k.logs) for k in seen_k] == [2, 1, 1, 0] and seen_k[1].logs == ["false -1"]
    assert [len(k.sent) for k in seen_k] == [1, 1, 1, 0]
