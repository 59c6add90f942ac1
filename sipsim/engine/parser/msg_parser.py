"""``parse_msg`` and ``parse_headers``: lazy, resumable header parsing (``parser/msg_parser.c``).

``parse_msg`` parses the first line and the headers up to the first Via only — the server needs to
know whether it holds a request or a reply, and the first Via to add its own (seed document,
"receive_msg"). Everything else is parsed when someone asks: ``parse_headers(msg, flags)`` resumes
at ``msg.unparsed`` and stops as soon as every kind in ``flags`` has been met. A broken header
further down is therefore noticed only when someone asks past it.

Duplicate rules: in strict mode (Kamailio's default ``sip_parser_mode``) a second Call-ID, From,
To, CSeq or Content-Length header is a parse error (RFC 4475 §3.3.8, §3.3.9); in the kamailio
profile a second Max-Forwards too (Kamailio 5.6 refuses it, whatever its value), and only in a
request: Kamailio 5.6 lets a reply repeat them (the first one counts; measured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sipsim.engine.parser.contact import parse_contact
from sipsim.engine.parser.content_length import parse_content_length
from sipsim.engine.parser.cseq import parse_cseq
from sipsim.engine.parser.errors import EndsAtNul, ParseError
from sipsim.engine.parser.expires import parse_expires
from sipsim.engine.parser.fline import parse_first_line, parse_first_line_kamailio
from sipsim.engine.parser.hf import (
    F_CALLID,
    F_CONTACT,
    F_CONTENTLENGTH,
    F_CSEQ,
    F_EOH,
    F_EXPIRES,
    F_FROM,
    F_MAXFORWARDS,
    F_PROXYREQUIRE,
    F_RECORDROUTE,
    F_ROUTE,
    F_TO,
    F_VIA,
    F_VIA2,
    HdrField,
    HdrType,
)
from sipsim.engine.parser.hname import LINE, TYPE_CACHE, hdr_type, valid_hname
from sipsim.engine.parser.max_forwards import parse_maxfwd
from sipsim.engine.parser.mode import RFC, ParserMode
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.rr import parse_rr
from sipsim.engine.parser.to_from import ToBody, parse_to
from sipsim.engine.parser.via import ViaBody, parse_via

_LEADING = " \t\r\n\0"

T = HdrType
_SINGLE = {
    T.HDR_CALLID_T: ("callid", F_CALLID),
    T.HDR_TO_T: ("to", F_TO),
    T.HDR_FROM_T: ("from_", F_FROM),
    T.HDR_CSEQ_T: ("cseq", F_CSEQ),
    T.HDR_CONTENTLENGTH_T: ("content_length", F_CONTENTLENGTH),
}
_FIRST_ONLY = {
    T.HDR_MAXFORWARDS_T: ("maxforwards", F_MAXFORWARDS),
    T.HDR_CONTACT_T: ("contact", F_CONTACT),
    T.HDR_ROUTE_T: ("route", F_ROUTE),
    T.HDR_RECORDROUTE_T: ("record_route", F_RECORDROUTE),
    T.HDR_EXPIRES_T: ("expires", F_EXPIRES),
    T.HDR_PROXYREQUIRE_T: ("proxy_require", F_PROXYREQUIRE),
}


class _EOH:
    __slots__ = ("body_start", "no_body")

    def __init__(self, body_start: int, no_body: bool = False) -> None:
        self.body_start = body_start
        self.no_body = no_body


def get_hdr_field(text: str, pos: int, mode: ParserMode = RFC) -> HdrField | _EOH:
    """Delimit (and for some kinds parse) the header starting at ``pos``, or find the empty line.

    A header line ends at a LF not followed by SP/HT (RFC 3261 §7.3.1 folding); CRLF or a bare LF.
    """
    m = LINE[mode.name].match(text, pos)
    if m is not None:
        name, body = m.group(1, 2)
        i = m.start(2)
        raw_nul = body[-1:] == "\0"
        if body and body[-1] in " \t":
            body = body.rstrip(" \t")
        return _parse_body(HdrField(hdr_type(name), name, body, pos, i, i + len(body), m.end()), mode, raw_nul)
    return _get_hdr_field_general(text, pos, mode)


def _get_hdr_field_general(text: str, pos: int, mode: ParserMode) -> HdrField | _EOH:
    """``get_hdr_field`` past its common case: the empty line, folding, a bare LF, errors.

    Called directly by ``parse_headers`` once its own (in-line) common case did not match, so the
    regular expression is not tried twice on the same line."""
    n = len(text)
    if pos >= n:
        if mode.eoh_at_end and pos > 0 and text[pos - 1] == "\n":
            return _EOH(n, no_body=True)
        raise ParseError("the headers end without an empty line", pos)
    c = text[pos]
    if c == "\n":
        return _EOH(pos + 1)
    if c == "\r":
        if pos + 1 < n and text[pos + 1] == "\n":
            return _EOH(pos + 2)
        raise ParseError("a bare CR where a header should start", pos)
    lf = text.find("\n", pos)
    while lf >= 0 and lf + 1 < n and text[lf + 1] in " \t":
        lf = text.find("\n", lf + 1)
    colon = text.find(":", pos, lf if lf >= 0 else n)
    name = text[pos:colon].rstrip(" \t") if colon >= 0 else ""
    if not valid_hname(name, mode):
        raise ParseError(f"bad header name at {text[pos:pos + 20]!r}", pos)
    if lf < 0:
        raise ParseError(f"the {name} header line has no end", pos)
    i = colon + 1
    while text[i] in " \t\r\n" and i < lf:
        i += 1
    raw = text[i:lf].rstrip("\r")
    body = raw.rstrip(" \t\r\n")
    hdr = HdrField(hdr_type(name), name, body, pos, i, i + len(body), lf + 1)
    if raw[-1:] == "\0" and mode.lazy_from and hdr.type is T.HDR_VIA_T:
        head = raw.rstrip("\0")
        if head.rstrip(" \t")[-1:] == "\n":
            # a continuation line of white space and NULs: Kamailio's Via parser ends there,
            # and the next header starts at the NUL -- a bad header name (measured)
            hdr.end = i + len(head)
    return _parse_body(hdr, mode, raw[-1:] == "\0")


def _parse_body(hdr: HdrField, mode: ParserMode, raw_nul: bool = False) -> HdrField:
    """Parse the body of the kinds in ``_BODY_PARSERS`` as soon as the header is met (``get_hdr_field``).

    Kamailio 5.6 does so for Via, CSeq, To and Content-Length; From is sipsim's addition (Kamailio
    only delimits it and parses it on demand, ``parse_from_header()``; see ``_from_body``)."""
    parse = _BODY_PARSERS.get(hdr.type)
    if parse is not None:
        try:
            hdr.parsed = parse(hdr.body, hdr.body_start, mode)
        except EndsAtNul as cut:
            _ends_at_nul(cut, hdr)
    elif raw_nul and mode.lazy_from:
        _trim_nul(hdr)
    return hdr


def _trim_nul(hdr: HdrField) -> None:
    """Kamailio 5.6 cuts the NUL bytes that end a line off a body its parser does not delimit
    (Call-ID, Max-Forwards, Route, unknown headers ...); sipsim then trims white space as usual.
    Only NULs right before the line end count (measured: a Call-ID ending in NUL loses it, the NUL
    after ``Max-Forwards: 70`` survives the rewrite to ``69``, but a Route ending in SP NUL SP is an
    error and a Call-ID ending in NUL TAB keeps its NUL). Via, To, CSeq and Content-Length keep
    theirs: their parsers decide (see :class:`EndsAtNul`, ``_to_body`` and via.py)."""
    body = hdr.body.rstrip("\0").rstrip(" \t\r\n")
    hdr.body = body
    hdr.body_end = hdr.body_start + len(body)


# The kinds whose body is parsed as soon as the header is met, and how (Kamailio 5.6: Via, CSeq,
# To, Content-Length; sipsim adds From, which Kamailio leaves to parse_from_header()).
# Each takes (body, offset, mode): the parser mode decides the quirks (Kamailio 5.6 vs the RFC).
def _via_body(body: str, i: int, mode: ParserMode) -> list[ViaBody]:
    if body[-1:] == "\0" and mode.lazy_from:
        body = _nul_fold(body)
    return parse_via(body, i, mode.via_version_strict, mode.via_params_kamailio)


def _nul_fold(body: str) -> str:
    """Kamailio 5.6's Via parser takes a continuation line of white space and NULs for the end of
    the header (measured; the next header then starts at the NUL, see
    :func:`_get_hdr_field_general`); NULs anywhere else are its parser's business."""
    head = body.rstrip("\0").rstrip(" \t")
    return head.rstrip("\r\n") if head[-1:] == "\n" else body


