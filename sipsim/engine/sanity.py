"""Request checks: Kamailio's ``sanity_check`` module, and the RFC answers of a careful proxy.

``sanity_check(checks, uri_checks)`` runs the module's checks (``src/modules/sanity/``) in its
order, for the bits asked (default 3047 = 1+2+4+32+64+128+256+512+2048, URI checks 7). On the first
failure it answers the request statelessly (never a reply or an ACK; some failures stay silent) and
returns 0 — which ends the script (``autodrop``); from KEMI it returns -1 instead.

``rfc_checks`` is sipsim's ``ser``-profile default route check: what RFC 3261 and RFC 4475 ask a
proxy to answer — 505 for another version, 416 for an unknown R-URI scheme, 400 for anything it
cannot parse, a missing Call-ID/From/To/CSeq, duplicate single headers, a Content-Length beyond
the datagram, an R-URI with headers, a bad CSeq, and 420 (with Unsupported) for Proxy-Require —
and, for a REGISTER or an OPTIONS the server answers itself (it is the UAS there), for Require.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sipsim.engine.config import ServerConfig
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.forward import ruri_is_myself
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_CSEQ, F_EOH, F_EXPIRES, F_FROM, F_TO, HdrType
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers
from sipsim.engine.parser.uri import KNOWN_SCHEMES
from sipsim.engine.sl import sl_send_reply

SANITY_RURI_SIP_VERSION = 1
SANITY_RURI_SCHEME = 2
SANITY_REQUIRED_HEADERS = 4
SANITY_VIA_SIP_VERSION = 8
SANITY_VIA_PROTOCOL = 16
SANITY_CSEQ_METHOD = 32
SANITY_CSEQ_VALUE = 64
SANITY_CL = 128
SANITY_EXPIRES_VALUE = 256
SANITY_PROXY_REQUIRE = 512
SANITY_PARSE_URIS = 1024
SANITY_CHECK_DIGEST = 2048
SANITY_CHECK_DUPTAGS = 4096
SANITY_CHECK_AUTHORIZATION = 8192
SANITY_VIA1_HEADER = 16384
SANITY_RFC3261 = 32768
SANITY_SIZE = 65536

DEFAULT_CHECKS = 3047
DEFAULT_URI_CHECKS = 7  # 1 R-URI, 2 From, 4 To, 8 Contact

SUPPORTED_EXTENSIONS: tuple[str, ...] = ()  # sanity's proxy_require parameter: none by default


@dataclass(frozen=True)
class Failure:
    code: int | None  # None: fail without a reply
    reason: str
    detail: str
    headers: tuple[str, ...] = ()


Check = Callable[[SipMsg], "Failure | None"]


def missing_quadruple(msg: SipMsg) -> list[str]:
    """Which of Call-ID, From, To, CSeq (the transaction quadruple) the message lacks."""
    if msg.callid is not None and msg.from_ is not None and msg.to is not None and msg.cseq is not None:
        return []  # all four there (nearly every message): nothing to name
    pairs = (("Call-ID", msg.callid), ("From", msg.from_), ("To", msg.to), ("CSeq", msg.cseq))
    return [name for name, hdr in pairs if hdr is None]


def _ruri_version(msg: SipMsg) -> Failure | None:
    fl = msg.first_line
    if fl is not None and not fl.is_sip:
        return Failure(505, "Version Not Supported", f"request line says {fl.version}")
    return None


def _ruri_scheme(msg: SipMsg) -> Failure | None:
    """Kamailio's URI parser knows sip, sips, tel, tels and urn: any other scheme is a parse failure
    (400 Bad Request URI, measured on 5.6 with RFC 4475 §3.3.2); a parsed scheme that is not
    sip/sips/tel/tels (urn) gets 416."""
    try:
        uri = msg.parsed_ruri()
    except ParseError as exc:
        return Failure(400, "Bad Request URI", exc.reason)
    if uri.scheme not in KNOWN_SCHEMES:
        return Failure(400, "Bad Request URI", f"the URI parser does not know the scheme {uri.scheme}:")
    if uri.scheme not in ("sip", "sips", "tel", "tels"):
        return Failure(416, "Unsupported URI Scheme in Request URI", f"scheme {uri.scheme}:")
    return None


def _required_headers(msg: SipMsg) -> Failure | None:
    if parse_headers(msg, F_EOH) < 0:
        reason = msg.hdr_error.reason if msg.hdr_error else "parse error"
        return Failure(400, "Bad Headers", f"failed to parse headers: {reason}")
    missing = missing_quadruple(msg)
    if missing:
        return Failure(None, "", "missing " + ", ".join(missing))
    return None


def _via1(msg: SipMsg) -> Failure | None:
    v = msg.via1
    if v is None or not v.host or not v.branch:
        return Failure(None, "", "top Via has no host or no branch")
    return None


def _rfc3261(msg: SipMsg) -> Failure | None:
    v = msg.via1
    if v is not None and v.branch is not None and not v.branch.startswith("z9hG4bK"):
        return Failure(None, "", "branch does not start with z9hG4bK")
    if parse_headers(msg, F_EOH) < 0:
        return None
    for h in msg.headers:
        if h.type in (HdrType.HDR_ROUTE_T, HdrType.HDR_RECORDROUTE_T):
            try:
                values = parse_hdr_body(h, kamailio=msg.mode.uri_kamailio)
            except ParseError:
                return Failure(None, "", f"bad {h.canonical_name}")
            for na in values:  # type: ignore[union-attr]
                if na.parsed_uri.param("lr") is None:
                    return Failure(None, "", f"{h.canonical_name} without ;lr")
    return None


def _cseq_method(msg: SipMsg) -> Failure | None:
    parse_headers(msg, F_CSEQ)
    if msg.cseq is None or msg.cseq.parsed is None:
        return Failure(400, "Missing CSeq Header", "no CSeq")
    if msg.first_line is not None and msg.cseq.parsed.method != msg.first_line.method:
        return Failure(400, "CSeq method does not match request method",
                       f"CSeq says {msg.cseq.parsed.method}, the request is {msg.first_line.method}")
    return None


def _cseq_value(msg: SipMsg) -> Failure | None:
    parse_headers(msg, F_CSEQ)
    if msg.cseq is None or msg.cseq.parsed is None:
        return Failure(400, "Missing CSeq Header", "no CSeq")
    cseq = msg.cseq.parsed
    if not str2valid_uint(cseq.number):
        return Failure(400, "CSeq number is illegal", f"CSeq number {msg.cseq.parsed.number}")
    return None


def _content_length(msg: SipMsg) -> Failure | None:
    """Content-Length must equal the bytes after the empty line (UDP: the rest of the datagram)."""
    if parse_headers(msg, F_EOH) < 0 or msg.eoh is None:
        return None
    cl = msg.content_length
    if cl is None:
        return None
    if msg.extra.get("no_body"):
        return Failure(400, "Content-Length Body Failure", "no empty line: the message has no body part")
    if isinstance(cl.parsed, int) and cl.parsed != msg.len - msg.eoh:
        return Failure(400, "Content-Length mis-match", f"Content-Length {cl.parsed}, body {msg.len - msg.eoh} bytes")
    return None


def str2valid_uint(num: str) -> bool:
    """sanity's ``str2valid_uint()``: digits only, at most ten of them, and a ten-digit number
    compared digit by digit with "4294967296" -- one more than the largest 32-bit number, so
    4294967296 itself passes (Kamailio 5.6, measured)."""
    return num.isdigit() and num.isascii() and (len(num) < 10 or (len(num) == 10 and num <= "4294967296"))


def _expires(msg: SipMsg) -> Failure | None:
    """The first Expires header only (``msg->expires``): ``parse_expires()`` takes its first word
    (``12 34`` is 12, an empty value does not parse), which must be a valid 32-bit number."""
    if parse_headers(msg, F_EXPIRES) < 0 or msg.expires is None:
        return None
    h = msg.expires
    words = h.body.split()
    if not words:
        return Failure(400, "Bad Expires Header", "empty Expires header")
    if not str2valid_uint(words[0]):
        return Failure(400, "Expires value is illegal", f"Expires: {h.body[:20]}")
    return None


def _proxy_require(msg: SipMsg) -> Failure | None:
    """sanity's Proxy-Require check, as 5.6.3 does it (measured): the first Proxy-Require header
    only, read by ``parse_str_list()`` -- trimmed, an empty one does not parse (400), else split at
    every comma, each item trimmed (an empty item is an item: ``Proxy-Require: ,`` is 420 with
    an empty ``Unsupported:``); the first item not in the module's list is answered, alone."""
    if parse_headers(msg, F_EOH) < 0 or msg.proxy_require is None:
        return None  # (msg.proxy_require is the first one: none at all, nothing to check -- most requests)
    items = msg.proxy_require.body.strip(" \t\r\n")
    if not items:
        return Failure(400, "Bad Proxy Require Header", "empty Proxy-Require header")
    for tag in items.split(","):
        tag = tag.strip(" \t\r\n")
        if tag not in SUPPORTED_EXTENSIONS:
            return Failure(420, "Bad Proxy Require Extension", f"Proxy-Require: {tag}",
                           headers=("Unsupported: " + tag,))
    return None


