"""Crafting a consistent call: one Call-ID, one pair of tags, CSeq numbers and Via branches that
belong together, the way RFC 3261 §8 and §12-§17 say a user agent builds them.

``Dialog`` plays both user agents of one call (caller = UAC, callee = UAS) and returns each message
as a Scapy packet ``IP/UDP/SIP`` between the addresses given::

    d = Dialog(caller=("192.0.2.10", 5060), callee=("192.0.2.20", 5060))
    inv = d.invite()                 # CSeq 1 INVITE, new branch, From-tag, SDP offer
    d.reply(inv, 100); d.reply(inv, 180); ok = d.reply(inv, 200)   # same To-tag, SDP answer
    d.ack(); d.bye(); d.reply(bye, 200)

With a ``proxy`` the call goes alice → proxy → bob, as RFC 3261 §16 and Kamailio's stateless
forwarding have it: every request of either side is sent to the proxy; a reply is crafted on the
request *as the proxy forwarded it* (:func:`sipsim.packets.proxy_hop.proxied`: the proxy's Via on
top with the branch sipsim's engine computes, the sender's Via below with received/rport, and a
Record-Route on the INVITE) and sent by the answering side to the proxy, which forwards it by its
second Via. The dialog's route set is that Record-Route (§12.1.1, §12.1.2), so ACK (for a 2xx)
and BYE carry ``Route: <sip:PROXY;lr;...>`` and the remote target (the peer's Contact) as their
Request-URI (§12.2.1.1). A REGISTER, and an OPTIONS to the server itself, are answered by the
proxy (the registrar) directly. ``record_route=False`` models a proxy that does not record-route
(sipsim's built-in default route): no Record-Route, no Route.

What it simplifies (say so to learners): one proxy, stateless; the proxy is modelled as
``sipsim serve`` runs it by default (``ser`` profile, see :mod:`sipsim.packets.proxy_hop`); a
request that bob's answer is built on keeps alice's Request-URI (a location lookup would rewrite
it, but no reply copies it).

Deterministic: with ``seed=None`` every tag, branch and Call-ID is derived from the inputs (the
addresses, the users and a counter), so the same calls craft the same bytes; a ``seed`` gives
random-looking values that are still reproducible. Nothing here reads the clock.

The ``_build_*`` methods return pure :class:`SipMessage` objects (no Scapy); the public methods wrap
them in IP/UDP with :func:`sipsim.packets.layer.sip_packet` (Scapy is imported on first use).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sipsim.packets.addr import SIP_PORT, Address, as_address, hostport, is_ipv6, uri_host
from sipsim.packets.errors import PacketsError
from sipsim.packets.message import SIPHeader, SipMessage, parse_cseq, reason_phrase, via_branch
from sipsim.packets.proxy_hop import proxied, record_route_value

if TYPE_CHECKING:
    from scapy.packet import Packet

USER_AGENT = "sipsim"
_TAG_PARAM = re.compile(r";\s*tag\s*=", re.I)


class Ids:
    """Tags, branches and Call-IDs: derived from a salt and a counter, or from a seeded RNG."""

    def __init__(self, salt: str, seed: int | str | None = None) -> None:
        self._salt = salt
        self._seed = seed
        self._rng = random.Random(seed) if seed is not None else None
        self._n = 0

    def stream(self, name: str) -> Ids:
        """Identifiers of their own for an independent transaction (a REGISTER, an OPTIONS ping, a
        MESSAGE), still derived from the same salt and seed: crafted in a fresh dialog, each would
        otherwise draw the very first token after the call's — every template with one branch."""
        return Ids(f"{self._salt}|{name}", None if self._seed is None else f"{self._seed}|{name}")

    def token(self, length: int = 10) -> str:
        self._n += 1
        if self._rng is not None:
            return f"{self._rng.getrandbits(4 * length):0{length}x}"
        return hashlib.sha256(f"{self._salt}|{self._n}".encode()).hexdigest()[:length]

    def branch(self) -> str:
        return "z9hG4bK" + self.token(10)  # RFC 3261 §8.1.1.7 magic cookie


