"""Core statistics, named as Kamailio 5.6's kex module names them (``src/modules/kex/core_stats.c``).

Kamailio registers a *fixed* list of counters in the ``core`` group, so ``kamcmd
stats.get_statistics core:`` always prints the same names, zeros included:

* ``rcv_requests`` and one counter for each of 14 known methods (``rcv_requests_invite`` …
  ``rcv_requests_publish``). A request whose method the parser does not know at all counts in
  ``rcv_requests`` and ``unsupported_methods``; one the parser knows but kex has no counter for
  (KDMQ, GET, POST, PUT, DELETE in Kamailio 5.6) counts in ``rcv_requests`` only;
* ``rcv_replies``, per class ``rcv_replies_1xx`` … ``_6xx``, ``rcv_replies_18x`` (180–189) and five
  codes of their own (401, 404, 407, 480, 486); a status outside 100–699 counts in ``rcv_replies``
  only;
* per class *and* CSeq method for 8 methods: ``rcv_replies_2xx_invite``, ``rcv_replies_4xx_reg``
  (REGISTER is spelled ``reg`` there) …;
* ``fwd_requests`` … ``bad_msg_hdr``, counted by the core where the message is forwarded, dropped
  or found broken.

All of this was measured against the Kamailio 5.6.3 binary (tests/engine/test_stats_kamailio.py):
method names are matched in any case, in the request line and in the CSeq.

``rcv_*`` are counted by pre-script callbacks (``sipsim.engine.script_cb``), so a message dropped
before the callbacks is never counted as received — as in Kamailio. The callbacks do one or two
dict lookups in the tables below, built once: the per-message path builds no string.
"""

from __future__ import annotations

from collections import Counter

from sipsim.engine.parser.fline import METHOD_OTHER, METHODS

#: kex's per-method request counters, in its order (the method names as the parser knows them).
KEX_REQUEST_METHODS = ("INVITE", "CANCEL", "ACK", "BYE", "INFO", "REGISTER", "SUBSCRIBE", "NOTIFY",
                       "MESSAGE", "OPTIONS", "PRACK", "UPDATE", "REFER", "PUBLISH")
#: 4xx codes with a counter of their own.
KEX_REPLY_CODES = (401, 404, 407, 480, 486)
#: CSeq methods with per-class reply counters, and the suffix kex gives them.
KEX_REPLY_METHODS = {"INVITE": "invite", "CANCEL": "cancel", "BYE": "bye", "REGISTER": "reg",
                     "MESSAGE": "message", "PRACK": "prack", "UPDATE": "update", "REFER": "refer"}
#: Methods Kamailio 5.6's parser knows (so they are not ``unsupported_methods``) but kex does not
#: count by name. sipsim's parser gives them no method bit, so the callback looks them up here.
KAMAILIO_KNOWN_UNCOUNTED = frozenset({"KDMQ", "GET", "POST", "PUT", "DELETE"})

_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "6xx")

CORE_STATS: tuple[str, ...] = (
    "rcv_requests",
    *(f"rcv_requests_{m.lower()}" for m in KEX_REQUEST_METHODS),
    "rcv_replies",
    "rcv_replies_1xx", "rcv_replies_18x", "rcv_replies_2xx", "rcv_replies_3xx", "rcv_replies_4xx",
    *(f"rcv_replies_{code}" for code in KEX_REPLY_CODES),
    "rcv_replies_5xx", "rcv_replies_6xx",
    "fwd_requests",
    "fwd_replies",
    "drop_requests",
    "drop_replies",
    "err_requests",
    "err_replies",
    "bad_URIs_rcvd",
    "unsupported_methods",
    "bad_msg_hdr",
    *(f"rcv_replies_{c}_{suffix}" for suffix in KEX_REPLY_METHODS.values() for c in _CLASSES),
)
"""Every counter of Kamailio 5.6's ``core`` group, in the order kex registers them (kamcmd prints
them sorted by name)."""

#: method bit (``FirstLine.method_value``) -> its request counter; METHOD_OTHER -> unsupported_methods
REQUEST_STAT: dict[int, str] = {METHODS[m]: f"rcv_requests_{m.lower()}" for m in KEX_REQUEST_METHODS}
REQUEST_STAT[METHOD_OTHER] = "unsupported_methods"


def _reply_names(status: int) -> tuple[str, ...]:
    cls = status // 100
    if not 1 <= cls <= 6:
        return ()
    names = [f"rcv_replies_{cls}xx"]
    if 180 <= status <= 189:
        names.append("rcv_replies_18x")
    if status in KEX_REPLY_CODES:
        names.append(f"rcv_replies_{status}")
    return tuple(names)


#: status code -> the class/code counters it adds to (besides rcv_replies); missing = none
REPLY_STATS: dict[int, tuple[str, ...]] = {s: _reply_names(s) for s in range(100, 700)}


def _by_method() -> dict[str, tuple[str, ...] | None]:
    table: dict[str, tuple[str, ...] | None] = dict.fromkeys(METHODS)  # known, but no counters: None
    for method, suffix in KEX_REPLY_METHODS.items():
        table[method] = tuple(f"rcv_replies_{c}_{suffix}" for c in _CLASSES)
    return table


#: CSeq method (upper case) -> its six per-class counters (index = class - 1), or None: known
#: method without them. A method not in the table is looked up again in upper case (Kamailio
#: matches CSeq methods in any case); the common spellings hit at once.
REPLY_BY_METHOD: dict[str, tuple[str, ...] | None] = _by_method()


class CoreStats(Counter):
    """A Counter of the core statistics of one worker (live workers keep their own counters in it too)."""

    def snapshot(self) -> dict[str, int]:
        """Exactly Kamailio's core group (:data:`CORE_STATS`), zeros included, in kex's order."""
        get = self.get
        return {name: get(name, 0) for name in CORE_STATS}
