"""CSeq (RFC 3261 §20.16): a sequence number and a method, as Kamailio's ``parse_cseq.c``.

The number is kept as text, as Kamailio does: whether it fits (< 2**31) is a sanity check
(``sanity_check`` bit 64), not a parse error — RFC 4475 §3.1.2.4 expects a 400 for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError


@dataclass(slots=True)
class CSeqBody:
    number: str
    method: str

    @property
    def value(self) -> int:
        return int(self.number)


_FAST = re.compile(r"(\d+) ([A-Za-z0-9\-.!%*_+`'~]+)")


def parse_cseq(body: str, base: int, folding: bool = True) -> CSeqBody:
    m = _FAST.fullmatch(body)
    if m is not None:
        return CSeqBody(number=m.group(1), method=m.group(2))
    i = lex.skip_ws(body, 0)
    j = i
    while j < len(body) and body[j] in lex.DIGITS:
        j += 1
    if j == i:
        raise ParseError("CSeq does not start with a number", base + i)
    number = body[i:j]
    if not folding and "\n" in body[j:]:
        raise ParseError("no method found: the CSeq is folded over two lines (Kamailio 5.6)", base + j)
    if j >= len(body) or body[j] not in lex.WS:
        raise ParseError("CSeq number not followed by white space and a method", base + j)
    k = lex.skip_ws(body, j)
    method, k = lex.token(body, k, "the CSeq method", base)
    if lex.skip_ws(body, k) != len(body):
        raise ParseError("garbage after the CSeq method", base + k)
    return CSeqBody(number=number, method=method)
