"""Registrar: ``save("location")`` and ``lookup("location")`` (the registrar module).

``save`` handles a REGISTER (RFC 3261 §10.3): the address of record comes from the To URI (its
user part, unescaped, as Kamailio with ``use_domain`` off — an empty user is an AOR too), each
Contact is added, refreshed or — with ``expires=0`` — removed; ``Contact: *`` with ``Expires: 0``
removes them all. The expiry is the contact's ``expires`` parameter, else the Expires header,
else 3600 s (``default_expires``); an ``expires`` parameter that is not a number (or above
4294967295: ``str2int()`` fails) counts as absent *and* overrides the header (Kamailio 5.6 falls
back to ``default_expires``), while an empty one (``;expires``, ``;expires=``) is no parameter at
all; an empty ``q`` is no q; of a repeated parameter the last counts. A value under
``min_expires`` (60 s) is raised to it. A REGISTER without Contact is a query.

**The longest binding** (``max_expires``). RFC 3261 §20.19 gives delta-seconds a range of 0 to
2**32-1, and §10.2.1.1/§10.3 let a registrar grant less than it was asked: the granted value is
what the 200 says (``;expires=`` on each Contact), and the UA refreshes by it. The ``ser``
profile takes an Expires header or ``expires`` parameter above 2**32-1 for no value at all —
``default_expires`` (3600 s), as RFC 4475 §3.1.2.4 suggests for such out-of-range numbers — and
grants at most ``max_expires`` = 86400 s (one day: the RFC's own 7200 s example of §24.1
passes; a 136-year binding of a phone that was switched off does not).
That cap is sipsim's choice for the RFC-minded profile, not a Kamailio default: Kamailio's
registrar has ``max_expires`` 0, i.e. no cap, and the ``kamailio`` profile keeps it that way
unless a route sets the module parameter.

**The kamailio profile** reads the REGISTER as Kamailio 5.6 does (measured against the binary;
the ``ser`` profile keeps the RFC's reading): the Contact headers with Kamailio's own scanner
(:func:`~sipsim.engine.parser.contact.parse_contact_kamailio`), the To URI with its lenient
``parse_uri()`` (``<tel:+1201>``'s AOR is ``+1201``, ``<urn:service:sos>``'s ``service``), the
AOR unescaped by ``un_escape()`` — an escape that is not printable ASCII (``%00``, ``%7f``,
``%80``) or not an escape (``%zz``, ``%4``) is ``400``, ``Error while unescaping username`` — and
then lower-cased (the registrar's ``case_sensitive`` is off: ``Bob`` and ``bob`` are one AOR, also
for ``lookup``). The Expires header is read by ``parse_expires()``: trimmed, at most ten
characters, digits up to the first blank (``120 x`` is 120) wrapping at 2^32 (``4294967296`` is
0, so ``Contact: *`` with it is fine), any other character makes it invalid, as does a value
above 2^31-1 — an invalid Expires means ``default_expires``; an empty one is ``Expires parse
error``.

**The order of the checks** is ``save()``'s: the headers (Expires, then every Contact header),
the star rules (a first ``Contact: *`` needs ``Expires: 0`` and no other Contact header; a later
``*`` is ``* used in contact and more than 1 contact``) and, header by header with them, each
contact's length — a URI longer than 512 bytes (``contact_max_size``, fixed here) or a
``received=...`` parameter longer than 255 (its name and quotes count) is ``400``,
``Contact/received too long``, in both profiles: no binding can make the 200 to a query long —
then the AOR, and only then the contacts.

**New AOR or known one.** When the AOR has no binding yet (usrloc's ``insert_contacts()``),
contacts with an expiry of 0 are skipped unread and one listed twice updates the binding made by
its first sighting (the last written wins: the registrar meets a header's contacts last first).
When it has bindings (``update_contacts()``), every contact is read, and a contact seen twice in
one REGISTER is the same CSeq again: the second sighting changes nothing. The CSeq number is read
by ``str2int()`` — nothing but digits, at most 4294967295 — when a contact is stored: a bad one
is ``400 Invalid CSeq number`` as soon as an AOR with bindings gets any contact, or a new AOR a
contact to keep; a query, ``Contact: *`` or a new AOR's ``expires=0`` contacts never read it.
(Simplified: "no binding" means no unexpired one here; usrloc keeps an expired contact until its
timer runs, every 60 s, and until then the AOR takes the ``update_contacts()`` path.)
In the ``kamailio`` profile the first contact stored for a new AOR takes its ``q``,
``+sip.instance`` and ``reg-id`` (and received, see below) from the REGISTER's *first* contact --
the first header's last one, read first -- not from itself: ``pack_ci()``, given the message,
reads the message's first contact. That is the same contact unless the first one was skipped
for its ``expires=0``: then ``<sip:a@h>;q=0.7, <sip:b@h>;expires=0;q=0.2`` binds ``a`` with q
0.2, one without q binds it with none, and a bad ``q`` there fails the REGISTER after all
(measured on 5.6.3).

**The CSeq rule** (RFC 3261 §10.3 step 7, usrloc's ``get_ucontact``): a contact already bound
with the same Call-ID is updated only by a higher CSeq. A lower one fails the whole REGISTER
(400, ``Invalid CSeq number``); the same CSeq again within ``cseq_delay`` (20 s) of the last
change is a retransmission and changes nothing (200).

**One bad contact** fails the REGISTER. In the ``ser`` profile a REGISTER is all or nothing, as
RFC 3261 §10.3 asks (binding updates are committed if and only if all of them succeed). Kamailio
has no transaction around them: for an AOR with bindings, ``update_contacts()`` changes usrloc
contact by contact (a header's contacts last first), so what the contacts read before the bad
one did -- an insert, a refresh, a removal -- stays, and the error answer lists it (measured on
5.6.3: ``Contact: <sip:a@h>;q=1., <sip:b@h>`` binds ``b``, then answers 400 ``Invalid q param in
contact``). The ``kamailio`` profile does the same; a new AOR keeps nothing (``insert_contacts()``
deletes the record it made).

**How many contacts an AOR may have** (``max_contacts``; 0, Kamailio's default, is no limit).
Without a limit the 200 to a REGISTER lists every binding, however many: a 226-byte query for an
AOR with 1,000 contacts was answered with 43 KB — sent to a source address anyone can forge. The
registrar counts *before* it changes anything, and refuses with ``503 Service Unavailable``,
``P-Registrar-Error: Too many registered contacts`` (``save()`` returns -2): for an AOR with
bindings (``test_max_contacts()``) the unexpired contacts, plus each contact of the REGISTER not
bound yet that has an expiry, less each bound one it removes with ``expires=0``; a refresh of a
bound contact changes nothing, so a phone can always refresh or remove its own binding, and the
503 lists the bindings as they stay. For a new AOR (``insert_contacts()``) the contacts with an
expiry are counted as they are read — a URI listed twice counts twice — and the one beyond the
limit fails the REGISTER before its own CSeq, Call-ID and q are read. A query is never refused
(it lists what the limit let in). Kamailio's ``$xavp(reg=>max_contacts)`` per-call override
(5.6.3 honours it when the ``xavp_cfg`` module parameter names ``reg``: measured) is not modeled
-- sipsim has no ``$xavp``, and a script that sets ``xavp_cfg`` is refused at load; ``sipsim serve
--max-contacts`` sets the default of a script that does not set the module parameter.

**The received parameter** (a NATed phone's real address, written by a nathelper-minded UA or an
edge proxy as ``;received="sip:198.51.100.7:4444"`` on its Contact) is what usrloc calls the
binding's ``received``: Kamailio 5.6's ``save()`` stores it (one pair of quotes removed; of a
repeated parameter the last), its 200 echoes it after ``;expires=`` as ``;received="..."`` (the
name is the ``received_param`` module parameter), and ``lookup()`` makes it ``$du``, the next hop,
while the R-URI becomes the contact. An empty one (``;received``, ``;received=""``) is not set.
Measured on 5.6.3, and kept in the ``kamailio`` profile: the first value *sticks* for the rest of
the REGISTER (the registrar packs every contact's info into one static structure and fills its
received only while that is still empty): a ``Contact: <sip:a@h>;received="sip:x"`` header
followed by ``Contact: <sip:b@h>;received="sip:y"`` and ``Contact: <sip:c@h>`` stores ``sip:x``
for all three (but ``Contact: <sip:a@h>;received="sip:x", <sip:b@h>`` only for ``a``: a header's
contacts are read last first); a contact with ``expires=0`` passes it on too, an empty one
neither sets nor clears it. The ``ser`` profile keeps each contact's own parameter.
(``received_avp``, nathelper's ``fix_nated_register()``, is not modeled: sipsim has no AVPs, so a
binding's received comes only from the Contact.)

**Outbound phones** (RFC 5626/5627): a Contact's ``+sip.instance`` (the parameter name in any
case) is stored with the binding, and with it its ``reg-id`` (only digits count; a ``reg-id``
without an instance is dropped); the 200 echoes both, as Kamailio 5.6.3 does (measured) — a phone
that registers with them may look for its ``reg-id`` in the answer to know the registrar kept
its flow. A refresh that names the contact without them keeps the stored ones. In the kamailio
profile a contact with an instance is matched by instance and ``reg-id`` (``save()`` calls
usrloc's ``get_ucontact_by_instance()`` whatever ``matching_mode`` says: a phone that registers
again from a new port replaces its binding; measured), one without by URI: one URI can be bound
twice, without an instance and with one (see :meth:`_Plan._match`). A contact found by its
instance is updated whatever its Call-ID and CSeq (usrloc checks them only for a match by URI).
``reg-id`` is read into one structure that lives for the whole REGISTER (``pack_ci()``'s static
contact info): a contact without an instance and ``reg-id`` keeps the one read last, and is
stored, matched and echoed (``;reg-id=2`` on a plain contact) with it; a bound contact's own never
changes. A contact that refreshes an instance bound under another Call-ID (a phone that
restarted, RFC 5626 §6) removes every other binding of that instance, whatever its ``reg-id``,
and is the last one read: the contacts after it change nothing. Measured on 5.6.3.
Not modelled: GRUUs (Kamailio adds ``pub-gruu``/``temp-gruu`` when the REGISTER says
``Supported: gruu``), and Kamailio's answer to a ``reg-id`` that is not a number or an empty
instance (a 200 that lists nothing, the contact not saved): sipsim saves the contact without them.

**Statistics** (``kamcmd stats.get_statistics registrar:``, measured on 5.6.3): every 200 counts in
``accepted_regs`` (a query and a removal too), every error answer in ``rejected_regs``; the
counters sit in the worker's ``ctx.stats`` beside the core ones (see :mod:`sipsim.engine.stats`).

**Answers**: 200 lists every current binding in usrloc's order (``;q=`` when one was given, then
``;expires=``, then ``;received="..."`` when the binding has one, then ``;+sip.instance="..."``
and ``;reg-id=``). An error is answered with the
code and the standard reason phrase, and the registrar's own words go into a ``P-Registrar-Error``
header; the Contact list is added too when the error was found while the bindings were being
changed. Both headers are *reply lumps* (``add_lump_rpl``): they stay on the message, so a later
``sl_reply_error()`` repeats them — as Kamailio does (default.cfg therefore calls ``save()``
alone: it answers by itself).

``lookup`` rewrites the Request-URI to the AOR's first contact in usrloc's order (see
:mod:`sipsim.engine.location`), and ``$du`` to that contact's received value if it has one, else
it *resets* ``$du`` (measured on 5.6.3: a ``$du`` that ``loose_route()`` took from a foreign
preloaded Route, or that the script set, is gone, and ``forward()`` sends to the contact; a lookup
that finds nothing leaves ``$du`` as it was): 1 when found, -1 when the user is unknown (the
script answers 404), -3 when the Request-URI or its user cannot be read (the AOR rules above
apply to it too).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sipsim.engine.contact_params import (
    UINT_MAX,
    bare_instance,
    contact_list,
    outbound,
    param_body,
    str2int,
)
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.events import format_addr
from sipsim.engine.location import Binding, ChangeRefused, insert_contact, update_contact
from sipsim.engine.parser import lex
from sipsim.engine.parser.contact import ContactBody, parse_contact_kamailio
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_EOH
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers
from sipsim.engine.parser.uri import unescape
from sipsim.engine.sl import add_lump_rpl, sl_send_reply

DEFAULT_EXPIRES = 3600
MIN_EXPIRES = 60
SER_MAX_EXPIRES = 86_400  # the ser profile's max_expires (see the module docstring); Kamailio's is 0: no cap
CSEQ_DELAY = 20  # usrloc's cseq_delay: the same CSeq within this many seconds is a retransmission

# The registrar module's errors: (code, the text of its P-Registrar-Error header)
R_PARSE = (400, "Message parse error")
R_AOR_PARSE = (400, "Error while parsing AOR")
R_UNESCAPE = (400, "Error while unescaping username")
R_PARSE_EXP = (400, "Expires parse error")
R_PARSE_CONT = (400, "Contact parse error")
R_STAR_EXP = (400, "* used in contact and expires is not zero")
R_STAR_CONT = (400, "* used in contact and more than 1 contact")
R_INV_CSEQ = (400, "Invalid CSeq number")
R_INV_Q = (400, "Invalid q param in contact")
R_CALLID_LEN = (400, "Callid too long")
R_CONTACT_LEN = (400, "Contact/received too long")
R_TOO_MANY = (503, "Too many registered contacts")  # max_contacts (registrar.c's codes[]: 503)
REASONS = {400: "Bad Request", 500: "Server Internal Error", 503: "Service Unavailable"}  # reply.c's MSG_*
CALLID_MAX_SIZE = 255  # usrloc keeps a binding's Call-ID in 255 bytes at most
CONTACT_MAX_SIZE = 512  # the registrar's contact_max_size: a longer contact URI is refused (400)
RECEIVED_MAX_SIZE = 255  # ... and a longer ;received=... parameter of a contact (all of it)

# qvalue (RFC 3261 §25.1), as str2q() reads it: leading zeros and a bare "." allowed ("00.5", ".5",
# "001.0", "00" pass; "0." and "1." do not: measured on 5.6.3), at most three decimals kept
_QVALUE = re.compile(r"0*(?:(1)(?:\.0+)?|\.([0-9]+))|0+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class RegError(ChangeRefused):
    """A REGISTER the registrar refuses; ``listed``: answer with the current bindings too;
    ``keep``: what the contacts before the failing one changed, which stays (see _Plan.__call__)."""

    def __init__(self, err: tuple[int, str], listed: bool = False, note: str = "") -> None:
        super().__init__(err[1])
        self.code, self.text, self.listed = err[0], err[1], listed
        self.note = note  # for the trace only (Kamailio's log line), never in the answer


def _aor(uri_user: str | None, kamailio: bool = False) -> str:
    """The AOR of a URI's user part: unescaped (and, for Kamailio, lower-cased ASCII; see the
    module docstring). Raises RegError(R_UNESCAPE) where Kamailio's ``un_escape()`` fails."""
    if not kamailio:
        return unescape(uri_user or "")
    return un_escape(uri_user or "").translate(_ASCII_LOWER)


