"""Reading captures: the SIP-over-UDP datagrams of a pcap or pcapng file, ready to replay.

``read_sip_datagrams(path)`` gives what a SIP server's ``recvfrom()`` would have returned for the
capture: one :class:`SipDatagram` per UDP datagram (IP fragments reassembled), with its source and
destination ``(ip, port)`` and its arrival time relative to the first one. The simulator turns
them into arrivals; ``time_scale`` stretches (2.0) or compresses (0.5) the timing.

Read here without Scapy (plain ``struct``), because a capture can hold millions of packets and a
replay should start at once: classic pcap (µs and ns, either byte order, gzip-compressed too) and
pcapng (every section and interface, each with its own link type and timestamp resolution);
link types Ethernet, Linux cooked v1 and v2 (SLL, SLL2; each with 802.1Q/802.1ad VLAN tags, QinQ
too), raw IP, IPv4, IPv6, BSD loopback (NULL and LOOP); IPv4 and IPv6 (extension headers walked,
fragments reassembled). Only SIP over UDP: TCP, TLS, SCTP and WebSocket packets are counted and
skipped. Another capture format (snoop, ERF, ...) can be converted with Wireshark's
``editcap -F pcapng IN OUT``.

Each datagram keeps where it is in the capture: ``frame``, the number Wireshark and tshark give the
packet (the first packet of the file is frame 1; a datagram reassembled from IP fragments has the
number of the fragment that completed it, where Wireshark shows the reassembled message), and
``capture_ns``/``capture_time``, that packet's timestamp. The datagrams are returned in time order;
a capture whose timestamps go backwards (pcapng interfaces interleaved, a clock stepped back) is
re-sorted, and :meth:`Capture.notes` says so: the frame numbers stay the file's.

Direction: a capture may say, for each packet, whether the capturing host received or sent it —
the packet type of a Linux cooked header (SLL, SLL2: ``tcpdump -i any``, and sipsim's own captures
of a proxy: 0-3 received, 4 PACKET_OUTGOING sent) or the direction bits of a pcapng Enhanced Packet
Block's ``epb_flags``. :attr:`SipDatagram.direction` is then ``"in"`` or ``"out"``, else None
(Ethernet, raw IP, ``tcpdump -i lo``: each datagram is in the file once, its direction unknown).
It is what tells the two copies of a datagram the host sent to itself apart; see
:mod:`sipsim.packets.replay`.

Which datagrams are SIP: those from or to one of ``ports`` (5060 by default), and any other whose
payload starts like a SIP request or status line (the way Wireshark's heuristic finds SIP).
Packets that are not SIP/UDP are skipped and counted in :class:`Capture.skipped`.
"""

from __future__ import annotations

import gzip
import ipaddress
import math
import os
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from sipsim.packets.addr import Address
from sipsim.packets.errors import PcapError
from sipsim.packets.fragments import Reassembler
from sipsim.packets.message import looks_like_sip

# Link-layer header types (https://www.tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
_RAW_ALIASES = (12, 14)  # DLT_RAW as some BSDs number it

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BOM = 0x1A2B3C4D

IN, OUT = "in", "out"  # a datagram's direction, as the capturing host saw it: received, sent
PACKET_HOST, PACKET_OUTGOING = 0, 4  # Linux packet types (if_packet.h): to us, sent by us
EPB_FLAGS = 2  # pcapng Enhanced Packet Block option: bits 0-1 the direction (1 inbound, 2 outbound)


@dataclass(frozen=True, slots=True)
class SipDatagram:
    """One UDP datagram as a receiver gets it. ``time``: seconds after the first datagram of the
    capture, multiplied by ``time_scale``; ``capture_time``: absolute capture timestamp (s since
    the epoch), ``capture_ns`` the same in integer nanoseconds (exact); ``frame``: the capture's
    frame number (1 = the file's first packet, as Wireshark counts; 0 when not from a capture);
    ``direction``: ``"in"`` or ``"out"`` as the capturing host saw it, None when unknown."""

    time: float
    src: Address
    dst: Address
    data: bytes
    capture_time: float = 0.0
    frame: int = 0
    capture_ns: int = 0
    direction: str | None = None  # IN, OUT, or None: the capture does not say (see the module docstring)


