"""Writing captures: SIP datagrams saved as a pcap that Wireshark, tshark, sngrep and Scapy open.

Each datagram becomes a full frame, as a capture on Linux's loopback interface would show it:
an Ethernet header with zero MAC addresses (``tcpdump -i lo``), a real IPv4 or IPv6 header (lengths, IPv4 header
checksum, TTL/hop limit 64, an IPv4 ID counting up from 1) and a UDP header with its length and
checksum (RFC 768 pseudo-header). Timestamps are ``epoch + time``: the simulator passes virtual
seconds and an epoch (so the file is deterministic and does not start in 1970); live mode passes
wall-clock time.

**What the capture records is what the socket saw**: one whole UDP datagram per frame, as
``recvfrom`` returned it or ``sendto`` was given it — not the packets on a wire. A datagram larger
than a 1500-octet Ethernet MTU would leave a real interface as IP fragments; here it is one frame,
the datagram already reassembled. Its IPv4 header has DF (don't fragment) clear, as Linux sends a
UDP datagram it must fragment, so that Wireshark does not show a 1500+ packet that DF forbids;
a datagram that fits the MTU has DF set, as Linux sets it (path MTU discovery) on UDP.

A simulated proxy listening on IPv4 may be handed an IPv6 datagram (a scenario with an IPv6 capture
replayed into it): such a record is written as IPv6 with the IPv4 end as an IPv4-mapped address
(``::ffff:127.0.0.1``, RFC 4291 §2.5.5.2), the way a dual-stack socket would see it, rather than
failing the whole save.

**Direction.** A capture of what one proxy received and sent (``serve --pcap``, ``simulate
--save-pcap``, the TUI's ``s``) is written with ``directions=True``: each frame then starts with a
Linux cooked capture header (link type 113, "SLL", as ``tcpdump -i any`` writes) whose packet type
says which way the datagram went — 0 (PACKET_HOST, "Unicast to us") for one the proxy received, 4
(PACKET_OUTGOING, "Sent by us") for one it sent. Wireshark shows it as "Packet type" (field
``sll.pkttype``), sngrep and Scapy read the link type, and our readers use it. It matters for a
datagram the proxy sends to itself (a forwarding loop, a Request-URI naming the proxy): it is in
the file twice, once sent and once received, as ``tcpdump -i any`` shows a loopback datagram, and
only the packet type tells the two copies apart. Without ``directions`` (``craft --pcap``: nobody
received those yet) the frames are Ethernet, as before.

No Scapy here: the simulator and the live server save captures without paying for its import.
Datagrams are never written as fragments (see above): one larger than fits one IP packet
(65,507 bytes over IPv4, 65,527 over IPv6) is refused.

    with PcapWriter("call.pcap") as w:
        w.write(0.0, ("192.0.2.10", 5060), ("192.0.2.20", 5060), invite_bytes)
"""

from __future__ import annotations

import ipaddress
import math
import os
import struct
from collections.abc import Iterable
from types import TracebackType
from typing import BinaryIO, Protocol

from sipsim.packets.addr import Address, as_address, is_ipv6
from sipsim.packets.errors import PacketsError, PcapError
from sipsim.packets.pcap import (
    IN,
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    OUT,
    PACKET_HOST,
    PACKET_OUTGOING,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
)

SNAPLEN = 262144
MAX_UDP4 = 65535 - 20 - 8
MAX_UDP6 = 65535 - 8
ETHERNET_MTU = 1500  # an IPv4 packet larger than this is sent fragmented, with DF clear
ARPHRD_LOOPBACK = 772  # the SLL header's link-layer address type: the datagrams went through lo
_PKTTYPE = {IN: PACKET_HOST, OUT: PACKET_OUTGOING}


class DatagramLike(Protocol):
    time: float
    src: Address
    dst: Address
    data: bytes


