"""The replay's fast readers agree with the slow, obvious ones they replace.

``read_capture`` walks link, IP and UDP headers with ``struct`` (a big capture should start at once);
here Scapy's full dissection of the same files is the oracle, datagram for datagram: every link type
the reader supports (Ethernet with 802.1Q and QinQ tags and frame padding, Linux cooked v1/v2 with
their packet types, BSD loopback, raw IP, the IPv4/IPv6 link types), IPv6 extension headers, IPv4 and
IPv6 fragments out of order, snapped, TCP, ICMP and non-SIP packets, SIP found by its first line on
another port, pcap (µs, ns) and pcapng (interfaces of several link types, directions, a timestamp
going backwards), and a capture sipsim's own simulator saved.

``read_heads`` reads a datagram's Call-ID and Vias without building a
:class:`~sipsim.packets.message.SipMessage`; the reading it replaces (through SipMessage) is the
oracle, on the RFC 4475/5118/3261 messages and on thousands of damaged variants of them.
"""

from __future__ import annotations

import random
import socket
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from helpers import DATA

from sipsim.cli import main
from sipsim.packets.guess import Heads, _via_id, read_heads
from sipsim.packets.message import SipMessage, looks_like_sip
from sipsim.packets.pcap import SipDatagram, read_capture
from sipsim.packets.replay import _at
from sipsim.packets.templates import craft_bytes

EPOCH = Decimal("1790000000")


# -- the oracle: Scapy's dissection ---------------------------------------------------------------


def scapy_datagrams(path: Path) -> tuple[list[tuple[Any, ...]], int, Counter[str]]:
    """What Scapy's ``rdpcap`` makes of ``path``: (the SIP/UDP datagrams as (frame, ns, src, dst,
    data, direction) in time order, the packet count, the skipped ones by reason). Fragments are
    collected from Scapy's IP/IPv6 layers and the whole UDP datagram dissected by Scapy's UDP."""
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
    from scapy.layers.l2 import CookedLinux, CookedLinuxV2
    from scapy.utils import rdpcap

    packets = rdpcap(str(path))
    found: list[tuple[Any, ...]] = []
    skipped: Counter[str] = Counter()
    pending: dict[tuple[Any, ...], dict[int, bytes]] = {}
    ends: dict[tuple[Any, ...], int] = {}
    for number, pkt in enumerate(packets, 1):
        direction = {1: "in", 2: "out"}.get(getattr(pkt, "direction", None) or 0)
        for cooked in (CookedLinux, CookedLinuxV2):
            if pkt.haslayer(cooked):
                kind = pkt[cooked].pkttype
                direction = "out" if kind == 4 else "in" if kind <= 3 else direction
        if pkt.haslayer(IP):
            ip = pkt[IP]
            if ip.proto != 17:
                skipped["TCP" if pkt.haslayer(TCP) else "other"] += 1
                continue
            if ip.len > len(bytes(ip)):
                skipped["cut short by the capture's snap length"] += 1
                continue
            src, dst = ip.src, ip.dst
            frag = (ip.flags.MF, ip.frag * 8, ("4", src, dst, ip.id), bytes(ip.payload)) \
                if ip.flags.MF or ip.frag else None
        elif pkt.haslayer(IPv6):
            ip6 = pkt[IPv6]
            src, dst = ip6.src, ip6.dst
            if pkt.haslayer(IPv6ExtHdrFragment):
                fh = pkt[IPv6ExtHdrFragment]
                frag = (fh.m, fh.offset * 8, ("6", src, dst, fh.id), bytes(fh.payload))
            elif not pkt.haslayer(UDP):
                skipped["TCP" if pkt.haslayer(TCP) else "other"] += 1
                continue
            else:
                frag = None
        else:
            skipped["not IP"] += 1
            continue
        if frag is not None:
            more, offset, key, piece = frag
            pending.setdefault(key, {})[offset] = piece
            if not more:
                ends[key] = offset + len(piece)
            pieces = pending[key]
            whole = b"".join(pieces[o] for o in sorted(pieces))
            if key not in ends or len(whole) != ends[key]:
                continue  # not complete yet (no overlaps in these captures)
            del pending[key]
            udp = UDP(whole)
        else:
            udp = pkt[UDP]
        data = bytes(udp.payload)[:udp.len - 8]
        if 5060 in (udp.sport, udp.dport) or looks_like_sip(data):
            found.append((number, int(pkt.time * 10**9), (src, udp.sport), (dst, udp.dport), data, direction))
        else:
            skipped["UDP but not SIP"] += 1
    found.sort(key=lambda r: r[1])
    return found, len(packets), skipped


