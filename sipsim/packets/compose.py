"""What ``sipsim craft`` and ``sipsim send`` share: turning their arguments into one message.

A message comes from a template name or a raw message file (``.dat``, as in tests/data); ``--set
Name=value`` edits one header each (through the lossless model, so nothing else changes); and for
``send`` the top Via of a file can be pointed at the real local address so the answer comes back
(RFC 3261 §18.2.2: a server answers to the Via's sent-by, with the source IP as ``received``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sipsim.packets.addr import Address, hostport
from sipsim.packets.errors import HeaderError, PacketsError, TemplateError
from sipsim.packets.message import SipMessage, check_header
from sipsim.packets.templates import TEMPLATES, craft_crafted

MAX_FILE = 65535  # a UDP datagram cannot be larger

# SIP / 2.0 / UDP  host[:port]  — LWS (folding included) allowed around the slashes (RFC 3261 §20.42)
_SENT_BY = re.compile(r"\A(\s*SIP\s*/\s*[^/\s]+\s*/\s*[^\s;,]+\s+)(\[[^\]]*\](?::\d+)?|[^\s;,]+)")


@dataclass
class Composed:
    msg: SipMessage
    source: str  # "template" or "file"
    name: str
    # a template's real sender and receiver: alice -> proxy for a request, bob -> proxy for a reply
    # (None for a file: it goes from wherever it is sent)
    src: Address | None = None
    dst: Address | None = None


def parse_set(item: str) -> tuple[str, str]:
    """``Name=value`` → (name, value); HeaderError with the reason when it cannot be one header."""
    name, eq, value = item.partition("=")
    if not eq:
        raise HeaderError(f"bad --set {item!r}: expected Header=value, e.g. --set Max-Forwards=10")
    name = name.strip()
    try:
        check_header(name, value)
    except HeaderError as exc:
        raise HeaderError(f"bad --set {item!r}: {exc}") from None
    return name, value


def parse_sets(items: Iterable[str] | None) -> list[tuple[str, str]]:
    return [parse_set(i) for i in items or ()]


def is_template(spec: str) -> bool:
    return spec.strip().lower() in TEMPLATES


def compose(spec: str, *, src: Address, dst: Address, sets: Iterable[tuple[str, str]] = (),
            seed: int | None = None) -> Composed:
    """The message for a TEMPLATE name or a FILE path, with ``sets`` applied."""
    if is_template(spec):
        crafted = craft_crafted(spec, src=src, dst=dst, seed=seed, sets=sets)
        return Composed(crafted.msg, "template", spec.strip().lower(), crafted.src, crafted.dst)
    if not os.path.exists(spec):
        raise TemplateError(f"{spec!r} is neither a template nor a file; templates: {', '.join(TEMPLATES)}")
    try:
        with open(spec, "rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise PacketsError(f"cannot read {spec!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE:
        raise PacketsError(f"{spec!r} is larger than a UDP datagram can be ({MAX_FILE} bytes)")
    if not data:
        raise PacketsError(f"{spec!r} is empty")
    msg = SipMessage.parse(data)
    for name, value in sets:
        msg.set_header(name, value)
    return Composed(msg, "file", spec)


def rewrite_top_via(msg: SipMessage, local: Address) -> str | None:
    """Point the first Via's sent-by at ``local``; returns the old sent-by, or None (no Via, or one
    too broken to find a sent-by in). Only that token changes; spacing and parameters stay."""
    idx = [i for i, h in enumerate(msg.headers) if h.key == "via"]
    if not idx:
        return None
    h = msg.headers[idx[0]]
    m = _SENT_BY.match(h.value)
    if not m:
        return None
    new = h.value[:m.start(2)] + hostport(local) + h.value[m.end(2):]
    msg.headers[idx[0]] = h.with_value(new)
    return m.group(2)
