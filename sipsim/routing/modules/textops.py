"""textops, siputils and kex functions: method and header tests, header changes, ``is_myself``.

``append_hf``/``insert_hf``/``remove_hf`` change the message through lumps (reference §5): the
received bytes stay as they are, so the script keeps seeing the original headers —
``is_present_hf("X")`` is still true after ``remove_hf("X")``, as in Kamailio. The changes appear
in what ``forward()`` sends.
"""

from __future__ import annotations

import re

from sipsim.engine import lumps
from sipsim.engine.config import Profile
from sipsim.engine.forward import check_self
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.fline import KAMAILIO_METHODS, METHODS
from sipsim.engine.parser.hf import F_CSEQ, F_EOH, F_TO
from sipsim.engine.parser.lex import is_digits
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import parse_uri
from sipsim.engine.sl import add_lump_rpl
from sipsim.routing.functions import ANY_ROUTE, FAILURE_ROUTE, REQUEST_ROUTE, FixupError, Param, export, str_const
from sipsim.routing.interp import Run, Steps
from sipsim.routing.tree import Const


def _method_of(run: Run) -> str:
    msg = run.msg
    if msg.is_request:
        return msg.first_line.method  # type: ignore[union-attr]
    parse_headers(msg, F_CSEQ)
    return msg.cseq.parsed.method if msg.cseq is not None and msg.cseq.parsed is not None else ""


#: the characters of a SIP token (RFC 3261 §25.1): a method or header name
_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
_SEPARATORS = re.compile(r"[|,]")


def _method_names(methods: str) -> list[str]:
    """The names of is_method's list as Kamailio's ``fixup_method``/``parse_methods`` read it: ``|``
    or ``,`` between them, blanks around them, one separator at the very end allowed
    (``"INVITE|"``)."""
    names = [m.strip(" \t") for m in _SEPARATORS.split(methods)]
    return names[:-1] if len(names) > 1 and not names[-1] else names


def _check_methods(params: list[Param]) -> None:
    """Measured with 5.6.3: ``"INVITE|"``, ``"INVITE |BYE"``, ``"INVITE,BYE"`` and one unknown method
    alone (``"FOO"``) are accepted; an empty name (``""``, ``"|INVITE"``, ``"INVITE||BYE"``), a blank or
    ``$`` inside one (``"INV ITE"``, ``"$rm"``: no pseudo-variables here) and an unknown method in a
    list (``"FOO|INVITE"``: "must be only defined methods") are refused at start-up."""
    methods = str_const(params[0], "the method list")
    names = _method_names(methods)
    bad = next((n for n in names if not n or not set(n) <= _TOKEN), None)
    if bad is not None:
        raise FixupError(f"bad method list {methods!r}: {bad!r} is not a method name (use \"INVITE\" or "
                         "\"INVITE|BYE\"; no pseudo-variables)")
    unknown = [n for n in names if n.upper() not in KAMAILIO_METHODS]
    if len(names) > 1 and unknown:
        raise FixupError(f"unknown method {unknown[0]!r} in the list {methods!r}: a list may only name methods "
                         "Kamailio knows (an extension method must be tested alone)")


@export("is_method", "textops", (1,), fixup=_check_methods, fmt=False)
def is_method(run: Run, params: list[Param]) -> Steps:
    """is_method("INVITE|BYE"): the request's method (a reply's CSeq method) is one of these."""
    method = _method_of(run)
    wanted = _method_names(params[0].str(run))
    if method in METHODS:  # a known method: compared by its upper-case name
        hit = any(m.upper() == method for m in wanted) if len(wanted) > 1 else wanted[0].upper() == method
    else:  # an extension method: case-insensitive on the text
        hit = any(m.lower() == method.lower() for m in wanted)
    if run.tracing:  # a test decides nothing by itself: narrated only for an observer, as the engine does
        yield run.event("is_method", f"method {method} {'is' if hit else 'is not'} in {'|'.join(wanted)}",
                        detail={"method": method, "result": hit})
    return 1 if hit else -1


