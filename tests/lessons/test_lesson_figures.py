"""The figures lessons 2, 3 and 4 cite are the ones the simulator shows a learner who runs what
the lesson says: message numbers, times, "handled by" lines and the cost of one OPTIONS.

Each test reads the figure out of the lesson text and compares it with a fresh run, so a change
in the kernel model or the step costs that moves a figure fails here, naming the lesson."""

from __future__ import annotations

import re

import pytest

from sipsim.engine import kernel_queue
from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED, WORKER_TAKES, WORKER_WOKEN, KernelEvent
from sipsim.engine.scenario import load_scenario
from sipsim.engine.stepping import Simulation
from sipsim.lessons import find_lesson


def flat(number: int) -> str:
    """A lesson's text with its line breaks folded, so a phrase can be found across them."""
    return " ".join(find_lesson(number).path.read_text().split())


def kernel_events(sim: Simulation, kind: str) -> list[KernelEvent]:
    return [ev for ev in sim.events if isinstance(ev, KernelEvent) and ev.kind == kind]


def run_lesson_3() -> Simulation:
    lesson = find_lesson(3)
    sim = Simulation(load_scenario(str(lesson.path.parent / lesson.scenario)))
    sim.run()
    return sim


def test_lesson_3_drop_and_release_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first drop the question names, when the first batch of bytes comes back, and what the
    burst would have lost had each read given its bytes back at once (``forward_threshold`` 0)."""
    text = flat(3)
    sim = run_lesson_3()
    dropped = [ev.msg for ev in kernel_events(sim, DATAGRAM_DROPPED)]
    prompt = re.search(r"The buffer is full and #(\d+) is dropped", text)
    assert prompt and int(prompt.group(1)) == dropped[0], (prompt, dropped[:3])

    # "The first release, at the read of #4 (10.39 ms), comes after the last of the 40 arrived (10.195 ms)"
    m = re.search(r"The first release, at the read of #(\d+) \((\d+\.\d+) ms\), comes after the last of "
                  r"the 40 arrived \((\d+\.\d+) ms\)", text)
    assert m, "lesson 3 no longer says when the first release comes"
    # the first read after which no byte is held back: udp_rmem_release gave the batch back
    release = next(ev for ev in sim.events if isinstance(ev, KernelEvent)
                   and ev.kind in (WORKER_TAKES, WORKER_WOKEN) and ev.detail.get("held") == 0)
    assert release.msg == int(m.group(1)) and f"{release.time * 1e3:.2f}" == m.group(2), release
    flood = [ev for ev in kernel_events(sim, DATAGRAM_QUEUED) + kernel_events(sim, DATAGRAM_DROPPED)
             if ev.msg is not None and ev.msg <= 40]
    assert f"{max(ev.time for ev in flood) * 1e3:.3f}" == m.group(3)
    assert release.time > max(ev.time for ev in flood)

    # "had their bytes come back at once, #13 and #14 would have been queued (the first drop would have been #15)"
    m = re.search(r"#(\d+) and #(\d+) would have been queued \(the first drop would have been #(\d+)\)", text)
    assert m, "lesson 3 no longer says what the batching cost"
    monkeypatch.setattr(kernel_queue.SimSocket, "threshold", property(lambda self: 0))
    at_once = run_lesson_3()
    dropped_at_once = [ev.msg for ev in kernel_events(at_once, DATAGRAM_DROPPED)]
    assert dropped_at_once[0] == int(m.group(3)), dropped_at_once[:3]
    assert set(dropped) - set(dropped_at_once) == {int(m.group(1)), int(m.group(2))}


@pytest.mark.parametrize(("options", "quoted"), [
    ([], "W3 W3 W3"),
    (["--cpus", "2"], "W3 W3 W3"),
    (["--cpus", "1"], "W1 W0 W2 W3 W1 W0"),
])
def test_lesson_4_handled_by_lines_are_what_simulate_prints(options: list[str], quoted: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Lesson 4 quotes `sipsim simulate herd`'s "handled by" line, with a CPU each, on 2 and on 1."""
    from sipsim.cli import main

    assert f"`handled by (in arrival order): {quoted} …`" in flat(4)
    if options:  # the lesson names the run it quotes
        assert f"simulate herd {' '.join(options)}`" in flat(4) or f"with `{' '.join(options)}`" in flat(4)
    assert main(["simulate", "herd", *options]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "handled by (in arrival order):" in x)
    assert line.split(":", 1)[1].strip().startswith(quoted), line


