"""Which address of a capture is its proxy: what a replay reads of each datagram, and the guess.

A capture says who sent what to whom, not who the proxy was. The guess (:func:`guess`) ranks
each address by what only a server does, strongest first, and takes the busiest address of the
best rank:

1. it *forwarded* what it received (:func:`forwarding_evidence`: a datagram sent within a second
   of one received, same Call-ID, its Via headers one more — a request — or one less — a reply);
   only the box that received a datagram forwards it, and a phone never does;
2. its messages show a server: a request it sent carries Vias under its own (it forwarded that
   request, the original not captured), a reply that came to it carries more than one Via (its
   own on top: it had forwarded the request), or it received a REGISTER (a registrar);
3. it received requests and sent something (answers, or forwards);
4. it received requests;
5. anything else: it takes part in datagrams.

Counting datagrams alone (as sipsim did before) takes a phone that talks to two servers for the
proxy — it takes part in every datagram — although it never received a request. Within the best
rank a tie is broken by the first request's destination, then by order of appearance, and the
tie is reported (:attr:`Guess.rivals`): the caller tells the user, with the ``--pcap-proxy``
option that picks another address.

:func:`same_proxy` then finds the proxy's other addresses (a public and a private side) from the
same forwarding evidence, and :func:`same_port_receivers` names addresses that may be its too.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sipsim.packets.addr import Address, hostport, is_ipv6
from sipsim.packets.message import ENC, ERRORS, header_key, small_int, unfold, via_branch
from sipsim.packets.pcap import SipDatagram

FORWARD_WINDOW = 1.0  # seconds: a stateless proxy forwards within milliseconds; a second is generous

# the grounds of each rank, best first, as the note says them ("the proxy is X (guessed: ...)")
FORWARDED = "it forwarded datagrams it received"
SERVER = "its messages show a server"
ANSWERS = "it received requests and sent datagrams"
RECEIVES = "it received requests"
BUSIEST = "it takes part in the most datagrams"
RANKS = (FORWARDED, SERVER, ANSWERS, RECEIVES, BUSIEST)


@dataclass(frozen=True)
class Heads:
    """What choosing datagrams reads of one, in one pass, as the packet toolkit's own
    :class:`~sipsim.packets.message.SipMessage` reads it (folded lines, compact ``i:``/``v:`` names,
    any octets): ``call_id``, the first Call-ID as a parser takes it (None: the datagram has none);
    ``vias``, each via-parm top first as its branch (its sent-by when it has none) — what stays the
    same when a proxy forwards it, received= and rport values being added; ``is_request``: no
    status line; ``method``: a request's method ("" for a reply)."""

    call_id: str | None
    vias: tuple[str, ...]
    is_request: bool
    method: str = ""


def read_heads(data: bytes) -> Heads:
    """The :class:`Heads` of one datagram. A capture may hold anything: a datagram that is no SIP
    has no Call-ID and no Via, and this never raises. A line without a colon names no header.

    Read as :meth:`SipMessage.parse <sipsim.packets.message.SipMessage.parse>` splits a datagram —
    the same CR/LF before the first line, first-line reading, line ends, folding, decoding and
    header names — but without building the message: a big capture reads tens of thousands of
    datagrams before its replay starts, and only its Via and Call-ID lines are taken apart here
    (:data:`_WANTED` finds them; under a third of the time). ``tests/packets/test_fast_readers.py``
    holds the two readings equal on the RFC 4475 torture tests and on damaged datagrams."""
    text = (data if isinstance(data, bytes) else bytes(data)).decode(ENC, ERRORS)
    # ASCII octets decode to themselves and no other octet decodes to ASCII, so cutting the decoded
    # text at CR, LF, SP, HT and ":" cuts where SipMessage cuts the octets (it decodes each piece)
    pos = len(text) - len(text.lstrip("\r\n"))  # the CR/LF before the first line
    nl = text.find("\n", pos)
    first = text[pos:] if nl < 0 else text[pos:nl - 1] if nl > pos and text[nl - 1] == "\r" else text[pos:nl]
    sp = first.find(" ")  # split_first_line: a status line is "SIP/x", spaces, 1-40 digits ...
    head = first if sp < 0 else first[:sp]
    status_line = head[:4].upper() == "SIP/" and sp >= 0 and small_int(
        first[sp:].lstrip(" ").partition(" ")[0]) is not None
    call_id: str | None = None
    vias: list[str] = []
    if nl >= 0:
        # the header lines end at the first empty line ("" or a lone CR before its LF)
        ends = [k for k in (text.find("\n\n", nl), text.find("\n\r\n", nl)) if k >= 0]
        block = text[nl + 1:min(ends)] if ends else text[nl + 1:]
        first_line = _FIRST_WANTED.match(block)  # the first header line: no line before it to continue
        for m in (first_line, *_WANTED.finditer(block)) if first_line else _WANTED.finditer(block):
            key = header_key(m[1].rstrip(" \t"))
            if key != "via" and (key != "call-id" or call_id is not None):
                continue  # a Call-ID after the first
            value = m[2]
            if value[-1:] == "\r" and (ends or m.end() < len(block)):  # the CR of its line end
                value = value[:-1]
            value = unfold(value.lstrip(" \t"))
            if key == "via":
                vias.extend(_via_id(parm) for parm in value.split(","))
            else:
                call_id = value
    return Heads(call_id, tuple(vias), not status_line, "" if status_line else head.upper())