def _eol(run: Run) -> str:
    return "\r\n"


def _header_text(run: Run, param: Param) -> str:
    text = param.str(run)
    return text


def _check_hname(params: list[Param]) -> None:
    """The second parameter of append_hf/insert_hf is a header *name* (Kamailio's ``hname_fixup``
    parses ``name:``): no pseudo-variables, no blanks inside, not empty (measured with 5.6.3:
    ``"$hdr(X)"``, ``"Call ID"``, ``""`` stop the start; ``"Call-ID:"`` is ``Call-ID``)."""
    if len(params) < 2:
        return
    raw = params[1].expr.value if isinstance(params[1].expr, Const) else None
    name = _hname(str(raw)) if raw is not None else ""
    if raw is not None and (not name or not set(name) <= _TOKEN):
        raise FixupError(f"{raw!r} is not a header name (the header to add after or before: a name such as "
                         "\"Call-ID\", no pseudo-variables)")


def _hname(text: str) -> str:
    """A header-name parameter as Kamailio parses it: the name before a ``:``, blanks after it dropped."""
    return text.split(":", 1)[0].rstrip(" \t")


@export("append_hf", "textops", (1, 2), fixup=_check_hname)
def append_hf(run: Run, params: list[Param]) -> Steps:
    """append_hf("Name: value\\r\\n"[, "After"]): add a header at the end (or after header After)."""
    msg = run.msg
    text = _header_text(run, params[0])
    if parse_headers(msg, F_EOH) < 0 or msg.eoh is None:
        yield run.event("append_hf", "cannot parse the headers: nothing appended", reason="parse error")
        return -1
    if len(params) == 2:
        name = _hname(params[1].str(run))
        found = msg.headers_named(name)
        if not found:
            yield run.event("append_hf", f"no {name} header to append after")
            return -1
        at = found[0].end
        where = f"after the {name} header"
    else:
        at = msg.headers_end()
        where = "at the end of the headers"
    lumps.insert(msg, at, text, "append_hf")
    yield run.event("append_hf", f"adds {text.rstrip()!r} {where} (a lump: the script still sees the original)",
                    detail={"offset": at, "text": text})
    return 1