def _parse_uris(uri_checks: int) -> Check:
    def check(msg: SipMsg) -> Failure | None:
        if uri_checks & 1:
            try:
                msg.parsed_ruri()
            except ParseError as exc:
                return Failure(400, "Bad Request URI", exc.reason)
        parse_headers(msg, F_FROM | F_TO)
        for bit, hdr, what in ((2, msg.from_, "From"), (4, msg.to, "To")):
            if uri_checks & bit:
                if hdr is None:
                    return Failure(400, f"Missing {what} Header", f"no {what}")
                if hdr.parsed is None:  # there, but it does not parse (From: a blank value, say)
                    return _invalid(msg, what, f"the {what} header does not parse")
                try:
                    uri = hdr.parsed.parsed_uri
                except ParseError as exc:
                    return _invalid(msg, what, exc.reason)
                if uri.scheme not in KNOWN_SCHEMES:  # Kamailio's parse_uri cannot read it
                    return _invalid(msg, what, f"{what} URI scheme {uri.scheme}: is not parsed")
        if uri_checks & 8:
            if msg.mode.uri_kamailio:
                return _first_contact_kamailio(msg)
            fl = msg.first_line
            if fl is not None and (fl.method_is("INVITE") or fl.method_is("REGISTER")):
                bad = _contact_problem(msg)
                if bad:
                    return Failure(400, "Bad Contact Header", bad)
        return None

    return check