def _fraction(ns: int) -> str:
    """The sub-second part at the capture's resolution: 6 digits, or 9 for a nanosecond stamp."""
    sub = ns % 10**9
    return f"{sub // 1000:06d}" if sub % 1000 == 0 else f"{sub:09d}"


def time_of_day(ns: int) -> str:
    """``00:22:39.123456``: a capture timestamp as Wireshark's default time column shows it (the
    local time of day)."""
    from datetime import datetime

    return f"{datetime.fromtimestamp(ns // 10**9):%H:%M:%S}.{_fraction(ns)}"


def utc_time(ns: int) -> str:
    """``2026-11-28T00:22:39.123456Z``: a capture timestamp in ISO 8601, UTC (for JSON)."""
    from datetime import UTC, datetime

    return f"{datetime.fromtimestamp(ns // 10**9, UTC):%Y-%m-%dT%H:%M:%S}.{_fraction(ns)}Z"


def frame_label(d: SipDatagram) -> str:
    """``frame 67 (00:22:39.123456)``: where to find the datagram in Wireshark (Go to packet)."""
    return f"frame {d.frame} ({time_of_day(d.capture_ns)})"


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured packet: timestamp in ns since the epoch, link type, bytes, length on the wire;
    ``direction`` from a pcapng block's flags (the link header's packet type is read later)."""

    ts_ns: int
    linktype: int
    data: bytes
    orig_len: int
    direction: str | None = None


@dataclass
class Capture:
    """What a capture held: the SIP datagrams and a count of everything skipped, by reason."""

    datagrams: list[SipDatagram]
    packets: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    backwards: int = 0  # SIP datagrams whose timestamp is earlier than the one before them in the file

    def notes(self) -> list[str]:
        """Readable lines about what was left out, and about a re-sorting (for a CLI or a log)."""
        out = [f"{n} packet(s) skipped: {reason}" for reason, n in sorted(self.skipped.items())]
        if self.backwards:
            out.append(f"timestamps go backwards {self.backwards} time(s) in the file: the datagrams are taken in "
                       "time order, not file order (the frame numbers shown are the file's)")
        return out


# -- containers: pcap and pcapng ---------------------------------------------------------------------


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        f: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise PcapError(f"cannot read capture {os.fspath(path)!r}: {exc.strerror or exc}") from None
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    f.seek(0)
    return f


def iter_frames(path: str | os.PathLike[str], notes: Counter[str] | None = None) -> Iterator[Frame]:
    """Every packet of a pcap or pcapng file, in file order. PcapError if it is neither."""
    for record in _records(path, notes if notes is not None else Counter()):
        yield Frame(*record)


# One packet as the containers give it: (ts_ns, linktype, data, orig_len, direction), the fields of
# a Frame; a tuple, for the reader builds one per packet of captures of millions.
_Record = tuple[int, int, bytes, int, "str | None"]


def _records(path: str | os.PathLike[str], notes: Counter[str]) -> Iterator[_Record]:
    """:func:`iter_frames`' packets as :data:`_Record` tuples."""
    name = os.fspath(path)
    with _open(path) as f:
        try:
            head = f.read(4)
        except (OSError, EOFError) as exc:
            raise PcapError(f"cannot read capture {name!r}: {exc}") from None
        if len(head) < 4:
            raise PcapError(f"{name!r} is not a pcap or pcapng capture (the file is {len(head)} bytes long)")
        magic_le = struct.unpack("<I", head)[0]
        magic_be = struct.unpack(">I", head)[0]
        try:
            if magic_le == PCAPNG_SHB:
                f.seek(0)
                yield from _pcapng(f, name, notes)
            elif PCAP_MAGIC_US in (magic_le, magic_be) or PCAP_MAGIC_NS in (magic_le, magic_be):
                endian = "<" if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS) else ">"
                ns = PCAP_MAGIC_NS in (magic_le, magic_be)
                yield from _pcap(f, name, endian, ns, notes)
            else:
                raise PcapError(
                    f"{name!r} is not a pcap or pcapng capture (it starts with {head.hex(' ')}; "
                    "expected a1 b2 c3 d4, a1 b2 3c 4d or 0a 0d 0d 0a); if it is another capture format "
                    f"(snoop, ERF, ...), Wireshark's editcap converts it: editcap -F pcapng {name} OUT.pcapng")
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise PcapError(f"cannot read capture {name!r}: {exc}") from None
        except struct.error:
            raise PcapError(f"{name!r}: a block or packet header is too short; the file is damaged") from None