def un_escape(s: str) -> str:
    """Kamailio's ``un_escape()``: every ``%`` starts two hex digits encoding a printable ASCII
    character (32..126); anything else fails (RegError R_UNESCAPE)."""
    if "%" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        if s[i] != "%":
            out.append(s[i])
            i += 1
            continue
        pair = s[i + 1 : i + 3]
        if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair) or not 32 <= int(pair, 16) <= 126:
            raise RegError(R_UNESCAPE)
        out.append(chr(int(pair, 16)))
        i += 3
    return "".join(out)


def expires_hf_kamailio(body: str) -> int | None:
    """The Expires header as ``parse_expires()`` and the registrar's ``get_expires_hf()`` read it
    (see the module docstring): the value, or None when it is not valid (``default_expires``).
    An empty body is ``Expires parse error``."""
    text = body.strip(lex.WS)
    if not text:
        raise RegError(R_PARSE_EXP)
    if len(text) > 10:
        return None
    value = 0
    for ch in text:
        if ch in lex.DIGITS:
            value = (value * 10 + ord(ch) - 48) & UINT_MAX
        elif ch in lex.WS:
            break
        else:
            return None  # an RFC 2543 date, "-1", "60;x": not an error, just no value
    return value if value <= 0x7FFFFFFF else None


