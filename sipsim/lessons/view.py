"""A lesson's view of a simulation: every datagram by what it is, and what happened to it.

Anchors and checks speak about messages the way a learner does — "the INVITE", "the 180",
"the datagram labelled *no via*", "alice's ACK" — never by event numbers. :class:`MessageIndex`
learns each datagram's identity from the kernel's ``datagram_queued``/``datagram_dropped`` event
(first line, source, the arrival stream's label, the peer that sent it) and collects, per datagram,
the events that concern it: which worker took it and how, its pipeline steps, what was sent
because of it. :class:`RunView` adds the run-wide facts (sleep order, final snapshot, peers,
Kamailio's core statistics) for the predicates in ``predicates.py``.

The index grows with the event list (the simulation computes lazily), so the session can resolve
anchors while the run is still being computed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    DATAGRAM_QUEUED,
    DATAGRAM_SENT,
    WORKER_SLEEPS,
    WORKER_TAKES,
    WORKER_WOKEN,
    KernelEvent,
    StepEvent,
    format_addr,
)
from sipsim.lessons.model import LessonError

if TYPE_CHECKING:
    from sipsim.engine.snapshot import Event, Snapshot
    from sipsim.engine.stepping import Simulation


@dataclass
class MsgInfo:
    """One datagram that reached the proxy's socket, and what became of it."""

    id: int
    first_line: str = ""
    src: str = ""
    label: str = ""
    peer: str = ""
    note: str = ""
    size: int = 0
    dropped_by_kernel: bool = False
    retransmission: bool = False
    taker: int | None = None  # the worker recvfrom returned it to
    slept: bool | None = None  # True: woken from the wait-queue; False: taken without sleeping
    steps: list[StepEvent] = field(default_factory=list)
    sent: list[KernelEvent] = field(default_factory=list)

    @property
    def method(self) -> str:
        """The request's method ("" for a reply)."""
        tok = self.first_line.split(" ", 1)[0]
        return "" if tok.upper().startswith("SIP/") else tok.upper()

    @property
    def status(self) -> int | None:
        """The reply's status code (None for a request)."""
        parts = self.first_line.split(" ", 2)
        if parts[0].upper().startswith("SIP/") and len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
        return None

    @property
    def short(self) -> str:
        """``INVITE`` or ``180`` — how a ladder labels it."""
        if self.status is not None:
            return str(self.status)
        return self.method or (self.first_line[:20] or "(empty)")

    def describe(self) -> str:
        what = self.first_line or (f"{self.size} bytes, no first line" if self.size else "an empty datagram")
        extra = f", {self.label}" if self.label and self.label.casefold() not in what.casefold() else ""
        return f"#{self.id} ({what}{extra})"

    @property
    def final(self) -> StepEvent | None:
        """The step that decided its fate (the last one carrying an outcome)."""
        for ev in reversed(self.steps):
            if ev.outcome is not None:
                return ev
        return None


class MessageIndex:
    """Datagram id → :class:`MsgInfo`, kept up to date with a growing event list."""

    def __init__(self) -> None:
        self.msgs: dict[int, MsgInfo] = {}
        self.sleep_order: list[int] = []
        self._seen = 0

    def update(self, events: Sequence[Event]) -> None:
        for ev in events[self._seen:]:
            self.add(ev)
        self._seen = max(self._seen, len(events))

    def learn(self, ev: Event) -> None:
        """Record only a datagram's identity from its arrival event (idempotent: safe to call on
        events already seen, as an anchor search that starts over does)."""
        if type(ev) is KernelEvent and ev.kind in (DATAGRAM_QUEUED, DATAGRAM_DROPPED) and ev.msg not in self.msgs:
            self.add(ev)

    def add(self, ev: Event) -> None:
        """Record one event; each event must be added once, in order (``update`` does that)."""
        if type(ev) is StepEvent:
            info = self.msgs.get(ev.msg)
            if info is None:  # live streams have no arrival event
                info = self.msgs[ev.msg] = MsgInfo(ev.msg)
            info.steps.append(ev)
            if ev.step == "recvfrom" and not info.src:
                info.src = str(ev.detail.get("src", ""))
            return
        kind = ev.kind
        if kind in (DATAGRAM_QUEUED, DATAGRAM_DROPPED) and ev.msg is not None:
            d = ev.detail or {}
            self.msgs[ev.msg] = MsgInfo(
                ev.msg, first_line=str(d.get("first_line", "")), src=str(d.get("src", "")),
                label=str(d.get("stream", "")), peer=str(d.get("peer") or ""), note=str(d.get("note", "")),
                size=int(d.get("len", 0)), dropped_by_kernel=kind == DATAGRAM_DROPPED,
                retransmission=bool(d.get("retransmission")))
        elif kind in (WORKER_WOKEN, WORKER_TAKES) and ev.msg is not None:
            info = self.msgs.setdefault(ev.msg, MsgInfo(ev.msg))
            if info.taker is None:
                info.taker, info.slept = ev.worker, kind == WORKER_WOKEN
        elif kind == DATAGRAM_SENT and ev.msg is not None:
            info = self.msgs.get(ev.msg)
            if info is not None:
                info.sent.append(ev)
        elif kind == WORKER_SLEEPS and ev.worker is not None and ev.worker not in self.sleep_order:
            self.sleep_order.append(ev.worker)

    # -- selecting messages -------------------------------------------------------------------------
    def matches(self, info: MsgInfo, sel: dict[str, Any]) -> bool:
        """Whether ``info`` is what every filter of ``sel`` asks for (msg, method, status, label, peer, src)."""
        for key, want in sel.items():
            if key == "nth":
                continue
            wants = want if isinstance(want, list) else [want]
            if key == "msg":
                ok = info.id in wants
            elif key == "method":
                ok = info.method in {str(w).upper() for w in wants}
            elif key == "status":
                ok = info.status in {int(w) for w in wants}
            elif key == "label":
                ok = info.label in wants
            elif key == "peer":
                ok = info.peer in wants
            elif key == "src":
                ok = any(info.src == w or info.src.split(":")[0] == w for w in map(str, wants))
            else:
                raise LessonError(f"unknown message filter {key!r} (use msg, method, status, label, peer, src, nth)")
            if not ok:
                return False
        return True

    def select(self, sel: Any) -> list[MsgInfo]:
        """Every datagram a selector names, in arrival order.

        A selector is a datagram id (``5``), a range (``"1-8"``), a list of ids, an arrival stream's
        label (``"no via"``), ``"all"``, or a table of filters (``{method = "INVITE"}``, plus ``nth``
        to keep only the nth match).
        """
        ordered = [self.msgs[k] for k in sorted(self.msgs)]
        if sel is None or sel == "all":
            return ordered
        if isinstance(sel, bool):
            raise LessonError(f"bad message selector {sel!r}")
        if isinstance(sel, int):
            return [self.msgs[sel]] if sel in self.msgs else []
        if isinstance(sel, list):
            out: list[MsgInfo] = []
            for s in sel:
                out.extend(x for x in self.select(s) if x not in out)
            return out
        if isinstance(sel, str):
            m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", sel)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                return [i for i in ordered if lo <= i.id <= hi]
            if sel.isdigit():
                return self.select(int(sel))
            return [i for i in ordered if i.label == sel]
        if isinstance(sel, dict):
            found = [i for i in ordered if self.matches(i, sel)]
            nth = sel.get("nth")
            if nth is not None:
                return found[nth - 1:nth] if isinstance(nth, int) and nth >= 1 else []
            return found
        raise LessonError(f"bad message selector {sel!r}")

    def one(self, sel: Any) -> MsgInfo:
        """The first datagram a selector names (LessonError when none)."""
        found = self.select(sel)
        if not found:
            from sipsim.lessons.anchors import datagrams_summary

            raise LessonError(f"no datagram matches {sel!r} in this simulation ({datagrams_summary(self)})")
        return found[0]


