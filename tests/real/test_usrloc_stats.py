"""usrloc's statistics as the live location table gives them, and the registrar's settings.

The figures themselves are compared with Kamailio 5.6.3 in tests/kamailio/test_registrar_stats.py;
here, the rules that comparison cannot reach quickly: expired rows count as AORs and contacts until
they are purged (as usrloc's until its timer runs), each expired contact counts once in
``location_expires`` — when purged, or when its AOR is rewritten without it, but not when it is
registered again — and a new server starts that counter from 0.
"""

from __future__ import annotations

from pathlib import Path

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.location import Binding
from sipsim.real.location import SQLiteLocation
from sipsim.real.stats import SharedStats
from sipsim.routing.modules.registrar import settings


def _set(store: SQLiteLocation, aor: str, now: float, *contacts: tuple[str, float]) -> None:
    store.update(aor, now, lambda cur: [Binding(aor, c, now + ttl) for c, ttl in contacts])


def test_expired_rows_count_until_purged_and_once_in_expires(tmp_path: Path) -> None:
    store = SQLiteLocation(tmp_path / "loc.sqlite")
    store.create()
    _set(store, "gina", 1000.0, ("sip:g1@h", 10), ("sip:g2@h", 600))
    _set(store, "hank", 1000.0, ("sip:h1@h", 10))
    _set(store, "ivy", 1000.0, ("sip:i1@h", 10))
    assert store.usrloc_counts() == (3, 4, 0)
    # at 1020 three contacts have expired; nothing purged yet: all still counted
    assert store.usrloc_counts() == (3, 4, 0)
    store.update("gina", 1020.0, lambda cur: [*cur, Binding("gina", "sip:g3@h", 1620.0)])  # g1 dropped: expired
    assert store.usrloc_counts() == (3, 4, 1)
    # ivy registers its expired contact again: updated, not expired (as usrloc updates it in place)
    store.update("ivy", 1020.0, lambda cur: [Binding("ivy", "sip:i1@h", 1620.0)])
    assert store.usrloc_counts() == (3, 4, 1)
    assert store.purge(1020.0) == 1  # hank's
    assert store.usrloc_counts() == (2, 3, 2)
    store.close()
    again = SQLiteLocation(tmp_path / "loc.sqlite")
    again.create()  # a new server: the counter starts from 0, the bindings stay
    assert again.usrloc_counts() == (2, 3, 0)
    again.close()


def test_shared_stats_read_the_table_and_the_settings(tmp_path: Path) -> None:
    """What the attendant answers: the registrar's counters summed over the rows, its settings
    from the script (or the server's defaults), usrloc's from the table — its connection closed."""
    store = SQLiteLocation(tmp_path / "loc.sqlite")
    store.create()
    _set(store, "eve", 1e12, ("sip:e@h", 60))
    stats = SharedStats(2)
    for slot, (acc, rej) in enumerate(((3, 1), (2, 0))):
        row = stats.read(slot)
        row.update(accepted_regs=acc, rejected_regs=rej)
        stats.write(slot, row)

    class Script:
        modparams = {("registrar", "max_contacts"): 2, ("registrar", "default_expires"): "1800"}

    config = ServerConfig(profile=Profile.KAMAILIO, max_contacts=10)
    groups = stats.total_grouped((Script(), config), store)
    assert store._conn is None  # closed again: the attendant forks
    assert groups["registrar"] == {"accepted_regs": 5, "default_expire": 1800, "default_expires_range": 0,
                                   "expires_range": 0, "max_contacts": 2, "max_expires": 0, "rejected_regs": 1}
    assert groups["usrloc"] == {"location_contacts": 1, "location_expires": 0, "location_users": 1,
                                "registered_users": 1}
    assert "accepted_regs" not in groups["sipsim"]
    stats.close()


def test_settings_are_what_save_applies() -> None:
    """Without module parameters: Kamailio's defaults, but the server's max_contacts (serve
    --max-contacts) and the ser profile's one-day max_expires, the limits sipsim really applies."""
    assert settings(None, ServerConfig(profile=Profile.KAMAILIO, max_contacts=10)) == {
        "default_expire": 3600, "max_contacts": 10, "max_expires": 0}
    assert settings(None, ServerConfig(profile=Profile.SER)) == {
        "default_expire": 3600, "max_contacts": 0, "max_expires": 86400}
