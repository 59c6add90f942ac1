"""The simulated kernel: byte accounting as Linux does it, and the wake-up order of each policy."""

from __future__ import annotations

import pytest
from simkit import first_sleep_order, kinds, scenario, stream, takers

from sipsim.engine.events import Datagram
from sipsim.engine.kernel_queue import (
    RMEM_DEFAULT,
    SimSocket,
    Skb,
    effective_rcvbuf,
    reuseport_index,
    skb_truesize,
)
from sipsim.engine.scenario import load_scenario
from sipsim.engine.simulation import run_scenario
from sipsim.engine.stepping import Simulation

# skb truesize measured with getsockopt(SO_MEMINFO) on Linux 6.18 over loopback (bench/simulate.py
# --calibrate repeats it): payload bytes -> bytes charged to the receive buffer.
MEASURED_TRUESIZE = {0: 832, 150: 832, 197: 832, 198: 1280, 500: 1280, 645: 1280, 646: 2304, 1500: 2304,
                     1669: 2304, 1670: 4352, 3717: 4352, 3718: 8448, 7813: 8448, 7814: 16640, 16004: 16640,
                     16005: 16837, 16100: 16932, 32766: 33598, 65000: 65832}


@pytest.mark.parametrize("payload,charged", sorted(MEASURED_TRUESIZE.items()))
def test_truesize_matches_linux(payload: int, charged: int) -> None:
    assert skb_truesize(payload) == charged


def fill(so_rcvbuf: int | None, payload: int, offered: int = 3000) -> int:
    sock = SimSocket(0, effective_rcvbuf(so_rcvbuf))
    return sum(sock.enqueue(Skb(Datagram(b"x" * payload, ("192.0.2.1", 5060), ("127.0.0.1", 5060), i),
                                skb_truesize(payload))) for i in range(offered))


@pytest.mark.parametrize("so_rcvbuf,payload,accepted", [
    # what the real kernel accepted on the same machine before any read (measured):
    (None, 100, 256), (None, 500, 166), (None, 1500, 92), (None, 32000, 6),
    (8192, 100, 19), (8192, 500, 12), (8192, 1500, 7), (8192, 32000, 1),
    (65536, 100, 157), (65536, 500, 102), (65536, 1500, 56), (65536, 32000, 3),
])
def test_receive_buffer_capacity_matches_linux(so_rcvbuf: int | None, payload: int, accepted: int) -> None:
    assert fill(so_rcvbuf, payload) == accepted


# SO_RCVBUF asked -> getsockopt(SO_RCVBUF) read back, measured on Linux 6.18 x86-64: doubled, with
# the floor SOCK_MIN_RCVBUF = 2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff)) = 2304 (4608 is the
# *send* floor, SOCK_MIN_SNDBUF)
MEASURED_RCVBUF = {1: 2304, 1000: 2304, 1152: 2304, 1153: 2306, 2000: 4000, 4096: 8192, 65536: 131072}


def test_so_rcvbuf_is_doubled_with_the_kernel_floor_and_default_is_rmem_default() -> None:
    assert effective_rcvbuf(None) == RMEM_DEFAULT == 212_992
    assert {asked: effective_rcvbuf(asked) for asked in MEASURED_RCVBUF} == MEASURED_RCVBUF


def test_so_rcvbuf_floor_matches_the_running_kernel(isolated_network: None) -> None:
    import socket

    got = {}
    for asked in (1, 1152, 1153, 2000):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, asked)
            got[asked] = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert got == {asked: effective_rcvbuf(asked) for asked in got}


def test_reuseport_hash_is_stable_and_spreads() -> None:
    sources = [(f"192.0.2.{i}", 5060 + i) for i in range(200)]
    picks = [reuseport_index(s, 4, 7) for s in sources]
    assert picks == [reuseport_index(s, 4, 7) for s in sources]
    assert set(picks) == {0, 1, 2, 3}
    assert min(picks.count(i) for i in range(4)) > 20


def test_shuffled_start_spaced_datagrams_round_robin_in_sleep_order() -> None:
    sc = scenario(seed=5, arrivals=(stream(24, spacing=0.02),))
    order = sc.worker_start_order()
    assert list(order) != sorted(order), "the seed must shuffle the start order for this test to mean anything"
    sim = Simulation(sc)
    sim.run()
    sleep = first_sleep_order(sim.events)
    assert sleep == list(order)
    assert takers(sim.events) == [sleep[i % 4] for i in range(24)]
    assert not kinds(sim.events, "worker_takes") and not kinds(sim.events, "wasted_wakeup")


