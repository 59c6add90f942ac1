"""``udp_init``: the shared UDP socket, created, sized and bound once by the main process.

Kamailio's ``udp_init`` (``src/core/udp_server.c``) opens one socket per listen address before
any fork, sets ``SO_REUSEADDR`` and grows ``SO_RCVBUF``; every worker inherits the descriptor.
Here too — plus the checks a lab user needs in one line each (port in use, not an address of
this machine, permission), and ``socket_meminfo``, the kernel's own figures for the queue.
"""

from __future__ import annotations

import errno
import socket
import struct
from typing import Any

from sipsim.engine.events import Addr, format_addr
from sipsim.real import pktinfo
from sipsim.real.netinfo import listen_address

SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)  # linux/sock_diag.h: SK_MEMINFO_* array
SK_MEMINFO_RMEM_ALLOC, SK_MEMINFO_RCVBUF, SK_MEMINFO_DROPS = 0, 1, 8
# SO_RCVBUF takes a C int and Linux doubles it (capped at INT_MAX): anything above this is nonsense
MAX_RCVBUF = 2**30


class ServeError(Exception):
    """A startup problem, reported as one line (port in use, bad address, bad route…).

    ``status`` is the exit status: 1 for what the machine refuses (port in use, an address this
    machine does not have, a broken script), 2 for a bad command line (a listen address that is
    no address), as for every other usage error."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def open_socket(listen: Addr, rcvbuf: int | None) -> tuple[socket.socket, dict[str, Any]]:
    """``udp_init``: create, size and bind the shared UDP socket. Clear errors, no traceback."""
    host, port = listen
    try:
        ip, scope = listen_address(host, port)  # a link-local address comes with its interface
    except ValueError as exc:
        raise ServeError(str(exc), 2) from None
    if rcvbuf is not None and not 0 < rcvbuf <= MAX_RCVBUF:
        raise ServeError(f"--rcvbuf {rcvbuf}: give 1 to {MAX_RCVBUF} bytes")
    fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    shown = f"{ip}%{socket.if_indextoname(scope)}" if scope else str(ip)
    info: dict[str, Any] = {"listen": format_addr((shown, port)), "rcvbuf_requested": rcvbuf}
    # Python's (host, port) form drops a "%scope": the scope id goes in the 4-tuple
    bind_to = (str(ip), port, 0, scope) if fam == socket.AF_INET6 else (str(ip), port)
    try:
        # Kamailio's udp_init sets SO_REUSEADDR, and so do we; but on Linux two UDP sockets that both
        # set it may bind the same address and port, and the newer one takes the datagrams. A second
        # server (sipsim or Kamailio) would start without a word and steal the first one's traffic:
        # a bind without the option first tells "port in use" apart (sipsim's check; not Kamailio's).
        with socket.socket(fam, socket.SOCK_DGRAM) as probe:
            if fam == socket.AF_INET6:  # as the real socket: [::] must not claim IPv4's port too
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(bind_to)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as udp_init; UDP port sharing needs more
        if fam == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if ip.is_unspecified:  # the wildcard: which local address each datagram reached (sipsim.real.pktinfo)
            pktinfo.enable(sock)
        if rcvbuf:
            # SO_RCVBUF, as Kamailio's udp_init: the kernel caps the request at net.core.rmem_max even
            # for root (SO_RCVBUFFORCE would pass it, and hide from a learner why a real server's buffer
            # stays smaller than asked); the start-up line says so and how to raise the cap
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind(bind_to)
    except OverflowError:
        sock.close()
        raise ServeError(f"bad port {port}", 2) from None
    except OSError as exc:
        sock.close()
        where = f"udp:{info['listen']}"
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"cannot listen on {where}: the port is already in use "
                             "(another server is running there?)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            on = f" on {socket.if_indextoname(scope)}" if scope else ""
            raise ServeError(f"cannot listen on {where}: {ip} is not an address of this machine{on}") from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"cannot listen on {where}: permission denied (ports below 1024 need privileges)") \
                from None
        raise ServeError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    info["listen"] = format_addr((shown, sock.getsockname()[1]))  # the port the kernel gave for port 0
    info["rcvbuf"] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    info["rmem_max"] = rmem_max()
    return sock, info


def rmem_max() -> int | None:
    """``net.core.rmem_max``: the most SO_RCVBUF may ask for (the kernel then doubles it)."""
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def socket_meminfo(sock: socket.socket) -> dict[str, int]:
    """Queue bytes, buffer size and the kernel's drop counter of the socket (SO_MEMINFO).

    ``drops`` is the socket's ``sk_drops``: datagrams the kernel discarded because the receive
    buffer was full (what ``/proc/net/udp`` shows in its ``drops`` column and what feeds the
    system-wide ``Udp: RcvbufErrors``).
    """
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 9 * 4)
        vals = struct.unpack("9I", raw[:36])
        return {"rcv_queue": vals[SK_MEMINFO_RMEM_ALLOC], "rcvbuf": vals[SK_MEMINFO_RCVBUF],
                "drops": vals[SK_MEMINFO_DROPS]}
    except (OSError, struct.error):
        return {"rcv_queue": 0, "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), "drops": 0}
