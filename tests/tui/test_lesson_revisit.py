"""Coming back to a lesson in the TUI: answering a question again, and resuming where one left off.

A learner who mistyped or changed their mind answers again (``a``) and the latest answer is the one
saved and judged — the same one ``sipsim lesson N --check`` then judges, as a second ``--answer``
would have replaced the first. A lesson opened again resumes at the stop last read, saved with the
progress; ``r`` starts over (the first step, then, pressed there, the answers forgotten).
The progress file lives in a private XDG state directory, as in tests/lessons/test_lesson_cli.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from moments import screen_text
from textual.widgets import Input, OptionList
from tuikit import footer_actions, settle

from sipsim.cli import main
from sipsim.lessons import ProgressStore, Session, find_lesson, open_lesson
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LessonPanel

LUMPS = "as lumps beside msg->buf, which keeps the received bytes"
IN_BUF = "in msg->buf, rewritten in place"


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The learner's progress file in tmp_path, as ``sipsim lesson`` finds it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("SIPSIM_LESSONS", raising=False)
    return tmp_path / "sipsim" / "progress.json"


def _pane(app) -> LessonPanel:  # noqa: ANN001
    pane = app.main.panel(LessonPanel)
    assert pane is not None
    return pane


@asynccontextmanager
async def at_first_wake(size: tuple[int, int]) -> AsyncIterator[tuple[SipsimApp, Any, Session, Any]]:
    """Lesson 1 in the TUI (nothing saved) at its first question, "which worker does the kernel wake?"."""
    session = open_lesson(1, attach=False)
    [q] = [q for q in session.questions() if q.id == "first-wake"]
    app = SipsimApp(lesson=session)
    async with app.run_test(size=size) as pilot:
        app.goto(q.position)
        await settle(pilot)
        yield app, pilot, session, q


def _as_the_cli_opens_it(number: int) -> Session:
    """The session `sipsim lesson N` hands the TUI: the lesson with the learner's progress store."""
    return Session(find_lesson(number), store=ProgressStore())


