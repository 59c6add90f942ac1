"""receive_msg end to end: the two eras, callbacks, replies, registrar and the core's drops."""

from __future__ import annotations

import re

from helpers import corpus, with_body

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.context import WorkerContext
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.forward import forward_request
from sipsim.engine.script_cb import REQUEST_CB

F1 = with_body(next(e for e in corpus() if e.file == "s24_2_F1_INVITE.dat"))
ALICE = ("192.0.2.1", 5060)


class Recorder:
    """A route that keeps the message it forwards, to look at buf, orig and lumps afterwards."""

    name = "recorder"

    def __init__(self) -> None:
        self.msgs = []

    def has_onreply_route(self) -> bool:
        return False

    def request_route(self, ctx, msg):  # noqa: ANN001, ANN201
        self.msgs.append(msg)
        return (yield from forward_request(ctx, msg))

    def onreply_route(self, ctx, msg):  # noqa: ANN001, ANN201
        return 1
        yield


def test_ser_changes_buf_and_keeps_orig_kamailio_keeps_buf_and_records_lumps() -> None:
    for profile in Profile:
        route = Recorder()
        result = MemoryDriver(ServerConfig(profile=profile, advertise="bigbox3.site3.atlanta.com"),
                              router=route).feed(F1, ALICE)
        (msg,) = route.msgs
        (sent,) = result.sent
        assert msg.add_rm, "the Via insert and received= are lumps"
        if profile is Profile.SER:
            assert msg.orig == F1, "orig keeps the received bytes"
            assert msg.buf == sent.data, "changes were made to buf"
        else:
            assert msg.orig is None
            assert msg.buf == F1, "buf is never written"
            assert sent.data != F1
        fwd = next(ev for ev in result.events if ev.step == "forward_request" and ev.outcome)
        ops = [lump[0] for lump in fwd.detail["changes"]["lumps"]]
        assert ops == ["add", "add"], "our Via and received= are inserts at offsets of buf"


def test_kamailio_parses_the_transaction_headers_before_any_route_ser_does_not() -> None:
    steps = {p: MemoryDriver(ServerConfig(profile=p)).feed(F1, ALICE).steps() for p in Profile}
    assert "parse_headers" in steps[Profile.KAMAILIO] and "parse_headers" not in steps[Profile.SER]
    ser, kam = steps[Profile.SER], steps[Profile.KAMAILIO]
    # the seed: pre-script callbacks before the request sanity check; Kamailio: after it
    assert ser.index("exec_pre_script_cb") < ser.index("receive_msg.sanity")
    assert kam.index("receive_msg.sanity") < kam.index("exec_pre_script_cb")


def test_crlf_keepalive_vanishes_in_udp_rcv_loop_only_in_kamailio() -> None:
    kam = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO)).feed(b"\r\n\r\n", ALICE)
    assert kam.outcome == "dropped" and kam.final.step == "udp_rcv_loop" and "probing packet" in kam.reason
    ser = MemoryDriver(ServerConfig(profile=Profile.SER)).feed(b"\r\n\r\n", ALICE)
    assert ser.outcome == "dropped" and ser.final.step == "parse_msg" and not ser.sent


def test_missing_transaction_headers_silent_drop_in_kamailio_400_in_ser() -> None:
    insuf = with_body(next(e for e in corpus() if e.file == "insuf.dat"))
    kam = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO)).feed(insuf, ALICE)
    assert kam.outcome == "dropped" and not kam.sent and kam.final.step == "receive_msg.sanity"
    assert "request_route" not in kam.steps(), "dropped before any route runs"
    ser = MemoryDriver(ServerConfig(profile=Profile.SER)).feed(insuf, ALICE)
    assert (ser.outcome, ser.status) == ("replied", 400)


def test_a_pre_script_callback_that_returns_zero_drops_the_request() -> None:
    ctx = WorkerContext(config=ServerConfig(profile=Profile.KAMAILIO))
    seen = []

    def block_bob(msg, ctx):  # noqa: ANN001, ANN202
        seen.append(msg.first_line.method)
        return 0 if "bob" in msg.ruri else 1

    ctx.callbacks.register_pre(block_bob, types=REQUEST_CB, name="test:block_bob")
    result = MemoryDriver(ctx=ctx).feed(F1, ALICE)
    assert seen == ["INVITE"]
    assert result.outcome == "dropped" and result.final.step == "exec_pre_script_cb"
    assert "test:block_bob" in result.reason and not result.sent
    assert ctx.stats["drop_requests"] == 1


