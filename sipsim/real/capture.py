"""``sipsim serve --pcap FILE``: save every datagram the proxy received and sent, as a capture.

Each worker writes what it receives (after ``recvfrom``) and what it sends (after ``sendto``), with
that direction (a Linux cooked capture's packet type: Wireshark's "Unicast to us" / "Sent by us"), to a
pcap of its own (``FILE.<pid>.part``: no locking between processes, no cost when off); when the
server stops, the attendant merges its workers' parts in time order into ``FILE`` and removes them —
a part left by a worker killed with SIGKILL is merged too (up to its last complete record). IP and
UDP headers are real (sipsim.packets.pcapwriter), so Wireshark and tshark decode the file as SIP.

An attendant killed with SIGKILL merges nothing (its workers leave too: they asked the kernel for
SIGTERM when it dies). The next ``sipsim serve --pcap FILE`` finds those parts when it starts — a
part whose worker is no longer running — and merges them into a file of their own
(``calls-recovered.pcap`` for ``calls.pcap``, then ``calls-recovered-2.pcap`` …) before it begins,
saying so in one line: the earlier run's capture is not lost, and not mixed into this run's ``FILE``.
With only its own workers' parts merged at stop, two servers given the same FILE by mistake no
longer delete each other's parts (the last to stop still replaces FILE: a warning says so).
"""

from __future__ import annotations

import contextlib
import glob
import ipaddress
import os
from collections.abc import Iterable
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


def parts_of(path: str) -> dict[int, str]:
    """Every ``path.<pid>.part`` there is, by pid."""
    out: dict[int, str] = {}
    for part in glob.glob(glob.escape(path) + ".*.part"):
        pid = part[len(path) + 1:-len(".part")]
        if pid.isdigit():
            out[int(pid)] = part
    return out


def is_running_worker(pid: int) -> bool:
    """Is ``pid`` a running sipsim worker (its ``comm`` is ``sipsim-udp-N``)? Then its part is being
    written; any other pid (gone, or reused by another program) left its part behind."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            comm, _, rest = f.read().partition("(")[2].rpartition(")")
    except OSError:
        return False
    return comm.startswith("sipsim-udp") and rest.split()[:1] != ["Z"]


class WorkerCapture:
    """A worker's part of the capture (opened after fork, in the worker).

    :meth:`received` (after ``recvfrom``) and :meth:`sent` (after ``sendto``) record each
    datagram's direction: the part is then a Linux cooked capture whose packet type says it
    (sipsim.packets.pcapwriter), so the two copies of a datagram the proxy sends to itself — one
    sent, one received — stay two different records for every reader. :meth:`write` (no direction)
    is the older call: a part written so has Ethernet frames and no direction, as before. The
    part's link type is chosen at its first record (a pcap file has one), so the file is created
    empty and its header written then."""

    def __init__(self, path: str, pid: int) -> None:
        self._path = part_path(path, pid)
        try:
            self._f: Any = open_private(self._path)
        except OSError as exc:  # the worker's "cannot run:" line says it, as PcapWriter would
            from sipsim.packets.errors import PcapError

            raise PcapError(f"cannot write capture {self._path!r}: {exc.strerror or exc}") from None
        self._w: Any = None

    def received(self, t: float, src: Addr, dst: Addr, data: bytes) -> None:
        """A datagram ``recvfrom`` returned (Wireshark: "Unicast to us")."""
        self.write(t, src, dst, data, "in")

    def sent(self, t: float, src: Addr, dst: Addr, data: bytes) -> None:
        """A datagram ``sendto`` took (Wireshark: "Sent by us")."""
        self.write(t, src, dst, data, "out")

    def write(self, t: float, src: Addr, dst: Addr, data: bytes, direction: str | None = None) -> None:
        try:
            if self._w is None:
                from sipsim.packets import PcapWriter

                self._w = PcapWriter(self._f, directions=direction is not None)
            self._w.write(t, src, dst, data, direction if self._w.directions else None)
        except (OSError, ValueError):
            pass  # a datagram we cannot frame (too big for one IP packet) is left out

    def flush(self) -> None:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            self._f.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._f.close()


def open_private(path: str) -> Any:
    """A capture file for the server's user alone (0600, as the observer sockets): it quotes every
    message — registrations, calls — and a lab machine has other users. A link at the path is not
    followed (someone could have pointed it at a file of ours)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)  # a file that existed (--force) keeps its old mode otherwise
    return os.fdopen(fd, "wb")


def merge_parts(path: str, port: int | None, pids: Iterable[int] | None = None, *, into: str | None = None) -> int:
    """Merge worker parts of ``path`` into ``into`` (default ``path``), in time order, and delete
    them. Returns the record count. ``pids``: only these workers' parts (a server merges its own
    and leaves another server's alone); None: every part. ``port`` is the proxy's: every datagram
    to or from it is kept, SIP-looking or not; None keeps every datagram (a part's own port is
    not known after the fact)."""
    from sipsim.packets import PcapWriter
    from sipsim.packets.pcap import PcapError, read_capture

    found = parts_of(path)
    parts = sorted(found[p] for p in (found if pids is None else set(pids) & set(found)))
    ports: Iterable[int] = (port,) if port is not None else range(65536)
    records = []
    for part in parts:
        try:
            records.extend(read_capture(part, ports=ports, keep_empty=True).datagrams)
        except (PcapError, OSError):
            pass
    # time order; at one timestamp a sent copy before its received one (a datagram to the proxy itself)
    records.sort(key=lambda r: (r.capture_ns, r.direction == "in"))
    # the parts' directions are kept when every record has one (parts written by received()/sent())
    directions = bool(records) and all(r.direction is not None for r in records)
    with open_private(into or path) as f, PcapWriter(f, directions=directions) as w:
        for r in records:
            w.write(r.capture_time, tuple(r.src), tuple(r.dst), r.data, r.direction if directions else None)
    for part in parts:
        with contextlib.suppress(OSError):
            os.unlink(part)
    return len(records)


def recover_parts(path: str) -> tuple[str, list[int], int] | None:
    """Merge the parts a server killed with SIGKILL left for ``path`` (their workers no longer
    run) into a file of their own. Returns (that file, the pids, records) or None if there were none."""
    left = [pid for pid in parts_of(path) if not is_running_worker(pid)]
    if not left:
        return None
    root, ext = os.path.splitext(path)
    out, n = f"{root}-recovered{ext or '.pcap'}", 1
    while os.path.exists(out):
        n += 1
        out = f"{root}-recovered-{n}{ext or '.pcap'}"
    return out, sorted(left), merge_parts(path, None, left, into=out)


def recover_at_start(path: str) -> list[str]:
    """What a starting ``sipsim serve --pcap path`` finds of earlier runs, as log lines: parts left
    by a server killed with SIGKILL (merged now, into a file of their own, so that neither that
    capture nor this one is lost or mixed), and parts a running server is writing."""
    lines = []
    try:
        found = recover_parts(path)
    except Exception as exc:  # noqa: BLE001 - an old capture must not stop the server
        return [f"--pcap {path}: could not merge the parts an earlier run left: {exc}"]
    if found is not None:
        out, pids, n = found
        lines.append(f"--pcap {path}: an earlier server did not stop cleanly (killed with SIGKILL?) and left "
                     f"{len(pids)} capture part(s): merged {n} datagram(s) into {out}")
    busy = sorted(parts_of(path))
    if busy:
        lines.append(f"--pcap {path}: a running server writes this capture too (workers "
                     f"{' '.join(map(str, busy))}); each merges only its own parts, but the last to stop "
                     "replaces the file: give each server its own --pcap")
    return lines