def test_the_cost_of_one_options_the_lessons_cite() -> None:
    """Lessons 2 and 4 say a worker spends about 340 µs on one OPTIONS, and quote the busy times
    `sipsim simulate fifo-spaced` and `sipsim simulate herd` print for it."""
    spaced = Simulation(load_scenario("fifo-spaced"))
    spaced.run()
    m = spaced.metrics()
    per = {w: m.busy[w] / m.handled_per_worker[w] for w in m.handled_per_worker if m.handled_per_worker[w]}
    assert all(round(p * 1e5) == 34 for p in per.values()), per  # 340 µs, to the nearest 10
    assert "about 340 µs on an OPTIONS (`sipsim simulate fifo-spaced` shows each worker busy 2.03 ms for 6" in flat(2)
    assert {f"{m.busy[w] * 1e3:.2f}" for w in per} == {"2.03"} and set(m.handled_per_worker.values()) == {6}

    herd = Simulation(load_scenario("herd"))
    herd.run()
    h = herd.metrics()
    (winner,) = [w for w, n in h.handled_per_worker.items() if n]
    assert "~340 µs the winner spends on each of these OPTIONS" in flat(4)
    assert f"shows W{winner} busy {h.busy[winner] * 1e3:.2f} ms for all {h.handled_per_worker[winner]}" in flat(4)
    assert round(h.busy[winner] / h.handled_per_worker[winner] * 1e5) == 34


def test_lesson_4_herd_of_32_wakes_every_worker_for_every_datagram() -> None:
    """Lesson 4 quotes the wasted wake-ups of `sipsim simulate herd --workers 32`: every one of the
    24 datagrams wakes all 32 sleepers (the stream waits until the last fork is asleep), 31 in vain."""
    m = re.search(r"`sipsim simulate herd --workers 32` counts (\d+) wasted wake-ups, (\d+) for each of the "
                  r"(\d+) datagrams", flat(4))
    assert m, "lesson 4 no longer quotes the herd of 32"
    sim = Simulation(load_scenario("herd").with_overrides(workers=32))
    sim.run()
    h = sim.metrics()
    handled = sum(h.handled_per_worker.values())
    assert (h.wasted_wakeups, handled) == (int(m.group(1)), int(m.group(3)))
    assert h.wasted_wakeups == int(m.group(2)) * handled == 31 * 24
    assert all(h.handled_per_worker.get(w, 0) + h.wasted.get(w, 0) == 24 for w in range(32))


def test_lesson_4_first_two_datagrams_of_the_herd_as_the_trace_shows_them() -> None:
    """`sipsim simulate herd --count 2 --trace` with a CPU each: who takes #1 and when, when the
    losers are asleep again and in what order, when the winner goes back (to the head) — and that
    it takes #2 — and, on one CPU, who wins #2."""
    from sipsim.engine.events import WASTED_WAKEUP, WORKER_SLEEPS

    m = re.search(r"With a CPU each, W(\d) takes #1 at (\d+\.\d+) ms while the three losers find the queue empty "
                  r"at the same moment and are asleep again at (\d+\.\d+) ms \(([W\d →]+)\); W\d goes back at "
                  r"(\d+\.\d+) ms, to the head \(([W\d →]+)\), and takes #2\.", flat(4))
    assert m, "lesson 4 no longer walks through the first two datagrams"
    sim = Simulation(load_scenario("herd").with_overrides(count=2))
    sim.run()
    first, second = kernel_events(sim, WORKER_WOKEN)
    assert (first.worker, f"{first.time * 1e3:.3f}") == (int(m.group(1)), m.group(2))
    losers = [ev for ev in kernel_events(sim, WASTED_WAKEUP) if ev.time < second.time]
    assert len(losers) == 3 and all(ev.time == first.time for ev in losers)
    sleeps = [ev for ev in kernel_events(sim, WORKER_SLEEPS) if first.time <= ev.time < second.time]
    back = sleeps[2]  # the third loser's sleep shows the wait-queue of the three
    assert f"{back.time * 1e3:.3f}" == m.group(3)
    assert " → ".join(f"W{w}" for w in back.detail["wait_queue"]) == m.group(4)
    winner_back = sleeps[3]
    assert winner_back.worker == first.worker == second.worker
    assert f"{winner_back.time * 1e3:.3f}" == m.group(5)
    assert " → ".join(f"W{w}" for w in winner_back.detail["wait_queue"]) == m.group(6)

    assert "at #2 W1 has had the most CPU and runs last, and W0 wins" in flat(4)
    one = Simulation(load_scenario("herd").with_overrides(count=2, cpus=1))
    one.run()
    assert [ev.worker for ev in kernel_events(one, WORKER_WOKEN)] == [1, 0]
