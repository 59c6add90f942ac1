"""Registrar: ``save("location")`` and ``lookup("location")`` (the registrar module).

``save`` handles a REGISTER (RFC 3261 §10.3): the address of record comes from the To URI (its
user part, as Kamailio with ``use_domain`` off — an empty user is an AOR too, as in Kamailio),
each Contact is added, refreshed or — with ``expires=0`` — removed; ``Contact: *`` with
``Expires: 0`` removes them all. The expiry is the contact's ``expires`` parameter, else the
Expires header, else 3600 s (``default_expires``); an ``expires`` parameter that is not a number
counts as absent *and* overrides the header (Kamailio 5.6 falls back to ``default_expires``),
while an empty one (``;expires``, ``;expires=``) is no parameter at all; an empty ``q`` is no q. A
value under ``min_expires`` (60 s) is raised to it. A REGISTER without Contact is a query.

**The CSeq rule** (RFC 3261 §10.3 step 7, usrloc's ``get_ucontact``): a contact already bound
with the same Call-ID is updated only by a higher CSeq. A lower one fails the whole REGISTER
(400, ``Invalid CSeq number``); the same CSeq again within ``cseq_delay`` (20 s) of the last
change is a retransmission and changes nothing (200). A REGISTER is all or nothing: one bad
contact and none of its contacts is saved.

**Answers**: 200 lists every current binding in usrloc's order (``;q=`` when one was given, then
``;expires=``). An error is answered with the code and the standard reason phrase, and the
registrar's own words go into a ``P-Registrar-Error`` header; the Contact list is added too when
the error was found while the bindings were being changed. Both headers are *reply lumps*
(``add_lump_rpl``): they stay on the message, so a later ``sl_reply_error()`` repeats them — as
Kamailio does (default.cfg therefore calls ``save()`` alone: it answers by itself).

``lookup`` rewrites the Request-URI to the AOR's first contact in usrloc's order (see
:mod:`sipsim.engine.location`): 1 when found, -1 when the user is unknown (the script answers 404).
"""

from __future__ import annotations

import re

from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.location import Binding, insert_contact, update_contact
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_EOH
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers
from sipsim.engine.parser.uri import unescape
from sipsim.engine.sl import add_lump_rpl, sl_send_reply

DEFAULT_EXPIRES = 3600
MIN_EXPIRES = 60
CSEQ_DELAY = 20  # usrloc's cseq_delay: the same CSeq within this many seconds is a retransmission

# The registrar module's errors: (code, the text of its P-Registrar-Error header)
R_PARSE = (400, "Message parse error")
R_AOR_PARSE = (400, "Error while parsing AOR")
R_PARSE_EXP = (400, "Expires parse error")
R_PARSE_CONT = (400, "Contact parse error")
R_STAR_EXP = (400, "* used in contact and expires is not zero")
R_STAR_CONT = (400, "* used in contact and more than 1 contact")
R_INV_CSEQ = (400, "Invalid CSeq number")
R_INV_Q = (400, "Invalid q param in contact")

# qvalue (RFC 3261 §25.1), as usrloc reads it: 0..1, at most three decimals kept
_QVALUE = re.compile(r"(0(?:\.(\d+))?|1(?:\.0+)?)")


class RegError(Exception):
    """A REGISTER the registrar refuses; ``listed``: answer with the current bindings too."""

    def __init__(self, err: tuple[int, str], listed: bool = False) -> None:
        super().__init__(err[1])
        self.code, self.text, self.listed = err[0], err[1], listed


def param_body(na, name: str) -> str | None:  # noqa: ANN001
    """A contact parameter as Kamailio's ``parse_params()`` gives it to the registrar: None when
    absent, else its body — empty for ``;q``, ``;q=`` (last in the header), ``;q=""`` — with one
    pair of quotes (``"`` or ``'``) removed. An empty ``q`` is no q, an empty ``expires`` no
    ``expires`` parameter (registrar's ``calc_contact_q``/``calc_contact_expires``)."""
    value = na.param(name)
    if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _aor(uri_user: str | None) -> str:
    return unescape(uri_user or "")