def _to_body(body: str, i: int, mode: ParserMode) -> ToBody:
    if mode.lazy_from and "\0" in body:
        k = _bare_nul(body)
        if k >= 0:
            # Kamailio 5.6's To parser stops at a NUL as at the end of the header: what comes
            # before must parse (an open '<' or quote, a bare ';' are errors), and the next header
            # starts at the NUL -- a bad header name for whoever parses further (measured)
            raise EndsAtNul(parse_to(body[:k], i, "To", True), i + k)
    return parse_to(body, i, "To", mode.lenient_display_name)


def _ends_at_nul(cut: EndsAtNul, hdr: HdrField) -> int:
    """Apply what :class:`EndsAtNul` says to the header; return where the next header starts."""
    hdr.parsed = cut.parsed
    hdr.body = hdr.body[: cut.at - hdr.body_start].rstrip(" \t\r\n")
    hdr.body_end = hdr.body_start + len(hdr.body)
    hdr.end = cut.at
    return cut.at


def _bare_nul(body: str) -> int:
    """Offset of a NUL Kamailio 5.6's To parser refuses -- any one but the escaped character of a
    quoted-pair in the display name (the backslash-escaped NUL of RFC 4475's intmeth passes) -- or -1
    (measured)."""
    quoted = escaped = False
    for k, ch in enumerate(body):
        if escaped:
            escaped = False
        elif ch == "\0":
            return k
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    return -1


