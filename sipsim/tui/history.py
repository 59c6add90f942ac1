"""What the screen needs to know about the past, indexed once as the event stream grows.

A :class:`~sipsim.engine.snapshot.Snapshot` says what the server *is* at one step; the ladder, the
event log, ``]``/``[`` and the pipeline of a finished message need what *happened*: which datagram
arrived where, which worker took it, what left the proxy and in which order. :class:`History`
keeps that, fed one event at a time by a source (simulated or live), so that every panel can be
drawn for any position without scanning the whole stream again.

It also notices two things a learner should see said in words:

* **retransmissions** — a request arriving again with the same Call-ID, CSeq and top Via branch
  (the client's timer fired: RFC 3261 Timer A/E). With the datagram's bytes this is exact. Live
  mode may not have the bytes yet; then a request with the same source, first line and size is a
  *likely* retransmission, confirmed when the proxy computes the same branch or To-tag for it
  (the branch hashes the Call-ID, CSeq and Via branch, ``char_msg_val``; the To-tag the top Via
  and the Call-ID, ``sl_tag``);
* **reordering** — a datagram that arrived at the proxy before another of the same flow (same
  source, same destination) but left after it: a stateless proxy handles each datagram in
  whichever worker takes it, so a slow worker lets a 200 overtake its 180.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    DATAGRAM_QUEUED,
    DATAGRAM_SENT,
    WORKER_SLEEPS,
    WORKER_TAKES,
    WORKER_WOKEN,
    KernelEvent,
    StepEvent,
)
from sipsim.engine.snapshot import Event
from sipsim.tui.wiretext import from_engine, line_text

DataLookup = Callable[[int], bytes | None]

_CALLID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S[^\r\n]*)", re.I | re.M)
_CSEQ = re.compile(rb"^cseq[ \t]*:[ \t]*(\d+)[ \t]+(\S+)", re.I | re.M)
_VIA_BRANCH = re.compile(rb"^(?:via|v)[ \t]*:[^\r\n]*?;[ \t]*branch[ \t]*=[ \t]*([^;,\s]+)", re.I | re.M)


def request_key(data: bytes) -> tuple[str, str, str] | None:
    """(Call-ID, CSeq, top Via branch) of a request — what makes a retransmission the same request."""
    if data[:4].upper() == b"SIP/":
        return None
    head = data.split(b"\r\n\r\n", 1)[0]
    cid, cseq, via = _CALLID.search(head), _CSEQ.search(head), _VIA_BRANCH.search(head)
    if cid is None or cseq is None:
        return None
    seq = cseq.group(1) + b" " + cseq.group(2)
    return (_key(cid.group(1).strip()), _key(seq), _key(via.group(1)) if via else "")


def _key(value: bytes) -> str:
    """A key that keeps every byte (two Call-IDs differing in one bad byte stay two): never shown."""
    return value.decode("utf-8", errors="surrogateescape")


def call_id_of(data: bytes | None) -> str:
    if not data:
        return ""
    m = _CALLID.search(data.split(b"\r\n\r\n", 1)[0])
    return line_text(m.group(1).strip()) if m else ""


def is_reply_line(first_line: str) -> bool:
    return first_line.startswith("SIP/")


def short_label(first_line: str) -> str:
    """``INVITE`` for a request, ``180 Ringing`` for a reply (what an arrow of the ladder says)."""
    if is_reply_line(first_line):
        return first_line.split(" ", 1)[1] if " " in first_line else first_line
    return first_line.split(" ", 1)[0] if first_line else "?"


@dataclass(slots=True)
class MsgInfo:
    """One datagram that reached the proxy, and what became of it so far."""

    id: int
    arrive: int  # position of the event where it reached the proxy (queued, dropped, or live: woken)
    src: str = ""
    first_line: str = ""
    size: int = 0
    peer: str = ""  # the sender's name in the scenario, when known
    note: str = ""  # retransmission by alice, injected …
    dropped: bool = False  # refused by the receive buffer: no worker ever saw it
    take: int | None = None  # position where a worker's recvfrom returned it
    worker: int | None = None
    slept: bool = True
    events: list[int] = field(default_factory=list)  # positions of every event about it
    sends: list[int] = field(default_factory=list)  # positions of its datagram_sent events
    retrans_of: int | None = None
    retrans_why: str = ""
    retrans_pos: int = 0  # where that was found out (live: maybe after the arrival)
    call_id: str = ""
    key: tuple[str, str, str] | None = None

    @property
    def last(self) -> int:
        return self.events[-1] if self.events else self.arrive

    @property
    def is_reply(self) -> bool:
        return is_reply_line(self.first_line)

    @property
    def label(self) -> str:
        return short_label(self.first_line)


@dataclass(slots=True)
class LadderRow:
    """One arrow of the ladder: a datagram reaching the proxy (``out`` False) or leaving it."""

    pos: int
    out: bool
    msg: int
    src: str
    dst: str
    first_line: str
    worker: int | None = None  # the worker that sent it (out rows); in rows ask MsgInfo
    peer: str = ""
    kind: str = ""  # out rows: reply | request | fwd_reply
    reordered: str = ""  # why this arrow is out of order, in words

    @property
    def label(self) -> str:
        return short_label(self.first_line)


class History:
    """An index of an event stream, fed in order with :meth:`feed`. Positions are 1-based: the
    event at position ``p`` is the ``p``-th event, after which the snapshot is ``snapshot_at(p)``."""

    def __init__(self, listen: str, *, datagram: DataLookup | None = None, base: int = 0) -> None:
        self.listen = listen
        self._datagram = datagram
        self.base = base  # events before this position were forgotten (live history is bounded)
        self.fed = base
        self.msgs: dict[int, MsgInfo] = {}
        self.arrivals: list[int] = []  # positions, increasing
        self.rows: list[LadderRow] = []
        self._row_pos: list[int] = []
        self._latest = array("q", [0])  # latest msg id at or before each position (index: pos - base)
        self.names: dict[str, str] = {}  # address -> peer name
        self._keys: dict[tuple[str, ...], int] = {}
        self._fallback: dict[tuple[str, str, str], int] = {}
        self._holding: dict[int, int] = {}  # worker -> msg it holds (live re-check when it is done)
        self._hashes: dict[tuple[str, str], int] = {}  # (step, branch/to-tag) -> first msg id
        self._flows: dict[tuple[str, str], tuple[int, int]] = {}  # (src, dst) -> (latest arrival pos, msg)
        self.retransmissions = 0
        self.reordered = 0
        self.lost = 0  # live: events the observer lost

    # -- feeding ---------------------------------------------------------------------------------
    def feed(self, ev: Event, pos: int | None = None) -> None:
        pos = self.fed + 1 if pos is None else pos
        self.fed = pos
        msg_id = ev.msg
        latest = self._latest
        if type(ev) is KernelEvent:
            kind = ev.kind
            d = ev.detail
            if kind in (DATAGRAM_QUEUED, DATAGRAM_DROPPED) and msg_id is not None:
                m = self._arrive(msg_id, pos, d)
                m.dropped = kind == DATAGRAM_DROPPED
            elif kind in (WORKER_WOKEN, WORKER_TAKES) and msg_id is not None:
                m = self.msgs.get(msg_id) or self._arrive(msg_id, pos, d)
                m.take, m.worker, m.slept = pos, ev.worker, kind == WORKER_WOKEN
                if ev.worker is not None:
                    self._holding[ev.worker] = msg_id
            elif kind == WORKER_SLEEPS and ev.worker is not None:
                held = self.msgs.get(self._holding.pop(ev.worker, 0))
                if held is not None and held.key is None:
                    self._recheck(held, pos)
            elif kind == DATAGRAM_SENT and msg_id is not None:
                self._sent(ev, pos)
            if msg_id is not None and (m := self.msgs.get(msg_id)) is not None:
                m.events.append(pos)
        elif msg_id is not None:
            m = self.msgs.get(msg_id)
            if m is None:  # live: the observer lost the arrival; keep what the steps say
                m = self._arrive(msg_id, pos, {"first_line": ev.detail.get("first_line", "")})
                m.worker = ev.worker
            m.events.append(pos)
            if ev.step in ("forward_request", "sl_send_reply"):
                self._same_hash(m, ev, pos)
        latest.append(msg_id if msg_id is not None else latest[-1])

    def _arrive(self, msg_id: int, pos: int, d: Mapping[str, Any]) -> MsgInfo:
        get = d.get
        m = MsgInfo(msg_id, pos, src=get("src", ""), first_line=from_engine(get("first_line", "")), size=get("len", 0),
                    peer=get("peer", "") or "", note=get("note", "") or "")
        if get("injected"):
            m.note = ("injected: " + m.note) if m.note else "injected"
        self.msgs[msg_id] = m
        self.arrivals.append(pos)
        if m.peer and m.src:
            self.names.setdefault(m.src, m.peer)
        data = self._datagram(msg_id) if self._datagram is not None else None
        m.call_id = call_id_of(data)
        if not m.is_reply:
            self._check_retransmission(m, data)
        self._add_row(LadderRow(pos, False, msg_id, m.src, self.listen, m.first_line, peer=m.peer))
        return m

    def _check_retransmission(self, m: MsgInfo, data: bytes | None) -> None:
        if data:
            self._exact(m, request_key(data), m.arrive)
            return
        # live, bytes not captured yet: the same source, first line and size while the first copy
        # is still unanswered in the proxy is a likely retransmission (checked again with the bytes)
        fk = (m.src, m.first_line, str(m.size))
        prev = self.msgs.get(self._fallback.get(fk, 0))
        if prev is not None and not prev.sends and prev.retrans_of is None:
            m.retrans_of, m.retrans_pos = prev.id, m.arrive
            m.retrans_why = "likely: same source, first line and size, and no answer yet"
            self.retransmissions += 1
        else:
            self._fallback[fk] = m.id

    def _exact(self, m: MsgInfo, key: tuple[str, str, str] | None, pos: int) -> None:
        """Register ``m`` under its exact identity; of two datagrams with one identity the one that
        arrived first is the original (live, the second may be judged first)."""
        m.key = key
        if key is None:
            return
        first = self.msgs.get(self._keys.get(key, 0))
        if first is None or first is m:
            self._keys[key] = m.id
            return
        orig, copy = (first, m) if first.arrive < m.arrive else (m, first)
        self._keys[key] = orig.id
        self._mark(orig, copy, pos, "same Call-ID, CSeq and Via branch")

    def _mark(self, orig: MsgInfo, copy: MsgInfo, pos: int, why: str) -> None:
        """``copy`` retransmits ``orig``: undo a judgement the wrong way round, count the pair once."""
        if orig.retrans_of == copy.id:  # judged the wrong way round before all was known
            orig.retrans_of, orig.retrans_why = None, ""
            self.retransmissions -= 1
        if copy.retrans_of is None:
            copy.retrans_pos = pos
            self.retransmissions += 1
        copy.retrans_of, copy.retrans_why = orig.id, why

    def _recheck(self, m: MsgInfo, pos: int) -> None:
        """Live: the worker is done with ``m`` and the capture has its bytes — judge it exactly."""
        data = self._datagram(m.id) if self._datagram is not None and m.key is None else None
        if not data or m.is_reply:
            return
        key = request_key(data)
        if m.retrans_of is not None and m.retrans_why.startswith("likely"):
            orig = self.msgs.get(m.retrans_of)
            okey = orig.key if orig is not None else None
            if orig is not None and okey is None and (odata := self._datagram(orig.id)):
                okey = orig.key = request_key(odata)
            if okey is not None and okey != key:  # not the same request after all
                m.retrans_of, m.retrans_why = None, ""
                self.retransmissions -= 1
            elif okey is not None:
                m.retrans_why = "same Call-ID, CSeq and Via branch"
        self._exact(m, key, pos)

    def _same_hash(self, m: MsgInfo, ev: StepEvent, pos: int) -> None:
        """Live confirmation: the proxy's branch / To-tag hash Call-ID, CSeq and the Via branch.

        Two workers may finish in either order: the copy held by a faster worker can be answered
        (and reported) before the original. As in :meth:`_exact`, the datagram that *arrived*
        first is the original, whichever answer the observer delivered first.
        """
        value = ev.detail.get("branch") if ev.step == "forward_request" else ev.detail.get("to_tag")
        if not value:
            return
        key = (ev.step, str(value))
        first = self._hashes.setdefault(key, m.id)
        other = self.msgs.get(first)
        if first == m.id or other is None:
            return
        if other.label != m.label:
            return  # a CANCEL shares its INVITE's branch on purpose: not a retransmission
        orig, copy = (other, m) if other.arrive <= m.arrive else (m, other)
        self._hashes[key] = orig.id
        if copy.retrans_of is not None and not copy.retrans_why.startswith("likely"):
            return  # already judged on the bytes
        what = "branch" if ev.step == "forward_request" else "To-tag"
        self._mark(orig, copy, pos, f"the proxy computed the same {what} (same Call-ID, CSeq, Via branch)")

    def _sent(self, ev: KernelEvent, pos: int) -> None:
        d = ev.detail
        to = d.get("to", "")
        m = self.msgs.get(ev.msg or 0)
        row = LadderRow(pos, True, ev.msg or 0, self.listen, to, from_engine(d.get("first_line", "")), worker=ev.worker,
                        peer=d.get("peer", "") or "", kind=d.get("kind", ""))
        if row.peer and to:
            self.names.setdefault(to, row.peer)
        if m is not None:
            m.sends.append(pos)
            if row.kind in ("fwd_reply", "request"):
                flow = (m.src, to)
                prev = self._flows.get(flow)
                if prev is not None and prev[0] > m.arrive:
                    other = self.msgs.get(prev[1])
                    what = f"#{prev[1]} {other.label}" if other else f"#{prev[1]}"
                    row.reordered = f"reordered: arrived before {what} but left after it"
                    self.reordered += 1
                if prev is None or prev[0] < m.arrive:
                    self._flows[flow] = (m.arrive, m.id)
        self._add_row(row)

    def _add_row(self, row: LadderRow) -> None:
        self.rows.append(row)
        self._row_pos.append(row.pos)

    def trim(self, base: int) -> None:
        """Forget everything at or before position ``base`` (live history is bounded)."""
        drop = base - self.base
        if drop <= 0:
            return
        self._latest = self._latest[drop:]
        self.base = base
        self.arrivals = self.arrivals[bisect_right(self.arrivals, base):]
        cut = bisect_right(self._row_pos, base)
        self.rows, self._row_pos = self.rows[cut:], self._row_pos[cut:]
        gone = {mid for mid, m in self.msgs.items() if m.last <= base}
        for mid in gone:
            del self.msgs[mid]
        self._keys = {k: v for k, v in self._keys.items() if v not in gone}
        self._fallback = {k: v for k, v in self._fallback.items() if v not in gone}
        self._hashes = {k: v for k, v in self._hashes.items() if v not in gone}

    # -- reading ---------------------------------------------------------------------------------
    def focus_msg(self, pos: int) -> int | None:
        """The datagram the screen is about at ``pos``: the one the latest event concerned."""
        i = pos - self.base
        if i <= 0 or i >= len(self._latest):
            i = min(max(i, 0), len(self._latest) - 1)
        mid = self._latest[i]
        return mid or None

    def rows_until(self, pos: int) -> int:
        """How many ladder rows exist at ``pos`` (rows are in position order)."""
        return bisect_right(self._row_pos, pos)

    def next_arrival(self, pos: int) -> int | None:
        i = bisect_right(self.arrivals, pos)
        return self.arrivals[i] if i < len(self.arrivals) else None

    def prev_arrival(self, pos: int) -> int | None:
        """The arrival before the one that started the message shown at ``pos``."""
        i = bisect_right(self.arrivals, pos) - 1  # arrivals[i] <= pos
        if i < 0:
            return None
        if self.arrivals[i] == pos:
            i -= 1
        return self.arrivals[i] if i >= 0 else None

    def call_ids(self, pos: int) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.arrivals[: bisect_right(self.arrivals, pos)]:
            m = self.msgs.get(self._msg_at_arrival(p))
            if m is not None and m.call_id:
                seen.setdefault(m.call_id)
        return list(seen)

    def _msg_at_arrival(self, pos: int) -> int:
        i = pos - self.base
        return self._latest[i] if 0 <= i < len(self._latest) else 0

    def fill_call_id(self, m: MsgInfo) -> str:
        """Live: the Call-ID once the capture has the bytes (looked up again on demand)."""
        if not m.call_id and self._datagram is not None:
            m.call_id = call_id_of(self._datagram(m.id))
        return m.call_id
