"""To and From (RFC 3261 §20.20, §20.39), as Kamailio's ``parse_to.c``/``parse_from.c``.

Both are parsed as soon as their header is met (Kamailio does it in ``get_hdr_field``): one
``name-addr``/``addr-spec`` and its parameters, of which ``tag`` identifies the dialog.
"""

from __future__ import annotations

import re

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.nameaddr import NameAddr, parse_name_addr

ToBody = NameAddr


_PARAMS = r"((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:\[\]]+)?)*)"
# the two common shapes: ``Name <uri>;params`` / ``"Name" <uri>;params`` and ``uri;params``
_FAST_NAMEADDR = re.compile(r'(?:"([^"\\\r\n]*)" ?|([A-Za-z0-9\-.!%*_+`\'~]+(?: [A-Za-z0-9\-.!%*_+`\'~]+)*) )?'
                            r"<([^<>\s\"]+)>" + _PARAMS)
_FAST_ADDRSPEC = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*:[^;\s<>,?\"]+)" + _PARAMS)


def fast(body: str, base: int, kamailio: bool = False) -> ToBody | None:
    """The two common shapes in one regular expression each, or None (then the general path
    decides, errors included). ``kamailio`` marks the result as read by the kamailio profile (its
    URI is then parsed by Kamailio's ``parse_uri()``: ``$tU`` of ``<tel:+1201>`` is ``+1201``)."""
    if kamailio and "\\" in body:
        return None  # the walk decides where a backslash may stand (inside quotes only)
    m = _FAST_NAMEADDR.fullmatch(body)
    if m is not None:
        quoted, tokens, uri, params = m.groups()
        uri_start, uri_end = m.span(3)
        na = NameAddr(quoted if quoted is not None else tokens, uri, base + uri_start, base + uri_end, True,
                      start=base, end=base + len(body), kamailio=kamailio)
    else:
        m = _FAST_ADDRSPEC.fullmatch(body)
        if m is None:
            return None
        uri, params = m.groups()
        na = NameAddr(None, uri, base, base + len(uri), False, start=base, end=base + len(body), kamailio=kamailio)
    if params:
        for chunk in params.split(";")[1:]:
            name, eq, value = chunk.partition("=")
            na.params.append((name, value if eq else None))
    return na


def parse_to(body: str, base: int, what: str = "To", lenient: bool = False) -> ToBody:
    """One To/From body. ``lenient`` is the kamailio profile: Kamailio 5.6's ``parse_to()``
    leniencies, and the URI read by its ``parse_uri()`` (:attr:`NameAddr.kamailio`)."""
    quick = fast(body, base, lenient)
    if quick is not None:
        return quick
    return parse_to_general(body, base, what, lenient)


def _line_break_in_quotes(body: str) -> int:
    """Offset of a CR or LF inside a quoted string of ``body`` -- a folded display name or quoted
    parameter value (``;x="a<CRLF><TAB>b"``: measured on 5.6.3) -- or -1. The ``<...>`` is skipped."""
    quoted = escaped = False
    k = 0
    while k < len(body):
        ch = body[k]
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif quoted and ch in "\r\n":
            return k
        elif not quoted and ch == "<":
            k = body.find(">", k)
            if k < 0:
                return -1
        k += 1
    return -1


def _backslash_outside_quotes(body: str) -> int:
    """Offset of a ``\\`` outside a quoted string of ``body``, or -1. Kamailio's ``parse_to()``
    knows a backslash only as the escape of a quoted-pair: anywhere else -- in an unquoted display
    name, the URI (in brackets or not), a parameter -- it is a parse error (measured)."""
    quoted = escaped = False
    for k, ch in enumerate(body):
        if escaped:
            escaped = False
        elif ch == "\\":
            if not quoted:
                return k
            escaped = True
        elif ch == '"':
            quoted = not quoted
    return -1


def parse_to_general(body: str, base: int, what: str = "To", lenient: bool = False) -> ToBody:
    """The full grammar (quoted-pairs, white space and folding anywhere the RFC allows).

    ``lenient`` (the kamailio profile) also has the two strictnesses of Kamailio's ``parse_to()``
    the RFC does not: a quoted display name or parameter value may not be folded (a CR or LF inside
    the quotes), and a backslash may stand only inside quotes; its URI is read by Kamailio's
    ``parse_uri()``."""
    i = lex.skip_ws(body, 0)
    if i >= len(body):
        raise ParseError(f"empty {what} header", base)
    if lenient:
        k = _line_break_in_quotes(body)
        if k >= 0:
            raise ParseError(f"a line break inside the quoted display name of the {what} header", base + k)
        k = _backslash_outside_quotes(body)
        if k >= 0:
            raise ParseError(f"a backslash outside a quoted string in the {what} header", base + k)
    na, i = parse_name_addr(body, i, base, in_list=False, lenient_display=lenient, kamailio=lenient)
    i = lex.skip_ws(body, i)
    if i != len(body):
        raise ParseError(f"unexpected {body[i]!r} in the {what} header", base + i)
    return na


def parse_from(body: str, base: int, lenient: bool = False) -> ToBody:
    return parse_to(body, base, "From", lenient)
