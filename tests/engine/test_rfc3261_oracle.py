"""RFC 3261 §24 is the oracle for forwarding: our proxy must send the RFC's next message.

F1 received by the atlanta.com proxy (advertising bigbox3.site3.atlanta.com) from 192.0.2.1 must
become F3; F6 received by server10.biloxi.com from 192.0.2.4 must become F7 and go to 192.0.2.2:5060;
F9 likewise becomes F10. Only our branch value and line folding may differ.
"""

from __future__ import annotations

import re

from helpers import corpus, with_body

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver

BY_NAME = {e.file: e for e in corpus() if e.folder == "rfc3261"}


def msg(name: str) -> bytes:
    return with_body(BY_NAME[name])


def normalise(data: bytes, *, our_branch: bool) -> bytes:
    """Unfold header lines; optionally blank the branch of the first Via (ours)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    head = re.sub(rb"\r\n[ \t]+", b"", head)
    if our_branch:
        head = re.sub(rb"(\r\nVia: [^\r\n;]+;branch=)[^;\r\n]+", rb"\1BRANCH", head, count=1)
    return head + sep + body


def test_f1_becomes_f3_at_atlanta() -> None:
    f3 = normalise(msg("s24_2_F3_INVITE.dat"), our_branch=True)
    for profile in Profile:
        d = MemoryDriver(ServerConfig(profile=profile, advertise="bigbox3.site3.atlanta.com"))
        result = d.feed(msg("s24_2_F1_INVITE.dat"), ("192.0.2.1", 5060))
        assert result.outcome == "forwarded", result.reason
        (sent,) = result.sent
        assert sent.to == ("biloxi.com", 5060)  # a name: the engine never resolves it
        assert re.search(rb"branch=z9hG4bK[0-9a-f]+\.[0-9a-f]{32}\.0", sent.data)
        got = normalise(sent.data, our_branch=True)
        if profile is Profile.KAMAILIO:
            # The one difference Kamailio 5.6 makes (measured): received= right after the sent-by.
            assert b"pc33.atlanta.com;received=192.0.2.1;branch=z9hG4bKnashds8" in got
            moved = b";received=192.0.2.1;branch=z9hG4bKnashds8"
            got = got.replace(moved, b";branch=z9hG4bKnashds8;received=192.0.2.1")
        assert got == f3


def test_f6_becomes_f7_and_f9_becomes_f10_at_biloxi() -> None:
    for profile in Profile:
        d = MemoryDriver(ServerConfig(profile=profile, advertise="server10.biloxi.com"))
        for received, expected in (("s24_2_F6_180.dat", "s24_2_F7_180.dat"), ("s24_2_F9_200.dat", "s24_2_F10_200.dat")):
            result = d.feed(msg(received), ("192.0.2.4", 5060))
            (sent,) = result.sent
            assert sent.to == ("192.0.2.2", 5060)
            assert sent.kind == "fwd_reply"
            assert sent.data == msg(expected)


def test_register_then_f3_becomes_f5_at_biloxi() -> None:
    """The registrar: Bob registers; the INVITE for bob@biloxi.com goes to his contact (F5)."""
    cfg = ServerConfig(advertise="server10.biloxi.com", aliases=("biloxi.com", "registrar.biloxi.com"))
    d = MemoryDriver(cfg)
    reg = d.feed(msg("s24_1_F1_REGISTER.dat"), ("192.0.2.4", 5060))
    assert (reg.outcome, reg.status) == ("replied", 200)
    ok = reg.sent[0].data.decode()
    assert "Contact: <sip:bob@192.0.2.4>;expires=7200\r\n" in ok
    result = d.feed(msg("s24_2_F3_INVITE.dat"), ("192.0.2.2", 5060))
    (sent,) = result.sent
    assert sent.to == ("192.0.2.4", 5060)
    assert normalise(sent.data, our_branch=True) == normalise(msg("s24_2_F5_INVITE.dat"), our_branch=True)


def _branch(data: bytes) -> bytes:
    return re.search(rb"Via: SIP/2.0/UDP [^;]+;branch=([^;\r\n]+)", data).group(1)


def test_retransmission_cancel_and_non2xx_ack_get_the_invites_branch() -> None:
    d = MemoryDriver(ServerConfig(advertise="bigbox3.site3.atlanta.com"))
    invite = msg("s24_2_F1_INVITE.dat")
    first = _branch(d.feed(invite, ("192.0.2.1", 5060)).sent[0].data)
    again = _branch(d.feed(invite, ("192.0.2.1", 5060)).sent[0].data)
    assert first == again

    head = invite.split(b"\r\n\r\n")[0].decode()
    lines = [ln for ln in head.split("\r\n") if not ln.startswith(("Contact", "Content-Type", "Content-Length"))]
    cancel = "\r\n".join(lines).replace("INVITE sip:", "CANCEL sip:", 1)
    cancel = cancel.replace("CSeq: 314159 INVITE", "CSeq: 314159 CANCEL")
    cancel = (cancel + "\r\nContent-Length: 0\r\n\r\n").encode()
    assert _branch(d.feed(cancel, ("192.0.2.1", 5060)).sent[0].data) == first

    ack = cancel.decode().replace("CANCEL sip:", "ACK sip:", 1).replace("CSeq: 314159 CANCEL", "CSeq: 314159 ACK")
    ack = ack.replace("To: Bob <sip:bob@biloxi.com>", "To: Bob <sip:bob@biloxi.com>;tag=8321234356").encode()
    assert _branch(d.feed(ack, ("192.0.2.1", 5060)).sent[0].data) == first

    bye = ack.decode().replace("ACK sip:", "BYE sip:", 1).replace("CSeq: 314159 ACK", "CSeq: 314160 BYE").encode()
    assert _branch(d.feed(bye, ("192.0.2.1", 5060)).sent[0].data) != first
