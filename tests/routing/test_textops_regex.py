"""textops' regular-expression and body functions against the real Kamailio 5.6.3: the same
datagrams, executed cfg lines and xlog output for every message (tests/routing/kamdiff.py).

``cfgs/textops_regex.cfg`` runs has_body(), search(), search_body() (``REG_NEWLINE``: ``.`` and
``[^...]`` stop at a line feed, ``^``/``$`` at each line), is_present_hf_re(), remove_hf_re(),
replace() and replace_all() (``^`` after a replaced line end, an empty match) on requests with
and without bodies, a NUL hiding the rest of a message from regexec, and replies;
``cfgs/textops_subst.cfg`` runs subst() and subst_uri(). The KEMI forms (KSR.textops.*) are held
against the cfg forms (app_python3 is not installed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFGS = Path(__file__).parent / "cfgs"
R = crafted.request
SDP = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"


def _messages() -> list[tuple[bytes, tuple[str, int]]]:
    ua = crafted.UA
    via = (crafted.OURS, crafted.UAC_VIA)
    nul = R("MESSAGE", "sip:bob@192.0.2.9", n=5, extra=("X-Debug-A: 1", "X-Note: a\0secret"),
            body="no secret", )
    return [
        (R("INVITE", "sip:bob@192.0.2.9", n=1, body=SDP,
           extra=("Content-Type: application/sdp", "User-Agent: softphone 1.0", "X-Debug-Trace: on",
                  "x-debug-level: 3", "P-Asserted-Identity: <sip:alice@atlanta.com>")), ua),
        (R("OPTIONS", "sip:bob@192.0.2.9", n=2, extra=("Subject: hi", "X-Other: 1")), ua),
        (R("MESSAGE", "sip:bob@192.0.2.9", n=3, body="the secret\r\nv=0\r\no=x",
           extra=("Content-Type: text/plain", "Subject: secret")), ua),
        (R("INVITE", "sip:empty@192.0.2.9", n=4), ua),
        (nul, ua),
        (R("INFO", "sip:bob@192.0.2.9", n=6, body="", extra=("P-Preferred-Identity: <sip:a@b>",)), ua),
        (crafted.reply(486, "Busy Here", vias=via, extra=("Server: uas",)), ("192.0.2.9", 5060)),
    ]


def test_textops_regex_functions_behave_as_in_kamailio(isolated_network: None) -> None:
    need_tool("kamailio")
    path = CFGS / "textops_regex.cfg"
    data = _messages()
    seen_k, seen_s = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(f"message {i}", k, s)
           for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)) if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    logs = [line for k in seen_k for line in k.logs]
    for expected in ("audio line", "remove", "replaced all", "empty match false", "reply from a server"):
        assert any(expected in line for line in logs), (expected, logs)


def test_kemi_textops_do_what_the_cfg_functions_do() -> None:
    """The KSR.textops forms of the same calls: the same datagrams and log lines as the cfg script
    (held against Kamailio above), and a bad expression given at run time is false, not a crash."""
    data = _messages()
    cfg = kamdiff.sipsim_run(CFGS / "textops_regex.cfg", data)
    kemi = kamdiff.sipsim_run(CFGS / "textops_regex_kemi.py", data)
    assert [c.sent for c in cfg] == [k.sent for k in kemi]
    assert [c.logs for c in cfg] == [k.logs for k in kemi]
    assert any(c.sent for c in cfg)


def test_subst_as_in_kamailio(isolated_network: None) -> None:
    """subst() and subst_uri() (``cfgs/textops_subst.cfg``): groups, flags, \\u, escapes,
    pseudo-variables, a body line (Content-Length follows), an empty match, the R-URI rewritten."""
    need_tool("kamailio")
    path = CFGS / "textops_subst.cfg"
    ua = crafted.UA
    data = [
        (R("INVITE", "sip:bob@192.0.2.9", n=1, body=SDP,
           extra=("Content-Type: application/sdp", "User-Agent: softphone 1.0", "X-Dest: here")), ua),
        (R("MESSAGE", "sip:5551234@example.com", n=2, body="v=0\r\no=x IN IP4 y", extra=("user-agent: lower",)), ua),
        (R("OPTIONS", "sip:carol@192.0.2.9", n=3, frm="<sip:carol@atlanta.com>;tag=c"), ua),
        (R("INVITE", "sip:body@192.0.2.9", n=4, body=SDP, extra=("Content-Type: application/sdp",)), ua),
        (R("INVITE", "sip:body@192.0.2.9", n=5), ua),
    ]
    seen_k, seen_s = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(f"message {i}", k, s)
           for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)) if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    assert any("uri to" in line for k in seen_k for line in k.logs)
    assert seen_k[3].logs == ["appended", "c lines", "port in body", "codec", "appended in body"]


def test_a_bad_regular_expression(tmp_path: Path) -> None:
    """Written in a cfg it stops the load at its line (Kamailio's fixup compiles it at start-up);
    given to KSR.textops at run time it makes the call false with a step saying why."""
    from sipsim.engine.config import Profile, ServerConfig
    from sipsim.routing import load_route
    from sipsim.routing.errors import CfgError

    cfg = tmp_path / "bad.cfg"
    cfg.write_text('loadmodule "textops.so"\nrequest_route {\n\tif (remove_hf_re("^X-(a")) { drop; }\n}\n')
    with pytest.raises(CfgError) as info:
        load_route(cfg, ServerConfig(profile=Profile.KAMAILIO))
    assert info.value.line == 3 and "remove_hf_re(): bad regular expression '^X-(a'" in str(info.value)
    script = tmp_path / "bad.py"
    script.write_text("import KSR\n\ndef ksr_request_route(msg):\n"
                      "    KSR.info('got %d\\n' % KSR.textops.search_body('a)'))\n"
                      "    KSR.sl.sl_send_reply(200, 'OK')\n")
    (seen,) = kamdiff.sipsim_run(script, [(R("MESSAGE", "sip:b@127.0.0.1", body="a)"), crafted.UA)])
    assert seen.logs == ["got -1"] and "200 OK" in seen.sent[0][1]
    script.write_text("import KSR\n\ndef ksr_request_route(msg):\n"
                      "    KSR.info('%d %d\\n' % (KSR.textops.subst('/b(/x/'), KSR.textops.subst_uri('/b@/x@/')))\n"
                      "    KSR.info(KSR.pv.get('$ru') + '\\n')\n")
    (seen,) = kamdiff.sipsim_run(script, [(R("MESSAGE", "sip:b@127.0.0.1"), crafted.UA)])
    assert seen.logs == ["-1 1", "sip:x@127.0.0.1"]
    # a repeat count C's regcomp refuses and Python's cannot hold (OverflowError, not re.error)
    cfg.write_text('loadmodule "textops.so"\nrequest_route {\n\tif (search("a{4294967296}")) { drop; }\n}\n')
    with pytest.raises(CfgError) as info:
        load_route(cfg, ServerConfig(profile=Profile.KAMAILIO))
    assert "too large for the matcher" in str(info.value)
    script.write_text("import KSR\n\ndef ksr_request_route(msg):\n"
                      "    KSR.info('got %d\\n' % KSR.textops.search(KSR.pv.get('$hdr(X-Re)')))\n"
                      "    KSR.sl.sl_send_reply(200, 'OK')\n")
    (seen,) = kamdiff.sipsim_run(script, [(R("OPTIONS", "sip:b@127.0.0.1", extra=("X-Re: a{4294967296}",)),
                                           crafted.UA)])
    assert seen.logs == ["got -1"] and "200 OK" in seen.sent[0][1]