def fast_datagrams(path: Path) -> tuple[list[tuple[Any, ...]], int, Counter[str]]:
    cap = read_capture(path)
    first = cap.datagrams[0].capture_ns if cap.datagrams else 0
    for d in cap.datagrams:
        assert d.time == (d.capture_ns - first) / 1e9 and d.capture_time == d.capture_ns / 1e9
    rows = [(d.frame, d.capture_ns, tuple(d.src), tuple(d.dst), d.data, d.direction) for d in cap.datagrams]
    reasons: Counter[str] = Counter()
    for why, n in cap.skipped.items():
        reasons["TCP" if "TCP" in why else "other" if why.startswith("not UDP") else why] += n
    return rows, cap.packets, reasons


# -- the varied captures --------------------------------------------------------------------------


def _sip(template: str, src: str, dst: str, pad: int = 0) -> bytes:
    return craft_bytes(template, src=src, dst=dst, sets=[("X-Padding", "p" * pad)] if pad else [])


def ip_packets() -> list[Any]:
    """IP packets (no link header) of every kind the reader meets, in file order."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
    from scapy.layers.inet6 import (
        IPv6,
        IPv6ExtHdrDestOpt,
        IPv6ExtHdrFragment,
        IPv6ExtHdrHopByHop,
        IPv6ExtHdrRouting,
        fragment6,
    )
    from scapy.packet import Raw

    a4, b4, c4 = "198.51.100.1", "198.51.100.2", "203.0.113.7"
    a6, b6 = "2001:db8::5", "2001:db8:0:0:1::6"
    big4 = IP(src=a4, dst=b4, id=4242) / UDP(sport=5060, dport=5060) / Raw(
        _sip("message", f"{a4}:5060", f"{b4}:5060", 3000))
    frags4 = fragment(big4, fragsize=1480)
    big6 = IPv6(src=a6, dst=b6) / IPv6ExtHdrFragment(id=99) / UDP(sport=5062, dport=5060) / Raw(
        _sip("invite", f"[{a6}]:5062", f"[{b6}]:5060", 2500))
    frags6 = fragment6(big6, 1280)
    assert len(frags4) == 3 and len(frags6) == 3
    return [
        IP(src=a4, dst=b4) / UDP(sport=5060, dport=5060) / Raw(_sip("invite", f"{a4}:5060", f"{b4}:5060")),
        IP(src=c4, dst=b4) / UDP(sport=33000, dport=5080) / Raw(_sip("options", f"{c4}:33000", f"{b4}:5080")),
        IP(src=b4, dst=a4) / UDP(sport=5060, dport=5060) / Raw(b"\r\n\r\n"),  # a keep-alive: padded on Ethernet
        IP(src=c4, dst=b4) / UDP(sport=53, dport=40000) / Raw(b"\x12\x34 not sip"),
        IP(src=a4, dst=b4) / TCP(sport=5060, dport=5060) / Raw(_sip("bye", f"{a4}:5060", f"{b4}:5060")),
        IP(src=a4, dst=b4) / ICMP(),
        frags4[2], frags4[0],
        IPv6(src=a6, dst=b6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting() / IPv6ExtHdrDestOpt()
        / UDP(sport=5060, dport=5060) / Raw(_sip("register", f"[{a6}]:5060", f"[{b6}]:5060")),
        frags6[1], frags4[1], frags6[0],
        IPv6(src=b6, dst=a6) / TCP(sport=5060, dport=40001),
        IP(src=b4, dst=a4, options=b"\x01\x01\x01\x00") / UDP(sport=5060, dport=5062)
        / Raw(_sip("200", f"{b4}:5060", f"{a4}:5062")),  # an IPv4 header with options
        frags6[2],
        IP(src=a4, dst=c4) / UDP(sport=5070, dport=5070) / Raw(b"SIP/2.0 180 Ringing\r\nCall-ID: x\r\n\r\n"),
    ]


def write_varied(tmp: Path) -> list[Path]:
    """The same IP packets under every link type, in pcap (µs and ns), and a pcapng mixing link
    types and directions whose timestamps go back once; a snapped packet; sipsim's own capture."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether, Loopback, LoopbackOpenBSD
    from scapy.utils import PcapNgWriter, PcapWriter

    def family(p: Any) -> int:
        return 0x86DD if p.haslayer(IPv6) else 0x800

    def padded(frame: Any) -> Any:  # an Ethernet frame below 60 octets is padded on the wire (and captured so)
        wire = bytes(frame)
        return Ether(wire + bytes(max(0, 60 - len(wire))))

    framings: dict[str, Any] = {
        "ether": lambda p, k: padded(Ether() / p),
        "ether_vlan": lambda p, k: padded(Ether() / Dot1Q(vlan=7) / p),
        "ether_qinq": lambda p, k: Ether() / Dot1AD(vlan=5) / Dot1Q(vlan=7) / p,
        "sll": lambda p, k: CookedLinux(pkttype=4 if k % 3 == 0 else k % 2, proto=family(p)) / p,
        "sll_vlan": lambda p, k: CookedLinux(pkttype=k % 5, proto=0x8100) / Dot1Q(vlan=9) / p,
        "sll2": lambda p, k: CookedLinuxV2(pkttype=4 if k % 2 else 0, proto=family(p)) / p,
        # the address family: the reader goes by the IP version nibble, Scapy by this machine's AF_INET6
        "null": lambda p, k: Loopback(type=socket.AF_INET6 if p.haslayer(IPv6) else 2) / p,
        "loop": lambda p, k: LoopbackOpenBSD(type=socket.AF_INET6 if p.haslayer(IPv6) else 2) / p,
    }
    packets = ip_packets()
    paths = []
    for name, frame in framings.items():
        for nano in (False, True):
            path = tmp / f"{name}{'-ns' if nano else ''}.pcap"
            with PcapWriter(str(path), nano=nano) as w:
                for k, p in enumerate(packets):
                    pkt = frame(p, k)
                    pkt.time = EPOCH + Decimal(k) / 8 + (Decimal("0.000000123") if nano else 0)
                    w.write(pkt)
            paths.append(path)
    for linktype in (101, 228, 229):  # raw IP, and the link types of one IP version
        path = tmp / f"raw{linktype}.pcap"
        with PcapWriter(str(path), linktype=linktype) as w:
            for k, p in enumerate(packets):
                if linktype == 101 or (linktype == 228) == p.haslayer(IP):
                    p = p.copy()
                    p.time = EPOCH + Decimal(k) / 8
                    w.write(p)
        paths.append(path)
    ng = tmp / "mixed.pcapng"
    with PcapNgWriter(str(ng)) as w:
        for k, p in enumerate(packets):
            pkt = (Ether() / p) if k % 3 else (CookedLinuxV2(pkttype=k % 5, proto=family(p)) / p)
            pkt.sniffed_on = "eth0" if k % 3 else "any"  # one interface each
            pkt.direction = (k // 2) % 3  # epb_flags: 0 unknown, 1 inbound, 2 outbound
            pkt.time = EPOCH + Decimal(k) / 8 - (Decimal(2) if k == 8 else 0)  # a clock stepped back
            w.write(pkt)
    paths.append(ng)
    snapped = tmp / "snapped.pcap"
    with PcapWriter(str(snapped)) as w:
        for k, p in enumerate(packets[:4]):
            pkt = Ether(bytes(Ether() / p)[:80]) if k == 0 else Ether() / p  # the INVITE cut at 80 octets
            pkt.time = EPOCH + k
            w.write(pkt)
    paths.append(snapped)
    own = tmp / "simulated.pcap"  # Linux cooked, directions, the proxy's own datagrams
    assert main(["simulate", "basic-call", "--save-pcap", str(own)]) == 0
    paths.append(own)
    return paths


def test_the_reader_and_scapys_full_dissection_agree_datagram_for_datagram(tmp_path: Path, capsys: Any) -> None:
    paths = write_varied(tmp_path)
    capsys.readouterr()
    for path in paths:
        fast, oracle = fast_datagrams(path), scapy_datagrams(path)
        assert fast[0], path.name  # every capture holds SIP datagrams
        assert fast == oracle, path.name
    # and the cases the captures are there for did occur: fragments of both families reassembled,
    # TCP and snapped packets skipped, directions read, a clock stepped back re-sorted
    ether = read_capture(tmp_path / "ether.pcap")
    assert sum(len(d.data) > 2500 for d in ether.datagrams) == 2 and ether.skipped["UDP but not SIP"] == 1
    assert {d.direction for d in read_capture(tmp_path / "mixed.pcapng").datagrams} == {"in", "out", None}
    assert read_capture(tmp_path / "mixed.pcapng").backwards == 1
    assert read_capture(tmp_path / "snapped.pcap").skipped["cut short by the capture's snap length"] == 1
    assert {d.direction for d in read_capture(tmp_path / "sll.pcap").datagrams} == {"in", "out"}


# -- the head reader ------------------------------------------------------------------------------


def heads_through_sipmessage(data: bytes) -> Heads:
    """What ``read_heads`` gave before it read the octets itself: a whole SipMessage, then its headers."""
    msg = SipMessage.parse(data)
    call_id: str | None = None
    vias: list[str] = []
    for h in msg.headers:
        if h.malformed:
            continue
        if h.key == "via":
            vias.extend(_via_id(parm) for parm in h.text.split(","))
        elif h.key == "call-id" and call_id is None:
            call_id = h.text
    is_request = msg.status is None
    return Heads(call_id, tuple(vias), is_request, msg.method.upper() if is_request else "")


# what damage inserts: line ends, folds, separators, compact and odd names, octets that are not UTF-8
PIECES = [b"\r", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b" ", b"\t", b"\r\n ", b"\n\t", b":", b",", b"\xff", b"\xc3",
          b"\xe2\x82", b"v:", b"i:", b"\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1", b"\r\nCALL-ID : \xc4\xb1\r\n",
          b"\r\n\xc4\xb1: x", b"\r\nVia\r\n :", b"\x0bVia\x1c:", b"SIP/2.0 ", b"200 ", b";branch=", b"sip/2.0 99"]


def test_read_heads_reads_as_sipmessage_does(tmp_path: Path) -> None:
    corpus = sorted(DATA.glob("rfc*/**/*.dat"))
    assert len(corpus) > 50
    messages = [p.read_bytes() for p in corpus]
    messages += [b"", b"\r\n", b"\n\nINVITE", b" Via: x\r\n", b"OPTIONS x SIP/2.0\r\n Via: a;branch=b\r\n\r\n",
                 b"SIP/2.0 200 OK\r\nv: a\r\n\r", b"SIP/2.0 200 OK\r\nv: a\r"]
    rng = random.Random(4475)
    damaged = []
    for _ in range(6000):
        data = bytearray(rng.choice(messages))
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(data) + 1)
            roll = rng.random()
            if roll < 0.6:
                data[at:at] = rng.choice(PIECES)
            elif roll < 0.85:
                del data[at:at + rng.randint(1, 4)]
            else:
                data[at:at + 1] = bytes([rng.randrange(256)])
        damaged.append(bytes(data))
    differ = [d for d in messages + damaged if read_heads(d) != heads_through_sipmessage(d)]
    assert not differ, differ[:3]
    # the cases that matter were met: folded and compact Vias and Call-IDs, replies, no Call-ID
    seen = [read_heads(d) for d in messages + damaged]
    assert sum(h.call_id is None for h in seen) > 100 and sum(not h.is_request for h in seen) > 100
    assert sum(len(h.vias) > 1 for h in seen) > 100
    assert read_heads(bytearray(messages[0])) == read_heads(messages[0])  # any octets-like object


def test_moving_an_arrival_keeps_every_other_field() -> None:
    d = SipDatagram(2.5, ("192.0.2.1", 5060), ("192.0.2.2", 5062), b"OPTIONS", 1.79e9, 7, 1_790_000_000_000_000_123,
                    "in")
    assert _at(d, 0.25) == replace(d, time=0.25)
