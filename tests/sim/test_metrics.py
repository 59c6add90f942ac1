"""Metrics against an independent oracle: the snapshots folded from the same events.

``Metrics`` keeps counters as the events go by; the snapshots keep the whole state. Where both
describe the same thing (who is on the wait-queue, what each socket holds), they must agree.
"""

from __future__ import annotations

from simkit import scenario, stream

from sipsim.engine.scenario import Pause, load_scenario
from sipsim.engine.simulation import run_scenario
from sipsim.engine.stepping import Simulation


def snapshots(sim: Simulation) -> list:
    sim.run()
    return [sim.snapshot_at(i) for i in range(1, len(sim.events) + 1)]


def test_a_pause_empties_the_wait_queue_in_the_metrics_too() -> None:
    # paused-proxy: all four workers stopped from 40 ms to 2.6 s, out of a 2.9 s run
    sc = load_scenario("paused-proxy")
    sim = Simulation(sc)
    snaps = snapshots(sim)
    m = run_scenario(sc).metrics.summary()["wait_queue"]
    # the time-weighted mean length of the snapshots' wait-queue, from the first sleeper on
    first = next(i for i, s in enumerate(snaps) if s.wait_queue)
    area = sum(len(snaps[i].wait_queue) * (sim.times[i + 1] - sim.times[i]) for i in range(first, len(snaps) - 1))
    mean = area / (sim.times[-1] - sim.times[first])
    assert mean < 1.0  # nobody sleeps in recvfrom while stopped
    assert abs(m["mean"] - mean) < 1e-9 and m["max"] == 4
    at_pause = [v for t, v in m["series"] if t == sc.pauses[0].start]
    assert at_pause and at_pause[-1] == 0


def test_only_the_stopped_sleepers_leave_the_wait_queue() -> None:
    sc = scenario(start_order=(0, 1, 2, 3), arrivals=(stream(4, spacing=0.01),), pauses=(Pause(0.005, 0.05, (0, 2)),))
    sim = Simulation(sc)
    snaps = snapshots(sim)
    m = run_scenario(sc).metrics.summary()["wait_queue"]
    t_pause = sc.pauses[0].start
    during = [len(s.wait_queue) for s, t in zip(snaps, sim.times, strict=True) if t == t_pause]
    assert during[-1] == 2
    assert [v for t, v in m["series"] if t == t_pause][-1] == 2


def test_each_reuseport_socket_reports_its_own_queue_and_drops() -> None:
    sc = load_scenario("reuseport").with_overrides(count=400)  # the trunk still overflows its socket
    sim = Simulation(sc)
    snaps = snapshots(sim)
    r = run_scenario(sc)
    per = {s["socket"]: s for s in r.metrics.summary()["socket_queue"]["sockets"]}
    rcvbuf = r.rcvbuf
    for k in range(len(snaps[0].sockets)):
        # the metric is the queue's: bytes of the datagrams waiting (the snapshot's rmem is the kernel's
        # sk_rmem_alloc, which also counts datagrams read and not yet released)
        bytes_max = max(sum(q.charge for q in s.sockets[k].queue) for s in snaps)
        depth_max = max(len(s.sockets[k].queue) for s in snaps)
        drops = snaps[-1].sockets[k].drops
        got = per.get(k, {"max_datagrams": 0, "max_bytes": 0, "drops": 0})
        assert (got["max_datagrams"], got["max_bytes"], got["drops"]) == (depth_max, bytes_max, drops), k
        assert got["max_bytes"] <= rcvbuf  # each socket has its own buffer; none exceeds it
    assert sum(s["drops"] for s in per.values()) == r.metrics.drops > 0
    # the trunk's socket filled up: the kernel's own count (sk_rmem_alloc: queued bytes, plus bytes
    # read but not yet released, which the queue depth leaves out) reached the top when it dropped
    full = max(e.detail["rmem"] for e in sim.events if getattr(e, "kind", "") == "datagram_dropped")
    assert rcvbuf - 1280 < full <= rcvbuf
