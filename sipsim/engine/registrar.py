"""Registrar: ``save("location")`` and ``lookup("location")`` (the registrar module).

``save`` handles a REGISTER (RFC 3261 §10.3): the address of record comes from the To URI (its
user part, as Kamailio with ``use_domain`` off), each Contact is added, refreshed or — with
``expires=0`` — removed; ``Contact: *`` with ``Expires: 0`` removes them all. The expiry is the
contact's ``expires`` parameter, else the Expires header, else 3600 s (``default_expires``); a
value under ``min_expires`` (60 s) is raised to it. The 200 OK lists every current binding with
its remaining time. A REGISTER without Contact is a query: 200 with the bindings.

``lookup`` rewrites the Request-URI to the registered contact (the freshest, highest q): 1 when
found, -1 when the user is unknown (the script answers 404).
"""

from __future__ import annotations

from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.location import Binding
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_EOH
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers
from sipsim.engine.parser.uri import unescape
from sipsim.engine.sl import sl_send_reply

DEFAULT_EXPIRES = 3600
MIN_EXPIRES = 60
MAX_CONTACTS = 0  # unlimited


def _aor(uri_user: str | None) -> str:
    return unescape(uri_user or "")


def save(ctx: WorkerContext, msg: SipMsg, table: str = "location", *,
         default_expires: int = DEFAULT_EXPIRES, min_expires: int = MIN_EXPIRES) -> Steps:
    """Returns 1 after answering 200, -1 (with a 4xx sent) on a bad REGISTER.

    ``default_expires``/``min_expires`` are the registrar module's parameters of the same names."""
    now = msg.time
    if parse_headers(msg, F_EOH) < 0 or msg.to is None:
        yield from sl_send_reply(ctx, msg, 400, "Bad Request", why="save: cannot parse the REGISTER")
        return -1
    try:
        aor = _aor(msg.to.parsed.parsed_uri.user)
    except ParseError as exc:
        if ctx.tracing:
            yield ctx.event("save", msg, f"bad To URI: {exc.reason}", reason=exc.reason)
        yield from sl_send_reply(ctx, msg, 400, "Bad To URI", why="save")
        return -1
    if not aor:
        yield from sl_send_reply(ctx, msg, 400, "Bad To URI", why="save: To has no user part")
        return -1
    expires_hdr: int | None = None
    if msg.expires is not None:
        try:
            expires_hdr = int(parse_hdr_body(msg.expires))  # type: ignore[arg-type]
        except ParseError:
            yield from sl_send_reply(ctx, msg, 400, "Invalid Expires", why="save")
            return -1
    contacts = []
    star = False
    try:
        for h in msg.headers_named("Contact"):
            body = parse_hdr_body(h)
            star = star or body.star  # type: ignore[union-attr]
            contacts.extend(body.contacts)  # type: ignore[union-attr]
    except ParseError as exc:
        if ctx.tracing:
            yield ctx.event("save", msg, f"bad Contact: {exc.reason}", reason=exc.reason)
        yield from sl_send_reply(ctx, msg, 400, "Bad Contact", why="save")
        return -1
    callid = msg.callid.body if msg.callid is not None else ""
    cseq = msg.cseq.parsed.value if msg.cseq is not None and msg.cseq.parsed is not None else 0
    ua = msg.header("User-Agent")
    changes: list[str] = []
    if star:
        if expires_hdr != 0 or contacts:
            yield from sl_send_reply(ctx, msg, 400, "Invalid Contact *", why="save: * needs Expires: 0 alone")
            return -1
        ctx.location.remove_all(aor)
        changes.append("removed all bindings")
    for na in contacts:
        param = na.param("expires")
        try:
            expires = int(param) if param not in (None, "") else expires_hdr
        except ValueError:
            expires = expires_hdr
        if expires is None:
            expires = default_expires
        if expires == 0:
            ctx.location.remove(aor, na.uri)
            changes.append(f"removed {na.uri}")
            continue
        expires = max(expires, min_expires)
        qv = na.param("q")
        try:
            q = float(qv) if qv else None
        except ValueError:
            q = None
        ctx.location.save(Binding(aor=aor, contact=na.uri, expires=now + expires, q=q, callid=callid, cseq=cseq,
                                  received=f"{msg.rcv.src[0]}:{msg.rcv.src[1]}",
                                  user_agent=ua.value if ua is not None else ""))
        changes.append(f"{na.uri} for {expires} s")
    current = ctx.location.lookup(aor, now)
    if ctx.tracing:
        yield ctx.event("save", msg, f"AOR {aor}: " + ("; ".join(changes) or "query") + f"; {len(current)} binding(s)",
                        detail={"aor": aor, "bindings": [b.contact for b in current]})
    # every binding in one Contact header, comma-separated, as Kamailio's registrar writes it
    contacts = ", ".join(f"<{b.contact}>;expires={b.remaining(now)}" for b in current)
    headers = (f"Contact: {contacts}",) if current else ()
    yield from sl_send_reply(ctx, msg, 200, "OK", headers, why="save")
    return 1


def lookup(ctx: WorkerContext, msg: SipMsg, table: str = "location") -> Steps:
    """Rewrite the R-URI to the AOR's contact. 1 found, -1 not found, -3 error (as the module)."""
    try:
        user = msg.parsed_ruri().user
    except ParseError as exc:
        if ctx.tracing:
            yield ctx.event("lookup", msg, f"bad Request-URI: {exc.reason}", reason=exc.reason)
        return -3
    aor = _aor(user)
    found = ctx.location.lookup(aor, msg.time) if aor else []
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