async def test_an_answer_is_changed_in_the_tui_and_lesson_check_judges_the_new_one(
        state_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # answered wrong on the command line first: the TUI shows it, and lets the learner change it
    assert main(["lesson", "5", "--answer", "where-is-the-change=1"]) == 1
    assert "FAIL  where-is-the-change" in capsys.readouterr().out

    session = _as_the_cli_opens_it(5)
    [q] = [q for q in session.questions() if q.id == "where-is-the-change"]
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.goto(q.position)
        await settle(pilot)
        pane, choices = _pane(app), _pane(app).query_one(OptionList)
        screen = screen_text(app)
        assert "✗ not quite (answered earlier)" in screen and not choices.display
        assert "a answers again" in screen  # the pane's border says how
        await pilot.press("8", "a")
        await settle(pilot)
        assert app.focused is choices and choices.display
        assert q.choices[choices.highlighted] == IN_BUF, "the old answer is the one chosen"
        screen = screen_text(app)
        assert "kept?" in screen and "c) in a second copy" in screen, "the question and every choice, at 80×24"
        assert "asked again · esc keeps 'in msg->buf, rewritten in place' (not quite)" in screen
        letter = chr(ord("a") + q.choices.index(LUMPS))
        assert letter == "b", "b) — which is step back outside the choices"
        step = app.source.position
        await pilot.press(letter)  # a choice's letter picks it
        await settle(pilot)
        assert app.source.position == step, "b picked the choice: it did not step back"
        screen = screen_text(app)
        # right now, but the first verdict had said what the simulation does: a second try, not a prediction
        assert "✓ right" in screen and "a second try" in screen and "✗" not in screen
        assert "answered 1 of 3 · 0 right · 1 more on a second try" in screen
        assert session.progress().answered["where-is-the-change"] == LUMPS
        assert app.focused is pane.query_one("#lesson-scroll"), "answered: the keys scroll the narration again"

        # asked again, then escape: the answer stays as it was
        await pilot.press("a")
        await settle(pilot)
        assert app.focused is choices and q.choices[choices.highlighted] == LUMPS
        await pilot.press("up", "escape")
        await settle(pilot)
        assert not choices.display and session.progress().answered["where-is-the-change"] == LUMPS
        assert "✓ right" in screen_text(app)

        # once the simulation showed what happens, an answer is no prediction any more: no `a`
        app.goto(q.reveal)
        await settle(pilot)
        assert "✓ right" in screen_text(app) and "a answers again" not in screen_text(app)
        assert not pane.check_action("answer_again", ())
        app.goto(q.reveal - 1)  # back before it: `a` again
        await settle(pilot)
        assert "a answers again" in screen_text(app)

    saved = ProgressStore(state_home).get(5)
    assert saved.answered["where-is-the-change"] == LUMPS and "where-is-the-change" in saved.passed
    assert saved.missed == ("where-is-the-change",)
    assert main(["lesson", "5", "--check"]) == 1  # two questions are still to answer
    out = capsys.readouterr().out
    assert "PASS  where-is-the-change" in out and "(a second try)" in out and "TODO  how-many-lumps" in out
    # a fresh start forgets the first answers too; a right first answer, changed and changed back,
    # stays right first time (its first prediction was right)
    assert main(["lesson", "5", "--reset"]) == 0
    assert ProgressStore(state_home).get(5).missed == ()
    for given in (LUMPS, IN_BUF, LUMPS):
        main(["lesson", "5", "--answer", f"where-is-the-change={given}"])
    capsys.readouterr()
    saved = ProgressStore(state_home).get(5)
    assert saved.missed == () and "where-is-the-change" in saved.passed


async def test_a_typed_answer_is_typed_again_and_an_unreadable_one_changes_nothing() -> None:
    session = open_lesson(13, attach=False)  # "which status code will the start route answer?"
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(120, 36)) as pilot:
        app.goto(session.position_of("options"))
        await settle(pilot)
        assert "route 13-route-start.cfg" in app.top_line().plain  # which script runs: the exercise's
        await pilot.press("8")
        await pilot.pause()
        box = _pane(app).query_one(Input)
        assert app.focused is box
        await pilot.press(*"200", "enter")
        await settle(pilot)
        assert "✗ not quite" in screen_text(app) and not box.display
        await pilot.press("a")
        await settle(pilot)
        assert app.focused is box and box.value == "200", "the old answer, to change"
        await pilot.press("ctrl+u", *"abc", "enter")
        await settle(pilot)
        assert "? not an answer: 'abc' is not a number" in screen_text(app) and box.display  # still open
        assert "✗" not in screen_text(app), "no verdict: nothing was judged"
        assert session.progress().answered == {"options-answer": "200"}
        await pilot.press("ctrl+u", *"404", "enter")
        await settle(pilot)
        assert "✓ right" in screen_text(app) and not box.display
        assert session.progress().answered == {"options-answer": "404"}
        assert [r.passed for r in session.checks() if r.id == "options-answer"] == [True]


async def test_a_reopened_lesson_resumes_where_the_learner_left_off_and_r_starts_over(state_home: Path) -> None:
    session = _as_the_cli_opens_it(5)
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.goto(session.position_of("allocated"))
        await settle(pilot)
        app.answer_lesson("where-is-the-change", LUMPS)
        app.goto(session.position_of("forward-call"))  # read on, then quit
        await settle(pilot)
    assert ProgressStore(state_home).at(5) == "forward-call", "the place is saved as the learner moves"

    session = _as_the_cli_opens_it(5)  # `sipsim lesson 5` again
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.source.position == session.position_of("forward-call")
        pane = _pane(app)
        said = [n.message for n in app._notifications]
        assert any("resumed where you left off — r (in the lesson pane) starts over" in m for m in said), said
        assert "How many lumps" in pane.plain  # the question asked there is open (its choices need the rows)
        await pilot.press("8")  # the pane's keys: r starts over (in the footer too, while it has the focus)
        await pilot.pause()
        assert "start_over" in footer_actions(app)
        await pilot.press("r")
        await settle(pilot)
        assert app.source.position == 0
        assert session.progress().answered == {"where-is-the-change": LUMPS}, "the first r keeps the answers"
        assert "r forgets your answers: every question is asked again" in pane.plain
        await pilot.press("r")
        await settle(pilot)
        assert session.progress().answered == {} and "answered" not in pane.plain
        assert "start_over" not in footer_actions(app), "nothing left to start over"
        app.goto(session.position_of("allocated"))
        await settle(pilot)
        assert "where are such changes kept?" in pane.plain and "✓" not in pane.plain  # asked again
        app.goto(0)  # back at the start, then quit: next time the lesson opens there
        await settle(pilot)
    saved = ProgressStore(state_home)
    assert saved.get(5).answered == {} and saved.at(5) is None

    app = SipsimApp(lesson=_as_the_cli_opens_it(5))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.source.position == 0 and "resumed" not in _pane(app).plain