def _pcap(f: BinaryIO, name: str, endian: str, ns: bool, notes: Counter[str]) -> Iterator[_Record]:
    rest = f.read(20)
    if len(rest) < 20:
        raise PcapError(f"{name!r}: the pcap file header is cut short")
    _vmaj, _vmin, _zone, _sig, _snap, network = struct.unpack(endian + "HHiIII", rest)
    linktype = network & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    scale = 1 if ns else 1000
    while True:
        hdr = f.read(16)
        if not hdr:
            return
        if len(hdr) < 16:
            notes["the file ends in the middle of a packet header"] += 1
            return
        sec, frac, incl, orig = rec.unpack(hdr)
        if incl > 0x4000000:
            raise PcapError(f"{name!r}: a packet claims {incl} bytes; the file is damaged")
        data = f.read(incl)
        if len(data) < incl:
            notes["the file ends in the middle of a packet"] += 1
            return
        yield sec * 1_000_000_000 + frac * scale, linktype, data, orig, None


def _pcapng(f: BinaryIO, name: str, notes: Counter[str]) -> Iterator[_Record]:
    endian = "<"
    interfaces: list[tuple[int, int, int, int]] = []  # (linktype, num, den, offset_s) per interface
    last_ns = 0
    first = True
    while True:
        head = f.read(8)
        if not head:
            return
        if len(head) < 8:
            notes["the file ends in the middle of a block"] += 1
            return
        btype_le = struct.unpack("<I", head[:4])[0]
        if btype_le == PCAPNG_SHB:
            bom = f.read(4)
            if len(bom) < 4:
                notes["the file ends in the middle of a block"] += 1
                return
            endian = "<" if struct.unpack("<I", bom)[0] == PCAPNG_BOM else ">"
            if struct.unpack(endian + "I", bom)[0] != PCAPNG_BOM:
                raise PcapError(f"{name!r}: bad pcapng byte-order magic {bom.hex(' ')}")
            length = struct.unpack(endian + "I", head[4:])[0]
            body = bom + f.read(max(0, length - 12))
            interfaces = []  # a new section starts its own interface numbering
        elif first:
            raise PcapError(f"{name!r}: a pcapng file must start with a section header block")
        else:
            length = struct.unpack(endian + "I", head[4:])[0]
            if length < 12 or length % 4:
                raise PcapError(f"{name!r}: a pcapng block has an impossible length {length}")
            body = f.read(length - 8)
        first = False
        if len(body) < length - 8:
            notes["the file ends in the middle of a block"] += 1
            return
        btype = struct.unpack(endian + "I", head[:4])[0]
        payload = body[:-4]
        if btype == 1:  # Interface Description Block
            interfaces.append(_idb(payload, endian))
        elif btype in (6, 2):  # Enhanced Packet Block, obsolete Packet Block
            if btype == 6:
                iface, hi, lo, caplen, orig = struct.unpack(endian + "IIIII", payload[:20])
            else:
                iface, _drops, hi, lo, caplen, orig = struct.unpack(endian + "HHIIII", payload[:20])
            if iface >= len(interfaces):
                notes["packet on an undeclared pcapng interface"] += 1
                continue
            linktype, num, den, offset = interfaces[iface]
            ticks = (hi << 32) | lo
            last_ns = ticks * num // den + offset * 10**9
            direction = _epb_direction(payload[20 + caplen + (-caplen % 4):], endian) if btype == 6 else None
            yield last_ns, linktype, payload[20:20 + caplen], orig, direction
        elif btype == 3:  # Simple Packet Block: no timestamp, interface 0
            if not interfaces:
                notes["packet on an undeclared pcapng interface"] += 1
                continue
            orig = struct.unpack(endian + "I", payload[:4])[0]
            yield last_ns, interfaces[0][0], payload[4:4 + orig], orig, None


