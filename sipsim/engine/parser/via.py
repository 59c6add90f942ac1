"""Via headers (RFC 3261 §20.42, §25.1; RFC 3581 rport), as Kamailio's ``parser/parse_via.c``.

One Via header line may hold several comma-separated values; each becomes a :class:`ViaBody` with
the offsets a proxy needs to edit the message without rewriting it: where this value starts and
ends (to delete the first value of a reply), and where its parameters end (to add ``;received=``
and fill ``;rport=`` — RFC 3261 §18.2.1, RFC 3581 §4).

White space is allowed around ``/``, ``;``, ``=``, ``,`` and across folded lines (RFC 4475
§3.1.1.1). Empty parameters and empty values between commas are errors (RFC 4475 §3.1.2.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import EndsAtNul, ParseError


@dataclass(slots=True)
class ViaParam:
    name: str
    value: str | None
    start: int  # offset of the ';' in buf
    end: int  # offset just past the value (or name)


@dataclass(slots=True)
class ViaBody:
    name: str  # "SIP"
    version: str  # "2.0"
    transport: str  # "UDP", "TCP" …
    host: str  # as written; IPv6 keeps its brackets
    port: int | None
    params: list[ViaParam] = field(default_factory=list)
    start: int = 0  # offset of this value in buf
    end: int = 0  # offset just past this value (before white space / comma)
    params_end: int = 0  # where a new ;param is appended
    sent_by_end: int = 0  # just past host[:port]: where Kamailio 5.6 puts received= in forwarded requests
    host_end: int = 0  # just past the host (Kamailio counts a port 0 as no port)
    next_start: int | None = None  # offset of the next value on the same line, if any
    last_wins: bool = False  # a repeated parameter: Kamailio's parser keeps the last one

    def param(self, name: str) -> ViaParam | None:
        """The parameter ``name`` (any case): the first one, or with ``last_wins`` the last one."""
        name = name.lower()
        found = None
        for p in self.params:
            if p.name.lower() == name:
                if not self.last_wins:
                    return p
                found = p
        return found

    @property
    def branch(self) -> str | None:
        p = self.param("branch")
        return None if p is None else (p.value or "")

    @property
    def received(self) -> str | None:
        p = self.param("received")
        return None if p is None else (p.value or "")

    @property
    def rport(self) -> str | None:
        """None when absent, "" when present without a value, else the value."""
        p = self.param("rport")
        return None if p is None else (p.value or "")

    @property
    def host_bare(self) -> str:
        return lex.strip_brackets(self.host)

    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


# The common shape, ``SIP/2.0/UDP host[:port];p=v;p``, parsed in one regular expression; anything
# else (white space, folding, several values) takes the general path below. Both give the same result.
# The host is a hostname or IPv4 address by the lexer's own expression (no character that may end a
# host can start the port or a parameter, so it is the same host), or an IPv6 reference checked after.
_FAST = re.compile(
    rf"(SIP)/(2\.0)/([A-Za-z]+) ({lex.HOSTNAME_RE.pattern}|\[[0-9A-Fa-f:.]+\])(?::(\d{{1,5}}))?"
    r"((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:\[\]]+)?)*)"
)


def fast_via(body: str, base: int, kamailio: bool = False) -> ViaBody | None:
    """One Via value of the common shape, or None (then the general path decides, errors included).

    ``kamailio``: a parameter Kamailio's ``parse_via_param()`` would refuse (``;branch`` without a
    value, ``;alias=x``) is left to the general path too, which reports it.
    """
    m = _FAST.fullmatch(body)
    if m is None:
        return None
    _sip, _version, transport, host, port, plist = m.groups()
    if host[0] == "[" and not lex.is_ipv6(host[1:-1]):
        return None
    if port is not None:
        port = int(port)
        if port > 65535:
            return None
    params_start = pos = m.start(6)
    params: list[ViaParam] = []
    if plist:
        for chunk in plist[1:].split(";"):
            name, eq, value = chunk.partition("=")
            if kamailio and name.lower() in (_KAM_NO_VALUE if eq else _KAM_NEED_VALUE):
                return None
            end = pos + 1 + len(chunk)
            params.append(ViaParam(name, value if eq else None, base + pos, base + end))
            pos = end
    end = base + len(body)
    # (positional: host_end, next_start, last_wins -- Kamailio's parser keeps a repeated one's last)
    return ViaBody("SIP", "2.0", transport.upper(), host, port, params, base, end, end, base + params_start,
                   base + m.end(4), None, kamailio)


def fast_vias(body: str, base: int, kamailio: bool = False) -> list[ViaBody] | None:
    """Every value of a Via line in the common shape (one, or several joined by commas as sipp and
    many phones write them), or None: then the general path decides, errors included."""
    if "," not in body:
        one = fast_via(body, base, kamailio)
        return None if one is None else [one]
    vias: list[ViaBody] = []
    i, n = 0, len(body)
    while True:
        comma = body.find(",", i)
        j = n if comma < 0 else comma
        while j > i and body[j - 1] in " \t":
            j -= 1
        via = fast_via(body[i:j], base + i, kamailio)
        if via is None:
            return None
        vias.append(via)
        if comma < 0:
            return vias
        i = comma + 1
        while i < n and body[i] in " \t":
            i += 1
        if i >= n:
            return None
        via.next_start = base + i


# Kamailio 5.6's parse_via_param(): which parameters must have a value, which must not have one
_KAM_NEED_VALUE = frozenset(("branch", "ttl", "maddr", "received", "i"))
_KAM_NO_VALUE = frozenset(("hidden", "alias"))
_KAM_PNAME = re.compile(r"[^ \t\r\n=;,]+")
_KAM_PVALUE = re.compile(r"[^ \t\r\n=;,\"\x00]*")


def parse_via(body: str, base: int, strict_version: bool = False, kamailio: bool = False) -> list[ViaBody]:
    """Parse a Via header body that starts at offset ``base`` of ``buf``.

    ``kamailio``: parameters as Kamailio 5.6's ``parse_via_param()`` reads them, where it differs
    from the RFC grammar: ``branch``, ``ttl``, ``maddr``, ``received`` and ``i`` need a ``=``
    (``;branch;x`` is refused) but their value may be empty before a ``;`` (``;received=;x``), not
    at the end of the header; ``rport`` and unknown parameters may have an empty value anywhere
    (``;rport=``); ``alias`` and ``hidden`` take no value; an empty value before ``,`` is an error;
    empty values *between* commas (``v1, , v2``) are skipped, but not before the first value nor
    after the last;
    names may hold any character but white space and ``= ; , "`` (a NUL too), values neither a
    NUL (nor may the host, a quoted value or a comment: measured); of a repeated
    parameter (``;received=a;received=b``) the last one counts; a ``(comment)`` may end a value.

    Fast path: :func:`fast_vias` reads the common shape (``SIP/2.0/UDP host[:port];p=v``, single
    spaces, no comment, and in the kamailio profile no parameter its rules refuse) with one regular
    expression per value. Anything else — white space around ``/ ; = ,``, folding, quoted values,
    comments, Kamailio's parameter rules, every error — goes to :func:`parse_via_general`, which
    walks the grammar step by step; both give the same result where the fast path answers.
    """
    fast = fast_vias(body, base, kamailio)
    if fast is not None:
        return fast
    vias = parse_via_general(body, base, strict_version, kamailio)
    if kamailio:
        for via in vias:
            via.last_wins = True
    return vias


def parse_via_general(body: str, base: int, strict_version: bool = False, kamailio: bool = False) -> list[ViaBody]:
    """The full grammar: white space anywhere the RFC allows it, several values per line."""
    vias: list[ViaBody] = []
    i, n = 0, len(body)
    while True:
        i = lex.skip_ws(body, i)
        if i >= n:
            raise ParseError("empty Via value", base + i)
        try:
            via, i = _via_parm(body, i, base, kamailio)
        except EndsAtNul as cut:  # (a ',' in a quoted parameter value: the header ends there)
            if strict_version and cut.parsed.version != "2.0":  # (checked first, as for any value)
                raise ParseError(f"Via protocol SIP/{cut.parsed.version} is not SIP/2.0 (Kamailio's Via parser)",
                                 cut.parsed.start) from None
            raise EndsAtNul([*vias, cut.parsed], cut.at) from None
        if kamailio and "\0" in body:
            _nul_after_sent_by(body, i, base, via, vias)
        if strict_version and via.version != "2.0":
            raise ParseError(f"Via protocol SIP/{via.version} is not SIP/2.0 (Kamailio's Via parser)", via.start)
        vias.append(via)
        i = lex.skip_ws(body, i)
        if i >= n:
            return vias
        if body[i] != ",":
            raise ParseError(f"unexpected {body[i]!r} after Via value", base + i)
        i = lex.skip_ws(body, i + 1)
        while kamailio and i < n and body[i] == ",":
            i = lex.skip_ws(body, i + 1)  # Kamailio 5.6 skips empty values between commas (measured)
        via.next_start = base + i
        if i >= n:
            raise ParseError("empty Via value after ','", base + i)


def _nul_after_sent_by(body: str, i: int, base: int, via: ViaBody, vias: list[ViaBody]) -> None:
    """A NUL right after the sent-by (white space between allowed) ends the Via header in Kamailio
    5.6: the next header starts at the NUL. One inside or right after the host name leaves the
    host empty (the forwarded copy gets ``received=`` before the name), one right after the port
    loses the port (``received=`` comes right after the host): measured."""
    k = i
    while k < len(body) and body[k] in " \t":
        k += 1
    if k >= len(body) or body[k] != "\0" or via.params:
        return
    if k == i and via.port is not None:  # right after the port: the port is lost (port 0)
        via.port = 0
        via.sent_by_end = via.host_end
    elif k == i and via.host[:1] != "[":  # in or right after the host name: the host is lost
        via.host_end -= len(via.host)
        via.host = ""
        via.sent_by_end = via.host_end
    raise EndsAtNul([*vias, via], base + k)


def _via_parm(s: str, i: int, base: int, kamailio: bool = False) -> tuple[ViaBody, int]:
    start = i
    name, i = lex.token(s, i, "protocol name (SIP)", base)
    i = _slash(s, i, base)
    version, i = lex.token(s, i, "protocol version", base)
    i = _slash(s, i, base)
    if kamailio:
        # any run up to white space (``UDP\0``, ``U\0DP``: a transport of no known name, measured)
        m = _KAM_TRANSPORT.match(s, i)
        if m is None:
            raise ParseError(f"expected transport at {s[i:i + 10]!r}", base + i)
        transport, i = m.group(), m.end()
    else:
        transport, i = lex.token(s, i, "transport", base)
    if i >= len(s) or s[i] not in lex.WS:
        raise ParseError("expected white space before the Via sent-by", base + i)
    i = lex.skip_ws(s, i)
    host_end = i
    if kamailio:
        host, port, i = _kamailio_sent_by(s, i, base)
    else:
        host, i = lex.host(s, i, base)
        port = None
        j = lex.skip_ws(s, i)
        if j < len(s) and s[j] == ":":
            j = lex.skip_ws(s, j + 1)
            port, i = lex.port(s, j, base)
    via = ViaBody(name=name, version=version, transport=transport.upper(), host=host, port=port, start=base + start,
                  host_end=base + host_end + len(host))
    end = i
    via.sent_by_end = base + i
    if kamailio and port is not None:
        # Kamailio 5.6 counts host[:port] as host + ':' + the port's digits, whatever white space
        # stands around the ':' ("host :<TAB>5060" puts received= two digits early: measured)
        via.sent_by_end = via.host_end + 1 + (i - len(s[:i].rstrip("0123456789")))
    while True:
        j = lex.skip_ws(s, i)
        if j >= len(s) or s[j] != ";":
            break
        pstart = j
        j = lex.skip_ws(s, j + 1)
        if kamailio:
            try:
                pname, j, value, pend = _kamailio_param(s, j, base)
            except _CommaInQuotes as cut:
                via.params.append(ViaParam(cut.name, cut.value, base + pstart, base + cut.at))
                via.end = via.params_end = base + cut.at
                raise EndsAtNul(via, base + cut.at) from None
        else:
            pname, j = lex.token(s, j, "a Via parameter name", base)
            value = None
            k = lex.skip_ws(s, j)
            pend = j
            if k < len(s) and s[k] == "=":
                k = lex.skip_ws(s, k + 1)
                if k < len(s) and s[k] == '"':
                    value, pend = lex.quoted_string(s, k, base)
                else:
                    m = lex.PVALUE_RE.match(s, k)
                    if not m:
                        raise ParseError(f"Via parameter {pname!r} has no value after '='", base + k)
                    value, pend = m.group(), m.end()
        # Kamailio's size of a quoted parameter stops before its closing quote (a received= put in
        # its place leaves the quote behind: measured on 5.6.3)
        quoted = kamailio and value is not None and s[pend - 1] == '"'
        via.params.append(ViaParam(pname, value, base + pstart, base + pend - quoted))
        i = end = pend
    via.end = via.params_end = base + end
    if via.name.upper() != "SIP":
        raise ParseError(f"Via protocol is {via.name!r}, not SIP", base + start)
    if kamailio:
        end = _kamailio_comments(s, end, base, via)
    return via, end


def _kamailio_comments(s: str, i: int, base: int, via: ViaBody) -> int:
    """Comments ``( ... )`` (nested ones too, one after the other) may end a Via value in Kamailio
    5.6's parser, after the sent-by or after a parameter *value*; after a parameter without one
    and white space (``;rport (c)``) its parser is still looking for ``=``: an error — except after
    ``alias``, the one parameter it knows never takes a value (``;alias (c)`` parses; measured).
    Returns where the value (and its comments) ends."""
    j = lex.skip_ws(s, i)
    if j >= len(s) or s[j] != "(":
        return i
    last = via.params[-1] if via.params else None
    if last is not None and last.value is None and j > i and last.name.lower() != "alias":
        raise ParseError(f"'(' where the Via parameter {last.name!r} expects '='", base + j)
    while j < len(s) and s[j] == "(":
        depth, k = 0, j
        while True:
            if k >= len(s):
                raise ParseError("a comment in the Via has no closing ')'", base + j)
            if s[k] == "\0":
                raise ParseError("a NUL byte in a comment of the Via", base + k)
            depth += (s[k] == "(") - (s[k] == ")")
            k += 1
            if depth == 0:
                break
        i = k
        j = lex.skip_ws(s, k)
    return i


_KAM_TRANSPORT = re.compile(r"[^ \t\r\n;,]+")
_KAM_HOST = re.compile(r"[^ \t\r\n:;,()\[\]\x00]+")
# (white space inside the brackets is an error, unless it is a line fold: measured)
_KAM_HOST6 = re.compile(r"\[(?:[^ \t\r\n;,()\[\]\x00]|\r?\n[ \t]+)+\]")
_KAM_PORT = re.compile(r"[^ \t\r\n;,()\x00]+")


def _kamailio_sent_by(s: str, i: int, base: int) -> tuple[str, int | None, int]:
    """host[:port] as Kamailio 5.6's ``parse_via()`` reads it: the host is any run of characters
    but white space and ``: ; , ( ) [ ]`` (``a_b``, ``a..b``, ``192.0.2.300`` pass), or ``[...]``
    whose inside is not checked; the port is read by ``str2s()`` (at most five digits, kept in 16
    bits: ``99999`` is 34463)."""
    m = (_KAM_HOST6 if s.startswith("[", i) else _KAM_HOST).match(s, i)
    if not m:
        raise ParseError(f"no host in the Via at {s[i:i + 20]!r}", base + i)
    host, i = m.group(), m.end()
    j = lex.skip_ws(s, i)
    if j >= len(s) or s[j] != ":":
        return host, None, i
    j = lex.skip_ws(s, j + 1)
    m = _KAM_PORT.match(s, j)
    digits = m.group() if m else ""
    if not digits or len(digits) > 5 or not (digits.isdigit() and digits.isascii()):
        raise ParseError(f"invalid Via port {digits[:20]!r}", base + j)
    return host, int(digits) & 0xFFFF, j + len(digits)


class _CommaInQuotes(Exception):  # noqa: N818 (a signal: _via_parm turns it into EndsAtNul)
    def __init__(self, name: str, value: str, at: int) -> None:
        super().__init__(at)
        self.name, self.value, self.at = name, value, at


def _kamailio_param(s: str, j: int, base: int) -> tuple[str, int, str | None, int]:
    """One parameter from its name at ``j`` (see :func:`parse_via`): (name, end of name, value, end)."""
    n = len(s)
    m = _KAM_PNAME.match(s, j)
    if not m or s[j] == "\0":  # a NUL may be inside a name, not start it (measured)
        raise ParseError("a Via parameter has no name", base + j)
    pname, j = m.group(), m.end()
    lname = pname.lower()
    k = lex.skip_ws(s, j)
    if k >= n or s[k] != "=":
        if lname in _KAM_NEED_VALUE and not (k > j and k < n and s[k] == ";"):
            raise ParseError(f"Via parameter {pname!r} needs a value", base + j)
        return pname, j, None, j
    if lname in _KAM_NO_VALUE:
        raise ParseError(f"Via parameter {pname!r} takes no value", base + k)
    k = lex.skip_ws(s, k + 1)
    if k < n and s[k] == '"':
        # the value ends at the next '"' (a backslash escapes nothing: '"a\"b"' leaves 'b"' to fail
        # after it), or runs to the end of the header without one; a ',' between the quotes ends
        # the whole Via header there: the next header "starts" at the ',' and is a bad header for
        # whoever parses further (the first Via itself is fine) -- all measured on 5.6.3
        close = s.find('"', k + 1)
        pend = close + 1 if close >= 0 else len(s.rstrip(" \t\r\n"))
        value = s[k + 1:pend - 1 if close >= 0 else pend]
        if "," in value:  # the header ends at that ',' for Kamailio: _via_parm makes it an EndsAtNul
            raise _CommaInQuotes(pname, value[:value.index(",")], k + 1 + value.index(","))
        if "\0" in value:
            raise ParseError(f"a NUL byte in the quoted value of the Via parameter {pname!r}", base + k)
        return pname, j, value, pend
    m = _KAM_PVALUE.match(s, k)
    value, pend = m.group(), m.end()  # type: ignore[union-attr]
    if not value:
        if k < n and s[k] != ";":
            raise ParseError(f"Via parameter {pname!r} has no value before {s[k]!r}", base + k)
        if k >= n and lname in _KAM_NEED_VALUE:
            raise ParseError(f"Via parameter {pname!r} has an empty value at the end of the header", base + k)
    return pname, j, value, pend


def _slash(s: str, i: int, base: int) -> int:
    i = lex.skip_ws(s, i)
    if i >= len(s) or s[i] != "/":
        raise ParseError("expected '/' in the Via protocol", base + i)
    return lex.skip_ws(s, i + 1)
