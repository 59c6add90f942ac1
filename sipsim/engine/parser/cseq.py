"""CSeq (RFC 3261 §20.16): a sequence number and a method, as Kamailio's ``parse_cseq.c``.

The number is kept as text, as Kamailio does: whether it fits (< 2**31) is a sanity check
(``sanity_check`` bit 64), not a parse error — RFC 4475 §3.1.2.4 expects a 400 for it.
Kamailio 5.6's core goes further (``token_number``): the number is any token up to white
space — ``x``, ``12a``, ``-1`` — so such a request reaches the script, where ``sanity_check``
answers 400 "CSeq number is illegal" (measured). Its method is read the same way (``INVITE;x``
is an unknown method). The RFC mode wants digits and a token.
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
    def is_number(self) -> bool:
        return lex.is_digits(self.number)

    @property
    def value(self) -> int:
        """The number; -1 when it is not one (only the kamailio profile's parser lets that through),
        or has thousands of digits."""
        value = lex.digits_value(self.number) if lex.is_digits(self.number) else None
        return -1 if value is None else value


_FAST = re.compile(r"(\d+) ([A-Za-z0-9\-.!%*_+`'~]+)")


def parse_cseq(body: str, base: int, folding: bool = True, token_number: bool = False) -> CSeqBody:
    m = _FAST.fullmatch(body)
    if m is not None:
        number, method = m.groups()
        return CSeqBody(number=number, method=method)
    i = lex.skip_ws(body, 0)
    j = i
    if token_number:
        while j < len(body) and body[j] not in lex.WS:
            j += 1
    else:
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
    if token_number:
        # Kamailio's method is, like its number, any run up to white space: ``INVITE;x``, a NUL
        # inside, UTF-8 -- an unknown method, not a parse error (measured on 5.6.3)
        m_end = k
        while m_end < len(body) and body[m_end] not in lex.WS:
            m_end += 1
        if m_end == k:
            raise ParseError("no method found after the CSeq number", base + k)
        method, k = body[k:m_end], m_end
    else:
        method, k = lex.token(body, k, "the CSeq method", base)
    if lex.skip_ws(body, k) != len(body):
        raise ParseError("garbage after the CSeq method", base + k)
    return CSeqBody(number=number, method=method)