def _epb_direction(options: bytes, endian: str) -> str | None:
    """The direction an Enhanced Packet Block's ``epb_flags`` option gives (bits 0-1: 1 inbound,
    2 outbound; 0 or no option: not known)."""
    pos = 0
    while pos + 4 <= len(options):
        code, olen = struct.unpack(endian + "HH", options[pos:pos + 4])
        if code == 0:
            break
        if code == EPB_FLAGS and olen == 4:
            bits = struct.unpack(endian + "I", options[pos + 4:pos + 8])[0] & 3
            return {1: IN, 2: OUT}.get(bits)
        pos += 4 + olen + (-olen % 4)
    return None


def _idb(payload: bytes, endian: str) -> tuple[int, int, int, int]:
    linktype = struct.unpack(endian + "H", payload[:2])[0]
    num, den, offset = 1000, 1, 0  # default resolution: microseconds
    pos = 8
    while pos + 4 <= len(payload):
        code, olen = struct.unpack(endian + "HH", payload[pos:pos + 4])
        value = payload[pos + 4:pos + 4 + olen]
        if code == 0:
            break
        if code == 9 and olen >= 1:  # if_tsresol
            r = value[0]
            if r & 0x80:
                num, den = 10**9, 2 ** (r & 0x7F)
            elif r <= 9:
                num, den = 10 ** (9 - r), 1
            else:
                num, den = 1, 10 ** (r - 9)
        elif code == 14 and olen == 8:  # if_tsoffset, seconds
            offset = struct.unpack(endian + "q", value)[0]
        pos += 4 + olen + (-olen % 4)
    return linktype, num, den, offset


# -- link layer, IP and UDP ----------------------------------------------------------------------------


_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)  # 802.1Q, 802.1ad (QinQ outer tag), the older QinQ value


def _after_vlan(data: bytes, etype_at: int, payload_at: int) -> bytes | None:
    """The IP packet after a link header whose EtherType is at ``etype_at`` and whose payload
    starts at ``payload_at``, VLAN tags walked (each is 2 octets of TCI then the next EtherType:
    4 octets). Ethernet, SLL and SLL2 differ only in where those two fields are."""
    if len(data) < etype_at + 2:
        return None
    etype = struct.unpack("!H", data[etype_at:etype_at + 2])[0]
    while etype in _VLAN_TPIDS and len(data) >= payload_at + 4:
        etype = struct.unpack("!H", data[payload_at + 2:payload_at + 4])[0]
        payload_at += 4
    return data[payload_at:] if etype in (0x0800, 0x86DD) else None


def _network(lt: int, data: bytes) -> bytes | None:
    """The IP packet inside a frame of link type ``lt``, or None when it carries something else."""
    if lt == LINKTYPE_ETHERNET:
        return _after_vlan(data, 12, 14)
    if lt == LINKTYPE_LINUX_SLL:  # 16 octets, the protocol (an EtherType) last
        return _after_vlan(data, 14, 16)
    if lt == LINKTYPE_LINUX_SLL2:  # 20 octets, the protocol first
        return _after_vlan(data, 0, 20)
    if lt in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return data[4:]  # the address family's byte order varies; the IP version nibble decides
    if lt in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6, *_RAW_ALIASES):
        return data
    return None


def _link_direction(lt: int, data: bytes, direction: str | None) -> str | None:
    """The direction a Linux cooked header's packet type gives (SLL: its first 2 octets, SLL2: its
    11th octet): 4 (PACKET_OUTGOING) sent, 0-3 (to us, broadcast, multicast, to another host)
    received; else ``direction``, the pcapng block's, or None."""
    if lt == LINKTYPE_LINUX_SLL and len(data) >= 2:
        pkttype = (data[0] << 8) | data[1]
    elif lt == LINKTYPE_LINUX_SLL2 and len(data) >= 11:
        pkttype = data[10]
    else:
        return direction
    return OUT if pkttype == PACKET_OUTGOING else IN if pkttype <= 3 else direction


SUPPORTED_LINKTYPES = frozenset({LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP,
                                 LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2,
                                 *_RAW_ALIASES})

_IPV6_EXT = (0, 43, 60)  # hop-by-hop, routing, destination options: (len + 1) * 8 octets


