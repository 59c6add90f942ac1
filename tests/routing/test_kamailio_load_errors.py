"""What the real Kamailio 5.6.3 refuses at start-up, sipsim refuses at load time — and what it
accepts, sipsim accepts: each script is started in Kamailio (tests/kamailio/harness.py) and loaded
by sipsim. A syntax error must be reported at the line and column Kamailio's parser names.

The cases: an empty block (a route, an ``if``/``else``, a ``while``; ``{ ; }`` and an empty
``switch`` are fine), a quoted value for an int module parameter ("parameter <max_limit> of type
<1:string> not found"), a number with a leading 0 that is not octal (``09``), an xlog level whose
third character names none (``"L_XYZ"``, ``"INFO"``, ``"l_info"``), and ``route(NOPE)`` of a
block that does not exist (``kamailio -c`` lets it pass; a real start fails: ``route "NOPE" not
found``), a function's number parameter that ``str2sint`` cannot read (``"0x12c"``, ``"300 "``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import need_tool

from sipsim.engine.config import Profile, ServerConfig
from sipsim.routing import load_route
from sipsim.routing.errors import CfgError

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

HEAD = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\nloadmodule "maxfwd.so"\n'
REPLY = '\tsl_send_reply("200", "OK");\n'

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
}

_POS = re.compile(r"parse error in config file \S+, line (\d+), column (\d+)")


@pytest.mark.parametrize("name", list(CASES))
def test_sipsim_refuses_what_kamailio_refuses(name: str, tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    from kamailio.harness import KamailioError, KamailioProcess

    script, refused, pos = CASES[name]
    k_error = ""
    try:
        with KamailioProcess(script, script_name="case.cfg"):
            pass
    except KamailioError as exc:
        k_error = str(exc)
    assert bool(k_error) == refused, k_error or "Kamailio started"
    path = tmp_path / "case.cfg"
    path.write_text(script)
    try:
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))
        s_error: CfgError | None = None
    except CfgError as exc:
        s_error = exc
    assert (s_error is not None) == refused, str(s_error)
    if pos is not None:
        m = _POS.search(k_error)
        assert m is not None, k_error
        assert (int(m.group(1)), int(m.group(2))) == pos  # the position this case is written for
        assert s_error is not None and (s_error.line, s_error.column) == pos
    if name == "modparam-quoted-int":
        assert "parameter <max_limit> of type <1:string> not found" in k_error and "without quotes" in str(s_error)
    if name == "route-missing":
        assert 'route "NOPE" not found' in k_error and "there is no route[NOPE]" in str(s_error)
