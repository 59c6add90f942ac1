"""Core and sl statistics, named as Kamailio 5.6 names them (``src/modules/kex/core_stats.c``,
``src/modules/sl/sl_stats.c``).

Kamailio registers a *fixed* list of counters in the ``core`` group, so ``kamcmd
stats.get_statistics core:`` always prints the same names, zeros included:

* ``rcv_requests`` and one counter for each of 14 known methods (``rcv_requests_invite`` …
  ``rcv_requests_publish``). kex looks at the parser's method bit: ``METHOD_OTHER`` (a method the
  parser does not know) counts in ``rcv_requests`` and ``unsupported_methods``; a bit kex has no
  counter for — KDMQ, GET, POST, PUT, DELETE, which Kamailio 5.6's first-line parser knows
  (``fline.KAMAILIO_METHODS``) — counts in ``rcv_requests`` only. No special case is needed: the
  kamailio profile's parser gives those five their own bits, so :data:`REQUEST_STAT` simply has
  no entry for them (the ser profile's parser does not know them: there they are unsupported);
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

The ``sl`` group (:data:`SL_STATS`) counts what the sl module itself answered — the replies a
stateless server sends, which the core group never sees (``fwd_*`` counts only what is relayed).
Measured on Kamailio 5.6.3 (tests/engine/test_stats_kamailio.py), its semantics differ from kex's:

* each sent reply adds to exactly **one** code counter: the codes with a counter of their own (200,
  202, 300, 301, 302, 400, 401, 403, 404, 407, 408, 483, 500) to theirs, any other code to its
  class (``4xx_replies`` means "another 4xx": a 404 is *not* in it); a code outside 200–699 to
  ``xxx_replies`` — provisional replies included: 5.6 lists ``1xx_replies`` but never counts in it
  (later versions do);
* ``sent_replies`` is the sum of those code counters (every reply sent);
* ``failures``: a reply sl was asked for but did not send — the request is an ACK, the reply could
  not be built, or sending it failed (none of these count in a code counter);
* ``received_ACKs``: ACKs sl recognised as answering one of its own replies (its To-tag) and
  absorbed before the script (the ``sl:filter_ACK`` callback,
  ``sipsim.engine.script_cb.sl_filter_ack``, counts it when it drops the ACK);
* ``sent_err_replies`` is listed but Kamailio 5.6 always reports 0: its per-process value is never
  added into the total it prints (``sl_reply_error()``'s 500 counts in ``500_replies``). We keep
  the name and the 0 so the listing matches.

The ``registrar`` group (:data:`REGISTRAR_STATS`) and the ``usrloc`` group (:data:`USRLOC_STATS`)
are what the registrar and usrloc modules list; measured on Kamailio 5.6.3
(tests/kamailio/test_registrar_stats.py):

* ``accepted_regs``: every ``save()`` that answered 200 — a query (no Contact) and a removal
  (``expires=0``, ``Contact: *``) included; ``rejected_regs``: every ``save()`` that answered an
  error (400 for a bad Expires/Contact/CSeq/q/AOR, 503 for ``max_contacts``, 500 when usrloc is
  full). A REGISTER the script answers without ``save()`` counts in neither. These two are
  counters (:data:`REGISTRAR_COUNTERS`), counted where the engine's registrar answers.
* ``default_expire`` (sic: the ``default_expires`` parameter), ``max_contacts``, ``max_expires``:
  the module's settings, read when asked; ``default_expires_range`` and ``expires_range`` are
  listed but 5.6.3 prints 0 whatever the parameters say (measured with 10 and 20) — sipsim models
  neither range, and prints the 0 too. ``min_expires`` is not in the group.
* usrloc: ``registered_users`` (AORs in every table), and per table ``<table>_users`` (AORs),
  ``<table>_contacts`` (contacts) and ``<table>_expires`` (contacts removed because they expired,
  since start). Kamailio counts the records in memory: an expired contact stays (and counts) until
  usrloc's timer removes it, and is counted in ``_expires`` then; an AOR whose last contact is
  removed is gone at once. sipsim has one table whatever the name (``use_domain`` 0): it is always
  listed as ``location``, the name every shipped script uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sipsim.engine.parser.fline import KAMAILIO_METHODS, METHOD_OTHER, METHODS

#: kex's per-method request counters, in its order (the method names as the parser knows them).
KEX_REQUEST_METHODS = ("INVITE", "CANCEL", "ACK", "BYE", "INFO", "REGISTER", "SUBSCRIBE", "NOTIFY",
                       "MESSAGE", "OPTIONS", "PRACK", "UPDATE", "REFER", "PUBLISH")
#: 4xx codes with a counter of their own.
KEX_REPLY_CODES = (401, 404, 407, 480, 486)
#: CSeq methods with per-class reply counters, and the suffix kex gives them.
KEX_REPLY_METHODS = {"INVITE": "invite", "CANCEL": "cancel", "BYE": "bye", "REGISTER": "reg",
                     "MESSAGE": "message", "PRACK": "prack", "UPDATE": "update", "REFER": "refer"}

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

#: reply codes with an sl counter of their own (every other code counts in its class's counter)
SL_REPLY_CODES = (200, 202, 300, 301, 302, 400, 401, 403, 404, 407, 408, 483, 500)

SL_STATS: tuple[str, ...] = (
    "1xx_replies", "200_replies", "202_replies", "2xx_replies",
    "300_replies", "301_replies", "302_replies", "3xx_replies",
    "400_replies", "401_replies", "403_replies", "404_replies", "407_replies", "408_replies",
    "483_replies", "4xx_replies",
    "500_replies", "5xx_replies", "6xx_replies", "xxx_replies",
    "sent_replies", "sent_err_replies", "failures", "received_ACKs",
)
"""Every counter of Kamailio 5.6's ``sl`` group, in the order sl registers them (kamcmd prints
them sorted by name). None shares a name with the core group, so one Counter holds both."""


#: the registrar's two counters (the rest of its group are settings, read when asked)
REGISTRAR_COUNTERS = ("accepted_regs", "rejected_regs")
#: every name of Kamailio 5.6.3's ``registrar`` group, as kamcmd prints them (sorted by name)
REGISTRAR_STATS: tuple[str, ...] = ("accepted_regs", "default_expire", "default_expires_range", "expires_range",
                                    "max_contacts", "max_expires", "rejected_regs")
#: the table sipsim's usrloc group is listed under (sipsim has one table, whatever a script names)
USRLOC_TABLE = "location"
#: every name of Kamailio 5.6.3's ``usrloc`` group for the one table ``location`` (kamcmd's order: sorted)
USRLOC_STATS: tuple[str, ...] = (f"{USRLOC_TABLE}_contacts", f"{USRLOC_TABLE}_expires", f"{USRLOC_TABLE}_users",
                                 "registered_users")


def registrar_group(counters: Mapping[str, int], settings: Mapping[str, int]) -> dict[str, int]:
    """Kamailio's ``registrar`` group: the two counters (summed over workers) and the module's
    settings (``default_expire``, ``max_contacts``, ``max_expires``; the ranges are always 0)."""
    values = {**settings, **{name: int(counters.get(name, 0)) for name in REGISTRAR_COUNTERS}}
    values["default_expires_range"] = values["expires_range"] = 0  # 5.6.3 prints 0 (module docstring)
    return {name: int(values.get(name, 0)) for name in REGISTRAR_STATS}


def usrloc_group(users: int, contacts: int, expired: int) -> dict[str, int]:
    """Kamailio's ``usrloc`` group for the one table: AORs, contacts (expired ones not yet removed
    included) and contacts removed because they expired."""
    return {f"{USRLOC_TABLE}_contacts": contacts, f"{USRLOC_TABLE}_expires": expired,
            f"{USRLOC_TABLE}_users": users, "registered_users": users}


def _sl_reply_name(code: int) -> str:
    if code in SL_REPLY_CODES:
        return f"{code}_replies"
    # 100–699 only. Kamailio 5.6's sl puts a provisional reply with the codes outside 100–699
    # (under 200 is "xxx" there): 1xx_replies is listed but stays 0
    return "xxx_replies" if code < 200 else f"{code // 100}xx_replies"


#: status code -> the one sl code counter a sent reply adds to (codes outside 100–699 are not in
#: the table: :func:`sl_reply_stat` gives them ``xxx_replies`` too)
SL_REPLY_STATS: dict[int, str] = {code: _sl_reply_name(code) for code in range(100, 700)}


def sl_reply_stat(code: int) -> str:
    """The sl counter a reply with status ``code`` adds to (besides ``sent_replies``)."""
    return SL_REPLY_STATS.get(code, "xxx_replies")


#: method bit (``FirstLine.method_value``) -> its request counter; METHOD_OTHER -> unsupported_methods.
#: A known bit without a counter (KDMQ, GET, POST, PUT, DELETE) is not in the table: nothing more counted.
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
    # known (Kamailio's CSeq parser knows the same 19 methods as its first-line parser), but no counters: None
    table: dict[str, tuple[str, ...] | None] = dict.fromkeys(KAMAILIO_METHODS)
    for method, suffix in KEX_REPLY_METHODS.items():
        table[method] = tuple(f"rcv_replies_{c}_{suffix}" for c in _CLASSES)
    return table


#: CSeq method (upper case) -> its six per-class counters (index = class - 1), or None: known
#: method without them. A method not in the table is looked up again in upper case (Kamailio
#: matches CSeq methods in any case); the common spellings hit at once.
REPLY_BY_METHOD: dict[str, tuple[str, ...] | None] = _by_method()


class CoreStats(Counter):
    """A Counter of the core, sl and registrar statistics of one worker (live workers keep their own
    counters in it too)."""

    def snapshot(self) -> dict[str, int]:
        """Exactly Kamailio's core group (:data:`CORE_STATS`), zeros included, in kex's order."""
        get = self.get
        return {name: get(name, 0) for name in CORE_STATS}

    def sl_snapshot(self) -> dict[str, int]:
        """Exactly Kamailio's sl group (:data:`SL_STATS`), zeros included, in sl's order."""
        get = self.get
        return {name: get(name, 0) for name in SL_STATS}
