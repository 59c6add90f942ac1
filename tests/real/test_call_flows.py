"""The call flows real phones produce, through `sipsim serve`'s default route (stateless proxy +
registrar), with two UDP sockets as the phones: what each phone receives, byte for byte where it
matters, and what `sipsim location` and the counters say afterwards.

Each expectation was compared with Kamailio 5.6.3 running the same default.cfg (SIPSIM_NO_RELAY):
the same answers, the same next hops, the same Contact lists (but the ``expires`` countdown).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import free_udp_port
from live_harness import LiveServer, eventually

from sipsim.real.location import SQLiteLocation

pytestmark = [pytest.mark.network, pytest.mark.timeout(30)]


class Phone:
    """A UDP socket that speaks just enough SIP (IPv4 or IPv6 loopback)."""

    def __init__(self, proxy: tuple[str, int]) -> None:
        self.proxy = proxy
        self.v6 = ":" in proxy[0]
        self.sock = socket.socket(socket.AF_INET6 if self.v6 else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((proxy[0], 0))
        self.sock.settimeout(3.0)
        self.port = self.sock.getsockname()[1]
        self.host = f"[{proxy[0]}]" if self.v6 else proxy[0]
        self.me = f"{self.host}:{self.port}"
        self.px = f"{self.host}:{proxy[1]}"

    def send(self, data: bytes, to: tuple | None = None) -> None:
        self.sock.sendto(data, to or self.proxy)

    def recv(self) -> tuple[str, tuple]:
        data, src = self.sock.recvfrom(65535)
        return data.decode("latin-1"), src

    def quiet(self, seconds: float = 0.3) -> bool:
        self.sock.settimeout(seconds)
        try:
            self.sock.recvfrom(65535)
            return False
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(3.0)

    def request(self, method: str, ruri: str, *, branch: str, callid: str, cseq: int = 1, to_tag: str = "",
                to_user: str = "bob", route: str = "", body: str = "", via: str = "", contact: str = "",
                expires: str = "") -> bytes:
        head = [f"{method} {ruri} SIP/2.0", f"Via: SIP/2.0/UDP {via or self.me};branch={branch};rport"]
        head += [f"Route: {route}"] if route else []
        to = f"<sip:{to_user}@{self.px}>" if to_user else f"<sip:{self.px}>"
        head += [f"From: <sip:alice@{self.px}>;tag=fa-{callid}", f"To: {to}{to_tag}",
                 f"Call-ID: {callid}", f"CSeq: {cseq} {method}", "Max-Forwards: 70"]
        head += [f"Contact: {contact or f'<sip:alice@{self.me}>'}"] if method != "ACK" else []
        head += [f"Expires: {expires}"] if expires else []
        head += ["Content-Type: application/sdp"] if body else []
        return ("\r\n".join(head) + f"\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}").encode()

    def register(self, user: str, *, contact: str = "", expires: str = "600", cseq: int = 1, via: str = "") -> str:
        self.send(self.request("REGISTER", f"sip:{self.px}", branch=f"z9hG4bK-reg-{user}-{cseq}",
                               callid=f"reg-{user}-{self.port}", cseq=cseq, to_user=user, via=via,
                               contact=contact or f"<sip:{user}@{self.me}>", expires=expires))
        return self.recv()[0]


def reply(status: str, req: str, *, body: str = "", contact: str = "") -> bytes:
    """A UAS's answer to ``req``: its Vias, From, Call-ID and CSeq, a To tag, an optional body."""
    lines = req.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
    keep = [ln for ln in lines if ln.split(":", 1)[0].lower() in ("via", "from", "call-id", "cseq")]
    to = next(ln for ln in lines if ln.lower().startswith("to:"))
    to += "" if ";tag=" in to else ";tag=tb"
    extra = ([f"Contact: {contact}"] if contact else []) + (["Content-Type: application/sdp"] if body else [])
    return ("\r\n".join([f"SIP/2.0 {status}", *keep, to, *extra])
            + f"\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}").encode()


def header(msg: str, name: str) -> list[str]:
    return [ln.split(":", 1)[1].strip() for ln in msg.split("\r\n\r\n")[0].split("\r\n")[1:]
            if ln.split(":", 1)[0].lower() == name.lower()]


def location(db: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "sipsim", "location", "--db", str(db), "--json"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def bound(db: Path) -> list[str]:
    """The contacts bound now, read from the table as the workers see it (cheaper than the CLI)."""
    store = SQLiteLocation(db)
    try:
        return [b.contact for b in store.all(time.time())]
    finally:
        store.close()


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n"
       + "".join(f"a=candidate:{n} 1 UDP 2130706431 127.0.0.1 {5000 + n} typ host generation 0 network-id 1\r\n"
                 for n in range(44)))  # ~3.9 KB: a WebRTC-style offer, past any 1,500-byte MTU


