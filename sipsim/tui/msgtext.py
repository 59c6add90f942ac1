"""A datagram as text for the message panel: lines with a gutter saying what is parsed.

Kamailio parses lazily: ``parse_msg`` reads the first line and the headers up to the first Via,
``msg->unparsed`` marks where it stopped, and later steps parse further on demand. The message
panel shows exactly that, line by line, with a mark and a label in a gutter — never by colour
alone — so a learner sees the parser's progress as the steps go by::

    ✓ first_line │ INVITE sip:bob@127.0.0.1 SIP/2.0
    ✓ via1       │ Via: SIP/2.0/UDP 127.0.0.2:5060;branch=…
    ▸ unparsed   │ Max-Forwards: 70
    ·            │ From: …

Header kinds come from the engine's own name table (``parser/hf.py``); offsets are the byte offsets
the engine reports (``unparsed``, lump offsets), and stay so: lines are split on the bytes and
each is decoded for the screen as UTF-8 on its own (:mod:`sipsim.tui.wiretext`, with ``\\xNN``
for a byte that is not text), so ``Zoë`` reads as such and a line's span is still its bytes'.

In the ``ser`` profile ``buf`` is the edited copy (the lumps applied at once, as the seed says) and
``orig`` the received bytes; in the ``kamailio`` profile ``buf`` is never written and the changes
live only as lumps until a buffer is built.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, NamedTuple

from sipsim.engine.lumps import Lump, apply_lumps
from sipsim.engine.parser.hf import NAME_TO_TYPE, HdrType
from sipsim.tui import wiretext
from sipsim.tui.wiretext import Shown

PARSED, UNPARSED, AT_UNPARSED, CHANGED, ADDED, BODY, REMOVED = "✓", "·", "▸", "✎", "+", "=", "−"
_HNAME = re.compile(rb"([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:")
_LABELS = {
    HdrType.HDR_VIA_T: "via", HdrType.HDR_TO_T: "to", HdrType.HDR_FROM_T: "from", HdrType.HDR_CSEQ_T: "cseq",
    HdrType.HDR_CALLID_T: "callid", HdrType.HDR_CONTACT_T: "contact", HdrType.HDR_MAXFORWARDS_T: "maxfwd",
    HdrType.HDR_ROUTE_T: "route", HdrType.HDR_RECORDROUTE_T: "rr", HdrType.HDR_CONTENTTYPE_T: "ctype",
    HdrType.HDR_CONTENTLENGTH_T: "clen", HdrType.HDR_EXPIRES_T: "expires",
}
LABEL_WIDTH = 10


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a datagram: its byte span, text as shown (no line end), gutter mark and label."""

    start: int
    end: int
    text: str
    mark: str
    label: str
    kind: str  # first_line | header | blank | body
    escapes: tuple[tuple[int, int], ...] = ()  # spans of ``text`` standing for bytes not shown as such

    @classmethod
    def of(cls, p: Piece, mark: str, label: str, kind: str) -> Line:
        return cls(p.start, p.end, p.text, mark, label, kind, p.shown.escapes)


class Piece(NamedTuple):
    """One line of a datagram as split from its bytes: byte span (``end`` past the LF), the
    line's bytes without CR/LF, and how they read on screen (:mod:`sipsim.tui.wiretext`)."""

    start: int
    end: int
    raw: bytes
    shown: Shown

    @property
    def text(self) -> str:
        return self.shown.text


@lru_cache(maxsize=16)
def split_lines(data: bytes) -> tuple[Piece, ...]:
    """The lines of ``data``, split on its bytes (an LF byte is never inside a UTF-8 character),
    so every span stays a byte span the engine's offsets compare with; each line is decoded for
    the screen once per datagram (cached: the panel redraws it at every step)."""
    out, pos, n = [], 0, len(data)
    while pos < n:
        lf = data.find(b"\n", pos)
        end = n if lf < 0 else lf + 1
        raw = data[pos:end].rstrip(b"\r\n")
        out.append(Piece(pos, end, raw, wiretext.shown(raw)))
        pos = end
    return tuple(out)


def layout(data: bytes) -> list[tuple[Piece, str, str]]:
    """(line, kind, label) per line: the first line, each header line (folded lines take their
    header's label), the empty line, the body. Read from the bytes, not the text shown."""
    out: list[tuple[Piece, str, str]] = []
    in_body = False
    vias = 0
    prev_label = ""
    for i, p in enumerate(split_lines(data)):
        if i == 0:
            out.append((p, "first_line", "first_line"))
            continue
        if in_body:
            out.append((p, "body", "body"))
            continue
        if p.raw == b"":
            in_body = True
            out.append((p, "blank", "end"))
            continue
        if p.raw[:1] in (b" ", b"\t"):
            out.append((p, "header", prev_label))
            continue
        m = _HNAME.match(p.raw)
        if m is None:
            label = "?"
        else:
            t = NAME_TO_TYPE.get(m.group(1).decode("ascii").lower(), HdrType.HDR_OTHER_T)
            label = _LABELS.get(t, "other")
            if t == HdrType.HDR_VIA_T:
                vias += 1
                label = f"via{vias}" if vias <= 2 else "via"
        prev_label = label
        out.append((p, "header", label))
    return out


