"""Replaying a capture through the simulated proxy: which datagrams it receives, and as whom.

A capture taken on or beside a SIP proxy (``tcpdump -i any port 5060`` on the Kamailio box, or a
file sipsim saved) holds both directions: what reached the proxy and what the proxy sent. Only
the first are *arrivals*; the second are what the proxy computed, and the simulated proxy must
compute its own. Feeding them back in would make it receive its own forwarded INVITE (a loop)
and the replies it had sent (which it would forward again).

So a replay picks the proxy of the capture, an ``(ip, port)``:

- given by the user (``--pcap-proxy IP:PORT``), or
- guessed: the address that takes part (as source or destination) in the most datagrams; every
  datagram of a capture taken at a proxy involves it. On a tie (a phone talking to one server:
  both take part in everything) the one the first request was sent to wins.

Datagrams sent *to* it become arrivals (their times re-based so the first arrives at 0); those it
sent, and those between two other hosts, are left out and counted with the reason. ``proxy="any"``
keeps every datagram (each one arrives at the simulated proxy, whoever it was sent to).

The simulated proxy then stands in for the captured one: the CLI makes it listen on that address
(or, when a scenario fixes the address, names it as an alias) so a Request-URI or Route that named
the captured proxy still means "myself" (Kamailio's ``myself`` check: listen addresses and aliases).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from sipsim.packets.addr import Address, is_ipv6, parse_address
from sipsim.packets.errors import AddressError, PcapError
from sipsim.packets.message import split_first_line
from sipsim.packets.pcap import SipDatagram

ANY = "any"


@dataclass
class Replay:
    """What the simulated proxy receives from a capture. ``proxy``: the captured proxy's address
    (None with ``any``); ``how``: "given", "guessed" or "any"."""

    proxy: Address | None
    how: str
    arrivals: list[SipDatagram]
    skipped: Counter[str] = field(default_factory=Counter)

    def notes(self) -> list[str]:
        """Readable lines about the choice and what was left out (for a CLI's stderr)."""
        if self.proxy is None:
            head = "every SIP datagram of the capture arrives at the simulated proxy"
        else:
            from sipsim.packets.addr import hostport

            head = (f"the capture's proxy is {hostport(self.proxy)} ({self.how}; --pcap-proxy IP:PORT "
                    "chooses another, --pcap-proxy any replays every datagram): "
                    f"{len(self.arrivals)} datagram(s) sent to it are replayed")
        return [head] + [f"{n} datagram(s) left out: {why}" for why, n in sorted(self.skipped.items())]


def parse_proxy_option(text: str | None) -> Address | str | None:
    """``--pcap-proxy``: None (guess), ``any``, or an ``IP:PORT`` (port 5060 when left out)."""
    if text is None:
        return None
    if text.strip().lower() == ANY:
        return ANY
    try:
        return parse_address(text)
    except AddressError as exc:
        raise PcapError(f"--pcap-proxy {text!r}: {exc} (or 'any')") from None


def _is_request(data: bytes) -> bool:
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0].rstrip(b"\r")
    return split_first_line(first.decode("latin-1"))[0] == "request"


def guess_proxy(datagrams: list[SipDatagram]) -> Address | None:
    """The address taking part in the most datagrams; on a tie, the first request's destination."""
    counts: Counter[Address] = Counter()
    for d in datagrams:
        counts.update({tuple(d.src), tuple(d.dst)})  # type: ignore[arg-type]
    if not counts:
        return None
    best = max(counts.values())
    tied = {a for a, n in counts.items() if n == best}
    if len(tied) == 1:
        return next(iter(tied))
    for d in datagrams:
        if tuple(d.dst) in tied and _is_request(d.data):
            return tuple(d.dst)  # type: ignore[return-value]
    for d in datagrams:
        for a in (tuple(d.dst), tuple(d.src)):
            if a in tied:
                return a  # type: ignore[return-value]
    return None


def plan_replay(datagrams: list[SipDatagram], proxy: Address | str | None = None) -> Replay:
    """Split a capture's datagrams into arrivals at ``proxy`` and the rest (see the module doc)."""
    if proxy == ANY:
        return Replay(None, "any", list(datagrams))
    how = "given" if proxy is not None else "guessed"
    chosen = tuple(proxy) if proxy is not None else guess_proxy(datagrams)  # type: ignore[arg-type]
    if chosen is None:
        return Replay(None, how, [])
    skipped: Counter[str] = Counter()
    kept: list[SipDatagram] = []
    for d in datagrams:
        if tuple(d.dst) == chosen:
            kept.append(d)
        elif tuple(d.src) == chosen:
            skipped["sent by the capture's proxy (the simulated proxy computes its own)"] += 1
        else:
            skipped["between two other hosts (not to the capture's proxy)"] += 1
    t0 = kept[0].time if kept else 0.0
    arrivals = [replace(d, time=d.time - t0) for d in kept]
    return Replay(chosen, how, arrivals, skipped)  # type: ignore[arg-type]


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
    replay (``simulate --pcap IN --save-pcap OUT``): OUT then begins where IN did, so that mergecap
    and Wireshark's time columns line the two captures up.

    The simulator places the first arrival at virtual time ``start``; the epoch puts that instant
    at the first arrival's captured timestamp (its exact nanoseconds). Later datagrams line up
    as well when the replay keeps the captured gaps (``--pcap-time-scale`` 1, the default); a
    scaled replay matches at its first datagram only. No arrivals: 0.0 (the caller picks)."""
    if not arrivals:
        return 0.0
    first = arrivals[0]
    return (first.capture_ns / 1e9 if first.capture_ns else first.capture_time) - start
