"""How a replay reads a capture's datagrams: with the packet toolkit's own parser (SipMessage),
once each, folded lines and compact names included, garbage never raising; and how the captured
proxy's addresses become the simulated (simulate) and traced (trace) proxy's aliases."""

from __future__ import annotations

import random
from pathlib import Path

from sipsim.cli import build_parser
from sipsim.cli.simulate import build_scenario
from sipsim.cli.trace import _pcap_inputs
from sipsim.packets import PcapWriter
from sipsim.packets.pcap import SipDatagram, read_capture
from sipsim.packets.replay import BETWEEN_OTHERS, SENT_BY_PROXY, Selection, plan_replay, read_heads

PHONE = ("198.51.100.7", 5062)
PUBLIC = ("203.0.113.1", 5060)  # the proxy's two sides
PRIVATE = ("10.1.1.1", 5060)
BOB = ("10.1.1.20", 5060)
OTHER = ("198.51.100.9", 5060)
GARBAGE = [b"", b"\r\n\r\n", b"\x00\xff" * 40, b"Call-ID\r\ni\r\n\r\n", b"SIP/2.0 \xff\xfe\r\nv: \r\n\r\n",
           random.Random(7).randbytes(300)]


def invite(vias: str, call: str = "i: call-1@phone") -> bytes:
    return (f"INVITE sip:bob@203.0.113.1 SIP/2.0\r\n{vias}\r\nMax-Forwards: 70\r\nFrom: <sip:al@x>;tag=1\r\n"
            f"To: <sip:bob@x>\r\n{call}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


def ok(vias: str) -> bytes:
    return (f"SIP/2.0 200 OK\r\n{vias}\r\nFrom: <sip:al@x>;tag=1\r\nTo: <sip:bob@x>;tag=2\r\n"
            "Call-ID: call-1@phone\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


PHONE_VIA = "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-ph"
# the proxy's forward: its own Via on top, folded onto a second line, the phone's in the compact form
FORWARDED = "Via: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bK-px,\r\n SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-ph;" \
            "received=198.51.100.7"
FLOW = [  # (time, src, dst, data): a call through a proxy with two sides, and junk sent to it
    (0.000, PHONE, PUBLIC, invite(PHONE_VIA)),
    (0.002, PRIVATE, BOB, invite(FORWARDED, call="Call-ID:\r\n  call-1@phone")),
    (0.050, BOB, PRIVATE, ok(FORWARDED.replace("Via:", "v:"))),
    (0.051, PUBLIC, PHONE, ok(PHONE_VIA)),
    *((0.1 + k / 100, OTHER, PUBLIC, junk) for k, junk in enumerate(GARBAGE)),
    (0.3, PHONE, OTHER, invite(PHONE_VIA, call="Call-ID: call-2@phone")),
]


def capture(path: Path) -> Path:
    with PcapWriter(str(path), epoch=1_790_000_000.0) as w:
        for t, src, dst, data in FLOW:
            w.write(t, src, dst, data)
    return path


def test_one_read_per_datagram_folded_compact_and_garbage() -> None:
    heads = read_heads(FLOW[1][3])  # folded Call-ID, one Via of two via-parms folded over two lines
    assert heads.call_id == "call-1@phone" and heads.is_request
    assert heads.vias == ("z9hG4bK-px", "z9hG4bK-ph")
    assert read_heads(FLOW[2][3]).vias == heads.vias and not read_heads(FLOW[2][3]).is_request  # v: as Via
    assert read_heads(FLOW[0][3]).call_id == "call-1@phone"  # i: as Call-ID
    for junk in GARBAGE:  # no Call-ID (a line "Call-ID" or "i" without a colon names none), no exception
        assert read_heads(junk).call_id is None, junk[:20]

    datagrams = [SipDatagram(t, src, dst, data, frame=n) for n, (t, src, dst, data) in enumerate(FLOW, 1)]
    plan = plan_replay(datagrams)
    # guessed by the datagrams it takes part in; its private side proven by the INVITE it forwarded
    assert plan.how == "guessed" and plan.addresses == (PUBLIC, PRIVATE)
    assert [e.frame_out for _, e in plan.evidence] == [2]
    assert [d.frame for d in plan.arrivals] == [1, 3, *range(5, 5 + len(GARBAGE))]
    assert plan.left_out == {SENT_BY_PROXY: [2, 4], BETWEEN_OTHERS: [len(FLOW)]}
    assert plan.skipped == {SENT_BY_PROXY: 2, BETWEEN_OTHERS: 1}
    exact = Selection(call_id="call-1@phone")
    assert [d.frame for d in datagrams if exact.matches(d)] == [1, 2, 3, 4]
    assert not any(Selection(call_id="CALL-1@phone").matches(d) for d in datagrams)  # RFC 3261: case counts
    assert plan.alias_names() == ("10.1.1.1", "10.1.1.1:5060")
    assert plan.alias_names(every=True) == ("203.0.113.1", "203.0.113.1:5060", "10.1.1.1", "10.1.1.1:5060")


def test_simulate_and_trace_make_the_captured_proxys_addresses_myself(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    cap = str(capture(tmp_path / "two-sides.pcap"))
    # the junk on port 5060 is read as SIP too, but for the empty datagram
    assert len(read_capture(cap).datagrams) == len(FLOW) - 1

    def simulate(*argv: str):  # noqa: ANN202
        return build_scenario(build_parser().parse_args(["simulate", *argv, "--pcap", cap]))

    alone = simulate()  # listens where the captured proxy did; its other side is an alias
    assert alone.proxy.listen == PUBLIC and alone.proxy.aliases == ("10.1.1.1", "10.1.1.1:5060")
    beside = simulate("basic-call")  # the scenario's listen and domain stay, both sides become aliases
    assert beside.proxy.listen == ("127.0.0.1", 5060)
    assert beside.proxy.aliases[1:] == ("203.0.113.1", "203.0.113.1:5060", "10.1.1.1", "10.1.1.1:5060")

    args = build_parser().parse_args(["trace", "--pcap", cap])
    _pcap_inputs(args)
    assert (args.listen, args.alias) == ("203.0.113.1:5060", ["10.1.1.1", "10.1.1.1:5060"])
    args = build_parser().parse_args(["trace", "--pcap", cap, "--listen", "203.0.113.1:5070",
                                      "--alias", "10.1.1.1"])
    _pcap_inputs(args)
    assert (args.listen, args.alias) == ("203.0.113.1:5070",
                                         ["10.1.1.1", "203.0.113.1", "203.0.113.1:5060", "10.1.1.1:5060"])
    err = capsys.readouterr().err
    assert "10.1.1.1:5060 is the proxy's too: frame 2" in err
    assert "2 datagram(s) left out: sent by the capture's proxy" in err
