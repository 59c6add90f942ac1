"""SIP URIs (RFC 3261 §19.1, §25.1), as Kamailio's ``parser/parse_uri.c``.

``parse_uri`` checks the grammar strictly — the characters allowed in each part and ``%HH``
escapes — because the sanity checks and the routing engine rely on it, and RFC 4475 sends URIs that
a lax parser would forward (a Request-URI in angle brackets, a raw IPv6 address without brackets).
Escapes are kept as written; ``unescape`` decodes them once (never recursively: RFC 4475 §3.1.1.3).
Schemes other than sip/sips/tel/tels are kept as opaque ``scheme:rest`` (RFC 4475 §3.3.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError

SIP_SCHEMES = ("sip", "sips")
KNOWN_SCHEMES = ("sip", "sips", "tel", "tels", "urn")

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
# user = 1*( unreserved / escaped / user-unreserved ); password similar without ; ? /
_USER_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+")
_PASSWORD_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*")
_PARAMCHARS_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+")
_HNVCHARS_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$]|%[0-9A-Fa-f]{2})*")
_OPAQUE_RE = re.compile(r"[A-Za-z0-9\-_.!~*'();/?:@&=+$,%\[\]#]+")
# The common shape after "sip:", in one expression: [user@]hostname-or-IPv4[:port][;params], with
# no escapes, password, IPv6 reference or ?headers. Every character class is a subset of the full
# grammar's below and no two parts share a delimiter, so whatever matches here is split exactly as
# the general parser would split it; anything else takes the general path.
_PCHAR = r"[A-Za-z0-9\-_.!~*'()\[\]/:&+$]+"
_FAST_SIP_RE = re.compile(rf"(?:([A-Za-z0-9\-_.!~*'()&=+$,]+)@)?({lex.HOSTNAME_RE.pattern})(?::([0-9]{{1,5}}))?"
                          rf"((?:;{_PCHAR}(?:={_PCHAR})?)*)")


@dataclass(slots=True)
class SipUri:
    raw: str
    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: list[tuple[str, str | None]] = field(default_factory=list)
    headers: str | None = None
    opaque: str | None = None  # for non-SIP schemes: everything after "scheme:"
    # Kamailio's reading of ``;user=phone``: what it cut off the user part at its first ';'
    # (``7042;phone-context=x`` has user ``7042`` and phone_params ``phone-context=x``)
    phone_params: str | None = None

    @property
    def is_sip(self) -> bool:
        return self.scheme in SIP_SCHEMES

    def param(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.params:
            if k.lower() == name:
                return v if v is not None else ""
        return None

    def last_param(self, name: str) -> str | None:
        """As :meth:`param`, but the last one: Kamailio's ``parse_uri()`` keeps the last
        ``transport``, ``maddr``, ``user``, ... of a URI that repeats them (measured on 5.6.3)."""
        name = name.lower()
        for k, v in reversed(self.params):
            if k.lower() == name:
                return v if v is not None else ""
        return None

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


def unescape(s: str) -> str:
    """Decode ``%HH`` escapes once (``%2541`` becomes ``%41``, not ``A``)."""
    if "%" not in s:
        return s
    out, i, n = [], 0, len(s)
    while i < n:
        if s[i] == "%" and i + 2 < n + 0 and re.fullmatch(r"[0-9A-Fa-f]{2}", s[i + 1 : i + 3]):
            out.append(chr(int(s[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_uri(s: str, base: int = 0, kamailio: bool = False) -> SipUri:
    """Parse a whole URI (no surrounding brackets, no trailing header parameters).

    ``kamailio``: a sip:/sips: URI is read as Kamailio 5.6's ``parse_uri()`` reads it
    (:func:`parse_sip_uri_kamailio`) instead of by the RFC grammar.
    """
    if kamailio:
        if s[:4].lower() == "sip:" or s[:5].lower() == "sips:":
            return parse_sip_uri_kamailio(s, base)
        if s[:4].lower() not in ("tel:", "urn:"):
            raise ParseError(f"bad URI {s[:40]!r}: Kamailio reads only sip:, sips:, tel: and urn: URIs", base)
        return _tel_urn_kamailio(s, base)
    if s.startswith("sip:"):  # nearly every URI: the scheme needs no expression
        return _parse_sip(s, "sip", 4, base)
    m = _SCHEME_RE.match(s)
    if not m:
        raise ParseError(f"bad URI {s[:40]!r}: no scheme", base)
    scheme = m.group()[:-1].lower()
    rest_at = m.end()
    if scheme not in SIP_SCHEMES:
        rest = s[rest_at:]
        if not rest or not _OPAQUE_RE.fullmatch(rest):
            raise ParseError(f"bad {scheme}: URI {s[:40]!r}", base)
        return SipUri(raw=s, scheme=scheme, opaque=rest)
    return _parse_sip(s, scheme, rest_at, base)


def _parse_sip(s: str, scheme: str, i: int, base: int) -> SipUri:
    m = _FAST_SIP_RE.fullmatch(s, i)
    if m is not None:
        user, host, port, params = m.groups()
        if port is None or int(port) <= 65535:
            plist: list[tuple[str, str | None]] = []
            if params:
                for chunk in params[1:].split(";"):
                    name, eq, value = chunk.partition("=")
                    plist.append((name, value if eq else None))
            return SipUri(s, scheme, user, None, host, int(port) if port is not None else None, plist)
    uri = SipUri(raw=s, scheme=scheme)
    n = len(s)
    at = s.find("@", i)
    if at >= 0:
        userinfo = s[i:at]
        user, colon, password = userinfo.partition(":")
        # a ';' or '?' may belong to the user part (user-unreserved), never the password
        if not _USER_RE.fullmatch(user):
            raise ParseError(f"bad user part {user!r} in URI", base + i)
        if colon and not _PASSWORD_RE.fullmatch(password):
            raise ParseError("bad password in URI", base + i)
        uri.user = user
        uri.password = password if colon else None
        i = at + 1
    if i >= n:
        raise ParseError(f"URI {s[:40]!r} has no host", base + i)
    uri.host, i = lex.host(s, i, base)
    if i < n and s[i] == ":":
        uri.port, i = lex.port(s, i + 1, base)
    while i < n and s[i] == ";":
        m = _PARAMCHARS_RE.match(s, i + 1)
        if not m:
            raise ParseError("empty or bad URI parameter", base + i)
        name, value = m.group(), None
        i = m.end()
        if i < n and s[i] == "=":
            m = _PARAMCHARS_RE.match(s, i + 1)
            if not m:
                raise ParseError(f"bad value of URI parameter {name!r}", base + i)
            value, i = m.group(), m.end()
        uri.params.append((name, value))
    if i < n and s[i] == "?":
        hdrs = s[i + 1 :]
        for part in hdrs.split("&"):
            hname, eq, hvalue = part.partition("=")
            if not hname or not eq or not _HNVCHARS_RE.fullmatch(hname) or not _HNVCHARS_RE.fullmatch(hvalue):
                raise ParseError(f"bad URI header {part!r}", base + i)
        uri.headers = hdrs
        i = n
    if i != n:
        raise ParseError(f"unexpected {s[i]!r} in URI {s[:40]!r}", base + i)
    return uri


def _tel_urn_kamailio(s: str, base: int) -> SipUri:
    """tel:/urn: as Kamailio's parse_uri() splits them with its sip: automaton: a tel: URI's number
    is its *user* (``$rU``, the registrar's AOR), a ``urn:a:b`` has user ``a`` and host ``b``."""
    scheme, rest = s[:3].lower(), s[4:]
    if not rest:
        raise ParseError(f"URI {s[:40]!r} is too short", base)
    uri = SipUri(raw=s, scheme=scheme, opaque=rest)
    head, _, params = rest.partition(";")
    head = head.split("?", 1)[0]
    if scheme == "tel":
        # no number: the automaton takes the next ';' or '?' and what follows it, up to the one after,
        # as the number (``tel:;a=1;b=2`` has $rU ``;a=1``, ``tel:?x=y`` has ``?x=y``: measured)
        uri.user = head or rest[0] + re.split("[;?]", rest[1:], maxsplit=1)[0]
    else:
        if "@" not in head and ":" in head:
            # the automaton reads "a:b" as host:port once something follows it (';', '?') and as
            # user:password at the end: "urn:service:sos" parses, "urn:service:sos;x" does not
            # (a port "sos"), "urn:a:1;x" and "urn:a:;x" do; digits are a port even at the end
            # ("urn:a:65536" fails); a second ':' is always an error (measured on 5.6.3)
            parts = head.split(":")
            port = parts[1] if len(parts) == 2 else ""
            digits = port.isascii() and port.isdigit()
            if len(parts) > 2 or (int(port) > 65535 if digits else port and len(head) < len(rest)):
                raise ParseError(f"bad URI {s[:40]!r}: {parts[-1]!r} is no port of {parts[0]!r}", base + 4)
        user, colon, host = head.partition(":")
        uri.user, uri.host = (user, host) if colon else (None, head)
    uri.params = [(n, v if eq else None) for n, eq, v in (c.partition("=") for c in params.split(";") if c)]
    return uri


# -- Kamailio 5.6's reading of a sip:/sips: URI (parse_uri.c) -------------------------------------
_KAM_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*")
# (a NUL too: the resolver then reads the host up to it, ``sip:biloxi.com\0x`` goes to biloxi.com --
# measured; after ``user@`` a NUL is an error like any other character of no host name)
_KAM_BARE_HOST = re.compile(r"[^\[\]:;?]+")
# parse_uri() fails when a URI ends inside the name of its maddr parameter ("...;ma", ";maddr",
# ";maddr=": the state machine has no end for these states)
_KAM_MADDR_END = re.compile(r";ma(?:d(?:d(?:r=?)?)?)?$", re.I)
# The common head after the scheme, in one expression: [user@]hostname[:port], followed by ';', '?'
# or the end. The user holds no '@' (so its '@' is the first one), '[', ']' or ':' (no password).
_KAM_FAST_HEAD = re.compile(r"(?:([^@\[\]:]+)@)?([A-Za-z0-9][A-Za-z0-9.\-]*)(?::([0-9]{1,5}))?(?![^;?])")


def parse_sip_uri_kamailio(s: str, base: int = 0) -> SipUri:
    """A sip:/sips: URI as Kamailio 5.6's lenient ``parse_uri()`` splits it (measured against the binary).

    The user part is everything before the first ``@`` (any character but ``[`` ``]``; escapes are
    not checked), a password follows its first ``:``; the host is a name of letters, digits,
    ``.`` and ``-`` starting with a letter or digit (``a..b`` passes, ``b_c`` does not) or an
    ``[...]`` reference whose inside is not checked; the port is up to five digits and may be
    empty (``host:``); parameters and headers may hold any character but ``@`` and may be empty
    (``;;x``, ``;x=``, ``?``). A URI that ends inside ``;maddr`` is refused.

    A URI without ``@`` starts in the state where Kamailio cannot yet tell a user from a host: its
    host is then everything up to ``:``, ``;``, ``?`` or the end, any character but ``[``/``]``
    (``sip:b_c``, and ``sip:127.0.0.1 ;lr`` of a Route, whose host ``127.0.0.1 `` is not myself and
    does not resolve). With ``;user=phone`` (the value exactly ``phone``, as ``phone2tel`` wants)
    the user is cut at its first ``;`` (``sip:7042;phone-context=x@h;user=phone`` has user
    ``7042``; the rest goes to :attr:`SipUri.phone_params`).

    Fast path: ``_KAM_FAST_HEAD`` reads the usual ``[user@]host[:port]`` (no password, no IPv6
    reference, a non-empty port of at most five digits) in one regular expression; every other
    shape (and every error) goes to :func:`_kamailio_head_walk`, which checks the user, password,
    host and port step by step as ``parse_uri()`` does. Both hand the parameters and headers that
    follow to the same :func:`_kamailio_uri_tail`.
    """
    scheme = "sips" if s[:5].lower() == "sips:" else "sip"
    i = len(scheme) + 1
    n = len(s)
    if n < 5 or i >= n:
        raise ParseError(f"URI {s[:40]!r} is too short", base)
    m = _KAM_FAST_HEAD.match(s, i)
    if m is not None:
        user, host, port = m.groups()
        if (user is not None or "@" not in s) and (port is None or int(port) <= 65535):
            uri = SipUri(s, scheme, user, None, host, None if port is None else int(port))
            return _kamailio_uri_tail(s, m.end(), base, uri)
    return _kamailio_head_walk(s, scheme, i, base)


def _kamailio_head_walk(s: str, scheme: str, i: int, base: int) -> SipUri:
    """The user, password, host and port from ``i`` (just past the scheme), then the tail."""
    n = len(s)
    uri = SipUri(raw=s, scheme=scheme)
    at = s.find("@", i)
    if at >= 0:
        userinfo = s[i:at]
        if not userinfo or "[" in userinfo or "]" in userinfo:
            raise ParseError(f"bad user part {userinfo!r} in URI", base + i)
        user, colon, password = userinfo.partition(":")
        if colon and any(c in password for c in "[]:;?"):
            raise ParseError("bad password in URI", base + i + len(user) + 1)
        uri.user = user
        uri.password = password if colon else None
        i = at + 1
    if i >= n:
        raise ParseError(f"URI {s[:40]!r} has no host", base + i)
    if s[i] == "[":
        end = s.find("]", i)
        if end < 0 or any(c in s[i + 1:end] for c in "[&@;?"):
            raise ParseError("unterminated or bad IPv6 reference in URI", base + i)
        uri.host, i = s[i:end + 1], end + 1
    elif at < 0:
        # no '@': the user-or-host state, which takes any character up to ':', ';' or '?'
        m = _KAM_BARE_HOST.match(s, i)
        if not m:
            raise ParseError(f"bad host in URI {s[:40]!r}", base + i)
        uri.host, i = m.group(), m.end()
    else:
        m = _KAM_HOSTNAME.match(s, i)
        if not m:
            raise ParseError(f"bad host in URI {s[:40]!r}", base + i)
        uri.host, i = m.group(), m.end()
    if i < n and s[i] == ":":
        j = i + 1
        while j < n and s[j].isdigit() and s[j].isascii():
            j += 1
        digits = s[i + 1:j]
        if len(digits) > 5 or (digits and int(digits) > 65535):
            raise ParseError(f"bad port {digits!r} in URI", base + i + 1)
        uri.port = int(digits) if digits else None
        i = j
    if i < n and s[i] not in ";?":
        raise ParseError(f"unexpected {s[i]!r} after the host in URI {s[:40]!r}", base + i)
    return _kamailio_uri_tail(s, i, base, uri)


def _kamailio_uri_tail(s: str, i: int, base: int, uri: SipUri) -> SipUri:
    """The ``;parameters`` and ``?headers`` from ``i`` (at ';', '?' or the end) into ``uri``."""
    n = len(s)
    if i >= n:
        return uri  # nothing after the host[:port]
    q = s.find("?", i)
    params = s[i:q] if q >= 0 else s[i:]
    if "@" in params or (q >= 0 and "@" in s[q:]):
        raise ParseError(f"unexpected '@' in URI {s[:40]!r}", base + i)
    if q >= 0 and ";" in s[q + 1:]:
        # parse_uri() is in its headers state after '?': a ';' there is an error (no parameters
        # after the headers), with or without user@ (measured: 400 Bad Request URI, loose_route -1)
        raise ParseError(f"';' in the headers of URI {s[:40]!r}", base + s.index(";", q))
    if q < 0 and _KAM_MADDR_END.search(params):
        raise ParseError("the URI ends inside its maddr parameter", base + n)
    for chunk in params.split(";")[1:]:
        if chunk:
            name, eq, value = chunk.partition("=")
            uri.params.append((name, value if eq else None))
    if q >= 0:
        uri.headers = s[q + 1:]
    if uri.user is not None and ";" in uri.user and kamailio_user_phone(uri.params):
        uri.user, _, uri.phone_params = uri.user.partition(";")
    return uri


def kamailio_user_phone(params: list[tuple[str, str | None]]) -> bool:
    """The last ``user`` parameter (any case) has the value ``phone`` exactly."""
    for name, value in reversed(params):
        if name.lower() == "user":
            return value == "phone"
    return False
