"""The call templates are one dialog alice → proxy → bob, by RFC 3261's rules, and sipsim's own
engine treats them so: it forwards the crafted 180/200 (two Vias, the top one with the branch it
gave the INVITE) to alice, and the ACK/BYE to bob's Contact."""

from __future__ import annotations

from pathlib import Path

import pytest

import sipsim.routing
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.default_route import DefaultRoute
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.events import FORWARDED
from sipsim.packets.dialog import Dialog, has_tag
from sipsim.packets.message import SipMessage, via_branch
from sipsim.packets.templates import callee_for, craft_crafted, template_names

CALL = ["invite", "100", "180", "200", "404", "486", "ack", "bye", "cancel"]
FORWARDER = Path(sipsim.routing.__file__).parent / "scripts" / "forwarder.cfg"


def uri_of(name_addr: str) -> str:
    return name_addr[name_addr.index("<") + 1:name_addr.index(">")]


def without_tag(value: str) -> str:
    return value.split(";tag=")[0]


def crafted_call(src: str, dst: str, seed: int | None) -> dict[str, tuple[SipMessage, tuple, tuple]]:
    out = {}
    for name in CALL:
        c = craft_crafted(name, src=src, dst=dst, seed=seed)
        out[name] = (c.msg, c.src, c.dst)
    return out


@pytest.mark.parametrize(("src", "dst", "seed"), [
    ("127.0.0.1:5070", "127.0.0.1:5060", 7),  # the defaults of sipsim craft
    ("192.0.2.10:5060", "192.0.2.5:5070", None),
    ("[2001:db8::a]:5070", "[2001:db8::5]:5060", 3),
])
def test_the_call_templates_are_one_dialog_by_the_rfc(src: str, dst: str, seed: int | None) -> None:
    call = crafted_call(src, dst, seed)
    msgs = {n: m for n, (m, _, _) in call.items()}
    inv, ok, ack, bye = msgs["invite"], msgs["200"], msgs["ack"], msgs["bye"]
    alice, proxy = call["invite"][1], call["invite"][2]
    bob = callee_for(alice, proxy)
    assert bob not in (alice, proxy)

    # who sends what to whom: alice's requests and bob's replies all go to the proxy
    for name, (msg, s, d) in call.items():
        assert d == proxy and s == (bob if msg.is_response else alice), name

    # one Call-ID and one From (with its tag) for the whole call
    assert {m.get_header("Call-ID") for m in msgs.values()} == {inv.get_header("Call-ID")}
    assert {m.get_header("From") for m in msgs.values()} == {inv.get_header("From")}
    # bob's To-tag on every reply but the 100, and on the in-dialog requests (§8.2.6.2, §12.2.1.1)
    to_tag = ok.get_header("To").split(";tag=")[1]
    for name in ("180", "200", "404", "486", "ack", "bye"):
        assert msgs[name].get_header("To") == inv.get_header("To") + f";tag={to_tag}", name
    assert not has_tag(msgs["100"].get_header("To")) and msgs["cancel"].get_header("To") == inv.get_header("To")

    # CSeq: replies copy the INVITE's; ACK same number, method ACK; BYE the next number; CANCEL as INVITE
    assert [msgs[n].get_header("CSeq") for n in ("100", "180", "200", "404", "486")] == ["1 INVITE"] * 5
    assert (ack.get_header("CSeq"), bye.get_header("CSeq"), msgs["cancel"].get_header("CSeq")) == (
        "1 ACK", "2 BYE", "1 CANCEL")

    # branches: ACK for a 2xx and BYE are new transactions (§8.1.1.7, §13.2.2.4); CANCEL is the INVITE's (§9.1)
    branch = {n: via_branch(msgs[n].get_header("Via")) for n in ("invite", "ack", "bye", "cancel")}
    assert len({branch["invite"], branch["ack"], branch["bye"]}) == 3
    assert branch["cancel"] == branch["invite"] and all(b.startswith("z9hG4bK") for b in branch.values())

    # a reply carries the Vias of the request bob received: the proxy's over alice's (§16.6, §8.2.6.2)
    inv_via = inv.get_header("Via")
    for name in ("100", "180", "200", "404", "486"):
        vias = msgs[name].get_headers("Via")
        assert len(vias) == 2, name
        top, second = vias
        assert top.startswith(f"SIP/2.0/UDP {sent_by(proxy)};branch=z9hG4bK")
        assert via_branch(top) != branch["invite"]
        assert second.startswith(inv_via.split(";rport")[0])  # alice's Via as she sent it...
        assert f"received={alice[0]}" in second and f"rport={alice[1]}" in second  # ...marked by the proxy
    assert len({msgs[n].get_header("Via") for n in ("100", "180", "200", "404", "486")}) == 1

    # the dialog's remote target and route set: the 2xx's Contact and Record-Route (§12.1.2, §12.2.1.1)
    contact = uri_of(ok.get_header("Contact"))
    assert contact == f"sip:bob@{sent_by(bob)}" and msgs["180"].get_header("Contact") == ok.get_header("Contact")
    record_route = ok.get_headers("Record-Route")
    assert record_route == [f"<sip:{sent_by(proxy)};lr;ftag={inv.get_header('From').split(';tag=')[1]}>"]
    for req in (ack, bye):
        assert req.uri == contact and req.get_headers("Route") == record_route[::-1]
        assert req.get_header("Via").startswith(inv_via.split(";branch=")[0])  # from alice
    assert not msgs["404"].get_headers("Record-Route") and not msgs["100"].get_headers("Record-Route")
    assert b"m=audio" in ok.body and f"c=IN IP{6 if ':' in bob[0] else 4} {bob[0]}".encode() in ok.body