def _invalid(msg: SipMsg, what: str, why: str) -> Failure:
    """400 for a From/To that is there but cannot be read; Kamailio 5.6.3 answers a bad To with its
    typo, "Ivalid To Header" (measured)."""
    reason = "Ivalid To Header" if what == "To" and msg.mode.uri_kamailio else f"Invalid {what} Header"
    return Failure(400, reason, why)


def _first_contact_kamailio(msg: SipMsg) -> Failure | None:
    """Kamailio 5.6's Contact URI check (uri flag 8), whatever the method (OPTIONS, MESSAGE too).

    Every Contact header goes through its contact parser: a body it refuses (empty, unterminated
    quote or ``<``), in any header, is ``400 Bad Contact Header``. Then one URI only is parsed by
    ``parse_uri()``: the head of the first header's contact list, which Kamailio builds by
    prepending -- the *last* contact written in the first Contact header. One it cannot read
    (``<http://x>``, ``<sip:u@b_c>``; ``<sip:c@h?>`` passes) is ``400 Bad Contact URI``;
    ``<http://x>, <sip:ok@h>`` and a bad URI in a second Contact header pass (measured)."""
    if parse_headers(msg, F_EOH) < 0:
        return Failure(400, "Bad Contact Header", msg.hdr_error.reason if msg.hdr_error else "parse error")
    try:
        bodies = [parse_hdr_body(h, kamailio=True) for h in msg.headers_named("Contact")]
    except ParseError as exc:
        return Failure(400, "Bad Contact Header", exc.reason)
    contacts = bodies[0].contacts if bodies else []  # type: ignore[attr-defined]
    if contacts:
        try:
            _ = contacts[-1].uri_as(True)
        except ParseError as exc:
            return Failure(400, "Bad Contact URI", exc.reason)
    return None


def _contact_problem(msg: SipMsg) -> str | None:
    """Every Contact header and every URI in it, as the message's profile reads them."""
    if parse_headers(msg, F_EOH) < 0:
        return msg.hdr_error.reason if msg.hdr_error else "parse error"
    for h in msg.headers:  # every Contact header, in order
        if h.type is not _CONTACT_T:
            continue
        try:
            body = parse_hdr_body(h, kamailio=msg.mode.uri_kamailio)
            for na in body.contacts:  # type: ignore[union-attr]
                _ = na.parsed_uri  # parse on demand
        except ParseError as exc:
            return exc.reason
    return None