def gutter(data: bytes, unparsed: int | None) -> list[Line]:
    """Every line marked parsed (✓), where parsing stopped (▸ unparsed) or not yet parsed (·).

    ``unparsed`` None: ``parse_msg`` has not run (nothing is parsed)."""
    out: list[Line] = []
    marked = False
    for p, kind, label in layout(data):
        if kind == "body":
            out.append(Line.of(p, BODY, "body", kind))
            continue
        if unparsed is not None and (p.start < unparsed or (kind == "first_line" and unparsed > 0)):
            out.append(Line.of(p, PARSED, label, kind))
        elif not marked:
            marked = True
            out.append(Line.of(p, AT_UNPARSED, "unparsed", kind))
        else:
            out.append(Line.of(p, UNPARSED, "", kind))
    return out


def _first_line_span(data: bytes) -> Any:
    """Byte offsets of the Request-URI (between the first two spaces), where a new one goes."""
    line = data.split(b"\n", 1)[0]
    a = line.find(b" ")
    b = line.find(b" ", a + 1) if a >= 0 else -1
    if a < 0 or b < 0:
        return None
    return SimpleNamespace(uri_start=a + 1, uri_end=b)


def to_lumps(lumps: tuple[tuple[Any, ...], ...]) -> list[Lump]:
    return [Lump(str(x[0]), int(x[1]), int(x[2]), str(x[3]), str(x[4]) if len(x) > 4 else "") for x in lumps]


def edited(data: bytes, lumps: tuple[tuple[Any, ...], ...], new_uri: str | None) -> bytes:
    """The received bytes with the lumps (and a new R-URI) applied: SER's ``buf``."""
    return apply_lumps(data, to_lumps(lumps), new_uri, _first_line_span(data) if new_uri else None)


def diff_marked(base: bytes, new: bytes, base_lines: list[Line] | None = None) -> list[Line]:
    """The lines of ``new``; unchanged ones keep their mark from ``base_lines`` (when given),
    changed ones are marked ✎, inserted ones +, and lines of ``base`` that are gone − (in their
    place, so a removed Via shows where it was)."""
    old = split_lines(base)
    cur = split_lines(new)
    sm = difflib.SequenceMatcher(a=[p.raw for p in old], b=[p.raw for p in cur], autojunk=False)
    out: list[Line] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        changed, paired = _pair_changed([p.text for p in old[i1:i2]], [p.text for p in cur[j1:j2]]) \
            if tag == "replace" else (set(), set())
        for i in range(i1, i2) if tag in ("delete", "replace") else ():
            if i - i1 not in paired:
                out.append(Line.of(old[i], REMOVED, "removed", "removed"))
        for k in range(j2 - j1):
            p = cur[j1 + k]
            if tag == "equal":
                if base_lines is not None and i1 + k < len(base_lines):
                    b = base_lines[i1 + k]
                    out.append(Line.of(p, b.mark, b.label, b.kind))
                else:
                    out.append(Line.of(p, " ", "", "header"))
            elif k in changed:
                out.append(Line.of(p, CHANGED, "changed", "header"))
            else:
                out.append(Line.of(p, ADDED, "added", "header"))
    return out


def _pair_changed(olds: list[str], news: list[str]) -> tuple[set[int], set[int]]:
    """In a rewritten block, which new lines are an old line changed (each old line pairs with
    at most one new line, the most similar first); the other new lines were added."""
    pairs = sorted(((difflib.SequenceMatcher(a=o, b=n, autojunk=False).ratio(), i, j)
                    for i, o in enumerate(olds) for j, n in enumerate(news)), reverse=True)
    used_old: set[int] = set()
    changed: set[int] = set()
    for ratio, i, j in pairs:
        if ratio < 0.5:
            break
        if i not in used_old and j not in changed:
            used_old.add(i)
            changed.add(j)
    return changed, used_old


def hexdump(data: bytes, unparsed: int | None, width: int = 16) -> list[tuple[str, str]]:
    """(mark, text) rows: offset, hex bytes, printable ASCII; ▸ on the row holding ``unparsed``."""
    rows = []
    for off in range(0, len(data), width):
        chunk = data[off:off + width]
        hx = " ".join(f"{b:02x}" for b in chunk)
        asc = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        if unparsed is None:
            mark = UNPARSED
        elif off + width <= unparsed:
            mark = PARSED
        elif off <= unparsed < off + width:
            mark = AT_UNPARSED
        else:
            mark = UNPARSED
        rows.append((mark, f"{off:04x}  {hx:<{width * 3 - 1}}  {asc}"))
    return rows


def describe_lump(lump: tuple[Any, ...]) -> str:
    op, off, length, text = lump[0], lump[1], lump[2], lump[3]
    why = lump[4] if len(lump) > 4 else ""
    if op == "add":
        return f"insert at {off:>4}: '{wiretext.from_engine(text.rstrip(chr(13) + chr(10)))}'  ({why})"
    return f"delete {length} at {off:>4}  ({why})"
