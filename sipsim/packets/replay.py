"""Replaying a capture through the simulated proxy: which datagrams it receives, and as whom.

A capture taken on or beside a SIP proxy (``tcpdump -i any port 5060`` on the Kamailio box, or a
file sipsim saved) holds both directions: what reached the proxy and what the proxy sent. Only
the first are *arrivals*; the second are what the proxy computed, and the simulated proxy must
compute its own. Feeding them back in would make it receive its own forwarded INVITE (a loop)
and the replies it had sent (which it would forward again).

So a replay picks the proxy of the capture: one or more ``(ip, port)`` addresses, for a proxy
may listen on several (a public and a private side, or ``0.0.0.0`` on a host with several
addresses — Kamailio's ``listen=`` lines, each one a socket):

- given by the user (``--pcap-proxy IP:PORT``, once per address; the first is the one the
  simulated proxy listens on, the others become its aliases), or
- guessed: the address that takes part (as source or destination) in the most datagrams; every
  datagram of a capture taken at a proxy involves it. On a tie (a phone talking to one server:
  both take part in everything) the one the first request was sent to wins. Its other addresses
  are added when the capture proves them (:func:`forwarding_evidence`): a datagram sent from
  address B, within a second of one received at address A, that is A's datagram forwarded — the
  same Call-ID, and a request carrying the received Via headers under one new Via (a reply: the
  received ones less the top Via). Only the box that received a datagram forwards it, so A and B
  are one proxy. Without that evidence an address is not added, however likely: another address
  receiving requests on the proxy's port (sipsim's own wildcard capture answering on 127.0.0.1 and
  10.9.9.1) is named in a note, with the ``--pcap-proxy`` options that would add it.

A capture that records directions (sipsim's own: ``serve --pcap``, ``simulate --save-pcap``;
``tcpdump -i any``; pcapng with ``epb_flags``) holds a datagram the capturing host sent to itself
twice: the copy it sent and the copy it received (a proxy forwarding to itself, a loop). Only the
received copy is one datagram the receiver got: the sent copy (``"out"``, with an ``"in"`` copy of
the same source, destination and bytes within :data:`FORWARD_WINDOW` after it) is left out of
every choice below and of the arrivals (:func:`sent_copies`). A sent datagram with no received
copy is kept: a capture taken at a phone holds what the phone sent to the proxy as ``"out"``.
A capture without directions (``tcpdump -i lo``, Ethernet files, sipsim's older ones) is read as
before: each datagram once, as the file has it.

The received copy of what the captured proxy sent *itself* is replayed once where the replaying
proxy only prints what it sends (``trace``: it shows how the proxy handled its own datagram). A
simulated proxy delivers what it sends to itself (``simulate``, ``tui --pcap``: ``loopback``):
there that copy is its own output, which it computes and receives again by itself, so it is left
out (:data:`LOOPED`) — replaying it too would make it arrive twice.

Datagrams sent *to* one of its addresses become arrivals (their times re-based so the first
arrives at 0); those it sent, and those between two other hosts, are left out and counted with
the reason. ``proxy="any"`` keeps every datagram (each one arrives at the simulated proxy, whoever
it was sent to).

The simulated proxy then stands in for the captured one: the CLI makes it listen on the first
address (or, when a scenario fixes the address, names it as an alias) and names the others as
aliases, so a Request-URI or Route that named the captured proxy still means "myself" (Kamailio's
``myself`` check: listen addresses and aliases). Simplified: the simulated proxy has one socket,
so a datagram that reached the captured one on its second address arrives on that socket, as on
a proxy listening on the wildcard, and what it sends leaves from there.

:class:`Selection` picks datagrams to *show* (``trace``/``simulate`` ``--call-id``, ``--frames``):
the Call-ID and frame number are read directly, without the engine, from the heads the plan read
already (:meth:`Replay.select`: each datagram is parsed once). Showing is not running: the caller
still runs the others, unshown, so the proxy's state (the location table a REGISTER filled) is as
in the full replay.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sipsim.packets.addr import Address, hostport, is_ipv6, parse_address, uri_host
from sipsim.packets.errors import AddressError, PacketsError, PcapError
from sipsim.packets.message import SipMessage, via_branch
from sipsim.packets.pcap import IN, OUT, SipDatagram

ANY = "any"
FORWARD_WINDOW = 1.0  # seconds: a stateless proxy forwards within milliseconds; a second is generous
SENT_BY_PROXY = "sent by the capture's proxy (the simulated proxy computes its own)"
BETWEEN_OTHERS = "between two other hosts (not to the capture's proxy)"
LOOPED = ("sent by the capture's proxy to itself (the received copy): the simulated proxy sends, and receives, "
          "its own")
SENT_COPY = ("the sent copy of a datagram captured twice, sent and received (the capturing host sent it to "
             "itself): the datagram is taken once, as received")


@dataclass(frozen=True)
class Evidence:
    """One forwarding seen in the capture: frame ``frame_out``, sent from ``sender``, forwards
    frame ``frame_in``, received at ``receiver`` — so both addresses are one box's."""

    sender: Address
    receiver: Address
    frame_in: int
    frame_out: int

    def text(self) -> str:
        return (f"frame {self.frame_out}, sent from {hostport(self.sender)}, forwards frame {self.frame_in}, "
                f"received at {hostport(self.receiver)} (same Call-ID and Via headers, one Via more or less)")


