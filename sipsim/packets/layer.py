"""A Scapy layer for SIP: ``IP()/UDP()/SIP(...)`` that shows, edits and rebuilds a message exactly.

Scapy 2.8 ships no SIP layer. This one is built for learners and for byte-exact work:

- ``SIP(data)`` picks :class:`SIPRequest` or :class:`SIPResponse` from the first line (Scapy's
  ``dispatch_hook``), so ``show()`` lists the first line's parts in wire order, then every header on
  its own line *with its name as sent* (``v:`` stays ``v:``, compact forms get their long name beside
  them), then the body. ``pkt[SIP]`` finds either class.
- Fields are real: ``method``/``uri``/``version`` or ``version``/``status``/``reason``, ``headers``
  (a list of :class:`~sipsim.packets.message.SIPHeader`), ``body`` and ``trailing`` (octets after
  Content-Length, shown only when present). ``set_header``/``get_header``/``add_header``/
  ``remove_header``/``set_body`` edit them; assigning ``pkt[SIP].body`` also fixes Content-Length.
- Building gives back the original bytes for anything dissected (RFC 4475's torture tests included)
  and, after an edit, changes only what was edited: the layer stores the same lossless pieces as
  :class:`~sipsim.packets.message.SipMessage` and writes them back the same way.
- UDP port 5060 (source or destination) decodes as SIP, so ``rdpcap`` shows SIP; add more ports
  with :func:`bind_sip_port`.

Scapy is imported here, and only here or in modules that need it; never ``scapy.all`` (it loads
every layer Scapy has and costs seconds). ``import sipsim.packets`` does not import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scapy.fields import ConditionalField, Field
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import NoPayload, Packet, Raw, bind_bottom_up, bind_top_down

from sipsim.packets.addr import Address, as_address, is_ipv6
from sipsim.packets.errors import PacketsError
from sipsim.packets.message import (
    Layout,
    SIPHeader,
    SipMessage,
    add_header,
    as_header,
    decode,
    encode,
    get_header,
    get_headers,
    parse_cseq,
    printable,
    reason_phrase,
    remove_header,
    set_header,
    split_first_line,
    via_branch,
    with_content_length,
)

# -- fields ------------------------------------------------------------------------------------------


def _continuation(fld: Field[Any, Any], lines: list[str]) -> str:
    """Join display lines so Scapy's show() aligns them under the first (it indents continuation
    lines by len(name)+4, while the first value starts after a name padded to 10)."""
    pad = " " * max(0, 10 - len(fld.name))
    return ("\n" + pad).join(lines)


class SIPTextField(Field[str, str]):
    """A piece of the first line, held as text (lossless, see message.decode)."""

    def __init__(self, name: str, default: str) -> None:
        super().__init__(name, default, fmt="H")

    def any2i(self, pkt: Packet | None, x: Any) -> str | None:
        if x is None or isinstance(x, str):
            return x
        if isinstance(x, (bytes, bytearray)):
            return decode(bytes(x))
        return str(x)

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        return printable(x) if x else "''"


class SIPStatusField(Field[int, int]):
    """The status code: an int (a huge one too, as in RFC 4475's bigcode.dat)."""

    def __init__(self, name: str, default: int) -> None:
        super().__init__(name, default, fmt="H")

    def any2i(self, pkt: Packet | None, x: Any) -> int | None:
        if x is None or isinstance(x, int):
            return x
        try:
            return int(x)
        except (TypeError, ValueError):
            raise PacketsError(f"status code must be a number, not {x!r}") from None

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        text = str(x)
        phrase = reason_phrase(x) if isinstance(x, int) else ""
        return f"{text}  ({phrase})" if phrase and pkt is not None and pkt.reason != phrase else text


class SIPHeadersField(Field[list[SIPHeader], list[SIPHeader]]):
    """The header lines, in order, each exactly as sent; shown one per line."""

    islist = 1
    ismutable = True

    def __init__(self, name: str) -> None:
        super().__init__(name, None, fmt="H")
        self.default = []

    def any2i(self, pkt: Packet | None, x: Any) -> list[SIPHeader]:
        if x is None:
            return []
        if isinstance(x, (SIPHeader, str, tuple)):
            x = [x]
        return [as_header(h) for h in x]

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        if not x:
            return "(none)"
        lines = []
        for h in x:
            line = h.display()
            if h.is_compact:
                line += f"   [compact form of {h.long_name}]"
            elif h.malformed:
                line += "   [no ':' - not a header]"
            lines.append(line)
        return _continuation(self, lines)


class SIPBytesField(Field[bytes, bytes]):
    """Octets (the body, or trailing octets), shown as text lines a learner can read."""

    def __init__(self, name: str, default: bytes = b"") -> None:
        super().__init__(name, default, fmt="H")

    def any2i(self, pkt: Packet | None, x: Any) -> bytes:
        if x is None:
            return b""
        if isinstance(x, str):
            return encode(x)
        return bytes(x)

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        if not x:
            return "''"
        text = decode(x)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        shown = [printable(line[:-1] if line.endswith("\r") else line) for line in lines]
        note = "; after Content-Length, a UDP receiver ignores them" if self.name == "trailing" else ""
        shown.insert(0, f"({len(x)} bytes{note})")
        return _continuation(self, shown)


class ShownWhen(ConditionalField):  # type: ignore[type-arg]
    """A field that show() lists only when ``cond`` holds, but that is always there to read and
    set (a plain ConditionalField reads as None while its condition is false)."""

    def i2h(self, pkt: Packet | None, val: Any) -> Any:
        return self.fld.i2h(pkt, val)

    def any2i(self, pkt: Packet | None, x: Any) -> Any:
        return self.fld.any2i(pkt, x)


# -- the layer ---------------------------------------------------------------------------------------


class SIP(Packet):
    """SIP over UDP. ``SIP(data)`` returns a :class:`SIPRequest` or a :class:`SIPResponse`;
    ``SIP(method="INVITE", uri=...)`` a request and ``SIP(status=200)`` a response."""

    name = "SIP"
    __slots__ = ["_wire"]
    fields_desc: list[Any] = []

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if _pkt:
            first = bytes(_pkt[:1024]).lstrip(b"\r\n").split(b"\n", 1)[0].rstrip(b"\r")
            kind, _, _ = split_first_line(decode(first))
            return SIPResponse if kind == "response" else SIPRequest
        if kargs.get("status") is not None or "reason" in kargs:
            return SIPResponse
        return SIPRequest

    def __init__(self, _pkt: bytes = b"", *args: Any, **kargs: Any) -> None:
        object.__setattr__(self, "_wire", None)
        super().__init__(_pkt, *args, **kargs)
        if not _pkt and isinstance(self, SIPResponse) and "reason" not in self.fields:
            self.fields["reason"] = reason_phrase(self.status)

    # Scapy copies packets with copy() and clone_with(); the layout must travel with the fields.
    def copy(self) -> Any:
        clone = super().copy()
        object.__setattr__(clone, "_wire", self._wire)
        return clone

    def clone_with(self, payload: Any = None, **kargs: Any) -> Any:
        clone = super().clone_with(payload=payload, **kargs)
        object.__setattr__(clone, "_wire", self._wire)
        return clone

    # -- dissect and build through the lossless model ---------------------------------------------

    _kind = "request"

    def do_dissect(self, s: bytes) -> bytes:
        msg = SipMessage.parse(s, kind=self._kind)
        self.fields.update(self._fields_of(msg))
        object.__setattr__(self, "_wire", msg.layout)
        self.explicit = 1
        return b""

    def self_build(self) -> bytes:
        return self.message().to_bytes()

    def _fields_of(self, msg: SipMessage) -> dict[str, Any]:
        raise NotImplementedError

    def message(self) -> SipMessage:
        """This layer as a :class:`SipMessage` (a snapshot: editing it does not change the layer)."""
        raise NotImplementedError

    def _rest(self) -> dict[str, Any]:
        """Everything after the first line, as SipMessage takes it (headers appended in place as
        text are accepted too)."""
        return {"headers": [as_header(h) for h in self.headers], "body": self.body,
                "trailing": self.trailing, "layout": self._wire}

    @property
    def wire_layout(self) -> Layout | None:
        return self._wire

    # -- editing ----------------------------------------------------------------------------------

    def setfieldval(self, attr: str, val: Any) -> None:
        """Assigning ``body`` also sets Content-Length (use ``set_body(..., update_length=False)`` to
        keep a wrong one on purpose)."""
        super().setfieldval(attr, val)
        if attr == "body":
            super().setfieldval("headers", with_content_length(self.headers, len(self.body)))

    def get_header(self, name: str, index: int = 0) -> str | None:
        """Value of the ``index``-th header called ``name`` (any case, compact form too), unfolded."""
        return get_header(self.headers, name, index)

    def get_headers(self, name: str) -> list[str]:
        return get_headers(self.headers, name)

    def set_header(self, name: str, value: str, *, index: int = 0) -> None:
        """Set one header's value, keeping its name and spacing as sent; add it when absent."""
        super().setfieldval("headers", set_header(self.headers, name, value, index=index))

    def add_header(self, name: str, value: str, *, first: bool = False) -> None:
        """Add a header: a Via on top, others at the end (before a closing Content-Length)."""
        super().setfieldval("headers", add_header(self.headers, name, value, first=first))

    def remove_header(self, name: str, index: int | None = None) -> int:
        """Remove all ``name`` headers (or only the ``index``-th); returns how many went."""
        headers, removed = remove_header(self.headers, name, index)
        super().setfieldval("headers", headers)
        return removed

    def set_body(self, body: bytes | str, *, content_type: str | None = None,
                 update_length: bool = True) -> None:
        super().setfieldval("body", body)
        if update_length:
            super().setfieldval("headers", with_content_length(self.headers, len(self.body)))
        if content_type is not None:
            self.set_header("Content-Type", content_type)

    # -- Scapy niceties -----------------------------------------------------------------------------

    def mysummary(self) -> str:
        return "SIP " + self.message().summary()

    def hashret(self) -> bytes:
        number, _ = parse_cseq(self.get_header("CSeq") or "")
        return encode((self.get_header("Call-ID") or "") + str(number))

    def answers(self, other: Packet) -> int:
        """A response answers the request of the same transaction (Call-ID, CSeq, top Via branch)."""
        if not isinstance(self, SIPResponse) or not isinstance(other, SIPRequest):
            return 0
        same = all(self.get_header(h) == other.get_header(h) for h in ("Call-ID", "CSeq"))
        branch = via_branch(self.get_header("Via") or "")
        return int(same and branch is not None and branch == via_branch(other.get_header("Via") or ""))


def _request_tuple(pkt: SIP) -> tuple[object, ...]:
    return (pkt.method, pkt.uri, pkt.version)


class SIPRequest(SIP):
    """A SIP request: request line (method, Request-URI, version), headers, body."""

    name = "SIP"
    match_subclass = True
    _kind = "request"
    fields_desc = [
        SIPTextField("method", "OPTIONS"),
        SIPTextField("uri", "sip:127.0.0.1"),
        SIPTextField("version", "SIP/2.0"),
        SIPHeadersField("headers"),
        SIPBytesField("body"),
        ShownWhen(SIPBytesField("trailing"), lambda pkt: bool(pkt.getfieldval("trailing"))),
    ]

    def _fields_of(self, msg: SipMessage) -> dict[str, Any]:
        return {"method": msg.method, "uri": msg.uri, "version": msg.version, "headers": msg.headers,
                "body": msg.body, "trailing": msg.trailing}

    def message(self) -> SipMessage:
        return SipMessage(method=self.method or "", uri=self.uri or "", version=self.version or "",
                          **self._rest())


class SIPResponse(SIP):
    """A SIP response: status line (version, status code, reason phrase), headers, body."""

    name = "SIP"
    match_subclass = True
    _kind = "response"
    fields_desc = [
        SIPTextField("version", "SIP/2.0"),
        SIPStatusField("status", 200),
        SIPTextField("reason", "OK"),
        SIPHeadersField("headers"),
        SIPBytesField("body"),
        ShownWhen(SIPBytesField("trailing"), lambda pkt: bool(pkt.getfieldval("trailing"))),
    ]

    def _fields_of(self, msg: SipMessage) -> dict[str, Any]:
        return {"version": msg.version, "status": msg.status, "reason": msg.reason,
                "headers": msg.headers, "body": msg.body, "trailing": msg.trailing}

    def message(self) -> SipMessage:
        return SipMessage(version=self.version or "", status=int(self.status), reason=self.reason or "",
                          **self._rest())


# -- binding to UDP ports ------------------------------------------------------------------------------

_BOUND: set[int] = set()


def bind_sip_port(port: int) -> None:
    """Decode UDP datagrams from or to ``port`` as SIP (5060 is bound on import). Idempotent."""
    port = int(port)
    if port in _BOUND:
        return
    bind_bottom_up(UDP, SIP, sport=port)
    bind_bottom_up(UDP, SIP, dport=port)
    _BOUND.add(port)


bind_sip_port(5060)
for _cls in (SIPRequest, SIPResponse):
    bind_top_down(UDP, _cls, sport=5060, dport=5060)


# -- building packets and reading them back -----------------------------------------------------------


def ip_udp(src: Address | str, dst: Address | str) -> Packet:
    """``IP()/UDP()`` (or ``IPv6()/UDP()``) between two ``(ip, port)`` addresses of one family.

    The IP header is the one Linux writes on a UDP socket, as the pcap writer does: TTL or hop
    limit 64, and DF set on IPv4 (path MTU discovery is on by default)."""
    (sip, sport), (dip, dport) = as_address(src), as_address(dst)
    if is_ipv6(sip) != is_ipv6(dip):
        raise PacketsError(f"cannot send from {sip} to {dip}: one is IPv4, the other IPv6")
    net = IPv6(src=sip, dst=dip, hlim=64) if is_ipv6(sip) else IP(src=sip, dst=dip, flags="DF", ttl=64)
    return net / UDP(sport=sport, dport=dport)


def sip_packet(data: bytes | SipMessage | Packet, src: Address | str, dst: Address | str) -> Packet:
    """``IP/UDP/SIP`` carrying ``data`` (bytes, a SipMessage or a SIP layer) between two addresses."""
    if isinstance(data, SipMessage):
        data = data.to_bytes()
    layer = data.copy() if isinstance(data, SIP) else SIP(bytes(data))
    return ip_udp(src, dst) / layer


def sip_layer(pkt: Packet) -> SIP | None:
    """The SIP layer of a packet, also when Scapy left the payload Raw (a port not bound)."""
    layer = pkt.getlayer(SIP)
    if layer is not None:
        return layer  # type: ignore[no-any-return]
    udp = pkt.getlayer(UDP)
    if udp is not None and isinstance(udp.payload, Raw):
        return SIP(bytes(udp.payload.load))  # type: ignore[no-any-return]
    return None


@dataclass(frozen=True)
class LayerNode:
    """One layer for a tree view: its name and (field, value) rows, as show() would print them."""

    name: str
    fields: tuple[tuple[str, str], ...]


def layer_tree(pkt: Packet) -> list[LayerNode]:
    """The layers of ``pkt`` as data (for the TUI's layer panel): SIP headers are one row each,
    named as sent; other layers use Scapy's own field rendering."""
    nodes: list[LayerNode] = []
    layer: Packet = pkt
    while layer is not None and not isinstance(layer, NoPayload):
        rows: list[tuple[str, str]] = []
        for f in layer.fields_desc:
            if isinstance(f, ConditionalField) and not f._evalcond(layer):
                continue
            value = layer.getfieldval(f.name)
            if isinstance(layer, SIP) and f.name == "headers":
                rows.extend((h.name, printable(h.text)) for h in value)
            elif isinstance(layer, SIP) and f.name in ("body", "trailing"):
                rows.append((f.name, printable(decode(value or b"").replace("\r\n", "\n"))))
            else:
                rows.append((f.name, str(f.i2repr(layer, value))))
        name = f"{layer.name} {layer.message().summary()}" if isinstance(layer, SIP) else layer.name
        nodes.append(LayerNode(name, tuple(rows)))
        layer = layer.payload
    return nodes