def test_options_to_us_is_answered_with_rport_to_the_source_port() -> None:
    opt = (b"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5999;rport;branch=z9hG4bKx\r\n"
           b"From: <sip:me@10.1.1.1>;tag=a\r\nTo: <sip:127.0.0.1>\r\nCall-ID: opt1\r\nCSeq: 7 OPTIONS\r\n"
           b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    for profile in Profile:
        result = MemoryDriver(ServerConfig(profile=profile)).feed(opt, ("127.0.0.1", 40000))
        (reply,) = result.sent
        assert reply.to == ("127.0.0.1", 40000), "rport: the source port, not the Via's 5999"
        text = reply.data.decode()
        assert text.startswith("SIP/2.0 200 OK\r\n")
        assert "Via: SIP/2.0/UDP 10.1.1.1:5999;rport=40000;branch=z9hG4bKx;received=127.0.0.1\r\n" in text
        assert ";tag=" in text.split("To:", 1)[1].split("\r\n", 1)[0]
        assert text.endswith("Content-Length: 0\r\n\r\n")


def test_forward_reply_removes_only_the_first_value_of_a_line() -> None:
    reply = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.7:5070"
             b";branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: r1\r\n"
             b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    result = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, check_via=True)).feed(reply, ("192.0.2.9", 5060))
    (sent,) = result.sent
    assert sent.to == ("192.0.2.7", 5070)
    assert sent.data.startswith(b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK2\r\nFrom")
    foreign = reply.replace(b"UDP 127.0.0.1;", b"UDP 198.51.100.1;")
    dropped = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, check_via=True)).feed(foreign, ("192.0.2.9", 5060))
    assert dropped.outcome == "dropped" and "not ours" in dropped.reason


def test_registrar_lifecycle_and_routing_decisions() -> None:
    cfg = ServerConfig(profile=Profile.KAMAILIO, aliases=("example.org",), relay=False)
    d = MemoryDriver(cfg)

    def register(contact: bytes, expires: bytes = b"", t: float = 0.0, cseq: int = 1):  # noqa: ANN202
        msg = (b"REGISTER sip:example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKr%d\r\n"
               b"From: <sip:bob@example.org>;tag=r\r\nTo: <sip:bob@example.org>\r\nCall-ID: reg1\r\n"
               b"CSeq: %d REGISTER\r\nContact: %s\r\n%sContent-Length: 0\r\n\r\n") % (cseq, cseq, contact, expires)
        return d.feed(msg, ("127.0.0.1", 5071), time=t)

    ok = register(b"<sip:bob@127.0.0.1:5072>;expires=120")
    assert ok.status == 200 and b"Contact: <sip:bob@127.0.0.1:5072>;expires=120\r\n" in ok.sent[0].data
    assert [b.received for b in d.ctx.location.all(0.0)] == ["127.0.0.1:5071"]  # where the REGISTER came from
    invite = (b"INVITE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5073;branch=z9hG4bKi\r\n"
              b"From: <sip:alice@example.org>;tag=i\r\nTo: <sip:bob@example.org>\r\nCall-ID: inv1\r\n"
              b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    fwd = d.feed(invite, ("127.0.0.1", 5073), time=10)
    assert fwd.sent[0].to == ("127.0.0.1", 5072) and fwd.sent[0].data.startswith(b"INVITE sip:bob@127.0.0.1:5072 ")
    gone = d.feed(invite, ("127.0.0.1", 5073), time=200)
    assert gone.status == 404, "an expired binding is ignored"
    register(b"<sip:bob@127.0.0.1:5072>", b"Expires: 300\r\n", t=200, cseq=2)
    assert d.feed(invite, ("127.0.0.1", 5073), time=300).outcome == "forwarded"
    star = register(b"*", b"Expires: 0\r\n", t=310, cseq=3)
    assert star.status == 200 and b"Contact:" not in star.sent[0].data
    assert d.feed(invite, ("127.0.0.1", 5073), time=311).status == 404
    foreign = invite.replace(b"sip:bob@example.org SIP", b"sip:bob@example.com SIP")
    assert d.feed(foreign, ("127.0.0.1", 5073)).status == 403, "no open relay"
    ack = foreign.replace(b"INVITE sip:", b"ACK sip:").replace(b"1 INVITE", b"1 ACK")
    assert not d.feed(ack, ("127.0.0.1", 5073)).sent, "never answer an ACK"


def test_a_binding_records_an_ipv6_source_as_an_address_and_port() -> None:
    d = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, listen=("::1", 5060)))
    reg = (b"REGISTER sip:[::1] SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:5071;branch=z9hG4bKr6\r\n"
           b"From: <sip:bob@[::1]>;tag=r\r\nTo: <sip:bob@[::1]>\r\nCall-ID: reg6\r\nCSeq: 1 REGISTER\r\n"
           b"Contact: <sip:bob@[::1]:5072>\r\nContent-Length: 0\r\n\r\n")
    assert d.feed(reg, ("::1", 5071)).status == 200
    assert [b.received for b in d.ctx.location.all(0.0)] == ["[::1]:5071"]  # not the ambiguous ::1:5071


