"""Templates and the Dialog helper: consistent Call-ID/tags/CSeq/branches across a call, replies
built from their request, broken variants broken in exactly one way, deterministic output."""

from __future__ import annotations

import re

import pytest

from sipsim.packets.dialog import Dialog, reply_to
from sipsim.packets.errors import PacketsError, TemplateError
from sipsim.packets.layer import SIP, SIPRequest, SIPResponse
from sipsim.packets.message import SipMessage, via_branch
from sipsim.packets.templates import craft, craft_bytes, craft_message, template_names

CALLER = ("192.0.2.10", 5060)
CALLEE = ("192.0.2.20", 5062)
PROXY = ("192.0.2.5", 5060)


def tag(value: str) -> str | None:
    m = re.search(r";tag=([^;>\s]+)$", value)
    return m.group(1) if m else None


def addresses(pkt) -> tuple[tuple[str, int], tuple[str, int]]:  # noqa: ANN001
    net = pkt.getlayer("IP") or pkt.getlayer("IPv6")
    return (net.src, pkt.sport), (net.dst, pkt.dport)


def test_a_dialog_keeps_its_identifiers_consistent() -> None:
    d = Dialog(CALLER, CALLEE)
    inv = d.invite()
    trying, ringing, ok = d.reply(inv, 100), d.reply(inv, 180), d.reply(inv, 200)
    ack, bye = d.ack(), d.bye()
    bye_ok = d.reply(bye, 200)
    flow = [inv, trying, ringing, ok, ack, bye, bye_ok]
    sips = [p[SIP] for p in flow]

    # one Call-ID, one From-tag throughout; the To-tag appears with the first non-100 reply
    assert len({s.get_header("Call-ID") for s in sips}) == 1
    assert len({tag(s.get_header("From")) for s in sips}) == 1
    assert tag(inv[SIP].get_header("To")) is None and tag(trying[SIP].get_header("To")) is None
    to_tags = {tag(s.get_header("To")) for s in (ringing[SIP], ok[SIP], ack[SIP], bye[SIP], bye_ok[SIP])}
    assert len(to_tags) == 1 and None not in to_tags

    # CSeq: INVITE 1, its replies 1 INVITE, ACK 1 ACK (same number), BYE 2
    assert [s.get_header("CSeq") for s in sips] == [
        "1 INVITE", "1 INVITE", "1 INVITE", "1 INVITE", "1 ACK", "2 BYE", "2 BYE"]

    # replies copy Via/From/Call-ID/CSeq as sent; branches: ACK for a 2xx and BYE are new transactions
    for reply, req in ((trying, inv), (ringing, inv), (ok, inv), (bye_ok, bye)):
        for name in ("Via", "From", "Call-ID", "CSeq"):
            assert reply[SIP].get_headers(name) == req[SIP].get_headers(name)
        assert reply[SIP].answers(req[SIP])
        assert addresses(reply) == tuple(reversed(addresses(req)))
    branches = [via_branch(s.get_header("Via")) for s in (inv[SIP], ack[SIP], bye[SIP])]
    assert len(set(branches)) == 3 and all(b.startswith("z9hG4bK") for b in branches)

    # the 200 carries Contact and an SDP answer; Content-Length matches every body
    assert ok[SIP].get_header("Contact") == "<sip:bob@192.0.2.20:5062>"
    assert ok[SIP].body.startswith(b"v=0\r\n") and b"c=IN IP4 192.0.2.20" in ok[SIP].body
    assert b"c=IN IP4 192.0.2.10" in inv[SIP].body
    for s in sips:
        assert int(s.get_header("Content-Length")) == len(s.body)
    # in-dialog requests go to the remote target (the callee's Contact)
    assert ack[SIP].uri == bye[SIP].uri == "sip:bob@192.0.2.20:5062"
    assert addresses(inv) == (CALLER, CALLEE)


def test_cancel_and_non_2xx_ack_reuse_the_invite_transaction() -> None:
    d = Dialog(CALLER, CALLEE, seed=3)
    inv = d.invite()
    cancel = d.cancel()
    busy = d.reply(inv, 486)
    ack = d.ack(busy)
    branch = via_branch(inv[SIP].get_header("Via"))
    assert via_branch(cancel[SIP].get_header("Via")) == branch == via_branch(ack[SIP].get_header("Via"))
    assert cancel[SIP].get_header("CSeq") == "1 CANCEL" and ack[SIP].get_header("CSeq") == "1 ACK"
    assert cancel[SIP].uri == ack[SIP].uri == inv[SIP].uri
    assert tag(cancel[SIP].get_header("To")) is None  # CANCEL's To is the INVITE's
    assert tag(ack[SIP].get_header("To")) == tag(busy[SIP].get_header("To"))
    # REGISTER: own Call-ID, CSeq counts up, Contact is the caller's address
    r1, r2 = d.register(), d.register(expires=0)
    assert r1[SIP].get_header("Call-ID") == r2[SIP].get_header("Call-ID") != inv[SIP].get_header("Call-ID")
    assert (r1[SIP].get_header("CSeq"), r2[SIP].get_header("CSeq")) == ("1 REGISTER", "2 REGISTER")
    assert r1[SIP].get_header("Contact") == "<sip:alice@192.0.2.10:5060>"
    assert r2[SIP].get_header("Expires") == "0"


