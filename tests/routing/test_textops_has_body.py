"""textops' has_body() and has_body("type/subtype") against the real Kamailio 5.6.3.

Measured: the type compares by Kamailio's numeric MIME code (case and parameters ignored, two
names it does not know are equal: ``text/xml`` is true for ``text/html``); a missing Content-Type
counts as application/sdp; one that does not read, holds two types or a ``*`` is false; a
multipart body is ``multipart/mixed`` (its parts are not looked at); no Content-Length, or 0, is
false whatever the bytes after the headers. The type is decoded at start-up: one that does not
read stops the start.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff
from sipsim.routing.modules.textops_mime import MIME_SDP, content_type_code, decode_mime_type

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFGS = Path(__file__).parent / "cfgs"
SDP = "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\n"
MULTIPART = "--xyz\r\nContent-Type: application/sdp\r\n\r\n" + SDP + "\r\n--xyz--\r\n"


def _message(user: str, headers: tuple[str, ...], body: str, clen: bool = True) -> bytes:
    lines = [f"MESSAGE sip:{user}@192.0.2.9 SIP/2.0", f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{user}",
             "Max-Forwards: 70", "To: <sip:bob@biloxi.com>", "From: <sip:alice@atlanta.com>;tag=1",
             f"Call-ID: {user}", "CSeq: 1 MESSAGE", *headers]
    if clen:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


#: user part -> (headers, body, with a Content-Length, what 5.6.3 logs)
CASES: dict[str, tuple[tuple[str, ...], str, bool, str]] = {
    "sdp": (("Content-Type: application/sdp",), SDP, True, "BSmpxufCwE"),
    "plain": (("Content-Type: text/plain",), "hi", True, "BsmPxufcwE"),
    "noct": ((), SDP, True, "BSmpxufCwE"),
    "cl0": (("Content-Type: application/sdp",), "", True, "bsmpxufcwe"),
    "multi": (("Content-Type: multipart/mixed;boundary=xyz",), MULTIPART, True, "BsMpxufcwE"),
    "related": (("Content-Type: multipart/related;boundary=xyz",), MULTIPART, True, "BsmpxufcwE"),
    "params": (("Content-Type: Application/SDP ; x=1",), SDP, True, "BSmpxufCwE"),
    "html": (("Content-Type: text/html",), "<p>", True, "BsmpXufcwE"),
    "foobar": (("Content-Type: foo/bar",), "x", True, "BsmpxUfcwE"),
    "broken": (("Content-Type: application",), "x", True, "BsmpxufcwE"),
    "nocl": (("Content-Type: application/sdp",), SDP, False, "bsmpxufcwe"),
    "isup": (("Content-Type: application/isup",), "x", True, "BsmpxufcwE"),
    "two": (("Content-Type: application/sdp, text/plain",), "x", True, "BsmpxufcwE"),
    "compact": (("c: application/sdp",), SDP, True, "BSmpxufCwE"),
    "wild": (("Content-Type: */*",), "x", True, "BsmpxufcwE"),
}


def test_has_body_as_in_kamailio(isolated_network: None) -> None:
    need_tool("kamailio")
    path = CFGS / "textops_has_body.cfg"
    data = [(_message(user, h, body, clen), crafted.UA) for user, (h, body, clen, _) in CASES.items()]
    seen_k, seen_s = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(f"message {user}", k, s)
           for user, k, s in zip(CASES, seen_k, seen_s, strict=True) if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    assert [k.logs for k in seen_k] == [[f"{user} {c[3]}"] for user, c in CASES.items()]


#: has_body's argument -> refused at start-up?
LOAD_CASES = {
    "application": True, "application/sdp,text/plain": True, "*/sdp": True, "$var(x)": True, "text/": True,
    "application/sdp x": True, "*/*": False, " application / sdp ": False, "application/sdp;a=b": False,
}


@pytest.mark.parametrize("arg", list(LOAD_CASES))
def test_the_type_is_checked_at_load_as_in_kamailio(arg: str, tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    script = ('loadmodule "sl.so"\nloadmodule "textops.so"\nrequest_route {\n'
              f'\tif (has_body("{arg}")) {{ exit; }}\n\tsl_send_reply("200", "OK");\n}}\n')
    k_error, error = kamdiff.load_errors(script, tmp_path)
    assert bool(k_error) == LOAD_CASES[arg], k_error or "Kamailio started"
    assert not k_error or "fixup_body_type" in k_error
    s_error = str(error) if error is not None else ""
    assert bool(s_error) == LOAD_CASES[arg], s_error
    assert not s_error or (s_error.startswith(f"{tmp_path / 'case.cfg'}:4:") and "mime" in s_error)


def test_mime_codes() -> None:
    """Without Kamailio: the codes behind the cases above."""
    assert content_type_code("application/sdp") == MIME_SDP == content_type_code(" APPLICATION/Sdp;a=1;b=2")
    assert content_type_code("text/html") == content_type_code("text/xml") != content_type_code("text/plain")
    assert content_type_code("application/sdpx") == content_type_code("application/foo")
    assert content_type_code("application/sdp, text/plain") is None  # two types
    assert content_type_code("*/*") is None and content_type_code("text") is None
    assert decode_mime_type("application/sdp, text/plain") == (MIME_SDP, 15)  # stops at the ','
    assert decode_mime_type("*/sdp") is None


def test_the_kemi_form_has_body_type(tmp_path: Path) -> None:
    """``KSR.textops.has_body_type("application/sdp")`` is the same check; a type that does not
    read is false at run time (a KEMI call has no load-time fixup)."""
    script = tmp_path / "t.py"
    script.write_text("import KSR\n\ndef ksr_request_route(msg):\n"
                      "    KSR.info('%d %d %d\\n' % (KSR.textops.has_body_type('application/sdp'),\n"
                      "        KSR.textops.has_body_type('text/plain'), KSR.textops.has_body_type('nope')))\n"
                      "    KSR.sl.sl_send_reply(200, 'OK')\n")
    data = [(_message("sdp", ("Content-Type: application/sdp",), SDP, True), crafted.UA),
            (_message("nocl", ("Content-Type: application/sdp",), SDP, False), crafted.UA)]
    first, second = kamdiff.sipsim_run(script, data)
    assert first.logs == ["1 -1 -1"] and second.logs == ["-1 -1 -1"]
