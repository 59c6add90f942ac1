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
        # reopened: at the stop the learner last read, not at step 0
        assert app.source.scenario.name == "buf-orig-lumps"
        assert app.source.position == session.position_of("mf-done")
        assert "resumed where you left off · r starts over" in screen_text(app)
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


async def test_each_stop_shows_its_explanation_from_the_top_and_pgup_pgdn_scroll_it_while_answering() -> None:
    """80×24, lesson 5: the learner read the long "Lumps" stop to its end, then steps on to the
    question at forward(): its explanation starts at its title (it used to open where the last one
    was scrolled to, its first lines out of view above the question), and while the choices have
    the focus pgdn/pgup scroll it, the choice under the cursor staying put."""
    session = open_lesson(5, attach=False)
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(80, 24)) as pilot:
        app.goto(session.position_of("mf-done"))
        await settle(pilot)
        await pilot.press("8", "end")
        await settle(pilot)
        scroll = _pane(app).query_one("#lesson-scroll", VerticalScroll)
        assert scroll.scroll_y == scroll.max_scroll_y > 0, "read to the end of a long explanation"
        for _ in range(session.position_of("forward-call") - app.source.position):
            await pilot.press("n")
        await settle(pilot)
        lines = screen_text(app).splitlines()
        top = next(i for i, line in enumerate(lines) if "─ 8 Lesson 5" in line)
        assert lines[top + 1].strip("│ ▁▂▃▄▅▆▇█") == "forward()", lines[top:top + 3]  # its title, first
        assert "How many lumps" in screen_text(app) and scroll.scroll_y == 0
        assert scroll.max_scroll_y > 0, "the explanation is longer than its room (the case under test)"

        await pilot.press("8")
        await pilot.pause()
        choices = _pane(app).query_one("#lesson-choices")
        assert app.focused is choices
        await pilot.press("down", "pagedown")
        await settle(pilot)
        assert scroll.scroll_y > 0 and app.focused is choices and choices.highlighted == 1
        assert "pgup/pgdn text" in screen_text(app)  # said in the pane's border
        await pilot.press("pageup", "enter")  # b) 4: wrong, but answered from where the cursor was
        await settle(pilot)
        assert scroll.scroll_y == 0 and session.progress().answered == {"how-many-lumps": "4"}


async def test_on_the_wide_screen_an_open_question_gets_the_pane_more_room() -> None:
    """160×45: the lesson pane shares its column with the ladder and the log; a question and its
    choices took all but two lines of it. While one is open the pane grows (the ladder and the log
    give room), and the explanation keeps several lines; answered, the column is shared again."""
    session = open_lesson(5, attach=False)
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(160, 45)) as pilot:
        from sipsim.tui.panels import LadderPanel

        app.goto(session.position_of("allocated"))
        await settle(pilot)
        pane, ladder = _pane(app), app.main.panel(LadderPanel)
        scroll = pane.query_one("#lesson-scroll", VerticalScroll)
        assert pane.region.height > 1.5 * ladder.region.height
        assert scroll.region.height >= 6, scroll.region  # was 2: the title and one line
        assert "are such changes kept?" in screen_text(app) and "c) in a second copy" in screen_text(app)
        app.answer_lesson("where-is-the-change", "lumps")
        await settle(pilot)
        assert abs(pane.region.height - ladder.region.height) <= 1
