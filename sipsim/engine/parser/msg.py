"""``SipMsg``: one received message, as Kamailio's ``struct sip_msg`` (``parser/msg_parser.h``).

The received bytes are kept untouched. What a server changes is kept apart, and *how* depends on
the era being modelled:

* ``kamailio`` profile — ``buf`` is the received datagram and is never written. Every change is a
  *lump* in ``add_rm`` (an insert or a delete at an offset of ``buf``); the changed message exists
  only in an outgoing buffer built at send time (``msg_translator``).
* ``ser`` profile (the seed document) — ``orig`` keeps the received bytes and changes are made to
  ``buf``: after each change ``buf`` is the edited message. (We keep the edit list internally so
  offsets of the parsed headers, which refer to ``orig``, stay valid.)

Shortcuts (``via1``, ``callid``, ``cseq`` …) are ``None`` until the parser has reached their
header — the lazy parser only goes as far as someone asked (``parsed_flag``, ``unparsed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sipsim.engine.events import Addr, slot_setters
from sipsim.engine.parser.fline import SIP_REPLY, SIP_REQUEST, FirstLine
from sipsim.engine.parser.hf import NAME_TO_TYPE, HdrField, HdrFlag, HdrType
from sipsim.engine.parser.mode import KAMAILIO56, RFC
from sipsim.engine.parser.uri import parse_uri

if TYPE_CHECKING:
    from sipsim.engine.lumps import Lump
    from sipsim.engine.parser.errors import ParseError
    from sipsim.engine.parser.uri import SipUri
    from sipsim.engine.parser.via import ViaBody

# msg.msg_flags bits (Kamailio's FL_* of the same meaning)
FL_FORCE_RPORT = 1 << 0
FL_REPLIED = 1 << 1  # a local reply was sent for this request
FL_FORWARDED = 1 << 2


@dataclass(frozen=True, slots=True, init=False)
class ReceiveInfo:
    """Kamailio's ``receive_info_t``: where the datagram came from and which socket took it."""

    src: Addr
    dst: Addr
    proto: str = "udp"

    def __init__(self, src: Addr, dst: Addr, proto: str = "udp") -> None:
        # written out (as events.StepEvent's): one is made for every message
        _ri_set[0](self, src)
        _ri_set[1](self, dst)
        _ri_set[2](self, proto)


_ri_set = slot_setters(ReceiveInfo)