def domain_of(addr: Address) -> str:
    """A SIP domain for an address: its host, with the port unless it is 5060."""
    return uri_host(addr[0]) if addr[1] == SIP_PORT else hostport(addr)


def has_tag(value: str) -> bool:
    """Whether a To/From value carries a ``tag`` header parameter (not a URI parameter in <...>)."""
    params = value[value.rfind(">") + 1:] if ">" in value else value
    return bool(_TAG_PARAM.search(params))


def sdp(user: str, ip: str, rtp_port: int, session: int) -> bytes:
    """A small audio offer/answer (RFC 4566/3264): PCMU, PCMA and telephone-event."""
    fam = "IP6" if is_ipv6(ip) else "IP4"
    lines = [
        "v=0",
        f"o={user} {session} {session} IN {fam} {ip}",
        "s=sipsim",
        f"c=IN {fam} {ip}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def request(method: str, uri: str, headers: list[tuple[str, str]], body: bytes = b"",
            content_type: str | None = None) -> SipMessage:
    """A request with the given headers, then Content-Type (with a body) and Content-Length."""
    msg = SipMessage(method=method, uri=uri)
    for name, value in headers:
        msg.headers.append(SIPHeader.new(name, value))
    if body and content_type:
        msg.headers.append(SIPHeader.new("Content-Type", content_type))
    msg.headers.append(SIPHeader.new("Content-Length", str(len(body))))
    msg.body = body
    return msg


def build_reply(req: SipMessage, status: int, reason: str | None = None, *, to_tag: str | None = None,
                contact: str | None = None, body: bytes = b"", content_type: str | None = None,
                extra: list[tuple[str, str]] | None = None) -> SipMessage:
    """A response to ``req`` as RFC 3261 §8.2.6 builds it: Via (all, in order), From, To, Call-ID
    and CSeq copied as sent; ``to_tag`` added to To when it has none. Record-Route is copied into
    dialog-creating responses (§12.1.1). Pass ``to_tag=None`` for a 100 Trying, which needs none."""
    if req.is_response:
        raise PacketsError("cannot reply to a response")
    msg = SipMessage(version="SIP/2.0", status=int(status),
                     reason=reason if reason is not None else reason_phrase(int(status)))
    creates_dialog = 100 < status < 300 and req.method.upper() == "INVITE"
    for h in req.headers:
        copy = h.key in ("via", "from", "to", "call-id", "cseq") or (creates_dialog and h.key == "record-route")
        if not copy:
            continue
        h = replace(h, eol=None)
        if h.key == "to" and to_tag and not has_tag(h.value):
            h = h.with_value(h.value.rstrip() + f";tag={to_tag}")
        msg.headers.append(h)
    if contact:
        msg.headers.append(SIPHeader.new("Contact", contact))
    for name, value in extra or []:
        msg.headers.append(SIPHeader.new(name, value))
    if body and content_type:
        msg.headers.append(SIPHeader.new("Content-Type", content_type))
    msg.headers.append(SIPHeader.new("Content-Length", str(len(body))))
    msg.body = body
    return msg


@dataclass(frozen=True)
class Crafted:
    """A message with the addresses it travels between (before Scapy wraps it)."""

    msg: SipMessage
    src: Address
    dst: Address

    def packet(self) -> Packet:
        from sipsim.packets.layer import sip_packet

        return sip_packet(self.msg, self.src, self.dst)