def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_ip_packet(src: Address, dst: Address, data: bytes, ident: int = 1) -> bytes:
    """An IPv4 or IPv6 packet carrying one UDP datagram, every length and checksum filled in."""
    (sip, sport), (dip, dport) = src, dst
    if is_ipv6(sip) != is_ipv6(dip):
        raise PacketsError(f"cannot write a datagram from {sip} to {dip}: mixed IPv4 and IPv6")
    udp_len = 8 + len(data)
    if is_ipv6(sip):
        if len(data) > MAX_UDP6:
            raise PacketsError(f"a {len(data)}-byte datagram does not fit one IPv6 packet (max {MAX_UDP6} bytes)")
        s, d = ipaddress.IPv6Address(sip).packed, ipaddress.IPv6Address(dip).packed
        pseudo = s + d + struct.pack("!IxxxB", udp_len, 17)
        udp = _udp(sport, dport, data, pseudo)
        return struct.pack("!IHBB", 6 << 28, udp_len, 17, 64) + s + d + udp
    if len(data) > MAX_UDP4:
        raise PacketsError(f"a {len(data)}-byte datagram does not fit one IPv4 packet (max {MAX_UDP4} bytes)")
    s, d = ipaddress.IPv4Address(sip).packed, ipaddress.IPv4Address(dip).packed
    pseudo = s + d + struct.pack("!xBH", 17, udp_len)
    udp = _udp(sport, dport, data, pseudo)
    df = 0x4000 if 20 + udp_len <= ETHERNET_MTU else 0  # see the module docstring
    header = struct.pack("!BBHHHBBH", 0x45, 0, 20 + udp_len, ident & 0xFFFF, df, 64, 17, 0) + s + d
    header = header[:10] + struct.pack("!H", inet_checksum(header)) + header[12:]
    return header + udp


def _udp(sport: int, dport: int, data: bytes, pseudo: bytes) -> bytes:
    head = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    csum = inet_checksum(pseudo + head + data) or 0xFFFF  # 0 means "no checksum": send all ones
    return head[:6] + struct.pack("!H", csum) + data


def same_family(src: Address, dst: Address) -> tuple[Address, Address]:
    """Both ends in one family: an IPv4 end facing an IPv6 one becomes ``::ffff:a.b.c.d``."""
    v6s, v6d = is_ipv6(src[0]), is_ipv6(dst[0])
    if v6s == v6d:
        return src, dst
    if v6d:
        return (f"::ffff:{src[0]}", src[1]), dst
    return src, (f"::ffff:{dst[0]}", dst[1])


def frame_ident(frame: int) -> int:
    """The IPv4 ID of a capture's ``frame``-th frame (1-based): counting up from 1, wrapping after
    65535 (never 0)."""
    return (frame - 1) % 0xFFFF + 1


def frame_packet(src: Address | str, dst: Address | str, data: bytes, frame: int) -> bytes:
    """The IP packet (UDP datagram inside) that :class:`PcapWriter` records as its ``frame``-th
    frame: the TUI's layers panel dissects these very bytes, so it shows the IP header (ID, DF,
    checksum) that the pcap ``s`` saves has for the same datagram."""
    src_a, dst_a = same_family(as_address(src, wire=True), as_address(dst, wire=True))
    return udp_ip_packet(src_a, dst_a, bytes(data), frame_ident(frame))


READERS = "sipsim trace --pcap FILE and sipsim simulate --pcap FILE read one"


def existing_capture_error(path: str | os.PathLike[str], what: str) -> str | None:
    """Why a command that *writes* a capture must not open ``path``, or None: the one rule of every
    writer (``craft --pcap``, ``serve --pcap``, ``simulate --save-pcap``, each with ``--force``).

    ``what`` names the option as typed (``"serve --pcap"``). The same word ``--pcap`` means *read*
    for ``trace`` and ``simulate``: a user who types ``sipsim serve --pcap customer.pcap`` to replay
    a customer's capture would otherwise destroy it. So a file that exists and holds something is
    refused; an empty file (just made by a shell redirection) and what is no regular file (a FIFO,
    ``/dev/stdout`` on a terminal or a pipe) are written to as asked."""
    name = os.fspath(path)
    try:
        st = os.stat(name)
    except OSError:
        return None  # no such file (or none we can see): whoever opens it says why it fails
    import stat

    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        return None
    return (f"{what} {name}: the file exists ({st.st_size} bytes), and {what} writes a capture, which would "
            f"replace it ({READERS}); add --force to overwrite it")


