"""The bytes of live datagrams, read from the server's own capture while it runs.

The observer channel carries steps and first lines, never whole datagrams. ``sipsim serve --pcap
FILE`` makes every worker append what it receives and sends to ``FILE.<pid>.part`` (a pcap with
real Ethernet/IP/UDP headers, flushed each time the worker goes back to ``recvfrom``). The TUI
starts its server with ``--pcap`` and reads those parts *incrementally* (only the bytes added since
the last look), so the message panel can show a live datagram's bytes once its worker has
finished with it — and ``s`` can save a pcap of what passed through the proxy.

Each record says whether the worker received or sent it: the parts are Linux cooked captures whose
packet type is the direction (sipsim.real.capture). A datagram the proxy sends to itself is then
one sent record and one received record, each filed where it belongs. A part without directions
(Ethernet frames, from a worker that recorded none) is filed by address as before: what comes from
the proxy's address was sent — which files a datagram to itself as sent only.

A live datagram id is ``pid × 10⁹ + n`` (the worker's n-th ``recvfrom``), and each part lists the
worker's datagrams in the order it received them: the n-th received record of ``FILE.<pid>.part``
is datagram ``pid × 10⁹ + n``. The size is checked too, so a record the worker could not write
(too big for one IP packet) cannot shift the count silently.
"""

from __future__ import annotations

import functools
import glob
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

from sipsim.engine.events import Addr
from sipsim.real.capture import capture_addr

ID_BASE = 10**9
_GLOBAL = 24
_REC = 16


_LINKTYPE_ETHERNET, _LINKTYPE_LINUX_SLL = 1, 113
_PACKET_OUTGOING = 4


@dataclass(frozen=True, slots=True)
class Captured:
    time: float
    src: Addr
    dst: Addr
    data: bytes
    direction: str | None = None  # "in" | "out" as the part recorded it; None: the part has no direction


def decode_frame(frame: bytes, linktype: int = _LINKTYPE_ETHERNET) -> tuple[Addr, Addr, bytes] | None:
    """(src, dst, UDP payload) of an Ethernet or Linux cooked (SLL) frame carrying IPv4/IPv6 + UDP,
    else None."""
    head = 16 if linktype == _LINKTYPE_LINUX_SLL else 14
    if len(frame) < head:
        return None
    etype = frame[head - 2:head]
    ip = frame[head:]
    if etype == b"\x08\x00" and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17:
            return None
        s, d = str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20]))
        udp = ip[ihl:]
    elif etype == b"\x86\xdd" and len(ip) >= 40:
        if ip[6] != 17:
            return None
        s, d = str(ipaddress.IPv6Address(ip[8:24])), str(ipaddress.IPv6Address(ip[24:40]))
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return (s, sport), (d, dport), bytes(udp[8:ulen])


def sent_by_proxy(src: Addr, listen: Addr) -> bool:
    """Whether a captured datagram from ``src`` is one the proxy sent (else one it received).

    A proxy on one address sends from exactly ``listen``. On a wildcard (0.0.0.0, ``[::]``) it
    receives on, and answers from, whichever local address the peer used (``IP_PKTINFO``), so a
    datagram is the proxy's when it comes from the listen port on an address of this machine — no
    other local socket can hold that port while the wildcard does; a phone elsewhere sending from
    its own port 5060 has an address that is not ours."""
    if src == listen:
        return True
    host, port = listen
    if src[1] != port:
        return False
    try:
        if not ipaddress.ip_address(host).is_unspecified:
            return False
    except ValueError:
        return False
    return _is_local(src[0])


@functools.lru_cache(maxsize=256)
def _is_local(ip: str) -> bool:
    """An address of this machine: one a socket may bind (nothing is sent)."""
    try:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((ip, 0))
        return True
    except OSError:
        return False


class _Part:
    """One worker's part file, read from where we stopped last time."""

    def __init__(self, path: str, pid: int) -> None:
        self.path = path
        self.pid = pid
        self.offset = 0
        self.received: list[Captured] = []
        self.sent: list[Captured] = []
        self.linktype = _LINKTYPE_ETHERNET  # from the file header

    def read_more(self, listen: Addr) -> int:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return 0
        pos, new = 0, 0
        if self.offset == 0:
            if len(chunk) < _GLOBAL:
                return 0
            self.linktype = struct.unpack_from("<I", chunk, 20)[0] & 0x0FFFFFFF
            pos = _GLOBAL
        while pos + _REC <= len(chunk):
            sec, usec, incl, _orig = struct.unpack_from("<IIII", chunk, pos)
            end = pos + _REC + incl
            if end > len(chunk):
                break  # the worker has not written (flushed) the whole record yet
            frame = chunk[pos + _REC:end]
            decoded = decode_frame(frame, self.linktype)
            pos = end
            if decoded is None:
                continue
            src, dst, data = decoded
            if self.linktype == _LINKTYPE_LINUX_SLL:  # the packet type says it, even for a datagram to itself
                sent = struct.unpack_from("!H", frame)[0] == _PACKET_OUTGOING
                rec = Captured(sec + usec / 1e6, src, dst, data, "out" if sent else "in")
            else:
                sent = sent_by_proxy(src, listen)
                rec = Captured(sec + usec / 1e6, src, dst, data)
            (self.sent if sent else self.received).append(rec)
            new += 1
        self.offset += pos
        return new


class LiveCapture:
    """Every worker part of ``path`` (``path.<pid>.part``), read on demand."""

    def __init__(self, path: str, listen: Addr) -> None:
        self.path = path
        # compared with decoded IP headers, which carry no scope: a ``%lo`` (or another spelling of
        # the address) kept here filed every datagram the proxy sent as one it received
        self.listen = capture_addr(listen)
        self._parts: dict[int, _Part] = {}

    def refresh(self) -> int:
        """Read what the workers flushed since the last call; returns the number of new records."""
        for p in glob.glob(glob.escape(self.path) + ".*.part"):
            try:
                pid = int(p[len(self.path) + 1:].split(".", 1)[0])
            except ValueError:
                continue
            if pid not in self._parts:
                self._parts[pid] = _Part(p, pid)
        return sum(part.read_more(self.listen) for part in self._parts.values())

    def received(self, msg: int, size: int | None = None, *, refresh: bool = True) -> Captured | None:
        """Datagram ``msg`` (= pid × 10⁹ + n) as its worker received it, once it is flushed."""
        pid, n = divmod(msg, ID_BASE)
        part = self._parts.get(pid)
        if refresh and (part is None or len(part.received) < n):
            self.refresh()
            part = self._parts.get(pid)
        if part is None or not 0 < n <= len(part.received):
            return None
        rec = part.received[n - 1]
        if size is not None and size and len(rec.data) != size:
            return None
        return rec

    def sent_by(self, pid: int) -> list[Captured]:
        part = self._parts.get(pid)
        return part.sent if part is not None else []

    def all_records(self) -> list[Captured]:
        self.refresh()
        out = [r for part in self._parts.values() for r in (*part.received, *part.sent)]
        out.sort(key=lambda r: (r.time, r.direction == "in"))  # at one time, a sent copy before its received one
        return out

    def remove_parts(self) -> None:
        for part in self._parts.values():
            try:
                os.unlink(part.path)
            except OSError:
                pass