def parse_q(value: str | None) -> float | None:
    """A contact's ``q`` parameter: None when absent or empty, else 0..1 (three decimals kept)."""
    if not value:
        return None
    m = _QVALUE.fullmatch(value)
    if m is None:
        raise RegError(R_INV_Q, listed=True)
    if value.startswith("1"):
        return 1.0
    return int(((m.group(2) or "") + "000")[:3]) / 1000


def q2str(q: float) -> str:
    """As usrloc prints a q: ``1``, ``0``, ``0.5``, ``0.125``."""
    milli = round(q * 1000)
    if milli >= 1000:
        return "1"
    return "0" if milli <= 0 else "0." + f"{milli:03d}".rstrip("0")


def contact_list(bindings: list[Binding], now: float) -> str:
    """The Contact header of the registrar's answer: every binding in one header, in order."""
    return ", ".join(f"<{b.contact}>" + (f";q={q2str(b.q)}" if b.q is not None else "")
                     + f";expires={b.remaining(now)}" for b in bindings)


def save(ctx: WorkerContext, msg: SipMsg, table: str = "location", *,
         default_expires: int = DEFAULT_EXPIRES, min_expires: int = MIN_EXPIRES) -> Steps:
    """Returns 1 after answering 200, -1 after answering an error (see the module docstring).

    ``default_expires``/``min_expires`` are the registrar module's parameters of the same names."""
    now = msg.time
    aor = ""
    try:
        aor, star, contacts, expires_hdr = _read_register(msg)
        if star:
            ctx.location.update(aor, now, lambda current: [])
            changes = ["removed all bindings"]
            current: list[Binding] = []
        else:
            changes = []
            plan = _Plan(msg, aor, now, contacts, expires_hdr, default_expires, min_expires, changes)
            current = ctx.location.update(aor, now, plan)
    except RegError as exc:
        if ctx.tracing:
            yield ctx.event("save", msg, f"AOR {aor or '(none)'}: {exc.text}: nothing is changed", reason=exc.text)
        if exc.listed:
            bindings = ctx.location.lookup(aor, now)
            if bindings:
                add_lump_rpl(msg, f"Contact: {contact_list(bindings, now)}")
        add_lump_rpl(msg, f"P-Registrar-Error: {exc.text}")
        reason = "Bad Request" if exc.code == 400 else "Server Internal Error"
        yield from sl_send_reply(ctx, msg, exc.code, reason, why=f"save: {exc.text}")
        return -1
    if ctx.tracing:
        yield ctx.event("save", msg, f"AOR {aor}: " + ("; ".join(changes) or "query") + f"; {len(current)} binding(s)",
                        detail={"aor": aor, "bindings": [b.contact for b in current]})
    if current:
        add_lump_rpl(msg, f"Contact: {contact_list(current, now)}")
    yield from sl_send_reply(ctx, msg, 200, "OK", why="save")
    return 1


def _read_register(msg: SipMsg) -> tuple[str, bool, list, int | None]:
    """What the REGISTER asks for, checked before the location table is touched."""
    if parse_headers(msg, F_EOH) < 0 or msg.to is None:
        raise RegError(R_PARSE)
    try:
        aor = _aor(msg.to.parsed.parsed_uri.user)
    except ParseError:
        raise RegError(R_AOR_PARSE) from None
    expires_hdr: int | None = None
    if msg.expires is not None:
        try:
            expires_hdr = int(parse_hdr_body(msg.expires))  # type: ignore[arg-type]
        except ParseError:
            raise RegError(R_PARSE_EXP) from None
    contacts: list = []
    star = False
    try:
        for h in msg.headers_named("Contact"):
            body = parse_hdr_body(h)
            star = star or body.star  # type: ignore[union-attr]
            # Kamailio's parse_contact() builds each header's list by prepending, so the registrar
            # meets one header's contacts last first (headers in order): the order new equal-q
            # bindings take in usrloc, and which bad contact is reported
            contacts.extend(reversed(body.contacts))  # type: ignore[union-attr]
    except ParseError:
        raise RegError(R_PARSE_CONT) from None
    if star:
        if expires_hdr != 0:
            raise RegError(R_STAR_EXP)
        if contacts:
            raise RegError(R_STAR_CONT)
    elif msg.cseq is not None and msg.cseq.parsed is not None and not msg.cseq.parsed.is_number:
        raise RegError(R_INV_CSEQ)  # "x", "-2": only the kamailio profile's parser lets them through
    return aor, star, contacts, expires_hdr