def parse_q(value: str | None) -> float | None:
    """A contact's ``q`` parameter: None when absent or empty, else 0..1 (three decimals kept)."""
    if not value:
        return None
    m = _QVALUE.fullmatch(value)
    if m is None:
        raise RegError(R_INV_Q, listed=True)
    if m.group(1):
        return 1.0
    return int(((m.group(2) or "") + "000")[:3]) / 1000


def save(ctx: WorkerContext, msg: SipMsg, table: str = "location", *,
         default_expires: int = DEFAULT_EXPIRES, min_expires: int = MIN_EXPIRES,
         max_expires: int | None = None, max_contacts: int | None = None,
         received_param: str = "received") -> Steps:
    """Returns, as Kamailio's ``save()``, after answering 200: 1 (contacts of a new AOR saved, or
    the last contact that changed anything was inserted), 2 (... updated), 3 (... removed, or
    ``Contact: *``), 4 (a query); after an error: -2 when ``max_contacts`` refused the REGISTER
    (503), else -1 (see the module docstring).

    ``default_expires``/``min_expires``/``max_expires``/``max_contacts`` are the registrar
    module's parameters of the same names; ``max_expires`` 0 means no cap, None the profile's
    default (ser: 86400 s, kamailio: 0); ``max_contacts`` 0 means no limit, None the server's
    (``ServerConfig.max_contacts``: 0 but in ``sipsim serve``); ``received_param`` the name of the
    received value in the answer's Contact list."""
    if max_expires is None:
        max_expires = SER_MAX_EXPIRES if ctx.ser else 0
    if max_contacts is None:
        max_contacts = ctx.config.max_contacts
    max_contacts = max(0, max_contacts)  # Kamailio limits only when it is above 0
    now = msg.time
    aor = ""
    try:
        aor, star, contacts, expires_hdr = _read_register(msg)
        if star:
            ctx.location.update(aor, now, lambda current: [])
            changes = ["removed all bindings"]
            current: list[Binding] = []
            rc = 3
        else:
            changes = []
            plan = _Plan(msg, aor, now, contacts, expires_hdr, (default_expires, min_expires, max_expires), changes,
                         max_contacts)
            current = ctx.location.update(aor, now, plan)
            rc = plan.rc
    except RegError as exc:
        if ctx.tracing:
            note = f" ({exc.note})" if exc.note else ""
            kept = "nothing is changed" if exc.keep is None else \
                "what the contacts before it did stays: " + ("; ".join(changes) or "nothing")
            yield ctx.event("save", msg, f"AOR {aor or '(none)'}: {exc.text}{note}: {kept}", reason=exc.text)
        if exc.listed:
            bindings = ctx.location.lookup(aor, now)
            if bindings:
                add_lump_rpl(msg, f"Contact: {contact_list(bindings, now, received_param)}")
        add_lump_rpl(msg, f"P-Registrar-Error: {exc.text}")
        msg.extra["cause"] = exc.text  # sl_send_reply puts it in the event: the live log line says why
        ctx.stats["rejected_regs"] += 1  # registrar:rejected_regs (sipsim.engine.stats): every error answer
        yield from sl_send_reply(ctx, msg, exc.code, REASONS.get(exc.code, "Server Internal Error"), why="save")
        return -2 if exc.code == R_TOO_MANY[0] and exc.text == R_TOO_MANY[1] else -1
    if ctx.tracing:
        yield ctx.event("save", msg, f"AOR {aor}: " + ("; ".join(changes) or "query") + f"; {len(current)} binding(s)",
                        detail={"aor": aor, "bindings": [b.contact for b in current]})
    if current:
        add_lump_rpl(msg, f"Contact: {contact_list(current, now, received_param)}")
    ctx.stats["accepted_regs"] += 1  # registrar:accepted_regs: every 200, a query or a removal too
    yield from sl_send_reply(ctx, msg, 200, "OK", why="save")
    return rc


