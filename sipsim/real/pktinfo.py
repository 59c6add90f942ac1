"""A wildcard socket (``--listen 0.0.0.0`` / ``[::]``): which local address did a datagram reach?

``recvfrom`` on a socket bound to 0.0.0.0 says who sent a datagram, not which of the machine's
addresses it was sent to. Asked with ``IP_PKTINFO`` (IPv6: ``IPV6_RECVPKTINFO``), the kernel hands
that address over with each datagram, as ancillary data of ``recvmsg`` (ip(7), ipv6(7)). sipsim
uses it for three things:

* the message's destination (``$Ri``, ``dst_ip``) is the real address, not 0.0.0.0;
* the capture (``--pcap``) shows the datagram as it was on the wire;
* an answer to a peer leaves *from the address that peer used* (``sendmsg`` with the same
  ancillary data naming the source). Without it the kernel picks the source by its routing table,
  and a phone that sent to 192.168.1.10 may get its answer from 10.0.0.5 — which a phone, a NAT
  or a firewall drops. Kamailio, started without ``listen``, binds one socket per address (see
  :mod:`sipsim.real.netinfo`), so an answer leaves from the address it was asked on; a Kamailio
  socket bound to 0.0.0.0 sends with the kernel's choice. sipsim keeps its one wildcard socket
  and picks the source itself (its own addition).

For any other destination (a request forwarded to another host) the kernel still picks the
source; the capture then records the address the kernel's routing table gives for that
destination (a connected UDP socket's ``getsockname``: a route lookup, nothing is sent), cached
per destination.

None of this runs for a socket bound to one address: its worker keeps plain ``recvfrom``/``sendto``.
"""

from __future__ import annotations

import contextlib
import socket
import struct

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # linux/in.h; Python 3.11 does not export it
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
# struct in_pktinfo {int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr;}
_IN_PKTINFO = struct.Struct("i4s4s")
# struct in6_pktinfo {struct in6_addr ipi6_addr; unsigned int ipi6_ifindex;}
_IN6_PKTINFO = struct.Struct("16sI")
ANCILLARY_SIZE = socket.CMSG_SPACE(_IN6_PKTINFO.size)  # room for either
_ROUTE_CACHE_MAX = 4096


def enable(sock: socket.socket) -> None:
    """Ask the kernel for each datagram's destination address (``udp_init``, wildcard sockets only)."""
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)


def destination(ancillary: list[tuple[int, int, bytes]]) -> tuple[str, str, int] | None:
    """From ``recvmsg``'s ancillary data: (the address the datagram was sent to, the local address
    to answer from, the interface index), or None if the kernel gave none.

    The two addresses differ only for a datagram sent to a broadcast address (IPv4): the header
    says 255.255.255.255, the answer leaves from the address of the interface it came in on."""
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= _IN_PKTINFO.size:
            index, spec_dst, addr = _IN_PKTINFO.unpack_from(data)
            return socket.inet_ntoa(addr), socket.inet_ntoa(spec_dst), index
        if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO and len(data) >= _IN6_PKTINFO.size:
            addr, index = _IN6_PKTINFO.unpack_from(data)
            text = socket.inet_ntop(socket.AF_INET6, addr)
            return text, text, index
    return None


def source(family: int, local: str, index: int = 0) -> list[tuple[int, int, bytes]]:
    """The ancillary data that makes ``sendmsg`` send from ``local`` (``index``: the interface, for
    a link-local IPv6 address; 0 lets the routing table choose)."""
    if family == socket.AF_INET6:
        return [(socket.IPPROTO_IPV6, IPV6_PKTINFO,
                 _IN6_PKTINFO.pack(socket.inet_pton(socket.AF_INET6, local), index))]
    return [(socket.IPPROTO_IP, IP_PKTINFO, _IN_PKTINFO.pack(0, socket.inet_aton(local), b"\0\0\0\0"))]


class RouteSource:
    """The source address the kernel picks for a destination (``ip route get``), cached.

    Used only to record the truth in the capture when a wildcard socket sends to a host other
    than the one that sent the message: ``connect`` on a UDP socket makes the route lookup and
    sends nothing."""

    def __init__(self, family: int, fallback: str) -> None:
        self.family = family
        self.fallback = fallback
        self._cache: dict[tuple[str, int], str] = {}

    def __call__(self, ip: str, scope: int = 0) -> str:
        key = (ip, scope)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = self.fallback
        with contextlib.suppress(OSError, ValueError, OverflowError), socket.socket(self.family,
                                                                                  socket.SOCK_DGRAM) as probe:
            probe.connect((ip, 9, 0, scope) if self.family == socket.AF_INET6 else (ip, 9))
            found = probe.getsockname()[0].partition("%")[0]
        if len(self._cache) >= _ROUTE_CACHE_MAX:
            self._cache.clear()
        self._cache[key] = found
        return found
