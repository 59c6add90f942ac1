"""Stateless forwarding (``src/core/forward.c``): ``forward_request`` and ``forward_reply``.

``forward_request`` computes a branch for our Via from the request's key fields, so the same
request always gets the same branch (a retransmission, and — as RFC 3261 §16.11 asks of a
stateless proxy — a CANCEL or the ACK of a non-2xx answer get the INVITE's branch, because the
To-tag is left out for INVITE/ACK/CANCEL and only the CSeq *number* counts). It then builds the
outgoing buffer and yields a ``Send``.

``forward_reply`` sends a reply to the second Via (``received``/``rport`` first, else the sent-by,
default port 5060 — Kamailio would first try DNS SRV for a host name without a port, see below),
after removing the top Via — ours. It drops a reply without a second Via, or
whose destination is broadcast/unspecified (RFC 4475 §3.3.10), and with ``check_via`` on, a reply
whose top Via is not ours.

sipsim listens on one UDP socket: a request whose next hop asks for another transport (``sips:``,
``;transport=tcp``) fails with E_NO_SOCKET, and a reply whose second Via is not UDP is dropped,
as Kamailio does when it has no socket of that kind (``get_send_socket``).

The engine never resolves a name: a hostname destination travels as ``(host, port)`` in the
``Send`` and the driver decides (live mode refuses unless ``--dns``).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable
from typing import TypeVar

from sipsim.engine.config import SIP_PORT, ServerConfig
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.errors import E_BAD_ADDRESS, E_BAD_URI, E_NO_SOCKET, E_UNSPEC, send_error_code, set_ser_error
from sipsim.engine.events import DROPPED, FORWARDED, Addr, Send, format_addr
from sipsim.engine.msg_translator import build_req_buf_from_sip_req, build_res_buf_from_sip_res, same_ip
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.fline import METHODS, SIP_REQUEST
from sipsim.engine.parser.hf import F_CALLID, F_CSEQ, F_FROM, F_TO, F_VIA2
from sipsim.engine.parser.lex import IPV4_RE, digits_value, is_digits, strip_brackets
from sipsim.engine.parser.msg import FL_FORWARDED, SipMsg
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import SipUri, kamailio_user_phone, parse_uri

_T = TypeVar("_T")

BRANCH_MAGIC = "z9hG4bK"
# INVITE, ACK and CANCEL leave the To-tag out of the branch: their method_value bits, to test at once
_NO_TOTAG = METHODS["INVITE"] | METHODS["ACK"] | METHODS["CANCEL"]


def char_msg_val(msg: SipMsg) -> str:
    """MD5 over the fields that identify a request (Kamailio's ``char_msg_val.h``)."""
    parse_headers(msg, F_FROM | F_TO | F_CALLID | F_CSEQ)
    ftag = ttag = callid = cseq = ""
    if msg.from_ is not None and msg.from_.parsed is not None:
        ftag = msg.from_.parsed.param("tag") or ""
    fl = msg.first_line
    no_totag = fl is not None and fl.type == SIP_REQUEST and fl.method_value & _NO_TOTAG != 0
    if msg.to is not None and msg.to.parsed is not None and not no_totag:
        ttag = msg.to.parsed.param("tag") or ""
    if msg.callid is not None:
        callid = msg.callid.body
    if msg.cseq is not None and msg.cseq.parsed is not None:
        cseq = msg.cseq.parsed.number
    v = msg.via1
    via = f"{v.host}|{v.port or ''}|{v.branch or ''}" if v is not None else ""
    ruri = msg.first_line.uri if msg.first_line is not None else ""
    key = "|".join((ftag, ttag, callid, ruri, cseq, via))
    return hashlib.md5(key.encode("latin-1")).hexdigest()


def branch_builder(msg: SipMsg) -> str:
    """``z9hG4bK`` + hex(hash of Call-ID and CSeq number) + ``.`` + char_msg_val + ``.0``.

    ``char_msg_val`` comes first, as in Kamailio: it parses the transaction's headers, so the hash
    reads a Call-ID and CSeq that exist even when the script asked for none of them (ser profile)."""
    val = char_msg_val(msg)
    callid = msg.callid.body if msg.callid is not None else ""
    cseq = msg.cseq.parsed.number if msg.cseq is not None and msg.cseq.parsed is not None else ""
    hash_index = int(hashlib.md5(f"{callid}{cseq}".encode("latin-1")).hexdigest()[:4], 16)
    return f"{BRANCH_MAGIC}{hash_index:x}.{val}.0"


_ALIAS_PROTOS = ("udp:", "tcp:", "tls:", "sctp:", "ws:", "wss:", "any:")


@functools.lru_cache(maxsize=256)
def split_alias(alias: str) -> tuple[str, int | None]:
    """An ``alias`` value as Kamailio's cfg grammar reads it: ``[proto:]host[:port]`` -> (host, port).

    The host is a name, an IPv4 address, an IPv6 reference ``[2001:db8::1]`` — the only IPv6 form
    that can carry a port (``[2001:db8::1]:5070``) — or a bare IPv6 address (any port). The
    protocol is left out (``uri == myself`` matches an alias whatever the transport, as Kamailio's
    ``check_self`` does). No port: any port. ValueError says what is wrong (CLI checks).
    Simplification: a quoted alias is read the same way (Kamailio takes ``"host:5070"`` as a name).
    """
    text = alias.strip().lower()
    for proto in _ALIAS_PROTOS:
        if text.startswith(proto) and text[len(proto):] and not is_digits(text[len(proto):]):
            text = text[len(proto):]
            break
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise ValueError(f"bad alias {alias!r}: an IPv6 reference is [address] or [address]:port")
        if rest and not (rest.startswith(":") and is_digits(rest[1:])):
            raise ValueError(f"bad alias {alias!r}: after ']' only ':port' may follow")
        port = rest[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
        if not is_digits(port):
            raise ValueError(f"bad alias {alias!r}: the port must be a number")
    else:
        host, port = text, ""  # a name, IPv4, or a bare IPv6 address (which cannot carry a port)
    if not host:
        raise ValueError(f"bad alias {alias!r}: no host")
    if port and not 0 < int(port) < 65536:
        raise ValueError(f"bad alias {alias!r}: the port must be 1 to 65535")
    return host.rstrip("."), int(port) if port else None


def ruri_is_myself(cfg: ServerConfig, msg: SipMsg) -> bool:
    """``uri == myself`` for the Request-URI: a sip: URI naming this server (a URI that does not
    parse names nothing). The default route asks it, and the ser profile's Require check."""
    try:
        uri = msg.parsed_ruri()
    except ParseError:
        return False
    return uri.is_sip and check_self(cfg, uri.host, uri.port)


def check_self(cfg: ServerConfig, host: str, port: int | None, udp: bool = True) -> bool:
    """Is host[:port] this server? Our listen address, advertised name or an alias (``check_self``).

    An alias is compared as text, without case (as Kamailio's ``grep_aliases``): ``[2001:DB8::1]``
    matches the alias ``[2001:db8::1]``, ``[2001:db8:0::1]`` does not. An alias that cannot be
    read (only possible from code: the CLI refuses one) names nothing. ``udp`` False (a URI whose
    ``transport`` names another protocol, as kex's ``is_myself()`` passes it on): our one UDP
    socket is not it, an alias (any protocol) still is.
    """
    host = strip_brackets(host).lower().rstrip(".")
    port = port or SIP_PORT
    listen_host, listen_port = cfg.listen
    if udp and (host in _own_names(listen_host, cfg.advertise) or same_ip(host, listen_host)):
        return port == listen_port
    for alias in cfg.aliases:
        try:
            a_host, a_port = split_alias(alias)
        except ValueError:
            continue
        if host == a_host and (a_port is None or a_port == port):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _own_names(listen_host: str, advertise: str | None) -> frozenset[str]:
    """The names ``check_self`` compares a host with: the listen address and the advertised name.
    Made once per configuration (check_self runs several times for every message)."""
    names = {strip_brackets(listen_host).lower()}
    if advertise:
        names.add(advertise.lower())
    return frozenset(names)


def uri_dest(uri: SipUri, kamailio: bool = False) -> Addr:
    """The next hop a SIP URI names (no DNS: a hostname stays a name).

    The ser profile honours the URI's ``maddr`` parameter (RFC 3261 §19.1.1). Kamailio 5.6's
    ``forward()`` does not: it goes to the host (measured); only the rr module turns a Route's
    maddr into the destination (``loose_route``). A ``sips:`` URI defaults to port 5061 -- in
    Kamailio not with ``;user=phone`` (then it is a tel: URI, see :func:`uri_proto`).
    """
    if not uri.is_sip:
        raise ParseError(f"cannot forward to a {uri.scheme}: URI")
    host = (None if kamailio else uri.param("maddr")) or uri.host
    if kamailio and "\0" in host:
        host = host[: host.index("\0")]  # the resolver reads a C string (``sip:biloxi.com\0x``: measured)
    secure = uri.scheme == "sips" and not (kamailio and _phone(uri))
    port = uri.port or (5061 if secure else SIP_PORT)
    return strip_brackets(host), port


def _host_cache(fn: Callable[[str], _T]) -> Callable[[str], _T]:
    """Cache an answer that depends on a host's text alone (a proxy sends to the same few hosts
    again and again) -- for host-sized text only: the text comes from messages, and 1024 cached
    keys of 64 KiB each would hold 64 MiB in every worker."""
    cached = functools.lru_cache(maxsize=1024)(fn)

    @functools.wraps(fn)
    def call(host: str) -> _T:
        return cached(host) if len(host) <= 255 else fn(host)

    return call


@_host_cache
def is_bad_destination(host: str) -> str | None:
    """Why a destination must not be sent to (broadcast, unspecified, multicast), or None (cached)."""
    if ":" not in host:
        parts = host.split(".")
        if len(parts) != 4 or not all(is_digits(p) for p in parts):
            return None  # a name: the driver decides
        first = int(parts[0])
        if host == "255.255.255.255":
            return "the broadcast address"
        if first == 0 and host == "0.0.0.0":
            return "the unspecified address"
        if 224 <= first <= 239:
            return "a multicast address"
        return None
    try:
        ip = ipaddress.ip_address(strip_brackets(host))
    except ValueError:
        return None
    if ip.is_unspecified:
        return "the unspecified address"
    if isinstance(ip, ipaddress.IPv4Address) and (ip == ipaddress.IPv4Address("255.255.255.255")):
        return "the broadcast address"
    if ip.is_multicast:
        return "a multicast address"
    return None


def _kamailio_ipv6(host: str) -> bool:
    """Does Kamailio 5.6 take ``host`` (brackets stripped) for an IPv6 address? Not with an IPv4 tail."""
    if "." in host:
        return False
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


@_host_cache
def _kamailio_ipv4(host: str) -> str:
    """Kamailio 5.6's ``str2ip()`` reads each of four dotted numbers of up to three digits into a
    byte, so ``192.0.2.256`` is 192.0.2.0 and ``999.0.2.1`` is 231.0.2.1 (measured): the address a
    quirk of the real server sends to, which a learner may meet. (Cached: it depends on the text
    alone, and every forwarded request asks it.)"""
    parts = host.split(".")
    if len(parts) != 4 or IPV4_RE.fullmatch(host):
        return host  # a name (or anything but four parts), or an address Kamailio reads as written
    if not all(1 <= len(p) <= 3 and is_digits(p) for p in parts):
        return host
    return ".".join(str(int(p) & 0xFF) for p in parts)


def _family(host: str) -> int:
    """6 for an IPv6 literal, else 4 (IPv4 or a name: a name is resolved by the driver, if at all)."""
    return 6 if ":" in host else 4


def next_hop(msg: SipMsg) -> Addr:
    """$du if set, else the (new) R-URI. Raises ParseError for an unusable URI."""
    return uri_dest(_next_hop_uri(msg), kamailio=not msg.profile_ser)


def _next_hop_uri(msg: SipMsg) -> SipUri:
    return parse_uri(msg.dst_uri, kamailio=msg.mode.uri_kamailio) if msg.dst_uri else msg.parsed_ruri()


_URI_PROTOS = ("tcp", "tls", "sctp", "ws")


def uri_proto(uri: SipUri, kamailio: bool = False) -> str:
    """The transport a URI asks for: ``sips:`` is TLS whatever ``;transport`` says (unless
    ``;user=phone``), else the ``transport`` parameter (tcp, tls, sctp, ws; Kamailio reads the last
    one), else UDP (an unknown value, ``wss`` or an empty one included — measured with Kamailio 5.6)."""
    if uri.scheme == "sips" and not (kamailio and _phone(uri)):
        return "tls"
    if not uri.params:
        return "udp"  # (the common case: no parameter asks for anything)
    transport = ((uri.last_param if kamailio else uri.param)("transport") or "").lower()
    return transport if transport in _URI_PROTOS else "udp"


def _phone(uri: SipUri) -> bool:
    """``;user=phone`` (the last ``user``): Kamailio (``phone2tel``, on by default) then takes a
    sip:/sips: URI for a tel: URI -- a ``sips:`` one is no longer secure (measured: forwarded over UDP)."""
    return kamailio_user_phone(uri.params)


def _refuse(ctx: WorkerContext, msg: SipMsg, error: int, cause: str, text: str, reason: str) -> Steps:
    """``forward_request`` gives up before sending: the error (and its cause) ``sl_reply_error``
    answers with, the step when it is narrated, and -1."""
    set_ser_error(msg, error, cause)
    if ctx.tracing:
        yield ctx.event("forward_request", msg, text, reason=reason)
    return -1


def forward_request(ctx: WorkerContext, msg: SipMsg, dst: Addr | None = None) -> Steps:
    """Forward statelessly to ``dst`` (or $du / the R-URI). Returns 1, or -1 with ``ser_error``."""
    kamailio = not ctx.ser
    proto = "udp"
    if dst is None:
        try:
            uri = _next_hop_uri(msg)
            if kamailio and uri.scheme in ("tel", "urn"):
                # Kamailio 5.6 parses a tel:/urn: URI (a user, no host) and then fails to resolve
                # its empty host (measured: 478)
                return (yield from _refuse(ctx, msg, E_BAD_ADDRESS, f"a {uri.scheme}: URI has no host to send to",
                                           f"a {uri.scheme}: URI has no host: nothing to resolve",
                                           f"unresolvable {uri.scheme}: URI"))
            dst = uri_dest(uri, kamailio=kamailio)
        except ParseError as exc:
            return (yield from _refuse(ctx, msg, E_BAD_URI, f"bad next-hop URI: {exc.reason}",
                                       f"cannot forward: {exc.reason}", exc.reason))
        proto = uri_proto(uri, kamailio=kamailio)
        if (kamailio and proto == "tls" and uri.scheme == "sips"
                and (uri.last_param("transport") or "").lower() == "udp"):
            return (yield from _refuse(ctx, msg, E_UNSPEC, "a sips: URI cannot go over UDP",
                                       "cannot forward: a sips: URI with ;transport=udp "
                                       "(a secure URI over an insecure transport)", "sips over UDP"))
    if kamailio and (":" in dst[0] or not dst[0]) and not _kamailio_ipv6(dst[0]):
        # Kamailio 5.6 does not read an IPv6 address with an IPv4 tail (2001:db8::192.0.2.1), or
        # anything else in brackets that is not an IPv6 address ([2001:db8::zz], []), as an
        # address: it takes it for a name, which does not resolve (measured: 478).
        return (yield from _refuse(ctx, msg, E_BAD_ADDRESS, f"unresolvable {dst[0]}",
                                   f"[{dst[0]}] is not read as an IPv6 address: taken for a name that does "
                                   "not resolve", f"unresolvable {dst[0]}"))
    if kamailio:
        dst = (_kamailio_ipv4(dst[0]), dst[1])
    # (the branch is computed before a socket is chosen)
    if kamailio and msg.from_ is not None and msg.from_.parsed is None:
        # char_msg_val() needs the From-tag: parse_from_header() fails -> forward_request fails
        return (yield from _refuse(ctx, msg, E_UNSPEC, "the From header does not parse (char_msg_val failed)",
                                   "cannot compute the branch: the From header does not parse", "bad From header"))
    if _family(dst[0]) != _family(ctx.config.listen[0]):
        fam = "IPv6" if _family(dst[0]) == 6 else "IPv4"
        return (yield from _refuse(ctx, msg, E_NO_SOCKET, f"no {fam} listening socket to send to {dst[0]} from",
                                   f"cannot forward to {dst[0]}: no {fam} listening socket to send from",
                                   f"no {fam} socket"))
    if proto != "udp":
        # get_send_socket(): sipsim listens on one UDP socket, so a TCP/TLS/SCTP/WS next hop has no
        # socket to go out of (Kamailio: "no corresponding listening socket", 500 from sl_reply_error).
        # Simplification: Kamailio resolves a name first (an unknown name is 478 there, 500 here).
        return (yield from _refuse(ctx, msg, E_NO_SOCKET,
                                   f"no {proto.upper()} listening socket to send to {dst[0]} from",
                                   f"cannot forward to {format_addr(dst)} over {proto.upper()}: only a UDP socket "
                                   "listens", f"no {proto.upper()} socket"))
    bad = is_bad_destination(dst[0])
    if bad:
        return (yield from _refuse(ctx, msg, E_BAD_ADDRESS, f"refused: {bad} {dst[0]}",
                                   f"refuses to send to {bad} {dst[0]}", f"bad destination {dst[0]}"))
    branch = branch_builder(msg)
    data, via, changes = build_req_buf_from_sip_req(msg, ctx.config, branch)
    extra = f"; top Via gets {', '.join(changes)}" if changes else ""
    to = format_addr(dst)
    yield ctx.event(
        "forward_request", msg,
        f"adds '{via}'{extra}; sends {len(data)} bytes to {to}",
        outcome=FORWARDED, reason=f"forwarded to {to}",
        detail={"to": to, "branch": branch, "via": via, "received": changes, "bytes": len(data),
                "lumps": [lump.describe() for lump in msg.add_rm]} if ctx.tracing else None,
    )
    err = yield Send(dst, data, ctx.config.listen, "request", msg.id)
    if err:
        set_ser_error(msg, send_error_code(err), f"sending to {format_addr(dst)} failed: {err}")
        ctx.stats["drop_requests"] += 1
        yield ctx.event("forward_request", msg, f"sending to {format_addr(dst)} failed: {err}",
                        outcome=DROPPED, reason=f"send failed: {err}")
        return -1
    ctx.stats["fwd_requests"] += 1
    msg.msg_flags |= FL_FORWARDED
    return 1


def reply_next_hop(msg: SipMsg) -> Addr:
    """Where a reply goes: Via2's received (port from rport, else Via port/5060) or its sent-by.

    Kamailio 5.6 takes a ``received`` that is present even when its value is empty (the reply
    then has nowhere to go); the ser profile falls back to the sent-by.

    Kamailio reads ``rport=`` with ``str2s()``: up to five digits kept in 16 bits (``70000`` is
    port 4464); anything else (``-1``, ``5a``, six digits, empty) is port 0, and port 0 -- also
    ``rport=0`` or ``65536`` -- means the Via's own port, else 5060 (measured on 5.6.3)."""
    v = msg.via2
    assert v is not None
    rport = v.rport
    if msg.profile_ser:
        value = digits_value(rport) if rport and is_digits(rport) else None  # (None: thousands of digits)
        port = value if value is not None else (v.port or SIP_PORT)
    else:
        port = (int(rport) & 0xFFFF if rport and len(rport) <= 5 and is_digits(rport) else 0) or v.port or SIP_PORT
    received = v.received
    host = received if received or (received is not None and not msg.profile_ser) else v.host
    return strip_brackets(host), port


def forward_reply(ctx: WorkerContext, msg: SipMsg) -> Steps:
    """Forward a reply by its Vias. Returns 1 when sent, 0 when dropped.

    Counting as ``do_forward_reply`` (``src/core/forward.c``): a reply that cannot go anywhere (top
    Via not ours, no usable second Via, no socket for it) is dropped *without* a counter — only a
    failed send counts ``drop_replies`` (a broadcast or unspecified next hop is refused here as
    Linux's ``sendto`` refuses it there, and counted like that failure)."""
    cfg = ctx.config
    v1 = msg.via1
    if cfg.check_via and v1 is not None and not check_self(cfg, v1.host, v1.port):
        yield ctx.event("forward_reply", msg, f"top Via {v1.sent_by()} is not ours (check_via): dropped",
                        outcome=DROPPED, reason="top Via is not ours")
        return 0
    if parse_headers(msg, F_VIA2) < 0:
        reason = msg.hdr_error.reason if msg.hdr_error else "parse error"
        yield ctx.event("forward_reply", msg, f"looking for the second Via: {reason}; dropped",
                        outcome=DROPPED, reason=reason, unparsed=msg.unparsed)
        return 0
    if msg.via2 is None:
        yield ctx.event("forward_reply", msg, "no second Via: nowhere to send the reply; dropped",
                        outcome=DROPPED, reason="no 2nd via", unparsed=msg.unparsed)
        return 0
    dst = reply_next_hop(msg)
    if not dst[0]:
        yield ctx.event("forward_reply", msg, "the second Via's received= is empty: nowhere to send; "
                        "cannot forward reply", outcome=DROPPED, reason="empty received")
        return 0
    transport = msg.via2.transport.upper()
    if _family(dst[0]) != _family(cfg.listen[0]):
        fam = "IPv6" if _family(dst[0]) == 6 else "IPv4"
        yield ctx.event("forward_reply", msg, f"second Via is {fam} ({dst[0]}): no {fam} socket to send from; "
                        "cannot forward reply", outcome=DROPPED, reason=f"no {fam} socket")
        return 0
    if transport != "UDP":
        # the reply goes out over the second Via's transport; only a UDP socket listens
        yield ctx.event("forward_reply", msg, f"second Via asks for {transport}: no such socket to send from; "
                        "cannot forward reply", outcome=DROPPED, reason=f"no {transport} socket")
        return 0
    bad = is_bad_destination(dst[0])
    if bad:
        ctx.stats["drop_replies"] += 1
        host = f"[{dst[0]}]" if ":" in dst[0] else dst[0]  # "::" alone, before a colon, reads as nothing
        yield ctx.event("forward_reply", msg, f"second Via points to {bad} {host}: dropped",
                        outcome=DROPPED, reason=f"refusing to send to {bad} {host} (the second Via)")
        return 0
    data = build_res_buf_from_sip_res(msg)
    to = format_addr(dst)
    yield ctx.event(
        "forward_reply", msg,
        f"removes the top Via ({v1.sent_by() if v1 else '?'}); sends to the next Via {to}",
        outcome=FORWARDED, status=msg.first_line.status if msg.first_line else None,
        reason=f"forwarded to {to}", unparsed=msg.unparsed,
        detail={"to": to, "bytes": len(data),
                "lumps": [lump.describe() for lump in msg.add_rm]} if ctx.tracing else None,
    )
    err = yield Send(dst, data, cfg.listen, "fwd_reply", msg.id)
    if err:
        ctx.stats["drop_replies"] += 1
        yield ctx.event("forward_reply", msg, f"sending failed: {err}", outcome=DROPPED, reason=f"send failed: {err}")
        return 0
    ctx.stats["fwd_replies"] += 1
    return 1
