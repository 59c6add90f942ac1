"""Lesson 3's own predicate: how many datagrams the receive buffer was charged for at once.

Since reading a datagram does not give its bytes back at once (``udp_rmem_release`` batches the
release, see ``sipsim/engine/kernel_queue.py``), the queue's length is not the buffer's fill: a
datagram already read can still be charged. The ``datagram_queued`` event's ``rmem`` detail is
``sk_rmem_alloc`` — queued and not-yet-released bytes together — so dividing it by the
datagram's charge gives the datagrams' worth the buffer held (exact when, as in this lesson, all
datagrams have the same size).
"""

from __future__ import annotations

from sipsim.engine.events import DATAGRAM_QUEUED
from sipsim.lessons.judge import Observation
from sipsim.lessons.predicates import predicate
from sipsim.lessons.view import RunView


@predicate("lesson3_most_charged")
def most_charged(view: RunView) -> Observation:
    """The most datagrams' charges the receive buffer held at once (queued, or read and not released)."""
    most, queued, held = 0, 0, 0
    for ev in view.kernel_events(DATAGRAM_QUEUED):
        charge = int(ev.detail.get("charge", 0)) or 1
        n = int(ev.detail.get("rmem", 0)) // charge
        if n > most:
            most, queued, held = n, int(ev.detail.get("queued", 0)), int(ev.detail.get("held", 0)) // charge
    rcvbuf = view.final.sockets[0].rcvbuf
    return Observation(most, "number", f"the receive buffer (sk_rcvbuf {rcvbuf} bytes) was charged for at most "
                                       f"{most} datagrams at once: {queued} waiting in the queue and {held} "
                                       f"already read but not yet released.")