def _read_register(msg: SipMsg) -> tuple[str, bool, list, int | None]:
    """What the REGISTER asks for, checked in ``save()``'s order before the location table is
    touched: the AOR, whether it is ``Contact: *``, the contacts as the registrar meets them and
    the Expires header (None: absent or not valid, i.e. ``default_expires``)."""
    if parse_headers(msg, F_EOH) < 0 or msg.to is None:
        raise RegError(R_PARSE)
    kamailio = not msg.profile_ser
    expires_hdr: int | None = None
    if msg.expires is not None:
        if kamailio:
            expires_hdr = expires_hf_kamailio(msg.expires.body)
        else:
            try:
                expires_hdr = int(parse_hdr_body(msg.expires))  # type: ignore[arg-type]
            except ParseError:
                raise RegError(R_PARSE_EXP) from None
            if expires_hdr > UINT_MAX:
                expires_hdr = None  # beyond delta-seconds' range: default_expires (module docstring)
    try:
        bodies: list[ContactBody] = [parse_contact_kamailio(h.body, h.body_start) if kamailio
                                     else parse_hdr_body(h) for h in msg.headers_named("Contact")]  # type: ignore[misc]
    except ParseError:
        raise RegError(R_PARSE_CONT) from None
    star = bool(bodies) and bodies[0].star
    if star:  # check_contacts(): a star must come alone, with Expires: 0
        if expires_hdr != 0:
            raise RegError(R_STAR_EXP)
        if len(bodies) > 1:
            raise RegError(R_STAR_CONT)
    for body in bodies if not star else ():  # header by header: a star, then each contact's length
        if body.star:
            raise RegError(R_STAR_CONT)
        for na in body.contacts:
            received = na.param("received")  # measured: the whole parameter counts, "received=" and quotes too
            if len(na.uri) > CONTACT_MAX_SIZE or (received is not None
                                                  and len("received=") + len(received) > RECEIVED_MAX_SIZE):
                raise RegError(R_CONTACT_LEN)
    try:
        aor = _aor(msg.to.parsed.uri_as(kamailio).user, kamailio)
    except ParseError:
        raise RegError(R_AOR_PARSE) from None
    # Kamailio's parse_contact() builds each header's list by prepending, so the registrar meets
    # one header's contacts last first (headers in order): the order new equal-q bindings take in
    # usrloc, and which bad contact is reported
    contacts = [na for body in bodies for na in reversed(body.contacts)]
    return aor, star, contacts, expires_hdr


