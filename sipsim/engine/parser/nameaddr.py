"""``name-addr / addr-spec`` followed by header parameters — shared by To, From, Contact, Route.

RFC 3261 §20.10: a display name is a quoted-string or a run of tokens; an URI that is not in angle
brackets ends at the first ``;`` (what follows are *header* parameters, RFC 4475 §3.3.12) and may
not contain ``,``, ``?`` or ``;`` itself (RFC 4475 §3.1.2.13). The URI is only delimited here;
``parse_uri`` checks it when someone needs it (the sanity checks, the routing engine, the registrar).

Where Kamailio 5.6 (and SER before it) reads differently, measured against the binary:

* In a list (Route, Record-Route, Contact) the URI is everything between ``<`` and the next ``>``
  outside quotes, white space included (``parse_nameaddr()``: ``<sip:h; lr>`` is a loose route).
  To and From keep the stricter rule: Kamailio's ``parse_to()`` refuses ``<sip:b @x>`` too.
* Of a repeated header parameter the *last* counts (``;tag;tag=t9`` has To-tag ``t9``,
  ``;tag=t9;tag`` none; a Contact's ``;q=0.5;q=1`` is 1): the parsers overwrite as they go.
* Kamailio's ``parse_to()`` (the kamailio profile's To/From, ``lenient_display``) takes a
  parameter with an empty value anywhere (``;tag=``, ``;x=;tag=5``, ``;tag = ;x=1``); an empty tag
  is no tag (``$tt`` is ``<null>``, ``has_totag()`` false, sl adds its own after it).
* A :class:`NameAddr` read by the kamailio profile (``kamailio=True``) parses its URI with
  Kamailio's lenient ``parse_uri()`` (``<tel:+1201>`` has user ``+1201``, ``<urn:service:sos>``
  user ``service``, ``<sip:c@h?>`` parses); :meth:`NameAddr.uri_as` asks for either reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.uri import SipUri, parse_uri


@dataclass(slots=True)
class NameAddr:
    display: str | None
    uri: str
    uri_start: int  # offsets in buf
    uri_end: int
    bracketed: bool
    params: list[tuple[str, str | None]] = field(default_factory=list)
    start: int = 0
    end: int = 0
    kamailio: bool = False  # read by the kamailio profile: parsed_uri is Kamailio's parse_uri()
    _parsed_uri: SipUri | None = None
    _parsed_uri_kamailio: SipUri | None = None

    def param(self, name: str) -> str | None:
        """The value of the *last* parameter called ``name`` (any case): "" when it has none
        (``;lr``, ``;tag=``), None when absent. Kamailio's parsers overwrite a repeated parameter."""
        name = name.lower()
        for k, v in reversed(self.params):
            if k.lower() == name:
                return v if v is not None else ""
        return None

    @property
    def parsed_uri(self) -> SipUri:
        """The URI parsed on demand (raises ParseError), cached as Kamailio caches parsed URIs; by
        the reading of the profile that parsed the header (:attr:`kamailio`)."""
        return self.uri_as(self.kamailio)

    def uri_as(self, kamailio: bool) -> SipUri:
        """The URI as the RFC grammar (``kamailio=False``) or Kamailio 5.6's ``parse_uri()`` reads
        it, each cached (raises ParseError)."""
        if kamailio:
            if self._parsed_uri_kamailio is None:
                self._parsed_uri_kamailio = parse_uri(self.uri, self.uri_start, kamailio=True)
            return self._parsed_uri_kamailio
        if self._parsed_uri is None:
            self._parsed_uri = parse_uri(self.uri, self.uri_start)
        return self._parsed_uri