def test_the_ack_to_our_own_stateless_reply_is_swallowed_by_sl() -> None:
    d = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, relay=False))
    invite = (b"INVITE sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKa\r\n"
              b"From: <sip:a@example.com>;tag=f\r\nTo: <sip:x@example.com>\r\nCall-ID: ack1\r\n"
              b"CSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n")
    reply = d.feed(invite, ("127.0.0.1", 5080)).sent[0].data.decode()
    assert reply.startswith("SIP/2.0 403 ")
    to_line = next(ln for ln in reply.split("\r\n") if ln.startswith("To:"))
    ack = invite.decode().replace("INVITE sip:", "ACK sip:").replace("5 INVITE", "5 ACK")
    ack = ack.replace("To: <sip:x@example.com>", to_line).encode()
    result = d.feed(ack, ("127.0.0.1", 5080))
    assert result.outcome == "dropped" and "sl:filter_ACK" in result.reason and not result.sent


def test_rfc_checks_refuse_a_date_not_in_gmt_and_a_three_colon_ipv6() -> None:
    """RFC 4475 §3.1.2.12 (a Date in EST) and RFC 5118 §4.10 (2001:db8:::192.0.2.1 fits RFC 3261's
    ABNF but is no IPv6 address): the ser profile answers 400; the well-formed twins go through."""
    base = ("OPTIONS sip:user@{host} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKd\r\nMax-Forwards: 70\r\n"
            "From: <sip:a@example.net>;tag=1\r\nTo: <sip:user@example.com>\r\nCall-ID: d1\r\nCSeq: 1 OPTIONS\r\n"
            "{date}Content-Length: 0\r\n\r\n")
    v4 = MemoryDriver(ServerConfig(profile=Profile.SER))
    v6 = MemoryDriver(ServerConfig(profile=Profile.SER, listen=("::1", 5060)))  # a socket to reach IPv6 from

    def outcome(host: str, date: str = "") -> tuple[str, int | None]:
        d = v6 if host.startswith("[") else v4
        r = d.feed(base.format(host=host, date=date).encode(), ALICE)
        return r.outcome, r.status

    assert outcome("example.com", "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n") == ("replied", 400)
    assert outcome("example.com", "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n") == ("forwarded", None)
    assert outcome("[2001:db8:::192.0.2.1]") == ("replied", 400)
    assert outcome("[2001:db8::192.0.2.1]") == ("forwarded", None)
    assert outcome("[2001:db8::10:5070]") == ("forwarded", None)  # RFC 5118 §4.3: a group, not a port


def test_a_header_that_does_not_parse_is_counted_in_bad_msg_hdr_and_ser_answers_400_not_483() -> None:
    """Kamailio counts bad_msg_hdr in parse_headers itself, whoever asked; the careful proxy (ser)
    names a broken header before Max-Forwards with 400 — only a Max-Forwards of 0 is 483."""
    def options(cseq: bytes, to: bytes = b"<sip:bob@127.0.0.1>") -> bytes:
        return (b"OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n"
                b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: " + to + b"\r\nCall-ID: c1\r\nCSeq: " + cseq +
                b"\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")

    ser = MemoryDriver(ServerConfig(profile=Profile.SER, listen=("127.0.0.1", 5060)))
    result = ser.feed(options(b"abc OPTIONS"), ("127.0.0.1", 5070))
    assert (result.outcome, result.status) == ("replied", 400) and b"CSeq" in result.sent[0].data
    assert ser.ctx.stats["bad_msg_hdr"] >= 1
    kam = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060)))
    kam.feed(options(b"1 OPTIONS", to=b"<sip:bob@127.0.0.1"), ("127.0.0.1", 5070))
    counted = kam.ctx.stats["bad_msg_hdr"]
    assert counted >= 1
    good = kam.feed(options(b"2 OPTIONS"), ("127.0.0.1", 5070))
    assert good.status == 404 and kam.ctx.stats["bad_msg_hdr"] == counted


