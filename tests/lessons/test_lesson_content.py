"""Every shipped lesson: it loads, its scenario runs, its anchors exist, and its checks read the
simulation — the reference answers pass, wrong ones fail, and a kernel that wakes the wrong
sleeper (``lifo``) makes lessons 1 and 2 fail."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_lesson_14_answers_come_from_the_shared_table() -> None:
    """Lesson 14's answers are read from the location table every worker shares: the REGISTER, the
    query and the INVITE go to three workers, and without bob's REGISTER the query lists nothing and
    the INVITE is answered 404 — the reference answers then fail, the 404 choice is right."""
    from dataclasses import replace

    from sipsim.engine.stepping import Simulation
    from sipsim.lessons.view import RunView

    lesson = find_lesson(14)
    session = Session(lesson)
    view = session._view(lesson.checks[0].judged)
    takers = [view.msg(sel).taker for sel in ({"method": "REGISTER", "peer": "bob"}, "query", {"method": "INVITE"})]
    assert len(set(takers)) == 3, takers
    sc = session.scenario
    bob = next(p for p in sc.peers if p.name == "bob")
    silent = replace(bob, options=tuple((k, v) for k, v in bob.options if k != "register") + (("register", False),))
    view = RunView(Simulation(replace(sc, peers=tuple(silent if p is bob else p for p in sc.peers))))
    for qid, right in (("query-contact", "none"), ("invite-goes", "127.0.0.2:5060")):
        q = lesson.question_spec(qid)
        assert q is not None
        obs = evaluate(q.judged.check, view, q.judged.args)
        assert not same(next(c.value for c in q.choices if c.text == q.answer), obs), (qid, obs.says)
        assert choice_for(obs, q.choices) == next(c for c in q.choices if c.value == right), (qid, obs.says)
    assert evaluate("status", view, {"msg": {"method": "INVITE"}}).value == 404


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


# -- claims of the lesson text, checked against the references and the engine --------------------

# RFC 3261 §21: the section of each status code a lesson may cite (a new citation adds its line here)
RFC3261_STATUS_SECTIONS = {"21.4.1": 400, "21.4.4": 403, "21.4.5": 404, "21.4.14": 416, "21.4.15": 420,
                           "21.4.16": 421, "21.4.17": 423, "21.4.19": 481, "21.4.21": 483, "21.5.4": 503,
                           "21.5.6": 505}


def test_rfc_section_citations_are_right() -> None:
    """Every "NNN … (RFC 3261 §21.x.y)" names the section of that status code, and every RFC 4475
    section given next to a corpus file is the one its MANIFEST.tsv gives."""
    manifest = {}
    for line in (Path(__file__).parents[1] / "data/rfc4475/MANIFEST.tsv").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) > 1 and cols[0].endswith(".dat"):
            manifest[cols[0]] = cols[1]
    cited_4475 = 0
    for lesson in LESSONS:
        text = lesson.path.read_text()
        for m in re.finditer(r"§(21\.\d+\.\d+)", text):
            assert m.group(1) in RFC3261_STATUS_SECTIONS, f"lesson {lesson.number}: §{m.group(1)} is not in the table"
            before = re.findall(r"\b([1-6]\d\d)\b", text[max(0, m.start() - 80):m.start()])
            assert before and int(before[-1]) == RFC3261_STATUS_SECTIONS[m.group(1)], \
                f"lesson {lesson.number}: §{m.group(1)} is {RFC3261_STATUS_SECTIONS[m.group(1)]}, cited for {before}"
        for m in re.finditer(r"(\w+\.dat)\b((?:(?!\.dat)[^§]){0,160})§(3\.\d[\d.]*\d)", text):
            assert manifest.get(m.group(1)) == m.group(3), (lesson.number, m.group(1), m.group(3))
            cited_4475 += 1
    assert cited_4475 >= 5, "the RFC 4475 citations were not found: the pattern no longer matches the lessons"


# Kamailio changes msg->buf in place here (src/modules/maxfwd/mf_funcs.c: decrement_maxfwd() writes
# the new value over the old digits), so "kept as lumps" is not true of Kamailio at these steps.
KAMAILIO_WRITES_BUF_AT = {"mf_process_maxfwd_header"}


def test_no_lesson_says_kamailio_keeps_max_forwards_as_lumps() -> None:
    for lesson in LESSONS:
        for judged, said in [(q.judged, q.answer) for q in lesson.questions] + \
                            [(c.judged, c.expect) for c in lesson.checks]:
            if judged.check != "change_model" or judged.args.get("step") not in KAMAILIO_WRITES_BUF_AT:
                continue
            profile = judged.variant.get("profile") or Session(lesson).scenario.profile
            assert profile != "kamailio" or "lump" not in str(said), \
                f"lesson {lesson.number}: Kamailio rewrites Max-Forwards in buf, not as lumps"


def test_lesson_5_max_forwards_bytes_are_kamailios() -> None:
    """Lesson 5 says sipsim's lumps send the bytes Kamailio's in-place rewrite sends: "10" becomes " 9"."""
    from dataclasses import replace

    from sipsim.engine.stepping import Simulation
    from sipsim.lessons.view import RunView

    lesson = find_lesson(5)
    text = lesson.path.read_text()
    assert "decrement_maxfwd()" in text and '"10" becomes " 9"' in text
    sc = Session(lesson).scenario
    arrival = sc.arrivals[0]
    data = arrival.messages[0].replace(b"Max-Forwards: 70", b"Max-Forwards: 10")
    view = RunView(Simulation(replace(sc, arrivals=(replace(arrival, messages=(data,)),))))
    [(_, sent)] = view.sent_bytes(view.msg(1))
    assert b"\r\nMax-Forwards:  9\r\n" in sent


def test_lesson_3_per_datagram_cost_is_what_it_says() -> None:
    lesson = find_lesson(3)
    assert "about\n0.3 ms" in lesson.path.read_text() or "about 0.3 ms" in lesson.path.read_text()
    sim = Session(lesson).simulation
    sim.goto(len(sim.events))
    sim.run()
    m = sim.metrics()
    per = sum(m.busy.values()) / sum(m.handled_per_worker.values())
    assert 0.2e-3 <= per <= 0.4e-3, per


def test_lesson_13_header_added_after_forward_does_not_count(tmp_path: Path) -> None:
    """A script that appends X-Lesson after forward() records the lump, but the INVITE already left
    without it: the check reads the datagram that was sent."""
    lesson = find_lesson(13)
    src = lesson.files["solution"].read_text()
    line = '\tappend_hf("X-Lesson: 13\\r\\n");\n'
    assert line in src
    late = src.replace(line, "").replace("\tif (!forward()) {\n\t\tsl_reply_error();\n\t}\n",
                                         "\tif (!forward()) {\n\t\tsl_reply_error();\n\t}\n" + line)
    assert late != src.replace(line, "")
    (tmp_path / "late.cfg").write_text(late)
    session = Session(lesson, overrides={"route": str(tmp_path / "late.cfg")})
    results = {r.id: r.passed for r in session.checks()}
    assert results["options-200"] and results["mallory-403"] and results["alice-relayed"]
    assert not results["alice-header"]
    said = next(r.message for r in session.checks() if r.id == "alice-header")
    assert "recorded a lump adding it, after the message had left" in said, said
    view = session._view(lesson.checks[0].judged)
    assert evaluate("lump_added", view, {"msg": "alice", "contains": "X-Lesson: 13"}).value is True


def test_lesson_13_header_without_its_crlf_breaks_the_invite_and_does_not_count(tmp_path: Path) -> None:
    """append_hf("X-Lesson: 13") without \\r\\n: the header runs into the empty line (as in
    Kamailio), the INVITE that leaves has no end of headers — the check says so instead of
    passing on the header's value."""
    lesson = find_lesson(13)
    src = lesson.files["solution"].read_text()
    line = '\tappend_hf("X-Lesson: 13\\r\\n");\n'
    assert line in src
    (tmp_path / "nocrlf.cfg").write_text(src.replace(line, '\tappend_hf("X-Lesson: 13");\n'))
    session = Session(lesson, overrides={"route": str(tmp_path / "nocrlf.cfg")})
    results = {r.id: r for r in session.checks()}
    assert results["alice-relayed"].passed and not results["alice-header"].passed
    assert "the headers end without an empty line" in results["alice-header"].message


