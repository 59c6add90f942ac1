"""Core and sl statistics summed over forked workers: one row of counters per worker in shared memory.

Kamailio keeps its statistics in shared memory, one counter per process, and sums them when asked
(``kamcmd stats.get_statistics core:``). We do the same with an anonymous ``MAP_SHARED`` mapping
created by the attendant before it forks: worker ``slot`` writes its row after every message
(a plain store of a few integers, no lock: a reader may see a row a message old, never a torn
value, because each counter is an aligned 8-byte word), and the attendant sums the rows when
``sipsim stats`` asks. A respawned worker starts from its slot's last values, so totals never go
backwards when a worker dies.

A row holds every counter of Kamailio 5.6's ``core`` group (``sipsim.engine.stats.CORE_STATS``:
``rcv_requests``, ``rcv_requests_invite`` …, ``rcv_replies_4xx``, ``rcv_replies_2xx_reg`` …, the
same fixed set ``sipsim simulate`` reports), then every counter of its ``sl`` group
(``sipsim.engine.stats.SL_STATS``: ``404_replies``, ``sent_replies``, ``failures`` …: what the
server answered itself), then sipsim's own live-mode counters:
``rcv_datagrams`` (what recvfrom returned), ``send_refused`` (the destination policy said no),
``send_failed`` (sendto failed), ``observer_lost`` (events the observer was too slow to take) and
``internal_errors`` (engine bugs the worker survived). 114 words a row: the write after each
message is one gather and one pack, about 3 µs.
"""

from __future__ import annotations

import mmap
import operator
import struct
from collections.abc import Mapping

from sipsim.engine.stats import CORE_STATS, SL_STATS

LIVE_STATS = ("rcv_datagrams", "send_refused", "send_failed", "observer_lost", "internal_errors")
STAT_NAMES: tuple[str, ...] = CORE_STATS + SL_STATS + LIVE_STATS
_KAMAILIO = frozenset(CORE_STATS + SL_STATS)


def grouped(values: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Split summed counters the way ``kamcmd`` names them: ``{"core": ..., "sl": ..., "sipsim": ...}``.

    ``core`` and ``sl`` hold exactly Kamailio's two groups, each sorted by name as ``kamcmd
    stats.get_statistics core:`` (``sl:``) prints it; ``sipsim`` holds our live-mode counters (and
    any name Kamailio does not have).
    """
    core = {name: int(values.get(name, 0)) for name in sorted(CORE_STATS)}
    sl = {name: int(values.get(name, 0)) for name in sorted(SL_STATS)}
    ours = {name: int(values.get(name, 0)) for name in LIVE_STATS}
    ours.update({name: int(v) for name, v in values.items() if name not in _KAMAILIO and name not in ours})
    return {"core": core, "sl": sl, "sipsim": ours}


class SharedStats:
    """``slots`` rows of ``len(STAT_NAMES)`` unsigned 64-bit counters, shared across fork()."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._row = struct.Struct(f"={len(STAT_NAMES)}Q")
        self._map = mmap.mmap(-1, max(1, slots * self._row.size), flags=mmap.MAP_SHARED,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._values = operator.itemgetter(*STAT_NAMES)

    def write(self, slot: int, values: Mapping[str, int]) -> None:
        """Store a worker's counters (its CoreStats — core and sl — plus live counters) in its row.

        Called after every message, so it is one C-level gather and one pack. ``values`` is a
        ``Counter``: a missing name reads 0, but through ``Counter.__missing__``, a Python call, so
        the worker starts from :meth:`read` of its slot, every name present. Counters only grow,
        so they fit the unsigned words (should one ever not, it is stored modulo 2**64 rather than
        stopping the worker).
        """
        row = self._values(values)
        try:
            self._row.pack_into(self._map, slot * self._row.size, *row)
        except struct.error:
            self._row.pack_into(self._map, slot * self._row.size, *[v & 0xFFFFFFFFFFFFFFFF for v in row])

    def read(self, slot: int) -> dict[str, int]:
        return dict(zip(STAT_NAMES, self._row.unpack_from(self._map, slot * self._row.size), strict=True))

    def total(self) -> dict[str, int]:
        out = dict.fromkeys(STAT_NAMES, 0)
        for slot in range(self.slots):
            for name, value in self.read(slot).items():
                out[name] += value
        return out

    def total_grouped(self) -> dict[str, dict[str, int]]:
        """:meth:`total` split as ``sipsim stats`` shows it: ``{"core": ..., "sl": ..., "sipsim": ...}``."""
        return grouped(self.total())

    def close(self) -> None:
        self._map.close()
