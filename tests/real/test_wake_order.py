"""The real kernel: workers blocked in recvfrom on one socket are woken strictly first-come first-served.

Four workers, 24 OPTIONS 20 ms apart. Before each datagram the test waits until every worker is
asleep in the kernel (/proc/PID/stat state S, wait channel in the socket receive path), so on two
cores the order is the kernel's, not the scheduler's luck. The answer: strict round-robin in the
order the workers first went to sleep (reference: linux-wake-order.md).
"""

from __future__ import annotations

import pytest
from live_harness import record_live_order

pytestmark = pytest.mark.network


def test_real_kernel_wakes_sleepers_round_robin(tmp_path, isolated_network):
    pids, first_sleep, takers = record_live_order(tmp_path, workers=4, count=24, gap=0.02)
    assert sorted(first_sleep) == sorted(pids), "every worker went to sleep in recvfrom once at start"
    assert len(takers) == 24, takers
    expected = [first_sleep[i % 4] for i in range(24)]
    assert takers == expected, f"sleep order {first_sleep}, taken by {takers}"