def _unparsable(call: str, via: str, to_tag: str = "") -> bytes:
    """An OPTIONS whose To display name never closes its quote (RFC 4475 §3.1.2.6): parse_msg
    fails at the To line, before it reaches the Via."""
    return (f'OPTIONS sip:user@example.com SIP/2.0\r\nTo: "Mr. J. User <sip:j.user@example.com>{to_tag}\r\n'
            f"From: sip:caller@example.net;tag=f-{call}\r\nCall-ID: {call}\r\nCSeq: 8 OPTIONS\r\n{via}\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def test_ser_400_to_an_unparsable_request_is_sent_by_its_top_via_with_a_tag_of_its_own() -> None:
    """RFC 3261 §18.2.1/§18.2.2 for the ser profile's 400: the source IP with the Via's port (or the
    source port with rport), received= in the copied Via, and a To-tag per request."""
    d = MemoryDriver(ServerConfig(profile=Profile.SER))
    src = ("198.51.100.7", 5070)
    via = "Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bK-{}"
    first = d.feed(_unparsable("c1", via.format("c1")), src)
    (sent,) = first.sent
    assert (first.status, sent.to) == (400, ("198.51.100.7", 5050)), "the Via's port at the source IP"
    assert b"Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bK-c1;received=198.51.100.7\r\n" in sent.data
    other = d.feed(_unparsable("c2", via.format("c2")), src).sent[0]
    again = d.feed(_unparsable("c1", via.format("c1")), src).sent[0]

    def tag(s) -> bytes:  # noqa: ANN001
        return re.search(rb"\r\nTo: [^\r]*;tag=([^\r;]+)\r\n", s.data).group(1)

    assert tag(sent) != tag(other), "two requests, two To-tags"
    assert tag(sent) == tag(again), "a retransmission gets the same To-tag"
    no_port = "Via: SIP/2.0/UDP 192.0.2.59;branch=z9hG4bK-c3"
    assert d.feed(_unparsable("c3", no_port), src).sent[0].to == ("198.51.100.7", 5060)
    rport = d.feed(_unparsable("c4", "Via: SIP/2.0/UDP 192.0.2.59:5050;rport;branch=z9hG4bK-c4"), src).sent[0]
    assert rport.to == src and b";rport=5070;branch=z9hG4bK-c4;received=198.51.100.7\r\n" in rport.data
    tagged = d.feed(_unparsable("c5", via.format("c5"), to_tag=";tag=theirs"), src).sent[0]
    assert tag(tagged) == b"theirs", "a To that has a tag keeps it (RFC 3261 §8.2.6.2)"
    # only when the Via line itself does not parse does the 400 go back where the datagram came from
    bad = d.feed(_unparsable("c6", "Via: SIP/2.0/UDP 192.0.2.59:5050;;branch=z9hG4bK-c6"), src)
    assert bad.sent[0].to == src and b"received=" not in bad.sent[0].data
    assert "top Via does not parse" in bad.final.text and "source address" in bad.final.text
    ack = d.feed(_unparsable("c7", via.format("c7")).replace(b"OPTIONS", b"ACK"), src)
    assert ack.outcome == "dropped" and not ack.sent, "an ACK is never answered"
    # the kamailio profile still drops it silently, as Kamailio 5.6 does
    kam = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO)).feed(_unparsable("c1", via.format("c1")), src)
    assert kam.outcome == "dropped" and not kam.sent


def test_a_datagram_too_big_for_udp_never_comes_out_of_recvfrom() -> None:
    """UDP carries at most 65,507 bytes over IPv4 and 65,527 over IPv6: anything longer is refused
    (with the limit in words) instead of being received — in both profiles."""
    def message(size: int) -> bytes:
        head = (b"MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbig\r\n"
                b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\n"
                b"Content-Length: %05d\r\n\r\n")
        n = size - len(head % 0)
        return head % n + b"x" * n

    for profile in Profile:
        d = MemoryDriver(ServerConfig(profile=profile))
        for src, fits in ((("127.0.0.1", 5070), 65_507), (("::1", 5070), 65_527)):
            first = d.feed(message(fits), src).events[0]
            assert (first.step, first.detail["len"], first.outcome) == ("recvfrom", fits, None)
            too_big = d.feed(message(fits + 1), src)
            assert too_big.outcome == "dropped" and not too_big.sent
            assert [ev.step for ev in too_big.events] == ["recvfrom"], "nothing reaches receive_msg"
            assert f"at most {fits:,} bytes" in too_big.events[0].text
            assert "returns" not in too_big.events[0].text
        huge = d.feed(message(70_234), ("127.0.0.1", 5070))
        assert huge.reason == "impossible UDP datagram: 70,234 bytes > 65,507"


