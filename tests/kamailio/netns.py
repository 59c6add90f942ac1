"""A throw-away network namespace for one Kamailio under test, and a packet capture on its loopback.

Why a namespace of its own (nested inside the one tests/conftest.py already put the test process in):

* Kamailio forwards to whatever the message names: 192.0.2.x, 10.0.0.1, a hostname mapped to
  203.0.113.x ... To *see* those datagrams we make every IPv4 address local (one ``local 0.0.0.0/0``
  route on ``lo``): anything Kamailio sends to any IPv4 address loops back and the capture sees it.
  A route like that must not leak into other tests, and under pytest-xdist the workers share the
  test process's namespace; a namespace per Kamailio keeps it private.
* The capture (``AF_PACKET`` on ``lo``) then sees only this Kamailio's traffic.
* Port 5060 is always free inside it, so Kamailio can listen where a real proxy does.

Linux namespaces belong to *threads*: ``unshare(CLONE_NEWNET)`` in one dedicated thread moves only
that thread. Sockets remember the namespace they were created in, and a child process inherits the
namespace of the thread that forked it. So everything that must live in the namespace (sockets,
the Kamailio process) is created by calling :meth:`PrivateNetns.call`, which runs the function on
that thread. The namespace disappears when the thread, its sockets and its processes are gone.
"""

from __future__ import annotations

import ctypes
import fcntl
import ipaddress
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

# rtnetlink constants (linux/rtnetlink.h, linux/netlink.h)
RTM_NEWROUTE = 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR = 2
RT_TABLE_LOCAL = 255
RTPROT_BOOT = 3
RT_SCOPE_HOST = 254
RTN_LOCAL = 2
RTA_DST, RTA_OIF = 1, 4

ETH_P_ALL = 0x0003

#: Default: every IPv4 destination is "this machine", so every datagram Kamailio sends is captured.
ALL_IPV4 = ("0.0.0.0/0",)


class NetnsError(RuntimeError):
    """The private namespace could not be set up (no CAP_SYS_ADMIN / CAP_NET_ADMIN here)."""


def _unshare_net() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"unshare(CLONE_NEWNET) failed: {os.strerror(err)}")


def _bring_lo_up() -> None:
    """``ip link set lo up`` with one ioctl (no iproute2 needed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
        req = struct.pack("16sH14s", b"lo", flags | IFF_UP, b"\0" * 14)
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, req)


def _rtattr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("HH", length, kind) + data + b"\0" * ((4 - length % 4) % 4)


def add_local_route(network: str) -> None:
    """``ip route add local NETWORK dev lo`` (table local) over rtnetlink: NETWORK becomes local."""
    net = ipaddress.IPv4Network(network)
    body = struct.pack(
        "BBBBBBBBI", socket.AF_INET, net.prefixlen, 0, 0, RT_TABLE_LOCAL, RTPROT_BOOT, RT_SCOPE_HOST,
        RTN_LOCAL, 0,
    )
    body += _rtattr(RTA_DST, net.network_address.packed)
    body += _rtattr(RTA_OIF, struct.pack("I", socket.if_nametoindex("lo")))
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    msg = struct.pack("IHHII", 16 + len(body), RTM_NEWROUTE, flags, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as nl:
        nl.settimeout(2)
        nl.sendto(msg, (0, 0))
        reply = nl.recv(65536)
    kind = struct.unpack_from("H", reply, 4)[0]
    if kind == NLMSG_ERROR:
        err = -struct.unpack_from("i", reply, 16)[0]
        if err:
            raise NetnsError(f"adding local route {network}: {os.strerror(err)}")


class PrivateNetns:
    """A new network namespace, owned by one worker thread; ``call(fn)`` runs ``fn`` inside it."""

    def __init__(self, local_routes: tuple[str, ...] = ALL_IPV4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kamailio-netns")
        try:
            self._pool.submit(self._setup, local_routes).result(timeout=10)
        except BaseException:
            self._pool.shutdown(wait=True)
            raise

    @staticmethod
    def _setup(local_routes: tuple[str, ...]) -> None:
        _unshare_net()
        _bring_lo_up()
        for network in local_routes:
            add_local_route(network)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the namespace's thread (sockets, processes made there)."""
        return self._pool.submit(fn, *args, **kwargs).result(timeout=30)

    def udp_socket(self, addr: tuple[str, int]) -> socket.socket:
        """A UDP socket bound to ``addr`` inside the namespace (any IPv4 address is local here)."""

        def make() -> socket.socket:
            fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
            return s

        return self.call(make)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass(frozen=True)
class Datagram:
    """One UDP datagram seen on the namespace's loopback (each is seen once: outgoing direction)."""

    t: float  # time.monotonic() when captured
    src: tuple[str, int]
    dst: tuple[str, int]
    data: bytes


def parse_frame(frame: bytes) -> tuple[tuple[str, int], tuple[str, int], bytes] | None:
    """(src, dst, payload) of a UDP datagram in a loopback frame (fake Ethernet header), else None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        frag = struct.unpack_from("!H", ip, 6)[0]
        if ip[9] != 17 or frag & 0x3FFF:  # not UDP, or a fragment (never on lo: MTU 65536)
            return None
        src_ip = socket.inet_ntop(socket.AF_INET, ip[12:16])
        dst_ip = socket.inet_ntop(socket.AF_INET, ip[16:20])
        udp = ip[ihl:]
    elif ethertype == 0x86DD and len(ip) >= 40:
        if ip[6] != 17:
            return None
        src_ip = socket.inet_ntop(socket.AF_INET6, ip[8:24])
        dst_ip = socket.inet_ntop(socket.AF_INET6, ip[24:40])
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, length = struct.unpack_from("!HHH", udp, 0)
    return (src_ip, sport), (dst_ip, dport), udp[8:length]


class LoopbackCapture:
    """Every UDP datagram crossing ``lo`` in the namespace, in order, with its capture time.

    An ``AF_PACKET`` socket sees each loopback packet twice (once leaving, once arriving); only the
    outgoing copy (``PACKET_OUTGOING``) is kept. A daemon thread reads until :meth:`close`.
    """

    def __init__(self, netns: PrivateNetns) -> None:
        self._sock: socket.socket = netns.call(self._open)
        self.datagrams: list[Datagram] = []
        self.cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="kamailio-capture", daemon=True)
        self._thread.start()

    @staticmethod
    def _open() -> socket.socket:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("lo", 0))
        s.settimeout(0.1)
        return s

    def _run(self) -> None:
        while not self._stop:
            try:
                frame, addr = self._sock.recvfrom(262144)
            except TimeoutError:
                continue
            except OSError:
                return
            if addr[2] != socket.PACKET_OUTGOING:
                continue
            parsed = parse_frame(frame)
            if parsed is None:
                continue
            with self.cond:
                self.datagrams.append(Datagram(time.monotonic(), *parsed))
                self.cond.notify_all()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self._sock.close()
