"""What a wasted wake-up costs: the loser of a herd holds a CPU for a context switch and an empty
``recvfrom``, is charged it in its ``vruntime``, and delays whoever waits for that CPU — and the
snapshots show every worker's ``vruntime`` as the scheduler last charged it."""

from __future__ import annotations

from dataclasses import replace

from simkit import kinds, scenario, stream

from sipsim.engine import snapshot as snapmod
from sipsim.engine.events import KernelEvent
from sipsim.engine.scenario import Pause, load_scenario
from sipsim.engine.simulation import KERNEL_COSTS, Runner, run_scenario
from sipsim.engine.stepping import Simulation

LOSER_CPU = KERNEL_COSTS["context_switch"] + KERNEL_COSTS["sys_recvfrom_empty"]


def test_on_one_cpu_each_loser_of_the_herd_holds_the_cpu_and_is_charged_for_it() -> None:
    sim = Simulation(load_scenario("herd").with_overrides(cpus=1))
    sim.run()
    events, times = sim.events, sim.times
    wasted = [i for i, e in enumerate(events) if getattr(e, "kind", "") == "wasted_wakeup"]
    assert len(wasted) == 72
    for i in wasted:
        ev = events[i]
        assert ev.detail["cpu"] == LOSER_CPU
        # its next event is going back to sleep, that much later, with that much more vruntime;
        # meanwhile nobody else ran: the loser had the only CPU
        j = next(k for k in range(i + 1, len(events)) if getattr(events[k], "worker", None) == ev.worker)
        assert events[j].kind == "worker_sleeps" and events[j].detail["at"] == "head"  # poll: add_wait_queue
        assert abs(times[j] - times[i] - LOSER_CPU) < 1e-12
        assert events[j].detail["vruntime"] - ev.detail["vruntime"] == round(LOSER_CPU * 1e9)
        assert all(getattr(e, "worker", None) is None for e in events[i + 1:j])
    # the figures: 3 losers per datagram, 18 wake-ups for nothing per worker
    m = run_scenario(load_scenario("herd").with_overrides(cpus=1)).metrics.summary()
    assert abs(m["wasted_cpu"] - 72 * LOSER_CPU) < 1e-12
    # the snapshot the TUI shows (Workers panel: "wasted wake-ups 72 (158.4 µs of CPU)") folds the
    # same total, and stepping back before a loser's wake-up takes its cost back out
    assert abs(sim.snapshot.wasted_cpu - m["wasted_cpu"]) < 1e-12
    assert abs(sim.goto(wasted[1] + 1).wasted_cpu - 2 * LOSER_CPU) < 1e-12
    assert abs(sim.back().wasted_cpu - LOSER_CPU) < 1e-12
    assert [round(w["wasted_cpu"] / LOSER_CPU) for w in m["workers"]] == [18, 18, 18, 18]
    # exclusive wake-ups on the same arrivals waste nothing and charge nothing for it; every
    # worker handled the same six datagrams, so the herd cost each exactly its 18 losers' CPU
    fifo_sc = load_scenario("herd").with_overrides(cpus=1, policy="fifo")
    fifo = run_scenario(fifo_sc).metrics.summary()
    assert (fifo["wasted_wakeups"], fifo["wasted_cpu"]) == (0, 0.0)
    assert all(w["wasted_cpu"] == 0.0 for w in fifo["workers"])
    fifo_runner = Runner(fifo_sc)
    fifo_runner.run()
    for herd_p, fifo_p in zip(sim.runner.procs, fifo_runner.procs, strict=True):
        assert herd_p.vruntime - fifo_p.vruntime == 18 * round(LOSER_CPU * 1e9), herd_p.id