@dataclass
class Replay:
    """What the simulated proxy receives from a capture. ``proxy``: the captured proxy's first
    address (None with ``any``), ``aliases`` its others; ``how``: "given", "guessed" or "any".
    ``evidence``: how each guessed alias was found; ``unproven``: addresses the capture shows the
    proxy forwarding from or for, not given (``how`` "given"); ``maybe``: other addresses
    receiving requests on the guessed proxy's port, without evidence. ``left_out``: the frames
    not replayed, by reason (``skipped`` counts them). ``source``: the capture's datagrams as
    given, ``arrival_index`` each arrival's place among them, ``read`` their :class:`Heads` as
    read so far (the plan's choice reads them; :meth:`select` reuses them)."""

    proxy: Address | None
    how: str
    arrivals: list[SipDatagram]
    aliases: tuple[Address, ...] = ()
    evidence: tuple[tuple[Address, Evidence], ...] = ()
    unproven: tuple[tuple[Address, Evidence], ...] = ()
    maybe: tuple[Address, ...] = ()
    left_out: dict[str, list[int]] = field(default_factory=dict)
    # the capture's datagrams as given, each arrival's index among them, and their heads (read once, on demand)
    source: list[SipDatagram] = field(default_factory=list, repr=False)
    arrival_index: list[int] = field(default_factory=list, repr=False)
    read: list[Heads | None] = field(default_factory=list, repr=False)

    def heads(self, i: int) -> Heads:
        """The :class:`Heads` of ``source[i]``, read at most once (the plan read most already)."""
        if len(self.read) < len(self.source):
            self.read.extend([None] * (len(self.source) - len(self.read)))
        h = self.read[i]
        if h is None:
            h = self.read[i] = read_heads(self.source[i].data)
        return h

    def select(self, selection: Selection) -> tuple[list[bool], list[int]]:
        """Which arrivals ``selection`` shows (one flag per arrival), and the frames of the other
        datagrams of the capture it matches (not replayed: the caller says why). Each datagram's
        Call-ID is the one the plan read (never parsed twice); frames alone read no header."""
        if not self.arrival_index and self.arrivals:  # a Replay made by hand: the arrivals are the source
            self.source, self.arrival_index = list(self.arrivals), list(range(len(self.arrivals)))
        shown = [selection.matches(d, lambda i=i: self.heads(i))
                 for d, i in zip(self.arrivals, self.arrival_index, strict=True)]
        replayed = set(self.arrival_index)
        others = [d.frame for i, d in enumerate(self.source)
                  if i not in replayed and selection.matches(d, lambda i=i: self.heads(i))]
        return shown, others

    @property
    def addresses(self) -> tuple[Address, ...]:
        """Every address of the captured proxy, the first one first (empty with ``any``)."""
        return () if self.proxy is None else (self.proxy, *self.aliases)

    @property
    def skipped(self) -> Counter[str]:
        """How many datagrams were left out, by reason."""
        return Counter({why: len(frames) for why, frames in self.left_out.items()})

    def alias_names(self, *, every: bool = False) -> tuple[str, ...]:
        """The names that make the simulated or traced proxy take the captured one's addresses
        for "myself" (Kamailio's ``alias=``): for each address, its host (read as ``alias=`` reads
        it: any port) and its ``host:port``, IPv6 in brackets. ``every``: the first
        address too, for a proxy that listens elsewhere; else only the others (the first is
        where it listens). Empty with ``any``."""
        addresses = self.addresses if every else self.aliases
        return tuple(dict.fromkeys(n for a in addresses for n in (uri_host(a[0]), hostport(a))))

    def notes(self) -> list[str]:
        """Readable lines about the choice and what was left out (for a CLI's stderr)."""
        if self.proxy is None:
            head = "every SIP datagram of the capture arrives at the simulated proxy"
        else:
            head = (f"the capture's proxy is {_names(self.addresses)} ({self.how}; --pcap-proxy IP:PORT "
                    "chooses another, once per address of a proxy with several, --pcap-proxy any replays every "
                    f"datagram): {len(self.arrivals)} datagram(s) sent to it are replayed")
        out = [head]
        out += [f"{hostport(a)} is the proxy's too: {e.text()}" for a, e in self.evidence]
        if self.unproven:
            extra = " ".join(f"--pcap-proxy {hostport(a)}" for a, _ in self.unproven)
            out += [f"{hostport(a)} looks like the proxy's too: {e.text()}" for a, e in self.unproven]
            out.append(f"to replay what reached those address(es) as well, add {extra}")
        for why, n in sorted(self.skipped.items()):
            out.append(f"{n} datagram(s) left out: {why}" + (self._maybe_text() if why == BETWEEN_OTHERS else ""))
        return out

    def _maybe_text(self) -> str:
        """Said after the count of datagrams between other hosts: some of them may be the proxy's."""
        if not self.maybe:
            return ""
        every = " ".join(f"--pcap-proxy {hostport(a)}" for a in (*self.addresses, *self.maybe))
        return (f"; among them, requests to {_names(self.maybe)}, on the proxy's port and never from it: if "
                "that is the proxy's address too (a proxy with several, or listening on 0.0.0.0), name every "
                f"address: {every}")


