"""One immutable view of the position the app is at — what every panel draws.

The app builds a :class:`View` each time the cursor moves (or the live stream grows) and hands
the same object to every panel; panels never ask the simulation or the server anything that
could change it. A view is a pure function of the source's history, the position and a few UI
choices (breakpoints, a pinned worker), so stepping to *k* and going back to *k − 1* draws exactly
what going straight to *k − 1* draws.

One exception, live only: ``cpu_ns``, each real worker's CPU time as ``/proc`` said it at the
last read. It is side information about *now* (not an event, not in the history), so it is the
same at every position; the workers panel takes a fresher copy of it between redraws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sipsim.engine.snapshot import Event, MessageView, Snapshot, WorkerView
from sipsim.tui.history import MsgInfo
from sipsim.tui.sources import Source


@dataclass(frozen=True)
class View:
    source: Source
    pos: int
    snap: Snapshot
    event: Event | None
    focus: MsgInfo | None  # the datagram the screen is about
    mview: MessageView | None  # what its worker knew about it at this position
    waiting: Mapping[int, dict[str, Any]] = field(default_factory=dict)  # live-step: held workers
    breakpoints: frozenset[str] = frozenset()
    pinned: int | None = None
    cpu_ns: Mapping[int, int] = field(default_factory=dict)  # live: pid -> CPU time (ns) now; sim: empty

    @property
    def live(self) -> bool:
        return self.source.live

    @property
    def profile(self) -> str:
        return self.source.profile

    def wname(self, wid: int | None) -> str:
        if wid is None:
            return "–"
        return str(wid) if self.source.live else f"W{wid}"

    def mname(self, msg_id: int | None) -> str:
        """``#7`` in the simulator; live, the number the TUI gave the datagram in arrival order (the
        ids, pid × 10⁹ + n, count per worker: two workers' first datagrams were both "#1")."""
        return mname(self.source, msg_id)

    @property
    def time(self) -> float:
        return self.source.time_at(self.pos)

    def holder(self) -> WorkerView | None:
        """The worker holding the focused datagram now (None once it went back to recvfrom)."""
        if self.focus is None:
            return None
        for w in self.snap.workers:
            if w.msg is not None and w.msg.id == self.focus.id:
                return w
        return None

    def parse_done(self) -> bool:
        return self.mview is not None and "parse_msg" in self.mview.steps


def build_view(source: Source, pos: int, *, breakpoints: frozenset[str] = frozenset(),
               pinned: int | None = None) -> View:
    snap = source.snapshot_at(pos)
    event = source.event_at(pos)
    focus_id = None
    if pinned is not None:
        w = snap.worker(pinned)
        if w is not None and w.msg is not None:
            focus_id = w.msg.id
        else:
            focus_id = _last_msg_of(source, pinned, pos)
    if focus_id is None:
        focus_id = source.history.focus_msg(pos)
    focus = source.msg(focus_id)
    mview = source.message_view(focus, pos) if focus is not None else None
    if mview is not None:
        snap = source.snapshot_at(pos)  # message_view may have looked at an earlier position
    return View(source, pos, snap, event, focus, mview, source.waiting, breakpoints, pinned, source.cpu_ns)


def _last_msg_of(source: Source, worker: int, pos: int) -> int | None:
    found = source.find(lambda ev: ev.worker == worker and ev.msg is not None, backwards=True, limit=5000) \
        if pos == source.position else None
    if found is None:
        return None
    ev = source.event_at(found)
    return ev.msg if ev is not None else None


def mname(source: Any, msg_id: int | None) -> str:
    """A datagram's name on screen (see :meth:`View.mname`); panels without a view use it too."""
    if msg_id is None:
        return "#?"
    if source.live and msg_id >= 10**9:
        label = getattr(source, "msg_label", None)
        return label(msg_id) if label is not None else f"#{msg_id % 10**9}@{msg_id // 10**9}"
    return f"#{msg_id}"
