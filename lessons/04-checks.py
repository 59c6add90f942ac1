"""Lesson 4's own predicate: what the herd's wasted wake-ups cost in CPU time.

The simulator charges every wake-up that finds the queue empty a context switch and an empty pass
of ``recvfrom`` (``sipsim/engine/costs.py`` says how they were measured) and reports it in the
``wasted_wakeup`` event's ``cpu`` detail; this adds them up.
"""

from __future__ import annotations

from sipsim.engine.events import WASTED_WAKEUP
from sipsim.lessons.judge import Observation
from sipsim.lessons.predicates import predicate
from sipsim.lessons.view import RunView


@predicate("lesson4_wasted_cpu")
def wasted_cpu(view: RunView, per_datagram: bool = False) -> Observation:
    """CPU time spent on wake-ups that found the queue empty, in µs (in total, or per datagram handled)."""
    events = view.kernel_events(WASTED_WAKEUP)
    total = sum(float(ev.detail.get("cpu", 0.0)) for ev in events) * 1e6
    handled = len(view.handled())
    if per_datagram:
        each = round(total / handled, 2) if handled else 0.0
        return Observation(each, "number", f"{len(events)} wasted wake-ups cost {total:.1f} µs of CPU for "
                                           f"{handled} datagrams: {each:g} µs each.")
    total = round(total, 2)
    return Observation(total, "number", f"{len(events)} wasted wake-ups cost {total:g} µs of CPU "
                                        f"({handled} datagrams handled).")