async def test_a_question_is_answered_where_the_learner_says_so_and_its_letters_pick_its_choices() -> None:
    """A question never takes the focus by itself: stepping back with b onto it would answer b).
    The border says 8 answers; there the letters pick the choices and the footer drops the keys
    they shadow (b back); escape leaves the choices and b steps back again."""
    async with at_first_wake((120, 36)) as (app, pilot, session, q):
        pane = _pane(app)
        choices = pane.query_one(OptionList)
        assert choices.display and app.focused is not choices
        assert pane.border_subtitle.startswith("8 to answer here · ↑/↓ or a–d, enter")
        assert "back" in footer_actions(app)
        await pilot.press("8")
        await settle(pilot)
        assert app.focused is choices and pane.border_subtitle.startswith("↑/↓ choose, enter answers · or a–d")
        assert "back" not in footer_actions(app) and "step" in footer_actions(app)  # b is choice b) now
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is pane.query_one("#lesson-scroll") and "back" in footer_actions(app)
        await pilot.press("b")
        await settle(pilot)
        assert app.source.position == q.position - 1 and not choices.display
        await pilot.press("n")
        await settle(pilot)
        assert app.source.position == q.position and choices.display and app.focused is not choices
        assert "first-wake" not in session.progress().answered, "stepping never answers"
        await pilot.press("8", "b")
        await settle(pilot)
        assert session.progress().answered["first-wake"] == q.choices[1] and app.source.position == q.position


async def test_answers_saved_on_another_route_are_judged_by_the_run_on_screen(state_home: Path, capsys) -> None:  # noqa: ANN001
    """Lesson 13 answered with the solution's route (200 is right there), then opened on the starting
    script, which answers 404: the pane's verdict and score say what this run shows, as --check does
    (they said "✓ right (answered earlier)" from the other run's record)."""
    solution = find_lesson(13).files["solution"]
    assert main(["lesson", "13", "--route", str(solution), "--answer", "options-answer=200"]) == 1
    assert "PASS  options-answer" in capsys.readouterr().out
    session = _as_the_cli_opens_it(13)  # the lesson's own starting script
    [q] = [q for q in session.questions() if q.id == "options-answer"]
    app = SipsimApp(lesson=session)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.goto(q.position + 1)
        await settle(pilot)
        assert "✗ not quite (answered earlier): you said '200'" in _pane(app).plain
    assert "options-answer" not in ProgressStore(state_home).get(13).passed


async def test_a_question_asked_again_with_a_hint_keeps_every_choice_on_80x24() -> None:
    """On 80×24 a hint (two lines), the old answer and the score above the question pushed its
    choices below the pane (only a) of four was left): while a question is open, they follow it."""
    async with at_first_wake((80, 24)) as (app, pilot, _session, q):
        await pilot.press("8", "c", "escape", "h", "a")
        await settle(pilot)
        screen = screen_text(app)
        assert "asked again · esc keeps 'W2'" in screen
        for i, choice in enumerate(q.choices):
            assert f"{chr(ord('a') + i)}) {choice}" in screen, screen
        await pilot.press("b")  # b) W1: right now, after a wrong first answer
        await settle(pilot)
        screen = screen_text(app)
        assert "✓ right" in screen and "a second try" in screen, screen


async def test_a_question_let_pass_says_so_at_its_reveal() -> None:
    """Run past a question without answering it: at its reveal the pane says it was not answered
    and how to go back (the question used to vanish without a word)."""
    async with at_first_wake((120, 36)) as (app, pilot, session, q):
        assert q.reveal is not None
        app.goto(q.reveal)
        await settle(pilot)
        assert "not answered: the simulation has just shown it — b steps back" in _pane(app).plain
        assert "first-wake" not in session.progress().answered
