"""A teacher writing a lesson: the common mistakes, each caught with a message that says what to
fix — as the file loads when the file alone shows it, as the lesson attaches to its run when only
the run does — and ``sipsim lesson FILE --validate``, the last look before class.

The lesson edited here is a teacher's copy of lesson 14 (its Markdown and its scenario in a
folder of their own), so every mistake is made on a real lesson with a real scenario."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from sipsim.cli import main
from sipsim.lessons import LessonError, Session, find_lesson, lessons_dir, list_lessons
from sipsim.lessons.loader import load_lesson_file

SOURCE = lessons_dir() / "14-register-and-location.md"
SCENARIO = lessons_dir() / "14-register.toml"


def teachers_copy(tmp_path: Path, edit: Callable[[str], str] | None = None, name: str = SOURCE.name) -> Path:
    """The lesson in the teacher's own folder, with ``edit`` applied (``sub`` fails if it no longer applies)."""
    changed = SOURCE.read_text() if edit is None else edit(SOURCE.read_text())
    (tmp_path / SCENARIO.name).write_text(SCENARIO.read_text())
    path = tmp_path / name
    path.write_text(changed)
    return path


def sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)
    return edit


# Mistakes the file alone shows: refused when it loads, with the fix in the message.
@pytest.mark.parametrize(("edit", "message"), [
    # typos get a suggestion
    (sub('check = "sent_to"', 'check = "send_to"'), "did you mean 'sent_to'"),
    (sub("title = ", "titel = "), "'titel': did you mean 'title'?"),
    (sub("args = { msg = { status = 100 } }", "args = { mesg = { status = 100 } }"), "'mesg': did you mean 'msg'?"),
    (sub("{{worker}} takes bob's REGISTER", "{{wroker}} takes bob's REGISTER"),
     "{{wroker}} is no placeholder (did you mean 'worker'?"),
    (sub("A proxy that answers", "{{worker}}: a proxy that answers"), "{{worker}} in the introduction"),
    (sub('reveal = "register-answered"', 'reveal = "register-answerd"'),
     "refers to 'register-answerd', which is no anchor (did you mean 'register-answered'"),
    (sub('answer = "yes: forward_reply relays it by the second Via, like any reply"', 'answer = "1"'),
     "'1' is none of the choices (the reference answer is a choice's text or value, not its place: answer = 'yes"),
    # a digit that is no ASCII digit ("²": str.isdigit() says yes, int() refuses it) is plain text
    (sub('answer = "yes: forward_reply relays it by the second Via, like any reply"', 'answer = "²"'),
     "'²' is none of the choices"),
    # checks and questions that could never pass
    (sub("expect = 3", 'expect = "three"'), "workers_used reports a number, and 'three' is not a number"),
    (sub("expect = 3\n", "\n"), "no expect — a check without one expects yes, and workers_used reports a number"),
    (sub("expect = 200", "at_least = 200"), None),  # a number: fine
    (sub('expect = "100 180 200"', "at_least = 3"), "at_least/at_most compare numbers, and responses reports a seq"),
    (sub('value = "127.0.0.3:5060" }', 'value = "" }'), "this question could never be answered right"),
    # TOML: a top-level key written below a [table] line belongs to that table
    (sub('hints = ["The Pipeline', '[overrides]\nworkers = 3\nhints = ["The Pipeline'),
     "move hints above the first one"),
    # TOML: an inline table cut over two lines (the error gives the line of the file)
    (sub('{ text = "to bob\'s phone, 127.0.0.3:5060", value', '{ text = "to bob\'s phone, 127.0.0.3:5060",\n value'),
     "an inline table { ... } must stay on one line"),
])
def test_mistakes_in_the_file_are_refused_as_it_loads(tmp_path: Path, edit, message: str | None) -> None:  # noqa: ANN001
    path = teachers_copy(tmp_path, edit)
    if message is None:
        load_lesson_file(path)
        return
    with pytest.raises(LessonError) as err:
        load_lesson_file(path)
    assert message in str(err.value), str(err.value)


def test_a_toml_error_names_the_line_of_the_file(tmp_path: Path) -> None:
    path = teachers_copy(tmp_path, sub('prompt = "bob\'s phone answers', 'prompt = bob\'s phone answers'))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("prompt = bob"))
    with pytest.raises(LessonError, match=rf"at line {line} of the file"):
        load_lesson_file(path)