def _digest(msg: SipMsg) -> Failure | None:
    if parse_headers(msg, F_EOH) < 0:
        return None
    # every Authorization, then every Proxy-Authorization (one walk each over the parsed headers)
    headers = msg.headers
    credentials = [h for h in headers if h.type is _AUTH_T] + [h for h in headers if h.type is _PROXYAUTH_T]
    for h in credentials:
        v = h.value
        if v[:6].lower() == "digest":
            low = v.lower()
            for field in ("username", "nonce", "response"):
                if field + "=" not in low.replace(" ", ""):
                    return Failure(400, "Bad Auth Credentials", f"digest credentials without {field}")
    return None


def _dup_tags(msg: SipMsg) -> Failure | None:
    parse_headers(msg, F_FROM | F_TO)
    for hdr, what in ((msg.from_, "From"), (msg.to, "To")):
        if hdr is not None and hdr.parsed is not None:
            if sum(1 for k, _ in hdr.parsed.params if k.lower() == "tag") > 1:
                return Failure(400, f"Many {what} Tag Params", f"{what} has more than one tag")
    return None


def _pass(msg: SipMsg) -> Failure | None:
    return None


_AUTH_T = HdrType.HDR_AUTHORIZATION_T
_CONTACT_T = HdrType.HDR_CONTACT_T
_PROXYAUTH_T = HdrType.HDR_PROXYAUTH_T
_CHECKS_BY_MASKS: dict[tuple[int, int], list[tuple[int, str, Check]]] = {}


def _ordered_checks(checks: int, uri_checks: int) -> list[tuple[int, str, Check]]:
    """The checks asked by ``checks``, in the module's order (made once per pair of masks:
    sanity_check runs for every request)."""
    key = (checks, uri_checks)
    asked = _CHECKS_BY_MASKS.get(key)
    if asked is None:
        asked = [entry for entry in _make_checks(uri_checks) if checks & entry[0]]
        if len(_CHECKS_BY_MASKS) < 64:  # masks computed by the script could take many values
            _CHECKS_BY_MASKS[key] = asked
    return asked


def _make_checks(uri_checks: int) -> list[tuple[int, str, Check]]:
    return [
        (SANITY_RURI_SIP_VERSION, "R-URI SIP version", _ruri_version),
        (SANITY_RURI_SCHEME, "R-URI scheme", _ruri_scheme),
        (SANITY_REQUIRED_HEADERS, "required headers", _required_headers),
        (SANITY_VIA1_HEADER, "first Via", _via1),
        (SANITY_RFC3261, "RFC 3261 branch and ;lr", _rfc3261),
        (SANITY_VIA_SIP_VERSION, "Via SIP version", _pass),
        (SANITY_VIA_PROTOCOL, "Via protocol", _pass),
        (SANITY_CSEQ_METHOD, "CSeq method", _cseq_method),
        (SANITY_CSEQ_VALUE, "CSeq number", _cseq_value),
        (SANITY_CL, "Content-Length", _content_length),
        (SANITY_EXPIRES_VALUE, "Expires", _expires),
        (SANITY_PROXY_REQUIRE, "Proxy-Require", _proxy_require),
        (SANITY_PARSE_URIS, "URIs", _parse_uris(uri_checks)),
        (SANITY_CHECK_DIGEST, "digest credentials", _digest),
        (SANITY_CHECK_AUTHORIZATION, "Authorization", _pass),
        (SANITY_CHECK_DUPTAGS, "duplicate tags", _dup_tags),
    ]


