"""Single-number headers: Content-Length (§20.14), Max-Forwards (§20.22), Expires (§20.19).

Content-Length is parsed as soon as its header is met (Kamailio does it in ``get_hdr_field``);
Max-Forwards and Expires on demand (``is_maxfwd_present`` in the maxfwd module, ``parse_expires``).
A sign, a fraction or anything after the digits is an error (RFC 4475 §3.1.2.3 "-999").
"""

from __future__ import annotations

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError


def parse_number(body: str, base: int, what: str) -> int:
    i = lex.skip_ws(body, 0)
    j = i
    while j < len(body) and body[j].isdigit():
        j += 1
    if j == i:
        raise ParseError(f"{what} is not a number: {body.strip()[:20]!r}", base + i)
    if lex.skip_ws(body, j) != len(body):
        raise ParseError(f"garbage after the {what} number", base + j)
    return int(body[i:j])


def parse_content_length(body: str, base: int) -> int:
    return parse_number(body, base, "Content-Length")


def parse_maxfwd(body: str, base: int) -> int:
    return parse_number(body, base, "Max-Forwards")


def parse_expires(body: str, base: int) -> int:
    return parse_number(body, base, "Expires")
