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
- guessed (:mod:`sipsim.packets.guess`): the busiest of the addresses that act most like a
  server — forwarding what they received, then messages only a server gets or sends, then
  receiving requests (a phone that sends to two servers takes part in every datagram, yet
  receives none). A tie is broken by the first request's destination and said in the notes,
  with the ``--pcap-proxy`` options that pick another. Its other addresses
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
from dataclasses import dataclass, field

from sipsim.packets.addr import Address, hostport, is_ipv6, parse_address, uri_host
from sipsim.packets.errors import AddressError, PcapError
from sipsim.packets.guess import (  # re-exported: the names replays and their tests have always used
    FORWARD_WINDOW,
    Evidence,
    Heads,
    forwarding_evidence,
    guess,
    guess_proxy,
    read_heads,
    same_port_receivers,
    same_proxy,
    when,
)
from sipsim.packets.pcap import IN, OUT, SipDatagram

__all__ = ["FORWARD_WINDOW", "Evidence", "Heads", "forwarding_evidence", "guess_proxy", "read_heads", "same_proxy"]

ANY = "any"
SENT_BY_PROXY = "sent by the capture's proxy (the simulated proxy computes its own)"
BETWEEN_OTHERS = "between two other hosts (not to the capture's proxy)"
LOOPED = ("sent by the capture's proxy to itself (the received copy): the simulated proxy sends, and receives, "
          "its own")
SENT_COPY = ("the sent copy of a datagram captured twice, sent and received (the capturing host sent it to "
             "itself): the datagram is taken once, as received")


@dataclass
class Replay:
    """What the simulated proxy receives from a capture. ``proxy``: the captured proxy's first
    address (None with ``any``), ``aliases`` its others; ``how``: "given", "guessed" or "any".
    ``evidence``: how each guessed alias was found; ``unproven``: addresses the capture shows the
    proxy forwarding from or for, not given (``how`` "given"); ``maybe``: other addresses
    receiving requests on the guessed proxy's port, without evidence; ``grounds`` why the guess
    took the proxy, ``rivals`` the addresses that fitted as well (the guess may be wrong: the
    notes say so). ``left_out``: the frames
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
    grounds: str = ""  # guessed: on what ground (sipsim.packets.guess.RANKS)
    rivals: tuple[Address, ...] = ()  # guessed: addresses that fit as well; a tie broken by ``tie_break``
    tie_break: str = ""
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
            how = f"{self.how}: {self.grounds}" if self.grounds else self.how
            head = (f"the capture's proxy is {_names(self.addresses)} ({how}; --pcap-proxy IP:PORT "
                    "chooses another, once per address of a proxy with several, --pcap-proxy any replays every "
                    f"datagram): {len(self.arrivals)} datagram(s) sent to it are replayed")
        out = [head, *self._rivals_text()]
        out += [f"{hostport(a)} is the proxy's too: {e.text()}" for a, e in self.evidence]
        if self.unproven:
            extra = " ".join(f"--pcap-proxy {hostport(a)}" for a, _ in self.unproven)
            out += [f"{hostport(a)} looks like the proxy's too: {e.text()}" for a, e in self.unproven]
            out.append(f"to replay what reached those address(es) as well, add {extra}")
        for why, n in sorted(self.skipped.items()):
            out.append(f"{n} datagram(s) left out: {why}" + (self._maybe_text() if why == BETWEEN_OTHERS else ""))
        return out

    def _rivals_text(self) -> list[str]:
        """The note of an uncertain guess: who fitted as well, why this one was taken, what to give."""
        if not self.rivals or self.proxy is None:
            return []
        them, one = _names(self.rivals), len(self.rivals) == 1
        instead = " ".join(f"--pcap-proxy {hostport(a)}" for a in self.rivals[:1])
        every = " ".join(f"--pcap-proxy {hostport(a)}" for a in (*self.addresses, *self.rivals))
        return [f"the guess is uncertain: {them} {'fits' if one else 'fit'} as well ({self.grounds}, in as many "
                f"datagrams) and {hostport(self.proxy)} was taken, being {self.tie_break}; if the proxy is "
                f"{'that one' if one else 'another'}, give {instead}{'' if one else ' (or the one it is)'}, and "
                f"if {'both are' if one else 'all are'} the proxy's addresses, {every}"]

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
        while waiting and when(d) - when(datagrams[waiting[0]]) > FORWARD_WINDOW:
            waiting.popleft()  # too old to be this one's other copy
        if waiting:
            pairs[waiting.popleft()] = i
    return pairs


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
    forwarded = forwarding_evidence(unique, heads)
    picked = guess(unique, heads, forwarded) if proxy is None else None
    if picked is not None:
        given: list[Address] = [picked.address] if picked.address is not None else []
    elif isinstance(proxy[0], str):  # type: ignore[index]
        given = [tuple(proxy)]  # type: ignore[arg-type, list-item]
    else:
        given = [tuple(a) for a in proxy]  # type: ignore[misc, union-attr]
    if not given:
        return _replay(None, how, datagrams, [], read, dict(left_out))
    found = same_proxy(given, forwarded)
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
    rivals: tuple[Address, ...] = ()
    if picked is not None:  # rivals the evidence tied to the proxy are its own addresses, no rivals
        rivals = tuple(a for a in picked.rivals if a not in mine)
        maybe = tuple(a for a in same_port_receivers(unique, heads, mine, given[0][1], is_ipv6(given[0][0]))
                      if a not in rivals)[:5]
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
    if picked is not None:
        plan.grounds, plan.rivals, plan.tie_break = picked.grounds, rivals, picked.tie_break
    return plan


def _replay(proxy: Address | None, how: str, datagrams: list[SipDatagram], kept: list[int],
            read: list[Heads | None], left_out: dict[str, list[int]]) -> Replay:
    """A :class:`Replay` whose arrivals are ``datagrams[i]`` for each ``i`` of ``kept``, re-based
    so the first arrives at 0."""
    t0 = datagrams[kept[0]].time if kept else 0.0
    arrivals = [_at(datagrams[i], datagrams[i].time - t0) for i in kept]
    return Replay(proxy, how, arrivals, left_out=left_out, source=list(datagrams), arrival_index=kept, read=read)


def _at(d: SipDatagram, time: float) -> SipDatagram:
    """``d`` at another ``time``: ``dataclasses.replace`` without its generic cost (a replay of a big
    capture moves every arrival)."""
    return SipDatagram(time, d.src, d.dst, d.data, d.capture_time, d.frame, d.capture_ns, d.direction)


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
