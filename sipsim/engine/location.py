"""The location table (Kamailio's usrloc): address-of-record → registered contacts, in order.

The engine only needs this small interface; :class:`MemoryLocation` serves the simulator and
``sipsim trace``, and live mode provides an SQLite table shared by its forked workers
(``sipsim.real.location``). Times are in the driver's clock (``Datagram.time``): the engine has
none. As Kamailio's default (``use_domain`` 0), the AOR is the user part only.

**The order of an AOR's contacts matters**: ``lookup`` sends the call to the first one, and the
200 OK to a REGISTER lists them in that order. usrloc keeps each AOR's contacts in a list
(``desc_time_order`` 0, the default), and sipsim keeps the same list with the same two rules,
checked against Kamailio 5.6.3 (``tests/routing/test_differential.py``):

* a **new** contact goes after every contact, from the head, whose q is at least its own — so the
  list runs from the highest q down, and among equal q the older contact comes first. A contact
  without ``;q=`` has q "unspecified", which usrloc stores as -1: below ``q=0``.
* an **updated** contact stays where it is unless its q no longer fits between its neighbours;
  then it is moved in front of the first contact, from the head, whose q is at least its own
  (``update_contact_pos``). In a list that runs from high q to low that is usually the head — even
  for a low q. This is what Kamailio does (a refreshed contact whose q went *down* can jump to the
  front and take the calls); sipsim keeps it so that both send calls to the same phone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Q_UNSPECIFIED = -1.0  # usrloc's q for a contact registered without ;q=


@dataclass(frozen=True)
class Binding:
    aor: str
    contact: str  # the contact URI
    expires: float  # absolute time (driver clock)
    q: float | None = None
    callid: str = ""
    cseq: int = 0
    received: str | None = None  # source of the REGISTER, "ip:port" (for people: Kamailio keeps no such field)
    user_agent: str = ""
    modified: float = 0.0  # when it was last saved (driver clock): the CSeq rule needs it
    # usrloc's own ``received``: the Contact's ``;received=`` parameter as the registrar stored it
    # (see sipsim.engine.registrar, "The received parameter"); lookup() makes it $du. None: not set
    contact_received: str | None = None
    # RFC 5626/5627: the Contact's ``+sip.instance`` (one pair of quotes removed) and its ``reg-id``
    # (0: none; kept only beside an instance), echoed in the 200 as Kamailio 5.6 does; a refresh
    # without them keeps the stored ones (see sipsim.engine.registrar, "Outbound phones")
    instance: str | None = None
    reg_id: int = 0

    def remaining(self, now: float) -> int:
        return max(0, int(round(self.expires - now)))

    @property
    def qvalue(self) -> float:
        return Q_UNSPECIFIED if self.q is None else self.q


def insert_contact(order: list[Binding], new: Binding) -> list[Binding]:
    """``mem_insert_ucontact``: after every contact from the head whose q is >= the new one's."""
    i, q = 0, new.qvalue
    while i < len(order) and order[i].qvalue >= q:
        i += 1
    return order[:i] + [new] + order[i:]


def update_contact(order: list[Binding], i: int, new: Binding) -> list[Binding]:
    """Replace ``order[i]`` by ``new``, then ``update_contact_pos`` (see the module docstring)."""
    q = new.qvalue
    fits_prev = i == 0 or q <= order[i - 1].qvalue
    fits_next = i == len(order) - 1 or q >= order[i + 1].qvalue
    if fits_prev and fits_next:
        return order[:i] + [new] + order[i + 1:]
    rest = order[:i] + order[i + 1:]
    j = 0
    while j < len(rest) and rest[j].qvalue < q:
        j += 1
    return rest[:j] + [new] + rest[j:]


# A change to one AOR's list: gets the current (unexpired) contacts in order, returns the new
# list, or None for "no change"; or raises ChangeRefused.
Change = Callable[[list[Binding]], "list[Binding] | None"]


class ChangeRefused(Exception):
    """A change that fails. ``keep``: None, nothing changes; else the list as far as the change
    got before it failed, which the store writes before the exception goes on -- usrloc has no
    transactions: the registrar's ``update_contacts()`` changes a known AOR contact by contact, and
    what the contacts before a bad one did stays (measured on 5.6.3)."""

    keep: list[Binding] | None = None


def run_change(change: Change, current: list[Binding]) -> tuple[list[Binding] | None, ChangeRefused | None]:
    """``change(current)``, and the refusal to raise once what it keeps is written (see ChangeRefused)."""
    try:
        return change(current), None
    except ChangeRefused as exc:
        if exc.keep is None:
            raise
        return exc.keep, exc


class LocationStore(Protocol):
    def update(self, aor: str, now: float, change: Change) -> list[Binding]: ...
    def lookup(self, aor: str, now: float) -> list[Binding]: ...
    def all(self, now: float) -> list[Binding]: ...
    def purge(self, now: float) -> int: ...


class MemoryLocation:
    """An in-process location table: AOR → its contacts, in usrloc's order."""

    def __init__(self) -> None:
        self._table: dict[str, list[Binding]] = {}

    def update(self, aor: str, now: float, change: Change) -> list[Binding]:
        """Apply ``change`` to the AOR's list at once; returns the list as it is afterwards.
        (Expired contacts are dropped from an AOR when it is rewritten.)"""
        current = self.lookup(aor, now)
        new, refused = run_change(change, current)
        if new is None:
            return current
        if new:
            self._table[aor] = list(new)
        else:
            self._table.pop(aor, None)
        if refused is not None:
            raise refused
        return list(new)

    def lookup(self, aor: str, now: float) -> list[Binding]:
        return [b for b in self._table.get(aor, ()) if b.expires > now]

    def all(self, now: float) -> list[Binding]:
        return [b for aor in sorted(self._table) for b in self.lookup(aor, now)]

    def purge(self, now: float) -> int:
        gone = 0
        for aor in list(self._table):
            keep = [b for b in self._table[aor] if b.expires > now]
            gone += len(self._table[aor]) - len(keep)
            if keep:
                self._table[aor] = keep
            else:
                del self._table[aor]
        return gone
