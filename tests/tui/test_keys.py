"""Every key of the TUI, driven with Textual's Pilot, each checked by what it changes on screen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from moments import invite_maxfwd, position
from textual.widgets import Input, TextArea
from tuikit import footer_actions, panel_text, save_with_s, screen_svg, settle

from sipsim.engine.events import DATAGRAM_QUEUED, KernelEvent, StepEvent
from sipsim.routing import DEFAULT_CFG
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import (
    LadderPanel,
    LayersPanel,
    LogPanel,
    MessagePanel,
    PipelinePanel,
    SocketPanel,
    WorkersPanel,
)
from sipsim.tui.screens.help import HelpScreen
from sipsim.tui.screens.inject import InjectScreen

SIZE = (160, 45)


async def goto(pilot, n: int) -> None:  # noqa: ANN001
    await pilot.press("g")
    await pilot.pause()
    inp = pilot.app.screen.query_one(Input)
    inp.value = str(n)
    await pilot.press("enter")
    await settle(pilot)


async def test_stepping_back_draws_what_going_straight_there_draws() -> None:
    """n × k then b renders exactly what going straight to k − 1 renders — also inside the script."""
    mf = position(invite_maxfwd)  # W1 about to call mf_process_maxfwd_header for the INVITE
    straight = SipsimApp()
    stepped = SipsimApp()
    async with straight.run_test(size=SIZE) as p1:
        await goto(p1, mf - 1)
        assert straight.source.position == mf - 1
        expected = screen_svg(straight)
        await goto(p1, 9)
        expected_at_10 = screen_svg(straight)
    async with stepped.run_test(size=SIZE) as p2:
        for _ in range(10):
            await p2.press("n")
        await p2.press("b")
        await settle(p2)
        assert stepped.source.position == 9
        assert screen_svg(stepped) == expected_at_10
        await goto(p2, mf - 8)
        for _ in range(8):
            await p2.press("n")
        await p2.press("b")
        await settle(p2)
        assert stepped.source.position == mf - 1
        assert screen_svg(stepped) == expected
        # what that screen shows: W1 in default.cfg, about to call mf_process_maxfwd_header
        pipe = panel_text(stepped, PipelinePanel)
        mf_line = next(i for i, ln in enumerate(DEFAULT_CFG.read_text().split("\n"), 1)
                       if "mf_process_maxfwd_header(" in ln)
        assert f"▶ request_route  script line {mf_line}" in pipe
        assert "default.cfg" in pipe and f"▶  {mf_line}" in pipe
        await p2.press("n")
        await settle(p2)
        assert "▶ mf_process_maxfwd_header  Max-For" in panel_text(stepped, PipelinePanel)
        assert "✎ changed    │ Max-Forwards: 69" in panel_text(stepped, MessagePanel)  # SER: buf edited at once


async def test_n_b_and_the_footer_hides_what_cannot_be_done() -> None:
    app = SipsimApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.source.position == 0
        assert "back" not in footer_actions(app) and "step" in footer_actions(app)
        assert "no datagram yet" in panel_text(app, PipelinePanel)
        await pilot.press("n")
        await settle(pilot)
        assert app.source.position == 1
        assert "back" in footer_actions(app)
        assert "W3  … starting" in panel_text(app, WorkersPanel)
        for _ in range(7):
            await pilot.press("n")
        await settle(pilot)
        workers = panel_text(app, WorkersPanel)
        assert "wait-queue, next first: W3 → W1 → W0 → W2" in workers  # the start order: first asleep, first woken
        await pilot.press("b")
        await settle(pilot)
        assert "wait-queue, next first: W3 → W1 → W0" in panel_text(app, WorkersPanel)
        assert "W2" not in panel_text(app, WorkersPanel).split("wait-queue, next first:")[1].split("\n")[0]


async def test_next_previous_message_home_end() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right_square_bracket")
        await settle(pilot)
        ev = app.source.event_at(app.source.position)
        assert isinstance(ev, KernelEvent) and ev.kind == DATAGRAM_QUEUED and ev.msg == 1
        assert "#1 REGISTER queued" in panel_text(app, LadderPanel)
        assert "1 queued" in panel_text(app, SocketPanel)
        first = app.source.position
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.source.event_at(app.source.position).msg == 2
        assert "#1 REGISTER →W3" in panel_text(app, LadderPanel)  # by now W3 took it
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.source.position == first
        await pilot.press("end")
        await settle(pilot)
        assert app.source.at_end and "(end)" in app.top_line()
        assert "step" not in footer_actions(app) and "end" not in footer_actions(app)
        assert "#8 200 OK W2" in panel_text(app, LadderPanel)
        await pilot.press("home")
        await settle(pilot)
        assert app.source.position == 0


async def test_goto_accepts_steps_times_and_ids_and_says_what_is_wrong() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        inp = app.screen.query_one(Input)
        inp.value = "nonsense"
        await pilot.press("enter")
        await pilot.pause()
        assert "not a step number" in str(app.screen.query_one("#goto-hint").render())
        inp.value = "#2"
        await pilot.press("enter")
        await settle(pilot)
        assert app.source.event_at(app.source.position).msg == 2
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one(Input).value = "t=0.05"
        await pilot.press("enter")
        await settle(pilot)
        assert app.source.time_at(app.source.position) <= 0.05 < app.source.time_at(app.source.position + 1)


async def test_breakpoint_run_and_speed() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        fr = position(lambda e: isinstance(e, StepEvent) and e.step == "forward_reply")
        await goto(pilot, fr)  # W0 on forward_reply of the 100 Trying
        ev = app.source.event_at(fr)
        assert isinstance(ev, StepEvent) and ev.step == "forward_reply"
        await pilot.press("x")
        await settle(pilot)
        assert app.breakpoints == {"forward_reply"}
        assert "● " in panel_text(app, PipelinePanel) and "breakpoint" in app.top_line()
        await pilot.press("plus", "plus", "plus", "plus")  # 10/s → 500/s
        assert "500" in app.top_line()
        await pilot.press("minus")
        assert "100" in app.top_line()
        await pilot.press("p")
        for _ in range(100):
            await pilot.pause(0.05)
            if not app.running:
                break
        assert not app.running
        stopped = app.source.event_at(app.source.position)
        assert isinstance(stopped, StepEvent) and stopped.step == "forward_reply" and app.source.position > fr
        assert "▶ forward_reply" in panel_text(app, PipelinePanel)
        # x on the pipeline's selected row removes it again
        await pilot.press("3")
        rows = app.main.panel(PipelinePanel)._rows
        fr = next(i for i, r in enumerate(rows) if r.step == "forward_reply")
        app.main.panel(PipelinePanel).cursor = fr
        await pilot.press("x")
        assert app.breakpoints == set()


async def test_conditional_break_next_invite() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("down", "enter")  # the second choice: next INVITE
        await settle(pilot)
        ev = app.source.event_at(app.source.position)
        assert ev.kind == DATAGRAM_QUEUED and ev.detail["first_line"].startswith("INVITE ")
        assert "#2 INVITE queued" in panel_text(app, LadderPanel)
        await pilot.press("home", "X")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # from an address…
        await pilot.pause()
        await pilot.press(*"127.0.0.3", "enter")
        await settle(pilot)
        ev = app.source.event_at(app.source.position)
        assert ev.kind == DATAGRAM_QUEUED and ev.detail["src"] == "127.0.0.3:5060" and ev.msg == 1


async def test_inject_a_template_then_see_it_arrive() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await goto(pilot, 8)  # every worker sleeps
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, InjectScreen)
        area = app.screen.query_one(TextArea)
        assert area.text.startswith("OPTIONS sip:127.0.0.1 SIP/2.0")
        area.load_text(area.text.replace("User-Agent: sipsim", "User-Agent: typed-in-the-tui"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.source.position == 8
        await pilot.press("n")
        await settle(pilot)
        ev = app.source.event_at(9)
        assert ev.kind == DATAGRAM_QUEUED and ev.detail["src"] == "192.0.2.99:5060" and ev.detail.get("injected")
        data = app.source.datagram(ev.msg).data
        assert b"User-Agent: typed-in-the-tui\r\n" in data  # edited text, CRLF line ends
        assert "#1 OPTIONS queued" in panel_text(app, LadderPanel)
        answer = app.source.find(lambda e: e.kind == "datagram_sent" and e.msg == 1 if isinstance(e, KernelEvent)
                                 else False)
        await goto(pilot, answer)  # the proxy answered it, to where it came from
        assert "#1 200 OK W" in panel_text(app, LadderPanel)
        assert app.source.event_at(answer).detail["to"] == "192.0.2.99:5060"


async def test_inject_a_corpus_file_byte_for_byte() -> None:
    from textual.widgets import Select

    from sipsim.tui.screens.inject import corpus_files

    files = dict(corpus_files())
    assert "file: rfc4475-wsinv.dat" in files and "file: rfc3261/s24_2_F1_INVITE.dat" in files
    raw = files["file: rfc4475-wsinv.dat"].read_bytes()
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await goto(pilot, 8)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Select).value = "f:file: rfc4475-wsinv.dat"
        await pilot.pause()
        app.screen.query_one("#inject-src", Input).value = "192.0.2.7:5099"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("n")
        ev = app.source.event_at(9)
        assert ev.kind == DATAGRAM_QUEUED and ev.detail["src"] == "192.0.2.7:5099"
        assert app.source.datagram(ev.msg).data == raw  # the torture test's bytes, untouched


async def test_save_pcap_of_what_passed_through(tmp_path: Path) -> None:
    from sipsim.packets import read_sip_datagrams

    app = SipsimApp()
    out = tmp_path / "call.pcap"
    async with app.run_test(size=SIZE) as pilot:
        await goto(pilot, position(lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_sent" and e.msg == 3))
        await save_with_s(pilot, out)
        saved = out.read_bytes()
        # the same name again (the default name repeats at one position): refused, the file kept
        await save_with_s(pilot, out)
        assert out.read_bytes() == saved
        assert any("never replaces" in str(n.message) for n in app._notifications)
    records = read_sip_datagrams(str(out))
    assert abs(records[0].capture_time - time.time()) < 600, "stamped from now, not 1970"
    firsts = [r.data.split(b"\r\n", 1)[0] for r in records]
    # REGISTER in, 200 out, INVITE in, INVITE out, 100 in, 100 out (up to the 100 Trying forwarded)
    assert firsts == [b"REGISTER sip:127.0.0.1 SIP/2.0", b"SIP/2.0 200 OK", b"INVITE sip:bob@127.0.0.1 SIP/2.0",
                      b"INVITE sip:bob@127.0.0.3:5060 SIP/2.0", b"SIP/2.0 100 Trying", b"SIP/2.0 100 Trying"]
    assert tuple(records[1].dst) == ("127.0.0.3", 5060)


async def test_panels_focus_maximize_help_and_quit() -> None:
    app = SipsimApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, position(invite_maxfwd))
        for n, cls in ((1, WorkersPanel), (3, PipelinePanel), (4, MessagePanel), (5, LayersPanel), (6, LadderPanel),
                       (7, LogPanel), (2, SocketPanel)):
            await pilot.press(str(n))
            await pilot.pause()
            assert app.focused is app.main.panel(cls), n
        await pilot.press("8")  # no lesson here: a notice, focus stays
        assert app.focused is app.main.panel(SocketPanel)
        await pilot.press("4")
        await settle(pilot)
        assert app.main.query_one("#tabs").active == "tab-message"  # 80×24: the message is a tab
        await pilot.press("right", "right")
        assert "[lumps]" in panel_text(app, MessagePanel) and "mf_process_maxfwd_header" in panel_text(app,
                                                                                                       MessagePanel)
        await pilot.press("f")
        assert app.screen.maximized is app.main.panel(MessagePanel)
        await pilot.press("f")
        assert app.screen.maximized is None
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "4 Message" in app.screen.help_title and "msg_parser.c" in app.screen.text
        from sipsim.tui.keybar import KeyBar

        bar = app.screen.query_one(KeyBar).actions
        assert "quit" in bar and "dismiss_help" in bar, bar  # the help screen's key bar keeps ^q quit
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_palette_switches_profile_and_scenario() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await goto(pilot, position(invite_maxfwd))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"profile: kamailio")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.source.profile == "kamailio" and app.source.position == position(invite_maxfwd)
        assert "kamailio" in app.top_line()
        msg = panel_text(app, MessagePanel)
        assert "buf: the received bytes, never written" in msg and "orig" in msg  # struck out: Kamailio has none
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"scenario: reorder")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.source.scenario.name == "reorder" and app.source.position == 0
        await pilot.press("end")
        await settle(pilot)
        assert "⇅ reordered" in panel_text(app, LadderPanel)


async def test_log_filter_and_jump_and_ladder_enter() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("7", "slash")
        await pilot.pause()
        app.screen.query_one(Input).value = "forward_reply"
        await pilot.press("enter")
        await settle(pilot)
        lines = [x for x in panel_text(app, LogPanel).splitlines() if x.strip()]
        assert lines and all("forward_reply" in x for x in lines)
        at = app.source.position
        await pilot.press("enter")  # the highlighted line is where we are: enter says how to pick another
        await settle(pilot)
        assert app.source.position == at
        assert any("move with" in str(n.message) for n in app._notifications), list(app._notifications)
        await pilot.press("up", "enter")  # the second-last forward_reply
        await settle(pilot)
        ev = app.source.event_at(app.source.position)
        assert isinstance(ev, StepEvent) and ev.step == "forward_reply"
        # the ladder: select the INVITE into the proxy, enter goes to its steps (W1's recvfrom)
        await pilot.press("6")
        ladder = app.main.panel(LadderPanel)
        ladder.cursor = next(i for i, r in enumerate(ladder.visible_rows()) if r.msg == 2 and not r.out)
        await pilot.press("enter")
        await settle(pilot)
        ev = app.source.event_at(app.source.position)
        assert isinstance(ev, StepEvent) and ev.step == "recvfrom" and ev.msg == 2 and ev.worker == 1
        # c: only this call (its Call-ID); the REGISTER is another dialog and leaves the ladder
        await pilot.press("end")
        await settle(pilot)
        ladder.cursor = next(i for i, r in enumerate(ladder.visible_rows()) if r.msg == 2 and not r.out)
        await pilot.press("c")
        await settle(pilot)
        assert ladder.call_filter == "call1-alice@127.0.0.2" and "Call-ID ~ call1-alice" in ladder.border_title
        assert {r.msg for r in ladder.visible_rows()} == {2, 3, 4, 5, 6, 7, 8}
        await pilot.press("c")
        assert 1 in {r.msg for r in ladder.visible_rows()}


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_small_layouts_put_panels_in_tabs(size: tuple[int, int]) -> None:
    app = SipsimApp()
    async with app.run_test(size=size) as pilot:
        await goto(pilot, position(invite_maxfwd))
        assert app.main.mode == ("narrow" if size[0] == 80 else "medium")
        await pilot.press("6")
        await settle(pilot)
        assert app.main.query_one("#tabs").active == "tab-ladder"
        assert "#2 INVITE →W1" in panel_text(app, LadderPanel)
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert app.main.mode == "wide" and "#2 INVITE →W1" in panel_text(app, LadderPanel)
