"""To and From (RFC 3261 §20.20, §20.39), as Kamailio's ``parse_to.c``/``parse_from.c``.

Both are parsed as soon as their header is met (Kamailio does it in ``get_hdr_field``): one
``name-addr``/``addr-spec`` and its parameters, of which ``tag`` identifies the dialog.
"""

from __future__ import annotations

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.nameaddr import NameAddr, parse_name_addr

ToBody = NameAddr


def parse_to(body: str, base: int, what: str = "To") -> ToBody:
    i = lex.skip_ws(body, 0)
    if i >= len(body):
        raise ParseError(f"empty {what} header", base)
    na, i = parse_name_addr(body, i, base, in_list=False)
    i = lex.skip_ws(body, i)
    if i != len(body):
        raise ParseError(f"unexpected {body[i]!r} in the {what} header", base + i)
    if sum(1 for k, _ in na.params if k.lower() == "tag") > 1:
        # not a parse error in Kamailio: sanity_check bit 4096 catches it
        pass
    return na


def parse_from(body: str, base: int) -> ToBody:
    return parse_to(body, base, "From")
