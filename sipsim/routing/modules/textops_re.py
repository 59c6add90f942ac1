"""textops functions that work with regular expressions or with the body: ``has_body``,
``search``, ``search_body``, ``is_present_hf_re``, ``remove_hf_re``, ``replace``, ``replace_all``,
``replace_body``, ``replace_body_all``, ``search_append``, ``search_append_body``.

As Kamailio's textops (``textops.c``) they run POSIX extended expressions compiled with
``REG_EXTENDED|REG_ICASE|REG_NEWLINE`` (sipsim.routing.regex: ``.`` and ``[^...]`` stop at a line
feed, ``^``/``$`` match at each line) through C's ``regexec``, which reads a string up to its
first NUL: a NUL in the message hides what follows it from these functions. Changes are lumps
(reference §5): the script keeps reading the message as received, ``forward()`` sends the change.

Simplified: Python's ``re`` picks the leftmost match but, among alternatives starting there, the
first that matches rather than POSIX's longest (``a|ab`` on ``ab`` replaces ``a``, glibc ``ab``);
write the longer alternative first to be safe.
"""

from __future__ import annotations

import functools
import re

from sipsim.engine import lumps
from sipsim.engine.parser.hf import F_CONTENTLENGTH, F_CONTENTTYPE, F_EOH, HdrType
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.routing.functions import FixupError, Handler, Param, export
from sipsim.routing.interp import Run, Steps
from sipsim.routing.modules.textops_mime import MIME_SDP, content_type_code, decode_mime_type, describe
from sipsim.routing.regex import c_string, compile_posix


def check_regex(params: list[Param]) -> None:
    """``fixup_regexp_*``: the expression is compiled at start-up; a bad one stops the start."""
    if params[0].is_const:
        try:
            compile_posix(str(params[0].const), True)
        except ValueError as exc:
            raise FixupError(f"bad regular expression {params[0].const!r}: {exc}") from None


class _BadRegex(ValueError):
    """A regular expression computed at run time (a variable, a KEMI argument) that does not compile."""


def _regex(run: Run, param: Param) -> re.Pattern[str]:
    try:
        return compile_posix(param.str(run), True)
    except ValueError as exc:
        raise _BadRegex(f"bad regular expression {param.str(run)!r}: {exc}") from None


def _guarded(fn: Handler) -> Handler:
    """A bad run-time expression: Kamailio logs an error and the function is false; so here."""

    @functools.wraps(fn)
    def handler(run: Run, params: list[Param]) -> Steps:
        try:
            return (yield from fn(run, params))
        except _BadRegex as exc:
            yield run.event(fn.__name__, f"{exc}: false", reason="bad regex")
            return -1

    return handler


def _check_has_body(params: list[Param]) -> None:
    """``fixup_body_type``: the type is decoded at start-up (an empty one is has_body() without
    a type); one that does not read, or a list of them, stops the start."""
    if not params:
        return
    if not params[0].is_const:
        raise FixupError("the type must be a constant string such as \"application/sdp\"")
    text = str(params[0].const)
    if not text:
        return
    decoded = decode_mime_type(text)
    if decoded is None:
        raise FixupError(f"unsupported mime <{text}> (write it as type/subtype, e.g. \"application/sdp\")")
    if decoded[1] != len(text):
        raise FixupError(f"multiple mimes not supported: <{text}>")


@export("has_body", "textops", (0, 1), fixup=_check_has_body, fmt=False)
def has_body(run: Run, params: list[Param]) -> Steps:
    """has_body() / has_body("type/subtype"): the message declares a body -- as Kamailio's
    ``has_body_f`` it reads Content-Length (absent or 0 is false; the bytes after the headers are
    not looked at). With a type, the Content-Type must have the same code (textops_mime: case and
    parameters do not count, two unknown names are equal); no Content-Type counts as
    application/sdp (RFC 3261's default), one that does not read is false. A multipart body is
    ``multipart/...``: its parts are not looked at."""
    msg = run.msg
    parse_headers(msg, F_CONTENTLENGTH)
    cl = msg.content_length
    length = cl.parsed if cl is not None and isinstance(cl.parsed, int) else None
    hit = bool(length)
    why = ("no Content-Length header" if cl is None else
           "Content-Length unreadable" if length is None else f"Content-Length: {length}")
    wanted = params[0].str(run) if params else ""
    if hit and wanted:
        want = decode_mime_type(wanted)  # a cfg's was checked at load; a KEMI call's is read here
        found = _content_type(msg)
        if want is None or want[1] != len(wanted):
            hit, why = False, why + f", the type {wanted!r} does not read"
        elif found is None:
            hit, why = False, why + ", a Content-Type that does not read"
        else:
            code, shown = found
            hit = code == want[0]
            why += (f", Content-Type {shown} ({describe(code)}) {'is' if hit else 'is not'} {wanted} "
                    f"({describe(want[0])})")
    yield run.event("has_body", f"{why}: {'a body' if hit else 'no body'}", detail={"result": hit})
    return 1 if hit else -1


