"""What a teacher's review of the panels found wrong, checked on the shipped scenarios: a wasted
wake-up is not a first sleep, a datagram that did not parse takes neither branch, the ladder folds
the least used addresses (and names them), Enter in the pipeline goes to the row's step, stepping
pauses a run, and a conditional break refuses an address that is not one."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from tuikit import panel_text, settle

from sipsim.engine.events import WASTED_WAKEUP, WORKER_SLEEPS, KernelEvent, StepEvent
from sipsim.engine.scenario import load_scenario
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LadderPanel, MessagePanel, PipelinePanel, WorkersPanel
from sipsim.tui.screens.cond_break import CondBreakScreen, parse_sender
from sipsim.tui.screens.help import HelpScreen

SIZE = (160, 45)


def positions(app, match) -> list[int]:  # noqa: ANN001
    """Every position up to the end of the (short) scenario where ``match(event)`` holds."""
    src = app.source
    src.goto(10**7)
    end = src.position
    src.goto(0)
    return [p for p in range(1, end + 1) if match(src.event_at(p))]


async def test_a_wasted_wake_up_is_not_a_first_sleep() -> None:
    """herd: the kernel wakes every sleeper for one datagram; the losers go back to sleep. They
    slept from the start, so "for the first time" would teach the opposite of lesson 4."""
    app = SipsimApp(scenario="herd")
    async with app.run_test(size=SIZE) as pilot:
        wasted = positions(app, lambda e: isinstance(e, KernelEvent) and e.kind == WASTED_WAKEUP)
        sleeps = positions(app, lambda e: isinstance(e, KernelEvent) and e.kind == WORKER_SLEEPS)
        assert wasted, "the herd scenario has wasted wake-ups"
        first = wasted[0]
        loser = app.source.event_at(first).worker
        # at the wasted wake-up: the worker says it was woken for nothing, not plainly "woken"
        app.goto(first)
        await settle(pilot)
        text = panel_text(app, WorkersPanel)
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"W{loser} "))
        assert "woken for nothing" in line and f"W{loser} wasted wake-up" in text
        # its next sleep is a return to sleep after a wasted wake-up
        back = next(p for p in sleeps if p > first and app.source.event_at(p).worker == loser)
        app.goto(back)
        await settle(pilot)
        text = panel_text(app, WorkersPanel)
        assert f"W{loser} woken for nothing: sleeps at the head" in text
        assert "for the first time" not in text
        # stepping back onto it from the next step draws the same note (folded from the history)
        app.goto(back + 1)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert panel_text(app, WorkersPanel) == text
        # the real first sleeps, at the start, still say so
        app.goto(sleeps[0])
        await settle(pilot)
        w0 = app.source.event_at(sleeps[0]).worker
        assert f"W{w0} sleeps in recvfrom for the first time" in panel_text(app, WorkersPanel)


async def test_a_datagram_that_did_not_parse_takes_neither_branch() -> None:
    app = SipsimApp(scenario="bad-input")
    async with app.run_test(size=SIZE) as pilot:
        failed = positions(app, lambda e: isinstance(e, StepEvent) and e.step == "parse_msg" and bool(e.reason))
        assert failed
        app.goto(failed[0])
        await settle(pilot)
        text = panel_text(app, PipelinePanel)
        assert "neither branch" in text and "parse_msg failed" in text
        assert "request branch" not in text and "this is a request" not in text
        assert "exec_pre_script_cb" not in text  # no step of a branch is listed as pending/skipped


async def test_onreply_route_not_run_is_marked_not_reached_in_the_kamailio_profile() -> None:
    """default.cfg has no onreply_route: once forward_reply ran, onreply_route never will."""
    app = SipsimApp(scenario=load_scenario("basic-call").with_overrides(profile="kamailio"))
    async with app.run_test(size=SIZE) as pilot:
        fwd = positions(app, lambda e: isinstance(e, StepEvent) and e.step == "forward_reply")
        assert fwd
        msg = app.source.event_at(fwd[0]).msg
        ends = positions(app, lambda e: isinstance(e, StepEvent) and e.step == "free_sip_msg" and e.msg == msg)
        for pos in (fwd[0], next(p for p in ends if p > fwd[0])):
            app.goto(pos)
            await settle(pilot)
            rows = panel_text(app, PipelinePanel).splitlines()
            row = next(r for r in rows if "onreply_route" in r)
            assert "– onreply_route" in row and "· onreply_route" not in row, row


async def test_the_ladder_folds_the_least_used_addresses_and_names_them() -> None:
    """Two datagrams injected from 192.0.2.99 into the call: at 160×45 the ladder has room for
    three columns; the call's peer with most arrows keeps its own, the injected source (and the
    other peer) share "… 2 more", listed in the title."""
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        app.goto(50)
        await settle(pilot)
        for _ in range(2):
            await pilot.press("i")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
        app.goto(10**6)
        await settle(pilot)
        panel = app.main.panel(LadderPanel)
        header = panel_text(app, LadderPanel).splitlines()[:2]
        assert "… 2 more" in header[0] and "proxy" in header[0]
        assert "bob" in header[0] and "127.0.0.3:5060" in header[1]  # bob: the most arrows
        assert "192.0.2.99" not in header[0]
        title = str(panel.border_title)
        assert "… = alice 127.0.0.2:5060, 192.0.2.99:5060" in title
        # maximized, every address has its own column: nothing folded
        await pilot.press("6", "f")
        await settle(pilot)
        wide = panel_text(app, LadderPanel).splitlines()[1]
        assert all(a in wide for a in ("127.0.0.2:5060", "127.0.0.3:5060", "192.0.2.99:5060"))
        assert "…" not in str(panel.border_title)


async def test_enter_on_a_pipeline_row_goes_to_that_step() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        at = positions(app, lambda e: isinstance(e, StepEvent) and e.step == "request_route" and e.msg == 2)[0]
        recv = positions(app, lambda e: isinstance(e, StepEvent) and e.step == "recvfrom" and e.msg == 2)[0]
        app.goto(at)
        await settle(pilot)
        await pilot.press("3")
        panel = app.main.panel(PipelinePanel)
        for _ in range(20):  # up to the recvfrom row
            await pilot.press("up")
            if panel._rows[panel.cursor].name == "recvfrom":
                break
        assert panel._rows[panel.cursor].name == "recvfrom"
        await pilot.press("enter")
        await settle(pilot)
        assert app.source.position == recv


async def test_stepping_pauses_a_run_and_help_opens_on_question_mark() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause(0.2)
        assert app.running
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not app.running and "paused" in app.top_line().plain
        here = app.source.position
        await pilot.pause(0.2)
        assert app.source.position == here  # the run did not go on behind the learner's back
        await pilot.press("p")
        await pilot.pause(0.2)
        await pilot.press("b")
        await pilot.pause(0.2)
        assert not app.running
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_a_conditional_break_refuses_what_is_not_an_address() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("X", "down", "down", "enter")
        await settle(pilot)
        app.screen.query_one("#cond-addr", Input).value = "garbage::addr"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CondBreakScreen) and app.condition is None and app.source.position == 0
        assert "is not an IP address" in str(app.screen.query_one("#cond-hint").render())
        app.screen.query_one("#cond-addr", Input).value = "127.0.0.2"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, CondBreakScreen)
        assert app.source.event_at(app.source.position).detail["src"].startswith("127.0.0.2:")


@pytest.mark.parametrize(("text", "sender"), [
    ("127.0.0.2:5060", "127.0.0.2:5060"), (" 127.0.0.2 ", "127.0.0.2"), ("::1", "[::1]"),
    ("[::1]:5070", "[::1]:5070"), ("[0:0::1]", "[::1]"),
])
def test_a_sender_is_written_as_the_events_write_it(text: str, sender: str) -> None:
    assert parse_sender(text) == sender


@pytest.mark.parametrize("text", ["garbage::addr", "alice", "127.0.0.2:", "127.0.0.2:99999", "[127.0.0.1]:5060",
                                  "[::1", "", "1.2.3.4:5060x"])
def test_what_is_not_a_sender_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="IP:PORT"):
        parse_sender(text)


async def test_the_orig_tab_says_it_is_ser_only_and_hex_rows_fit_the_panel() -> None:
    app = SipsimApp(scenario=load_scenario("basic-call").with_overrides(profile="kamailio"))
    async with app.run_test(size=SIZE) as pilot:
        app.goto(positions(app, lambda e: isinstance(e, StepEvent) and e.step == "parse_msg" and e.msg == 2)[0])
        await settle(pilot)
        await pilot.press("4", "left")  # buf → hex (orig is skipped in this profile)
        await settle(pilot)
        panel = app.main.panel(MessagePanel)
        text = panel_text(app, MessagePanel).splitlines()
        assert "orig (ser only)" in text[1] and "[hex]" in text[1]
        per = int(text[2].split(" bytes, ")[1].split(" per row")[0])
        assert per in (4, 8, 16)
        row = text[3]  # the first row, whole, with its ASCII column
        assert len(row) <= panel.content_size.width and row.endswith("INVITE sip:bob@127"[:per])