class _Plan:
    """The change one REGISTER makes to its AOR's contacts (usrloc's rules; may raise RegError)."""

    def __init__(self, msg: SipMsg, aor: str, now: float, contacts: list, expires_hdr: int | None,
                 limits: tuple[int, int, int], changes: list[str], max_contacts: int = 0) -> None:
        self.msg, self.aor, self.now, self.contacts = msg, aor, now, contacts
        self.expires_hdr, self.changes, self.max_contacts = expires_hdr, changes, max_contacts
        self.default, self.min, self.max = limits  # default_expires, min_expires, max_expires (0: none)
        self.asked = 0  # the expiry the contact being read asked for (to say when it was shortened)
        self.rc = 4  # save()'s return code: 4 a query; else what the last contact did (see __call__)
        self.received: str | None = None  # the received value of the contact being read (it carries over)

    def _expires(self, na) -> int:  # noqa: ANN001
        param = param_body(na, "expires")
        if not param:
            expires = self.expires_hdr if self.expires_hdr is not None else self.default
        else:
            value = str2int(param)  # not a number: Kamailio falls back to default_expires
            expires = value if value is not None else self.default
        self.asked = expires
        if expires == 0:
            return 0
        expires = max(expires, self.min)
        return min(expires, self.max) if self.max else expires

    def _match(self, bindings: list[Binding], na, ob: dict | None = None) -> int | None:  # noqa: ANN001
        """The binding a contact refreshes or removes, or None: usrloc's ``get_ucontact_by_instance()``
        in the kamailio profile -- a contact with ``+sip.instance`` is the binding with the same
        instance (one pair of ``<>`` aside) and ``reg-id``, whatever its URI (an outbound phone that
        registers again from a new address replaces its binding; measured on 5.6.3) -- else the
        first binding with the same URI. So one URI can be bound twice: a contact whose instance
        no binding has is a new binding even where its URI is bound already without an instance
        (or, after a move, with another one); a contact without an instance then refreshes or
        removes the first of the two in the list (measured on 5.6.3)."""
        ob = ob or outbound(na)  # (the loop passes its own: reg-id sticks within a REGISTER)
        if self.msg.profile_ser or ob["instance"] is None:
            return next((k for k, b in enumerate(bindings) if b.contact == na.uri), None)
        key = bare_instance(ob["instance"])
        return next((k for k, b in enumerate(bindings) if b.instance and b.reg_id == ob["reg_id"]
                     and bare_instance(b.instance) == key), None)

    def _binding(self, na, expires: int, q: float | None, callid: str, cseq: int, ob: dict) -> Binding:  # noqa: ANN001
        msg, ua = self.msg, self.msg.header("User-Agent")
        return Binding(aor=self.aor, contact=na.uri, expires=self.now + expires, q=q, callid=callid, cseq=cseq,
                       received=format_addr(msg.rcv.src),  # [v6]:port for an IPv6 source
                       user_agent=ua.value if ua is not None else "", modified=self.now,
                       contact_received=self.received, **ob)

    def __call__(self, current: list[Binding]) -> list[Binding] | None:
        msg, now = self.msg, self.now
        self.rc = 4
        if not self.contacts:
            return None  # a query
        # Kamailio's save() returns 1 for a new AOR; for one with bindings, what the last contact
        # that changed anything did: 1 inserted, 2 updated, 3 removed (1 when none changed)
        self.rc = 1
        callid = msg.callid.body if msg.callid is not None else ""
        cseq = str2int(msg.cseq.parsed.number) if msg.cseq is not None and msg.cseq.parsed is not None else None
        new_aor = not current  # usrloc has no record: insert_contacts(), else update_contacts()
        if cseq is None and not new_aor:
            raise RegError(R_INV_CSEQ, listed=True)  # update_contacts() packs the CSeq first of all
        if self.max_contacts and not new_aor:
            if len(callid) > CALLID_MAX_SIZE:
                raise RegError(R_CALLID_LEN)  # update_contacts() packs the Call-ID before it counts
            self._test_max_contacts(current, callid, cseq)  # type: ignore[arg-type]
        order = list(current)
        self.changes.clear()
        inserted = 0  # insert_contacts()' count: contacts with an expiry, a URI listed twice counts twice
        self.received = None
        reg_id = 0  # pack_ci()'s static ci.reg_id: the last reg-id read beside an instance (see below)
        try:
            for na in self.contacts:
                expires = self._expires(na)
                if new_aor and expires == 0:
                    continue  # insert_contacts() skips it unread (even a bad q)
                # pack_ci() reads the first contact stored for a new AOR (``order`` still empty) from
                # the message's first contact: one skipped above passes on its q, received and instance
                packed = self.contacts[0] if new_aor and not order and not msg.profile_ser else na
                if self.received is None or msg.profile_ser:  # Kamailio: the first value sticks (module docstring)
                    self.received = param_body(packed, "received") or None  # empty: not set
                ob = outbound(packed)
                if not msg.profile_ser:
                    # a contact without a reg-id beside an instance keeps the one read last: it is
                    # stored, echoed and matched with it (usrloc never changes a bound one's)
                    if ob["instance"] is not None and param_body(packed, "reg-id"):
                        reg_id = ob["reg_id"]
                    ob["reg_id"] = reg_id
                if new_aor and self.max_contacts:
                    if inserted >= self.max_contacts:  # counted before the contact is read
                        raise RegError(R_TOO_MANY, note=f"more than max_contacts {self.max_contacts} for a new AOR")
                    inserted += 1
                if cseq is None:
                    raise RegError(R_INV_CSEQ)
                if len(callid) > CALLID_MAX_SIZE:
                    raise RegError(R_CALLID_LEN)  # before q (measured: a bad q with it is "Callid too long")
                q = parse_q(param_body(packed, "q"))
                i = self._match(order, na, ob)
                by_instance = not msg.profile_ser and ob["instance"] is not None  # no CSeq rule then
                if i is not None and not new_aor:
                    old = order[i]
                    if old.callid == callid and cseq <= old.cseq and not by_instance:
                        if cseq == old.cseq and now < old.modified + CSEQ_DELAY:
                            self.changes.append(f"{na.uri}: CSeq {cseq} again (a retransmission): unchanged")
                            continue
                        raise RegError(R_INV_CSEQ, listed=True)
                    if expires == 0:
                        del order[i]
                        self.changes.append(f"removed {na.uri}")
                        self.rc = 3
                        continue
                elif expires == 0:
                    continue
                # a new AOR's contact listed twice: the later sighting updates the binding just made
                new = self._binding(na, expires, q, callid, cseq, ob)
                # an instance bound under another Call-ID (a phone that restarted, RFC 5626 §6): its
                # other bindings go, whatever their reg-id, and 5.6.3 reads no contact after this one
                last = by_instance and i is not None and not new_aor and order[i].callid != callid
                if last:
                    keep, key = order[i], bare_instance(order[i].instance or "")
                    gone = [b for b in order if b is not keep and b.instance and bare_instance(b.instance) == key]
                    if gone:
                        order = [b for b in order if not any(b is g for g in gone)]
                        i = next(k for k, b in enumerate(order) if b is keep)
                        self.changes.append(f"removed {', '.join(b.contact for b in gone)} (the same instance)")
                if i is not None and (new.instance is None or order[i].instance):
                    # a refresh keeps the stored +sip.instance, as written then ("<urn:..>" matched by
                    # "urn:.." stays "<urn:..>": measured), and one without an instance keeps it too
                    new = replace(new, instance=order[i].instance, reg_id=order[i].reg_id)
                order = update_contact(order, i, new) if i is not None else insert_contact(order, new)
                if not new_aor:
                    self.rc = 2 if i is not None else 1
                capped = f" (asked {self.asked} s; max_expires {self.max})" if self.asked > expires else ""
                self.changes.append(f"{na.uri} for {expires} s{capped}")
                if last:
                    self.changes.append("its instance was bound under another Call-ID: no further contact is read")
                    break
        except RegError as exc:
            if not new_aor and not msg.profile_ser and order != current:
                exc.keep = order  # update_contacts(): what the contacts before this one did stays
            raise
        return order


    def _test_max_contacts(self, current: list[Binding], callid: str, cseq: int) -> None:
        """``test_max_contacts()``, before an AOR with bindings is changed: its unexpired contacts,
        plus each contact of the REGISTER not bound yet (with an expiry; one listed twice counts
        twice), less each bound one it removes (``expires=0``); a refresh counts nothing, a
        retransmission is skipped, a CSeq going back fails first (400). More than
        ``max_contacts`` and the REGISTER is refused: 503 with the current bindings."""
        num = len(current)
        for na in self.contacts:
            expires = self._expires(na)
            k = self._match(current, na)
            old = current[k] if k is not None else None
            if old is not None and old.callid == callid and cseq <= old.cseq:
                if cseq == old.cseq and self.now < old.modified + CSEQ_DELAY:
                    continue  # a retransmission: not counted
                raise RegError(R_INV_CSEQ, listed=True)
            if old is None and expires:
                num += 1
            elif old is not None and not expires:
                num -= 1
        if num > self.max_contacts:
            raise RegError(R_TOO_MANY, listed=True,
                           note=f"{num} contacts after the change, max_contacts {self.max_contacts}")


