"""``sipsim lessons`` and ``sipsim lesson N``: the real commands, with progress kept in a private
XDG state directory that a second run resumes from."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sipsim.cli import main
from sipsim.lessons import find_lesson, list_lessons
from sipsim.lessons.progress import ProgressStore


def sipsim(tmp_path: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    env.pop("SIPSIM_LESSONS", None)
    return subprocess.run([sys.executable, "-m", "sipsim", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_list_check_answer_and_resume(tmp_path: Path) -> None:
    r = sipsim(tmp_path, "lessons")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("not started") == len(list_lessons()[0]) >= 14
    assert "Sleeping in recvfrom: the wait-queue" in r.stdout and "Write your own route" in r.stdout
    assert "Next: sipsim lesson 1" in r.stdout

    # nothing answered: the questions are TODO, the checks on the simulation already pass
    r = sipsim(tmp_path, "lesson", "1", "--check")
    assert r.returncode == 1
    assert "TODO  first-wake" in r.stdout and "--answer first-wake=VALUE" in r.stdout
    assert "PASS  round-robin" in r.stdout and "2 of 4 passed." in r.stdout

    # one right (by its number on screen), one wrong: the wrong one says what the simulation did
    r = sipsim(tmp_path, "lesson", "1", "--answer", "first-wake=2", "--answer", "fifth=W3")
    assert r.returncode == 1
    assert "PASS  first-wake" in r.stdout and "FAIL  fifth" in r.stdout
    flat = " ".join(r.stdout.split())  # the report wraps its lines at 120 columns
    assert "FAIL fifth you said 'W3'; #5 " in flat and "[the simulation says: W1]" in flat

    # progress was saved: a second run resumes (first-wake stays answered), fixing only "fifth"
    store = ProgressStore(tmp_path / "state" / "sipsim" / "progress.json")
    assert store.get(1).answered == {"first-wake": "W1", "fifth": "W3"}
    r = sipsim(tmp_path, "lesson", "1", "--check", "--answer", "fifth=w1")
    assert r.returncode == 0, r.stdout
    assert "4 of 4 passed. Lesson complete." in r.stdout

    r = sipsim(tmp_path, "lessons", "--json")
    doc = json.loads(r.stdout)
    first = doc["lessons"][0]
    assert (first["number"], first["completed"], first["state"]) == (1, True, "complete")
    assert doc["progress_file"] == str(tmp_path / "state" / "sipsim" / "progress.json")
    assert doc["lessons"][1]["state"] == "not started"

    r = sipsim(tmp_path, "lesson", "1", "--reset")
    assert r.returncode == 0 and "forgotten" in r.stdout
    assert ProgressStore(tmp_path / "state" / "sipsim" / "progress.json").get(1).answered == {}


def test_exercise_with_the_learners_route(tmp_path: Path) -> None:
    lesson = find_lesson(13)
    start, solution = lesson.files["start"], lesson.files["solution"]
    r = sipsim(tmp_path, "lesson", "13", "--check", "--reference", "--route", str(start))
    assert r.returncode == 1 and "FAIL  mallory-403" in r.stdout and "PASS  alice-relayed" in r.stdout
    assert "is an exercise" not in r.stdout  # a route was given: it is the one judged
    # without --route the starting script is judged: a teacher is told how to judge the solution
    r = sipsim(tmp_path, "lesson", "13", "--check", "--reference")
    assert r.returncode == 1 and "is an exercise" in r.stdout and f"/{solution.name})" in r.stdout
    r = sipsim(tmp_path, "lesson", "13", "--check", "--reference", "--route", str(solution))
    assert r.returncode == 0 and "6 of 6 passed" in r.stdout, r.stdout
    assert not (tmp_path / "state" / "sipsim" / "progress.json").exists(), "--reference saves nothing"

    broken = tmp_path / "broken.cfg"
    broken.write_text(start.read_text().replace('sl_send_reply("404", "Not Found");', 'sl_send_reply("404");'))
    r = sipsim(tmp_path, "lesson", "13", "--check", "--route", str(broken))
    assert r.returncode == 2 and r.stdout == ""
    assert "broken.cfg:" in r.stderr and "sl_send_reply" in r.stderr and "Traceback" not in r.stderr


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    for args, text in [(["lesson", "99"], "no lesson '99'"),
                       (["lesson", "1", "--answer", "fifth=W9"], "none of the choices"),
                       (["lesson", "1", "--answer", "sixth=W1"], "has no question 'sixth'"),
                       (["lesson", "1", "--answer", "fifth"], "write ID=VALUE"),
                       (["lesson", "13", "--check", "--route", str(tmp_path / "none.cfg")], "not found"),
                       (["lesson", "13", "--check", "--route", str(tmp_path / "13-route-start.cfg")],
                        "the lesson's own is "),
                       (["lesson", "2", "--workers", "1", "--check"], "--workers 1 changes the run too much")]:
        r = sipsim(tmp_path, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert text in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_corrupt_progress_is_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sipsim" / "progress.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    r = sipsim(tmp_path, "lesson", "2", "--answer", "burst-head=W1")
    assert "not a progress file" in r.stderr and "Traceback" not in r.stderr
    assert "PASS  burst-head" in r.stdout
    assert (path.parent / "progress.json.bad").read_text() == "{not json"
    assert ProgressStore(path).get(2).answered == {"burst-head": "W1"}


def test_text_walkthrough(tmp_path: Path) -> None:
    r = sipsim(tmp_path, "lesson", "6", "--text")
    assert r.returncode == 0, r.stderr
    assert "QUESTION first-parse" in r.stdout and "1. only the Via" in r.stdout
    assert "-- at event" in r.stdout and "parse_msg" in r.stdout and "{{" not in r.stdout
    # the TUI's keys the lesson names are read on here; a question says where its answer follows
    assert "(as text: where the lesson names the TUI's keys" in r.stdout
    assert "sipsim lesson 6 --check --answer ID=VALUE)" in r.stdout.replace("\n", " ")
    assert r.stdout.index("QUESTION first-parse") < r.stdout.index("predict before you read on")


def test_the_tui_is_opened_or_its_absence_explained(monkeypatch: pytest.MonkeyPatch, capsys,  # noqa: ANN001
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "sipsim.tui.app", None)  # as if the TUI were not installed
    assert main(["lesson", "1"]) == 1
    err = capsys.readouterr().err
    assert "TUI is not available" in err and "sipsim lesson 1 --text" in err

    seen = {}

    class FakeApp:  # the TUI's entry point gets the session, unattached, ready to drive
        @staticmethod
        def run_tui(lesson):  # noqa: ANN001, ANN205
            seen["session"] = lesson
            return 0

    monkeypatch.setitem(sys.modules, "sipsim.tui.app", FakeApp)
    # pytest's stdin and stdout are no terminal: refused as `sipsim tui` refuses, the TUI never starts
    assert main(["lesson", "6"]) == 2
    err = capsys.readouterr().err
    assert "the TUI needs a terminal" in err and "sipsim lesson 6 --text" in err and not seen

    monkeypatch.setattr("sipsim.cli.lesson.no_terminal", lambda instead: None)
    assert main(["lesson", "6", "--profile", "kamailio"]) == 0
    session = seen["session"]
    assert (session.number, session.scenario.profile) == (6, "kamailio")
    assert session.store is not None, "the TUI's answers are saved with the learner's progress"


def test_the_tui_is_refused_without_a_terminal(tmp_path: Path) -> None:
    """The real command, its output piped and no terminal on stdin: one line and exit 2 at once, as
    `sipsim tui` says it (Textual would otherwise spin on the pipe)."""
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    for cmd, instead in ((["lesson", "1"], "sipsim lesson 1 --text"), (["tui"], "sipsim simulate")):
        r = subprocess.run([sys.executable, "-m", "sipsim", *cmd], capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL, timeout=30)
        assert r.returncode == 2 and r.stdout == "", (cmd, r.stdout, r.stderr)
        assert "the TUI needs a terminal (stdin and stdout)" in r.stderr and instead in r.stderr, (cmd, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_refused_answers_say_what_to_type_and_count_for_nothing(tmp_path: Path) -> None:
    store = tmp_path / "state" / "sipsim" / "progress.json"
    # choices that are numbers: "2" is no choice; the message gives the exact argument for the 2nd
    r = sipsim(tmp_path, "lesson", "3", "--answer", "capacity=2")
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr
    suggested = re.findall(r"--answer '([^']+)'", r.stderr)
    assert suggested == ["capacity=#2"], r.stderr
    assert not store.exists(), "a refused answer is not saved"
    r = sipsim(tmp_path, "lesson", "3", "--answer", suggested[0])
    assert "PASS  capacity" in r.stdout, r.stdout + r.stderr

    # a number question: a word is refused, not judged; reasonable forms of a number are read
    for bad in ("abc", "twelve", "200 or 403", ""):
        r = sipsim(tmp_path, "lesson", "13", "--answer", f"options-answer={bad}")
        assert r.returncode == 2 and r.stdout == "", (bad, r.stdout)
        assert "not counted as an attempt" in r.stderr and "Traceback" not in r.stderr, (bad, r.stderr)
    assert "options-answer" not in ProgressStore(store).get(13).answered
    r = sipsim(tmp_path, "lesson", "13", "--route", str(find_lesson(13).files["solution"]),
               "--answer", "options-answer=200 OK", "--answer", "mallory-answer= 403 Forbidden")
    assert "PASS  options-answer" in r.stdout and "PASS  mallory-answer" in r.stdout, r.stdout + r.stderr


@pytest.mark.network
def test_lesson_12_live_check(tmp_path: Path, isolated_network: None) -> None:
    r = sipsim(tmp_path, "lesson", "12", "--check", "--reference", "--live", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS  live-round-robin" in r.stdout and "PASS  live-matches-simulator" in r.stdout
    r = sipsim(tmp_path, "lesson", "1", "--check", "--reference", "--live")
    assert r.returncode == 2 and "has no live comparison" in r.stderr, "a usage mistake, not a failed check"
    assert "PASS" not in r.stdout and "FAIL" not in r.stdout
