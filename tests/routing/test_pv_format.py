"""Format strings (xlog, sl_send_reply's reason, append_hf) against the real Kamailio 5.6.3.

* what Kamailio refuses at start-up (``pv_parse_spec2(): wrong char``, ``wrong format``), sipsim
  refuses at load: a short name glued to a letter, digit, ``_``, ``.`` or ``?`` (``$si.``), a lone
  ``$``, ``$si(x)``, an index that is not a number, ``*`` or a variable;
* what it accepts prints the same: ``$$`` is a literal ``$``, any other character ends a short
  name (``$si:``), ``$(si).`` and ``$var(i).`` end before the dot, an index may be a variable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff
from sipsim.engine.config import Profile, ServerConfig
from sipsim.routing import load_route
from sipsim.routing.errors import CfgError

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

HEAD = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\nloadmodule "textops.so"\n'

#: format strings that stop Kamailio 5.6.3 at start-up (measured)
REFUSED = ["[from $si.]", "$sia", "$si_", "$si?", "[$ alone]", "a$", "$rU$", "$$$", "$si(x)", "$(si",
           "$(hdr(X-A)[+1])", "$(hdr(X-A)[x])"]
#: format strings it accepts, each printed in its own xlog line
ACCEPTED = ["$si:$sp", "$si-$si;$si/", "$ru;x", "$(si).", "$(si)a", "$var(i).", "$hdr(X-A)a", "$$ x", "$$rU",
            "$$$si", "$ru{s.len}", "$avp(x)[0]", "$(hdr(X-A)[-1])", "$(hdr(X-A)[01])",
            "$(hdr(X-A)[$var(i)])", "$(avp(x)[$var(i)])", "$(hdr(X-A)[$var(i) ])", "$(hdr(X-A)[$var(s)])",
            "$(hdr(X-A)[$sp])", "$(hdr(X-A)[$avp(nope)])"]


def _script(lines: list[str]) -> str:
    body = "".join(f'\txlog("L_INFO", "<{f}>\\n");\n' for f in lines)
    return (HEAD + 'request_route {\n\t$var(i) = 1; $var(s) = "1"; $avp(x) = "a"; $avp(x) = "b";\n'
            + body + '\tappend_hf("X-Src: $(si).$sp\\r\\n");\n\tforward("192.0.2.9");\n}\n')


def test_kamailio_refuses_exactly_these_formats(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    from kamailio.harness import KamailioError, KamailioProcess

    for fmt in REFUSED:
        script = _script([fmt])
        try:
            with KamailioProcess(script, script_name="fmt.cfg"):
                started = True
        except KamailioError:
            started = False
        assert not started, f"Kamailio accepts {fmt!r}"
        path = tmp_path / "fmt.cfg"
        path.write_text(script)
        with pytest.raises(CfgError):
            load_route(path, ServerConfig(profile=Profile.KAMAILIO))


def test_accepted_formats_print_as_in_kamailio(tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    script = _script(ACCEPTED)
    path = tmp_path / "fmt.cfg"
    path.write_text(script)
    msg = crafted.request("OPTIONS", "sip:bob@127.0.0.1", n=1, extra=("X-A: 1", "X-A: 2"))
    (k,) = kamdiff.kamailio_run(script, [(msg, crafted.UA)])
    (s,) = kamdiff.sipsim_run(path, [(msg, crafted.UA)])
    assert len(k.logs) == len(ACCEPTED)
    assert kamdiff.agree(k, s), kamdiff.describe("formats", k, s)
    assert "<$ x>" in s.logs and "<192.0.2.1.>" in s.logs


def test_the_error_shows_the_spot_and_the_way_to_write_it(tmp_path: Path) -> None:
    path = tmp_path / "dot.cfg"
    path.write_text(_script(["[from $si.]"]))
    with pytest.raises(CfgError) as exc:
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    text = str(exc.value)
    assert ">>$si.<<" in text and "write $(si)." in text and ":7:2:" in text
    path.write_text(_script(["cost 5$"]))
    with pytest.raises(CfgError, match=r"write \$\$ for a literal"):
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))