def parse_name_addr(s: str, i: int, base: int, *, in_list: bool, need_brackets: bool = False,
                    lenient_display: bool = False, empty_last_value: bool = False,
                    kamailio: bool = False) -> tuple[NameAddr, int]:
    """Parse one value at ``i``. With ``in_list`` a ``,`` ends the value (Contact, Route).

    ``lenient_display`` is the kamailio profile's To/From (Kamailio's ``parse_to()``): an unquoted
    display name may hold any character but ``"``, and a parameter may have an empty value
    anywhere. ``empty_last_value`` is Kamailio's ``parse_params()`` leniency (Contact): a
    parameter whose ``=`` is followed by nothing but white space up to the end of the header body
    is kept with an empty value (``;q=``); an empty value anywhere else (``;q=;expires=60``,
    ``;q=, <sip:b>``) is still an error, as in Kamailio 5.6. ``kamailio`` marks the result as read
    by the kamailio profile (its URI is then parsed by Kamailio's rules).
    """
    start = i
    display: str | None = None
    if need_brackets and kamailio:
        # Kamailio's parse_nameaddr() (Route, Record-Route): whatever stands before the first '<'
        # outside quotes is the display name -- a ',' too (``Route: ,<sip:h>`` is one route: measured)
        lt = _closing_bracket(s, i, "<")
        if lt < 0:
            raise ParseError("expected '<' (this header needs name-addr form)", base + i)
        display = " ".join(s[i:lt].split()) or None
        i = lt
    elif i < len(s) and s[i] == '"':
        display, i = lex.quoted_string(s, i, base)
        i = lex.skip_ws(s, i)
        if i >= len(s) or s[i] != "<":
            raise ParseError("a quoted display name must be followed by '<'", base + i)
    elif s.find("<", i) >= 0 and (lenient_display or _has_bracket_first(s, i, in_list)):
        lt = s.find("<", i)
        words = s[i:lt]
        for ch in words:
            if lenient_display and ch != '"':
                continue
            if ch not in lex.TOKEN_CHARS and ch not in lex.WS:
                raise ParseError(f"invalid character {ch!r} in an unquoted display name", base + i)
        display = " ".join(words.split()) or None
        i = lt
    elif need_brackets:
        raise ParseError("expected '<' (this header needs name-addr form)", base + i)
    if i < len(s) and s[i] == "<":
        gt = _closing_bracket(s, i + 1) if in_list else s.find(">", i)
        if gt < 0:
            raise ParseError("'<' without a closing '>'", base + i)
        uri = s[i + 1 : gt]
        if not uri.strip(lex.WS):
            raise ParseError("empty URI inside '<' '>'", base + i)
        if not in_list and any(c in lex.WS for c in uri):
            raise ParseError("white space inside '<' '>' of a To/From URI", base + i)
        if lenient_display and '"' in uri:  # Kamailio's parse_addr_spec() (To/From): measured on 5.6.3
            raise ParseError("a '\"' inside '<' '>' of a To/From URI", base + i + 1 + uri.index('"'))
        na = NameAddr(display, uri, base + i + 1, base + gt, True, start=base + start, kamailio=kamailio)
        i = gt + 1
    else:
        j = i
        stop = ";,\r\n \t" if in_list else ";\r\n \t"
        while j < len(s) and s[j] not in stop:
            j += 1
        uri = s[i:j]
        if not uri:
            raise ParseError("missing URI", base + i)
        if "?" in uri or (not in_list and "," in uri):
            raise ParseError("an URI with '?' or ',' must be enclosed in '<' '>'", base + i)
        na = NameAddr(None, uri, base + i, base + j, False, start=base + start, kamailio=kamailio)
        i = j
    i = parse_params(s, i, base, na, "any" if lenient_display else "last" if empty_last_value else "none")
    na.end = base + i
    return na, i


def _closing_bracket(s: str, i: int, ch: str = ">") -> int:
    r"""The ``>`` that ends a bracketed URI starting at ``i`` (or the first ``ch``): the first one
    outside a quoted part (``find_not_quoted()`` of Kamailio's ``parse_nameaddr()``), or -1. Inside
    quotes a ``"`` right after a backslash does not close them (``;ftag="a\"">`` ends at that
    ``>``: measured)."""
    quoted = False
    for k in range(i, len(s)):
        c = s[k]
        if quoted:
            if c == '"' and s[k - 1] != "\\":
                quoted = False
        elif c == '"':
            quoted = True
        elif c == ch:
            return k
    return -1


def _has_bracket_first(s: str, i: int, in_list: bool) -> bool:
    """Is the next '<' part of this value (before any ';', and before ',' in a list)?"""
    lt = s.find("<", i)
    semi = s.find(";", i)
    if semi >= 0 and semi < lt:
        return False
    if in_list:
        comma = s.find(",", i)
        if comma >= 0 and comma < lt:
            return False
    return True


def parse_params(s: str, i: int, base: int, na: NameAddr, empty: str = "none") -> int:
    """Read ``*( SEMI param )`` into ``na.params``; return the offset just past the last one.

    ``empty``: where a parameter may have an empty value (``;x=``): ``"none"`` (the RFC),
    ``"last"`` (only at the end of the header body: Kamailio's ``parse_params()``) or ``"any"``
    (before a ``;`` too: Kamailio's ``parse_to_param()``).
    """
    while True:
        j = lex.skip_ws(s, i)
        if j >= len(s) or s[j] != ";":
            return i
        j = lex.skip_ws(s, j + 1)
        name, j = lex.token(s, j, "a header parameter name", base)
        value: str | None = None
        k = lex.skip_ws(s, j)
        if k < len(s) and s[k] == "=":
            k = lex.skip_ws(s, k + 1)
            if (k == len(s) and empty != "none") or (empty == "any" and k < len(s) and s[k] == ";"):
                value, j = "", k
            elif k < len(s) and s[k] in "\"'" and empty == "last":
                # Kamailio's parse_params() (parse_quoted_param): a value in double or single quotes
                # ends at the next such quote; a backslash escapes nothing there, so ``"a\"b"``
                # leaves ``b"`` to fail after it
                close = s.find(s[k], k + 1)
                if close < 0:
                    raise ParseError(f"unterminated quoted parameter value (no closing {s[k]})", base + k)
                value, j = s[k:close + 1], close + 1
            elif k < len(s) and s[k] == '"' and empty == "any":
                # Kamailio's parse_to_param() (To/From): the value is what the quotes hold, without
                # them (;tag="q" is the tag q, ;tag="" none), and a backslash in it is an error
                close = s.find('"', k + 1)
                bs = s.find("\\", k + 1, close if close >= 0 else len(s))
                if bs >= 0:
                    raise ParseError("a backslash inside a quoted parameter value", base + bs)
                if close < 0:
                    raise ParseError("unterminated quoted parameter value (no closing \")", base + k)
                value, j = s[k + 1:close], close + 1
            elif k < len(s) and s[k] == '"':
                value, j = lex.quoted_string(s, k, base)
                value = f'"{value}"'
            else:
                m = lex.PVALUE_RE.match(s, k)
                if not m:
                    raise ParseError(f"parameter {name!r} has no value after '='", base + k)
                value, j = m.group(), m.end()
        na.params.append((name, value))
        i = j
