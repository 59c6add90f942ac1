"""The first line (RFC 3261 §7.1, §7.2), as Kamailio's ``parser/parse_fline.c``.

A request line is ``Method SP Request-URI SP SIP-Version CRLF``; a status line is
``SIP-Version SP Status-Code SP Reason-Phrase CRLF`` where the reason may be empty (RFC 4475
§3.1.1.13). Exactly one space separates the parts (RFC 4475 §3.1.2.9 says a lenient element may
accept more, but must not forward them; we reject, as the RFC recommends). The status code must be
exactly three digits (§3.1.2.19 sends 4294967301). Known methods get a bit, as Kamailio's
``method_value``, so routing can test them cheaply. A version other than ``SIP/2.0`` still parses:
the request is then "not SIP" (Kamailio's ``IS_SIP()`` false) and the checks decide what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.lex import TOKEN_RE

SIP_REQUEST = 1
SIP_REPLY = 2
SIP_VERSION = "SIP/2.0"

METHOD_OTHER = 1 << 31
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

    @property
    def is_request(self) -> bool:
        return self.type == SIP_REQUEST

    @property
    def is_sip(self) -> bool:
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