class RunView:
    """A whole run (a simulation computed to its end) as the predicates read it."""

    def __init__(self, sim: Simulation, *, complete: bool = True) -> None:
        self.sim = sim
        if complete:
            sim.snapshot_at(1 << 62)  # computes every event, without moving the learner's cursor
        self.events = sim.events
        self.index = MessageIndex()
        self.index.update(self.events)
        self._by_stream: dict[str, list[bytes]] | None = None

    @property
    def scenario(self) -> Any:
        return self.sim.scenario

    @property
    def final(self) -> Snapshot:
        return self.sim.snapshot_at(len(self.events))

    def msg(self, sel: Any) -> MsgInfo:
        return self.index.one(sel)

    def msgs(self, sel: Any) -> list[MsgInfo]:
        return self.index.select(sel)

    def handled(self, sel: Any = None) -> list[MsgInfo]:
        """Datagrams a worker took (in arrival order)."""
        return [m for m in self.msgs(sel) if m.taker is not None]

    @property
    def sleep_order(self) -> list[int]:
        return self.index.sleep_order

    def kernel_events(self, kind: str) -> list[KernelEvent]:
        return [ev for ev in self.events if type(ev) is KernelEvent and ev.kind == kind]

    def datagram(self, msg: MsgInfo) -> bytes | None:
        """The bytes of a datagram the scenario's arrival streams sent (None for a peer's or an
        injected one). The j-th datagram of a stream in this run is the stream's j-th arrival:
        both are in time order, and the kernel queues in arrival order."""
        if self._by_stream is None:
            self._by_stream = {}
            for a in self.scenario.iter_arrivals():
                self._by_stream.setdefault(dict(a.meta).get("stream", ""), []).append(a.data)
        if not msg.label or msg.label not in self._by_stream:
            return None
        same = [m.id for m in self.msgs("all") if m.label == msg.label]
        k = same.index(msg.id)
        datas = self._by_stream[msg.label]
        if k >= len(datas) or len(datas[k]) != msg.size:
            return None
        return datas[k]

    def sent_bytes(self, msg: MsgInfo) -> list[tuple[str, bytes]]:
        """What the proxy put on the wire because of ``msg``: (destination, bytes), in send order.
        Read from the simulation's wire record, so a check sees the datagram that really left —
        not a lump that was recorded too late to be in it."""
        out = []
        for r in self.sim.wire(len(self.events)):
            if r.direction == "out" and r.msg == msg.id:
                out.append((format_addr(r.dst), r.data))  # [v6]:port for an IPv6 destination
        return out

    def peer(self, name: str) -> Any:
        for p in self.sim.runner.peers:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.sim.runner.peers) or "none"
        raise LessonError(f"no peer named {name!r} in this scenario (peers: {names})")

    def core_stats(self) -> dict[str, int]:
        return self.sim.runner.totals().snapshot()


def worker_name(w: int | None) -> str:
    return "nobody" if w is None else f"W{w}"