# A header line (with its continuation lines) whose name may be Via or Call-ID, in full or compact:
# after a line end not followed by SP/HT (that would make it a continuation line), the name with
# any white space around it (str.strip's, folds included) up to the line's first colon, then the
# value up to its line end, continuation lines included. The first header line: the same, at the
# start. (Starting with the LF lets the regex engine jump from one line end to the next.)
_NAME_SPACE = r"(?:[^\S\n]|\n(?=[ \t]))*"
_NAMES = r"(?:[Vv](?:[Ii][Aa])?|[Ii]|[Cc][Aa][Ll][Ll]-[Ii][Dd])"  # no other character lowers to these letters
_WANTED_LINE = rf"({_NAME_SPACE}{_NAMES}{_NAME_SPACE}):([^\n]*(?:\n[ \t][^\n]*)*)"
_WANTED = re.compile(r"\n(?![ \t])" + _WANTED_LINE)
_FIRST_WANTED = re.compile(_WANTED_LINE)


def _via_id(parm: str) -> str:
    branch = via_branch(parm)
    return branch if branch else "".join(parm.split(";", 1)[0].split())


def read_all(datagrams: Sequence[SipDatagram], heads: Sequence[Heads] | None) -> Sequence[Heads]:
    """``heads`` when the caller read them already (one read per datagram), else read now."""
    return heads if heads is not None else [read_heads(d.data) for d in datagrams]


def when(d: SipDatagram) -> float:
    """A datagram's time in seconds: the capture's own timestamp when it has one."""
    return d.capture_ns / 1e9 if d.capture_ns else d.time


@dataclass(frozen=True)
class Evidence:
    """One forwarding seen in the capture: frame ``frame_out``, sent from ``sender``, forwards
    frame ``frame_in``, received at ``receiver`` — so both addresses are one box's (the same one,
    for a proxy that sends from where it receives)."""

    sender: Address
    receiver: Address
    frame_in: int
    frame_out: int

    def text(self) -> str:
        return (f"frame {self.frame_out}, sent from {hostport(self.sender)}, forwards frame {self.frame_in}, "
                f"received at {hostport(self.receiver)} (same Call-ID and Via headers, one Via more or less)")


def forwarding_evidence(datagrams: Sequence[SipDatagram], heads: Sequence[Heads] | None = None) -> list[Evidence]:
    """Every (received, forwarded) pair of the capture, as :class:`Evidence` that the receiver's
    address and the sender's are one box's: a datagram D2 that forwards D1, received within
    :data:`FORWARD_WINDOW` before it. A forwarded request holds D1's Via chain under one more;
    a forwarded reply, D1's less its top one (RFC 3261 §16.6, §16.7). When several datagrams
    match, the latest is the one forwarded (a client retrying the same branch elsewhere).
    ``heads``: each datagram's :class:`Heads`, when already read."""
    requests: dict[tuple[str, tuple[str, ...]], list[tuple[float, Address, int]]] = defaultdict(list)
    replies: dict[tuple[str, tuple[str, ...]], list[tuple[float, Address, int]]] = defaultdict(list)
    found: list[Evidence] = []
    for d, h in zip(datagrams, read_all(datagrams, heads), strict=True):
        cid, chain, is_request = h.call_id, h.vias, h.is_request
        if cid is None or not chain:
            continue
        earlier = requests.get((cid, chain[1:])) if is_request else replies.get((cid, chain))
        if earlier:
            t, receiver, frame = earlier[-1]
            if 0 <= when(d) - t <= FORWARD_WINDOW:
                found.append(Evidence(tuple(d.src), receiver, frame, d.frame))  # type: ignore[arg-type]
        if is_request:
            requests[(cid, chain)].append((when(d), tuple(d.dst), d.frame))  # type: ignore[arg-type]
        elif len(chain) > 1:
            replies[(cid, chain[1:])].append((when(d), tuple(d.dst), d.frame))  # type: ignore[arg-type]
    return found