def _from_body(body: str, i: int, mode: ParserMode) -> ToBody | None:
    if not mode.lazy_from:
        return parse_to(body, i, "From", mode.lenient_display_name)
    if "\0" in body:
        # parse_from_header() reads the From as a C string: it ends at the first NUL (measured:
        # ``;tag=a\0b`` is the tag ``a``, a NUL before ``;tag`` leaves no tag, one inside
        # ``<...>`` or quotes leaves them unclosed: an error)
        body = body[: body.index("\0")]
    try:
        return parse_to(body, i, "From", mode.lenient_display_name)
    except ParseError:
        # Kamailio 5.6 does not parse From when it meets the header (only To): a broken From is
        # noticed by whoever needs it (parse_from_header(): the branch of forward(), rr's ftag,
        # $fu ...). sipsim parses it at once and leaves ``parsed`` None: "From does not parse".
        return None


_BODY_PARSERS: dict[HdrType, Callable[[str, int, ParserMode], Any]] = {
    T.HDR_VIA_T: _via_body,
    T.HDR_CSEQ_T: lambda body, i, mode: parse_cseq(body, i, mode.cseq_folding, mode.cseq_number_token),
    T.HDR_TO_T: _to_body,
    T.HDR_FROM_T: _from_body,
    T.HDR_CONTENTLENGTH_T: lambda body, i, mode: parse_content_length(body, i, mode.content_length_int),
}
# What parse_headers does with each kind, found with one dict lookup per header: the parsed_flag
# bit, the SipMsg shortcut to set (or None), whether a second one is an error in strict mode, and
# the body parser Kamailio runs at once (or None).
_KINDS: dict[HdrType, tuple[int, str | None, bool, Callable[[str, int, ParserMode], Any] | None]] = {
    t: (1 << int(t), None, False, _BODY_PARSERS.get(t)) for t in HdrType if t is not T.HDR_EOH_T
}
_KINDS.update({t: (bit, attr, True, _BODY_PARSERS.get(t)) for t, (attr, bit) in _SINGLE.items()})
_KINDS.update({t: (bit, attr, False, _BODY_PARSERS.get(t)) for t, (attr, bit) in _FIRST_ONLY.items()})
# Kamailio 5.6 also refuses a second Max-Forwards (measured: "duplicate Max-Forwards header field")
_KINDS_MF_UNIQUE = dict(_KINDS)
_KINDS_MF_UNIQUE[T.HDR_MAXFORWARDS_T] = (F_MAXFORWARDS, "maxforwards", True, None)


