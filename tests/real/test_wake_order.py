"""The real kernel: workers blocked in recvfrom on one socket are woken strictly first-come first-served.

Four workers, 24 OPTIONS 20 ms apart. Before each datagram the test waits until every worker is
asleep in the kernel (/proc/PID/stat state S, wait channel in the socket receive path), so on two
cores the order is the kernel's, not the scheduler's luck. The answer: strict round-robin in the
order the workers first went to sleep (reference: linux-wake-order.md) — and the simulator, given
the same scenario and the same sleep order, predicts exactly the same takers.
"""

from __future__ import annotations

import pytest
from live_harness import record_live_order

from sipsim.engine.scenario import load_scenario
from sipsim.engine.simulation import run_scenario

pytestmark = pytest.mark.network


def simulated_takers(start_order: list[int], count: int) -> list[int]:
    """The simulator's prediction: slot index (0..3) of the worker that takes each datagram."""
    sc = load_scenario("fifo-spaced").with_overrides(workers=4, count=count, start_order=start_order)
    takers: list[int] = []

    def trace(ev, t):  # noqa: ANN001, ANN202
        if getattr(ev, "kind", None) in ("worker_woken", "worker_takes"):
            takers.append(ev.worker)

    run_scenario(sc, trace=trace)
    return takers


def test_real_kernel_wakes_sleepers_round_robin_as_the_simulator_predicts(tmp_path, isolated_network):
    pids, first_sleep, takers = record_live_order(tmp_path, workers=4, count=24, gap=0.02)
    assert sorted(first_sleep) == sorted(pids), "every worker went to sleep in recvfrom once at start"
    assert len(takers) == 24, takers
    expected = [first_sleep[i % 4] for i in range(24)]
    assert takers == expected, f"sleep order {first_sleep}, taken by {takers}"

    # The same scenario in the simulated kernel: workers numbered by slot, started in the sleep order
    # the real kernel showed. Its takers, mapped back to pids, must be the real ones.
    slot_of = {pid: slot for slot, pid in enumerate(pids)}
    predicted = simulated_takers([slot_of[p] for p in first_sleep], 24)
    assert [pids[w] for w in predicted] == takers
