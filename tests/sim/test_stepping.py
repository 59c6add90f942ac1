"""Stepping: back() is exact, injecting after going back equals a fresh run, same seed = same trace."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simkit import options, scenario, stream

from sipsim.engine.scenario import Scenario, load_scenario
from sipsim.engine.scenario_check import ScenarioError
from sipsim.engine.stepping import CHECKPOINT, Simulation

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def scenarios() -> dict[str, Scenario]:
    return {
        # a call with peers (timers, retransmission-free), 4 workers
        "call": load_scenario("basic-call"),
        # a jittery burst on 2 CPUs: takes without sleeping, wasted wake-ups, preemption
        "burst": scenario(workers=3, cpus=2, jitter=0.4, seed=11, arrivals=(stream(10, spacing=0.00003),)),
        # wake-all on 2 CPUs (the scheduler picks among the herd by vruntime), a pause in the middle
        "herd": scenario(workers=3, cpus=2, policy="wake-all", arrivals=(stream(6, spacing=0.004),),
                         pauses=(__import__("sipsim.engine.scenario", fromlist=["Pause"]).Pause(0.015, 0.02),)),
        # a stream that waits for slowly forked workers (wait_for_workers): it starts 5 ms late
        "wait": scenario(workers=4, start_gap=0.005, wait_for_workers=True, arrivals=(stream(5, spacing=0.002),)),
    }


@cache
def total_events(name: str) -> int:
    sim = Simulation(scenarios()[name])
    sim.run()
    return len(sim.events)


@PROPERTY
@given(name=st.sampled_from(["call", "burst", "herd", "wait"]), data=st.data())
def test_back_equals_stepping_forward(name: str, data: st.DataObject) -> None:
    total = total_events(name)
    n = data.draw(st.integers(1, total), label="n")
    k = data.draw(st.integers(1, min(n, 40)), label="back")
    sim = Simulation(scenarios()[name])
    for _ in range(n):
        sim.step()
    for _ in range(k):
        sim.back()
    fresh = Simulation(scenarios()[name])
    fresh.goto(n - k)
    assert sim.position == n - k
    assert sim.snapshot == fresh.snapshot
    assert sim.events[: n - k] == fresh.events[: n - k]
    sim.step()
    fresh.step()
    assert sim.snapshot == fresh.snapshot


@PROPERTY
@given(name=st.sampled_from(["call", "burst", "herd", "wait"]), data=st.data())
def test_inject_after_back_equals_a_fresh_run_that_injects_there(name: str, data: st.DataObject) -> None:
    total = total_events(name)
    k = data.draw(st.integers(0, total), label="k")
    n = data.draw(st.integers(k, total), label="n")
    msg = options(900 + k)
    src = ("192.0.2.99", 5099)
    sim = Simulation(scenarios()[name])
    sim.goto(n)
    sim.goto(k)
    sim.inject(msg, src)
    sim.run()
    fresh = Simulation(scenarios()[name])
    fresh.goto(k)
    fresh.inject(msg, src)
    fresh.run()
    assert sim.events == fresh.events
    assert sim.times == fresh.times
    assert sim.snapshot == fresh.snapshot
    queued = [ev for ev in sim.events[k:] if getattr(ev, "kind", "") == "datagram_queued" and ev.detail.get("injected")]
    assert len(queued) == 1 and sim.events[k] is queued[0]  # the very next event is its arrival
    assert sim.times[k] == (sim.times[k - 1] if k else 0.0)


def test_injection_discards_the_old_future_and_later_injections() -> None:
    sc = scenarios()["burst"]
    sim = Simulation(sc)
    sim.goto(30)
    sim.inject(options(1))
    sim.goto(10)
    sim.inject(options(2))
    sim.run()
    assert [k for k, _, _ in sim.injections] == [10]
    fresh = Simulation(sc)
    fresh.goto(10)
    fresh.inject(options(2))
    fresh.run()
    assert sim.events == fresh.events


def test_a_datagram_udp_cannot_carry_cannot_be_injected() -> None:
    sim = Simulation(scenarios()["burst"])
    sim.goto(10)
    before = list(sim.events)
    too_big = options(1) + b"x" * (65_508 - len(options(1)))
    with pytest.raises(ScenarioError, match="65,508 bytes cannot be sent over UDP"):
        sim.inject(too_big, ("192.0.2.99", 5060))
    assert sim.injections == [] and sim.events == before, "nothing changed"
    sim.inject(too_big[:-1], ("192.0.2.99", 5060))  # 65,507 bytes: the largest IPv4 UDP payload
    assert [k for k, _, _ in sim.injections] == [10]


def test_same_seed_same_trace_other_seed_other_trace() -> None:
    sc = load_scenario("burst")
    a, b, c = Simulation(sc), Simulation(sc), Simulation(sc.with_overrides(seed=sc.seed + 1))
    for s in (a, b, c):
        s.run()
    assert [e.to_dict() for e in a.events] == [e.to_dict() for e in b.events] and a.times == b.times
    assert a.times != c.times  # the jitter differs


def test_goto_run_until_and_checkpoints() -> None:
    sim = Simulation(load_scenario("overload").with_overrides(count=600))
    end = sim.run()
    assert sim.at_end and end.step == len(sim.events) > 3 * CHECKPOINT
    mid = sim.goto(2 * CHECKPOINT + 17)
    assert sim.goto(5) != mid
    assert sim.goto(2 * CHECKPOINT + 17) == mid
    snap = sim.run_until(0.06)
    assert snap.time <= 0.06 < sim.times[sim.position]
    sim.goto(0)
    snap = sim.run_until(lambda s: s.drops > 0)
    assert snap.drops == 1 and getattr(snap.event, "kind", "") == "datagram_dropped"
    sim.goto(0)
    assert sim.back().step == 0 and sim.snapshot.time == 0.0


def test_find_next_and_previous_events() -> None:
    from sipsim.engine.events import StepEvent

    sim = Simulation(load_scenario("basic-call"))
    parse = lambda e: isinstance(e, StepEvent) and e.step == "parse_msg"  # noqa: E731
    first = sim.find(parse)
    second = sim.find(parse, start=first)
    assert first is not None and second is not None and first < second
    assert sim.events[first - 1].msg == 1 and sim.events[second - 1].msg == 2
    assert sim.position == 0  # searching does not move the cursor
    sim.goto(second)
    assert sim.find(parse, backwards=True) == first
    assert sim.find(lambda e: False) is None and sim.at_end is False


def test_wire_after_going_back_equals_the_wire_of_a_fresh_run() -> None:
    # four datagrams arrive at the same instant: cutting the wire by time would show all four
    # once the run has gone further, but only the first to a run that stopped right after it
    sc = scenario(arrivals=(stream(4, spacing=0.0),))
    ran = Simulation(sc)
    ran.run()
    for n in range(len(ran.events) + 1):
        fresh = Simulation(sc)
        fresh.goto(n)
        ran.goto(n)
        assert ran.wire() == fresh.wire(), n
    first = next(i for i, e in enumerate(ran.events) if getattr(e, "kind", "") == "datagram_queued") + 1
    assert [r.msg for r in ran.wire(first)] == [1]
