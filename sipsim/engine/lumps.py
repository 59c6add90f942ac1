"""Lumps: changes recorded beside the received bytes, applied only when a buffer is built.

Kamailio (``src/core/data_lump.c``) does not edit the received buffer — with a few exceptions that
fit in place, such as the maxfwd module writing the new Max-Forwards over the old digits (sipsim
records that as lumps too, see ``maxfwd.py``). A change is a *lump*: text
inserted at an offset of ``buf``, or a range of ``buf`` deleted. ``process_lumps`` walks ``buf``
once, copying unchanged spans and applying lumps, so the outgoing message is "original + edits"
and the script keeps seeing the original headers. The Request-URI is not a lump: a new one is kept
in ``msg.new_uri`` and written in place of the old one when the buffer is built.

In the ``ser`` profile the same edits are shown applied to ``buf`` at once (the seed's model:
"all changes will be made to the copy in buf"), with ``orig`` untouched.

Simplification: Kamailio anchors inserts to other lumps and has substitution/conditional lumps
(``LUMP_ADD_SUBST``, ``LUMP_ADD_OPT``); we need only plain inserts and deletes at offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipsim.engine.events import slot_setters

if TYPE_CHECKING:
    from sipsim.engine.parser.fline import FirstLine
    from sipsim.engine.parser.msg import SipMsg

ADD = "add"
DEL = "del"


@dataclass(frozen=True, slots=True, init=False)
class Lump:
    op: str  # ADD or DEL
    offset: int  # offset in the received buffer
    length: int = 0  # bytes deleted (DEL)
    text: str = ""  # text inserted (ADD)
    why: str = ""  # who made it and why (for learners)
    send_time: bool = False  # made while building an outgoing buffer (our Via, received=)

    def __init__(self, op: str, offset: int, length: int = 0, text: str = "", why: str = "",
                 send_time: bool = False) -> None:
        # written out (as events.StepEvent's): several are made for every forwarded message
        _lump_set[0](self, op)
        _lump_set[1](self, offset)
        _lump_set[2](self, length)
        _lump_set[3](self, text)
        _lump_set[4](self, why)
        _lump_set[5](self, send_time)

    def describe(self) -> str:
        if self.op == ADD:
            return f"insert at {self.offset}: {self.text!r} ({self.why})"
        return f"delete {self.length} bytes at {self.offset} ({self.why})"


_lump_set = slot_setters(Lump)


def how(ser: bool) -> str:
    """How a step's narration says where its edit went: a lump (kamailio), or -- the seed's model,
    the ser profile -- into ``buf`` at once, ``orig`` keeping the received bytes (the Message panel's
    "changed in place"). sipsim records a lump in both; only what the learner is told differs."""
    return "(written into buf; orig keeps the received bytes)" if ser else "(a lump)"


def insert(msg: SipMsg, offset: int, text: str, why: str, *, send_time: bool = False) -> Lump:
    lump = Lump(ADD, offset, 0, text, why, send_time)
    msg.add_rm.append(lump)
    msg.changed()
    return lump


def delete(msg: SipMsg, offset: int, length: int, why: str, *, send_time: bool = False) -> Lump:
    lump = Lump(DEL, offset, length, "", why, send_time)
    msg.add_rm.append(lump)
    msg.changed()
    return lump


def drop_send_time_lumps(msg: SipMsg) -> None:
    """Forget lumps of a previous buffer build (a second ``forward()`` builds afresh)."""
    for lump in msg.add_rm:  # (a plain loop: usually two or three lumps, none of them send-time)
        if lump.send_time:
            msg.add_rm = [kept for kept in msg.add_rm if not kept.send_time]
            msg.changed()
            return


def apply_lumps(data: bytes, lumps: list[Lump], new_uri: str | None = None,
                first_line: FirstLine | None = None, stop: int | None = None) -> bytes:
    """``process_lumps``: the received bytes with every lump (and a new R-URI) applied.

    ``stop`` ends the copy (framing by Content-Length: octets after the body are not sent).
    Inserts at one offset keep the order they were made in; an insert at the start of a deleted
    range goes before the deletion (that is how a value is replaced).
    """
    edits = lumps  # (copied only when the new R-URI adds two edits: the caller's list stays as it is)
    if new_uri is not None and first_line is not None:
        edits = [*lumps, Lump(DEL, first_line.uri_start, first_line.uri_end - first_line.uri_start, "", "new R-URI"),
                 Lump(ADD, first_line.uri_start, 0, new_uri, "new R-URI")]
    if not edits:
        return data if stop is None else data[:stop]
    end = len(data) if stop is None else stop
    order = sorted([(e.offset, e.op == DEL, k) for k, e in enumerate(edits)])  # tuples: compared in C
    out: list[bytes] = []
    pos = 0
    for _, _, k in order:
        e = edits[k]
        if e.offset > pos:
            out.append(data[pos : min(e.offset, end)])
            pos = e.offset
        if e.op == ADD:
            if e.offset <= end:
                out.append(e.text.encode("latin-1"))
        else:
            pos = max(pos, e.offset + e.length)
    if pos < end:
        out.append(data[pos:end])
    return b"".join(out)