def test_lesson_10_late_180_answer_needs_a_late_180() -> None:
    """Without the slow worker no 180 comes late: no answer about what alice did with it passes."""
    from dataclasses import replace

    from sipsim.engine.stepping import Simulation
    from sipsim.lessons.view import RunView

    lesson = find_lesson(10)
    q = lesson.question_spec("late-180")
    assert q is not None
    sc = Session(lesson).scenario
    view = RunView(Simulation(replace(sc, speeds=())))
    obs = evaluate(q.judged.check, view, q.judged.args)
    assert obs.value == "none" and choice_for(obs, q.choices) is None


def test_runs_a_lesson_suggests_can_be_made() -> None:
    """`sipsim lesson N --profile X` (or --policy, --workers) written in a lesson must run: its
    anchors are found in the changed run. A run the lesson says cannot be made is exempt."""
    suggested = []
    for lesson in LESSONS:
        text = lesson.path.read_text()
        found = [(int(m.group(1)), m.group(2), m.end()) for m in
                 re.finditer(r"`sipsim\s+lesson\s+(\d+)((?:\s+--(?:profile|policy|workers)\s+[\w-]+)+)", text)]
        own = r"(?:run|the)\s+lesson\s+with\s+((?:`--(?:profile|policy|workers) [\w-]+`,?\s?)+)"
        found += [(lesson.number, m.group(1), m.end()) for m in re.finditer(own, text, re.I)]
        for number, opts, end in found:
            if "cannot" in text[end:end + 40]:
                continue
            overrides = {k: (int(v) if k == "workers" else v) for k, v in re.findall(r"--(\w+)\s+([\w-]+)", opts)}
            suggested.append((number, overrides))
    assert (5, {"profile": "ser"}) in suggested, suggested
    for number, overrides in suggested:
        assert Session(find_lesson(number), overrides=overrides).stops(), (number, overrides)


