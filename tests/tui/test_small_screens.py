"""80×24 and resizes: what a learner on a small terminal must still see, and keep, while stepping.

Each test names a moment by what happens there (``position``), opens the app at a small size and
checks the words on screen — the wait-queue with 16 workers, the drops of a flood, the script line
the worker is on, which datagram a worker holds, the run state, the lesson — and that a resize or
``f`` never leaves the focus on a panel the learner cannot see.
"""

from __future__ import annotations

import pytest
from moments import invite_maxfwd, position, screen_text
from textual.widgets import Input, TextArea
from tuikit import FakeLesson, panel_text, settle

from sipsim.engine.events import KernelEvent
from sipsim.engine.scenario import load_scenario
from sipsim.routing import DEFAULT_CFG
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LayersPanel, LessonPanel, MessagePanel, PipelinePanel, SocketPanel, WorkersPanel
from sipsim.tui.screens.inject import InjectScreen

SMALL = (80, 24)


def keybar_text(app) -> str:  # noqa: ANN001
    return app.main.query_one("#keybar")._text.plain



# the line of default.cfg that calls mf_process_maxfwd_header (the script may grow above it)
MF_LINE = next(i for i, ln in enumerate(DEFAULT_CFG.read_text().split("\n"), 1) if "mf_process_maxfwd_header(" in ln)


