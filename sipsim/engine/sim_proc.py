"""One simulated worker process, as the simulator's ``Runner`` (``simulation.py``) keeps it.

A worker is the engine's own ``udp_rcv_loop`` generator — the code live mode runs — plus what the
operating system knows of it: where it is (on a CPU, waiting for one, asleep in ``recvfrom``, held
by SIGSTOP, dead), its socket, how fast it runs, and the scheduler's bookkeeping (``vruntime``,
``exec_start``: a ``sched_fair.SchedEntity``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sipsim.engine.context import WorkerContext
from sipsim.engine.kernel_queue import SimSocket
from sipsim.engine.snapshot import Event
from sipsim.engine.udp_server import udp_rcv_loop

__all__ = ["CPU", "DEAD", "HELD", "NEW", "RUNQ", "SLEEP", "Proc"]

# where a simulated worker process is
NEW, CPU, RUNQ, SLEEP, HELD, DEAD = range(6)


class Proc:
    """One simulated worker process: its generator, what it yielded last, where it is, and what the
    scheduler knows of it (a ``sched_fair.SchedEntity``)."""

    __slots__ = ("id", "ctx", "gen", "item", "where", "sock", "speed", "cont", "ready", "exec_start", "vruntime",
                 "order", "pause")

    def __init__(self, wid: int, ctx: WorkerContext, sock: SimSocket, speed: float) -> None:
        self.id = wid
        self.ctx = ctx
        self.gen = udp_rcv_loop(ctx)
        self.item: Any = None
        self.where = NEW
        self.sock = sock
        self.speed = speed
        self.cont: Callable[[Proc], Event | None] | None = None  # what it does when it gets a CPU
        self.ready = 0.0  # ... not before this time (a woken worker: the wake-up + try_to_wake_up)
        self.exec_start = 0.0  # when it started running on its CPU (its slice and vruntime count from then)
        self.vruntime = 0  # ns of CPU charged
        self.order = 0  # when it became runnable
        self.pause = 0  # nesting depth of pause windows
