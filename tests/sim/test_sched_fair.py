"""The simulated CPUs' fair run-queue (``sched_fair.py``): who runs when workers outnumber CPUs,
and when a woken worker starts."""

from __future__ import annotations

from simkit import first_sleep_order, kinds, scenario, stream, takers

from sipsim.engine.events import KernelEvent
from sipsim.engine.scenario import Pause, load_scenario
from sipsim.engine.sched_fair import sleeper_credit
from sipsim.engine.simulation import KERNEL_COSTS
from sipsim.engine.stepping import Simulation


def herd_on_one_cpu() -> Simulation:
    sim = Simulation(load_scenario("herd").with_overrides(cpus=1))
    sim.run()
    return sim


def test_herd_on_one_cpu_the_worker_with_the_least_cpu_wins_so_the_winner_rotates() -> None:
    sim = herd_on_one_cpu()
    events = sim.events
    order = first_sleep_order(events)
    got = takers(events)
    # every datagram wakes all four; on one CPU the scheduler runs the one that has had the least
    # CPU, never the one that has just handled a datagram: the winner rotates, as on Linux
    assert got == [order[i % 4] for i in range(24)]
    assert all(got.count(w) == 6 for w in range(4))
    assert sim.snapshot.wasted_wakeups == 72
    # the mechanism: the winner of each datagram is the woken worker with the lowest vruntime (the
    # wake-ups after its arrival carry it), the earliest woken among equals
    for msg in range(1, 25):
        at = next(i for i, e in enumerate(events) if isinstance(e, KernelEvent)
                  and e.kind == "datagram_queued" and e.msg == msg)
        woken = [e for e in events[at + 1:at + 5] if e.kind == "worker_wakeup"]
        assert len(woken) == 4
        fairest = min(range(4), key=lambda k: (woken[k].detail["vruntime"], k))
        assert got[msg - 1] == woken[fairest].worker, msg
        if msg > 1:
            assert got[msg - 1] != got[msg - 2]


def test_the_wake_up_cost_is_paid_once_even_after_waiting_for_a_cpu() -> None:
    sim = herd_on_one_cpu()
    events, times = sim.events, sim.times
    wake_cost = KERNEL_COSTS["try_to_wake_up"]
    # a free CPU: the first runner starts try_to_wake_up (45 µs) after the wake-up
    first_wakeup = next(i for i, e in enumerate(events) if getattr(e, "kind", "") == "worker_wakeup")
    first_woken = next(i for i, e in enumerate(events) if getattr(e, "kind", "") == "worker_woken")
    assert abs(times[first_woken] - times[first_wakeup] - wake_cost) < 1e-12
    # the others waited far longer than that for the one CPU: each runs the very moment the
    # previous runner goes back to sleep, without paying the wake-up cost again on top
    losers = [i for i, e in enumerate(events) if getattr(e, "kind", "") == "wasted_wakeup"]
    assert len(losers) == 72
    for i in losers:
        assert events[i - 1].kind == "worker_sleeps" and times[i] == times[i - 1], (i, events[i - 1])


def test_a_long_sleeper_is_owed_the_sleeper_credit_not_all_the_cpu_it_missed() -> None:
    # one CPU, two workers; W1 is stopped for 30 ms while W0 alone handles a stream that keeps the
    # CPU busy. Back, W1 is placed at most the sleeper credit (3 ms on one CPU) behind W0: it runs
    # about that long, then the two share the CPU slice by slice
    sc = scenario(workers=2, cpus=1, start_order=(0, 1), arrivals=(stream(150, time=0.003, spacing=0.0002),),
                  pauses=(Pause(0.002, 0.032, (1,)),))
    sim = Simulation(sc)
    sim.run()
    runs: list[list] = []  # [worker, first event, last event] of each stretch of one worker's events
    for ev, t in zip(sim.events, sim.times, strict=True):
        if ev.worker is None:
            continue
        if runs and runs[-1][0] == ev.worker:
            runs[-1][2] = t
        else:
            runs.append([ev.worker, t, t])
    back = next(k for k, r in enumerate(runs) if r[0] == 1 and r[1] > 0.032)
    credit, slice_ = sleeper_credit(1) / 1e9, sc.time_slice()
    assert runs[back - 1][0] == 0 and runs[back - 1][2] - runs[back - 1][1] > 0.028  # W0 had the CPU alone
    first = runs[back][2] - runs[back][1]
    assert credit < first < credit + 2 * slice_, first  # not the ~29 ms W0 ran meanwhile
    shared = runs[back + 1:-2]
    assert len(shared) >= 10 and {r[0] for r in shared} == {0, 1}
    assert all(r[2] - r[1] < 2 * slice_ for r in shared)  # then turn by turn, a slice each
    assert len(takers(sim.events)) == 150 and not kinds(sim.events, "datagram_dropped")
