"""What the real Kamailio 5.6.3 refuses at start-up, sipsim refuses at load time — and what it
accepts, sipsim accepts: each script is started in Kamailio (tests/kamailio/harness.py) and loaded
by sipsim. A syntax error must be reported at the line and column Kamailio's parser names.

The cases: an empty block (a route, an ``if``/``else``, a ``while``; ``{ ; }`` and an empty
``switch`` are fine), a quoted value for an int module parameter ("parameter <max_limit> of type
<1:string> not found"), a number with a leading 0 that is not octal (``09``), an xlog level whose
third character names none (``"L_XYZ"``, ``"INFO"``, ``"l_info"``), and ``route(NOPE)`` of a
block that does not exist (``kamailio -c`` lets it pass; a real start fails: ``route "NOPE" not
found``), a function's number parameter that ``str2sint`` cannot read (``"0x12c"``, ``"300 "``)
or that mixes text and a variable (``"4$var(c)"``; ``"$var(c)"`` alone is fine); is_method's
list (``"INVITE|"`` and ``"INVITE ,BYE"`` are fine, ``"FOO|INVITE"``, ``"INV ITE"``, ``"$rm"`` are
not), ``method == INVITE`` without quotes (fine), ``strip(-1)``, and append_hf/insert_hf's header
name (``"$hdr(X)"``, ``"Call ID"``, ``""`` are refused, ``"Call-ID:"`` is fine).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import need_tool

from routing import kamdiff

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

HEAD = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\nloadmodule "maxfwd.so"\n'
REPLY = '\tsl_send_reply("200", "OK");\n'
TEXTOPS = HEAD + 'loadmodule "textops.so"\n'


def _slip(statement: str) -> str:
    return TEXTOPS + "request_route {\n\t" + statement + "\n" + REPLY + "}\n"


#: what Kamailio says when it refuses these cases (so that a refusal for another reason fails)
K_WORDS = {"method-unknown-in-list": "unknown method in list", "method-blank-inside": "Comma expected",
           "method-empty-name": "bad method names", "method-pv": "Invalid method",
           "strip-negative": "bad argument, number expected", "strip-tail-negative": "bad argument, number expected",
           "hname-pv": "invalid start of header name", "hname-blank": "invalid header name",
           "hname-empty": "empty header name", "code-pv-and-text": "int conversions failed"}

#: name -> (script, refused?, Kamailio's syntax error position (line, column) or None)
CASES: dict[str, tuple[str, bool, tuple[int, int] | None]] = {
    "empty-request-route": (HEAD + "request_route {\n}\n", True, (6, 1)),
    "empty-route": (HEAD + "request_route {\n\troute(A);\n" + REPLY + "}\nroute[A] {\n}\n", True, (10, 1)),
    "empty-if": (HEAD + 'request_route {\n\tif ($rU == "x") { }\n' + REPLY + "}\n", True, (6, 20)),
    "empty-else": (HEAD + 'request_route {\n\tif ($rU == "x") { exit; } else { }\n' + REPLY + "}\n", True, (6, 35)),
    "empty-while": (HEAD + "request_route {\n\twhile (0) { }\n" + REPLY + "}\n", True, (6, 14)),
    "semicolon-block": (HEAD + 'request_route {\n\t;\n\tif ($rU == "x") { ; }\n' + REPLY + "}\n", False, None),
    "empty-switch": (HEAD + "request_route {\n\tswitch ($rU) { }\n" + REPLY + "}\n", False, None),
    "modparam-quoted-int": (HEAD + 'modparam("maxfwd", "max_limit", "20")\nrequest_route {\n' + REPLY + "}\n",
                            True, None),
    "modparam-int": (HEAD + 'modparam("maxfwd", "max_limit", 20)\nrequest_route {\n' + REPLY + "}\n", False, None),
    "not-octal": (HEAD + "request_route {\n\t$var(x) = 09;\n" + REPLY + "}\n", True, (6, 12)),
    "octal": (HEAD + "request_route {\n\t$var(x) = 0777;\n" + REPLY + "}\n", False, None),
    "xlog-L_XYZ": (HEAD + 'request_route {\n\txlog("L_XYZ", "x\\n");\n' + REPLY + "}\n", True, None),
    "xlog-INFO": (HEAD + 'request_route {\n\txlog("INFO", "x\\n");\n' + REPLY + "}\n", True, None),
    "xlog-l_info": (HEAD + 'request_route {\n\txlog("l_info", "x\\n");\n' + REPLY + "}\n", True, None),
    "xlog-L_INFOO": (HEAD + 'request_route {\n\txlog("L_INFOO", "x\\n");\n' + REPLY + "}\n", False, None),
    "route-missing": (HEAD + "request_route {\n\troute(NOPE);\n" + REPLY + "}\n", True, None),
    # a function's number parameter written as text: str2sint, decimal only
    "code-hex": (HEAD + 'request_route {\n\tsl_send_reply("0x12c", "Hex");\n}\n', True, None),
    "code-space": (HEAD + 'request_route {\n\tsl_send_reply("300 ", "Space");\n}\n', True, None),
    "code-sign": (HEAD + 'request_route {\n\tsl_send_reply("+300", "Sign");\n}\n', False, None),
    "code-leading-0": (HEAD + 'request_route {\n\tsl_send_reply("0300", "Zero");\n}\n', False, None),
    # a variable: one alone is taken (its value must then be a number), text around it is refused
    "code-pv": (HEAD + 'request_route {\n\tsl_send_reply("$var(c)", "Var");\n}\n', False, None),
    "code-pv-and-text": (HEAD + 'request_route {\n\tsl_send_reply("4$var(c)", "Mixed");\n}\n', True, None),
    # learners' slips (is_method's list, `method == INVITE`, strip's number, a header-name parameter)
    "method-list-trailing-bar": (_slip('if (is_method("INVITE|")) { exit; }'), False, None),
    "method-list-comma-blanks": (_slip('if (is_method(" INVITE ,BYE\t")) { exit; }'), False, None),
    "method-unknown-alone": (_slip('if (is_method("X-FOO")) { exit; }'), False, None),
    "method-unknown-in-list": (_slip('if (is_method("FOO|INVITE")) { exit; }'), True, None),
    "method-blank-inside": (_slip('if (is_method("INV ITE")) { exit; }'), True, None),
    "method-empty-name": (_slip('if (is_method("INVITE||BYE")) { exit; }'), True, None),
    "method-pv": (_slip('if (is_method("$rm")) { exit; }'), True, None),
    "method-eq-id": (_slip('if (method == INVITE) { exit; }'), False, None),
    "strip-negative": (_slip('strip(-1);'), True, None),
    "strip-tail-negative": (_slip('strip_tail(-2);'), True, None),
    "hname-pv": (_slip('append_hf("X-A: 1\\r\\n", "$hdr(X)");'), True, None),
    "hname-blank": (_slip('insert_hf("X-A: 1\\r\\n", "Call ID");'), True, None),
    "hname-empty": (_slip('append_hf("X-A: 1\\r\\n", "");'), True, None),
    "hname-colon": (_slip('append_hf("X-A: 1\\r\\n", "Call-ID:");'), False, None),
}

_POS = re.compile(r"parse error in config file \S+, line (\d+), column (\d+)")


@pytest.mark.parametrize("name", list(CASES))
def test_sipsim_refuses_what_kamailio_refuses(name: str, tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    script, refused, pos = CASES[name]
    k_error, s_error = kamdiff.load_errors(script, tmp_path)
    assert bool(k_error) == refused, k_error or "Kamailio started"
    assert (s_error is not None) == refused, str(s_error)
    if pos is not None:
        m = _POS.search(k_error)
        assert m is not None, k_error
        assert (int(m.group(1)), int(m.group(2))) == pos  # the position this case is written for
        assert s_error is not None and (s_error.line, s_error.column) == pos
    if name in K_WORDS:
        assert K_WORDS[name] in k_error, k_error
    if name == "modparam-quoted-int":
        assert "parameter <max_limit> of type <1:string> not found" in k_error and "without quotes" in str(s_error)
    if name == "route-missing":
        assert 'route "NOPE" not found' in k_error and "there is no route[NOPE]" in str(s_error)
