"""The TUI projected in class on 80×24 and driven by the keyboard only, as a first-time student
meets it: every choice of a lesson's question in sight, a way out of the answer box, the keys of
the focused panel on the footer, the palette's "Keys" and "Maximize" doing what ``?`` and ``f``
do, and the socket's and workers' sentences wrapped rather than cut to "…".

Each test reads what is on the terminal (or the footer's entries), not pixels.
"""

from __future__ import annotations

import pytest
from moments import screen_text
from textual.widgets import Input
from tuikit import FakeLesson, footer_actions, panel_text, settle

from sipsim.engine.events import KernelEvent
from sipsim.engine.scenario import load_scenario
from sipsim.lessons import open_lesson
from sipsim.tui.app import SipsimApp
from sipsim.tui.controls import SPEEDS
from sipsim.tui.panels import LessonPanel, MessagePanel, PipelinePanel, SocketPanel, WorkersPanel
from sipsim.tui.screens.help import HelpScreen
from sipsim.tui.sources import SimSource

SMALL = (80, 24)


@pytest.mark.parametrize("number", [1, 2])
async def test_every_choice_of_a_real_lesson_question_is_on_an_80x24_screen(number: int) -> None:
    """Lesson 1's first question (which worker does the kernel wake?) has four choices; the line
    of keys under the question pushed the fourth below the pane, so a class saw a) b) c) only.
    Lesson 2's "who handles #11?" comes with nine datagrams queued: the socket panel takes its
    full half of the screen, and the narration kept two lines the last choice needed."""
    session = open_lesson(number, attach=False)  # no store: nothing saved
    app = SipsimApp(lesson=session)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for q in session.questions():
            app.goto(q.position)
            await settle(pilot)
            screen = screen_text(app)
            assert f"? {q.prompt.split()[0]}" in screen
            for i, choice in enumerate(q.choices):
                assert f"{chr(97 + i)}) {choice}" in screen, f"{q.id}: choice {chr(97 + i)} is not on screen:\n{screen}"
            assert "8 to answer here · ↑/↓ or a–" in screen  # how to answer: still said, in the pane's border


