"""``sipsim serve --pcap FILE``: save every datagram the proxy received and sent, as a capture.

Each worker writes what it receives (after ``recvfrom``) and what it sends (after ``sendto``) to a
pcap of its own (``FILE.<pid>.part``: no locking between processes, no cost when off); when the
server stops, the attendant merges the parts in time order into ``FILE`` and removes them — a part
left by a worker killed with SIGKILL is merged too (up to its last complete record). IP and UDP
headers are real (sipsim.packets.pcapwriter), so Wireshark and tshark decode the file as SIP.
"""

from __future__ import annotations

import contextlib
import glob
import ipaddress
import os
from typing import Any

from sipsim.engine.events import Addr


def capture_addr(addr: Addr) -> Addr:
    """``addr`` as the capture's IP header carries it: the canonical text of the address
    (``FE80:0::1`` -> ``fe80::1``), without brackets and without a ``%scope``: an IP header has no
    field for the interface, so ``--listen [fe80::1%lo]:5060`` is captured as ``fe80::1``. Whoever
    compares an address with a captured one (the TUI's live mode: is this datagram the proxy's?)
    normalises it here first. A name (never resolved) is returned as it is."""
    host, port = addr
    bare = host.strip("[]").partition("%")[0]
    try:
        return str(ipaddress.ip_address(bare)), port
    except ValueError:
        return host, port


def part_path(path: str, pid: int) -> str:
    return f"{path}.{pid}.part"


class WorkerCapture:
    """A worker's part of the capture (opened after fork, in the worker)."""

    def __init__(self, path: str, pid: int) -> None:
        from sipsim.packets import PcapWriter

        self._w: Any = PcapWriter(part_path(path, pid))

    def write(self, t: float, src: Addr, dst: Addr, data: bytes) -> None:
        try:
            self._w.write(t, src, dst, data)
        except (OSError, ValueError):
            pass  # a datagram we cannot frame (too big for one IP packet) is left out

    def flush(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self._w.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._w.close()


def merge_parts(path: str, port: int) -> int:
    """Merge every worker part into ``path`` (time order) and delete them. Returns the record count.
    ``port`` is the proxy's: every datagram to or from it is kept, SIP-looking or not."""
    from sipsim.packets import PcapWriter
    from sipsim.packets.pcap import PcapError, read_capture

    parts = sorted(glob.glob(glob.escape(path) + ".*.part"))
    records = []
    for part in parts:
        try:
            records.extend(read_capture(part, ports=(port,), keep_empty=True).datagrams)
        except (PcapError, OSError):
            pass
    records.sort(key=lambda r: r.capture_time)
    with PcapWriter(path) as w:
        for r in records:
            w.write(r.capture_time, tuple(r.src), tuple(r.dst), r.data)
    for part in parts:
        with contextlib.suppress(OSError):
            os.unlink(part)
    return len(records)