class _Plan:
    """The change one REGISTER makes to its AOR's contacts (usrloc's rules; may raise RegError)."""

    def __init__(self, msg: SipMsg, aor: str, now: float, contacts: list, expires_hdr: int | None,
                 default_expires: int, min_expires: int, changes: list[str]) -> None:
        self.msg, self.aor, self.now, self.contacts = msg, aor, now, contacts
        self.expires_hdr, self.default, self.min, self.changes = expires_hdr, default_expires, min_expires, changes

    def _expires(self, na) -> int:  # noqa: ANN001
        param = param_body(na, "expires")
        if not param:
            expires = self.expires_hdr if self.expires_hdr is not None else self.default
        elif param.isascii() and param.isdigit():
            expires = int(param)
        else:
            expires = self.default  # not a number: Kamailio falls back to default_expires
        return expires if expires == 0 else max(expires, self.min)

    def __call__(self, current: list[Binding]) -> list[Binding] | None:
        msg, now = self.msg, self.now
        if not self.contacts:
            return None  # a query
        callid = msg.callid.body if msg.callid is not None else ""
        cseq = msg.cseq.parsed.value if msg.cseq is not None and msg.cseq.parsed is not None else 0
        ua = msg.header("User-Agent")
        order = list(current)
        self.changes.clear()
        for na in self.contacts:
            q = parse_q(param_body(na, "q"))
            expires = self._expires(na)
            i = next((k for k, b in enumerate(order) if b.contact == na.uri), None)
            if i is not None:
                old = order[i]
                if old.callid == callid and cseq <= old.cseq:
                    if cseq == old.cseq and now < old.modified + CSEQ_DELAY:
                        self.changes.append(f"{na.uri}: CSeq {cseq} again (a retransmission): unchanged")
                        continue
                    raise RegError(R_INV_CSEQ, listed=True)
                if expires == 0:
                    del order[i]
                    self.changes.append(f"removed {na.uri}")
                    continue
            elif expires == 0:
                continue
            new = Binding(aor=self.aor, contact=na.uri, expires=now + expires, q=q, callid=callid, cseq=cseq,
                          received=f"{msg.rcv.src[0]}:{msg.rcv.src[1]}",
                          user_agent=ua.value if ua is not None else "", modified=now)
            order = update_contact(order, i, new) if i is not None else insert_contact(order, new)
            self.changes.append(f"{na.uri} for {expires} s")
        return order


def lookup(ctx: WorkerContext, msg: SipMsg, table: str = "location") -> Steps:
    """Rewrite the R-URI to the AOR's first contact. 1 found, -1 not found, -3 error (as the module)."""
    try:
        user = msg.parsed_ruri().user
    except ParseError as exc:
        if ctx.tracing:
            yield ctx.event("lookup", msg, f"bad Request-URI: {exc.reason}", reason=exc.reason)
        return -3
    aor = _aor(user)
    found = ctx.location.lookup(aor, msg.time)
    if not found:
        if ctx.tracing:
            yield ctx.event("lookup", msg, f"AOR {aor or '(no user)'} is not registered", detail={"aor": aor})
        return -1
    contact = found[0].contact
    old = msg.ruri
    msg.new_uri = contact
    msg.changed()
    if ctx.tracing:
        yield ctx.event("lookup", msg, f"AOR {aor} -> {contact}: R-URI rewritten (was {old})",
                        detail={"aor": aor, "contact": contact, "bindings": len(found)})
    return 1