def sent_by(addr: tuple[str, int]) -> str:
    host = f"[{addr[0]}]" if ":" in addr[0] else addr[0]
    return host if addr[1] == 5060 else f"{host}:{addr[1]}"


def test_the_descriptions_say_who_sends_each_reply() -> None:
    desc = dict(template_names())
    for name in ("100", "180", "200", "404", "486"):
        assert "bob -> proxy" in desc[name] and "proxy's Via over alice's" in desc[name]
    assert "alice (--from) -> proxy (--to)" in desc["invite"]
    assert "new branch" in desc["ack"] and "CSeq 2" in desc["bye"]


def test_the_engine_forwards_the_crafted_call_both_ways() -> None:
    """The default route (what sipsim serve runs, ser profile) forwards the INVITE with exactly the
    Vias the crafted replies carry, the crafted 180/200 on to alice, ACK and BYE on to bob."""
    src, dst, seed = "127.0.0.1:5070", "127.0.0.1:5060", 7
    call = crafted_call(src, dst, seed)
    alice, proxy = call["invite"][1], call["invite"][2]
    bob = callee_for(alice, proxy)
    driver = MemoryDriver(ServerConfig(listen=proxy), router=DefaultRoute())

    # bob registers his contact, so that the INVITE for sip:bob@<proxy> is routed to him
    reg = Dialog(bob, alice, caller_user="bob", proxy=proxy)._build_register()
    assert driver.feed(reg.msg.to_bytes(), bob).status == 200

    fwd = driver.feed(call["invite"][0].to_bytes(), alice)
    assert fwd.outcome == FORWARDED and [s.to for s in fwd.sent] == [bob]
    forwarded = SipMessage.parse(fwd.sent[0].data)
    ringing, ok = call["180"][0], call["200"][0]
    assert forwarded.get_headers("Via") == ringing.get_headers("Via") == ok.get_headers("Via")
    for name in ("From", "Call-ID", "CSeq"):
        assert forwarded.get_header(name) == ok.get_header(name)
    assert forwarded.get_header("To") == without_tag(ok.get_header("To"))

    for name in ("100", "180", "200", "486"):
        res = driver.feed(call[name][0].to_bytes(), bob)
        assert res.outcome == FORWARDED and [s.to for s in res.sent] == [alice], (name, res.reason)
        out = SipMessage.parse(res.sent[0].data)
        assert out.get_headers("Via") == call[name][0].get_headers("Via")[1:]  # the proxy took its own off

    for name in ("ack", "bye"):
        res = driver.feed(call[name][0].to_bytes(), alice)
        assert res.outcome == FORWARDED and [s.to for s in res.sent] == [bob], (name, res.reason)


def test_a_record_routing_proxy_adds_the_crafted_record_route_and_follows_the_route_set() -> None:
    """forwarder.cfg record-routes the INVITE as the crafted 200 says, and loose_route() takes the
    crafted ACK and BYE to bob's Contact, removing its own Route."""
    from sipsim.routing import load_route

    src, dst = "127.0.0.1:5070", "127.0.0.1:5060"
    call = crafted_call(src, dst, None)
    alice, proxy = call["invite"][1], call["invite"][2]
    bob = callee_for(alice, proxy)
    cfg = ServerConfig(profile=Profile.KAMAILIO, listen=proxy)
    driver = MemoryDriver(cfg, router=load_route(FORWARDER, cfg))

    fwd = driver.feed(call["invite"][0].to_bytes(), alice)
    assert fwd.sent, fwd.reason
    assert SipMessage.parse(fwd.sent[0].data).get_headers("Record-Route") == call["200"][0].get_headers("Record-Route")
    for name in ("ack", "bye"):
        res = driver.feed(call[name][0].to_bytes(), alice)
        assert res.outcome == FORWARDED and [s.to for s in res.sent] == [bob], (name, res.reason)
        out = SipMessage.parse(res.sent[0].data)
        assert out.uri == f"sip:bob@127.0.0.1:{bob[1]}" and not out.get_headers("Route")


def test_a_dialog_through_a_proxy_answers_through_it() -> None:
    """Dialog with a proxy: replies come from the other side to the proxy, built on the proxied
    request; the ACK of a non-2xx has no Route (§17.1.1.3); bob's BYE is routed too; a REGISTER is
    answered by the registrar itself."""
    alice, bob, proxy = ("192.0.2.10", 5060), ("192.0.2.20", 5060), ("192.0.2.5", 5060)
    d = Dialog(alice, bob, proxy=proxy, seed=5)
    inv = d.invite()
    busy = d.reply(inv, 486)
    net = busy.getlayer("IP")
    assert (net.src, busy.sport, net.dst, busy.dport) == (*bob, *proxy)
    assert len(busy["SIP"].get_headers("Via")) == 2
    ack = d.ack(busy)["SIP"]
    assert ack.uri == inv["SIP"].uri and not ack.get_headers("Route")
    assert via_branch(ack.get_header("Via")) == via_branch(inv["SIP"].get_header("Via"))

    bye = d.bye(from_callee=True)
    assert bye["SIP"].get_headers("Route") == d.route_set and bye["SIP"].uri == "sip:alice@192.0.2.10:5060"
    bye_ok = d.reply(bye, 200)["SIP"]
    assert [v.split(";")[0] for v in bye_ok.get_headers("Via")] == ["SIP/2.0/UDP 192.0.2.5",
                                                                     "SIP/2.0/UDP 192.0.2.20:5060"]
    r = d.register()
    r_ok = d.reply(r, 200)
    assert (r_ok.getlayer("IP").src, len(r_ok["SIP"].get_headers("Via"))) == (proxy[0], 1)
