"""Contact (RFC 3261 §20.10), parsed on demand as Kamailio's ``parse_contact()``.

Either ``*`` (only valid in a REGISTER with ``Expires: 0``) or a comma-separated list of
``name-addr``/``addr-spec`` with ``q`` and ``expires`` among the parameters. As Kamailio's
``parse_params()``, the last parameter of the header may have an empty value (``;q=``), which the
registrar reads as no value at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.nameaddr import NameAddr, parse_name_addr
from sipsim.engine.parser.to_from import fast as fast_name_addr


@dataclass(slots=True)
class ContactBody:
    star: bool = False
    contacts: list[NameAddr] = field(default_factory=list)


def parse_contact(body: str, base: int) -> ContactBody:
    i = lex.skip_ws(body, 0)
    if i < len(body) and body[i] == "*" and lex.skip_ws(body, i + 1) == len(body):
        return ContactBody(star=True)
    if "," not in body:  # one value (what phones send): the To/From fast path reads it the same way
        one = fast_name_addr(body, base)
        if one is not None:
            return ContactBody(contacts=[one])
    return ContactBody(contacts=parse_addr_list(body, base, "Contact", empty_last_value=True))


def parse_addr_list(body: str, base: int, what: str, need_brackets: bool = False,
                    empty_last_value: bool = False) -> list[NameAddr]:
    out: list[NameAddr] = []
    i = 0
    while True:
        i = lex.skip_ws(body, i)
        if i >= len(body):
            raise ParseError(f"empty value in {what}", base + i)
        na, i = parse_name_addr(body, i, base, in_list=True, need_brackets=need_brackets,
                                empty_last_value=empty_last_value)
        out.append(na)
        i = lex.skip_ws(body, i)
        if i >= len(body):
            return out
        if body[i] != ",":
            raise ParseError(f"unexpected {body[i]!r} in {what}", base + i)
        i += 1