def _content_type(msg: SipMsg) -> tuple[int, str] | None:
    """``parse_content_type_hdr``: the first Content-Type's code and text; none at all is
    application/sdp; None when it cannot be read (or the headers break before one is found)."""
    rc = parse_headers(msg, F_CONTENTTYPE)
    ct = next((h for h in msg.headers if h.type == HdrType.HDR_CONTENTTYPE_T), None)
    if ct is None:
        return None if rc < 0 else (MIME_SDP, "absent, taken as application/sdp")
    code = content_type_code(ct.body)
    return None if code is None else (code, repr(ct.body))


def _body(run: Run) -> str | None:
    """``get_body``: from the end of the headers to the end of the datagram (Content-Length not
    applied), as regexec reads it (up to a NUL); None when the headers cannot be parsed."""
    msg = run.msg
    if parse_headers(msg, F_EOH) < 0 or msg.body_start is None:
        return None
    return c_string(msg.text[msg.body_start:])


@export("search", "textops", (1,), fixup=check_regex, fmt=False, rve=True)
@_guarded
def search(run: Run, params: list[Param]) -> Steps:
    """search("regex"): the received message matches the regular expression (the whole buffer,
    first line included, as regexec reads it: up to a NUL)."""
    hit = _regex(run, params[0]).search(c_string(run.msg.text)) is not None
    yield run.event("search", f"/{params[0].str(run)}/ {'matches' if hit else 'does not match'} the message",
                    detail={"result": hit})
    return 1 if hit else -1


@export("search_body", "textops", (1,), fixup=check_regex, fmt=False, rve=True)
@_guarded
def search_body(run: Run, params: list[Param]) -> Steps:
    """search_body("regex"): the body matches the regular expression."""
    body = _body(run)
    if not body:
        yield run.event("search_body", "no body to search" if body == "" else "cannot parse the headers: false",
                        detail={"result": False})
        return -1
    hit = _regex(run, params[0]).search(body) is not None
    yield run.event("search_body", f"/{params[0].str(run)}/ {'matches' if hit else 'does not match'} the body",
                    detail={"result": hit})
    return 1 if hit else -1


def _headers_matching(run: Run, param: Param) -> list | None:
    msg = run.msg
    if parse_headers(msg, F_EOH) < 0:
        return None
    rx = _regex(run, param)
    return [h for h in msg.headers if rx.search(c_string(h.name)) is not None]


@export("is_present_hf_re", "textops", (1,), fixup=check_regex, fmt=False, rve=True)
@_guarded
def is_present_hf_re(run: Run, params: list[Param]) -> Steps:
    """is_present_hf_re("regex"): a header whose *name* matches (``X-.*``: any X- header). As
    is_present_hf it parses every header first: a broken one makes it false."""
    found = _headers_matching(run, params[0])
    rx = params[0].str(run)
    if found is None:
        yield run.event("is_present_hf_re", f"cannot parse all the headers: no name matches /{rx}/",
                        detail={"result": False})
        return -1
    text = f"header {found[0].name} matches /{rx}/" if found else f"no header name matches /{rx}/"
    yield run.event("is_present_hf_re", text, detail={"result": bool(found)})
    return 1 if found else -1


@export("remove_hf_re", "textops", (1,), fixup=check_regex, fmt=False, rve=True)
@_guarded
def remove_hf_re(run: Run, params: list[Param]) -> Steps:
    """remove_hf_re("regex"): delete every header whose name matches -- as lumps."""
    msg = run.msg
    found = _headers_matching(run, params[0])
    rx = params[0].str(run)
    if found is None:
        yield run.event("remove_hf_re", "cannot parse the headers: nothing removed", reason="parse error")
        return -1
    for h in found:
        lumps.delete(msg, h.start, h.end - h.start, f"remove_hf_re({rx})")
    names = ", ".join(h.name for h in found)
    yield run.event("remove_hf_re", f"removes {len(found)} header(s) matching /{rx}/{': ' + names if names else ''}"
                    " (lumps: the script still sees them)", detail={"regex": rx, "removed": len(found)})
    return 1 if found else -1


def after_first_line(run: Run) -> tuple[int, str]:
    """``get_header``: where replace/subst start (after the first line: the R-URI is not theirs)."""
    msg = run.msg
    begin = msg.first_line.end if msg.first_line is not None else 0
    return begin, c_string(msg.text[begin:])


def swap(run: Run, at: int, length: int, new: str, why: str) -> bool:
    """Replace ``length`` characters at ``at`` by ``new`` (lumps). True when the edit is in the
    body: the caller then calls :func:`adjust_clen` once, after its last edit (once per edit
    would cost the square of the matches — a crafted body can hold thousands)."""
    msg = run.msg
    lumps.delete(msg, at, length, why)
    if new:
        lumps.insert(msg, at, new, why)
    return msg.body_start is not None and at >= msg.body_start


_CLEN = "Content-Length for the changed body"