class PcapWriter:
    """A pcap file of UDP datagrams (Ethernet frames; Linux cooked ones with ``directions``); see
    the module docstring.

    ``target``: a path or a binary file object (left open on close). ``epoch``: seconds added to
    every ``time`` (0 = 1970: give the simulator an epoch, see :func:`sipsim.packets.replay.save_epoch`).
    ``nanosecond``: ns timestamps (pcap magic a1b23c4d) instead of µs. ``directions``: Linux
    cooked frames carrying each datagram's direction (see the module docstring). A path that
    exists is replaced: a command line checks :func:`existing_capture_error` first.
    """

    def __init__(self, target: str | os.PathLike[str] | BinaryIO, *, epoch: float = 0.0,
                 nanosecond: bool = False, directions: bool = False) -> None:
        self._own = not hasattr(target, "write")
        if self._own:
            try:
                self._f: BinaryIO = open(target, "wb")  # type: ignore[arg-type]  # noqa: SIM115
            except OSError as exc:
                raise PcapError(f"cannot write capture {os.fspath(target)!r}: {exc.strerror or exc}") from None
        else:
            self._f = target  # type: ignore[assignment]
        self.epoch = float(epoch)
        self.nanosecond = nanosecond
        self.directions = directions
        self.count = 0
        magic = PCAP_MAGIC_NS if nanosecond else PCAP_MAGIC_US
        linktype = LINKTYPE_LINUX_SLL if directions else LINKTYPE_ETHERNET
        self._f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, SNAPLEN, linktype))

    def write(self, time: float, src: Address | str, dst: Address | str, data: bytes,
              direction: str | None = None) -> None:
        """Append one datagram sent at ``time`` seconds (plus ``epoch``) from ``src`` to ``dst``.
        ``direction``: ``"in"`` (received) or ``"out"`` (sent) — required by a writer opened with
        ``directions=True``, refused by one without (an Ethernet frame has no field for it)."""
        if self._f.closed:
            raise PcapError("the capture is already closed")
        if self.directions:
            pkttype = _PKTTYPE.get(direction)  # type: ignore[arg-type]
            if pkttype is None:
                raise PacketsError(f"bad direction {direction!r}: this capture records each datagram's, "
                                   f"{IN!r} (received) or {OUT!r} (sent)")
        elif direction is not None:
            raise PacketsError("this capture has no direction field (Ethernet frames): open the writer with "
                               "directions=True to record one")
        t = float(time) + self.epoch
        if not math.isfinite(t) or t < 0:
            raise PacketsError(f"bad packet time {time!r}: expected seconds >= 0")
        ip = frame_packet(src, dst, data, self.count + 1)
        etype = b"\x86\xdd" if ip[0] >> 4 == 6 else b"\x08\x00"
        if self.directions:  # SLL: packet type, ARPHRD, address length, address (8 octets), protocol
            frame = struct.pack("!HHH8x", pkttype, ARPHRD_LOOPBACK, 6) + etype + ip
        else:
            frame = b"\x00" * 12 + etype + ip
        units = 10**9 if self.nanosecond else 10**6
        ticks = round(t * units)
        sec, frac = divmod(ticks, units)
        self._f.write(struct.pack("<IIII", sec, frac, len(frame), len(frame)) + frame)
        self.count += 1

    def write_datagram(self, d: DatagramLike) -> None:
        """Append a record with ``time``, ``src``, ``dst`` and ``data`` (e.g. a SipDatagram), and its
        ``direction`` when the writer records directions."""
        self.write(d.time, d.src, d.dst, d.data, getattr(d, "direction", None) if self.directions else None)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if self._own and not self._f.closed:
            self._f.close()
        elif not self._own:
            self._f.flush()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def write_pcap(path: str | os.PathLike[str] | BinaryIO, records: Iterable[DatagramLike], *,
               epoch: float = 0.0, nanosecond: bool = False, directions: bool = False) -> int:
    """Write records (anything with time/src/dst/data, and direction with ``directions``) to a
    pcap; returns how many were written."""
    with PcapWriter(path, epoch=epoch, nanosecond=nanosecond, directions=directions) as w:
        for r in records:
            w.write_datagram(r)
        return w.count