async def test_the_wait_queue_and_the_drops_stay_in_sight_when_their_panel_is_clipped() -> None:
    sc = load_scenario("basic-call").with_overrides(workers=16)
    app = SipsimApp(scenario=sc)
    async with app.run_test(size=SMALL) as pilot:
        app.goto(position(lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_queued" and e.msg == 3, sc))
        await settle(pilot)
        workers = panel_text(app, WorkersPanel)
        assert "wait-queue, next first: W" in workers  # 16 workers do not fit: the list scrolls, not the queue
        queue = workers.split("wait-queue, next first: ", 1)[1].split("\nhandled")[0]
        sleepers = app.source.snapshot.wait_queue
        assert len(sleepers) > 8 and "…" not in queue  # every sleeper, on as many lines as it takes
        assert [int(w) for w in queue.replace("→", " ").replace("W", " ").split()] == list(sleepers)
        assert "wasted wake-ups 0" in workers
    app = SipsimApp(scenario="overload")
    async with app.run_test(size=SMALL) as pilot:
        first_drop = position(lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_dropped", "overload")
        app.goto(first_drop + 200)
        await settle(pilot)
        sock = panel_text(app, SocketPanel)
        assert "dropped: receive buffer" in sock and "drops " in sock  # the flood's point, above the queue list
        assert "queued (oldest first)" in sock


async def test_the_script_line_and_the_held_datagram_are_in_sight_at_80x24() -> None:
    mf = position(invite_maxfwd)
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        app.goto(mf)
        await settle(pilot)
        w1 = next(line for line in panel_text(app, WorkersPanel).splitlines() if line.startswith(" W1"))
        assert "▶ mf_process_maxfwd_head" in w1 and "#2" in w1  # the state is shortened, not the datagram
        await pilot.press("3")
        await settle(pilot)
        pipe = panel_text(app, PipelinePanel)
        assert "▶ mf_process_maxfwd_header" in pipe and "── default.cfg (request_route) ──" in pipe
        assert f"▶  {MF_LINE}" in pipe  # the line being run, under the step that runs it
        await pilot.resize_terminal(120, 36)
        app.goto(mf - 1)
        await settle(pilot)
        pipe = panel_text(app, PipelinePanel)
        assert f"▶ request_route  script line {MF_LINE}" in pipe and f"▶  {MF_LINE}" in pipe


async def test_the_top_bar_and_the_footer_at_80_columns() -> None:
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        shown = app.top_line().plain[:78]  # what fits beside the padding
        assert "step 0" in shown and "paused" in shown and "basic-call · 4 workers" in shown
        bar = keybar_text(app)
        assert len(bar) == 80 and bar.rstrip().endswith("^p palette")
        assert "^q quit" in bar and "quit" in app.main.query_one("#keybar").actions
        # every key shown is shown whole: "key word" pairs, none cut in the middle
        for action in app.main.query_one("#keybar").actions:
            binding = next(b for b in app.BINDINGS if b.action.split("(")[0] == action)
            assert f"{app.get_key_display(binding)} {app.key_label(action) or binding.description}" in bar
        await pilot.press("p")
        await pilot.pause()
        assert "p pause" in keybar_text(app) and "running" in app.top_line().plain[:78]
        await pilot.press("p")
        await pilot.pause()
        assert "p run" in keybar_text(app) and "paused" in app.top_line().plain[:78]


@pytest.mark.parametrize("size", [SMALL, (120, 36)])
async def test_a_lesson_opens_on_its_own_tab(size: tuple[int, int]) -> None:
    app = SipsimApp(lesson=FakeLesson())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.main.query_one("#tabs").active == "tab-lesson"
        pane = app.main.panel(LessonPanel)
        assert pane.region.height > 5 and "Workers go to sleep" in pane.plain


async def test_an_open_question_is_in_sight_above_its_choices_at_80x24() -> None:
    lesson = FakeLesson()
    app = SipsimApp(lesson=lesson)
    async with app.run_test(size=SMALL) as pilot:
        app.goto(lesson.queued)
        await pilot.press("8")  # to the choices, as the pane says
        await settle(pilot)
        screen = screen_text(app)
        assert "? Which worker will the kernel wake?" in screen and "↑/↓ choose, enter answers" in screen
        assert "a) W0" in screen  # and the choices below it


async def test_a_resize_keeps_the_focused_panel_its_tab_and_maximize() -> None:
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        app.goto(position(invite_maxfwd))
        await settle(pilot)
        await pilot.press("4", "right", "f")  # the message panel, orig tab, maximized
        await settle(pilot)
        for size in ((120, 36), (160, 45), SMALL):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            message = app.main.panel(MessagePanel)
            assert app.focused is message, size
            assert app.screen.maximized is message, size
            assert "[orig]" in panel_text(app, MessagePanel)
        await pilot.press("f")
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert app.main.query_one("#tabs").active == "tab-message" and app.screen.maximized is None


async def test_focusing_another_panel_while_one_is_maximized_shows_it() -> None:
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f")  # nothing focused yet: say what to do
        await pilot.pause()
        assert app.screen.maximized is None
        assert any("focus a panel first" in n.message for n in app._notifications)
        await pilot.press("4", "f", "6")
        await settle(pilot)
        ladder = app.main.query_one("#ladder")
        assert app.focused is ladder and app.screen.maximized is ladder  # not a hidden panel with the keys


async def test_the_inject_dialog_at_80x24_shows_where_and_room_to_edit() -> None:
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InjectScreen)
        title = app.screen.query_one("#inject-title")
        assert title.region.height == 2  # "… arrives right after the current step at" / "127.0.0.1:5060"
        assert app.screen.query_one(TextArea).region.height >= 8


async def test_a_far_goto_computes_in_slices_with_progress() -> None:
    app = SipsimApp(scenario="overload")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one(Input).value = "50000"
        busy: list[str] = []
        original = app._moved

        def watch() -> None:
            busy.append(app._busy)
            original()

        app._moved = watch  # type: ignore[method-assign]
        await pilot.press("enter")
        await settle(pilot)
        assert app.source.position == 50000 and not app._busy
        assert any(b.startswith("computing to step 50000") for b in busy)  # the screen said so meanwhile


async def test_the_layers_panel_at_80x24_says_every_layer_in_one_line_each() -> None:
    """At 80×24 the layers tab is 9 lines: the tree showed the IP header's first fields and never
    reached UDP or SIP. Now a line per layer comes first, and the fields are a scroll away."""
    app = SipsimApp()
    async with app.run_test(size=SMALL) as pilot:
        app.goto(position(invite_maxfwd))
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        lines = panel_text(app, LayersPanel).splitlines()
        assert lines[:4] == ["IP   127.0.0.2 → 127.0.0.1 · ttl 64 · len 568",
                             "UDP  5060 → 5060 · len 548 · chksum " + lines[1].rsplit(" ", 1)[-1],
                             "SIP  INVITE sip:bob@127.0.0.1 · 10 headers · body 189 B",
                             "every field below: up/down (f: bigger)"], lines
        assert lines[4] == "▾ IP" and lines[1].rsplit(" ", 1)[-1].startswith("0x")
        await pilot.press(*["down"] * 30)  # the last field is in reach
        await settle(pilot)
        assert "body" in panel_text(app, LayersPanel).splitlines()[-1]


async def test_the_socket_panel_says_why_its_fill_exceeds_its_queue() -> None:
    """In a flood the fill bar counts bytes of datagrams already read that Linux gives back only in
    batches: the panel says how many, or its numbers look wrong (154 queued, 166 datagrams' bytes)."""
    app = SipsimApp(scenario="overload")
    async with app.run_test(size=(160, 48)) as pilot:
        first_drop = position(lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_dropped", "overload")
        app.goto(first_drop)
        await settle(pilot)
        sock = app.source.snapshot.sockets[0]
        held = sock.rmem - sum(q.charge for q in sock.queue)
        assert held > 0, "the flood's first drop comes with bytes read but not released"
        assert f"{held} B of the fill: read, not given back yet" in panel_text(app, SocketPanel).replace("\n", " ")