def _call_through(alice: Phone, bob: Phone) -> dict[str, str]:
    """Busy, then a call with a 4 KB SDP, a re-INVITE, ACK and BYE; what bob and alice saw."""
    seen: dict[str, str] = {}
    aor = f"sip:bob@{alice.px}"
    alice.send(alice.request("INVITE", aor, branch="z9hG4bK-busy", callid="busy"))
    inv, src = bob.recv()
    bob.send(reply("486 Busy Here", inv), src)
    seen["486"] = alice.recv()[0]
    alice.send(alice.request("ACK", aor, branch="z9hG4bK-busy", callid="busy", to_tag=";tag=tb"))
    seen["busy-invite"], seen["busy-ack"] = inv, bob.recv()[0]

    alice.send(alice.request("INVITE", aor, branch="z9hG4bK-big", callid="big", body=SDP))
    inv, src = bob.recv()
    bob.send(reply("200 OK", inv, body=SDP, contact=f"<sip:bob@{bob.me}>"), src)
    seen["big-invite"], seen["big-200"] = inv, alice.recv()[0]
    # inside the dialog: to bob's Contact, with the outbound proxy as a loose-route Route (as
    # phones configured with an outbound proxy send it), then without it (no relay: 403)
    target = f"sip:bob@{bob.me}"
    alice.send(alice.request("ACK", target, branch="z9hG4bK-ack2xx", callid="big", to_tag=";tag=tb",
                             route=f"<sip:{alice.px};lr>"))
    seen["ack"] = bob.recv()[0]
    alice.send(alice.request("INVITE", target, branch="z9hG4bK-re", callid="big", cseq=2, to_tag=";tag=tb",
                             route=f"<sip:{alice.px};lr>", body=SDP[:300]))
    reinv, src = bob.recv()
    bob.send(reply("200 OK", reinv, contact=f"<sip:bob@{bob.me}>"), src)
    seen["reinvite"], seen["reinvite-200"] = reinv, alice.recv()[0]
    alice.send(alice.request("BYE", target, branch="z9hG4bK-bye-noroute", callid="big", cseq=3, to_tag=";tag=tb"))
    seen["bye-noroute"] = alice.recv()[0]
    seen["bob-quiet"] = str(bob.quiet())
    alice.send(alice.request("BYE", target, branch="z9hG4bK-bye", callid="big", cseq=4, to_tag=";tag=tb",
                             route=f"<sip:{alice.px};lr>"))
    bye, src = bob.recv()
    bob.send(reply("200 OK", bye), src)
    seen["bye"], seen["bye-200"] = bye, alice.recv()[0]
    return seen


def _check_call(seen: dict[str, str], alice: Phone, bob: Phone) -> None:
    proxy_via = header(seen["busy-invite"], "Via")[0]
    assert proxy_via.startswith(f"SIP/2.0/UDP {alice.px};branch=z9hG4bK"), proxy_via
    assert seen["486"].startswith("SIP/2.0 486 Busy Here\r\n")
    # RFC 3261 16.11: the non-2xx ACK goes where the INVITE went, with the INVITE's branch
    assert seen["busy-ack"].startswith(f"ACK sip:bob@{bob.me} SIP/2.0\r\n"), seen["busy-ack"]
    assert header(seen["busy-ack"], "Via")[0] == proxy_via
    # the 4 KB INVITE and its 200 arrive whole
    assert seen["big-invite"].endswith("\r\n\r\n" + SDP) and seen["big-200"].endswith("\r\n\r\n" + SDP)
    assert header(seen["big-200"], "Content-Length") == [str(len(SDP))]
    # the 2xx ACK and re-INVITE follow the Route naming the proxy, which the proxy removes (16.4)
    for name in ("ack", "reinvite", "bye"):
        assert seen[name].split("\r\n", 1)[0].endswith(f" sip:bob@{bob.me} SIP/2.0"), seen[name]
        assert header(seen[name], "Route") == [], seen[name]
        assert len(header(seen[name], "Via")) == 2
    assert seen["reinvite-200"].startswith("SIP/2.0 200 OK\r\n") and seen["bye-200"].startswith("SIP/2.0 200 OK\r\n")
    # no Route, a foreign target: the relay policy refuses (Kamailio with this script: the same 403)
    assert seen["bye-noroute"].startswith("SIP/2.0 403 Relaying Forbidden\r\n") and seen["bob-quiet"] == "True"