def _names(addresses: Sequence[Address]) -> str:
    names = [hostport(a) for a in addresses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def parse_proxy_option(text: str | None) -> Address | str | None:
    """One ``--pcap-proxy``: None (guess), ``any``, or an ``IP:PORT`` (port 5060 when left out)."""
    if text is None:
        return None
    if text.strip().lower() == ANY:
        return ANY
    try:
        return parse_address(text)
    except AddressError as exc:
        raise PcapError(f"--pcap-proxy {text!r}: {exc} (or 'any')") from None


def parse_proxy_options(texts: str | Sequence[str] | None) -> list[Address] | str | None:
    """Every ``--pcap-proxy`` given (argparse's append list; one string is taken as a list of one):
    None (guess), ``any``, or the proxy's addresses in the order given, repeats dropped. ``any``
    goes alone, and the addresses are of one family (the simulated proxy has one socket)."""
    if isinstance(texts, str):
        texts = [texts]
    if not texts:
        return None
    parsed = [parse_proxy_option(t) for t in texts]
    if ANY in parsed:
        if len(parsed) > 1:
            raise PcapError("--pcap-proxy any replays every datagram, whoever it was sent to: give it alone, "
                            "without addresses")
        return ANY
    addresses: list[Address] = []
    for a in parsed:
        if a not in addresses:
            addresses.append(a)  # type: ignore[arg-type]
    families = {is_ipv6(a[0]) for a in addresses}
    if len(families) > 1:
        raise PcapError(f"--pcap-proxy {_names(addresses)}: IPv4 and IPv6 addresses, but the simulated proxy has "
                        "one socket, and a socket receives one family's datagrams: replay each family on its own")
    return addresses


@dataclass(frozen=True)
class Heads:
    """What choosing datagrams reads of one, in one parse by the packet toolkit's own
    :class:`~sipsim.packets.message.SipMessage` (folded lines, compact ``i:``/``v:`` names, any
    octets): ``call_id``, the first Call-ID as a parser takes it (None: the datagram has none);
    ``vias``, each via-parm top first as its branch (its sent-by when it has none) — what stays the
    same when a proxy forwards it, received= and rport values being added; ``is_request``: no
    status line."""

    call_id: str | None
    vias: tuple[str, ...]
    is_request: bool


def read_heads(data: bytes) -> Heads:
    """The :class:`Heads` of one datagram. A capture may hold anything: a datagram that is no SIP
    has no Call-ID and no Via, and this never raises. A line without a colon names no header."""
    try:
        msg = SipMessage.parse(data)
    except PacketsError:  # parse reads any octets; were that to change, garbage has no Call-ID
        return Heads(None, (), False)
    call_id: str | None = None
    vias: list[str] = []
    for h in msg.headers:  # one pass, each name compared once (a big capture reads tens of thousands)
        if h.malformed:
            continue
        key = h.key
        if key == "via":
            vias.extend(_via_id(parm) for parm in h.text.split(","))
        elif key == "call-id" and call_id is None:
            call_id = h.text
    return Heads(call_id, tuple(vias), msg.status is None)


def _via_id(parm: str) -> str:
    branch = via_branch(parm)
    return branch if branch else "".join(parm.split(";", 1)[0].split())


def sent_copies(datagrams: Sequence[SipDatagram]) -> dict[int, int]:
    """The sent copies of datagrams the capture holds twice (see the module docstring): index of
    each ``"out"`` datagram -> index of its ``"in"`` copy — the same source, destination and
    bytes, captured at most :data:`FORWARD_WINDOW` later (the earliest such copy not yet paired).
    Empty for a capture without directions. ``datagrams`` in time order."""
    pending: dict[tuple[Address, Address, bytes], deque[int]] = defaultdict(deque)
    pairs: dict[int, int] = {}
    for i, d in enumerate(datagrams):
        if d.direction not in (IN, OUT):
            continue
        key = (tuple(d.src), tuple(d.dst), d.data)
        if d.direction == OUT:
            pending[key].append(i)  # type: ignore[index]
            continue
        waiting = pending.get(key)  # type: ignore[arg-type]
        while waiting and _when(d) - _when(datagrams[waiting[0]]) > FORWARD_WINDOW:
            waiting.popleft()  # too old to be this one's other copy
        if waiting:
            pairs[waiting.popleft()] = i
    return pairs


def _heads(datagrams: Sequence[SipDatagram], heads: Sequence[Heads] | None) -> Sequence[Heads]:
    """``heads`` when the caller read them already (one read per datagram), else read now."""
    return heads if heads is not None else [read_heads(d.data) for d in datagrams]


def _when(d: SipDatagram) -> float:
    return d.capture_ns / 1e9 if d.capture_ns else d.time


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
    for d, h in zip(datagrams, _heads(datagrams, heads), strict=True):
        cid, chain, is_request = h.call_id, h.vias, h.is_request
        if cid is None or not chain:
            continue
        earlier = requests.get((cid, chain[1:])) if is_request else replies.get((cid, chain))
        if earlier:
            t, receiver, frame = earlier[-1]
            if 0 <= _when(d) - t <= FORWARD_WINDOW and receiver != tuple(d.src):
                found.append(Evidence(tuple(d.src), receiver, frame, d.frame))  # type: ignore[arg-type]
        if is_request:
            requests[(cid, chain)].append((_when(d), tuple(d.dst), d.frame))  # type: ignore[arg-type]
        elif len(chain) > 1:
            replies[(cid, chain[1:])].append((_when(d), tuple(d.dst), d.frame))  # type: ignore[arg-type]
    return found


def same_proxy(start: Sequence[Address], evidence: list[Evidence]) -> list[tuple[Address, Evidence]]:
    """The addresses the evidence ties to ``start`` (both ways, step by step), each with the
    pair that tied it, in the order found; only addresses of ``start``'s family (one socket)."""
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


def _same_port_receivers(datagrams: list[SipDatagram], heads: Sequence[Heads], proxy: set[Address], port: int,
                         v6: bool) -> list[Address]:
    """Addresses that received requests on ``port`` and never from the proxy: perhaps the proxy's."""
    seen: dict[Address, bool] = {}
    for d, h in zip(datagrams, heads, strict=True):
        dst = tuple(d.dst)
        if dst in proxy or dst[1] != port or is_ipv6(dst[0]) != v6 or not h.is_request:
            continue
        seen[dst] = seen.get(dst, True) and tuple(d.src) not in proxy  # type: ignore[index]
    return [a for a, ok in seen.items() if ok]


def guess_proxy(datagrams: list[SipDatagram], heads: Sequence[Heads] | None = None) -> Address | None:
    """The address taking part in the most datagrams; on a tie, the first request's destination.
    ``heads``: each datagram's :class:`Heads`, when already read."""
    counts: Counter[Address] = Counter()
    for d in datagrams:
        counts.update({tuple(d.src), tuple(d.dst)})  # type: ignore[arg-type]
    if not counts:
        return None
    best = max(counts.values())
    tied = {a for a, n in counts.items() if n == best}
    if len(tied) == 1:
        return next(iter(tied))
    for d, h in zip(datagrams, _heads(datagrams, heads), strict=True):
        if tuple(d.dst) in tied and h.is_request:
            return tuple(d.dst)  # type: ignore[return-value]
    for d in datagrams:
        for a in (tuple(d.dst), tuple(d.src)):
            if a in tied:
                return a  # type: ignore[return-value]
    return None


def plan_replay(datagrams: list[SipDatagram], proxy: Address | Sequence[Address] | str | None = None, *,
                loopback: bool = False) -> Replay:
    """Split a capture's datagrams into arrivals at the proxy and the rest (see the module doc).
    ``proxy``: None (guess), ``any``, one address or a list of them (the first one first).
    ``loopback``: the replaying proxy delivers what it sends to itself (the simulator): a received
    datagram the captured proxy sent itself is left out (:data:`LOOPED`)."""
    copies = sent_copies(datagrams)
    index = [i for i in range(len(datagrams)) if i not in copies]  # each datagram once
    unique = [datagrams[i] for i in index]
    left_out: dict[str, list[int]] = defaultdict(list)
    for i in copies:
        left_out[SENT_COPY].append(datagrams[i].frame)
    if proxy == ANY:
        return _replay(None, "any", datagrams, index, [], dict(left_out))
    how = "given" if proxy is not None else "guessed"
    heads = [read_heads(d.data) for d in unique]  # each datagram read once, for every choice below
    read: list[Heads | None] = [None] * len(datagrams)
    for i, h in zip(index, heads, strict=True):
        read[i] = h
    if proxy is None:
        first = guess_proxy(unique, heads)
        given: list[Address] = [first] if first is not None else []
    elif isinstance(proxy[0], str):
        given = [tuple(proxy)]  # type: ignore[list-item]
    else:
        given = [tuple(a) for a in proxy]  # type: ignore[misc]
    if not given:
        return _replay(None, how, datagrams, [], read, dict(left_out))
    found = same_proxy(given, forwarding_evidence(unique, heads))
    evidence: tuple[tuple[Address, Evidence], ...] = ()
    unproven: tuple[tuple[Address, Evidence], ...] = ()
    if how == "guessed":
        evidence = tuple(found)
        addresses = [*given, *(a for a, _ in found)]
    else:
        unproven = tuple(found)
        addresses = given
    mine = set(addresses)
    maybe: tuple[Address, ...] = ()
    if how == "guessed":
        maybe = tuple(_same_port_receivers(unique, heads, mine, given[0][1], is_ipv6(given[0][0]))[:5])
    kept: list[int] = []
    for i in index:
        d = datagrams[i]
        if loopback and d.direction == IN and tuple(d.src) in mine and tuple(d.dst) in mine:
            left_out[LOOPED].append(d.frame)
        elif tuple(d.dst) in mine:
            kept.append(i)
        else:
            left_out[SENT_BY_PROXY if tuple(d.src) in mine else BETWEEN_OTHERS].append(d.frame)
    plan = _replay(addresses[0], how, datagrams, kept, read, dict(left_out))
    plan.aliases, plan.evidence, plan.unproven, plan.maybe = tuple(addresses[1:]), evidence, unproven, maybe
    return plan


def _replay(proxy: Address | None, how: str, datagrams: list[SipDatagram], kept: list[int],
            read: list[Heads | None], left_out: dict[str, list[int]]) -> Replay:
    """A :class:`Replay` whose arrivals are ``datagrams[i]`` for each ``i`` of ``kept``, re-based
    so the first arrives at 0."""
    t0 = datagrams[kept[0]].time if kept else 0.0
    arrivals = [replace(datagrams[i], time=datagrams[i].time - t0) for i in kept]
    return Replay(proxy, how, arrivals, left_out=left_out, source=list(datagrams), arrival_index=kept, read=read)


@dataclass(frozen=True)
class Selection:
    """Which replayed datagrams to show (``trace --call-id TEXT --frames N-M``): those whose
    Call-ID equals ``call_id`` (compared as sent: RFC 3261 §20.8 Call-IDs are case-sensitive) and
    whose frame is in one of ``frames`` (inclusive ranges; ``None`` as the end: to the last).
    Both given: both must hold. Nothing given: every datagram."""

    call_id: str | None = None
    frames: tuple[tuple[int, int | None], ...] = ()
    frames_text: str = ""

    @property
    def active(self) -> bool:
        return self.call_id is not None or bool(self.frames)

    def matches(self, d: SipDatagram, heads: Callable[[], Heads] | None = None) -> bool:
        """Whether ``d`` is selected. ``heads``: gives its :class:`Heads` when they were read
        already (:meth:`Replay.select`); called only when the Call-ID is needed."""
        if self.frames and not any(lo <= d.frame and (hi is None or d.frame <= hi) for lo, hi in self.frames):
            return False
        if self.call_id is None:
            return True
        return (heads() if heads is not None else read_heads(d.data)).call_id == self.call_id

    def describe(self) -> str:
        parts = ([f"--call-id {self.call_id}"] if self.call_id is not None else []) + \
            ([f"--frames {self.frames_text}"] if self.frames else [])
        return " ".join(parts)

    def note(self, plan: Replay, shown: Sequence[bool], others: Sequence[int], packets: int, *,
             shown_word: str = "shown", after: bool = False) -> str:
        """The line a command prints (stderr) about what this selection picked of ``plan``: how
        many arrivals are ``shown`` (the flags :meth:`Replay.select` gave) and their frames, how
        many before the last one run unshown and why, with ``after`` how many after it are not run
        at all, and the matching ``others`` (frames not replayed) with the reason each was left
        out. Nothing shown: PcapError saying why (case counts in a Call-ID; the frame range)."""
        reason = {frame: why for why, frames in plan.left_out.items() for frame in frames}
        why: list[str] = []
        for text in dict.fromkeys(reason.get(f, "") for f in others):
            frames = [f for f in others if reason.get(f, "") == text]
            why.append(f"{frame_list(frames)}: {text or 'not replayed'}")
        left = f"; matching but not replayed: {'; '.join(why)}" if why else ""
        picked = [d.frame for d, flag in zip(plan.arrivals, shown, strict=True) if flag]
        if not picked:
            hint = " (Call-IDs are compared exactly, case included)" if self.call_id is not None else ""
            if self.frames:
                hint += f" (the capture's frames are 1 to {packets})"
            raise PcapError(f"no replayed datagram matches {self.describe()}{hint}{left}")
        last = max(i for i, flag in enumerate(shown) if flag)
        unshown = last + 1 - len(picked)
        before = "the one replayed before them still runs" if unshown == 1 else \
            f"the {unshown} replayed before them still run"
        runs = (f"; {before}, un{shown_word}, so the proxy's state (the location table its REGISTERs filled) is as "
                "in the full replay") if unshown else ""
        later = len(shown) - last - 1
        if after and later:
            runs += f"; the {later} replayed after the last one {shown_word} are not run" if later > 1 else \
                f"; the one replayed after the last one {shown_word} is not run"
        return (f"{self.describe()}: {len(picked)} of the {len(shown)} replayed datagram(s) {shown_word} "
                f"({frame_list(picked)}){runs}{left}")


def frame_list(frames: Sequence[int | None]) -> str:
    """``frames 1, 3, 5`` (the first twelve, then …): frame numbers for a note."""
    head = ", ".join(str(f) for f in frames[:12])
    return f"frame{'s' if len(frames) > 1 else ''} {head}{' …' if len(frames) > 12 else ''}"


def parse_frames(text: str) -> tuple[tuple[int, int | None], ...]:
    """``--frames``: ``N-M``, ``N`` or ``N-`` (to the end), several joined by commas (``1-5,67``);
    frame numbers as Wireshark shows them, from 1. A bad one: PcapError with the form expected."""
    out: list[tuple[int, int | None]] = []
    for part in text.split(","):
        lo_text, dash, hi_text = part.strip().partition("-")
        try:
            lo = int(lo_text)
            hi = (int(hi_text) if hi_text.strip() else None) if dash else lo
        except ValueError:
            raise PcapError(f"--frames {text!r}: expected frame numbers as Wireshark shows them: N-M, N, N- "
                            "(to the last) or several joined by commas, e.g. 1-20,67") from None
        if lo < 1 or (hi is not None and hi < lo):
            raise PcapError(f"--frames {text!r}: frames are numbered from 1, and a range N-M goes up (N <= M)")
        out.append((lo, hi))
    return tuple(out)


def family_mismatch(arrivals: list[SipDatagram], listen_host: str) -> str | None:
    """Why these arrivals cannot reach a proxy listening on ``listen_host``, or None.

    A socket receives datagrams of its own address family only: an IPv4 proxy never sees a
    datagram sent over IPv6, and the other way round. Replaying them anyway would teach something
    no kernel does, so the replay is refused with the reason (the CLI's error line).
    """
    v6 = is_ipv6(listen_host)
    other = [d for d in arrivals if is_ipv6(d.src[0]) != v6]
    if not other:
        return None
    fam, theirs = ("IPv6", "IPv4") if v6 else ("IPv4", "IPv6")
    return (f"{len(other)} of the capture's {len(arrivals)} datagram(s) came over {theirs}, but the proxy "
            f"listens on {listen_host} ({fam}), and a socket never receives the other family's datagrams")


def save_epoch(arrivals: list[SipDatagram], start: float = 0.0) -> float:
    """The ``epoch`` for :class:`~sipsim.packets.pcapwriter.PcapWriter` when the simulator saves a
    replay (``simulate --pcap IN --save-pcap OUT``, the TUI's ``s`` after ``tui --pcap IN``; it
    travels as ``Scenario.capture_epoch``): OUT then begins where IN did, so that mergecap and
    Wireshark's time columns line the two captures up.

    The simulator places the first arrival at virtual time ``start``; the epoch puts that instant
    at the first arrival's captured timestamp (its exact nanoseconds). Later datagrams line up
    as well when the replay keeps the captured gaps (``--pcap-time-scale`` 1, the default); a
    scaled replay matches at its first datagram only. No arrivals: 0.0 (the caller picks)."""
    if not arrivals:
        return 0.0
    first = arrivals[0]
    return (first.capture_ns / 1e9 if first.capture_ns else first.capture_time) - start