def lookup(ctx: WorkerContext, msg: SipMsg, table: str = "location") -> Steps:
    """Rewrite the R-URI to the AOR's first contact. 1 found, -1 not found, -3 error (as the module)."""
    try:
        user = msg.parsed_ruri().user
    except ParseError as exc:
        if ctx.tracing:
            yield ctx.event("lookup", msg, f"bad Request-URI: {exc.reason}", reason=exc.reason)
        return -3
    try:
        aor = _aor(user, not msg.profile_ser)
    except RegError as exc:
        if ctx.tracing:
            yield ctx.event("lookup", msg, f"bad Request-URI user: {exc.text}", reason=exc.text)
        return -3
    found = ctx.location.lookup(aor, msg.time)
    if not found:
        if ctx.tracing:
            yield ctx.event("lookup", msg, f"AOR {aor or '(no user)'} is not registered", detail={"aor": aor})
        return -1
    contact, received = found[0].contact, found[0].contact_received
    old = msg.ruri
    msg.new_uri = contact
    # The next hop is the binding's received address, or none: a found contact resets $du, so a
    # $du set earlier (by loose_route() for a foreign Route, or by the script) does not survive it
    # (measured on 5.6.3; a lookup that finds nothing leaves $du alone)
    had = msg.dst_uri
    msg.dst_uri = received or None
    msg.changed()
    if ctx.tracing:
        via = (f"; $du = {received} (its received)" if received
               else f"; $du reset (was {had})" if had else "")
        yield ctx.event("lookup", msg, f"AOR {aor} -> {contact}: R-URI rewritten (was {old}){via}",
                        detail={"aor": aor, "contact": contact, "bindings": len(found), "du": received})
    return 1
