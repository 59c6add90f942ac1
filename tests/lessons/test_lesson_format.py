"""The lesson format: what a teacher writes, what the loader refuses (with a clear message), how
answers are read, and a lesson's own predicate module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sipsim.lessons import LessonError, Session, lessons_dir
from sipsim.lessons.judge import Observation, resolve_choice, same
from sipsim.lessons.loader import load_lesson_file
from sipsim.lessons.model import Choice
from sipsim.lessons.predicates import describe_predicates

SCENARIO = '''name = "tiny"
workers = 2
start_order = [1, 0]
[[arrivals]]
label = "pings"
time = 0.01
count = 3
spacing = 0.02
text = """
OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t-{n}
Max-Forwards: 70
From: <sip:t@192.0.2.10>;tag=t{n}
To: <sip:127.0.0.1>
Call-ID: t-{n}@192.0.2.10
CSeq: {n} OPTIONS
Content-Length: 0

"""
'''

LESSON = '''+++
number = 42
title = "A tiny lesson"
scenario = "42-tiny.toml"
hints = ["look at the workers"]

[[anchors]]
id = "asleep"
kernel = "worker_sleeps"
nth = 2

[[anchors]]
id = "second"
step = "recvfrom"
label = "pings"
nth = 2
hint = "the second in line"

[[questions]]
id = "who"
at = "asleep"
reveal = "second"
prompt = "Who takes the second ping?"
choices = ["W0", "W1"]
answer = "W0"
check = "taker"
args = { msg = 2 }
hints = ["first hint", "second hint"]

[[checks]]
id = "rr"
says = "round-robin"
check = "round_robin"
+++

# A tiny lesson

Intro text.

## Two asleep {#asleep}

{{worker}} joined last.

## The second {#second}

{{worker}} has {{msg}}: {{first_line}}.
'''


def write_lesson(tmp_path: Path, text: str = LESSON, name: str = "42-tiny.md") -> Path:
    (tmp_path / "42-tiny.toml").write_text(SCENARIO)
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_teachers_lesson_loads_and_runs(tmp_path: Path) -> None:
    lesson = load_lesson_file(write_lesson(tmp_path))
    assert (lesson.number, lesson.title, lesson.intro) == (42, "A tiny lesson", "Intro text.")
    s = Session(lesson)
    stops = s.stops()
    assert len(stops) == 2
    first, second = (s.narration(p) for p in stops)
    assert first.title == "Two asleep" and first.text == "W0 joined last."  # started 1, 0: W0 slept last
    assert second.text.startswith("W0 has #2: OPTIONS sip:127.0.0.1 SIP/2.0")
    assert s.narration(0).title == "A tiny lesson"
    q = s.question(stops[0])
    assert q is not None and q.choices == ("W0", "W1") and q.reveal == stops[1]
    assert s.question(stops[1]) is None, "closed once the simulation shows the answer"
    # hints: the open question's, one more each time; then the anchor's; then the lesson's
    assert [s.hint(stops[0]) for _ in range(3)] == ["first hint", "second hint", "second hint"]
    assert not s.answer("who", "2").passed  # "2" is the second choice on screen: W1
    assert s.question(stops[0]) is None, "answered: the simulation shows the rest"
    assert s.hint(stops[1]) == "the second in line"
    assert s.hint(0) == "look at the workers"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("+++\n", "", 1), "starts with a line '+++'"),
    (lambda t: t.replace('title = "A tiny lesson"', 'title = "x"\ncolour = "red"'), "unknown key colour"),
    (lambda t: t.replace('check = "taker"', 'check = "taker_of"'), "no predicate named 'taker_of'"),
    (lambda t: t.replace("args = { msg = 2 }", "args = { message = 2 }"), "predicate 'taker'"),
    (lambda t: t.replace('reveal = "second"', 'reveal = "third"'), "'third', which is no anchor"),
    (lambda t: t.replace('answer = "W0"', 'answer = "W7"'), "'W7' is none of the choices"),
    (lambda t: t.replace("## Two asleep {#asleep}", "## Two asleep"), "names no anchor"),
    (lambda t: t.replace('kernel = "worker_sleeps"', 'kernel = "worker_snores"'), "is not a kernel event"),
    (lambda t: t.replace("number = 42", "number = 7"), "the file name says lesson 42"),
    (lambda t: t.replace('scenario = "42-tiny.toml"', 'scenario = "43-none.toml"'), "not found beside"),
    (lambda t: t.replace("nth = 2\n", "nth = 0\n", 1), "expected a positive integer"),
])
def test_broken_lessons_are_refused_with_a_clear_message(tmp_path: Path, edit, message: str) -> None:  # noqa: ANN001
    path = write_lesson(tmp_path, edit(LESSON))
    with pytest.raises(LessonError, match=re.escape(message)):
        load_lesson_file(path)


def test_an_anchor_that_never_happens_is_named(tmp_path: Path) -> None:
    lesson = load_lesson_file(write_lesson(tmp_path, LESSON.replace('label = "pings"', 'label = "nope"')))
    with pytest.raises(LessonError, match="anchor 'second' .*never happens"):
        Session(lesson).stops()


def test_answers_are_read_the_way_learners_write_them() -> None:
    w1 = Observation("W1", "worker", "")
    assert all(same(a, w1) for a in ("W1", "w1", "1", "worker 1", " W1 "))
    assert not same("W10", w1) and not same("nobody", w1)
    flags = Observation(["HDR_VIA1_F", "HDR_CALLID_F"], "flags", "")
    assert same("Via, Call-ID", flags) and same("hdr_callid_f hdr_via1_f", flags) and not same("Via", flags)
    assert same(["From", "Max-Forwards"], Observation(["HDR_FROM_F", "HDR_MAXFORWARDS_F"], "flags", ""))
    assert same("yes", Observation(True, "bool", "")) and same("false", Observation(False, "bool", ""))
    assert same("3", Observation(3.0, "number", "")) and same("12", Observation(13, "number", ""), tolerance=1)
    assert same("200, 180", Observation(["200", "180"], "seq", "")) and not same("180 200", Observation(
        ["200", "180"], "seq", ""))
    choices = (Choice("W0", "W0"), Choice("the second one", "W1"))
    assert resolve_choice("2", choices) == choices[1] and resolve_choice("#1", choices) == choices[0]
    assert resolve_choice("THE second ONE", choices) == choices[1] and resolve_choice("w1", choices) == choices[1]
    assert resolve_choice("3", choices) is None
    # the TUI shows a) b): its letter names the choice too, one past the end does not
    assert resolve_choice("b", choices) == choices[1] and resolve_choice("A)", choices) == choices[0]
    assert resolve_choice("c", choices) is None and resolve_choice("ab", choices) is None
    workers = tuple(Choice(f"W{i}", f"W{i}") for i in range(4))  # a bare number is the place on screen ...
    assert resolve_choice("2", workers) == workers[1]
    for spelled in ("W2", "w 2", "worker 2", "Worker  2"):  # ... a worker's name is the worker
        assert resolve_choice(spelled, workers) == workers[2], spelled
    assert resolve_choice("worker 7", workers) is None
    numeric = (Choice("6", "6"), Choice("12", "12"))
    assert resolve_choice("12", numeric) == numeric[1] and resolve_choice("2", numeric) is None
    assert resolve_choice("#2", numeric) == numeric[1]


def test_unknown_question_and_bad_choice_are_answers_not_crashes(tmp_path: Path) -> None:
    s = Session(load_lesson_file(write_lesson(tmp_path)))
    r = s.answer("nope", "1")
    assert not r.passed and "no question 'nope'" in r.message
    r = s.answer("who", "W5")
    assert not r.passed and "none of the choices" in r.message
    assert "who" not in s.progress().answered, "an unreadable answer is not recorded"


def test_a_lesson_module_adds_a_predicate(tmp_path: Path) -> None:
    (tmp_path / "42-checks.py").write_text(
        "from sipsim.lessons.judge import Observation\n"
        "from sipsim.lessons.predicates import predicate\n\n"
        "@predicate('lesson42_pings')\n"
        "def pings(view):\n"
        "    n = len(view.msgs('pings'))\n"
        "    return Observation(n, 'number', f'{n} pings arrived')\n")
    text = LESSON.replace('hints = ["look at the workers"]', 'hints = ["look"]\nmodule = "42-checks.py"')
    text = text.replace('check = "round_robin"', 'check = "lesson42_pings"\nexpect = 3')
    s = Session(load_lesson_file(write_lesson(tmp_path, text)))
    result = [r for r in s.checks() if r.id == "rr"][0]
    assert result.passed and "3 pings arrived" in result.message
    (tmp_path / "42-broken.py").write_text("raise RuntimeError('oops')\n")
    with pytest.raises(LessonError, match="42-broken.py failed to load: RuntimeError: oops"):
        load_lesson_file(write_lesson(tmp_path, text.replace("42-checks.py", "42-broken.py")))


def test_every_predicate_is_documented_for_teachers() -> None:
    readme = (lessons_dir() / "README.md").read_text()
    missing = [name for name, _, _ in describe_predicates()
               if f"| `{name}` |" not in readme and not name.startswith("lesson")]
    assert missing == []


def test_a_session_resumes_where_the_learner_was(tmp_path: Path) -> None:
    from sipsim.lessons.progress import ProgressStore

    lesson = load_lesson_file(write_lesson(tmp_path))
    store = ProgressStore(tmp_path / "state" / "progress.json")
    s = Session(lesson, store=store)
    stops = s.stops()
    assert s.resume_position() == 0
    s.narration(stops[1])  # the learner reads the second stop ...
    assert s.answer("who", "W0").passed  # ... and answers (saved at once)
    s.save()

    again = Session(lesson, store=ProgressStore(tmp_path / "state" / "progress.json"))
    assert again.resume_position() == stops[1]
    assert again.progress().answered == {"who": "W0"} and "who" in again.progress().passed
    assert again.question(stops[0]) is None, "an answered question is not asked again"
    assert [r.passed for r in again.checks()] == [True, True] and again.progress().completed


def test_session_implements_the_tui_contract() -> None:
    """Every method of sipsim.lessons.api.LessonSession, with the same parameters."""
    import inspect

    from sipsim.lessons.api import LessonSession

    for name, member in vars(LessonSession).items():
        if name.startswith("_") or not callable(member):
            continue
        mine = getattr(Session, name)
        assert list(inspect.signature(mine).parameters) == list(inspect.signature(member).parameters), name
    assert set(LessonSession.__annotations__) == {"number", "title", "scenario"}


def test_numbers_are_read_as_people_write_them_and_words_are_refused() -> None:
    from sipsim.lessons.judge import read_number, unreadable

    for text, value in [("403", 403), ("403 Forbidden", 403), (" about 12 ", 12), ("6.6 µs", 6.6), ("12,5", 12.5),
                        ("1,280", 1280), ("1_280", 1280), ("-3", -3), ("+0.5", 0.5), ("1e3", 1000), ("#2", 2)]:
        assert read_number(text) == value, text
    for text in ("abc", "twelve", "W1", "200 or 403", "12-13", "1,5,6", ""):
        assert read_number(text) is None, text
        assert unreadable(text, "number") is not None, text
    assert not same("abc", Observation(0, "number", "")), "a word is no number, not even 0"
    assert unreadable("1,280", "number") is None and unreadable("maybe", "bool") and unreadable("no", "bool") is None


def test_a_refused_answer_is_no_attempt(tmp_path: Path) -> None:
    """An answer that is no choice (or no number) is refused with what to type, and not recorded;
    when the choices are numbers, a bare place number is refused and "#N" named."""
    text = LESSON.replace('choices = ["W0", "W1"]\nanswer = "W0"', 'choices = ["6", "12"]\nanswer = "12"') \
        .replace('check = "taker"\nargs = { msg = 2 }', 'check = "workers_used"')
    s = Session(load_lesson_file(write_lesson(tmp_path, text)))
    r = s.answer("who", "1")
    assert not r.passed and "'#1'" in r.message and "'6'" in r.message, r.message
    assert "who" not in s.progress().answered and "who" not in s.progress().passed
    assert s.refusal("who", "#2") is None and s.answer("who", "#2").passed is False  # judged: 2 workers used
    assert s.progress().answered == {"who": "12"}