def test_burst_takes_queued_data_without_sleeping_and_breaks_the_order() -> None:
    sim = Simulation(load_scenario("burst"))
    sim.run()
    sleep = first_sleep_order(sim.events)
    got = takers(sim.events)
    assert len(got) == 24
    assert got != [sleep[i % 4] for i in range(24)], "a burst must break the round-robin"
    # a worker back in recvfrom with data queued takes it at once: no worker_sleeps in between
    took = kinds(sim.events, "worker_takes")
    assert len(took) >= 8
    for ev in took:
        i = sim.events.index(ev)
        prev = [e for e in sim.events[:i] if getattr(e, "worker", None) == ev.worker
                and getattr(e, "kind", None) in ("worker_sleeps", "worker_woken", "worker_takes")]
        assert prev and prev[-1].kind != "worker_sleeps"
    # as on the real machine (linux-wake-order.md: 1001033...), one worker handles two in a row
    assert any(a == b for a, b in zip(got, got[1:], strict=False))


def test_wake_all_wastes_sleepers_minus_one_per_datagram() -> None:
    sim = Simulation(load_scenario("herd"))
    sim.run()
    queued = kinds(sim.events, "datagram_queued")
    assert len(queued) == 24
    positions = [sim.events.index(q) for q in queued] + [len(sim.events)]
    for a, b in zip(positions, positions[1:], strict=False):
        window = sim.events[a:b]
        assert len(kinds(window, "worker_wakeup")) == 4  # all four were asleep
        assert len(kinds(window, "wasted_wakeup")) == 3
    assert sim.snapshot.wasted_wakeups == 72


def test_reuseport_same_source_same_worker() -> None:
    sources = tuple((f"192.0.2.{20 + i}", 5060 + i) for i in range(8))
    sim = Simulation(scenario(policy="reuseport", arrivals=(stream(64, spacing=0.002, src=sources),)))
    sim.run()
    src_of = {ev.msg: ev.detail["src"] for ev in kinds(sim.events, "datagram_queued")}
    by_src: dict[str, set[int]] = {}
    for ev in kinds(sim.events, "worker_woken") + kinds(sim.events, "worker_takes"):
        by_src.setdefault(src_of[ev.msg], set()).add(ev.worker)
    assert len(by_src) == 8
    assert all(len(ws) == 1 for ws in by_src.values()), by_src
    assert len(set().union(*by_src.values())) > 1


def test_reuseport_busy_source_fills_its_own_socket() -> None:
    r = run_scenario(load_scenario("reuseport"))  # a 12,000/s trunk and six phones
    handled = sorted(w["handled"] for w in r.metrics.summary()["workers"])
    assert r.metrics.drops > 100  # one socket takes the whole trunk and overflows ...
    assert handled[-1] + r.metrics.drops >= 1200 and handled[0] < 20  # ... while another worker idles
    shared = run_scenario(load_scenario("reuseport").with_overrides(policy="fifo"))
    assert shared.metrics.drops == 0  # one shared socket: all four workers share the load


def test_lifo_gives_a_different_wrong_order() -> None:
    fifo = Simulation(load_scenario("fifo-spaced"))
    fifo.run()
    lifo = Simulation(load_scenario("fifo-spaced").with_overrides(policy="lifo"))
    lifo.run()
    assert takers(fifo.events) == [1, 0, 2, 3] * 6
    assert takers(lifo.events) != takers(fifo.events)
    assert set(takers(lifo.events)) == {3}  # the most recent sleeper is woken every time


def test_paused_sleeper_leaves_the_wait_queue_and_rejoins_at_the_tail() -> None:
    from sipsim.engine.scenario import Pause

    sc = scenario(start_order=(0, 1, 2, 3), arrivals=(stream(8, spacing=0.01),),
                  pauses=(Pause(0.005, 0.035, (0,)),))
    sim = Simulation(sc)
    sim.run()
    # W0 (first in line) is stopped during the first three datagrams: the others take them in turn;
    # back in recvfrom after SIGCONT it queues behind W1, W2, W3 and gets the 7th
    assert takers(sim.events) == [1, 2, 3, 1, 2, 3, 0, 1]
    resumed = kinds(sim.events, "workers_resumed")[0]
    after = sim.events[sim.events.index(resumed) + 1]
    assert after.kind == "worker_sleeps" and after.worker == 0 and after.detail["wait_queue"] == (1, 2, 3, 0)


