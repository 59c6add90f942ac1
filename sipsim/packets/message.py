"""A lossless model of one SIP message as it was sent: first line, header lines, body.

Why a second model beside the engine's parser? The engine parses the way Kamailio does, lazily and
for routing. This one serves the packet toolkit (the Scapy layer, templates, ``sipsim send``): it
must give back *exactly* the bytes it was given, however odd they are (RFC 4475's torture tests:
folded headers, compact names, LF-only lines, a missing blank line, octets after the body), and an
edit must touch only what it names. So every piece keeps the text it arrived with:

- the first line is split into its parts (method, Request-URI, version / version, status, reason)
  and the original text is kept beside them; while the parts are unchanged the original is written
  back, once one changes the line is rebuilt with the original separators;
- a header line is ``name`` + ``sep`` (the colon and the white space around it) + ``value`` (which
  may contain line folding) + ``eol``, all as sent, so writing it back is plain concatenation;
- the body is framed the way a UDP receiver frames it (RFC 3261 §18.3): when there is exactly one
  valid Content-Length shorter than what follows the blank line, the rest is ``trailing`` octets
  that a receiver ignores (RFC 4475's dblreq.dat), kept so the datagram round-trips.

Text is decoded as UTF-8 with ``surrogateescape``: any byte string decodes and encodes back to the
same bytes (a raw NUL or a stray 0xFF survives), and :func:`printable` shows such bytes as ``\\xNN``.

Pure Python, no Scapy: ``sipsim send``, the templates and the pcap reader use it without paying for
Scapy's import; the Scapy layer (:mod:`sipsim.packets.layer`) stores the same pieces in its fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sipsim.engine.parser.hf import CANONICAL, COMPACT
from sipsim.packets.errors import HeaderError, PacketsError

CRLF = "\r\n"
ENC = "utf-8"
ERRORS = "surrogateescape"

# RFC 3261 §7.3.3 compact forms, plus the common ones registered later (RFC 3515, 3892, 3265, 4028,
# 3841, 4474): the engine parser's table, spelled out. Matching a header by name treats "v" and
# "Via" alike, as every SIP parser must.
COMPACT_FORMS: dict[str, str] = {c: CANONICAL[t] for c, t in COMPACT.items()}

# How RFC 3261 and friends spell the headers a learner meets; used to print a compact or oddly
# cased name's usual spelling, never to rewrite what was sent.
_WELL_KNOWN = (
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
    "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition",
    "Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date",
    "Error-Info", "Event", "Expires", "From", "Identity", "In-Reply-To", "Max-Forwards", "Min-Expires",
    "Min-SE", "MIME-Version", "Organization", "P-Asserted-Identity", "Path", "Priority", "Privacy",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route",
    "Refer-To", "Referred-By", "Reply-To", "Require", "Retry-After", "Route", "RSeq", "Server",
    "Session-Expires", "Subject", "Subscription-State", "Supported", "Timestamp", "To", "Unsupported",
    "User-Agent", "Via", "Warning", "WWW-Authenticate",
)
CANONICAL_NAMES: dict[str, str] = {n.lower(): n for n in _WELL_KNOWN}

# RFC 3261 token characters: what a header name (and a method) may be made of.
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
_FOLD = re.compile(r"\r?\n[ \t]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\udc80-\udcff]")


def decode(data: bytes) -> str:
    """Bytes to text without loss (see the module docstring)."""
    return data.decode(ENC, ERRORS)


def encode(text: str) -> bytes:
    """The exact inverse of :func:`decode`."""
    return text.encode(ENC, ERRORS)


def printable(text: str) -> str:
    """Text for a terminal: control characters and undecodable bytes shown as ``\\xNN``."""

    def esc(m: re.Match[str]) -> str:
        ch = m.group()
        code = ord(ch) - 0xDC00 if ord(ch) >= 0xDC80 else ord(ch)
        return f"\\x{code:02x}"

    return _CONTROL.sub(esc, text)


def unfold(value: str) -> str:
    """A header value as a parser sees it: each fold (line end then white space) one space, outer
    blanks stripped (:attr:`SIPHeader.text`; the replay's head reader uses it too)."""
    return _FOLD.sub(" ", value).strip(" \t") if "\n" in value else value.strip(" \t")


@lru_cache(maxsize=1024)
def header_key(name: str) -> str:
    """The name used to compare headers: case-insensitive, compact forms expanded (``v`` → ``via``).
    Cached: a capture repeats a few names in every datagram, and choosing what to replay of a big
    one compares them hundreds of thousands of times."""
    n = name.strip().lower()
    return COMPACT_FORMS.get(n, n).lower()


def canonical_name(name: str) -> str:
    """The usual spelling of a header name (``v`` → ``Via``, ``cseq`` → ``CSeq``); unknown names as given."""
    n = name.strip()
    long = COMPACT_FORMS.get(n.lower(), n)
    return CANONICAL_NAMES.get(long.lower(), long)


def check_header(name: str, value: str) -> None:
    """Refuse what cannot be one header line: a name that is not a token, CR/LF in the value."""
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise HeaderError(f"bad header name {name!r}: use letters, digits and - . ! % * _ + ` ' ~")
    if not isinstance(value, str):
        raise HeaderError(f"header {name}: value must be text, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise HeaderError(f"header {name}: the value may not contain a line break")


@dataclass(frozen=True, slots=True)
class SIPHeader:
    """One header line exactly as sent: ``name + sep + value + eol``.

    ``value`` may hold line folding (CRLF followed by white space) as it appeared on the wire; use
    :attr:`text` for the value a parser sees (folds turned into one space, outer blanks stripped).
    ``eol`` None means "the message's own line end" (CRLF unless the message uses bare LF).
    A line without a colon (malformed) has ``sep == ""`` and ``value == ""``.
    """

    name: str
    value: str
    sep: str = ": "
    eol: str | None = None

    @property
    def key(self) -> str:
        return header_key(self.name)

    @property
    def text(self) -> str:
        return unfold(self.value)

    @property
    def folded(self) -> bool:
        return "\n" in self.value

    @property
    def is_compact(self) -> bool:
        return self.name.strip().lower() in COMPACT_FORMS

    @property
    def long_name(self) -> str:
        return canonical_name(self.name)

    @property
    def malformed(self) -> bool:
        return ":" not in self.sep

    def with_value(self, value: str) -> SIPHeader:
        """The same header (name, spacing and line end as sent) with a new value."""
        return replace(self, value=value)

    def display(self) -> str:
        """One terminal line: name and separator as sent, folds marked with ``↵``."""
        value = _FOLD.sub(lambda m: "↵" + m.group().lstrip("\r\n"), self.value)
        return printable(self.name + self.sep + value)

    @classmethod
    def new(cls, name: str, value: str) -> SIPHeader:
        """A header written by sipsim (validated, ``Name: value``, the message's line end)."""
        value = str(value)
        check_header(name, value)
        return cls(name, value)


def as_header(item: SIPHeader | tuple[str, str] | str) -> SIPHeader:
    """Accept a header in the forms people type: a SIPHeader, ``(name, value)`` or ``"Name: value"``."""
    if isinstance(item, SIPHeader):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return SIPHeader.new(str(item[0]), str(item[1]))
    if isinstance(item, str):
        name, colon, value = item.partition(":")
        if not colon:
            raise HeaderError(f"header {item!r} has no ':'")
        return SIPHeader.new(name.strip(), value.strip())
    raise HeaderError(f"cannot use {item!r} as a header")


# -- header lists: the edits shared by SipMessage and the Scapy layer ---------------------------------


def header_indexes(headers: Iterable[SIPHeader], name: str) -> list[int]:
    key = header_key(name)
    return [i for i, h in enumerate(headers) if h.key == key]


def get_header(headers: list[SIPHeader], name: str, index: int = 0) -> str | None:
    """The ``index``-th value of header ``name`` (its :attr:`SIPHeader.text`), or None."""
    idx = header_indexes(headers, name)
    if -len(idx) <= index < len(idx):
        return headers[idx[index]].text
    return None


def get_headers(headers: list[SIPHeader], name: str) -> list[str]:
    return [headers[i].text for i in header_indexes(headers, name)]


def _insert_position(headers: list[SIPHeader], key: str, first: bool) -> int:
    """Where a new header goes: a Via on top (as a proxy adds one), with ``first`` before its
    namesakes, otherwise at the end but before a Content-Length that closes the headers."""
    if key == "via" or first:
        same = [i for i, h in enumerate(headers) if h.key == key]
        at = same[0] if same else 0
    elif headers and headers[-1].key == "content-length":
        at = len(headers) - 1
    else:
        at = len(headers)
    # never just above a line that starts with white space: it would become a fold of the new one
    while at < len(headers) and headers[at].name[:1] in (" ", "\t"):
        at += 1
    return at


def add_header(headers: list[SIPHeader], name: str, value: str, *, first: bool = False) -> list[SIPHeader]:
    new = SIPHeader.new(name, value)
    out = list(headers)
    out.insert(_insert_position(out, new.key, first), new)
    return out


def set_header(headers: list[SIPHeader], name: str, value: str, *, index: int = 0) -> list[SIPHeader]:
    """Replace the value of the ``index``-th ``name`` header (name, spacing, line end kept as sent),
    or add the header when there is none."""
    value = str(value)
    check_header(name, value)
    idx = header_indexes(headers, name)
    if not idx:
        return add_header(headers, name, value)
    if not -len(idx) <= index < len(idx):
        raise HeaderError(f"there is no {name} header number {index} (the message has {len(idx)})")
    out = list(headers)
    out[idx[index]] = out[idx[index]].with_value(value)
    return out


def remove_header(headers: list[SIPHeader], name: str, index: int | None = None) -> tuple[list[SIPHeader], int]:
    """Remove every ``name`` header (``index`` None) or only the ``index``-th; returns (list, removed)."""
    idx = header_indexes(headers, name)
    if index is not None:
        idx = [idx[index]] if -len(idx) <= index < len(idx) else []
    drop = set(idx)
    return [h for i, h in enumerate(headers) if i not in drop], len(drop)


def with_content_length(headers: list[SIPHeader], length: int) -> list[SIPHeader]:
    """Every Content-Length header (``l`` included) set to ``length``; one added if there is none."""
    idx = header_indexes(headers, "Content-Length")
    if not idx:
        return add_header(headers, "Content-Length", str(length))
    out = list(headers)
    for i in idx:
        out[i] = out[i].with_value(str(length))
    return out


# -- the message -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layout:
    """How a parsed message was laid out, so that writing it back gives the same bytes.

    ``first`` is the first line's parts as parsed and ``first_raw`` its text: while the parts are
    unchanged ``first_raw`` is written; otherwise the parts are joined with ``seps``.
    """

    kind: str  # "request" or "response"
    first: tuple[object, ...]
    first_raw: str
    seps: tuple[str, str] = (" ", " ")
    lead: str = ""  # CR/LF octets before the first line (RFC 3261 §7.5 says to ignore them)
    eol: str = CRLF  # the first line's own line end ("" when the datagram is a single line)
    blank: str = CRLF  # the empty line that ends the headers ("" when missing, as in baddn.dat)

    @property
    def style(self) -> str:
        """The line end new lines get: the first line's, or CRLF."""
        return self.eol or CRLF


# ASCII digits only (str.isdigit() also accepts "²", which int() refuses), and few enough that int()
# stays cheap and within Python's digit limit: a longer "number" is not one.
_DIGITS = re.compile(r"[0-9]{1,40}\Z")


def small_int(text: str) -> int | None:
    """``text`` as a non-negative int when it is 1-40 ASCII digits, else None."""
    return int(text) if _DIGITS.match(text) else None


def split_first_line(line: str, kind: str | None = None) -> tuple[str, tuple[object, ...], tuple[str, str]]:
    """Split a first line into ("request", (method, uri, version)) or ("response", (version, status,
    reason)), with the separators found. Anything odd still splits somehow; the raw text is kept.
    ``kind`` forces one reading ("response" fails with PacketsError when there is no status code)."""
    head, sp1, rest = _split_sp(line)
    if kind != "request" and head[:4].upper() == "SIP/" and rest:
        code, sp2, reason = rest.partition(" ")
        if _DIGITS.match(code):
            return "response", (head, int(code), reason), (sp1, sp2)
    if kind == "response":
        raise PacketsError(f"not a SIP status line: {printable(line[:80])!r}")
    m = re.match(r"(.*?)( +)([^ ]*)\Z", rest, re.S) if " " in rest else None
    if m:
        uri, sp2, version = m.group(1), m.group(2), m.group(3)
    else:
        uri, sp2, version = rest, "", ""
    return "request", (head, uri, version), (sp1, sp2)


def _split_sp(text: str) -> tuple[str, str, str]:
    m = re.match(r"([^ ]*)( *)(.*)\Z", text, re.S)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


def join_first_line(kind: str, parts: tuple[object, ...], layout: Layout | None) -> str:
    if layout is not None and layout.kind == kind and layout.first == parts:
        return layout.first_raw
    seps = layout.seps if layout is not None and layout.kind == kind else (" ", " ")
    a, b, c = (str(p) for p in parts)
    sp1 = seps[0] or " "
    sp2 = seps[1] or (" " if c or kind == "response" else "")
    return f"{a}{sp1}{b}{sp2}{c}"


@dataclass
class SipMessage:
    """A SIP request (``status`` None) or response, editable, that writes back byte-exact.

    >>> m = SipMessage.parse(b"OPTIONS sip:a@b SIP/2.0\\r\\nMax-Forwards: 70\\r\\n\\r\\n")
    >>> m.set_header("max-forwards", "69"); m.to_bytes()
    b'OPTIONS sip:a@b SIP/2.0\\r\\nMax-Forwards: 69\\r\\n\\r\\n'
    """

    method: str = ""
    uri: str = ""
    version: str = "SIP/2.0"
    status: int | None = None
    reason: str = ""
    headers: list[SIPHeader] = field(default_factory=list)
    body: bytes = b""
    trailing: bytes = b""
    layout: Layout | None = None

    # -- reading and writing --------------------------------------------------------------------

    @classmethod
    def parse(cls, data: bytes, kind: str | None = None) -> SipMessage:
        """Split a datagram into its parts. Never fails (unless ``kind="response"`` is forced on a
        line without a status code): whatever the bytes, ``to_bytes()`` gives them back; how
        SIP-like they are is for the caller (or the engine's parser) to judge."""
        data = bytes(data)
        n = len(data)
        pos = 0
        while pos < n and data[pos] in b"\r\n":  # a CRLF keep-alive is nothing but "lead"
            pos += 1
        lead = decode(data[:pos])
        first, eol, pos = _read_line(data, pos)
        kind, parts, seps = split_first_line(decode(first), kind)
        headers: list[SIPHeader] = []
        blank = b""
        while pos < n:
            line, leol, nxt = _read_line(data, pos)
            if not line and leol:
                blank, pos = leol, nxt
                break
            end, line_eol = pos + len(line), leol
            # continuation lines (folding): the next physical line starts with SP or HT
            while nxt < n and data[nxt] in b" \t":
                cont, ceol, cnxt = _read_line(data, nxt)
                end, line_eol = nxt + len(cont), ceol
                nxt = cnxt
            headers.append(_split_header(data[pos:end], line_eol))
            pos = nxt
        rest = data[pos:]
        msg = cls(
            headers=headers,
            layout=Layout(kind, parts, decode(first), seps, lead, decode(eol), decode(blank)),
        )
        if kind == "response":
            msg.version, msg.status, msg.reason = parts  # type: ignore[assignment]
        else:
            msg.method, msg.uri, msg.version = parts  # type: ignore[assignment]
        length = framed_length(headers)
        if length is not None and length < len(rest):
            msg.body, msg.trailing = rest[:length], rest[length:]
        else:
            msg.body = rest
        return msg

    def to_bytes(self) -> bytes:
        lay = self.layout
        style = lay.style if lay is not None else CRLF
        out = [lay.lead if lay is not None else ""]
        out.append(self.first_line)
        follows = bool(self.headers) or lay is None or bool(lay.blank) or bool(self.body or self.trailing)
        first_eol = lay.eol if lay is not None else CRLF
        out.append(first_eol or (style if follows else ""))
        blank = lay.blank if lay is not None else CRLF
        if not blank and (self.body or self.trailing):
            blank = style
        for i, h in enumerate(self.headers):
            eol = style if h.eol is None else h.eol
            if not eol and (i < len(self.headers) - 1 or blank):
                eol = style
            out.append(h.name + h.sep + h.value + eol)
        out.append(blank)
        return encode("".join(out)) + self.body + self.trailing

    @property
    def is_response(self) -> bool:
        return self.status is not None

    @property
    def kind(self) -> str:
        return "response" if self.is_response else "request"

    @property
    def first_line(self) -> str:
        parts: tuple[object, ...]
        if self.is_response:
            parts = (self.version, self.status, self.reason)
        else:
            parts = (self.method, self.uri, self.version)
        return join_first_line(self.kind, parts, self.layout)

    def summary(self) -> str:
        """``INVITE sip:bob@example.com`` or ``200 OK`` (for lists and ladders)."""
        if self.is_response:
            return printable(f"{self.status} {self.reason}".strip())
        return printable(f"{self.method} {self.uri}".strip())

    # -- headers and body -----------------------------------------------------------------------

    def get_header(self, name: str, index: int = 0) -> str | None:
        return get_header(self.headers, name, index)

    def get_headers(self, name: str) -> list[str]:
        return get_headers(self.headers, name)

    def set_header(self, name: str, value: str, *, index: int = 0) -> None:
        self.headers = set_header(self.headers, name, value, index=index)

    def add_header(self, name: str, value: str, *, first: bool = False) -> None:
        self.headers = add_header(self.headers, name, value, first=first)

    def remove_header(self, name: str, index: int | None = None) -> int:
        self.headers, removed = remove_header(self.headers, name, index)
        return removed

    def set_body(self, body: bytes | str, content_type: str | None = None) -> None:
        """Replace the body and make every Content-Length say its length (one is added if none)."""
        self.body = encode(body) if isinstance(body, str) else bytes(body)
        self.headers = with_content_length(self.headers, len(self.body))
        if content_type is not None:
            self.set_header("Content-Type", content_type)

    def cseq(self) -> tuple[int | None, str]:
        """CSeq number and method (None/"" when absent or unreadable)."""
        return parse_cseq(self.get_header("CSeq") or "")


_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.I)


def via_branch(value: str) -> str | None:
    """The ``branch`` parameter of the first via-parm in a Via value (None if it has none)."""
    m = _BRANCH.search(value.split(",", 1)[0])
    return m.group(1) if m else None


def parse_cseq(value: str) -> tuple[int | None, str]:
    number, _, method = value.strip().partition(" ")
    return small_int(number), method.strip()


def framed_length(headers: list[SIPHeader]) -> int | None:
    """The body length a UDP receiver uses: the one Content-Length, when it is a plain number."""
    values = [h.text for h in headers if h.key == "content-length"]
    return small_int(values[0]) if len(values) == 1 else None


def _read_line(data: bytes, pos: int) -> tuple[bytes, bytes, int]:
    """(line without its end, the line end, position after it); line end CRLF, LF or ""."""
    nl = data.find(b"\n", pos)
    if nl < 0:
        return data[pos:], b"", len(data)
    end = nl - 1 if nl > pos and data[nl - 1] == 0x0D else nl
    return data[pos:end], data[end:nl + 1], nl + 1


def _split_header(raw: bytes, eol: bytes) -> SIPHeader:
    text = decode(raw)
    colon = text.find(":")
    if colon < 0:
        return SIPHeader(text, "", "", decode(eol))
    name = text[:colon].rstrip(" \t")
    j = colon + 1
    while j < len(text) and text[j] in " \t":
        j += 1
    return SIPHeader(name, text[j:], text[len(name):j], decode(eol))


_REQUEST_START = re.compile(rb"[A-Za-z0-9.!%*_+`'~-]+ +[^ \r\n]+ +SIP/[0-9]+\.[0-9]+ *\r?\n")
_RESPONSE_START = re.compile(rb"SIP/[0-9]+\.[0-9]+ +[0-9]{3} [^\r\n]*\r?\n")


def looks_like_sip(data: bytes) -> bool:
    """True when the datagram starts with a SIP request line or status line (CRLFs before it are
    allowed); how the pcap reader recognises SIP on ports it was not told about."""
    start = len(data) - len(data.lstrip(b"\r\n"))
    head = data[start:start + 2048]
    return bool(_REQUEST_START.match(head) or _RESPONSE_START.match(head))


# RFC 3261 §21 reason phrases (and a few later ones), for replies built without an explicit reason.
REASON_PHRASES: dict[int, str] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    423: "Interval Too Brief", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous",
    486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here", 491: "Request Pending",
    493: "Undecipherable", 500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}


def reason_phrase(status: int) -> str:
    """The usual reason phrase for a status code ("" for an unknown code in a known class)."""
    return REASON_PHRASES.get(status, "")
