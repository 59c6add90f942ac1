"""Header kinds and flags, mirroring Kamailio's ``src/core/parser/hf.h``.

Each known header has a type (``HDR_VIA_T`` …) and a flag bit ``HDR_xxx_F = 1 << type``.
``msg.parsed_flag`` collects the flags of the kinds already met; ``parse_headers(msg, flags)`` goes
on until ``flags`` are all set. As in Kamailio, ``HDR_VIA1_F`` is the Via bit, ``HDR_VIA2_F`` a
pseudo-kind set when a second Via value is found, and ``HDR_EOH_F`` means "every bit": asking for it
parses to the end of the headers. Compact forms (RFC 3261 §7.3.3) map to the same kinds.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Any


class HdrType(IntEnum):
    HDR_OTHER_T = 0
    HDR_VIA_T = 1
    HDR_VIA2_T = 2
    HDR_TO_T = 3
    HDR_FROM_T = 4
    HDR_CSEQ_T = 5
    HDR_CALLID_T = 6
    HDR_CONTACT_T = 7
    HDR_MAXFORWARDS_T = 8
    HDR_ROUTE_T = 9
    HDR_RECORDROUTE_T = 10
    HDR_CONTENTTYPE_T = 11
    HDR_CONTENTLENGTH_T = 12
    HDR_AUTHORIZATION_T = 13
    HDR_EXPIRES_T = 14
    HDR_MIN_EXPIRES_T = 15
    HDR_PROXYAUTH_T = 16
    HDR_SUPPORTED_T = 17
    HDR_REQUIRE_T = 18
    HDR_PROXYREQUIRE_T = 19
    HDR_UNSUPPORTED_T = 20
    HDR_ALLOW_T = 21
    HDR_EVENT_T = 22
    HDR_ACCEPT_T = 23
    HDR_ACCEPTLANGUAGE_T = 24
    HDR_ORGANIZATION_T = 25
    HDR_PRIORITY_T = 26
    HDR_SUBJECT_T = 27
    HDR_USERAGENT_T = 28
    HDR_SERVER_T = 29
    HDR_CONTENTDISPOSITION_T = 30
    HDR_DIVERSION_T = 31
    HDR_RPID_T = 32
    HDR_REFER_TO_T = 33
    HDR_SESSIONEXPIRES_T = 34
    HDR_MIN_SE_T = 35
    HDR_SUBSCRIPTION_STATE_T = 36
    HDR_ACCEPTCONTACT_T = 37
    HDR_ALLOWEVENTS_T = 38
    HDR_CONTENTENCODING_T = 39
    HDR_REFERREDBY_T = 40
    HDR_REJECTCONTACT_T = 41
    HDR_REQUESTDISPOSITION_T = 42
    HDR_WWW_AUTHENTICATE_T = 43
    HDR_PROXY_AUTHENTICATE_T = 44
    HDR_DATE_T = 45
    HDR_IDENTITY_T = 46
    HDR_IDENTITY_INFO_T = 47
    HDR_RETRY_AFTER_T = 48
    HDR_PPI_T = 49
    HDR_PAI_T = 50
    HDR_PATH_T = 51
    HDR_PRIVACY_T = 52
    HDR_REASON_T = 53
    HDR_CALLINFO_T = 54
    HDR_EOH_T = 63


def _flag_members() -> dict[str, int]:
    members = {t.name[:-2] + "_F": 1 << int(t) for t in HdrType if t is not HdrType.HDR_EOH_T}
    members["HDR_VIA1_F"] = members["HDR_VIA_F"]
    members["HDR_EOH_F"] = (1 << 64) - 1
    return members


HdrFlag = IntFlag("HdrFlag", _flag_members())  # type: ignore[misc]
HdrFlag.__doc__ = "Flag bits ``HDR_xxx_F = 1 << HDR_xxx_T``; HDR_EOH_F is all bits (parse everything)."

F_VIA = 1 << HdrType.HDR_VIA_T
F_VIA2 = 1 << HdrType.HDR_VIA2_T
F_TO = 1 << HdrType.HDR_TO_T
F_FROM = 1 << HdrType.HDR_FROM_T
F_CSEQ = 1 << HdrType.HDR_CSEQ_T
F_CALLID = 1 << HdrType.HDR_CALLID_T
F_CONTACT = 1 << HdrType.HDR_CONTACT_T
F_MAXFORWARDS = 1 << HdrType.HDR_MAXFORWARDS_T
F_ROUTE = 1 << HdrType.HDR_ROUTE_T
F_RECORDROUTE = 1 << HdrType.HDR_RECORDROUTE_T
F_CONTENTLENGTH = 1 << HdrType.HDR_CONTENTLENGTH_T
F_CONTENTTYPE = 1 << HdrType.HDR_CONTENTTYPE_T
F_EXPIRES = 1 << HdrType.HDR_EXPIRES_T
F_PROXYREQUIRE = 1 << HdrType.HDR_PROXYREQUIRE_T
F_EOH = (1 << 64) - 1

# Canonical names, as a server writes them, for messages and narration.
CANONICAL: dict[HdrType, str] = {
    HdrType.HDR_VIA_T: "Via",
    HdrType.HDR_TO_T: "To",
    HdrType.HDR_FROM_T: "From",
    HdrType.HDR_CSEQ_T: "CSeq",
    HdrType.HDR_CALLID_T: "Call-ID",
    HdrType.HDR_CONTACT_T: "Contact",
    HdrType.HDR_MAXFORWARDS_T: "Max-Forwards",
    HdrType.HDR_ROUTE_T: "Route",
    HdrType.HDR_RECORDROUTE_T: "Record-Route",
    HdrType.HDR_CONTENTTYPE_T: "Content-Type",
    HdrType.HDR_CONTENTLENGTH_T: "Content-Length",
    HdrType.HDR_AUTHORIZATION_T: "Authorization",
    HdrType.HDR_EXPIRES_T: "Expires",
    HdrType.HDR_MIN_EXPIRES_T: "Min-Expires",
    HdrType.HDR_PROXYAUTH_T: "Proxy-Authorization",
    HdrType.HDR_SUPPORTED_T: "Supported",
    HdrType.HDR_REQUIRE_T: "Require",
    HdrType.HDR_PROXYREQUIRE_T: "Proxy-Require",
    HdrType.HDR_UNSUPPORTED_T: "Unsupported",
    HdrType.HDR_ALLOW_T: "Allow",
    HdrType.HDR_EVENT_T: "Event",
    HdrType.HDR_ACCEPT_T: "Accept",
    HdrType.HDR_ACCEPTLANGUAGE_T: "Accept-Language",
    HdrType.HDR_ORGANIZATION_T: "Organization",
    HdrType.HDR_PRIORITY_T: "Priority",
    HdrType.HDR_SUBJECT_T: "Subject",
    HdrType.HDR_USERAGENT_T: "User-Agent",
    HdrType.HDR_SERVER_T: "Server",
    HdrType.HDR_CONTENTDISPOSITION_T: "Content-Disposition",
    HdrType.HDR_DIVERSION_T: "Diversion",
    HdrType.HDR_RPID_T: "Remote-Party-ID",
    HdrType.HDR_REFER_TO_T: "Refer-To",
    HdrType.HDR_SESSIONEXPIRES_T: "Session-Expires",
    HdrType.HDR_MIN_SE_T: "Min-SE",
    HdrType.HDR_SUBSCRIPTION_STATE_T: "Subscription-State",
    HdrType.HDR_ACCEPTCONTACT_T: "Accept-Contact",
    HdrType.HDR_ALLOWEVENTS_T: "Allow-Events",
    HdrType.HDR_CONTENTENCODING_T: "Content-Encoding",
    HdrType.HDR_REFERREDBY_T: "Referred-By",
    HdrType.HDR_REJECTCONTACT_T: "Reject-Contact",
    HdrType.HDR_REQUESTDISPOSITION_T: "Request-Disposition",
    HdrType.HDR_WWW_AUTHENTICATE_T: "WWW-Authenticate",
    HdrType.HDR_PROXY_AUTHENTICATE_T: "Proxy-Authenticate",
    HdrType.HDR_DATE_T: "Date",
    HdrType.HDR_IDENTITY_T: "Identity",
    HdrType.HDR_IDENTITY_INFO_T: "Identity-Info",
    HdrType.HDR_RETRY_AFTER_T: "Retry-After",
    HdrType.HDR_PPI_T: "P-Preferred-Identity",
    HdrType.HDR_PAI_T: "P-Asserted-Identity",
    HdrType.HDR_PATH_T: "Path",
    HdrType.HDR_PRIVACY_T: "Privacy",
    HdrType.HDR_REASON_T: "Reason",
    HdrType.HDR_CALLINFO_T: "Call-Info",
}

# RFC 3261 §7.3.3 and later RFCs' compact forms.
COMPACT: dict[str, HdrType] = {
    "v": HdrType.HDR_VIA_T,
    "t": HdrType.HDR_TO_T,
    "f": HdrType.HDR_FROM_T,
    "i": HdrType.HDR_CALLID_T,
    "m": HdrType.HDR_CONTACT_T,
    "l": HdrType.HDR_CONTENTLENGTH_T,
    "c": HdrType.HDR_CONTENTTYPE_T,
    "e": HdrType.HDR_CONTENTENCODING_T,
    "s": HdrType.HDR_SUBJECT_T,
    "k": HdrType.HDR_SUPPORTED_T,
    "o": HdrType.HDR_EVENT_T,
    "r": HdrType.HDR_REFER_TO_T,
    "b": HdrType.HDR_REFERREDBY_T,
    "u": HdrType.HDR_ALLOWEVENTS_T,
    "x": HdrType.HDR_SESSIONEXPIRES_T,
    "a": HdrType.HDR_ACCEPTCONTACT_T,
    "j": HdrType.HDR_REJECTCONTACT_T,
    "d": HdrType.HDR_REQUESTDISPOSITION_T,
    "y": HdrType.HDR_IDENTITY_T,
    "n": HdrType.HDR_IDENTITY_INFO_T,
}

# lower-case header name -> type (long and compact forms)
NAME_TO_TYPE: dict[str, HdrType] = {name.lower(): t for t, name in CANONICAL.items()}
NAME_TO_TYPE.update(COMPACT)


_FLAG_BITS = tuple(
    (1 << int(t), "HDR_VIA1_F" if t is HdrType.HDR_VIA_T else t.name[:-2] + "_F")
    for t in HdrType
    if t is not HdrType.HDR_EOH_T
)
_FLAG_NAMES_CACHE: dict[int, tuple[str, ...]] = {}


def flag_names(bits: int) -> tuple[str, ...]:
    """Names of the HDR_*_F bits set in ``bits`` (for events and the TUI)."""
    names = _FLAG_NAMES_CACHE.get(bits)
    if names is None:
        names = ("HDR_EOH_F",) if bits == F_EOH else tuple(name for bit, name in _FLAG_BITS if bits & bit)
        if len(_FLAG_NAMES_CACHE) < 4096:
            _FLAG_NAMES_CACHE[bits] = names
    return names


class HdrField:
    """One header line, as Kamailio's ``struct hdr_field``.

    Offsets index ``buf`` (received bytes): ``start`` is the first byte of the name, ``body_start``/
    ``body_end`` delimit the value (trimmed; it may contain folding), ``end`` is just past the
    line's LF. ``parsed`` holds the type-specific parsed body once someone asked for it.
    (A plain slotted class rather than a dataclass: one is made for every header of every message.)
    """

    __slots__ = ("type", "name", "body", "start", "body_start", "body_end", "end", "parsed")

    def __init__(self, type: HdrType, name: str, body: str, start: int, body_start: int, body_end: int,
                 end: int, parsed: Any = None) -> None:
        self.type = type
        self.name = name
        self.body = body
        self.start = start
        self.body_start = body_start
        self.body_end = body_end
        self.end = end
        self.parsed = parsed

    def __repr__(self) -> str:
        return f"HdrField({self.type.name}, {self.name!r}, {self.body!r}, {self.start}..{self.end})"

    @property
    def canonical_name(self) -> str:
        return CANONICAL.get(self.type, self.name)

    @property
    def value(self) -> str:
        """The body with folding turned into single spaces (what a script sees as $hdr(...))."""
        if "\n" not in self.body:
            return self.body
        return unfold(self.body)


def unfold(s: str) -> str:
    """Replace each LWS fold (optional whitespace, CRLF, whitespace) by one space."""
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in "\r\n":
            while out and out[-1] in " \t":
                out.pop()
            while i < n and s[i] in " \t\r\n":
                i += 1
            out.append(" ")
            continue
        out.append(c)
        i += 1
    return "".join(out)
