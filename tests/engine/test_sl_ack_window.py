"""sl's ACK filter and the counters Kamailio 5.6 keeps (or does not keep) for silent drops.

Measured on the real 5.6.3 binary: an ACK carrying the To-tag of sl's own 404 is swallowed when it
comes at once and reaches the script 2.6 s later (``SL_RPL_WAIT_TIME``); a reply that cannot be
forwarded (no second Via, top Via not ours) counts no ``drop_replies``; a request that is not
SIP/2.0 counts no ``err_requests``; a short datagram is a probing packet before its source port
is looked at.
"""

from __future__ import annotations

import re

import pytest

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver

INVITE = (b"INVITE sip:nobody@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKw1\r\n"
          b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:nobody@127.0.0.1>\r\nCall-ID: win1\r\n"
          b"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
SRC = ("127.0.0.1", 5070)


def _ack_for(driver: MemoryDriver, at: float) -> bytes:
    answer = driver.feed(INVITE, SRC, time=at)
    assert answer.status == 404
    tag = re.search(rb"\r\nTo: [^\r]*;tag=([^;\r]+)", answer.sent[0].data).group(1)
    return (INVITE.replace(b"INVITE sip", b"ACK sip", 1).replace(b"CSeq: 1 INVITE", b"CSeq: 1 ACK")
            .replace(b"To: <sip:nobody@127.0.0.1>", b"To: <sip:nobody@127.0.0.1>;tag=" + tag))


def _swallowed(driver: MemoryDriver, ack: bytes, at: float) -> bool:
    result = driver.feed(ack, SRC, time=at)
    return result.outcome == "dropped" and result.final.step == "exec_pre_script_cb"


@pytest.mark.parametrize("profile", list(Profile))
def test_the_ack_filter_looks_only_two_seconds_after_the_last_stateless_reply(profile: Profile) -> None:
    d = MemoryDriver(ServerConfig(profile=profile))
    ack = _ack_for(d, 100.0)
    assert _swallowed(d, ack, 101.9)
    assert not _swallowed(d, ack, 102.6), "too late to be a local ACK: the script gets it"
    assert d.ctx.stats["received_ACKs"] == 1
    # another reply reopens the window for every earlier tag, as Kamailio's one shared timestamp does
    d.feed(INVITE.replace(b"win1", b"win2").replace(b"bKw1", b"bKw2"), SRC, time=200.0)
    assert _swallowed(d, ack, 200.5)


def test_the_whole_tag_is_compared_not_just_our_prefix() -> None:
    """An ACK with our tag but another transaction (another branch) is not the ACK of our reply."""
    d = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO))
    ack = _ack_for(d, 0.0)
    assert not _swallowed(d, ack.replace(b"branch=z9hG4bKw1", b"branch=z9hG4bKother"), 0.5)
    assert _swallowed(d, ack, 0.6)


def test_silent_drops_kamailio_does_not_count() -> None:
    d = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO))
    one_via = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
               b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: r1\r\nCSeq: 1 INVITE\r\n"
               b"Content-Length: 0\r\n\r\n")
    r = d.feed(one_via, ("127.0.0.1", 5080))
    assert r.outcome == "dropped" and r.reason == "no 2nd via"
    nonsip = INVITE.replace(b"INVITE sip:nobody@127.0.0.1 SIP/2.0", b"OPTIONS sip:nobody@127.0.0.1 SIP/3.0")
    r = d.feed(nonsip, SRC)
    assert r.outcome == "dropped" and "not SIP/2.0" in r.reason
    assert (d.ctx.stats["rcv_replies"], d.ctx.stats["drop_replies"]) == (1, 0)
    assert (d.ctx.stats["rcv_requests"], d.ctx.stats["err_requests"]) == (0, 0)  # counted nowhere
    # a broadcast next hop: Linux's sendto refuses it, and that failure is what Kamailio counts
    two_vias = one_via.replace(b"\r\nFrom:", b"\r\nVia: SIP/2.0/UDP 255.255.255.255:5070\r\nFrom:")
    assert d.feed(two_vias, ("127.0.0.1", 5080)).outcome == "dropped"
    assert d.ctx.stats["drop_replies"] == 1


def test_a_short_datagram_from_port_0_is_a_probing_packet() -> None:
    r = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO)).feed(b"\r\n\r\n", ("127.0.0.1", 0))
    assert r.outcome == "dropped" and r.reason.startswith("probing packet")
    r = MemoryDriver(ServerConfig(profile=Profile.SER)).feed(b"", ("127.0.0.1", 0))
    assert r.reason == "source port 0"
