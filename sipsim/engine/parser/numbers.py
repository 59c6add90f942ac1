"""The grammar shared by single-number headers: ``1*DIGIT``, white space around it, nothing else.

A sign, a fraction or anything after the digits is an error (RFC 4475 §3.1.2.3 sends "-999").
Each header has its own module (``content_length.py``, ``max_forwards.py``, ``expires.py``) that
says when it is parsed and what its value means.
"""

from __future__ import annotations

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError


def parse_number(body: str, base: int, what: str) -> int:
    if lex.is_digits(body) and len(body) <= lex.MAX_DIGITS:  # the common case: nothing but digits
        return int(body)
    i = lex.skip_ws(body, 0)
    j = i
    while j < len(body) and body[j] in lex.DIGITS:
        j += 1
    if j == i:
        raise ParseError(f"{what} is not a number: {body.strip()[:20]!r}", base + i)
    if lex.skip_ws(body, j) != len(body):
        raise ParseError(f"garbage after the {what} number", base + j)
    value = lex.digits_value(body[i:j])
    if value is None:
        raise ParseError(f"{what} is a number of {j - i:,} digits, too long for any counter", base + i)
    return value