_PROTOCOLS = {1: "ICMP", 2: "IGMP", 6: "TCP", 50: "ESP", 58: "ICMPv6", 59: "no next header", 89: "OSPF",
              132: "SCTP"}


def _not_udp(proto: int) -> str:
    """The skip reason for an IP packet that does not carry UDP, naming what it carries."""
    if proto in (6, 132):
        return f"not UDP ({_PROTOCOLS[proto]}: sipsim replays SIP over UDP only)"
    return f"not UDP ({_PROTOCOLS.get(proto, f'IP protocol {proto}')})"


class _Decoder:
    """IP → UDP, with fragments collected across packets."""

    def __init__(self, skipped: Counter[str]) -> None:
        self.frags = Reassembler()
        self.skipped = skipped
        self._names: dict[bytes, str] = {}  # packed address -> text: a capture repeats a few addresses

    def _name(self, packed: bytes) -> str:
        """An address as text, as :mod:`ipaddress` writes it (IPv6 compressed), converted once."""
        name = self._names.get(packed)
        if name is None:
            address = ipaddress.IPv4Address(packed) if len(packed) == 4 else ipaddress.IPv6Address(packed)
            name = self._names[packed] = str(address)
        return name

    def udp(self, ip: bytes, ts_ns: int) -> tuple[Address, Address, bytes] | None:
        if not ip:
            self.skipped["not IP"] += 1
            return None
        version = ip[0] >> 4
        if version == 4:
            return self._ipv4(ip, ts_ns)
        if version == 6:
            return self._ipv6(ip, ts_ns)
        self.skipped["not IP"] += 1
        return None

    def _ipv4(self, ip: bytes, ts_ns: int) -> tuple[Address, Address, bytes] | None:
        if len(ip) < 20:
            self.skipped["truncated IP header"] += 1
            return None
        ihl = (ip[0] & 0x0F) * 4
        total, ident, frag, proto = struct.unpack("!HHHxB", ip[2:10])
        if ihl < 20 or total < ihl:
            self.skipped["bad IPv4 header"] += 1
            return None
        if proto != 17:  # before the length: a TCP segment cut by the snap length is still no UDP
            self.skipped[_not_udp(proto)] += 1
            return None
        if len(ip) < total:
            self.skipped["cut short by the capture's snap length"] += 1
            return None
        src, dst = self._name(ip[12:16]), self._name(ip[16:20])
        payload = ip[ihl:total]
        more, offset = bool(frag & 0x2000), (frag & 0x1FFF) * 8
        if more or offset:
            whole = self.frags.feed((4, src, dst, ident), offset, more, payload, ts_ns)
            if whole is None:
                return None
            payload = whole
        return self._udp(src, dst, payload)

    def _ipv6(self, ip: bytes, ts_ns: int) -> tuple[Address, Address, bytes] | None:
        if len(ip) < 40:
            self.skipped["truncated IP header"] += 1
            return None
        plen, nh = struct.unpack("!HB", ip[4:7])
        if plen == 0:
            self.skipped["IPv6 jumbogram"] += 1
            return None
        # cut short by the snap length: the extension headers that were captured still tell
        # whether it is UDP at all (a TCP segment is "not UDP", not "cut short")
        cut = len(ip) < 40 + plen
        src, dst = self._name(ip[8:24]), self._name(ip[24:40])
        rest = ip[40:40 + plen]
        fragmented = False
        while True:
            if nh in _IPV6_EXT and len(rest) >= 8:
                nh, size = rest[0], (rest[1] + 1) * 8
                rest = rest[size:]
            elif nh == 51 and len(rest) >= 8:  # authentication header
                nh, size = rest[0], (rest[1] + 2) * 4
                rest = rest[size:]
            elif nh == 44 and len(rest) >= 8 and not fragmented:
                if cut:
                    break
                next_nh, offs, ident = rest[0], struct.unpack("!H", rest[2:4])[0], rest[4:8]
                whole = self.frags.feed((6, src, dst, ident), offs & 0xFFF8, bool(offs & 1), rest[8:], ts_ns)
                if whole is None:
                    return None
                nh, rest, fragmented = next_nh, whole, True
            else:
                break
        if cut and nh in (*_IPV6_EXT, 44, 51):  # the captured part ends inside the extension headers
            self.skipped["cut short by the capture's snap length"] += 1
            return None
        if nh != 17:
            self.skipped[_not_udp(nh)] += 1
            return None
        if cut:
            self.skipped["cut short by the capture's snap length"] += 1
            return None
        return self._udp(src, dst, rest)

    def _udp(self, src: str, dst: str, seg: bytes) -> tuple[Address, Address, bytes] | None:
        if len(seg) < 8:
            self.skipped["truncated UDP header"] += 1
            return None
        sport, dport, length = struct.unpack("!HHH", seg[:6])
        if length < 8 or length > len(seg):
            self.skipped["bad UDP length"] += 1
            return None
        return (src, sport), (dst, dport), seg[8:length]


