"""The TUI reads SIP text as UTF-8 (RFC 3261 §7.3.1), keeps the engine's offsets byte offsets, and
shows a byte that is not text as a ``\\xNN`` escape in reverse video.

``"Zoë"`` used to read ``ZoÃ«`` (one character per byte); decoding changes lengths, so the tests
check that the parser's marks still land on the lines whose bytes they name, that the escapes sit
exactly where the odd bytes are, and that the inject editor gives back the bytes it was given —
RFC 4475's binary ``mpart01`` (0xff, NUL, lone LFs) included, edited elsewhere or not.
"""

from __future__ import annotations

from pathlib import Path

from moments import screen_text
from rich.cells import cell_len
from textual.widgets import Input, Select, TextArea
from tuikit import panel_text, settle

from sipsim.engine.events import DATAGRAM_QUEUED, KernelEvent, StepEvent
from sipsim.tui import msgtext
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LadderPanel, MessagePanel
from sipsim.tui.panels.message import gutter_text, wrap_offsets
from sipsim.tui.wiretext import editable, from_editable, shown

DATA = Path(__file__).resolve().parents[1] / "data" / "rfc4475"
SIZE = (160, 45)
BODY = "Café ☕ für alle, 大停電\n"
REPLY = ("SIP/2.0 200 Très bien\n"
         'From: "Zoë" <sip:zoe@example.com>;tag=1\n'  # before the Via: parse_msg reads past it
         "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-utf8\n"
         "Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-far\n"
         "To: <sip:bob@example.com>;tag=2\nCall-ID: utf8-reply\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n"
         f"Content-Length: {len(BODY.replace(chr(10), chr(13) + chr(10)).encode())}\n\n{BODY}")


async def inject(pilot, port: int, *, text: str | None = None, corpus: str | None = None,  # noqa: ANN001
                 edit: tuple[str, str] | None = None) -> int:
    """Inject through the dialog from 192.0.2.7:``port`` (typed text, or a corpus file, maybe
    edited); the id the new datagram got, read at once (a later injection may come before it)."""
    app = pilot.app
    await pilot.press("i")
    await pilot.pause()
    area = app.screen.query_one(TextArea)
    if corpus is not None:
        app.screen.query_one(Select).value = f"f:file: {corpus}"
        await pilot.pause()
    if text is not None:
        area.load_text(text)
    if edit is not None:
        assert edit[0] in area.text
        area.load_text(area.text.replace(*edit))
    app.screen.query_one("#inject-src", Input).value = f"192.0.2.7:{port}"
    await pilot.press("ctrl+s")
    await settle(pilot)
    return sent_from(app, port)


def sent_from(app, port: int) -> int:  # noqa: ANN001
    """The id of the datagram injected from 192.0.2.7:``port`` (it arrives after the current step)."""
    queued = app.source.find(lambda e: isinstance(e, KernelEvent) and e.kind == DATAGRAM_QUEUED
                             and e.detail.get("src") == f"192.0.2.7:{port}")
    assert queued is not None
    return app.source.event_at(queued).msg


def parse_step(app, msg: int) -> int:  # noqa: ANN001
    return app.source.find(lambda e: isinstance(e, StepEvent) and e.step == "parse_msg" and e.msg == msg)


async def test_utf8_text_reads_as_utf8_and_the_parser_marks_stay_on_their_bytes() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        msg = await inject(pilot, 5101, text=REPLY)
        data = app.source.datagram(msg).data
        assert data == REPLY.replace("\n", "\r\n").encode("utf-8")  # typed text leaves as UTF-8
        app.goto(parse_step(app, msg))
        await settle(pilot)
        panel = app.main.panel(MessagePanel)
        lines = [t.plain for t in panel.lines(200)[0]]
        shown_text = "\n".join(lines)
        assert "Ã" not in shown_text and "â" not in shown_text  # no byte read as a character
        assert lines[0].startswith(f"#{msg} SIP/2.0 200 Très bien")  # the head: the engine's first line
        assert "✓ first_line │ SIP/2.0 200 Très bien" in lines
        assert '✓ from       │ From: "Zoë" <sip:zoe@example.com>;tag=1' in lines
        assert "= body       │ Café ☕ für alle, 大停電" in lines
        # the engine's unparsed offset is a byte offset: the ▸ mark is on the line starting there
        assert panel.view.focus.id == msg
        unparsed = panel.view.mview.unparsed
        assert data[unparsed:].startswith(b"Via: SIP/2.0/UDP 192.0.2.99:5060")
        assert unparsed > len(data[:unparsed].decode())  # the UTF-8 before it: bytes ≠ characters
        at = next(x for x in lines if x.startswith("▸"))
        assert at == "▸ unparsed   │ Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-far"
        gutter = msgtext.gutter(data, unparsed)
        ln = next(x for x in gutter if x.mark == msgtext.AT_UNPARSED)
        assert ln.start == unparsed and data[ln.start:ln.end].rstrip(b"\r\n").decode() == ln.text
        assert "200 Très bien" in panel_text(app, LadderPanel)
        screen = screen_text(app)  # every panel: the ladder, the log's narration, the steps …
        assert "Très bien" in screen and "Ã" not in screen and "Â" not in screen