def adjust_clen(run: Run) -> None:
    """Kamailio keeps changes inside the body apart (``body_lumps``) and, when it builds the
    message to send, rewrites the Content-Length value by their total (``adjust_clen``: the
    received value plus the growth). sipsim's engine does not, so the textops functions that edit
    the body keep one lump pair on the Content-Length value up to date themselves."""
    msg = run.msg
    cl = msg.content_length
    if cl is None or not isinstance(cl.parsed, int) or msg.body_start is None:
        return  # no Content-Length (UDP): Kamailio adds none either
    msg.add_rm = [lump for lump in msg.add_rm if lump.why != _CLEN]
    delta = sum(len(lump.text) if lump.op == lumps.ADD else -lump.length
                for lump in msg.add_rm if lump.offset >= msg.body_start and not lump.send_time)
    msg.changed()
    if delta:
        lumps.delete(msg, cl.body_start, cl.body_end - cl.body_start, _CLEN)
        lumps.insert(msg, cl.body_start, str(cl.parsed + delta), _CLEN)


def where_text(run: Run, body: bool) -> tuple[int, str] | None:
    """The text a function searches and its offset: the body (``get_body``; None when there is
    none) or everything after the first line."""
    if not body:
        return after_first_line(run)
    text = _body(run)
    return (run.msg.body_start or 0, text) if text else None


def _replace(run: Run, name: str, params: list[Param], *, body: bool, every: bool) -> Steps:
    """replace/replace_all/replace_body/replace_body_all: Kamailio's loop. Each search starts where
    the last match ended, and ``^`` matches there only when the match ended with CR or LF; a match
    of nothing (``x*``) is an error, false, the replacements already made kept."""
    rx, new, shown = _regex(run, params[0]), params[1].str(run), params[0].str(run)
    where = where_text(run, body)
    if where is None:
        yield run.event(name, "no body: nothing replaced", detail={"replaced": 0})
        return -1
    begin, text = where
    pos, done, in_body = 0, [], False
    while pos < len(text):
        if pos and text[pos - 1] == "\r":  # regexec restarted at a line start: ^ may match here
            m0 = rx.search(text[pos:])
            span = (pos + m0.start(), pos + m0.end()) if m0 is not None else None
        else:  # ^ matches only after a LF (re: a line start that is not the search start)
            m1 = rx.search(text, pos)
            span = m1.span() if m1 is not None else None
        if span is None:
            break
        if span[0] == span[1] and every:
            if in_body:
                adjust_clen(run)
            yield run.event(name, f"/{shown}/ matched an empty string: error (Kamailio: \"matched string is "
                            "empty... invalid regexp?\")", detail={"replaced": len(done)})
            return -1
        in_body |= swap(run, begin + span[0], span[1] - span[0], new, name)
        done.append(text[span[0]:span[1]])
        pos = span[1]
        if not every:
            break
    if in_body:
        adjust_clen(run)
    if not done:
        yield run.event(name, f"/{shown}/ does not match: nothing replaced", detail={"replaced": 0})
        return -1
    yield run.event(name, f"replaces {len(done)} match(es) ({', '.join(map(repr, done[:5]))}) by {new!r}"
                    f"{' in the body' if body else ''} (lumps)", detail={"replaced": len(done)})
    return 1


def _search_append(run: Run, name: str, params: list[Param], *, body: bool) -> Steps:
    rx, new, shown = _regex(run, params[0]), params[1].str(run), params[0].str(run)
    where = where_text(run, body)
    m = rx.search(where[1]) if where is not None else None
    if where is None or m is None:
        yield run.event(name, f"/{shown}/ does not match: nothing added", detail={"added": False})
        return -1
    at = where[0] + m.end()
    lumps.insert(run.msg, at, new, name)
    if body:
        adjust_clen(run)
    yield run.event(name, f"adds {new!r} after {m.group()!r} {lumps.how(run.ctx.ser)}",
                    detail={"offset": at, "added": True})
    return 1


def _register(name: str, doc: str, fn) -> None:  # noqa: ANN001
    def handler(run: Run, params: list[Param]) -> Steps:
        return (yield from fn(run, name, params))

    handler.__name__ = name
    handler.__doc__ = doc
    export(name, "textops", (2,), fixup=check_regex, fmt=False)(_guarded(handler))


for _name, _doc, _fn in (
    ("replace", 'replace("regex", "text"): the first match after the first line becomes the text (as written: '
     "no pseudo-variables, no escapes).", lambda r, n, p: _replace(r, n, p, body=False, every=False)),
    ("replace_all", 'replace_all("regex", "text"): every match after the first line becomes the text.',
     lambda r, n, p: _replace(r, n, p, body=False, every=True)),
    ("replace_body", 'replace_body("regex", "text"): the first match in the body becomes the text.',
     lambda r, n, p: _replace(r, n, p, body=True, every=False)),
    ("replace_body_all", 'replace_body_all("regex", "text"): every match in the body becomes the text.',
     lambda r, n, p: _replace(r, n, p, body=True, every=True)),
    ("search_append", 'search_append("regex", "text"): add the text after the first match (after the first '
     "line).", lambda r, n, p: _search_append(r, n, p, body=False)),
    ("search_append_body", 'search_append_body("regex", "text"): add the text after the first match in the body.',
     lambda r, n, p: _search_append(r, n, p, body=True)),
):
    _register(_name, _doc, _fn)