class Dialog:
    """Both user agents of one call; see the module docstring."""

    def __init__(self, caller: Address | str, callee: Address | str, *, caller_user: str = "alice",
                 callee_user: str = "bob", domain: str | None = None, proxy: Address | str | None = None,
                 record_route: bool = True, seed: int | None = None) -> None:
        self.caller = as_address(caller)
        self.callee = as_address(callee)
        if is_ipv6(self.caller[0]) != is_ipv6(self.callee[0]):
            raise PacketsError("caller and callee must both be IPv4 or both IPv6")
        self.proxy = as_address(proxy) if proxy is not None else None
        if self.proxy is not None and is_ipv6(self.proxy[0]) != is_ipv6(self.caller[0]):
            raise PacketsError("the proxy and the user agents must all be IPv4 or all IPv6")
        self.record_route = record_route and self.proxy is not None
        self.caller_user, self.callee_user = caller_user, callee_user
        self.domain = domain or domain_of(self.proxy or self.callee)
        # unseeded identifiers derive from the caller and the first hop (the proxy when there is
        # one): the templates' callee follows from those two, and a template keeps its bytes
        first_hop = self.proxy or self.callee
        self.ids = Ids(f"{self.caller}|{first_hop}|{caller_user}|{callee_user}|{self.domain}", seed)
        self.call_id = f"{self.ids.token(16)}@{uri_host(self.caller[0])}"
        self.from_tag = self.ids.token(8)
        self.to_tag = self.ids.token(8)
        self.caller_cseq = 0
        self.callee_cseq = 0
        self.register_call_id = f"{self.ids.token(16)}@{uri_host(self.caller[0])}"
        self.register_cseq = 0
        self.session = int(self.ids.token(8), 16) % 10**9
        self.invite_msg: SipMessage | None = None
        # Independent transactions draw their identifiers from streams of their own, so that two
        # templates crafted with the same --from/--to/--seed (each in a fresh Dialog) never share
        # a branch, a From-tag or a Call-ID (RFC 3261 §8.1.1.7: a branch is unique per
        # transaction): the call's requests (INVITE, ACK, BYE) take their branches from "call";
        # REGISTER and MESSAGE from their own; the OPTIONS ping draws from ``ids`` itself, as
        # before (its bytes, which the TUI's inject dialog shows, stay the same). The call's
        # Call-ID and tags, and the REGISTER's Call-ID, come from ``ids`` above.
        self._streams: dict[str, Ids] = {}

    # -- addresses and names ------------------------------------------------------------------------

    @property
    def caller_aor(self) -> str:
        return f"sip:{self.caller_user}@{self.domain}"

    @property
    def callee_aor(self) -> str:
        return f"sip:{self.callee_user}@{self.domain}"

    @property
    def caller_contact(self) -> str:
        return f"sip:{self.caller_user}@{hostport(self.caller)}"

    @property
    def callee_contact(self) -> str:
        return f"sip:{self.callee_user}@{hostport(self.callee)}"

    def _from_caller(self, msg: SipMessage) -> Crafted:
        return Crafted(msg, self.caller, self.proxy or self.callee)

    def _from_callee(self, msg: SipMessage) -> Crafted:
        return Crafted(msg, self.callee, self.proxy or self.caller)

    @property
    def route_set(self) -> list[str]:
        """The dialog's route set (Route values of in-dialog requests): the proxy's Record-Route.
        With one proxy both sides hold the same single entry (the caller reverses the 2xx's
        Record-Route list, §12.1.2; the callee keeps the request's order, §12.1.1)."""
        if not self.record_route or self.proxy is None:
            return []
        return [record_route_value(self.proxy, self.from_tag)]

    def _peer(self, sender: Address) -> Address:
        return self.callee if sender == self.caller else self.caller

    def _answered_by_proxy(self, req: SipMessage) -> bool:
        """A REGISTER, or an OPTIONS with no user in its URI, is for the server itself (the
        default route's ``save("location")`` and its OPTIONS ping answer)."""
        method = req.method.upper()
        return method == "REGISTER" or (method == "OPTIONS" and "@" not in req.uri)

    def as_received(self, req: SipMessage, sender: Address) -> SipMessage:
        """``req`` as its final recipient receives it: through the proxy when there is one (the
        proxy's Via above the sender's, the Record-Route on an initial INVITE), else as sent."""
        if self.proxy is None or self._answered_by_proxy(req):
            return req
        initial = req.method.upper() == "INVITE" and not has_tag(req.get_header("To") or "")
        return proxied(req, sender, self.proxy, record_route=self.record_route and initial,
                       from_tag=self.from_tag)

    def received_invite(self) -> SipMessage:
        """The INVITE as bob receives it (what his replies are built on)."""
        if self.invite_msg is None:
            raise PacketsError("no INVITE was sent in this dialog yet")
        return self.as_received(self.invite_msg, self.caller)

    def _stream(self, method: str) -> Ids:
        """The identifiers of one kind of transaction: "call", or a method (see ``__init__``)."""
        if method not in self._streams:
            self._streams[method] = self.ids.stream(method)
        return self._streams[method]

    def _via(self, addr: Address, branch: str | None = None) -> str:
        return f"SIP/2.0/UDP {hostport(addr)};branch={branch or self.ids.branch()};rport"

    # -- requests ------------------------------------------------------------------------------------

    def _build_register(self, expires: int = 3600) -> Crafted:
        self.register_cseq += 1
        ids = self._stream("REGISTER")
        headers = [
            ("Via", self._via(self.caller, ids.branch())),
            ("Max-Forwards", "70"),
            ("From", f"<{self.caller_aor}>;tag={ids.token(8)}"),
            ("To", f"<{self.caller_aor}>"),
            ("Call-ID", self.register_call_id),
            ("CSeq", f"{self.register_cseq} REGISTER"),
            ("Contact", f"<{self.caller_contact}>"),
            ("Expires", str(expires)),
            ("User-Agent", USER_AGENT),
        ]
        return self._from_caller(request("REGISTER", f"sip:{self.domain}", headers))

    def _dialog_headers(self, method: str, *, from_callee: bool, to_tag: bool, cseq: int,
                        branch: str | None = None, routed: bool = True) -> list[tuple[str, str]]:
        """Via, Max-Forwards, Route (an in-dialog request, ``routed``, with a route set), From, To,
        Call-ID, CSeq of a request of this call."""
        me = self.callee if from_callee else self.caller
        caller_side = f"<{self.caller_aor}>;tag={self.from_tag}"
        callee_side = f"<{self.callee_aor}>" + (f";tag={self.to_tag}" if to_tag else "")
        route = [("Route", r) for r in self.route_set] if to_tag and routed else []
        return [
            ("Via", self._via(me, branch or self._stream("call").branch())),
            ("Max-Forwards", "70"),
            *route,
            ("From", callee_side if from_callee else caller_side),
            ("To", caller_side if from_callee else callee_side),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]

    def _build_invite(self, *, with_sdp: bool = True) -> Crafted:
        self.caller_cseq += 1
        headers = self._dialog_headers("INVITE", from_callee=False, to_tag=False, cseq=self.caller_cseq)
        headers += [("Contact", f"<{self.caller_contact}>"), ("User-Agent", USER_AGENT)]
        body = sdp(self.caller_user, self.caller[0], 49170, self.session) if with_sdp else b""
        msg = request("INVITE", self.callee_aor, headers, body, "application/sdp")
        self.invite_msg = msg
        return self._from_caller(msg)

    def _invite_branch(self) -> str:
        if self.invite_msg is None:
            raise PacketsError("no INVITE was sent in this dialog yet")
        return via_branch(self.invite_msg.get_header("Via") or "") or self.ids.branch()

    def _build_ack(self, status: int = 200) -> Crafted:
        """ACK for a 2xx: a new transaction to the remote target (§13.2.2.4). For a non-2xx final
        response: the same branch and Request-URI as the INVITE (§17.1.1.3)."""
        if self.invite_msg is None:
            raise PacketsError("no INVITE was sent in this dialog yet")
        cseq, _ = parse_cseq(self.invite_msg.get_header("CSeq") or "")
        if 200 <= status < 300:
            headers = self._dialog_headers("ACK", from_callee=False, to_tag=True, cseq=cseq or 1)
            uri = self.callee_contact
        else:
            # (the INVITE's Route header fields, i.e. none: the route set is not used, §17.1.1.3)
            headers = self._dialog_headers("ACK", from_callee=False, to_tag=True, cseq=cseq or 1,
                                           branch=self._invite_branch(), routed=False)
            uri = self.invite_msg.uri
        return self._from_caller(request("ACK", uri, headers))

    def _build_bye(self, *, from_callee: bool = False) -> Crafted:
        if from_callee:
            self.callee_cseq += 1
            headers = self._dialog_headers("BYE", from_callee=True, to_tag=True, cseq=self.callee_cseq)
            return self._from_callee(request("BYE", self.caller_contact, headers))
        self.caller_cseq += 1
        headers = self._dialog_headers("BYE", from_callee=False, to_tag=True, cseq=self.caller_cseq)
        return self._from_caller(request("BYE", self.callee_contact, headers))

    def _build_cancel(self) -> Crafted:
        """CANCEL: same Request-URI, Call-ID, From, To (no tag), branch and CSeq number as the
        INVITE, method CANCEL (§9.1)."""
        if self.invite_msg is None:
            raise PacketsError("no INVITE was sent in this dialog yet")
        cseq, _ = parse_cseq(self.invite_msg.get_header("CSeq") or "")
        headers = self._dialog_headers("CANCEL", from_callee=False, to_tag=False, cseq=cseq or 1,
                                       branch=self._invite_branch())
        return self._from_caller(request("CANCEL", self.invite_msg.uri, headers))

    def _out_of_dialog(self, method: str, to: str) -> list[tuple[str, str]]:
        """A request outside the call: a transaction of its own, with its own branch, From-tag and
        Call-ID (from the method's stream); CSeq 1, the first request of that Call-ID."""
        ids = self.ids if method == "OPTIONS" else self._stream(method)
        return [
            ("Via", self._via(self.caller, ids.branch())),
            ("Max-Forwards", "70"),
            ("From", f"<{self.caller_aor}>;tag={ids.token(8)}"),
            ("To", f"<{to}>"),
            ("Call-ID", f"{ids.token(16)}@{uri_host(self.caller[0])}"),
            ("CSeq", f"1 {method}"),
        ]

    def _build_options(self, *, ping: bool = True) -> Crafted:
        """OPTIONS to the server itself (``ping``: Request-URI without a user, the keep-alive probe
        that Kamailio's default script answers with 200), or to the callee's AOR."""
        target = f"sip:{self.domain}" if ping else self.callee_aor
        headers = self._out_of_dialog("OPTIONS", target) + [
            ("Contact", f"<{self.caller_contact}>"), ("Accept", "application/sdp"), ("User-Agent", USER_AGENT)]
        return self._from_caller(request("OPTIONS", target, headers))

    def _build_message(self, text: str = "Hello from sipsim") -> Crafted:
        headers = self._out_of_dialog("MESSAGE", self.callee_aor) + [("User-Agent", USER_AGENT)]
        return self._from_caller(request("MESSAGE", self.callee_aor, headers, text.encode(), "text/plain"))

    def _build_reply(self, req: SipMessage, status: int, reason: str | None = None) -> SipMessage:
        """A reply to ``req`` *as its recipient received it* (see :meth:`as_received`)."""
        method = req.method.upper()
        tag = None if status == 100 else self.to_tag
        contact = f"<{self.callee_contact}>" if method == "INVITE" and 100 < status < 300 else None
        body = b""
        if method == "INVITE" and 200 <= status < 300:
            body = sdp(self.callee_user, self.callee[0], 3456, self.session + 1)
        return build_reply(req, status, reason, to_tag=tag, contact=contact, body=body,
                           content_type="application/sdp")

    # -- the public, Scapy-returning API ------------------------------------------------------------

    def register(self, expires: int = 3600) -> Packet:
        """REGISTER the caller's AOR at the domain (its own Call-ID; CSeq grows on each call)."""
        return self._build_register(expires).packet()

    def invite(self, *, with_sdp: bool = True) -> Packet:
        return self._build_invite(with_sdp=with_sdp).packet()

    def ack(self, response: Packet | None = None) -> Packet:
        """ACK the INVITE's final response (a 2xx unless ``response`` says otherwise)."""
        status = 200
        if response is not None:
            from sipsim.packets.layer import sip_layer

            layer = sip_layer(response)
            status = int(getattr(layer, "status", 200) or 200)
        return self._build_ack(status).packet()

    def bye(self, *, from_callee: bool = False) -> Packet:
        return self._build_bye(from_callee=from_callee).packet()

    def cancel(self) -> Packet:
        return self._build_cancel().packet()

    def options(self, *, ping: bool = True) -> Packet:
        """OPTIONS to the server (``ping``, the default) or to the callee (``ping=False``)."""
        return self._build_options(ping=ping).packet()

    def message(self, text: str = "Hello from sipsim") -> Packet:
        return self._build_message(text).packet()

    def reply(self, request_pkt: Packet, status: int, reason: str | None = None) -> Packet:
        """The reply of whichever side received ``request_pkt``: the dialog's To-tag (none on 100);
        Contact and an SDP answer on a 2xx to INVITE. Without a proxy it goes back from the
        request's destination to its source. A request sent to the proxy is answered by the other
        side, through the proxy: built on the request as the proxy forwarded it (two Vias) and sent
        from that side to the proxy — except a REGISTER or an OPTIONS ping, which the proxy itself
        answers."""
        from sipsim.packets.layer import sip_layer, sip_packet

        layer = sip_layer(request_pkt)
        if layer is None:
            raise PacketsError("that packet has no SIP layer to reply to")
        src, dst = _endpoints(request_pkt)
        req = layer.message()
        if self.proxy is not None and dst == self.proxy and not self._answered_by_proxy(req):
            # the proxy forwarded it to the other side, who answers through the proxy
            received = self.as_received(req, src)
            return sip_packet(self._build_reply(received, status, reason), self._peer(src), self.proxy)
        return sip_packet(self._build_reply(req, status, reason), dst, src)