async def test_escape_leaves_the_answer_box_and_the_keys_step_again() -> None:
    """In a free-text answer the letters are the answer's (``n`` is not a step): the footer offered
    only quit, and escape did nothing — no visible way back to the keys."""
    lesson = FakeLesson(free_text=True)
    app = SipsimApp(lesson=lesson)
    async with app.run_test(size=SMALL) as pilot:
        app.goto(lesson.queued)
        await settle(pilot)
        pane = app.main.panel(LessonPanel)
        assert "8 to answer here · type, enter" in pane.plain
        await pilot.press("8", "n")
        await settle(pilot)
        assert "esc leaves it" in pane.plain
        assert isinstance(app.focused, Input) and app.focused.value == "n"
        assert app.source.position == lesson.queued
        assert "leave_answer" in footer_actions(app)  # the way out is on the footer
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.focused, Input)
        assert "leave_answer" not in footer_actions(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.source.position == lesson.queued + 1  # n steps again


async def test_the_palette_keys_and_maximize_do_what_question_mark_and_f_do() -> None:
    """Textual's own "Keys" docked a keys panel that squeezed the panels on 80 columns and no key
    closed; its "Maximize" took the focused widget, not the panel."""
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("3", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"keys", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and app.screen.help_title == "3 Pipeline"
        assert not app.screen_stack[0].query("HelpPanel") and not app.main.query("HelpPanel")
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"maximize", "enter")
        await settle(pilot)
        assert app.main.maximized is app.main.panel(PipelinePanel)


async def test_a_focused_panel_puts_its_own_keys_first_on_80_columns() -> None:
    """The pipeline is where breakpoints are set (its help says so), yet on 80 columns the
    footer left ``x`` out; the message panel's ←/→ took two entries and pushed ``p run`` out."""
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        src = app.source
        assert isinstance(src, SimSource)
        app.goto(src.find(lambda ev: getattr(ev, "step", None) == "mf_process_maxfwd_header"))
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert "breakpoint" in footer_actions(app)
        await pilot.press("up")
        chosen = app.main.panel(PipelinePanel).selected_step()
        await pilot.press("x")
        await settle(pilot)
        assert chosen and app.breakpoints == {chosen}
        await pilot.press("4")
        await settle(pilot)
        bar = app.main.query_one("#keybar")._text.plain
        assert bar.count("tab") == 1 and "←/→ tab" in bar
        assert "run" in footer_actions(app)
        await pilot.press("right")
        await settle(pilot)
        assert "[orig]" in panel_text(app, MessagePanel)
        await pilot.press("left")
        await settle(pilot)
        assert "[buf]" in panel_text(app, MessagePanel)


async def test_sentences_in_the_narrow_socket_and_workers_panels_wrap_instead_of_being_cut() -> None:
    app = SipsimApp(scenario="overload")
    async with app.run_test(size=SMALL) as pilot:
        src = app.source
        assert isinstance(src, SimSource)
        drop = src.find(lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_dropped" and "charge" in e.detail)
        app.goto(drop)
        await settle(pilot)
        ev = src.event_at(drop)
        sock = panel_text(app, SocketPanel)
        said = " ".join(part.strip() for part in sock.split("\n"))
        assert f"dropped: {ev.detail['rmem']} + {ev.detail['charge']} > {ev.detail['rcvbuf']} B" in said, sock
        assert f"{ev.detail['rmem']}/" in sock and "…" not in sock.split("\n")[1]  # the fill bar's figures, whole
    sc = load_scenario("basic-call").with_overrides(workers=16)
    app = SipsimApp(scenario=sc)
    async with app.run_test(size=SMALL) as pilot:
        src = app.source
        assert isinstance(src, SimSource)
        app.goto(src.find(lambda e: isinstance(e, KernelEvent) and e.kind == "worker_sleeps" and e.worker >= 10))
        await settle(pilot)
        workers = panel_text(app, WorkersPanel)
        said = " ".join(part.strip() for part in workers.split("\n"))
        assert "sleeps in recvfrom for the first time" in said, workers


async def test_the_step_on_screen_says_all_it_does_at_80_columns() -> None:
    """The current step's sentence (what receive_msg allocates, what parse_msg parsed, why a
    datagram dropped) was cut to "…" at 80 columns, and no panel showed the rest."""
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        src = app.source
        assert isinstance(src, SimSource)
        for step in ("receive_msg", "parse_msg"):
            app.goto(src.find(lambda ev, s=step: getattr(ev, "step", None) == s and ev.msg == 2))
            await settle(pilot)
            pipeline = app.main.panel(PipelinePanel)
            current = next(r for r in pipeline._rows if r.mark == "▶")
            assert len(current.note) > 60  # longer than the room a line leaves it
            said = " ".join(panel_text(app, PipelinePanel).split())
            assert f"▶ {step} {' '.join(current.note.split())}" in said, said


async def test_a_maximized_panel_keeps_the_top_bar_and_says_how_to_come_back() -> None:
    """``f`` showed the panel alone: no step, no run state, no key on screen (not even f)."""
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("n", "n", "6", "f")
        await settle(pilot)
        assert app.main.maximized is app.main.query_one("#ladder")
        lines = screen_text(app).split("\n")
        assert "SIM" in lines[0] and "step 2" in lines[0] and "paused" in lines[0]
        assert "6 Ladder" in lines[1]
        assert "restore" in footer_actions(app) and "f restore" in lines[-1]
        await pilot.press("f")
        await settle(pilot)
        assert app.main.maximized is None and "restore" not in footer_actions(app)
        assert app.focused is app.main.query_one("#ladder")


async def test_plus_and_minus_say_the_speed_where_the_top_bar_does_not() -> None:
    """Paused at 80 columns the top bar says only "paused": ``+``/``-`` changed nothing in sight."""
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        before = app.speed
        await pilot.press("plus")
        await pilot.pause()
        assert app.speed == before + 1
        assert any(f"{SPEEDS[app.speed]} steps/s" in n.message for n in app._notifications)
        assert "steps/s" not in app.top_line().plain  # (the reason: the short bar leaves it out)


async def test_the_slow_speeds_really_run_slowly() -> None:
    """A teacher slows the run to narrate: at 1, 5 and 10 steps/s a run must not go at the timer's
    20 ticks a second (it did: every tick took at least one step). The ticks are driven here one
    by one (the timer stopped), so the count does not depend on how busy the machine is."""
    from sipsim.tui.stepping import TICK

    app = SipsimApp()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        for speed in (1, 5, 10):
            app.speed = SPEEDS.index(speed)
            await pilot.press("p")
            app._run_timer.stop()  # the ticks of one second, by hand, from no step owed
            app._run_credit = 0.0
            before = app.source.position
            for _ in range(round(1 / TICK)):
                app._run_tick()
            assert app.source.position - before == speed, speed
            app.stop_running()


async def test_a_run_waits_while_a_dialog_is_open() -> None:
    """p, then ? (help) or i (inject): the run waits behind the dialog, so an injected datagram
    arrives after the step that was on screen when the dialog opened. Ticks driven by hand."""
    app = SipsimApp()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.speed = SPEEDS.index(100)
        await pilot.press("p")
        app._run_timer.stop()
        for key in ("question_mark", "i"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, type(app.main)), key
            at = app.source.position
            for _ in range(10):
                app._run_tick()
            assert app.source.position == at, key
            await pilot.press("escape")
            await pilot.pause()
            app._run_tick()
            assert app.source.position > at, f"the run goes on after {key}'s dialog closes"
        app.stop_running()
