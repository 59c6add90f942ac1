"""One hop through the proxy: a request as the next hop receives it after a stateless proxy.

A reply that bob sends back through a proxy must carry the Vias of the request *bob* received:
the proxy's own Via on top, alice's below it (RFC 3261 §16.6 step 8, §8.2.6.2). A reply with only
alice's Via is dropped by the proxy ("no second Via"), and one whose top Via carries a branch the
proxy never used does not belong to any transaction it forwarded. So instead of inventing that Via,
:func:`proxied` asks sipsim's own engine how ``sipsim serve`` forwards the request:

* the branch comes from the engine's deterministic ``branch_builder`` (Kamailio's stateless
  branch: a hash of the Call-ID and CSeq number, then ``char_msg_val`` over From-tag, To-tag,
  Call-ID, CSeq, R-URI and the top Via), computed once From/To/Call-ID/CSeq are parsed, as the
  built-in default route has them when it calls ``forward_request``;
* the new Via line and the ``received=``/``rport=`` added to alice's Via come from the engine's
  ``build_req_buf_from_sip_req`` (RFC 3261 §18.2.1, RFC 3581 §4);
* Max-Forwards is one less (``mf_process_maxfwd_header``);
* an initial INVITE gets the ``Record-Route: <sip:PROXY;lr;ftag=FROM-TAG>`` that the rr module's
  ``record_route()`` inserts before the first header (sipsim/routing/scripts/forwarder.cfg does
  so), so that the dialog's later requests come back through the proxy (RFC 3261 §16.6 step 4).

Simplifications (say so to learners): the proxy is modelled with the ``ser`` profile (the default
of ``sipsim serve``; the ``kamailio`` profile writes ``received=`` before the first Via parameter
instead of at the end), with one UDP socket on the proxy's address and no ``advertise``/
``add_local_rport``; the Request-URI is left as alice wrote it (a ``lookup("location")`` would
rewrite it to bob's registered contact, which no reply copies). sipsim's built-in default route
does *not* record-route: there the Record-Route is the only line of the crafted replies that the
real forwarded INVITE lacks.

The engine is sans-I/O (no socket, no clock), so this import costs no I/O and keeps crafting
deterministic.
"""

from __future__ import annotations

from sipsim.packets.addr import SIP_PORT, Address, uri_host
from sipsim.packets.errors import PacketsError
from sipsim.packets.message import SIPHeader, SipMessage, small_int


def proxy_uri(proxy: Address) -> str:
    """``sip:HOST[:PORT]`` of the proxy as it writes itself (port left out when it is 5060)."""
    host, port = proxy
    return f"sip:{uri_host(host)}" + ("" if port == SIP_PORT else f":{port}")


def record_route_value(proxy: Address, from_tag: str) -> str:
    """The Record-Route value the rr module's ``record_route()`` writes (``append_fromtag`` on)."""
    return f"<{proxy_uri(proxy)};lr" + (f";ftag={from_tag}" if from_tag else "") + ">"


def proxied(req: SipMessage, sender: Address, proxy: Address, *, record_route: bool = False,
            from_tag: str = "") -> SipMessage:
    """``req`` (sent by ``sender`` to ``proxy``) as the proxy forwards it to the next hop.

    ``record_route`` adds the proxy's Record-Route (with ``from_tag`` as its ``ftag``).
    Raises PacketsError when the engine cannot parse or forward the request (only possible for a
    request edited into something broken)."""
    from sipsim.engine.config import ServerConfig
    from sipsim.engine.forward import branch_builder
    from sipsim.engine.msg_translator import build_req_buf_from_sip_req
    from sipsim.engine.parser.hf import F_CALLID, F_CSEQ, F_FROM, F_TO
    from sipsim.engine.parser.msg import ReceiveInfo, SipMsg
    from sipsim.engine.parser.msg_parser import parse_headers, parse_msg

    msg = SipMsg(req.to_bytes(), ReceiveInfo(sender, proxy), ser=True)
    if parse_msg(msg) < 0 or msg.h_via1 is None or parse_headers(msg, F_FROM | F_TO | F_CALLID | F_CSEQ) < 0:
        why = msg.parse_error or msg.hdr_error
        raise PacketsError(f"the proxy could not parse the {req.summary()}: {getattr(why, 'reason', why)}")
    data, _via, _changes = build_req_buf_from_sip_req(msg, ServerConfig(listen=proxy), branch_builder(msg))
    out = SipMessage.parse(data)
    hops = small_int((out.get_header("Max-Forwards") or "").strip())
    if hops:
        out.set_header("Max-Forwards", str(hops - 1))
    if record_route:
        out.headers.insert(0, SIPHeader.new("Record-Route", record_route_value(proxy, from_tag)))
    return out
