"""The location table (Kamailio's usrloc): address-of-record → registered contacts.

The engine only needs this small interface; :class:`MemoryLocation` serves the simulator and
``sipsim trace``, and live mode provides an SQLite table shared by its forked workers
(``sipsim.real.location``). Times are in the driver's clock (``Datagram.time``): the engine has
none. As Kamailio's default (``use_domain`` 0), the AOR is the user part only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Binding:
    aor: str
    contact: str  # the contact URI
    expires: float  # absolute time (driver clock)
    q: float | None = None
    callid: str = ""
    cseq: int = 0
    received: str | None = None  # source of the REGISTER, "ip:port"
    user_agent: str = ""

    def remaining(self, now: float) -> int:
        return max(0, int(round(self.expires - now)))


class LocationStore(Protocol):
    def save(self, binding: Binding) -> None: ...
    def remove(self, aor: str, contact: str) -> None: ...
    def remove_all(self, aor: str) -> None: ...
    def lookup(self, aor: str, now: float) -> list[Binding]: ...
    def all(self, now: float) -> list[Binding]: ...
    def purge(self, now: float) -> int: ...


class MemoryLocation:
    """An in-process location table (dict of AOR → {contact: Binding})."""

    def __init__(self) -> None:
        self._table: dict[str, dict[str, Binding]] = {}

    def save(self, binding: Binding) -> None:
        self._table.setdefault(binding.aor, {})[binding.contact] = binding

    def remove(self, aor: str, contact: str) -> None:
        self._table.get(aor, {}).pop(contact, None)

    def remove_all(self, aor: str) -> None:
        self._table.pop(aor, None)

    def lookup(self, aor: str, now: float) -> list[Binding]:
        found = [b for b in self._table.get(aor, {}).values() if b.expires > now]
        return sorted(found, key=lambda b: (-(b.q if b.q is not None else 1.0), -b.expires, b.contact))

    def all(self, now: float) -> list[Binding]:
        return [b for aor in sorted(self._table) for b in self.lookup(aor, now)]

    def purge(self, now: float) -> int:
        gone = 0
        for aor in list(self._table):
            entries = self._table[aor]
            for c in [c for c, b in entries.items() if b.expires <= now]:
                del entries[c]
                gone += 1
            if not entries:
                del self._table[aor]
        return gone
