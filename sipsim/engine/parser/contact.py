"""Contact (RFC 3261 §20.10), parsed on demand as Kamailio's ``parse_contact()``.

Either ``*`` (only valid in a REGISTER with ``Expires: 0``) or a comma-separated list of
``name-addr``/``addr-spec`` with ``q`` and ``expires`` among the parameters. As Kamailio's
``parse_params()``, the last parameter of the header may have an empty value (``;q=``), which the
registrar reads as no value at all.

:func:`parse_contact` is the RFC grammar (the ``ser`` profile); ``kamailio=True`` gives
:func:`parse_contact_kamailio`, Kamailio 5.6's own scanner (``contact_parser()``,
``parse_contacts()``, ``skip_name()``, ``skip_uri()``), measured against the binary. It is much
more lenient, and odd in places:

* a body that *starts* with ``*`` is a star, whatever follows (``*, <sip:a@b>`` is ``*``);
* the display name is skipped, not parsed: it ends at the first ``<``, or at a ``:``/``;``
  (then there was none, or the URI starts at the last blank before it). Inside quotes, a ``"``
  right after a backslash does not close them, so ``"\\\\" <sip:a@b>`` (an escaped backslash
  last) is an unterminated name. Text before a ``<`` is a name even without quotes
  (``x, <sip:a@b>`` is *one* contact) and an empty element is skipped (``, <sip:a@b>``);
* when the URI starts at a blank (``Bob sip:a@b``), the rest of the header loses its last
  character (an off-by-one of ``skip_name()``: the URI becomes ``sip:a@``);
* between ``<`` and ``>`` anything goes but a second ``<`` and unbalanced quotes; text after the
  ``>`` stays in the URI (``<sip:a@b> x`` is the URI ``<sip:a@b> x``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.nameaddr import NameAddr, parse_name_addr, parse_params
from sipsim.engine.parser.to_from import fast as fast_name_addr


@dataclass(slots=True)
class ContactBody:
    star: bool = False
    contacts: list[NameAddr] = field(default_factory=list)


def parse_contact(body: str, base: int, kamailio: bool = False) -> ContactBody:
    """One Contact header body; ``kamailio``: as Kamailio 5.6 reads it (the kamailio profile)."""
    if kamailio:
        return parse_contact_kamailio(body, base)
    i = lex.skip_ws(body, 0)
    if i < len(body) and body[i] == "*" and lex.skip_ws(body, i + 1) == len(body):
        return ContactBody(star=True)
    if "," not in body:  # one value (what phones send): the To/From fast path reads it the same way
        one = fast_name_addr(body, base)
        if one is not None:
            return ContactBody(contacts=[one])
    return ContactBody(contacts=parse_addr_list(body, base, "Contact", empty_last_value=True))


def parse_addr_list(body: str, base: int, what: str, need_brackets: bool = False,
                    empty_last_value: bool = False, kamailio: bool = False) -> list[NameAddr]:
    out: list[NameAddr] = []
    i = 0
    while True:
        i = j = lex.skip_ws(body, i)
        while kamailio and i < len(body) and body[i] == "\0":
            # Kamailio's parser skips NULs before a value too, but the value (what rr removes
            # with its comma) starts at them (measured)
            i = lex.skip_ws(body, i + 1)
        if i >= len(body):
            raise ParseError(f"empty value in {what}", base + i)
        na, i = parse_name_addr(body, i, base, in_list=True, need_brackets=need_brackets,
                                empty_last_value=empty_last_value, kamailio=kamailio)
        na.start = base + j
        out.append(na)
        i = lex.skip_ws(body, i)
        if i >= len(body):
            return out
        if body[i] != ",":
            raise ParseError(f"unexpected {body[i]!r} in {what}", base + i)
        i += 1


def parse_contact_kamailio(body: str, base: int) -> ContactBody:
    """Kamailio 5.6's ``contact_parser()``: a star, or the contacts in the order written (Kamailio
    itself builds the list by prepending; the registrar reverses it, see registrar.py)."""
    i = lex.skip_ws(body, 0)
    if i >= len(body):
        raise ParseError("empty Contact body", base)
    if body[i] == "*":
        return ContactBody(star=True)
    end = len(body)
    out: list[NameAddr] = []
    while True:
        name_start = i
        i, end = _skip_name(body, i, end, base)
        stop = _skip_uri(body, i, end, base)
        raw = body[i:stop].rstrip(lex.WS)
        at = i
        bracketed = len(raw) >= 2 and raw[0] == "<" and raw[-1] == ">"
        if bracketed:
            raw, at = raw[1:-1], at + 1
        uri = raw.strip(lex.WS)
        at += len(raw) - len(raw.lstrip(lex.WS))
        if not uri:
            raise ParseError("invalid contact URI (empty)", base + i)
        display = body[name_start:i].strip(lex.WS) or None
        na = NameAddr(display, uri, base + at, base + at + len(uri), bracketed, start=base + name_start,
                      kamailio=True)
        out.append(na)
        i = stop
        if i < end and body[i] == ";":
            k = lex.skip_ws(body, i + 1)
            if k >= end:
                raise ParseError("a ';' without a parameter after it", base + k)
            i = parse_params(body[:end], i, base, na, "last")
            i = lex.skip_ws(body, i)
        na.end = base + i
        if i >= end:
            return ContactBody(contacts=out)
        if body[i] != ",":
            raise ParseError(f"unexpected {body[i]!r} after a contact's parameters", base + i)
        i = lex.skip_ws(body, i + 1)
        if i >= end:
            raise ParseError("nothing after the last ',' of the Contact header", base + i)


def _skip_name(s: str, i: int, end: int, base: int) -> tuple[int, int]:
    """``skip_name()``: where the URI starts, and where the text now ends (one character less
    when the URI starts at a blank: Kamailio's off-by-one)."""
    quoted = False
    last_blank = -1
    for p in range(i, end):
        c = s[p]
        if quoted:
            if c == '"' and s[p - 1] != "\\":  # a quote after a backslash never closes (even "\\")
                quoted = False
        elif c in " \t":
            last_blank = p
        elif c == "<":
            return p, end
        elif c in ":;":
            return (last_blank, end - 1) if last_blank >= 0 else (i, end)
        elif c == '"':
            quoted = True
    if quoted:
        raise ParseError("closing quote missing in the name part of a contact", base + i)
    raise ParseError("a contact without a scheme separator (no ':' or '<')", base + i)


# skip_uri()'s states: plain, quoted, in <>, quoted in <>, escape in quotes, escape in quotes in <>
_PLAIN, _Q, _A, _AQ, _QE, _AQE = range(6)
_ON_QUOTE = {_PLAIN: _Q, _Q: _PLAIN, _A: _AQ, _AQ: _A, _QE: _Q, _AQE: _AQ}
_ON_LT = {_PLAIN: _A, _QE: _Q, _AQE: _AQ}
_ON_GT = {_A: _PLAIN, _QE: _Q, _AQE: _AQ}
_ON_BACKSLASH = {_Q: _QE, _AQ: _AQE, _QE: _Q, _AQE: _AQ}


def _skip_uri(s: str, i: int, end: int, base: int) -> int:
    """``skip_uri()``: the offset of the ``,`` or ``;`` that ends the URI (outside quotes and
    brackets), or ``end``."""
    st = _PLAIN
    for p in range(i, end):
        c = s[p]
        if c in ",;":
            if st == _PLAIN:
                return p
        elif c == '"':
            st = _ON_QUOTE[st]
        elif c == "<":
            if st == _A:
                raise ParseError("a second '<' in a contact", base + p)
            st = _ON_LT.get(st, st)
        elif c == ">":
            if st == _PLAIN:
                raise ParseError("a '>' before any '<' in a contact", base + p)
            st = _ON_GT.get(st, st)
        elif c == "\\":
            st = _ON_BACKSLASH.get(st, st)
    if st != _PLAIN:
        raise ParseError("a '<' or '\"' not closed in a contact", base + end)
    return end