def test_lesson_5_questions_hold_in_both_profiles() -> None:
    """"Where does Kamailio keep the change?" is about Kamailio whatever profile the lesson runs in,
    and it is asked before the narration gives the answer away (lumps are explained at mf-done)."""
    lesson = find_lesson(5)
    q = lesson.question_spec("where-is-the-change")
    assert q is not None and q.judged.variant == {"profile": "kamailio"}
    for profile in ("ser", "kamailio"):
        session = Session(lesson, overrides={"profile": profile})
        assert session.position_of(q.at) < session.position_of("mf-done") <= session.position_of(q.reveal or "")
        for qid, answer in session.reference_answers().items():
            assert session.answer(qid, answer).passed, (profile, qid)
        assert all(r.passed for r in session.checks()), profile
        assert not session.answer(q.id, "in msg->buf, rewritten in place").passed, profile


def test_lesson_13_names_its_tasks_and_asks_for_its_answers() -> None:
    """The exercise's three tasks are "Task N" in the lesson, its checks and the starting script,
    and the lesson tells how to answer its two questions."""
    lesson = find_lesson(13)
    text = lesson.path.read_text()
    start = lesson.files["start"].read_text()
    for n in (1, 2, 3):
        assert f"**Task {n}**" in text and f"# Task {n}:" in start and f"Task {n}  " in start, n
    assert "TODO" not in text and "TODO" not in start, "the check report's TODO means 'not answered yet'"
    assert sorted(c.says.split(":")[0] for c in lesson.checks if c.says.startswith("Task")) == \
        ["Task 1", "Task 2", "Task 3"]
    for q in lesson.questions:
        assert f"`{q.id}`" in text and f"--answer {q.id}=" in text, q.id