# Mistakes only the run shows: refused when the lesson attaches, saying why the anchor is not found.
@pytest.mark.parametrize(("edit", "message"), [
    (sub('step = "save"\n', 'step = "save_location"\n'),
     r"anchor 'register-saved' .* never happens .*: no step 'save_location' happens in the whole run"),
    (sub('step = "route:lookup"', 'step = "route:lookpu"'), r"no step 'route:lookpu' happens in the whole run — "
     r"did you mean 'route:lookup' or"),
    (sub('method = "INVITE"', 'method = "INVTE"'),
     r"no datagram has method='INVTE' \(the datagrams that arrived: 2 REGISTER, 1 INVITE, 1 100, .*"
     r"labels: query; peers: alice, bob\)"),
    (sub('step = "forward_reply"', 'step = "forward_request"'), r"never runs for the datagrams it names"),
    (sub('id = "trying-forwarded"\n', 'id = "trying-forwarded"\nnth = 2\n'),
     r"it happens 1 time\(s\), and the anchor asks for occurrence 2"),
    (sub('id = "register-taken"\nstep = "recvfrom"\n', 'id = "register-taken"\nstep = "recvfrom"\nworker = 2\n'),
     r"never with the event filters given \(worker is 0 there\)"),
    (sub('reveal = "trying-forwarded"', 'reveal = "register-taken"'),
     r"question 'trying' is asked at 'trying-taken', but its answer shows at 'register-taken', which happens "
     r"before it: the TUI would never ask it"),
])
def test_mistakes_in_the_run_are_named_when_the_lesson_attaches(tmp_path: Path, edit, message: str) -> None:  # noqa: ANN001
    lesson = load_lesson_file(teachers_copy(tmp_path, edit))
    with pytest.raises(LessonError, match=message):
        Session(lesson).stops()


def test_judging_names_a_typo_instead_of_reading_zero(tmp_path: Path) -> None:
    """A core statistic that does not exist was read as 0 — and "expect = 0" passed."""
    path = teachers_copy(tmp_path, sub('check = "status"\nargs = { msg = "query" }\nexpect = 200',
                                       'check = "core_stat"\nargs = { name = "rcv_request" }\nexpect = 0'))
    result = {r.id: r for r in Session(load_lesson_file(path)).checks()}["query-answered-200"]
    assert not result.passed and "did you mean 'rcv_requests'" in result.message, result.message
    path = teachers_copy(tmp_path, sub('args = { msg = "query", name', 'args = { msg = "qurey", name'))
    session = Session(load_lesson_file(path))
    result = session.answer("query-contact", "2")
    assert not result.passed and "no datagram matches 'qurey'" in result.message and "labels: query" in result.message


def test_two_lessons_with_one_number_are_refused(tmp_path: Path) -> None:
    """Progress is kept by number: two lessons 14 would share it, and `sipsim lesson 14` would open
    one of them without a word."""
    teachers_copy(tmp_path)
    teachers_copy(tmp_path, name="14-my-version.md")
    lessons, errors = list_lessons(tmp_path)
    assert [x.path.name for x in lessons] == ["14-my-version.md"]
    assert len(errors) == 1 and "lesson 14 is already 14-my-version.md" in errors[0], errors
    with pytest.raises(LessonError, match="two lessons are numbered 14: 14-my-version.md, 14-register"):
        find_lesson(14, tmp_path)
    assert find_lesson("14-register-and-location", tmp_path).number == 14, "a file name still opens one"


def test_a_lesson_file_with_a_name_sipsim_skips_is_named(tmp_path: Path) -> None:
    """`14-Register.md` was skipped without a word: not listed, and `sipsim lesson 14` said there was
    no lesson 14."""
    teachers_copy(tmp_path, name="14-Register.md")
    lessons, errors = list_lessons(tmp_path)
    assert lessons == [] and len(errors) == 1
    assert "14-Register.md: not read as a lesson" in errors[0] and "14-register.md, say" in errors[0], errors
    with pytest.raises(LessonError, match="no lessons found in .*14-Register.md: not read as a lesson"):
        find_lesson(14, tmp_path)


