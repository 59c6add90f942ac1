"""Non-ASCII text in a cfg script: read as the UTF-8 it is, sent as the very octets written.

Kamailio's lexer passes a string's octets through untouched; sipsim did too, but read the file as
latin-1, so ``xlog("café")`` showed ``cafÃ©`` and ``sipsim check`` named the first octet of an
em dash ("unexpected character 'â'") at a column counted in octets. The wire must not change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sipsim.cli import main
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route
from sipsim.routing.errors import CfgError

SCRIPT = """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
request_route {
    xlog("L_INFO", "café $rm\\n");
    append_hf("X-Note: naïve \\xe9\\r\\n");   # a UTF-8 text, then one octet written as an escape
    if (is_method("OPTIONS")) {
        sl_send_reply("200", "Très bien");
        exit;
    }
    forward();
}
"""


def _request(method: str) -> bytes:
    return (f"{method} sip:bob@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-u8\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@192.0.2.20>\r\n"
            f"Call-ID: utf8\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n").encode()


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "utf8.cfg"
    path.write_bytes(SCRIPT.encode("utf-8"))
    return path


def test_strings_go_out_as_the_octets_written(cfg: Path) -> None:
    router = load_route(cfg, ServerConfig(profile=Profile.KAMAILIO))
    driver = MemoryDriver(router.config, router=router)
    reply = driver.feed(_request("OPTIONS"), ("192.0.2.10", 5070))
    assert reply.sent[0].data.startswith("SIP/2.0 200 Très bien\r\n".encode())
    fwd = driver.feed(_request("INVITE"), ("192.0.2.10", 5070))
    assert b"\r\nX-Note: na\xc3\xafve \xe9\r\n" in fwd.sent[0].data  # UTF-8 as written, the escape as one octet
    # a file that is not UTF-8 (latin-1 from an old editor): its octets still go out as they are
    old = cfg.with_name("latin1.cfg")
    old.write_bytes(SCRIPT.replace("\\xe9", "").encode("utf-8").replace("Très".encode(), b"Tr\xe8s"))
    router = load_route(old, ServerConfig(profile=Profile.KAMAILIO))
    reply = MemoryDriver(router.config, router=router).feed(_request("OPTIONS"), ("192.0.2.10", 5070))
    assert reply.sent[0].data.startswith(b"SIP/2.0 200 Tr\xe8s bien\r\n")


def test_trace_shows_the_text_as_written(cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dat = tmp_path / "options.dat"
    dat.write_bytes(_request("OPTIONS"))
    assert main(["trace", str(dat), "--route", str(cfg), "--from", "192.0.2.10:5070"]) == 0
    out = capsys.readouterr().out
    assert "[L_INFO] café OPTIONS" in out
    assert 'xlog("L_INFO", "café $rm\\n");' in out  # the script's line, as the step shows it
    assert "answers 200 Très bien" in out and "sent to 192.0.2.10:5070 (reply): SIP/2.0 200 Très bien" in out
    assert "Ã" not in out
    dat.write_bytes(_request("INVITE"))
    assert main(["trace", str(dat), "--route", str(cfg), "--from", "192.0.2.10:5070", "--full"]) == 0
    out = capsys.readouterr().out
    assert "+ X-Note: naïve \ufffd" in out  # the lone octet 0xE9 is no UTF-8: shown as U+FFFD, for display only


def test_errors_name_the_character_at_the_column_an_editor_shows(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    readme = Path(__file__).parents[2] / "README.md"
    assert main(["check", str(readme), "--profile", "ser"]) == 1
    err = capsys.readouterr().err
    line = readme.read_text(encoding="utf-8").split("\n")[2]
    col = line.index("—") + 1
    assert f"README.md:3:{col}: unexpected character '—'" in err
    caret = err.splitlines()[-1]
    assert caret.index("^") - caret.index("|") - 2 == col - 1  # the caret under the dash itself

    bad = tmp_path / "octet.cfg"
    bad.write_bytes(b'request_route {\n  xlog("x"); \xe9\n}\n')
    with pytest.raises(CfgError) as exc:
        load_route(bad, ServerConfig())
    assert "unexpected octet 0xE9 (not UTF-8" in str(exc.value) and (exc.value.line, exc.value.column) == (2, 14)
    # a parse error names a string as written
    odd = tmp_path / "odd.cfg"
    odd.write_text('loadmodule "sl.so"\nrequest_route {\n  "Très" ;\n}\n', encoding="utf-8")
    with pytest.raises(CfgError) as exc:
        load_route(odd, ServerConfig())
    assert 'the string "Très"' in str(exc.value)