def sanity_check(ctx: WorkerContext, msg: SipMsg, checks: int = DEFAULT_CHECKS,
                 uri_checks: int = DEFAULT_URI_CHECKS, *, kemi: bool = False) -> Steps:
    """Kamailio's ``sanity_check()``: 1 when all asked checks pass; else 0 (cfg) or -1 (KEMI)."""
    fail = -1 if kemi else 0
    if not msg.is_request:
        if ctx.tracing:
            yield ctx.event("sanity_check", msg, "a reply: the request checks do not apply")
        return 1
    for bit, name, check in _ordered_checks(checks, uri_checks):
        failure = check(msg)
        if failure is None:
            continue
        if ctx.tracing:
            yield ctx.event("sanity_check", msg, f"check {bit} ({name}) failed: {failure.detail}",
                            unparsed=msg.unparsed, reason=failure.detail, detail={"check": bit, "mask": checks})
        msg.extra["cause"] = failure.detail
        if failure.code is not None and msg.first_line is not None and msg.first_line.method != "ACK":
            yield from sl_send_reply(ctx, msg, failure.code, failure.reason, failure.headers, why=f"sanity_check {bit}")
        return fail
    if ctx.tracing:
        yield ctx.event("sanity_check", msg, f"checks {checks} passed", unparsed=msg.unparsed, detail={"mask": checks})
    return 1


# -- the ser profile's RFC checks -------------------------------------------------------------
def _rfc_parse_all(msg: SipMsg) -> Failure | None:
    if parse_headers(msg, F_EOH) < 0:
        reason = msg.hdr_error.reason if msg.hdr_error else "parse error"
        return Failure(400, "Bad Request", reason)
    return None


def _rfc_required(msg: SipMsg) -> Failure | None:
    missing = missing_quadruple(msg)
    if missing:
        return Failure(400, "Bad Request", "missing " + ", ".join(missing))
    return None


def _rfc_framing(msg: SipMsg) -> Failure | None:
    cl = msg.content_length
    if msg.eoh is not None and cl is not None and isinstance(cl.parsed, int) and msg.eoh + cl.parsed > msg.len:
        got = msg.len - msg.eoh
        return Failure(400, "Bad Request", f"Content-Length {cl.parsed} is beyond the {got} body bytes received")
    return None


def _rfc_cseq(msg: SipMsg) -> Failure | None:
    cseq = msg.cseq.parsed if msg.cseq is not None else None
    if cseq is None:
        return None
    if not cseq.is_number or len(cseq.number) > 10 or cseq.value > 2**32 - 1:
        return Failure(400, "Bad Request", f"CSeq number {cseq.number} does not fit in 32 bits")
    if msg.first_line is not None and cseq.method != msg.first_line.method:
        return Failure(400, "Bad Request", f"CSeq method {cseq.method} does not match {msg.first_line.method}")
    return None


def _rfc_ruri(msg: SipMsg) -> Failure | None:
    try:
        uri = msg.parsed_ruri()
    except ParseError as exc:
        return Failure(400, "Bad Request", f"bad Request-URI: {exc.reason}")
    if uri.scheme not in KNOWN_SCHEMES:
        return Failure(416, "Unsupported URI Scheme", f"scheme {uri.scheme}:")
    if uri.headers is not None:
        return Failure(400, "Bad Request", "headers are not allowed in a Request-URI (RFC 3261 §19.1.1)")
    return None


def _rfc_addrs(msg: SipMsg) -> Failure | None:
    for hdr, what in ((msg.from_, "From"), (msg.to, "To")):
        if hdr is not None and hdr.parsed is not None:
            try:
                _ = hdr.parsed.parsed_uri  # parsed once, cached on the header (sanity bit 1024 reads it too)
            except ParseError as exc:
                return Failure(400, "Bad Request", f"bad {what} URI: {exc.reason}")
    bad = _contact_problem(msg)
    if bad:
        return Failure(400, "Bad Request", f"bad Contact: {bad}")
    for h in msg.headers:  # one pass over the (all parsed) headers for the kinds checked here
        t = h.type
        if t is _DATE_T:
            if not _SIP_DATE.fullmatch(h.value):
                why = f"bad Date {h.value[:40]!r}: RFC 3261 §20.17 wants an RFC 1123 date in GMT"
                return Failure(400, "Bad Request", why)
        elif t in _VALUE_CHECKED:
            try:
                parse_hdr_body(h, kamailio=msg.mode.uri_kamailio)
            except ParseError as exc:
                name = h.canonical_name  # (a reason that names the header already is said as it is)
                return Failure(400, "Bad Request", exc.reason if name in exc.reason else f"bad {name}: {exc.reason}")
    return None