class SipMsg:
    """A received SIP message with lazily parsed headers.

    Fields that start empty are class attributes (``None``/0) until the parser or a function sets
    them on the instance: a message is made for every datagram, and most of its ~40 fields are
    never touched for a given message.
    """

    # shortcuts to the first header of each kind, set once parsed (Kamailio's msg->callid, ...)
    h_via1: HdrField | None = None
    h_via2: HdrField | None = None
    via1: ViaBody | None = None
    via2: ViaBody | None = None
    callid: HdrField | None = None
    to: HdrField | None = None
    from_: HdrField | None = None
    cseq: HdrField | None = None
    content_length: HdrField | None = None
    maxforwards: HdrField | None = None
    contact: HdrField | None = None
    route: HdrField | None = None
    record_route: HdrField | None = None
    expires: HdrField | None = None
    proxy_require: HdrField | None = None
    first_line: FirstLine | None = None
    eoh: int | None = None  # offset of the body (just past the empty line), once parsed to the end
    hdr_error: ParseError | None = None
    hdr_errors = 0  # failed parse_headers calls: each is one bad_msg_hdr, counted when the message is freed
    parse_error: ParseError | None = None
    new_uri: str | None = None  # $ru when changed (not a lump)
    dst_uri: str | None = None  # $du
    flags = 0  # script flags (setflag/isflagset)
    msg_flags = 0
    unparsed = 0
    _pf = 0
    _buf: bytes | None = None
    _parsed_ruri: SipUri | None = None
    _by_type: dict[HdrType, list[HdrField]] | None = None

    def __init__(self, data: bytes, rcv: ReceiveInfo, *, id: int = 0, msg_no: int = 0,
                 ser: bool = False, time: float = 0.0) -> None:
        self.data = data
        self.text = data.decode("latin-1")
        self.len = len(data)
        self.profile_ser = ser
        self.mode = RFC if ser else KAMAILIO56
        self.orig: bytes | None = data if ser else None
        self.id = id
        self.msg_no = msg_no
        self.rcv = rcv
        self.time = time
        self.headers: list[HdrField] = []
        self.add_rm: list[Lump] = []
        self.extra: dict[str, Any] = {}

    # -- views -------------------------------------------------------------------------------
    @property
    def buf(self) -> bytes:
        """Kamailio: the received bytes, never written. SER: the copy that changes are made to."""
        if not self.profile_ser:
            return self.data
        if self._buf is None:
            from sipsim.engine.lumps import apply_lumps

            self._buf = apply_lumps(self.data, self.add_rm, self.new_uri, self.first_line)
        return self._buf

    def changed(self) -> None:
        """Called after every lump/new_uri change: in the SER profile ``buf`` reflects it at once."""
        self._buf = None

    @property
    def parsed_flag(self) -> HdrFlag:
        return HdrFlag(self._pf)

    @property
    def is_request(self) -> bool:
        return self.first_line is not None and self.first_line.type == SIP_REQUEST

    @property
    def is_reply(self) -> bool:
        return self.first_line is not None and self.first_line.type == SIP_REPLY

    @property
    def method(self) -> str:
        fl = self.first_line
        if fl is None:
            return ""
        if fl.type == SIP_REQUEST:
            return fl.method
        return self.cseq.parsed.method if self.cseq is not None and self.cseq.parsed else ""

    @property
    def ruri(self) -> str:
        """The current Request-URI ($ru): the new one if the script changed it."""
        if self.new_uri is not None:
            return self.new_uri
        return self.first_line.uri if self.first_line else ""

    def parsed_ruri(self) -> SipUri:
        """Kamailio's ``parse_sip_msg_uri``: the (current) R-URI parsed, cached. Raises ParseError."""
        cached, ruri = self._parsed_ruri, self.ruri
        if cached is not None and cached.raw == ruri:
            return cached  # (asked several times per request: sanity, uri == myself, forward ...)
        base = self.first_line.uri_start if self.first_line and self.new_uri is None else 0
        self._parsed_ruri = parse_uri(ruri, base, kamailio=self.mode.uri_kamailio)
        return self._parsed_ruri

    @property
    def body_start(self) -> int | None:
        return self.eoh

    def headers_end(self) -> int | None:
        """Where the empty line that ends the headers starts (Kamailio's ``msg->unparsed`` once
        ``parse_headers`` reached the end): the anchor of a header appended at the end (append_hf,
        rr's Route for a strict router). A datagram that ends right after a header's line break,
        with no empty line (the kamailio profile takes it), ends its headers there. Needs EOH parsed."""
        eoh = self.eoh
        if eoh is None or self.extra.get("no_body"):
            return eoh
        return eoh - (2 if self.text[eoh - 2:eoh] == "\r\n" else 1)

    def body(self) -> bytes:
        """The body as framed by Content-Length (trailing octets ignored). Needs EOH parsed."""
        if self.eoh is None:
            return b""
        if self.content_length is not None and isinstance(self.content_length.parsed, int):
            return self.data[self.eoh : self.eoh + self.content_length.parsed]
        return self.data[self.eoh :]

    def summary(self) -> str:
        """``INVITE sip:bob@biloxi.com`` or ``180 Ringing`` — for logs, ladders, narration."""
        if self.first_line is None:
            return f"{self.len} bytes (unparsed)"
        return self.first_line.summary()

    def header(self, name: str) -> HdrField | None:
        """First already-parsed header with this name (case-insensitive, compact forms too)."""
        lname = name.lower()
        htype = NAME_TO_TYPE.get(lname, HdrType.HDR_OTHER_T)
        for h in self.headers:
            if htype is not HdrType.HDR_OTHER_T:
                if h.type is htype:
                    return h
            elif h.name.lower() == lname:
                return h
        return None

    def headers_named(self, name: str) -> list[HdrField]:
        """Every already-parsed header with this name (compact forms included), in order."""
        lname = name.lower()
        htype = NAME_TO_TYPE.get(lname, HdrType.HDR_OTHER_T)
        if htype is HdrType.HDR_OTHER_T:
            return [h for h in self.headers if h.name.lower() == lname]
        if self.eoh is None:
            return [h for h in self.headers if h.type is htype]
        if self._by_type is None:  # all parsed: index once (sanity checks ask several times)
            index: dict[HdrType, list[HdrField]] = {}
            for h in self.headers:
                index.setdefault(h.type, []).append(h)
            self._by_type = index
        return list(self._by_type.get(htype, ()))
