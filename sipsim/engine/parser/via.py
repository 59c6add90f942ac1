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
from sipsim.engine.parser.errors import ParseError


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
    next_start: int | None = None  # offset of the next value on the same line, if any

    def param(self, name: str) -> ViaParam | None:
        name = name.lower()
        for p in self.params:
            if p.name.lower() == name:
                return p
        return None

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
_FAST = re.compile(
    r"(SIP)/(2\.0)/([A-Za-z]+) ([A-Za-z0-9.\-_]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?"
    r"((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:\[\]]+)?)*)"
)


def fast_via(body: str, base: int) -> ViaBody | None:
    m = _FAST.fullmatch(body)
    if m is None:
        return None
    host = m.group(4)
    if host[0] == "[":
        if not lex.is_ipv6(host[1:-1]):
            return None
    elif not lex.HOSTNAME_RE.fullmatch(host):
        return None
    port = m.group(5)
    if port is not None:
        port = int(port)
        if port > 65535:
            return None
    pos = m.start(6)
    params: list[ViaParam] = []
    plist = m.group(6)
    if plist:
        for chunk in plist[1:].split(";"):
            name, eq, value = chunk.partition("=")
            end = pos + 1 + len(chunk)
            params.append(ViaParam(name, value if eq else None, base + pos, base + end))
            pos = end
    end = base + len(body)
    via = ViaBody("SIP", "2.0", m.group(3).upper(), host, port, params, base, end, end, base + m.start(6))
    return via


def fast_vias(body: str, base: int) -> list[ViaBody] | None:
    """Every value of a Via line in the common shape (one, or several joined by commas as sipp and
    many phones write them), or None: then the general path decides, errors included."""
    if "," not in body:
        one = fast_via(body, base)
        return None if one is None else [one]
    vias: list[ViaBody] = []
    i, n = 0, len(body)
    while True:
        comma = body.find(",", i)
        j = n if comma < 0 else comma
        while j > i and body[j - 1] in " \t":
            j -= 1
        via = fast_via(body[i:j], base + i)
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


def parse_via(body: str, base: int, strict_version: bool = False) -> list[ViaBody]:
    """Parse a Via header body that starts at offset ``base`` of ``buf``."""
    fast = fast_vias(body, base)
    if fast is not None:
        return fast
    return parse_via_general(body, base, strict_version)


def parse_via_general(body: str, base: int, strict_version: bool = False) -> list[ViaBody]:
    """The full grammar: white space anywhere the RFC allows it, several values per line."""
    vias: list[ViaBody] = []
    i, n = 0, len(body)
    while True:
        i = lex.skip_ws(body, i)
        if i >= n:
            raise ParseError("empty Via value", base + i)
        via, i = _via_parm(body, i, base)
        if strict_version and via.version != "2.0":
            raise ParseError(f"Via protocol SIP/{via.version} is not SIP/2.0 (Kamailio's Via parser)", via.start)
        vias.append(via)
        i = lex.skip_ws(body, i)
        if i >= n:
            return vias
        if body[i] != ",":
            raise ParseError(f"unexpected {body[i]!r} after Via value", base + i)
        i = lex.skip_ws(body, i + 1)
        via.next_start = base + i
        if i >= n:
            raise ParseError("empty Via value after ','", base + i)


def _via_parm(s: str, i: int, base: int) -> tuple[ViaBody, int]:
    start = i
    name, i = lex.token(s, i, "protocol name (SIP)", base)
    i = _slash(s, i, base)
    version, i = lex.token(s, i, "protocol version", base)
    i = _slash(s, i, base)
    transport, i = lex.token(s, i, "transport", base)
    if i >= len(s) or s[i] not in lex.WS:
        raise ParseError("expected white space before the Via sent-by", base + i)
    i = lex.skip_ws(s, i)
    host, i = lex.host(s, i, base)
    port = None
    j = lex.skip_ws(s, i)
    if j < len(s) and s[j] == ":":
        j = lex.skip_ws(s, j + 1)
        port, i = lex.port(s, j, base)
    via = ViaBody(name=name, version=version, transport=transport.upper(), host=host, port=port, start=base + start)
    end = i
    via.sent_by_end = base + i
    while True:
        j = lex.skip_ws(s, i)
        if j >= len(s) or s[j] != ";":
            break
        pstart = j
        j = lex.skip_ws(s, j + 1)
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
        via.params.append(ViaParam(pname, value, base + pstart, base + pend))
        i = end = pend
    via.end = via.params_end = base + end
    if via.name.upper() != "SIP":
        raise ParseError(f"Via protocol is {via.name!r}, not SIP", base + start)
    return via, end


def _slash(s: str, i: int, base: int) -> int:
    i = lex.skip_ws(s, i)
    if i >= len(s) or s[i] != "/":
        raise ParseError("expected '/' in the Via protocol", base + i)
    return lex.skip_ws(s, i + 1)
