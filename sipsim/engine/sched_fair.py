"""The simulated CPUs' run-queue: Linux's fair scheduling class, reduced to what decides which
runnable worker gets a free CPU.

Why it matters here. With ``wake-all`` every sleeper becomes runnable at once. A woken worker
that finds an idle CPU just runs (Linux's wake-up path picks an idle CPU for it): the first woken
— the most recent sleeper, usually the last winner — wins again. But the CPU that delivers the
datagram, or every CPU when all are busy, is given out by the scheduler's choice, and Linux runs
the task that has had the least CPU: on one CPU the last winner runs last and the winner rotates
(measured on Linux 6.18 with the herd pinned to one CPU: ``0123 0123 …``).

The model (Linux's names, ``kernel/sched/fair.c``, so a learner can look them up):

* every worker (a *scheduling entity*) has a ``vruntime``: the CPU time it was charged, in
  nanoseconds (every worker has the same weight, nice 0, so virtual time is CPU time). A worker is
  charged from the moment it starts running on a CPU (``exec_start``) until it leaves it —
  sleeping in ``recvfrom``, yielding at the end of its slice, stopped, or dead (``update_curr``);
* the run-queue keeps ``min_vruntime``: the smallest vruntime among the running and the waiting
  workers, never moving backwards (``update_min_vruntime``);
* a worker that wakes up — the kernel woke it from ``recvfrom``, or SIGCONT — is placed
  (``place_entity``): its vruntime is raised to at least ``min_vruntime`` minus a *sleeper
  credit* of half of ``sysctl_sched_latency``, 3 ms × (1 + ⌊log₂ min(cpus, 8)⌋) — CFS's
  ``GENTLE_FAIR_SLEEPERS``. A worker that slept a long time is thus owed a little CPU, not all
  the CPU the others used meanwhile; a newly forked worker starts at ``min_vruntime``. This
  placement is CFS's (Linux up to 6.5): EEVDF removed the sleeper credit (below), so on 6.6+
  it is a model of the effect, not the kernel's rule;
* a free CPU takes the waiting worker with the lowest vruntime (``pick_next_entity``: CFS's
  leftmost task); ties go to the one that has waited longest (the order it became runnable).
  With a free CPU for every waiting worker there is nothing to choose: each gets one, in the
  order they became runnable (Linux's wake-up path gives a waking task an idle CPU).

Linux 6.6 replaced CFS by EEVDF (*Earliest Eligible Virtual Deadline First*): a task is
*eligible* when its lag is not negative (its vruntime is not ahead of the run-queue's weighted
average, ``avg_vruntime``), and the eligible task with the earliest virtual deadline
(vruntime + its slice) runs. With equal weights and equal slices, as here, that is the task with
the lowest vruntime — the same pick. EEVDF also places a waking task by the *lag* it had when it
went to sleep (``PLACE_LAG``, bounded by two slices or one timer tick, whichever is more), not by a
sleeper credit, and since 6.12 a task that overran its share stays on the run-queue while it
sleeps until that debt has decayed (``DELAY_DEQUEUE``), so sleeping does not wipe it out. Either
way the worker that has just handled a datagram runs after those that only woke up and went back
to sleep.

What this leaves out: one run-queue shared by all the CPUs (Linux has one per CPU, balanced by
migrations and by choosing an idle CPU for a waking task); no weights (nice), no cgroups, no
wake-up preemption (the slice rule, in the simulator, is EEVDF's ``RUN_TO_PARITY``: a running
worker keeps its CPU until its slice is used up); no ``START_DEBIT``/initial deadline for a
forked task; a worker's vruntime is charged when it leaves its CPU (and counted up to the moment
for ``min_vruntime``), not at every timer tick.
"""

from __future__ import annotations

from typing import Protocol

_NS = 1e9
SLEEPER_CREDIT = 3_000_000  # ns: sysctl_sched_latency (6 ms) / 2, before CPU scaling


def sleeper_credit(cpus: int) -> int:
    """How far below ``min_vruntime`` a waking worker may be placed, in ns: half of Linux's
    ``sysctl_sched_latency``, scaled like the slice by ``1 + ilog2(min(cpus, 8))``."""
    return SLEEPER_CREDIT * min(max(cpus, 1), 8).bit_length()


class SchedEntity(Protocol):
    """What the run-queue needs of a worker process."""

    vruntime: int  # ns of CPU charged
    exec_start: float  # virtual seconds: when it started running on its CPU
    order: int  # when it became runnable (the tie-break)


class CfsRq:
    """One run-queue for all the simulated CPUs: the waiting workers (``queue``) and the running
    ones (``curr``), with their ``min_vruntime``."""

    __slots__ = ("queue", "curr", "min_vruntime", "credit", "_order")

    def __init__(self, cpus: int) -> None:
        self.queue: list[SchedEntity] = []  # runnable, waiting for a CPU (in the order they came)
        self.curr: list[SchedEntity] = []  # running on a CPU
        self.min_vruntime = 0
        self.credit = sleeper_credit(cpus)
        self._order = 0

    # -- accounting ------------------------------------------------------------------------------
    def update_min_vruntime(self, now: float) -> int:
        """``min_vruntime`` as of ``now``: the smallest vruntime of a running (counting what it
        has run so far) or waiting worker, if any, and never less than it was."""
        low: int | None = None
        for se in self.curr:
            v = se.vruntime + (round((now - se.exec_start) * _NS) if now > se.exec_start else 0)
            if low is None or v < low:
                low = v
        for se in self.queue:
            if low is None or se.vruntime < low:
                low = se.vruntime
        if low is not None and low > self.min_vruntime:
            self.min_vruntime = low
        return self.min_vruntime

    def place_entity(self, se: SchedEntity, now: float, *, initial: bool = False) -> None:
        """A worker becomes runnable after sleeping (or, ``initial``, after fork): it may not
        lag further behind ``min_vruntime`` than the sleeper credit (a new one: not at all)."""
        floor = self.update_min_vruntime(now) - (0 if initial else self.credit)
        if se.vruntime < floor:
            se.vruntime = floor

    # -- the queue -------------------------------------------------------------------------------
    def enqueue_entity(self, se: SchedEntity) -> None:
        self._order += 1
        se.order = self._order
        self.queue.append(se)

    def dequeue_entity(self, se: SchedEntity) -> None:
        """A waiting worker leaves the queue without running (it was stopped)."""
        self.queue.remove(se)

    def pick_next_entity(self, idle: int) -> SchedEntity:
        """Take the worker the next of ``idle`` free CPUs runs. Enough CPUs for every waiting
        worker: each finds an idle one, in the order they became runnable (Linux's wake-up path
        gives a waking task an idle CPU when there is one). Fewer: the lowest vruntime (among
        equals, the one waiting longest)."""
        q = self.queue
        if idle >= len(q):
            return q.pop(0)
        best = q[0]
        for se in q:
            if se.vruntime < best.vruntime or (se.vruntime == best.vruntime and se.order < best.order):
                best = se
        q.remove(best)
        return best

    # -- the CPUs --------------------------------------------------------------------------------
    def set_next_entity(self, se: SchedEntity, start: float) -> None:
        """``se`` got a CPU; its code runs (and its CPU time counts) from ``start``."""
        se.exec_start = start
        self.curr.append(se)

    def put_prev_entity(self, se: SchedEntity, now: float) -> None:
        """``se`` leaves its CPU at ``now``: charge what it ran (``update_curr``)."""
        if now > se.exec_start:
            se.vruntime += round((now - se.exec_start) * _NS)
            se.exec_start = now
        self.update_min_vruntime(now)
        self.curr.remove(se)