@pytest.mark.parametrize("name", [n for n, _ in template_names()])
def test_every_template_crafts_ipv4_and_ipv6_deterministically(name: str) -> None:
    # the templates are one call alice (src) -> proxy (dst) -> bob: a request goes from alice to
    # the proxy, a reply from bob (alice's host, port 5080) to the proxy
    pkt = craft(name, src=CALLER, dst=PROXY)
    reply = isinstance(pkt[SIP], SIPResponse)
    assert addresses(pkt) == ((CALLER[0], 5080) if reply else CALLER, PROXY) and pkt.haslayer("IP")
    data = bytes(pkt[SIP])
    assert data == craft_bytes(name, src=CALLER, dst=PROXY)  # same inputs, same bytes
    assert SipMessage.parse(data).to_bytes() == data
    seeded = craft_bytes(name, src=CALLER, dst=PROXY, seed=1)
    assert seeded == craft_bytes(name, src=CALLER, dst=PROXY, seed=1) != data

    v6 = craft(name, src="[2001:db8::a]:5070", dst="[2001:db8::b]:5060")
    assert v6.haslayer("IPv6") and not v6.haslayer("IP")
    assert addresses(v6) == (("2001:db8::a", 5080 if reply else 5070), ("2001:db8::b", 5060))
    layer = v6[SIP]
    vias = layer.get_headers("Via")
    if isinstance(layer, SIPRequest) and vias:
        assert "[2001:db8::a]:5070" in vias[0]  # the sender's own address, bracketed (RFC 5118)
    if isinstance(layer, SIPResponse):
        # the proxy's Via (port 5060 left out, as it writes it) over alice's, which it marked
        assert vias[0].startswith("SIP/2.0/UDP [2001:db8::b];branch=z9hG4bK")
        assert vias[1].startswith("SIP/2.0/UDP [2001:db8::a]:5070;") and "received=2001:db8::a" in vias[1]
    if layer.body.startswith(b"v=0"):
        assert b"IN IP6 2001:db8::" in layer.body


def test_broken_templates_break_one_thing_each() -> None:
    def msg(name: str) -> SipMessage:
        return craft_message(name, src=CALLER, dst=CALLEE)

    options = msg("options")
    cases = {
        "no-via": lambda m: m.remove_header("Via"),
        "no-cseq": lambda m: m.remove_header("CSeq"),
        "max-forwards-0": lambda m: m.set_header("Max-Forwards", "0"),
        "wrong-version": lambda m: setattr(m, "version", "SIP/3.0"),
    }
    for name, edit in cases.items():
        fixed = SipMessage.parse(options.to_bytes())
        edit(fixed)
        assert msg(name).to_bytes() == fixed.to_bytes(), name
    assert msg("wrong-version").first_line.endswith(" SIP/3.0")
    bad = msg("bad-content-length")
    assert int(bad.get_header("Content-Length")) == len(bad.body) + 20
    assert bad.method == "MESSAGE" and bad.body == b"Hello from sipsim"


def test_reply_to_any_request_and_set_overrides() -> None:
    request = craft("options", src=CALLER, dst=CALLEE, sets=[("Max-Forwards", "7"), ("X-Lab", "one")])
    assert request[SIP].get_header("Max-Forwards") == "7" and request[SIP].get_header("X-Lab") == "one"
    answer = reply_to(request, 404)
    assert isinstance(answer[SIP], SIPResponse) and (answer[SIP].status, answer[SIP].reason) == (404, "Not Found")
    assert tag(answer[SIP].get_header("To")) is not None
    assert addresses(answer) == (CALLEE, CALLER)
    raw = reply_to(bytes(request[SIP]), 100)
    assert isinstance(raw, bytes) and raw.startswith(b"SIP/2.0 100 Trying\r\n")
    assert tag(SipMessage.parse(raw).get_header("To") or "") is None  # 100 needs no To-tag
    with pytest.raises(PacketsError):
        reply_to(bytes(answer[SIP]), 200)  # no reply to a response


def test_template_errors_are_readable() -> None:
    names = template_names()
    assert len(names) == len({n for n, _ in names}) and all(desc for _, desc in names)
    assert {"register", "invite", "ack", "bye", "cancel", "options", "message", "100", "180", "200",
            "no-via", "no-cseq", "max-forwards-0", "bad-content-length", "wrong-version"} <= {n for n, _ in names}
    with pytest.raises(TemplateError, match="unknown template 'nope'; templates: register"):
        craft_bytes("nope")
    with pytest.raises(PacketsError, match="both be IPv4 or both IPv6"):
        craft_bytes("options", src="[::1]:5060", dst="127.0.0.1:5060")
    with pytest.raises(PacketsError, match="not an IPv4 or IPv6 address"):
        craft_bytes("options", dst="example.com:5060")