async def test_inject_round_trips_bytes_that_are_not_text_and_shows_them_escaped() -> None:
    raw = (DATA / "mpart01.dat").read_bytes()
    assert b"\xff" in raw and b"\x00" in raw
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Select).value = "f:file: rfc4475/mpart01.dat"
        await pilot.pause()
        text = app.screen.query_one(TextArea).text
        assert "\\xff" in text and "\\x00" in text  # what a terminal cannot draw, as escapes
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)  # no lone surrogate reaches the screen
        assert "(\\xNN: a byte that is not text" in str(app.screen.query_one("#inject-status").render())
        await pilot.press("escape")
        await pilot.pause()
        same = await inject(pilot, 5102, corpus="rfc4475/mpart01.dat")
        assert app.source.datagram(same).data == raw  # unedited: byte for byte
        app.goto(parse_step(app, same))
        await settle(pilot)
        lines = app.main.panel(MessagePanel).lines(400)[0]
        escaped = [t for t in lines if "\\xff" in t.plain]
        assert escaped, "the body's 0xff bytes are shown"
        for t in escaped:  # every escape is set apart, and only the escape
            for s in t.spans:
                if s.style == "reverse":
                    piece = t.plain[s.start:s.end]
                    assert len(piece) in (4, 6) and piece[0] == "\\", piece
            assert any(s.style == "reverse" and t.plain[s.start:s.end] == "\\xff" for s in t.spans)
        app.goto(0)
        await settle(pilot)
        edited = await inject(pilot, 5103, corpus="rfc4475/mpart01.dat", edit=("Max-Forwards: 70", "Max-Forwards: 69"))
        # edited elsewhere: the 0xff, the NULs and the body's lone LFs come back as they were
        assert app.source.datagram(edited).data == raw.replace(b"Max-Forwards: 70", b"Max-Forwards: 69")
        typed = await inject(pilot, 5104, text=REPLY.replace("Très", "Tr\\xe8s"))  # \xNN typed: that byte
        assert app.source.datagram(typed).data.startswith(b"SIP/2.0 200 Tr\xe8s bien\r\n")


def test_torture_bytes_map_to_the_characters_that_show_them() -> None:
    data = (DATA / "intmeth.dat").read_bytes()
    lines = msgtext.gutter(data, len(data))  # all parsed: every line has its label
    to = next(x for x in lines if x.label == "to")
    assert to.text.startswith('To: "BEL:\\\\x07 NUL:\\\\x00 DEL:\\\\x7f" <sip:')  # backslash, then the byte
    assert [to.text[a:b] for a, b in to.escapes] == ["\\x07", "\\x00", "\\x7f"]
    ext = next(x for x in lines if x.text.startswith("extensionHeader"))
    assert ext.text.endswith(":\\ufeff大停電") and [ext.text[a:b] for a, b in ext.escapes] == ["\\ufeff"]
    assert "работающий" in next(x for x in lines if x.label == "from").text
    for ln in lines:  # each line is its own bytes, shown
        assert shown(data[ln.start:ln.end].rstrip(b"\r\n")).text == ln.text
    bad = shown(b"a\xc3\xabb\xffc")
    assert bad.text == "aëb\\xffc" and [bad.text[a:b] for a, b in bad.escapes] == ["\\xff"]
    # long lines wrap by terminal cells (a CJK character takes two), never through an escape
    assert wrap_offsets("大停電大停電", 5) == [2, 4]
    wrapped = gutter_text(lines, 37)[0]  # 22 columns of text: a cut by characters would split "\\x00"
    assert any(t.plain.endswith('"BEL:\\\\x07 NUL:\\') for t in wrapped)
    for t in wrapped:
        assert cell_len(t.plain) <= 37, t.plain
        assert all(t.plain[sp.start:sp.end] in ("\\x07", "\\x00", "\\x7f", "\\ufeff")
                   for sp in t.spans if sp.style == "reverse")


def test_editor_text_gives_back_every_datagram_of_the_corpus() -> None:
    for path in sorted(DATA.parent.rglob("*.dat")):
        raw = path.read_bytes()
        back = from_editable(editable(raw))
        assert back == raw or (b"\r\n" not in raw and back == raw.replace(b"\n", b"\r\n")), path
    # a backslash that would read as an escape is written as its own byte, so it stays a backslash
    assert editable(b"A: \\xff\xff\r\n") == "A: \\x5cxff\\xff\n"
    assert from_editable("A: \\x5cxff\\xff\n") == b"A: \\xff\xff\r\n"
    assert from_editable("x: \\u00e9 \\udc80\n") == b"x: \xc3\xa9 \\udc80\r\n"  # a surrogate names no character
