"""``wait_for_workers``: a scenario's arrival streams start only once every worker has gone to
sleep, so a herd (or a round-robin) shows every worker however many are forked.

The old behaviour, with 32 workers forked 0.5 ms apart and the first OPTIONS at 10 ms, let the
first datagrams reach a proxy whose last 11 workers were not started yet: 733 wasted wake-ups
instead of 31 × 24 = 744, and a round-robin that was not one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sipsim.engine.events import DATAGRAM_QUEUED, WORKER_SLEEPS, KernelEvent
from sipsim.engine.scenario import Pause, Scenario, ScenarioError, load_scenario
from sipsim.engine.simulation import Runner, run_scenario


def kernel(sc: Scenario, kind: str) -> list[tuple[float, KernelEvent]]:
    out: list[tuple[float, KernelEvent]] = []
    Runner(sc).run(lambda ev, t: out.append((t, ev)) if isinstance(ev, KernelEvent) and ev.kind == kind else None)
    return out


@pytest.mark.parametrize("workers", [8, 32])
def test_every_sleeper_wakes_for_every_datagram_of_the_herd(workers: int) -> None:
    sc = load_scenario("herd").with_overrides(workers=workers)
    result = run_scenario(sc)
    m = result.metrics
    assert m.wasted_wakeups == (workers - 1) * 24
    assert {w: m.handled_per_worker.get(w, 0) + m.wasted.get(w, 0) for w in range(workers)} == dict.fromkeys(
        range(workers), 24)
    sleeps = kernel(sc, WORKER_SLEEPS)
    first_asleep = {}
    for t, ev in sleeps:
        first_asleep.setdefault(ev.worker, t)
    arrivals = kernel(sc, DATAGRAM_QUEUED)
    last_asleep = max(first_asleep.values())
    assert len(first_asleep) == workers and arrivals[0][0] == max(0.01, last_asleep)
    gaps = {round(b[0] - a[0], 9) for a, b in zip(arrivals, arrivals[1:], strict=False)}
    assert gaps == {0.02}  # the stream keeps its spacing when it moves
    assert result.arrival_shift == pytest.approx(max(0.0, last_asleep - 0.01))
    if last_asleep > 0.01:
        assert "start 5.502 ms later than written" in arrivals[0][1].text  # 32: the last fork at 15.5 ms


def test_the_shipped_herd_of_four_is_the_run_it_always_was(tmp_path: Path) -> None:
    """4 workers are asleep by 2 ms: waiting changes nothing, event for event."""
    sc = load_scenario("herd")
    text = (Path(__file__).parents[2] / "sipsim/scenarios/herd.toml").read_text()
    assert "wait_for_workers = true" in text
    plain = tmp_path / "herd.toml"
    plain.write_text(text.replace("wait_for_workers = true", ""))
    events: list[list[tuple[float, str]]] = []
    for s in (sc, load_scenario(plain)):
        got: list[tuple[float, str]] = []
        Runner(s).run(lambda ev, t, got=got: got.append((t, ev.text)))
        events.append(got)
    assert events[0] == events[1] and len(events[0]) > 1000


def test_a_worker_stopped_before_its_first_sleep_holds_the_streams_back() -> None:
    """The streams wait for *every* worker: one SIGSTOPped from the start until 50 ms sleeps only
    once it is resumed, and the first datagram comes then — not at 10 ms, for the three others."""
    base = load_scenario("fifo-spaced").with_overrides(count=3)
    held = replace(base, wait_for_workers=True, pauses=(Pause(0.0, 0.05, (2,)),))
    arrivals = [t for t, _ in kernel(held, DATAGRAM_QUEUED)]
    w2 = [t for t, ev in kernel(held, WORKER_SLEEPS) if ev.worker == 2]
    assert w2[0] >= 0.05 and arrivals[0] == w2[0] and arrivals[1] == pytest.approx(arrivals[0] + 0.02)
    free = replace(held, wait_for_workers=False)
    assert [t for t, _ in kernel(free, DATAGRAM_QUEUED)][0] == 0.01


def test_wait_for_workers_must_be_true_or_false(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('wait_for_workers = "yes"\n')
    with pytest.raises(ScenarioError, match="wait_for_workers: expected true or false"):
        load_scenario(bad)
