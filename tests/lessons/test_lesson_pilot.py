"""Lessons 1 and 6 walked end to end in the TUI, pressing only the keys the screen shows.

The learner's path: the key bar offers ``p`` (run) — a run stops at each place the lesson speaks; when
a question opens, the lesson pane says "8 to answer here · ↑/↓ or a–d, enter · …" in its border;
the learner answers with the reference answer and reads ✓. At the end every check of the lesson
passes — judged against the simulation the TUI ran — and the lesson is complete.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList
from tuikit import footer_actions, settle

from sipsim.lessons import open_lesson  # noqa: E402
from sipsim.tui.app import SipsimApp  # noqa: E402
from sipsim.tui.panels import LessonPanel  # noqa: E402

KEYBAR_ACTION = {"p": "run", "h": "hint", "n": "step"}


PANE_KEYS = {"8": "8 to answer here", "down": "↑/↓ choose", "enter": "enter answers"}


async def press_shown(pilot, app, key: str) -> None:  # noqa: ANN001
    """Press ``key`` only if the screen offers it: on the key bar, or in the lesson pane's key line."""
    if key in KEYBAR_ACTION:
        assert KEYBAR_ACTION[key] in footer_actions(app), f"{key!r} is not on the key bar"
    else:
        pane = app.main.panel(LessonPanel).plain
        assert PANE_KEYS[key] in pane, f"{key!r} is not offered by the lesson pane: {pane[-200:]!r}"
    await pilot.press(key)


async def run_to_next_stop(pilot, app) -> None:  # noqa: ANN001
    await press_shown(pilot, app, "p")
    for _ in range(400):
        await pilot.pause(0.02)
        if not app.running:
            break
    assert not app.running, "a run must stop at the lesson's next stop"
    await settle(pilot)


async def answer_open_question(pilot, app, session, qid: str) -> None:  # noqa: ANN001
    spec = session.lesson.question_spec(qid)
    pane = app.main.panel(LessonPanel)
    assert spec.prompt in pane.plain and "8 to answer here" in pane.plain
    await press_shown(pilot, app, "8")
    await pilot.pause()
    if spec.choices:
        choices = pane.query_one(OptionList)
        assert app.focused is choices and choices.display
        want = next(i for i, c in enumerate(spec.choices) if spec.answer in (c.text, c.value))
        for _ in range(want):
            await press_shown(pilot, app, "down")
        await press_shown(pilot, app, "enter")
    else:
        assert isinstance(app.focused, Input)
        await pilot.press(*spec.answer, "enter")
    await settle(pilot)
    assert "✓" in app.main.panel(LessonPanel).plain, app.main.panel(LessonPanel).plain


@pytest.mark.parametrize("number", [1, 6])
async def test_walk_a_lesson_with_the_keys_on_screen(number: int) -> None:
    session = open_lesson(number, attach=False)
    app = SipsimApp(lesson=session)
    asked: list[str] = []
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert f"Lesson {number}:" in app.main.panel(LessonPanel).plain
        assert "50/s" in app.top_line(), app.top_line()  # a lesson runs faster: its stops pause the run
        final = max(session.stops())
        for _ in range(60):  # bounded: a lesson has a handful of stops
            q = session.question(app.source.position)
            if q is not None and q.id not in asked:
                asked.append(q.id)
                await answer_open_question(pilot, app, session, q.id)
                continue
            if app.source.position >= final:
                break
            await run_to_next_stop(pilot, app)
            nar = session.narration(app.source.position)
            assert nar is not None and nar.title in app.main.panel(LessonPanel).plain
        assert app.source.position >= final
        assert sorted(asked) == sorted(q.id for q in session.lesson.questions), "every question was asked"
        # p once more: the run goes on to the end of the simulation, where the pane judges the
        # lesson's checks as `sipsim lesson N --check` does: the TUI alone completes a lesson
        await run_to_end(pilot, app)
        pane = app.main.panel(LessonPanel).plain
        assert "lesson complete: every answer right, every check passed" in pane, pane[-400:]
        assert session.progress().completed
        results = session.checks()
        assert results and all(r.passed for r in results), [r for r in results if not r.passed]


async def run_to_end(pilot, app) -> None:  # noqa: ANN001
    for _ in range(30):
        if app.source.at_end:
            break
        await run_to_next_stop(pilot, app)
    assert app.source.at_end, "p must reach the end of the simulation"


async def test_at_the_end_the_pane_says_which_checks_passed_and_that_answers_are_missing() -> None:
    """Nothing answered: the checks that judge the simulation are shown, and the lesson is not
    complete (the unanswered questions say so)."""
    session = open_lesson(1, attach=False)
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await run_to_end(pilot, app)
        pane = app.main.panel(LessonPanel).plain
        n = len(session.lesson.checks)
        assert f"checks: {n}/{n} passed" in pane and "lesson complete" not in pane, pane[-400:]
        assert "not answered yet" in pane and not session.progress().completed


async def test_a_palette_change_that_loses_the_lessons_anchors_closes_it_without_a_crash() -> None:
    session = open_lesson(7, attach=False)  # anchored on bob's REGISTER and alice's INVITE and ACK
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert "hint" in footer_actions(app)
        app.switch_scenario("fifo-spaced")  # the palette's "scenario" command: no bob, no alice there
        await settle(pilot)
        assert app.lesson is None and "hint" not in footer_actions(app)
        assert app.source.scenario.name == "fifo-spaced"
