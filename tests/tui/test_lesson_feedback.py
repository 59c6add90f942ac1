"""The lesson pane's verdicts stay in sight: on 80×24, after stepping on, coming back, and at the end.

What a learner reads is the terminal (``screen_text``), not what the pane would draw with more room:
the verdict sits outside the scrolled narration, the narration still scrolls with the keys, the score
follows the answers, and a lesson closed by a change of scenario comes back from the palette with
its answers.
"""

from __future__ import annotations

from moments import screen_text
from textual.containers import VerticalScroll
from tuikit import settle

from sipsim.lessons import open_lesson
from sipsim.tui.app import SipsimApp
from sipsim.tui.commands import palette_commands
from sipsim.tui.panels import LessonPanel


def _pane(app) -> LessonPanel:  # noqa: ANN001
    pane = app.main.panel(LessonPanel)
    assert pane is not None
    return pane


async def _palette(app, pilot, name: str) -> None:  # noqa: ANN001
    """Run the palette command whose name starts with ``name`` (as enter on its line does)."""
    [cmd] = [cb for n, _h, cb in palette_commands(app) if n.startswith(name)]
    result = cmd()
    if result is not None:
        await result
    await settle(pilot)


async def test_verdict_stays_in_sight_and_the_narration_still_scrolls() -> None:
    """Lesson 5 at 80×24: answer the first question right, scroll the long narration with the keys
    the pane offers, step on past the reveal, answer the others (one wrong), and read the score."""
    session = open_lesson(5, attach=False)
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(80, 24)) as pilot:
        asked = session.position_of("allocated")
        app.goto(asked)
        await settle(pilot)
        assert "where are such changes kept?" in screen_text(app)
        await pilot.press("8", "down", "enter")  # b) as lumps: right
        await settle(pilot)
        scroll = _pane(app).query_one("#lesson-scroll", VerticalScroll)
        assert app.focused is scroll, app.focused  # answered: the keys go to the narration
        assert "✓ right" in screen_text(app) and "answered 1 of 3 · 1 right" in screen_text(app)
        assert scroll.max_scroll_y > 0, "the narration is longer than the pane (the case under test)"
        await pilot.press("pagedown", "end")
        await settle(pilot)
        assert scroll.scroll_y == scroll.max_scroll_y and app.source.position == asked  # end: the text's end
        assert "✓ right" in screen_text(app)
        reveal = session.position_of("mf-done")
        for _ in range(reveal - asked):  # step on to the reveal: the verdict is still with its question
            await pilot.press("n")
        await settle(pilot)
        assert app.source.position == reveal and "✓ right" in screen_text(app)

        app.goto(session.position_of("forward-call"))
        await settle(pilot)
        assert "✓ right" not in screen_text(app)  # the next question is asked: its own place now
        app.answer_lesson("how-many-lumps", "3")  # wrong
        await settle(pilot)
        assert "✗ not quite" in screen_text(app) and "expected: 6" in screen_text(app)
        app.goto(session.position_of("freed"))
        await settle(pilot)
        app.answer_lesson("ser-model", "in msg->buf, rewritten in place")
        await settle(pilot)
        app.goto(session.position_of("forward-call") + 1)  # back near the wrong answer's stop
        await settle(pilot)
        assert "✗ not quite" in screen_text(app)
        await pilot.press("home")  # the narration has the focus: home scrolls it, the step stays
        app.action_end()
        await settle(pilot)
        assert app.source.at_end
        assert "end of the lesson: 2/3 right" in screen_text(app)


async def test_a_lesson_closed_by_a_scenario_switch_comes_back_from_the_palette() -> None:
    session = open_lesson(5, attach=False)
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(120, 36)) as pilot:
        app.goto(session.position_of("allocated"))
        await settle(pilot)
        app.answer_lesson("where-is-the-change", "lumps")
        app.override(profile="ser")  # the switch the lesson suggests keeps it open
        await settle(pilot)
        assert app.lesson is not None
        app.goto(session.position_of("mf-done"))
        await settle(pilot)
        assert "switch to the `ser` profile and `buf` says 69" in _pane(app).plain  # what panel 4 shows
        await _palette(app, pilot, "scenario: herd")
        assert app.lesson is None
        said = [n.message for n in app._notifications][-1]
        assert said.startswith("Lesson 5 needs its own scenario (buf-orig-lumps)"), said
        assert "anchor" not in said and "route:" not in said and "lesson 5" in said
        names = [n for n, _h, _cb in palette_commands(app)]
        assert names[0].startswith("lesson: 5 "), names[:3]  # the closed lesson comes first
        await _palette(app, pilot, "lesson: 5 ")
        assert app.lesson is not None and app.lesson.session is session
        assert app.source.scenario.name == "buf-orig-lumps" and app.source.position == 0
        app.goto(session.position_of("allocated"))
        await settle(pilot)
        assert "✓ right" in screen_text(app) and "answered 1 of 3" in screen_text(app)


async def test_the_palette_opens_a_lesson_in_a_plain_tui(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # the learner's progress file, not ours
    app = SipsimApp(scenario="basic-call")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main.panel(LessonPanel) is None
        await _palette(app, pilot, "lesson: 1 ")
        assert app.lesson is not None and app.lesson.session.number == 1
        assert app.main.query_one("#tabs").active == "tab-lesson"
        assert "Lesson 1:" in _pane(app).plain and "lesson 1" in app.top_line().plain
