"""textops, siputils and kex functions: method and header tests, header changes, ``is_myself``.

``append_hf``/``insert_hf``/``remove_hf`` change the message through lumps (reference §5): the
received bytes stay as they are, so the script keeps seeing the original headers —
``is_present_hf("X")`` is still true after ``remove_hf("X")``, as in Kamailio. The changes appear
in what ``forward()`` sends.
"""

from __future__ import annotations

from sipsim.engine import lumps
from sipsim.engine.forward import check_self
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.fline import METHODS
from sipsim.engine.parser.hf import F_CSEQ, F_EOH, F_TO
from sipsim.engine.parser.lex import is_digits
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import parse_uri
from sipsim.routing.functions import ANY_ROUTE, FixupError, Param, export, str_const
from sipsim.routing.interp import Run, Steps, uri_is_myself
from sipsim.routing.regex import compile_posix


def _method_of(run: Run) -> str:
    msg = run.msg
    if msg.is_request:
        return msg.first_line.method  # type: ignore[union-attr]
    parse_headers(msg, F_CSEQ)
    return msg.cseq.parsed.method if msg.cseq is not None and msg.cseq.parsed is not None else ""


def _check_methods(params: list[Param]) -> None:
    methods = str_const(params[0], "the method list")
    if not methods or any(not m for m in methods.split("|")):
        raise FixupError(f"bad method list {methods!r} (use \"INVITE\" or \"INVITE|BYE\")")


@export("is_method", "textops", (1,), fixup=_check_methods, fmt=False)
def is_method(run: Run, params: list[Param]) -> Steps:
    """is_method("INVITE|BYE"): the request's method (a reply's CSeq method) is one of these."""
    method = _method_of(run)
    wanted = params[0].str(run).split("|")
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


@export("append_hf", "textops", (1, 2))
def append_hf(run: Run, params: list[Param]) -> Steps:
    """append_hf("Name: value\\r\\n"[, "After"]): add a header at the end (or after header After)."""
    msg = run.msg
    text = _header_text(run, params[0])
    if parse_headers(msg, F_EOH) < 0 or msg.eoh is None:
        yield run.event("append_hf", "cannot parse the headers: nothing appended", reason="parse error")
        return -1
    if len(params) == 2:
        name = params[1].str(run)
        found = msg.headers_named(name)
        if not found:
            yield run.event("append_hf", f"no {name} header to append after")
            return -1
        at = found[0].end
        where = f"after the {name} header"
    else:
        at = msg.eoh - (2 if msg.text[msg.eoh - 2:msg.eoh] == "\r\n" else 1)
        where = "at the end of the headers"
    lumps.insert(msg, at, text, "append_hf")
    yield run.event("append_hf", f"adds {text.rstrip()!r} {where} (a lump: the script still sees the original)",
                    detail={"offset": at, "text": text})
    return 1


@export("insert_hf", "textops", (1, 2))
def insert_hf(run: Run, params: list[Param]) -> Steps:
    """insert_hf("Name: value\\r\\n"[, "Before"]): add a header before the first one (or before Before)."""
    msg = run.msg
    text = _header_text(run, params[0])
    if parse_headers(msg, F_EOH) < 0 or not msg.headers:
        yield run.event("insert_hf", "cannot parse the headers: nothing inserted", reason="parse error")
        return -1
    if len(params) == 2:
        found = msg.headers_named(params[1].str(run))
        if not found:
            yield run.event("insert_hf", f"no {params[1].str(run)} header to insert before")
            return -1
        at = found[0].start
    else:
        at = msg.headers[0].start
    lumps.insert(msg, at, text, "insert_hf")
    yield run.event("insert_hf", f"inserts {text.rstrip()!r} (a lump)", detail={"offset": at, "text": text})
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


def _check_regex(params: list[Param]) -> None:
    if params[0].is_const:
        try:
            compile_posix(str(params[0].const))
        except ValueError as exc:
            raise FixupError(f"bad regular expression: {exc}") from None


@export("search", "textops", (1,), fixup=_check_regex, fmt=False, rve=True)
def search(run: Run, params: list[Param]) -> Steps:
    """search("regex"): the received message matches the regular expression (case-insensitive)."""
    import re

    rx = compile_posix(params[0].str(run))
    hit = re.search(rx.pattern, run.msg.text, rx.flags | re.MULTILINE) is not None
    yield run.event("search", f"/{params[0].str(run)}/ {'matches' if hit else 'does not match'} the message")
    return 1 if hit else -1


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
        parse_uri(value)
        mine = uri_is_myself(run.config, value)
    except ParseError:
        host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        mine = check_self(run.config, host or value, int(port) if is_digits(port) else None)
    yield run.event("is_myself", f"{value} {'is' if mine else 'is not'} this server", detail={"result": mine})
    return 1 if mine else -1
