"""The lesson pane against sipsim.lessons.api, with a small lesson that checks the simulation."""

from __future__ import annotations

from textual.widgets import Input, OptionList
from tuikit import FakeLesson, footer_actions, settle

from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LessonPanel


def lesson_text(app) -> str:  # noqa: ANN001
    return app.main.panel(LessonPanel).plain


async def test_run_stops_at_the_question_and_the_check_reads_the_simulation() -> None:
    lesson = FakeLesson()
    app = SipsimApp(lesson=lesson)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert lesson.attached == 1 and app.source.scenario is lesson.scenario
        assert "Workers go to sleep" in lesson_text(app) and "udp_server.c" in lesson_text(app)
        assert "hint" in footer_actions(app)
        await pilot.press("plus", "plus", "plus", "plus", "p")  # run fast: the lesson's stop halts it
        for _ in range(100):
            await pilot.pause(0.05)
            if not app.running:
                break
        await settle(pilot)
        assert app.source.position == lesson.queued
        text = lesson_text(app)
        assert "A datagram arrives" in text and "Which worker will the kernel wake?" in text
        choices = app.main.panel(LessonPanel).query_one(OptionList)
        assert choices.display and choices.option_count == 4
        await pilot.press("h")
        await settle(pilot)
        assert "first one wakes" in lesson_text(app)
        await pilot.press("8")  # focus goes to the choices
        await pilot.pause()
        assert app.focused is choices
        wrong = (lesson.taker + 1) % 4
        for _ in range(wrong):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        text = lesson_text(app)
        assert "✗ not quite" in text and f"expected: W{lesson.taker}" in text
        assert lesson.answered == {"who": f"W{wrong}"}
        assert not choices.display  # answered: the question is closed
        await pilot.press("n", "n")  # the reveal: the worker the check named takes the datagram
        await settle(pilot)
        ev = app.source.event_at(app.source.position)
        assert ev.kind == "worker_woken" and ev.worker == lesson.taker


async def test_a_typed_answer_in_the_narrow_layout() -> None:
    lesson = FakeLesson(free_text=True)
    app = SipsimApp(lesson=lesson)
    async with app.run_test(size=(80, 24)) as pilot:
        app.goto(lesson.queued)
        await settle(pilot)
        await pilot.press("8")
        await pilot.pause()
        assert app.main.query_one("#tabs").active == "tab-lesson"
        assert isinstance(app.focused, Input)
        await pilot.press(*f"w{lesson.taker}", "enter")
        await settle(pilot)
        assert "✓ right" in lesson_text(app) and lesson.answered == {"who": f"w{lesson.taker}"}