def test_lesson_commands_use_the_projects_interpreter() -> None:
    """A script of the repository is run with the venv's Python (`python` may not even exist), and
    what the lesson says it needs is what the script does."""
    for lesson in LESSONS:
        text = lesson.path.read_text()
        for m in re.finditer(r"(\S*python3?)\s+(bench/\w+\.py|docs/\w+\.py)", text):
            assert m.group(1) == "`.venv/bin/python", (lesson.number, m.group(0))
            assert (Path(__file__).parents[2] / m.group(2)).is_file(), m.group(2)
    live = find_lesson(12).path.read_text()
    assert "`.venv/bin/python bench/live.py`" in live and "private network namespace" in live and "root" in live
    assert "enter_private_netns()" in (Path(__file__).parents[2] / "bench/live.py").read_text()


def test_lesson_4_the_head_wins_with_an_idle_cpu_and_the_scheduler_rotates_on_one() -> None:
    """What lesson 4 says, as Linux measured it (poll, 4 workers): non-exclusive sleepers join the
    head of the wait-queue and the herd is woken head first, so with an idle CPU the most recent
    sleeper — the last winner — wins every datagram (`333333…` on 2 CPUs; the same on 4); on one
    CPU the scheduler picks the least-run worker and the winner rotates in sleep order
    (`0123…`, pinned with taskset). The wasted wake-ups and their CPU are the same each way."""
    from sipsim.engine.events import KernelEvent
    from sipsim.engine.scenario import load_scenario
    from sipsim.engine.stepping import Simulation
    from sipsim.lessons.view import RunView

    text = " ".join(find_lesson(4).path.read_text().split())
    assert "sipsim simulate herd --count 2 --trace --cpus 1" in text and "333333333333333333333333" in text
    assert "the winner rotates" in text and "`012301230123…`" in text
    costs = {}
    for cpus in (4, 2, 1):
        sim = Simulation(load_scenario("herd").with_overrides(cpus=cpus))
        view = RunView(sim)
        sleeps = [ev for ev in sim.events if isinstance(ev, KernelEvent) and ev.kind == "worker_sleeps"]
        first = []
        for ev in sleeps:
            assert ev.detail["at"] == "head"
            if ev.worker not in first:
                first.append(ev.worker)
        got = {ev.msg: ev.worker for ev in sim.events
               if isinstance(ev, KernelEvent) and ev.kind in ("worker_woken", "worker_takes")}
        takers = [got[m] for m in sorted(got)]
        if cpus == 1:
            assert takers == [first[k % 4] for k in range(24)], takers
        else:
            assert takers == [first[-1]] * 24, (cpus, takers)
        costs[cpus] = (evaluate("wasted_wakeups", view, {}).value, evaluate("lesson4_wasted_cpu", view, {}).value)
    assert costs[4] == costs[2] == costs[1] == (72, 158.4), costs


def test_readme_commands_and_links_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The teachers' reference check of lessons/README.md runs as written from the top folder and
    passes, and the seed's "buffer, zero-terminated" row cites the lessons about the worker's receive
    buffer (lesson 3 is about the kernel's queue)."""
    from sipsim.cli import main

    top = Path(__file__).parents[2]
    readme = (lessons_dir() / "README.md").read_text()
    commands = re.findall(r"^    (sipsim lesson \d+ --check --reference.*)$", readme, re.M)
    assert any("--route lessons/13-route-solution.cfg" in c for c in commands), commands
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    for command in commands:
        assert main(command.split()[1:]) == 0, (command, capsys.readouterr())
        assert "Lesson complete." in capsys.readouterr().out
    row = next(line for line in readme.splitlines() if "zero-terminated" in line)
    cited = {int(n) for n in re.findall(r"\b(\d+)\b", row.rsplit("|", 2)[1])}
    assert cited and 3 not in cited
    for n in cited:
        assert re.search(r"static (?:per-process |receive )?buffer", find_lesson(n).path.read_text()), n


def test_a_lesson_that_names_eevdf_says_how_it_picks() -> None:
    """EEVDF does not simply run the lowest vruntime: it runs the eligible task with the earliest
    virtual deadline (Documentation/scheduler/sched-eevdf.rst)."""
    named = [lesson for lesson in LESSONS if "EEVDF" in lesson.path.read_text()]
    assert named
    for lesson in named:
        text = " ".join(lesson.path.read_text().split())
        assert "eligible" in text and "virtual deadline" in text, lesson.number
        assert "EEVDF since 6.6), the one that has had the least CPU" not in text
