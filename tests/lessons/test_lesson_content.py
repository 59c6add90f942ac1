"""Every shipped lesson: it loads, its scenario runs, its anchors exist, and its checks read the
simulation — the reference answers pass, wrong ones fail, and a kernel that wakes the wrong
sleeper (``lifo``) makes lessons 1 and 2 fail."""

from __future__ import annotations

import re

import pytest

from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.lessons import Session, find_lesson, lessons_dir, list_lessons
from sipsim.lessons.judge import Observation, choice_for, same
from sipsim.lessons.model import QuestionSpec
from sipsim.lessons.predicates import evaluate
from sipsim.lessons.view import MessageIndex

LESSONS, ERRORS = list_lessons()
NUMBERS = [lesson.number for lesson in LESSONS]


def test_the_course_has_thirteen_lessons_in_order() -> None:
    assert ERRORS == []
    assert NUMBERS[:13] == list(range(1, 14))
    for lesson in LESSONS:
        assert lesson.questions, f"lesson {lesson.number} asks nothing"
        assert lesson.checks, f"lesson {lesson.number} checks nothing"
        assert lesson.intro and len(lesson.sections) >= 4, f"lesson {lesson.number} says too little"
        assert lesson.hints or all(q.hints for q in lesson.questions), f"lesson {lesson.number} has no hints"
        assert all(q.hints for q in lesson.questions), f"lesson {lesson.number}: a question without a hint"
        # every section is narration for an anchor, every source claim names a file
        for a in lesson.anchors:
            assert not a.source or re.search(r"\.(c|h)\b|/", a.source), (lesson.number, a.id, a.source)


def wrong_answer(q: QuestionSpec, obs: Observation) -> str:
    """An answer the simulation contradicts: another choice, or a value of the right kind but wrong."""
    if q.choices:
        for c in q.choices:
            if not same(c.value, obs, q.tolerance):
                return c.text
        raise AssertionError(f"{q.id}: every choice is right")
    return {"worker": "W99", "number": "98765", "bool": "yes" if obs.value is False else "no",
            "text": "certainly not this", "workers": "W99", "flags": "HDR_NOPE_F", "seq": "z y x"}[obs.kind]


def anchored_event_matches(session: Session) -> None:
    """The event at each anchor's position is what the anchor describes (step/kind and message)."""
    sim = session.simulation
    index = MessageIndex()
    index.update(sim.events)
    for a in session.lesson.anchors:
        pos = session.position_of(a.id)
        assert 0 < pos <= len(sim.events)
        ev = sim.events[pos - 1]
        if a.step is not None:
            assert isinstance(ev, StepEvent) and ev.step == a.step, (a.id, ev)
        else:
            assert isinstance(ev, KernelEvent) and ev.kind == a.kernel, (a.id, ev)
        if a.msg:
            assert index.matches(index.msgs[ev.msg], a.msg), (a.id, ev)


@pytest.mark.parametrize("number", NUMBERS)
def test_lesson_runs_and_its_checks_read_the_simulation(number: int) -> None:
    lesson = find_lesson(number)
    overrides = {"route": str(lesson.files["solution"])} if "solution" in lesson.files else None
    session = Session(lesson, overrides=overrides)
    stops = session.stops()
    assert stops == sorted(set(stops)) and stops, "stops are positions, in order"
    anchored_event_matches(session)

    # narration everywhere after the first stop; every question is asked at a stop
    for pos in stops:
        n = session.narration(pos)
        assert n is not None and n.text.strip() and "{{" not in n.text, (number, pos)
    assert {q.position for q in session.questions()} <= set(stops)

    # wrong answers fail (judged by the simulation), and do not complete the lesson
    for q in lesson.questions:
        obs = evaluate(q.judged.check, session._view(q.judged), q.judged.args)
        assert same(q.answer if not q.choices else next(c.value for c in q.choices
                                                        if q.answer in (c.text, c.value)), obs, q.tolerance), \
            f"lesson {number}, {q.id}: the reference answer {q.answer!r} disagrees with the simulation: {obs.says}"
        if q.choices:
            assert choice_for(obs, q.choices) is not None
        result = session.answer(q.id, wrong_answer(q, obs))
        assert not result.passed, (number, q.id, result)
        assert result.expected, "after an attempt the learner sees what the simulation did"
    assert not session.progress().completed

    # the reference answers pass, and then every check passes: the lesson is complete
    for qid, answer in session.reference_answers().items():
        result = session.answer(qid, answer)
        assert result.passed, (number, qid, result.message)
    results = session.checks()
    assert [r.id for r in results] == [q.id for q in lesson.questions] + [c.id for c in lesson.checks]
    failed = [(r.id, r.message) for r in results if not r.passed]
    assert not failed, failed
    assert session.progress().completed


def test_lesson_13_starting_script_fails_the_exercise() -> None:
    lesson = find_lesson(13)
    session = Session(lesson)  # the scenario's own route: the starting script
    for qid, answer in session.reference_answers().items():
        session.answer(qid, answer)
    results = {r.id: r.passed for r in session.checks()}
    assert results == {"options-answer": False, "mallory-answer": False, "options-200": False,
                       "mallory-403": False, "alice-relayed": True, "alice-header": False}


@pytest.mark.parametrize("number", [1, 2])
def test_lifo_kernel_fails_the_wake_order_lessons(number: int) -> None:
    """The checks read the simulation: with the kernel waking the most recent sleeper, the
    reference answers and the round-robin claims no longer hold."""
    session = Session(find_lesson(number), overrides={"policy": "lifo"})
    answers = {qid: session.answer(qid, a) for qid, a in session.reference_answers().items()}
    results = {r.id: r for r in session.checks()}
    assert not session.progress().completed
    if number == 1:
        assert not answers["first-wake"].passed and answers["first-wake"].expected == "W3"
        assert not answers["fifth"].passed and not results["round-robin"].passed
    else:
        assert not answers["burst-head"].passed and not answers["eleventh"].passed
        assert not results["spaced-round-robin"].passed


def test_lessons_are_found_beside_the_package() -> None:
    assert (lessons_dir() / "01-sleeping-in-recvfrom.md").is_file()
    assert (lessons_dir() / "README.md").is_file()
