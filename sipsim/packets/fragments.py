"""IP fragment reassembly for captures: turn the pieces of one IPv4 or IPv6 datagram back into it.

A SIP INVITE with a large SDP easily exceeds a 1500-octet MTU; over UDP the sender's IP layer then
splits it into fragments, and only the receiver's kernel puts them back together before recvfrom()
sees one datagram. A capture shows the fragments, so replaying it needs this step too.

What the kernel does, and what this does the same way:

- fragments of one datagram share a key: source, destination, protocol and IP ID for IPv4
  (RFC 791); source, destination and the Fragment header's Identification for IPv6 (RFC 8200 §4.5);
- offsets count 8-octet units; the fragment with "more fragments" clear fixes the total length;
- the datagram is complete once the pieces cover it without a gap; it is delivered at the time of
  the fragment that completed it, in whatever order they came;
- pieces that wait longer than 30 s are dropped (Linux's ``ipfrag_time``, RFC 8200's 60 s is
  looser); a datagram that would exceed 65,535 octets is dropped.

Simplified: overlapping fragments are merged (the lowest offset wins) instead of the whole datagram
being discarded as RFC 5722 asks for IPv6; captures with overlaps are attacks, not SIP traffic.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

FRAG_TIMEOUT_NS = 30 * 10**9
MAX_DATAGRAM = 65535


@dataclass
class _Pending:
    first_seen_ns: int
    pieces: list[tuple[int, bytes]] = field(default_factory=list)
    total: int | None = None


class Reassembler:
    """Collect fragments by key; ``feed`` returns the whole payload once the last gap closes."""

    def __init__(self, timeout_ns: int = FRAG_TIMEOUT_NS) -> None:
        self.timeout_ns = timeout_ns
        self._pending: dict[Hashable, _Pending] = {}
        self.expired = 0  # datagrams given up on (timed out)
        self.invalid = 0  # fragments that could not belong to a valid datagram

    def feed(self, key: Hashable, offset: int, more: bool, payload: bytes, now_ns: int) -> bytes | None:
        """Add one fragment (``offset`` in octets). Returns the reassembled payload or None."""
        self._expire(now_ns)
        end = offset + len(payload)
        if end > MAX_DATAGRAM or (more and len(payload) % 8):
            # Only the last fragment may have a length that is not a multiple of 8.
            self.invalid += 1
            return None
        entry = self._pending.get(key)
        if entry is None:
            entry = self._pending[key] = _Pending(now_ns)
        if not more:
            if entry.total is not None and entry.total != end:
                self.invalid += 1
                del self._pending[key]
                return None
            entry.total = end
        entry.pieces.append((offset, payload))
        whole = self._complete(entry)
        if whole is not None:
            del self._pending[key]
        return whole

    @staticmethod
    def _complete(entry: _Pending) -> bytes | None:
        if entry.total is None:
            return None
        out = bytearray()
        for offset, data in sorted(entry.pieces, key=lambda p: p[0]):
            if offset > len(out):
                return None  # a gap
            if offset + len(data) > len(out):
                out += data[len(out) - offset:]
        if len(out) < entry.total:
            return None
        return bytes(out[:entry.total])

    def _expire(self, now_ns: int) -> None:
        old = [k for k, e in self._pending.items() if now_ns - e.first_seen_ns > self.timeout_ns]
        for k in old:
            del self._pending[k]
        self.expired += len(old)

    @property
    def incomplete(self) -> int:
        """Datagrams still missing pieces (at the end of a capture: never completed)."""
        return len(self._pending)