def _endpoints(pkt: Any) -> tuple[Address, Address]:
    net = pkt.getlayer("IP") or pkt.getlayer("IPv6")
    udp = pkt.getlayer("UDP")
    if net is None or udp is None:
        raise PacketsError("the request has no IP/UDP layers to reply along")
    return (net.src, udp.sport), (net.dst, udp.dport)


def reply_to(request_pkt: Any, status: int, reason: str | None = None, *, to_tag: str | None = None,
             contact: str | None = None, body: bytes = b"", content_type: str | None = None) -> Any:
    """A reply to any request: a Scapy ``IP/UDP/SIP`` packet (answered along the reversed addresses)
    or raw bytes (answered with bytes). ``to_tag`` defaults to a tag derived from the request
    (none for 100 Trying, RFC 3261 §8.2.6.2)."""
    if isinstance(request_pkt, (bytes, bytearray, SipMessage)):
        req = request_pkt if isinstance(request_pkt, SipMessage) else SipMessage.parse(bytes(request_pkt))
        return _reply_msg(req, status, reason, to_tag, contact, body, content_type).to_bytes()
    from sipsim.packets.layer import sip_layer, sip_packet

    layer = sip_layer(request_pkt)
    if layer is None:
        raise PacketsError("that packet has no SIP layer to reply to")
    src, dst = _endpoints(request_pkt)
    msg = _reply_msg(layer.message(), status, reason, to_tag, contact, body, content_type)
    return sip_packet(msg, dst, src)


def _reply_msg(req: SipMessage, status: int, reason: str | None, to_tag: str | None, contact: str | None,
               body: bytes, content_type: str | None) -> SipMessage:
    if to_tag is None and status != 100:
        seed = f"{req.get_header('Call-ID')}|{req.get_header('From')}|{req.get_header('CSeq')}"
        to_tag = hashlib.sha256(seed.encode()).hexdigest()[:8]
    return build_reply(req, status, reason, to_tag=to_tag, contact=contact, body=body,
                       content_type=content_type)
