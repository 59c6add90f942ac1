"""``sipsim tui --pcap FILE --call-id TEXT --frames N-M``: one call of a capture stepped through.

The TUI opens on the arrival of the first selected datagram, after a fast-forward over every
replayed datagram before it — the proxy is then in the state the full replay has at that moment
(bob's REGISTER, outside the selection, has made the binding the INVITE needs); the run ends
after the last selected datagram, as ``sipsim simulate`` replays a selection. The capture is the
simulator's own (``simulate basic-call --save-pcap``): a REGISTER (frames 1-2), then alice's call
(frames 3-16, Call-ID ``call1-alice@127.0.0.2``), every received datagram on an odd frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tuikit import panel_text, settle

from sipsim.cli import main as cli_main
from sipsim.engine.events import DATAGRAM_QUEUED, KernelEvent, StepEvent
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import MessagePanel
from sipsim.tui.sources import SimSource

SIZE = (160, 45)
CALL = "call1-alice@127.0.0.2"


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cap") / "basic-call.pcap"
    assert cli_main(["simulate", "basic-call", "--save-pcap", str(path)]) == 0
    return path


def opened(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> SipsimApp:
    """The app ``sipsim tui ARGV`` opens, taken where it would take the terminal (the command line's
    whole path: options, replay, selection, run_tui)."""
    apps: list[SipsimApp] = []
    monkeypatch.setattr("sipsim.cli.tui.no_terminal", lambda _hint: None)
    monkeypatch.setattr(SipsimApp, "run", lambda self, *a, **k: apps.append(self))
    assert cli_main(["tui", *argv]) == 0, capsys.readouterr().err
    [app] = apps
    return app


def arrivals(src: SimSource, upto: int) -> list[tuple[int, bytes]]:
    """(datagram id, first line) of every datagram that arrived at the proxy up to ``upto``."""
    out = []
    for p in range(1, upto + 1):
        ev = src.event_at(p)
        if type(ev) is KernelEvent and ev.kind == DATAGRAM_QUEUED:
            w = src.datagram(ev.msg)  # type: ignore[arg-type]
            assert w is not None and w.data is not None
            out.append((ev.msg, w.data.split(b"\r\n", 1)[0]))
    return out


async def test_a_call_id_opens_at_the_call_in_the_full_replays_state(
        capture: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    app = opened(monkeypatch, capsys, "--pcap", str(capture), "--call-id", CALL)
    assert "--call-id call1-alice@127.0.0.2: 7 of the 8 replayed datagram(s) selected" in capsys.readouterr().err
    src: Any = app.source
    start = src.position
    ev = src.event_at(start)
    assert start == src.start > 0 and type(ev) is KernelEvent and ev.kind == DATAGRAM_QUEUED
    assert src.datagram(ev.msg).data.startswith(b"INVITE sip:bob@127.0.0.1 ")  # frame 3: the call's first
    assert src.selected == {ev.msg}  # the REGISTER before it ran, unselected
    # the fast-forward is the full replay's beginning, event for event
    full = opened(monkeypatch, capsys, "--pcap", str(capture)).source
    assert isinstance(full, SimSource) and full.position == 0
    full.goto(start)
    assert [(full.time_at(p), full.event_at(p).text) for p in range(1, start + 1)] == \
        [(src.time_at(p), src.event_at(p).text) for p in range(1, start + 1)]  # type: ignore[union-attr]
    register = next(m for m in src.history.msgs.values() if m.take is not None)
    assert src.datagram(register.id).data.startswith(b"REGISTER") and register.call_id != CALL
    assert [w.first_line for w in src.sent(register.id)] == ["SIP/2.0 200 OK"]  # bob is bound
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "--call-id call1-alice@127.0.0.2 (7 selected)" in app.top_line().plain
        assert f"step {start} " in app.top_line().plain
        await pilot.press("n")
        await settle(pilot)
        assert src.position == start + 1
        taken = src.find(lambda e: type(e) is StepEvent and e.step == "parse_msg")
        app.goto(taken)
        await settle(pilot)
        assert f"Call-ID: {CALL}" in panel_text(app, MessagePanel)
        # the INVITE is forwarded to the contact the unselected REGISTER bound
        done = src.find(lambda e: type(e) is StepEvent and e.msg == ev.msg and e.outcome is not None)
        assert src.event_at(done).outcome == "forwarded"
        src.goto(10**7)
        assert [w.dst for w in src.sent(ev.msg)] == [("127.0.0.3", 5060)]
        assert len(src.selected) == 7 and len(arrivals(src, src.position)) == 8


async def test_frames_select_a_range_and_the_run_ends_after_it(
        capture: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    app = opened(monkeypatch, capsys, "--pcap", str(capture), "--frames", "5-7")
    err = capsys.readouterr().err
    assert "2 of the 8 replayed datagram(s) selected (frames 5, 7)" in err and "the 4 replayed after" in err
    src: Any = app.source
    first = arrivals(src, src.position)
    assert [line for _, line in first] == [b"REGISTER sip:127.0.0.1 SIP/2.0", b"INVITE sip:bob@127.0.0.1 SIP/2.0",
                                           b"SIP/2.0 100 Trying"]  # the TUI opens on frame 5's arrival
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        every = arrivals(src, src.position)
        assert [line for _, line in every][3:] == [b"SIP/2.0 180 Ringing"]  # frames 9 on are not replayed
        assert src.selected == {first[2][0], every[3][0]}
        assert "--frames 5-7 (2 selected)" in app.top_line().plain
        app.override(workers=2)  # the command palette's "workers": the run starts again, still selected
        await settle(pilot)
        assert "--frames 5-7 (2 selected)" in app.top_line().plain
        assert app.source.selection is src.selection


def test_bad_selections_are_refused_before_the_terminal_is_taken(
        capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, text in ((["--call-id", CALL], "go with --pcap"),
                       (["--pcap", str(capture), "--call-id", CALL.upper()], "Call-IDs are compared exactly"),
                       (["--pcap", str(capture), "--frames", "3-1"], "a range N-M goes up"),
                       (["--pcap", str(capture), "--frames", "99"], "the capture's frames are 1 to 16")):
        assert cli_main(["tui", *argv]) == 2
        err = capsys.readouterr().err
        assert text in err and "Traceback" not in err, err


async def test_braces_move_within_the_selection(
        capture: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``}``/``{`` go to the next/previous *selected* datagram (``--frames`` may cross calls: the
    selection is what counts), and the footer offers them while a selection is open."""
    from tuikit import footer_actions

    app = opened(monkeypatch, capsys, "--pcap", str(capture), "--frames", "5-7")
    src: Any = app.source
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        start = src.position  # frame 5's arrival: the 100 Trying
        assert "next_in_call" in footer_actions(app)
        await pilot.press("left_curly_bracket")  # the INVITE before it is not selected
        await settle(pilot)
        assert src.position == start
        assert any("no datagram of --frames 5-7 before this point" in str(n.message) for n in app._notifications)
        await pilot.press("right_curly_bracket")
        await settle(pilot)
        ev = src.event_at(src.position)
        assert type(ev) is KernelEvent and ev.kind == DATAGRAM_QUEUED
        assert src.datagram(ev.msg).data.startswith(b"SIP/2.0 180 Ringing")  # frame 7
        await pilot.press("right_curly_bracket")  # nothing selected after it
        await settle(pilot)
        assert src.datagram(src.event_at(src.position).msg).data.startswith(b"SIP/2.0 180 Ringing")
        await pilot.press("left_curly_bracket")
        await settle(pilot)
        assert src.position == start
