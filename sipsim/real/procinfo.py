"""What the kernel says about a worker process (``/proc``) — and about sipp's statistics file.

``asleep_in_recvfrom(pid)``: the process is in state S with a wait channel in the socket receive
path (``__skb_wait_for_more_packets`` on recent kernels). Tests, benchmarks and lesson 12 wait for
every worker to be asleep before sending the next datagram, so the order they observe is the
kernel's wake order, not the scheduler's luck on a 2-core machine.

``schedstat_ns(pid)``: the CPU time the scheduler has charged the process (the TUI's live Workers
panel and ``bench/live.py`` read it).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    """``/proc/PID/stat`` after the command name (which may hold spaces and parentheses): [0] is
    the state (R, S, Z …), [1] the parent's pid. None: no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def asleep_in_recvfrom(pid: int) -> bool:
    fields = stat_fields(pid)
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read().strip()
    except OSError:
        return False
    return fields is not None and fields[0] == "S" and ("wait_for_more_packets" in wchan or "recv" in wchan)


def wait_all_asleep(pids: Iterable[int], timeout: float = 5.0) -> bool:
    """Poll until every pid sleeps in recvfrom; False if ``timeout`` passes first."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(asleep_in_recvfrom(p) for p in pids):
            return True
        time.sleep(0.002)
    return False


def schedstat_ns(pid: int) -> int | None:
    """``se.sum_exec_runtime`` of ``pid``: the first field of ``/proc/PID/schedstat`` (nanoseconds
    on a CPU, exact — not utime/stime's 10 ms ticks), or None when the process is gone or the kernel
    does not say (no CONFIG_SCHED_INFO)."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wchan(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return "gone"


def sipp_counters(stat_file: Path | str) -> dict[str, int]:
    """The cumulative counters (``...(C)`` columns) of the last row of a sipp ``-trace_stat`` file."""
    with open(stat_file, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    out: dict[str, int] = {}
    if not rows:
        return out
    for k, v in zip(rows[0], rows[-1], strict=False):
        if k.endswith("(C)"):
            try:
                out[k[:-3]] = int(v)
            except ValueError:
                pass
    return out