def test_a_datagram_arriving_while_the_losers_hold_the_only_cpu_waits_for_them() -> None:
    # a context switch made absurdly slow (50 ms, by name in [costs]) to see the loser hold its CPU
    slow = (("context_switch", 0.05 - KERNEL_COSTS["sys_recvfrom_empty"]),)
    latency = {}
    for cpus in (1, 4):
        sim = Simulation(replace(load_scenario("herd").with_overrides(cpus=cpus, count=2), costs=slow))
        sim.run()
        events, times = sim.events, sim.times
        arrived = {e.msg: times[i] for i, e in enumerate(events) if getattr(e, "kind", "") == "datagram_queued"}
        taken = {e.msg: (times[i], e) for i, e in enumerate(events)
                 if getattr(e, "kind", "") in ("worker_woken", "worker_takes")}
        first_loser = kinds(events, "wasted_wakeup")[0]
        assert abs(first_loser.detail["cpu"] - 0.05) < 1e-12
        latency[cpus] = taken[2][0] - arrived[2]
        if cpus == 1:
            # #2 (20 ms after #1) wakes the winner of #1, but the CPU belongs to the first loser
            # for 50 ms; the loser, back in recvfrom, finds #2 queued and takes it without sleeping
            t_loser = next(times[i] for i, e in enumerate(events) if e is first_loser)
            assert taken[2][0] == t_loser + first_loser.detail["cpu"]
            assert taken[2][1].kind == "worker_takes" and taken[2][1].worker == first_loser.worker
    # with a CPU each, the losers burn theirs and #2's worker gets the fourth at once
    assert abs(latency[4] - KERNEL_COSTS["try_to_wake_up"]) < 1e-12
    assert latency[1] > 0.025


def test_snapshots_show_each_workers_vruntime_as_last_charged_after_every_event() -> None:
    # one CPU, a burst (time slices run out), a herd (losers are charged) and a pause (SIGCONT
    # places the stopped workers again): after every event the snapshot agrees with the scheduler
    # for every worker that is off its CPU and has not been preempted since its last event
    sc = scenario(policy="wake-all", cpus=1, arrivals=(stream(12, spacing=0.0001),),
                  pauses=(Pause(0.0105, 0.02, (1, 2)),))
    runner = Runner(sc)
    snap = snapmod.initial(policy=sc.policy, rcvbuf=runner.rcvbuf)
    history = [snap]
    checked = 0
    while (ev := runner.next_event()) is not None:
        snap = snapmod.fold(snap, ev, runner.now)
        history.append(snap)
        for w in snap.workers:
            if w.state == snapmod.SLEEPING or (isinstance(ev, KernelEvent) and ev.kind == "workers_resumed"
                                               and w.id in ev.detail["workers"]):
                assert w.vruntime == runner.procs[w.id].vruntime, (runner.count, w)
                checked += 1
    events = [h.event for h in history[1:]]
    assert checked > 50 and kinds(events, "wasted_wakeup") and kinds(events, "workers_resumed")
    # a worker preempted at the end of its slice (it took datagram after datagram without
    # sleeping) shows what it was charged for that slice at its next sendto or recvfrom (only
    # leaving the CPU charges, and no event said it left)
    grew = [e.worker for i, e in enumerate(events) if getattr(e, "kind", "") in ("worker_takes", "datagram_sent")
            and e.detail["vruntime"] > history[i].worker(e.worker).vruntime]
    assert grew
    assert [w.vruntime for w in sorted(snap.workers, key=lambda w: w.id)] == [p.vruntime for p in runner.procs]
    # stepping back is folding less: the figure goes back with it
    sim = Simulation(sc)
    sim.run()
    for n in (len(history) - 1, len(history) // 2, 7, 0):
        assert sim.goto(n).workers == history[n].workers
        assert sim.back().workers == history[max(0, n - 1)].workers
    # real workers report no vruntime: live snapshots have none to show
    live = snapmod.fold(snapmod.initial(), KernelEvent("worker_sleeps", 0.0, 4242, None, "", {"at": "tail"}))
    assert live.worker(4242).vruntime is None
