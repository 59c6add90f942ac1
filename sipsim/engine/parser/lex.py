"""Shared lexical pieces of RFC 3261 §25: tokens, linear white space, quoted strings, hosts.

Header bodies handed to the grammar modules are the exact bytes of ``buf`` (decoded latin-1), so a
folded line still contains its CRLF. Inside a delimited header body every CR or LF is part of a fold
(the header splitter guarantees that), so "skip white space" may skip SP, HTAB, CR and LF alike.
"""

from __future__ import annotations

import ipaddress
import re

from sipsim.engine.parser.errors import ParseError

WS = " \t\r\n"
# ASCII digits. str.isdigit() is not enough: the message text is Latin-1, where '²' (0xB2), '³'
# and '¹' are digits to Python yet no int() accepts them -- a crafted port or length would crash.
DIGITS = frozenset("0123456789")


def is_digits(s: str) -> bool:
    """Only ASCII digits, at least one (``str.isdigit`` also takes ``²``, which ``int`` refuses)."""
    return s.isascii() and s.isdigit()


# More significant digits than any number in SIP needs by far: Python's int() refuses a string of
# more than 4300 digits (ValueError), and the time it takes grows with the square of the length
MAX_DIGITS = 4000


def digits_value(s: str) -> int | None:
    """The value of a string of ASCII digits, or None when it has more than :data:`MAX_DIGITS`
    significant ones (leading zeros do not count: 5,000 zeros are 0, as a C digit loop reads them)."""
    s = s.lstrip("0")
    if len(s) > MAX_DIGITS:
        return None
    return int(s) if s else 0

TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
WS_RE = re.compile(r"[ \t\r\n]*")
# a parameter value: token, or a host (IPv6 references included, RFC 5118 §4.5)
PVALUE_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~:\[\]]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-_]*[A-Za-z0-9_])?"
HOSTNAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
IPV4_RE = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}")
IPV6_BODY_RE = re.compile(r"[0-9A-Fa-f:.]+")


def skip_ws(s: str, i: int) -> int:
    """Index of the first non-white-space character at or after ``i``."""
    return WS_RE.match(s, i).end()  # type: ignore[union-attr]


def token(s: str, i: int, what: str, base: int = 0) -> tuple[str, int]:
    """Read a token at ``i``; ``what`` names it in the error."""
    m = TOKEN_RE.match(s, i)
    if not m:
        raise ParseError(f"expected {what} at {_show(s, i)}", base + i)
    return m.group(), m.end()


def quoted_string(s: str, i: int, base: int = 0) -> tuple[str, int]:
    """Read a quoted-string starting at the opening quote; return (content with escapes, end)."""
    assert s[i] == '"'
    j, n = i + 1, len(s)
    while j < n:
        c = s[j]
        if c == "\\":
            if j + 1 >= n or s[j + 1] in "\r\n":
                raise ParseError("bad escape at the end of a quoted string", base + j)
            j += 2
            continue
        if c == '"':
            return s[i + 1 : j], j + 1
        if c in "\r\n" and not (j + 1 < n and s[j + 1] in " \t\r\n"):
            break
        j += 1
    raise ParseError("unterminated quoted string (no closing '\"')", base + i)


def is_ipv6(s: str) -> bool:
    """An IPv6 address in text (RFC 4291 §2.2, an IPv4 tail allowed). ``2001:db8:::192.0.2.1``
    matches RFC 3261's ABNF but is no address (RFC 5118 §4.10): it is refused."""
    if not s or not IPV6_BODY_RE.fullmatch(s):
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


def host(s: str, i: int, base: int = 0) -> tuple[str, int]:
    """Read a host (hostname, IPv4 or ``[IPv6]``) at ``i``; the returned host keeps the brackets."""
    if i < len(s) and s[i] == "[":
        end = s.find("]", i)
        if end < 0 or not is_ipv6(s[i + 1 : end]):
            raise ParseError(f"bad IPv6 reference at {_show(s, i)}", base + i)
        return s[i : end + 1], end + 1
    m = HOSTNAME_RE.match(s, i)
    if not m:
        raise ParseError(f"expected a host at {_show(s, i)}", base + i)
    return m.group(), m.end()


def port(s: str, i: int, base: int = 0) -> tuple[int, int]:
    """Read the digits of a port at ``i`` (just after ':')."""
    j = i
    while j < len(s) and s[j] in DIGITS:
        j += 1
    if j == i or j - i > 5 or int(s[i:j]) > 65535:
        raise ParseError(f"bad port at {_show(s, i)}", base + i)
    return int(s[i:j]), j


def unquote(value: str) -> str:
    """One pair of matching quotes, ``"`` or ``'``, removed: a parameter's body as Kamailio's
    ``parse_params()`` gives it (``;q="0.5"``, ``;ftag='x'``)."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value


def strip_brackets(h: str) -> str:
    return h[1:-1] if h.startswith("[") and h.endswith("]") else h


def _show(s: str, i: int) -> str:
    if i >= len(s):
        return "end of value"
    frag = s[i : i + 12].replace("\r", "\\r").replace("\n", "\\n")
    return repr(frag)