def test_woken_workers_wait_for_a_cpu() -> None:
    two = scenario(workers=2, start_order=(0, 1), arrivals=(stream(2),))  # two datagrams at the same instant
    one = Simulation(two.with_overrides(cpus=1))
    one.run()
    both = Simulation(two)
    both.run()
    assert takers(both.events) == [0, 1] and not kinds(both.events, "wasted_wakeup")
    # one CPU: W1 is woken but cannot run; W0 finishes, finds #2 queued and takes it; W1 finds nothing
    assert takers(one.events) == [0, 0]
    assert [ev.worker for ev in kinds(one.events, "worker_takes")] == [0]
    assert [ev.worker for ev in kinds(one.events, "wasted_wakeup")] == [1]


def test_step_costs_and_worker_speed_set_virtual_time() -> None:
    from sipsim.engine.events import StepEvent

    def gap(sc: object, worker: int) -> float:
        sim = Simulation(sc)
        sim.run()
        i = next(k for k, e in enumerate(sim.events) if isinstance(e, StepEvent) and e.step == "parse_msg"
                 and e.worker == worker)
        return round(sim.times[i] - sim.times[i - 1], 9)  # parse_msg's cost: after receive_msg's event

    base = scenario(workers=2, start_order=(0, 1), costs=(("parse_msg", 0.001),), arrivals=(stream(1),))
    assert gap(base, 0) == 0.001
    slow_w1 = scenario(workers=2, start_order=(1, 0), costs=(("parse_msg", 0.001),), speeds=(1.0, 3.0),
                       arrivals=(stream(1),))
    assert gap(slow_w1, 1) == 0.003  # W1 sleeps first, takes the datagram, runs 3 times slower


def test_so_rcvbuf_request_is_capped_before_doubling_as_linux_does() -> None:
    # sk_setsockopt: min(val, rmem_max); __sock_set_rcvbuf: min(val, INT_MAX / 2) * 2 — sk_rcvbuf
    # stays a positive int even when rmem_max was raised past it
    huge = 2**31 - 1
    assert effective_rcvbuf(huge, huge) == effective_rcvbuf(2**30, huge) == 2 * ((2**31 - 1) // 2) == 2_147_483_646
    assert effective_rcvbuf(2**30 - 1, huge) == 2**31 - 2
    # a stock kernel (rmem_max 212992) quietly gives at most 425984, whatever was asked
    assert effective_rcvbuf(10_000_000) == effective_rcvbuf(huge) == effective_rcvbuf(212_993) == 425_984
    assert effective_rcvbuf(212_991) == 425_982


@pytest.mark.parametrize("cpus,slice_ms", [(1, 0.75), (2, 1.5), (4, 2.25), (8, 3.0), (16, 3.0), (64, 3.0)])
def test_default_time_slice_scales_like_linux_up_to_eight_cpus(cpus: int, slice_ms: float) -> None:
    # sysctl_sched_base_slice = 0.75 ms * (1 + ilog2(min(online CPUs, 8)))
    assert scenario(cpus=cpus).time_slice() == pytest.approx(slice_ms / 1000)


def test_a_worker_yields_its_cpu_after_the_default_slice_on_a_big_machine() -> None:
    from sipsim.engine.simulation import DEFAULT_COSTS, KERNEL_COSTS

    # 17 workers on 16 CPUs, every pipeline step 1 ms: the 17th woken worker waits in the run-queue
    # until one of the 16 running ones has used its slice (3 ms on 16 CPUs, as on 8) and yields
    slow = tuple((step, 0.001) for step in DEFAULT_COSTS["ser"] if step not in KERNEL_COSTS)
    sc = scenario(workers=17, cpus=16, start_order=tuple(range(17)), costs=slow, arrivals=(stream(17),))
    sim = Simulation(sc)
    sim.run()
    at = {(ev.kind, ev.worker): sim.times[i] for i, ev in enumerate(sim.events)
          if getattr(ev, "kind", "") in ("worker_wakeup", "worker_woken")}
    waited = at[("worker_woken", 16)] - at[("worker_wakeup", 16)]
    # all were woken at once; the 16 started try_to_wake_up later and yield at the first step
    # boundary a slice after that (not 3.75 ms: the default slice on 16 CPUs is 3 ms); W16, woken
    # long before, runs at once, without paying the wake-up cost a second time
    assert sc.time_slice() == 0.003
    assert abs(waited - (0.003 + KERNEL_COSTS["try_to_wake_up"])) < 1e-9, waited
