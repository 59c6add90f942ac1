"""The first line (RFC 3261 §7.1, §7.2), as Kamailio's ``parser/parse_fline.c``.

A request line is ``Method SP Request-URI SP SIP-Version CRLF``; a status line is
``SIP-Version SP Status-Code SP Reason-Phrase CRLF`` where the reason may be empty (RFC 4475
§3.1.1.13). Exactly one space separates the parts (RFC 4475 §3.1.2.9 says a lenient element may
accept more, but must not forward them; we reject, as the RFC recommends). The status code must be
exactly three digits (§3.1.2.19 sends 4294967301). Known methods get a bit, as Kamailio's
``method_value``, so routing can test them cheaply. A version other than ``SIP/2.0`` still parses:
the request is then "not SIP" (Kamailio's ``IS_SIP()`` false) and the checks decide what to do.

That is the ``ser`` profile's reading (the RFC grammar). The ``kamailio`` profile reads the line as
Kamailio 5.6's ``parse_first_line()`` does (:func:`parse_first_line_kamailio`, measured against the
binary by tests/routing/fuzz_kamailio.py): known method names in any case (``invite`` is an
INVITE), spaces or tabs after the status code and before the version, white space after the
version, a version that merely *starts* with ``SIP/2.0`` (``SIP/2.01`` is SIP), any three-digit
status code (``099``), but no status line without white space after the code (``SIP/2.0 200``).

The two profiles know different methods. The ``ser`` profile keeps the seed's fourteen
(:data:`METHODS`: INVITE … PUBLISH, spelled exactly so). The ``kamailio`` profile knows what 5.6's
``parse_first_line()`` knows (:data:`KAMAILIO_METHODS`): those fourteen and five more, KDMQ (the
dmq module's own method), GET, POST, PUT and DELETE (HTTP methods, for xhttp and friends, which
receive HTTP over the SIP ports). A method with a bit is no ``unsupported_methods`` in kex's
statistics, but kex has no ``rcv_requests_*`` counter for the five new ones, so they count in
``rcv_requests`` only (``sipsim.engine.stats``). Values are Kamailio 5.6's ``enum request_method``
bits, ``METHOD_OTHER`` included, so a learner can read them beside ``msg_parser.h``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.lex import TOKEN_RE

SIP_REQUEST = 1
SIP_REPLY = 2
SIP_VERSION = "SIP/2.0"

#: any method the parser has no bit for (Kamailio 5.6: ``METHOD_OTHER``, the bit after DELETE's; the
#: ser profile never gives bits 14–18, so one value serves both)
METHOD_OTHER = 1 << 19
#: The ``ser`` profile's known methods: the seed's fourteen, matched exactly (RFC 3261: case-sensitive).
METHODS = {
    "INVITE": 1,
    "CANCEL": 2,
    "ACK": 4,
    "BYE": 8,
    "INFO": 16,
    "REGISTER": 32,
    "SUBSCRIBE": 64,
    "NOTIFY": 128,
    "MESSAGE": 256,
    "OPTIONS": 512,
    "PRACK": 1024,
    "UPDATE": 2048,
    "REFER": 4096,
    "PUBLISH": 8192,
}
#: The ``kamailio`` profile's known methods, matched in any case: Kamailio 5.6's ``parse_first_line()``
#: gives a bit to the fourteen above and to these five (``METHOD_KDMQ`` … ``METHOD_DELETE``). kex does
#: not count them by name and does not call them unsupported; ``is_method()``/``KSR.is_method_in()``
#: test their bits like any other's.
KAMAILIO_METHODS = {
    **METHODS,
    "KDMQ": 1 << 14,
    "GET": 1 << 15,
    "POST": 1 << 16,
    "PUT": 1 << 17,
    "DELETE": 1 << 18,
}


@dataclass(slots=True)
class FirstLine:
    type: int
    start: int  # offset of the first character
    end: int  # offset just past the line's LF
    version: str
    method: str = ""
    method_value: int = 0
    uri: str = ""
    uri_start: int = 0
    uri_end: int = 0
    status: int = 0
    reason: str = ""
    proto_sip: bool | None = None  # Kamailio's FLINE_FLAG_PROTO_SIP when its parser decided it

    def method_is(self, name: str) -> bool:
        """Is this a request of the known method ``name`` (Kamailio: ``method_value``, any case)?
        ``name`` is one of :data:`KAMAILIO_METHODS` (the ser profile's parser never gives the five
        extra bits, so asking it for ``"KDMQ"`` is simply false)."""
        return self.type == SIP_REQUEST and self.method_value == KAMAILIO_METHODS[name]

    @property
    def is_request(self) -> bool:
        return self.type == SIP_REQUEST

    @property
    def is_sip(self) -> bool:
        if self.proto_sip is not None:
            return self.proto_sip
        return self.version.upper() == SIP_VERSION

    def summary(self) -> str:
        if self.type == SIP_REQUEST:
            return f"{self.method} {self.uri}"
        return f"{self.status} {self.reason}".rstrip()


def parse_first_line(text: str, start: int) -> FirstLine:
    lf = text.find("\n", start)
    if lf < 0:
        raise ParseError("the first line has no end (no LF in the datagram)", start)
    stop = lf - 1 if lf > start and text[lf - 1] == "\r" else lf
    line = text[start:stop]
    if not line:
        raise ParseError("empty first line", start)
    if line[:4].upper() == "SIP/":
        return _status_line(line, start, lf + 1)
    return _request_line(line, start, lf + 1)


def _status_line(line: str, start: int, end: int) -> FirstLine:
    version, sp, rest = line.partition(" ")
    if not sp:
        raise ParseError("status line has no status code", start)
    code = rest[:3]
    if len(code) != 3 or not lex.is_digits(code) or (len(rest) > 3 and rest[3] != " "):
        raise ParseError(f"status code {rest.split(' ')[0][:20]!r} is not three digits", start + len(version) + 1)
    status = int(code)
    if status < 100:
        raise ParseError(f"status code {status} is below 100", start + len(version) + 1)
    reason = rest[4:]
    if any(c in "\r\n" for c in reason):
        raise ParseError("bad character in the reason phrase", start)
    return FirstLine(type=SIP_REPLY, start=start, end=end, version=version, status=status, reason=reason)


def _request_line(line: str, start: int, end: int) -> FirstLine:
    m = TOKEN_RE.match(line)
    if not m or m.end() >= len(line) or line[m.end()] != " ":
        raise ParseError("request line does not start with a method token and a space", start)
    method = m.group()
    i = m.end() + 1
    if i < len(line) and line[i] in " \t":
        raise ParseError("more than one space after the method (RFC 4475 §3.1.2.9)", start + i)
    sp = line.find(" ", i)
    if sp <= i:
        raise ParseError("request line has no SIP version after the Request-URI", start + i)
    uri = line[i:sp]
    version = line[sp + 1 :]
    if version == SIP_VERSION:  # nearly every request: none of the checks below can fail
        return FirstLine(SIP_REQUEST, start, end, version, method, METHODS.get(method, METHOD_OTHER), uri,
                         start + i, start + sp)
    if version.startswith((" ", "\t")):
        raise ParseError("more than one space before the SIP version (RFC 4475 §3.1.2.9)", start + sp)
    if not version or " " in version or "\t" in version:
        raise ParseError(f"bad SIP version {version[:20]!r} in the request line", start + sp + 1)
    if not _looks_like_version(version):
        raise ParseError(f"bad SIP version {version[:20]!r} in the request line", start + sp + 1)
    return FirstLine(
        type=SIP_REQUEST,
        start=start,
        end=end,
        version=version,
        method=method,
        method_value=METHODS.get(method, METHOD_OTHER),
        uri=uri,
        uri_start=start + i,
        uri_end=start + sp,
    )


def _looks_like_version(v: str) -> bool:
    proto, slash, num = v.partition("/")
    if not slash or not proto.isalpha():
        return False
    major, dot, minor = num.partition(".")
    return bool(dot) and lex.is_digits(major) and lex.is_digits(minor)


# -- Kamailio 5.6's reading of the first line (parse_fline.c) -------------------------------------
_WS = " \t"
_STOP = " \t\r\n"
MIN_FIRST_LINE = 16  # parse_first_line: "message too short" at 16 bytes or less


def _token_end(text: str, i: int, n: int) -> int:
    """``eat_token_end``: the first space, tab, CR or LF at or after ``i``."""
    while i < n and text[i] not in _STOP:
        i += 1
    return i


def _space_end(text: str, i: int, n: int) -> int:
    while i < n and text[i] in _WS:
        i += 1
    return i


# The common, well-formed shapes, each recognised by one regular expression (one C call):
# ``METHOD SP Request-URI SP SIP/2.0 CRLF`` with a method of letters, and
# ``SIP/2.0 SP 3DIGIT SP reason CRLF`` with a reason that does not start with white space.
_FAST_REQUEST = re.compile(r"([A-Za-z]+) ([^ \t\r\n]+) SIP/2\.0\r\n")
_FAST_REPLY = re.compile(r"SIP/2\.0 ([0-9]{3}) ((?:[^ \t\r\n][^\r\n]*)?)\r\n")


def parse_first_line_kamailio(text: str, start: int) -> FirstLine:
    """The first line as Kamailio 5.6 splits it: three parts, white space between the last two.

    Request: a method token followed by exactly one space (a known name in any case gets its
    ``method_value``), the URI up to the next white space, spaces or tabs, the version token, then
    only white space to the end of the line. Reply: ``SIP/2.0`` in any case and one space, a
    three-digit code, at least one space or tab, the reason up to CR or LF. The line must be
    followed by something (a datagram of one line is refused).

    Fast path: nearly every message has a first line of the ordinary shape (``_FAST_REQUEST``:
    a method of letters, single spaces, exactly ``SIP/2.0`` and CRLF; ``_FAST_REPLY``: exactly
    ``SIP/2.0``, single spaces, a reason that does not start with white space, CRLF). For such a
    line every check of the careful reader passes and splits it at the same places, so one regular
    expression gives the same result. Everything else — other case, tabs, extra spaces, a bare LF,
    trailing white space, an error — is read by :func:`_first_line_walk`, the character-level walk
    that follows ``parse_first_line()`` step by step, because that is where Kamailio's quirks live.
    """
    n = len(text)
    if n - start <= MIN_FIRST_LINE:
        raise ParseError(f"message too short for a first line ({n - start} bytes)", start)
    m = _FAST_REQUEST.match(text, start)
    if m is not None and m.end() < n:
        method = m.group(1)
        return FirstLine(SIP_REQUEST, start, m.end(), SIP_VERSION, method,
                         KAMAILIO_METHODS.get(method.upper(), METHOD_OTHER), m.group(2), m.start(2), m.end(2),
                         proto_sip=True)
    m = _FAST_REPLY.match(text, start)
    if m is not None and m.end() < n:
        return FirstLine(SIP_REPLY, start, m.end(), SIP_VERSION, status=int(m.group(1)), reason=m.group(2),
                         proto_sip=True)
    return _first_line_walk(text, start, n)


def _first_line_walk(text: str, start: int, n: int) -> FirstLine:
    """``parse_first_line()``'s own walk over a line of more than 16 bytes (any shape, errors too)."""
    reply = text[start:start + 7].upper() == SIP_VERSION and start + 7 < n and text[start + 7] == " "
    if reply:
        tmp = start + 7
        method, value = "", 0
    else:
        tmp = _token_end(text, start, n)
        if tmp == start or tmp >= n:
            raise ParseError("empty or bad first line", start)
        if text[tmp] != " ":
            raise ParseError("the method is not followed by a space", tmp)
        method = text[start:tmp]
        value = KAMAILIO_METHODS.get(method.upper(), METHOD_OTHER)
    second = tmp + 1
    tmp = _token_end(text, second, n)
    if tmp >= n:
        raise ParseError("the first line ends after its first part", tmp)
    third = _space_end(text, tmp, n)
    if third == tmp:
        what = "the status code" if reply else "the Request-URI"
        raise ParseError(f"no space or tab after {what}", tmp)
    middle = text[second:tmp]
    if reply:
        if len(middle) != 3 or not lex.is_digits(middle):
            raise ParseError(f"status code {middle[:20]!r} is not three digits", second)
        end = third
        while end < n and text[end] not in "\r\n":
            end += 1
    else:
        end = _token_end(text, third, n)
        if end == third or end >= n:
            raise ParseError("request line has no SIP version after the Request-URI", third)
        after = _space_end(text, end, n)
        if after >= n or text[after] not in "\r\n":
            raise ParseError(f"garbage after the SIP version {text[third:end][:20]!r}", after)
    lf = text.find("\n", end)
    if lf < 0 or lf + 1 >= n:
        raise ParseError("the first line has no end, or nothing follows it", end)
    last = text[third:end]
    if reply:
        return FirstLine(SIP_REPLY, start, lf + 1, text[start:start + 7], status=int(middle), reason=last,
                         proto_sip=True)
    return FirstLine(SIP_REQUEST, start, lf + 1, last, method, value, middle, second, tmp,
                     proto_sip=last[:7].upper() == SIP_VERSION)