def validate(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    status = main(["lesson", str(path), "--validate", *extra])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_validate_says_a_lesson_is_ready_and_saves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    status, out = validate(teachers_copy(tmp_path), capsys)
    assert status == 0, out
    assert "every anchor happens in the run (11 stops)" in out and "0 problem(s), 0 warning(s). Ready." in out
    assert not (tmp_path / "state").exists()
    # an exercise lesson is validated with its solution, as its finished exercise would run
    status, out = validate(find_lesson(13).path, capsys)
    assert status == 0 and "13-route-solution.cfg" in out, out
    status, out = validate(find_lesson(13).path, capsys, "--route", str(find_lesson(13).files["start"]))
    assert status == 1 and "check options-200 fails" in out, out


@pytest.mark.parametrize(("edit", "problem"), [
    (sub('answer = "yes: forward_reply relays it by the second Via, like any reply"',
         'answer = "no: a proxy never forwards a 100 Trying"'),
     "question trying: the reference answer 'no: a proxy never forwards a 100 Trying' is wrong: #4 (SIP/2.0 100 "
     "Trying): forwarded at forward_reply"),
    (sub('value = "dropped" }', 'value = "forwarded" }'), "question trying: every choice is right"),
    (sub('value = "forwarded" },', 'value = "relayed" },'),
     "question trying: no choice is right — #4 (SIP/2.0 100 Trying): forwarded"),
    (sub("expect = 3", "expect = 2"), "check three-workers fails on the lesson's own run"),
])
def test_validate_finds_what_only_the_simulation_can_say(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        edit, problem: str) -> None:  # noqa: ANN001
    status, out = validate(teachers_copy(tmp_path, edit), capsys)
    assert status == 1, out
    assert problem in " ".join(out.split()), out
    assert re.search(r"^1 problem\(s\)", out, re.M), out


def test_validate_warns_of_a_stop_with_nothing_to_say(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = teachers_copy(tmp_path, sub("## Found {#invite-found}", "### Found"))
    status, out = validate(path, capsys)
    assert status == 0, out
    assert "warning anchor invite-found has no section and no question" in " ".join(out.split()), out


@pytest.mark.parametrize("number", [lesson.number for lesson in list_lessons()[0]])
def test_every_shipped_lesson_validates_without_a_finding(number: int) -> None:
    """What lessons/README.md tells teachers to run is clean on the course itself."""
    from sipsim.lessons.validate import validate as check

    findings = check(find_lesson(number))
    assert [f.text for f in findings if f.level != "ok"] == []


def test_the_readme_says_what_each_predicate_reports() -> None:
    """The *reports* column of the predicate table is what the loader checks `expect` against."""
    from sipsim.lessons.predicates import predicate_kind, predicate_names

    readme = (lessons_dir() / "README.md").read_text()
    for name in predicate_names():
        if name.startswith("lesson"):
            continue
        row = re.search(rf"^\| `{name}` \|[^|]*\| ([^|]*) \|", readme, re.M)
        assert row, name
        assert (predicate_kind(name) or "the counter's") in row.group(1), (name, row.group(1))


def test_a_draft_opened_by_its_path_keeps_out_of_the_course_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A teacher's draft numbered 14, opened by its path, is not the course's lesson 14: its
    answers must not land in lesson 14's progress, and the commands it prints must name the draft."""
    from sipsim.lessons.progress import ProgressStore

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    course = tmp_path / "course"
    course.mkdir()
    draft = teachers_copy(course)
    assert main(["lesson", str(draft), "--text"]) == 0
    out = capsys.readouterr()
    assert f"(sipsim lesson {draft} --check --answer trying=VALUE)" in out.out and out.err == ""
    assert main(["lesson", str(draft), "--answer", "trying=1"]) == 1
    out = capsys.readouterr()
    assert "PASS  trying" in out.out and "is not lesson 14 of the course" in out.err
    assert ProgressStore(tmp_path / "state" / "sipsim" / "progress.json").get(14).answered == {}
    assert main(["lesson", "14", "--text"]) == 0
    assert "(sipsim lesson 14 --check --answer trying=VALUE)" in capsys.readouterr().out


def test_the_step_names_the_readme_gives_are_real_steps() -> None:
    """Every step name lessons/README.md offers under "Step names" runs in lesson 14's simulation,
    and the files it sends teachers to say what it says they say."""
    from sipsim.engine.events import StepEvent

    readme = (lessons_dir() / "README.md").read_text()
    part = readme.split("### Step names", 1)[1].split("###", 1)[0]
    named = set(re.findall(r"`([a-z_:.]+)`", part)) - {"step", "kernel"}
    assert len(named) >= 15, named
    sim = Session(find_lesson(14)).simulation
    sim.run()
    steps = {ev.step for ev in sim.events if isinstance(ev, StepEvent)}
    assert sorted(named - steps) == []
    top = lessons_dir().parent
    assert "A commented example with every key" in (top / "sipsim/engine/scenario.py").read_text()
    assert "PEER_OPTIONS: dict" in (top / "sipsim/engine/peers.py").read_text()


def test_a_lesson_number_in_other_digits_is_no_lesson(capsys: pytest.CaptureFixture[str]) -> None:
    """``sipsim lesson ²`` is a usage error that names the lessons, not a traceback."""
    assert main(["lesson", "²", "--text"]) == 2
    assert "no lesson '²'" in capsys.readouterr().err