# -- the public readers ---------------------------------------------------------------------------------


def read_capture(path: str | os.PathLike[str], *, ports: Iterable[int] | int | None = None,
                 time_scale: float = 1.0, by_content: bool = True, keep_empty: bool = False) -> Capture:
    """The SIP datagrams of a capture and what was skipped; see :func:`read_sip_datagrams`.

    ``keep_empty`` keeps empty UDP datagrams on the SIP ports (a live capture records them: a
    0-byte datagram is a real arrival the server counted and dropped)."""
    if not isinstance(time_scale, (int, float)) or not math.isfinite(time_scale) or time_scale < 0:
        raise PcapError(f"time_scale must be a finite number >= 0, not {time_scale!r}")
    if isinstance(ports, int):
        ports = (ports,)
    port_set = frozenset(int(p) for p in ports) if ports is not None else frozenset({5060})
    skipped: Counter[str] = Counter()
    decoder = _Decoder(skipped)
    # (ts_ns, frame number, src, dst, data, direction)
    found: list[tuple[int, int, Address, Address, bytes, str | None]] = []
    packets = 0
    backwards = 0
    for ts_ns, linktype, frame, _orig, direction in _records(path, skipped):
        packets += 1  # also the frame's number: Wireshark counts every packet of the file from 1
        ip = _network(linktype, frame)
        if ip is None:
            reason = "not IP" if linktype in SUPPORTED_LINKTYPES else f"link type {linktype} not supported"
            skipped[reason] += 1
            continue
        got = decoder.udp(ip, ts_ns)
        if got is None:
            continue
        src, dst, data = got
        if not data and not (keep_empty and (src[1] in port_set or dst[1] in port_set)):
            skipped["empty UDP datagram"] += 1
        elif src[1] in port_set or dst[1] in port_set or (by_content and looks_like_sip(data)):
            if found and ts_ns < found[-1][0]:
                backwards += 1
            found.append((ts_ns, packets, src, dst, data, _link_direction(linktype, frame, direction)))
        else:
            skipped["UDP but not SIP"] += 1
    if decoder.frags.incomplete or decoder.frags.expired:
        skipped["IP datagram never completed (fragments missing)"] += decoder.frags.incomplete + decoder.frags.expired
    if decoder.frags.invalid:
        skipped["invalid IP fragment"] += decoder.frags.invalid
    if backwards:  # pcapng interfaces may interleave out of order, a clock may step back; stable sort
        found.sort(key=lambda r: r[0])
    t0 = found[0][0] if found else 0
    datagrams = [SipDatagram((ts - t0) / 1e9 * time_scale, src, dst, data, ts / 1e9, number, ts, direction)
                 for ts, number, src, dst, data, direction in found]
    return Capture(datagrams, packets, skipped, backwards)


def read_sip_datagrams(path: str | os.PathLike[str], *, ports: Iterable[int] | int | None = None,
                       time_scale: float = 1.0, by_content: bool = True) -> list[SipDatagram]:
    """The SIP-over-UDP datagrams of a pcap/pcapng file, in time order, the first at time 0.

    ``ports``: UDP ports that mean SIP (default 5060); with ``by_content`` other datagrams count
    when their first line looks like SIP. ``time_scale`` multiplies the relative times (0 makes a
    burst). Raises :class:`~sipsim.packets.errors.PcapError` for a file that cannot be read.
    """
    return read_capture(path, ports=ports, time_scale=time_scale, by_content=by_content).datagrams