def test_ser_registrar_grants_at_most_max_expires_and_answers_what_it_granted() -> None:
    """RFC 3261 §10.3: the registrar may shorten the expiry and says what it granted; a value above
    2**32-1 is out of delta-seconds' range (default_expires). Kamailio's max_expires is 0 (no cap)."""
    def granted(profile: Profile, contact: bytes, expires: bytes = b"") -> tuple[bytes, int]:
        d = MemoryDriver(ServerConfig(profile=profile, aliases=("example.org",), relay=False))
        reg = (b"REGISTER sip:example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKr\r\n"
               b"From: <sip:bob@example.org>;tag=r\r\nTo: <sip:bob@example.org>\r\nCall-ID: reg1\r\n"
               b"CSeq: 1 REGISTER\r\nContact: " + contact + b"\r\n" + expires + b"Content-Length: 0\r\n\r\n")
        result = d.feed(reg, ("127.0.0.1", 5071), time=1000.0)
        assert result.status == 200
        said = re.search(rb"\r\nContact: <[^>]+>;expires=(\d+)\r\n", result.sent[0].data).group(1)
        (binding,) = d.ctx.location.all(1000.0)
        return said, binding.remaining(1000.0)

    ser = Profile.SER
    assert granted(ser, b"<sip:bob@127.0.0.1:5072>", b"Expires: 4294967296\r\n") == (b"3600", 3600)
    assert granted(ser, b"<sip:bob@127.0.0.1:5072>;expires=4294967296") == (b"3600", 3600)
    assert granted(ser, b"<sip:bob@127.0.0.1:5072>", b"Expires: 4294967295\r\n") == (b"86400", 86400)
    assert granted(ser, b"<sip:bob@127.0.0.1:5072>;expires=90000") == (b"86400", 86400)
    assert granted(ser, b"<sip:bob@127.0.0.1:5072>", b"Expires: 7200\r\n") == (b"7200", 7200)  # RFC 3261 §24.1
    kam = Profile.KAMAILIO
    assert granted(kam, b"<sip:bob@127.0.0.1:5072>;expires=4294967295") == (b"4294967295", 4294967295)


def test_the_branch_hash_reads_call_id_and_cseq_even_when_nothing_parsed_them_yet() -> None:
    """Kamailio's forward_request runs char_msg_val first (it parses the transaction's headers);
    in the ser profile a script that asked for no header (forwarder.cfg) hashed an empty Call-ID."""
    import hashlib

    from sipsim.routing import DEFAULT_CFG, load_route

    for profile in Profile:
        config = ServerConfig(profile=profile, listen=("127.0.0.1", 5060))
        driver = MemoryDriver(config, router=load_route(DEFAULT_CFG.parent / "forwarder.cfg", config))
        result = driver.feed(F1, ALICE)
        top = next(ln for ln in result.sent[0].data.split(b"\r\n") if ln.startswith(b"Via:"))
        want = int(hashlib.md5(b"a84b4c76e66710314159").hexdigest()[:4], 16)
        assert f"branch=z9hG4bK{want:x}.".encode() in top, (profile, top)


def test_the_ack_for_an_sl_reply_is_absorbed_and_counted_in_received_acks() -> None:
    """sl's pre-script callback drops the ACK that carries its own To-tag (it answers one of sl's
    replies; nothing to forward) and counts it in sl:received_ACKs, as Kamailio 5.6 does."""
    import re

    for profile in Profile:
        driver = MemoryDriver(ServerConfig(profile=profile, listen=("127.0.0.1", 5060)))
        invite = (b"INVITE sip:nobody@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKack1\r\n"
                  b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:nobody@127.0.0.1>\r\nCall-ID: ack1\r\n"
                  b"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        answer = driver.feed(invite, ("127.0.0.1", 5070))
        assert answer.status == 404
        tag = re.search(rb"\r\nTo: [^\r]*;tag=([^;\r]+)", answer.sent[0].data).group(1)
        ack = (invite.replace(b"INVITE sip", b"ACK sip", 1).replace(b"CSeq: 1 INVITE", b"CSeq: 1 ACK")
               .replace(b"To: <sip:nobody@127.0.0.1>", b"To: <sip:nobody@127.0.0.1>;tag=" + tag))
        result = driver.feed(ack, ("127.0.0.1", 5070))
        assert result.outcome == "dropped" and not result.sent and result.final.step == "exec_pre_script_cb"
        assert driver.ctx.stats["received_ACKs"] == 1, profile