def same_proxy(start: Sequence[Address], evidence: list[Evidence]) -> list[tuple[Address, Evidence]]:
    """The addresses the evidence ties to ``start`` (both ways, step by step), each with the
    pair that tied it, in the order found; only addresses of ``start``'s family (one socket).
    A proxy forwarding from the address it received on ties nothing new."""
    v6 = is_ipv6(start[0][0])
    known = set(start)
    out: list[tuple[Address, Evidence]] = []
    grew = True
    while grew:
        grew = False
        for e in evidence:
            if (e.receiver in known) == (e.sender in known):
                continue
            new = e.sender if e.receiver in known else e.receiver
            if is_ipv6(new[0]) != v6:
                continue
            known.add(new)
            out.append((new, e))
            grew = True
    return out


def same_port_receivers(datagrams: Sequence[SipDatagram], heads: Sequence[Heads], proxy: set[Address], port: int,
                        v6: bool) -> list[Address]:
    """Addresses that received requests on ``port`` and never from the proxy: perhaps the proxy's."""
    seen: dict[Address, bool] = {}
    for d, h in zip(datagrams, heads, strict=True):
        dst = tuple(d.dst)
        if dst in proxy or dst[1] != port or is_ipv6(dst[0]) != v6 or not h.is_request:
            continue
        seen[dst] = seen.get(dst, True) and tuple(d.src) not in proxy  # type: ignore[index]
    return [a for a, ok in seen.items() if ok]


@dataclass(frozen=True)
class Guess:
    """The guessed proxy (None: the capture holds no datagram), on what ground (one of
    :data:`RANKS`), and ``rivals``: other addresses of the same rank in as many datagrams — the
    tie was broken by order (``tie_break`` says how), so the guess may be wrong. ``evidence``: the
    capture's forwardings, for the caller to tie the proxy's other addresses to it."""

    address: Address | None
    grounds: str = ""
    rivals: tuple[Address, ...] = ()
    tie_break: str = ""
    evidence: tuple[Evidence, ...] = ()


def guess(datagrams: Sequence[SipDatagram], heads: Sequence[Heads] | None = None,
          evidence: Sequence[Evidence] | None = None) -> Guess:
    """The capture's proxy as the module docstring ranks addresses. ``heads``: each datagram's
    :class:`Heads`, ``evidence``: :func:`forwarding_evidence`, when the caller has them."""
    heads = read_all(datagrams, heads)
    found = tuple(forwarding_evidence(datagrams, heads) if evidence is None else evidence)
    counts: Counter[Address] = Counter()
    order: dict[Address, int] = {}  # first request's destination first, then as they appear
    signs: dict[Address, set[str]] = defaultdict(set)
    for d, h in zip(datagrams, heads, strict=True):
        src, dst = tuple(d.src), tuple(d.dst)
        counts.update({src, dst})  # type: ignore[arg-type]
        signs[src].add("sends")  # type: ignore[index]
        if h.is_request:
            order.setdefault(dst, len(order))  # type: ignore[arg-type]
            signs[dst].add("receives requests")  # type: ignore[index]
            if h.method == "REGISTER":  # a registrar receives it, never a phone
                signs[dst].add(SERVER)  # type: ignore[index]
            if len(h.vias) > 1:  # a Via under the sender's own: the sender forwarded this request
                signs[src].add(SERVER)  # type: ignore[index]
        elif len(h.vias) > 1:  # a reply goes to its top Via: its receiver had forwarded the request
            signs[dst].add(SERVER)  # type: ignore[index]
    if not counts:
        return Guess(None, evidence=found)
    for d in datagrams:
        for a in (tuple(d.dst), tuple(d.src)):
            order.setdefault(a, len(order))  # type: ignore[arg-type]
    for e in found:
        signs[e.receiver].add(FORWARDED)
        signs[e.sender].add(FORWARDED)

    def rank(a: Address) -> int:
        s = signs[a]
        if FORWARDED in s:
            return 0
        if SERVER in s:
            return 1
        if "receives requests" in s:
            return 2 if "sends" in s else 3
        return 4

    best = min(rank(a) for a in counts)
    top = [a for a in counts if rank(a) == best]
    most = max(counts[a] for a in top)
    tied = sorted((a for a in top if counts[a] == most), key=order.__getitem__)
    first = tied[0]
    tie_break = ""
    if len(tied) > 1:
        tie_break = "the first request's destination" if first in _request_destinations(datagrams, heads) \
            else "the first to appear"
    return Guess(first, RANKS[best], tuple(tied[1:]), tie_break, found)


def _request_destinations(datagrams: Sequence[SipDatagram], heads: Sequence[Heads]) -> set[Address]:
    return {tuple(d.dst) for d, h in zip(datagrams, heads, strict=True) if h.is_request}  # type: ignore[misc]


def guess_proxy(datagrams: Sequence[SipDatagram], heads: Sequence[Heads] | None = None) -> Address | None:
    """The capture's proxy as :func:`guess` ranks addresses (None: no datagram)."""
    return guess(datagrams, heads).address