@export("append_to_reply", "textops", (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def append_to_reply(run: Run, params: list[Param]) -> Steps:
    """append_to_reply("Name: value\\r\\n"): a header for the reply this request gets next, built by
    sl (a *reply lump*, as the registrar's Contact list): after the request's copied headers, before
    ``Server`` -- the redirect idiom ``append_to_reply("Contact: <sip:...>\\r\\n"); sl_send_reply("302",
    ...)``. Kamailio copies the text as it is, so a text without CRLF runs into the next header
    (``X-A: 1Server: ...``); simplified: sipsim's reply builder ends every such line itself, and
    the step says the CRLF is missing."""
    text = params[0].str(run)
    add_lump_rpl(run.msg, text)
    note = "" if text.endswith("\r\n") else (" -- no CRLF at its end: Kamailio would run it into the next "
                                              "header of the reply; sipsim ends the line")
    yield run.event("append_to_reply", f"the next reply gets {text.rstrip()!r} (a reply lump){note}",
                    detail={"text": text})
    return 1


@export("insert_hf", "textops", (1, 2), fixup=_check_hname)
def insert_hf(run: Run, params: list[Param]) -> Steps:
    """insert_hf("Name: value\\r\\n"[, "Before"]): add a header before the first one (or before Before)."""
    msg = run.msg
    text = _header_text(run, params[0])
    if parse_headers(msg, F_EOH) < 0 or not msg.headers:
        yield run.event("insert_hf", "cannot parse the headers: nothing inserted", reason="parse error")
        return -1
    if len(params) == 2:
        name = _hname(params[1].str(run))
        found = msg.headers_named(name)
        if not found:
            yield run.event("insert_hf", f"no {name} header to insert before")
            return -1
        at = found[0].start
    else:
        at = msg.headers[0].start
    lumps.insert(msg, at, text, "insert_hf")
    yield run.event("insert_hf", f"inserts {text.rstrip()!r} {lumps.how(run.ctx.ser)}",
                    detail={"offset": at, "text": text})
    return 1


@export("remove_hf", "textops", (1,), rve=True)
def remove_hf(run: Run, params: list[Param]) -> Steps:
    """remove_hf("Name"): delete every header of that name (compact forms too) — as lumps."""
    msg = run.msg
    name = params[0].str(run)
    if parse_headers(msg, F_EOH) < 0:
        yield run.event("remove_hf", "cannot parse the headers: nothing removed", reason="parse error")
        return -1
    found = msg.headers_named(name)
    for h in found:
        lumps.delete(msg, h.start, h.end - h.start, f"remove_hf({name})")
    yield run.event("remove_hf", f"removes {len(found)} {name} header(s) (lumps: the script still sees them)",
                    detail={"name": name, "removed": len(found)})
    return 1 if found else -1


@export("is_present_hf", "textops", (1,), rve=True)
def is_present_hf(run: Run, params: list[Param]) -> Steps:
    """is_present_hf("Name"): the received message has such a header.

    As Kamailio's, it parses *every* header first: when one of them is broken the answer is false
    even for a header that comes before the broken one (lesson 6: each caller parses as far as it
    needs; this one needs all)."""
    msg = run.msg
    name = params[0].str(run)
    if parse_headers(msg, F_EOH) < 0:
        why = msg.hdr_error.reason if msg.hdr_error is not None else "parse error"
        yield run.event("is_present_hf", f"cannot parse all the headers ({why}): {name} counts as absent",
                        detail={"name": name, "result": False, "reason": why})
        return -1
    found = bool(msg.headers_named(name))
    yield run.event("is_present_hf", f"{name} header {'present' if found else 'absent'}",
                    detail={"name": name, "result": found})
    return 1 if found else -1


@export("has_totag", "siputils", (0,), route_types=ANY_ROUTE)
def has_totag(run: Run, params: list[Param]) -> Steps:
    """has_totag(): the To header has a tag — an in-dialog request."""
    msg = run.msg
    parse_headers(msg, F_TO)
    tag = msg.to.parsed.param("tag") if msg.to is not None and msg.to.parsed is not None else None
    yield run.event("has_totag", f"To-tag {'present: in-dialog' if tag else 'absent: initial request'}",
                    detail={"tag": tag})
    return 1 if tag else -1


@export("is_myself", "kex", (1,), rve=True)
def is_myself(run: Run, params: list[Param]) -> Steps:
    """is_myself("sip:host:port" or "host"): the URI or host is this server (check_self)."""
    value = params[0].str(run)
    try:
        if not value.startswith(("sip:", "sips:")):  # as kex: only a lower-case scheme makes it a URI;
            raise ParseError("not a sip: URI")  # "SIP:bob@h" is taken as a host name, which is not ours
        kamailio = run.config.profile is Profile.KAMAILIO
        u = parse_uri(value, kamailio=kamailio)  # the profile's parse_uri(): Kamailio's takes ";ftag  =x", say
        # kex passes the URI's protocol on: one that is not UDP is not our socket (measured)
        udp = not kamailio or (u.last_param("transport") or "udp").lower() == "udp"
        mine = u.is_sip and check_self(run.config, u.host, u.port, udp=udp)
    except ParseError:
        host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        mine = check_self(run.config, host or value, int(port) if is_digits(port) else None)
    yield run.event("is_myself", f"{value} {'is' if mine else 'is not'} this server", detail={"result": mine})
    return 1 if mine else -1


from sipsim.routing.modules import textops_re, textops_subst  # noqa: E402, F401 - register their functions
