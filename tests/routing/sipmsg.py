"""A SIP message split for editing, byte for byte: the model under tests/routing/sipmutate.py.

The first line, the header fields (name, the text between name and value, value -- a folded value
keeps its CRLF-SP inside) and the body; ``render()`` gives the bytes back. ``parse()`` refuses a
message it could not give back unchanged, so a mutation never changes more than it means to.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

COMPACT = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m", "content-length": "l",
           "content-type": "c", "subject": "s", "supported": "k", "content-encoding": "e", "event": "o",
           "refer-to": "r", "allow-events": "u", "referred-by": "b"}
LONG = {v: k for k, v in COMPACT.items()}
CANON = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "contact": "Contact",
         "content-length": "Content-Length", "content-type": "Content-Type", "subject": "Subject",
         "supported": "Supported", "cseq": "CSeq", "max-forwards": "Max-Forwards", "route": "Route",
         "record-route": "Record-Route", "expires": "Expires"}
MULTI = ("via", "route", "record-route", "contact")
ADDR_HDRS = ("to", "from", "contact", "route", "record-route")


def canon(name: str) -> str:
    """The long lower-case form of a header name (``v`` -> ``via``)."""
    n = name.strip().lower()
    return LONG.get(n, n)


@dataclass
class Header:
    name: str
    sep: str  # what stands between the name and the value: ": ", ":", " :\t" ...
    value: str
    raw: bool = False  # a line without ':' (kept as it is)
    eol: str = ""  # the line ending after this header ("" = the message's own)

    def text(self) -> str:
        return self.name if self.raw else f"{self.name}{self.sep}{self.value}"


@dataclass
class Message:
    first: str
    headers: list[Header] = field(default_factory=list)
    body: str = ""
    has_eoh: bool = True
    eol: str = "\r\n"

    @property
    def is_reply(self) -> bool:
        return self.first.upper().startswith("SIP/")

    def render(self) -> bytes:
        out, prev = [self.first], self.eol  # prev: the line ending owed to the line before
        for h in self.headers:
            out += [prev, h.text()]
            prev = h.eol or self.eol
        out.append(prev)
        if self.has_eoh:
            out.append(self.eol)
        return ("".join(out) + self.body).encode("latin-1")

    def named(self, *names: str) -> list[int]:
        """Indexes of the headers whose long name is one of ``names``."""
        return [i for i, h in enumerate(self.headers) if not h.raw and canon(h.name) in names]

    def copy(self) -> Message:
        return Message(self.first, [Header(h.name, h.sep, h.value, h.raw, h.eol) for h in self.headers],
                       self.body, self.has_eoh, self.eol)

    def set_length(self) -> None:
        """Make every Content-Length say the body's length (after a mutation of the body)."""
        for i in self.named("content-length"):
            self.headers[i].value = str(len(self.body.encode("latin-1")))


_HDR_RE = re.compile(r"^([^:\s]+)([ \t]*:[ \t]*)(.*)$", re.S)


def parse(data: bytes) -> Message | None:
    """Split ``data``; None when the message would not render back to the same bytes."""
    text = data.decode("latin-1")
    head, sep, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    msg = Message(lines[0], body=body, has_eoh=bool(sep))
    if not sep:
        if not head.endswith("\r\n"):
            return None
        lines = head[:-2].split("\r\n")
    for ln in lines[1:]:
        if ln[:1] in (" ", "\t") and msg.headers and not msg.headers[-1].raw:
            msg.headers[-1].value += "\r\n" + ln
            continue
        m = _HDR_RE.match(ln)
        msg.headers.append(Header(m.group(1), m.group(2), m.group(3)) if m else Header(ln, "", "", raw=True))
    return msg if msg.render() == data else None


# -- helpers ------------------------------------------------------------------------------------
def pick(rng: random.Random, idx: list[int]) -> int | None:
    return rng.choice(idx) if idx else None


def split_top(value: str) -> list[str]:
    """Split a header value at the commas that are outside quotes and angle brackets."""
    out, cur, quote, angle, esc = [], [], False, 0, False
    for ch in value:
        if esc:
            esc = False
        elif quote and ch == "\\":
            esc = True
        elif ch == '"':
            quote = not quote
        elif not quote and ch == "<":
            angle += 1
        elif not quote and ch == ">":
            angle = max(0, angle - 1)
        elif not quote and not angle and ch == ",":
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def sub_outside_quotes(value: str, pattern: str, repl: Callable[[re.Match], str], rng: random.Random) -> str:
    """Replace one random match of ``pattern`` that is not inside a quoted string or brackets' URI."""
    spans, quote = [], False
    for m in re.finditer(pattern + '|"', value):
        if m.group(0) == '"':
            quote = not quote
        elif not quote:
            spans.append(m)
    if not spans:
        return value
    m = rng.choice(spans)
    return value[:m.start()] + repl(m) + value[m.end():]


