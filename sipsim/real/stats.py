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
``internal_errors`` (engine bugs the worker survived). Between the sl counters and sipsim's sit
the registrar's two counters (``accepted_regs``, ``rejected_regs``: ``sipsim.engine.stats.
REGISTRAR_COUNTERS``). 116 words a row: the write after each message is one gather and one pack,
about 3 µs.

Kamailio's ``registrar`` and ``usrloc`` groups hold more than counters: the registrar's settings
(``max_contacts`` ...: the script's module parameters, :func:`sipsim.routing.modules.registrar.
settings`) and usrloc's view of the location table (AORs, contacts, expired contacts). Those are
not per worker — the table is one SQLite file every worker shares — so the attendant reads them
when ``sipsim stats`` asks (:meth:`SharedStats.total_grouped`), nothing is kept per message.
"""

from __future__ import annotations

import mmap
import operator
import struct
from collections.abc import Mapping
from typing import Any

from sipsim.engine.stats import (
    CORE_STATS,
    REGISTRAR_COUNTERS,
    REGISTRAR_STATS,
    SL_STATS,
    USRLOC_STATS,
    registrar_group,
    usrloc_group,
)

LIVE_STATS = ("rcv_datagrams", "send_refused", "send_failed", "observer_lost", "internal_errors")
STAT_NAMES: tuple[str, ...] = CORE_STATS + SL_STATS + REGISTRAR_COUNTERS + LIVE_STATS
_KAMAILIO = frozenset(CORE_STATS + SL_STATS + REGISTRAR_STATS + USRLOC_STATS)
#: the groups ``sipsim stats`` prints, in its order: Kamailio's (as kamcmd names them), then sipsim's own
GROUPS = ("core", "sl", "registrar", "usrloc", "sipsim")


def grouped(values: Mapping[str, int], settings: Mapping[str, int] | None = None,
            usrloc: tuple[int, int, int] | None = None) -> dict[str, dict[str, int]]:
    """Split summed counters the way ``kamcmd`` names them: ``{"core": ..., "sl": ...,
    "registrar": ..., "usrloc": ..., "sipsim": ...}``.

    ``core``, ``sl``, ``registrar`` and ``usrloc`` hold exactly Kamailio's groups, each sorted by
    name as ``kamcmd stats.get_statistics core:`` (``sl:`` ...) prints it; ``sipsim`` holds our
    live-mode counters (and any name Kamailio does not have). ``settings``: the registrar's
    (``max_contacts`` ...; see :func:`sipsim.routing.modules.registrar.settings`); ``usrloc``:
    (AORs, contacts, expired contacts) of the location table. Unknown (an older server's answer):
    zeros, as for the other names.
    """
    core = {name: int(values.get(name, 0)) for name in sorted(CORE_STATS)}
    sl = {name: int(values.get(name, 0)) for name in sorted(SL_STATS)}
    registrar = registrar_group(values, settings or {})
    loc = usrloc_group(*(usrloc or (0, 0, 0)))
    ours = {name: int(values.get(name, 0)) for name in LIVE_STATS}
    ours.update({name: int(v) for name, v in values.items() if name not in _KAMAILIO and name not in ours})
    return {"core": core, "sl": sl, "registrar": registrar, "usrloc": loc, "sipsim": ours}


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

    def total_grouped(self, registrar: tuple[Any, Any] | None = None,
                      location: Any = None) -> dict[str, dict[str, int]]:
        """:meth:`total` split as ``sipsim stats`` shows it: ``{"core": ..., "sl": ..., "registrar":
        ..., "usrloc": ..., "sipsim": ...}``.

        ``registrar``: ``(script, ServerConfig)``, whose module parameters are the registrar's
        settings; ``location``: the ``SQLiteLocation`` whose rows usrloc's group counts (read now,
        and its connection closed again: the attendant forks, and no connection may cross a fork).
        A table that cannot be read leaves the usrloc group out (the CLI shows zeros).
        """
        import sqlite3

        settings = None
        if registrar is not None:
            from sipsim.routing.modules.registrar import settings as registrar_settings

            settings = registrar_settings(*registrar)
        usrloc = None
        if location is not None:
            try:
                usrloc = location.usrloc_counts()
            except sqlite3.Error:
                usrloc = None
            finally:
                location.close()
        groups = grouped(self.total(), settings, usrloc)
        if location is not None and usrloc is None:
            del groups["usrloc"]
        return groups

    def close(self) -> None:
        self._map.close()