def test_two_phones_register_and_call(tmp_path: Path, isolated_network: None) -> None:
    with LiveServer(tmp_path, workers=2) as srv:
        alice, bob = Phone(("127.0.0.1", srv.port)), Phone(("127.0.0.1", srv.port))
        assert alice.register("alice").startswith("SIP/2.0 200 OK\r\n")
        assert bob.register("bob").startswith("SIP/2.0 200 OK\r\n")
        seen = _call_through(alice, bob)
        # OPTIONS keep-alive to the proxy itself: answered by the proxy, no lookup
        alice.send(alice.request("OPTIONS", f"sip:{alice.px}", branch="z9hG4bK-ka", callid="ka", to_user=""))
        keepalive = alice.recv()[0]
        # a worker counts a message after it has sent what the message made it send
        eventually(lambda: srv.stats()["rcv_requests_options"] == 1)
        stats = srv.stats()
    _check_call(seen, alice, bob)
    assert keepalive.startswith("SIP/2.0 200 OK\r\n") and header(keepalive, "Call-ID") == ["ka"]
    assert stats["rcv_requests_register"] == 2 and stats["rcv_requests_options"] == 1, stats
    assert stats["rcv_requests_invite"] == 3 and stats["rcv_requests_ack"] == 2 and stats["rcv_requests_bye"] == 2
    # INVITE x3, ACK x2, BYE; back: 486 and three 200s (the 403 and the keep-alive 200 are answers, not forwards)
    assert stats["fwd_requests"] == 6 and stats["fwd_replies"] == 4, stats
    assert stats["rcv_replies_486"] == 1 and stats["rcv_replies_2xx_invite"] == 2, stats
    assert stats["drop_requests"] == 0 and stats["send_refused"] == 0 and stats["err_requests"] == 0, stats


def test_the_same_flows_over_ipv6_loopback(tmp_path: Path, isolated_network: None) -> None:
    try:
        port = free_udp_port("::1")
    except OSError:
        pytest.fail("no IPv6 loopback in the private namespace")
    with LiveServer(tmp_path, workers=2, port=port, args=["--listen", f"[::1]:{port}"]) as srv:
        alice, bob = Phone(("::1", srv.port)), Phone(("::1", srv.port))
        assert alice.register("alice").startswith("SIP/2.0 200 OK\r\n")
        ok = bob.register("bob")
        seen = _call_through(alice, bob)
        rows = location(srv.db)
    assert f"Contact: <sip:bob@{bob.me}>;expires=600\r\n" in ok, ok
    _check_call(seen, alice, bob)
    assert {r["aor"]: r["source"] for r in rows} == {"alice": alice.me, "bob": bob.me}, rows


def test_unregister_and_a_phone_behind_nat(tmp_path: Path, isolated_network: None) -> None:
    with LiveServer(tmp_path, workers=2) as srv:
        bob = Phone(("127.0.0.1", srv.port))
        other = f"<sip:bob@127.0.0.1:{bob.port + 1}>"
        bob.register("bob")
        two = bob.register("bob", contact=other, cseq=2)
        one = bob.register("bob", contact=other, expires="0", cseq=3)  # Expires: 0 removes that contact
        after_one = bound(srv.db)
        star_refused = bob.register("bob", contact="*", expires="600", cseq=4)
        bob.register("bob", contact=other, cseq=5)
        star = bob.register("bob", contact="*", expires="0", cseq=6)  # Contact: * removes them all
        after_star = bound(srv.db)
        # behind a NAT: the Via names the phone's private address, the datagram comes from another
        nat = bob.register("carol", contact="<sip:carol@10.0.0.7:5060>", via="10.0.0.7:5060")
        rows = location(srv.db)
        # a phone's NAT keep-alives: no answer, no info line each (Kamailio: debug "probing packet")
        for keepalive in (b"\r\n\r\n", b"\r\n", b"\x00" * 4):
            bob.send(keepalive)
        quiet = bob.quiet(0.2)
        eventually(lambda: srv.stats()["rcv_datagrams"] == 10)
        stats, log = srv.stats(), srv.log_text()
    assert header(two, "Contact") == [f"<sip:bob@{bob.me}>;expires=600, {other};expires=600"]
    assert header(one, "Contact") == [f"<sip:bob@{bob.me}>;expires=600"]
    assert after_one == [f"sip:bob@{bob.me}"]
    assert star_refused.startswith("SIP/2.0 400 Bad Request\r\n")
    assert header(star_refused, "P-Registrar-Error") == ["* used in contact and expires is not zero"]
    assert star.startswith("SIP/2.0 200 OK\r\n") and header(star, "Contact") == [] and after_star == []
    # the 200 went back to where the REGISTER came from (rport), and says so in the Via
    assert header(nat, "Via") == [f"SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK-reg-carol-1;rport={bob.port};"
                                  "received=127.0.0.1"]
    # default.cfg has no fix_nated_contact(): the binding keeps the Contact as sent (so does
    # Kamailio); sipsim also lists where the REGISTER came from
    assert [(r["aor"], r["contact"], r["source"], r["received"]) for r in rows] == [
        ("carol", "sip:carol@10.0.0.7:5060", bob.me, None)]
    assert stats["rcv_requests_register"] == 7 and stats["err_requests"] == 0, stats
    assert quiet and stats["rcv_datagrams"] == 10 and stats["rcv_requests"] == 7, stats
    assert log.count(" REGISTER sip:") == 7 and "(blank first line)" not in log and "????" not in log, log