def _rfc_proxy_require(msg: SipMsg) -> Failure | None:
    """RFC 3261 §8.2.2.3/§21.4.15: 420, and Unsupported lists every option tag not understood
    (of every Proxy-Require header; an empty item is no option tag)."""
    if parse_headers(msg, F_EOH) < 0 or msg.proxy_require is None:
        return None
    unsupported = _unsupported_tags(msg, "Proxy-Require")
    if not unsupported:
        return None
    tags = ", ".join(unsupported)
    return Failure(420, "Bad Extension", f"Proxy-Require: {tags}", (f"Unsupported: {tags}",))


def _unsupported_tags(msg: SipMsg, name: str) -> list[str]:
    """The option tags of every ``name`` header (Require, Proxy-Require) this server does not support."""
    return [tag for h in msg.headers_named(name) for tag in (t.strip() for t in h.value.split(","))
            if tag and tag not in SUPPORTED_EXTENSIONS]


_DATE_T = HdrType.HDR_DATE_T
_VALUE_CHECKED = frozenset((HdrType.HDR_MAXFORWARDS_T, HdrType.HDR_EXPIRES_T, HdrType.HDR_ROUTE_T,
                            HdrType.HDR_RECORDROUTE_T))
# SIP-date = rfc1123-date (RFC 3261 §20.17, §25.1): "Sat, 13 Nov 2010 23:29:00 GMT" — GMT only
_SIP_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                       r"\d{4} \d{2}:\d{2}:\d{2} GMT")

RFC_CHECKS: list[tuple[str, Check]] = [
    ("SIP version", _ruri_version),
    ("all headers parse", _rfc_parse_all),
    ("required headers", _rfc_required),
    ("framing", _rfc_framing),
    ("CSeq", _rfc_cseq),
    ("Request-URI", _rfc_ruri),
    ("URIs and values", _rfc_addrs),
    ("Proxy-Require", _rfc_proxy_require),
]


def _uas_require(cfg: ServerConfig, msg: SipMsg) -> Failure | None:
    """RFC 3261 §8.2.2.3: where this server answers the request itself, it is the UAS, and a UAS answers
    420, Unsupported listing them, to Require option tags it does not support. The default route answers
    a REGISTER and an OPTIONS addressed to the server itself (uri == myself, no user); anything else it
    relays, and a proxy passes Require on untouched (§16.6). Kamailio has no such check: its registrar
    answers a REGISTER whatever Require says (the ``kamailio`` profile, measured on 5.6.3)."""
    fl = msg.first_line
    if fl is None or fl.method not in ("REGISTER", "OPTIONS") or not msg.headers_named("Require"):
        return None
    if not ruri_is_myself(cfg, msg) or (fl.method == "OPTIONS" and msg.parsed_ruri().user):
        return None
    unsupported = _unsupported_tags(msg, "Require")
    if not unsupported:
        return None
    tags = ", ".join(unsupported)
    return Failure(420, "Bad Extension", f"Require: {tags} (this server is the UAS here: RFC 3261 §8.2.2.3)",
                   (f"Unsupported: {tags}",))


def _rfc_failure(ctx: WorkerContext, msg: SipMsg) -> tuple[str, Failure] | None:
    for name, check in RFC_CHECKS:
        failure = check(msg)
        if failure is not None:
            return name, failure
    failure = _uas_require(ctx.config, msg)  # (all headers parsed by now)
    return ("Require", failure) if failure is not None else None


def rfc_checks(ctx: WorkerContext, msg: SipMsg) -> Steps:
    """The ser profile's default-route checks. 1 if the request may go on, 0 if answered/dropped."""
    found = _rfc_failure(ctx, msg)
    if found is not None:
        name, failure = found
        if ctx.tracing:
            said = failure.detail if failure.detail.startswith(name) else f"{name}: {failure.detail}"
            yield ctx.event("rfc_checks", msg, said, unparsed=msg.unparsed,
                            reason=failure.detail, detail={"check": name})
        msg.extra["cause"] = failure.detail
        headers = failure.headers
        if failure.code == 400:
            headers = headers + (f'Warning: 399 sipsim "{_quote(failure.detail)}"',)
        yield from sl_send_reply(ctx, msg, failure.code or 400, failure.reason, headers, why=name)
        return 0
    if ctx.tracing:
        yield ctx.event("rfc_checks", msg, "the request is well formed (RFC 3261/4475 checks passed)",
                        unparsed=msg.unparsed, parsed=("HDR_EOH_F",))
    return 1


def _quote(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')[:120]