def parse_headers(msg: SipMsg, flags: int, next: bool = False, *, strict: bool = True) -> int:
    """Parse headers from ``msg.unparsed`` until all kinds in ``flags`` are met. 0 ok, -1 error.

    ``next`` forgets the asked kinds first, so the *next* occurrence is found (Kamailio's ``next``).

    The loop is :func:`get_hdr_field` with its common case written in line: one regular
    expression delimits an unfolded ``Name: value`` CRLF line (every header of nearly every
    message); anything else — folding, a bare LF, the empty line, an error — goes through
    ``get_hdr_field``'s general path (without trying the expression again). The work per header
    is on every message's path, hence the hoisted lookups and the flags kept in a local until the
    loop stops.
    """
    if next:
        msg._pf &= ~flags
    pf = msg._pf
    if (pf & flags) == flags:
        return 0
    if msg.eoh is not None:
        return 0  # everything is parsed; the asked kinds are simply not there
    if msg.hdr_error is not None:
        msg.hdr_errors += 1  # Kamailio parses again from ``unparsed``, fails again and counts again
        return -1
    text = msg.text
    pos = msg.unparsed
    mode = msg.mode
    line = LINE[mode.name].match
    types = TYPE_CACHE
    kinds = _KINDS_MF_UNIQUE if mode.maxfwd_unique else _KINDS
    nul_trim = mode.lazy_from
    headers = msg.headers
    via_t = T.HDR_VIA_T
    to_t = T.HDR_TO_T
    try:
        while True:
            m = line(text, pos)
            if m is not None:  # get_hdr_field's common case, in line
                name, body = m.group(1, 2)
                i = m.start(2)
                j = i + len(body)  # where the value ends
                end = j + 2  # the line's CRLF ends the match (the look-ahead takes nothing)
                if body and body[-1] in " \t":
                    body = body.rstrip(" \t")
                    j = i + len(body)
                htype = types.get(name)
                if htype is None:
                    htype = hdr_type(name)
                hdr = HdrField(htype, name, body, pos, i, j, end)
                bit, attr, unique, parse = kinds[htype]
                if parse is not None:
                    try:
                        hdr.parsed = parse(body, i, mode)
                    except EndsAtNul as cut:  # (rare: no cost on the common path)
                        end = _ends_at_nul(cut, hdr)
                elif nul_trim and text[end - 3] == "\0":
                    _trim_nul(hdr)  # (the value's last byte, before white space was trimmed)
            else:
                found = _get_hdr_field_general(text, pos, mode)
                if isinstance(found, _EOH):
                    if found.no_body:
                        msg.extra["no_body"] = True
                    msg.eoh = found.body_start
                    msg.unparsed = found.body_start
                    msg._pf = F_EOH
                    return 0
                hdr = found
                htype = hdr.type
                end = hdr.end
                bit, attr, unique, parse = kinds[htype]
            if htype is via_t:
                if mode.eoh_at_end and (end >= len(text) or (text[end] == "\0" and text[end - 1] == "\n")):
                    # Kamailio 5.6's Via parser must see what follows the line (a folded
                    # continuation?): a Via that ends the datagram -- or the C string, a NUL
                    # starting the next line (measured) -- is "end of header in state 14"
                    raise ParseError("the Via header ends the datagram (no empty line after it)", hdr.start)
                vias = hdr.parsed
                if msg.h_via1 is None:
                    msg.h_via1, msg.via1 = hdr, vias[0]
                    pf |= F_VIA
                    if len(vias) > 1:
                        msg.h_via2, msg.via2 = hdr, vias[1]
                        pf |= F_VIA2
                elif msg.h_via2 is None:
                    msg.h_via2, msg.via2 = hdr, vias[0]
                    pf |= F_VIA2
                else:
                    pf |= F_VIA | F_VIA2
            else:
                if attr is not None:
                    if getattr(msg, attr) is None:
                        if htype is to_t and nul_trim and text[end:end + 1] == "\0" and text[end - 1] == "\n":
                            # like the Via's, Kamailio's To parser looks at the next line (folded?):
                            # a NUL starting it is "unexpected end of header" (measured)
                            raise ParseError("the To header ends the C string (a NUL starts the next line)", hdr.start)
                        setattr(msg, attr, hdr)
                    elif unique and strict and not (mode.reply_dups_ok and msg.is_reply):
                        raise ParseError(f"a second {hdr.canonical_name} header (only one is allowed)", hdr.start)
                pf |= bit
            headers.append(hdr)
            pos = end
            if (pf & flags) == flags:
                msg._pf = pf
                msg.unparsed = pos
                return 0
    except ParseError as exc:
        msg._pf = pf
        msg.unparsed = pos
        msg.hdr_error = exc
        msg.hdr_errors += 1
        return -1


def parse_msg(msg: SipMsg, *, strict: bool = True) -> int:
    """The first line, then headers up to the first Via. 0 ok, -1 error (``msg.parse_error``)."""
    text = msg.text
    pos = 0
    n = len(text)
    while pos < n and text[pos] in _LEADING:
        pos += 1
    try:
        if pos >= n:
            raise ParseError("nothing but white space in the datagram", 0)
        if msg.mode.kamailio_first_line:
            msg.first_line = parse_first_line_kamailio(text, pos)
        else:
            msg.first_line = parse_first_line(text, pos)
    except ParseError as exc:
        msg.parse_error = exc
        return -1
    msg.unparsed = msg.first_line.end
    if parse_headers(msg, F_VIA, strict=strict) < 0:
        msg.parse_error = msg.hdr_error
        return -1
    return 0


# -- parsing of bodies on demand (each caches its result in hdr.parsed) -------------------------
def parse_hdr_body(hdr: HdrField, kamailio: bool = False) -> object:
    """Parse a header's body by its kind if not done yet (Contact, Route, Max-Forwards …).

    ``kamailio`` (the kamailio profile, ``msg.mode.uri_kamailio``): a Contact is read by Kamailio's
    own scanner and the URIs of Contact, Route and Record-Route by its ``parse_uri()``
    (``<sip:c@h?>`` parses, ``<http://x>`` does not). The first reading asked for is cached: a
    message belongs to one profile, whose callers all pass the same flag."""
    if hdr.parsed is not None:
        return hdr.parsed
    t = hdr.type
    if t is T.HDR_CONTACT_T:
        hdr.parsed = parse_contact(hdr.body, hdr.body_start, kamailio)
    elif t is T.HDR_ROUTE_T or t is T.HDR_RECORDROUTE_T:
        hdr.parsed = parse_rr(hdr.body, hdr.body_start, hdr.canonical_name, kamailio)
    elif t is T.HDR_MAXFORWARDS_T:
        hdr.parsed = parse_maxfwd(hdr.body, hdr.body_start)
    elif t is T.HDR_EXPIRES_T:
        hdr.parsed = parse_expires(hdr.body, hdr.body_start)
    return hdr.parsed
