"""Real captures as a support engineer replays them: a proxy with two addresses (a public and a
private side), and one call picked out of a busy capture with --call-id / --frames.

The captures are written here with sipsim's PcapWriter (real IPv4/UDP headers, the frame numbers
Wireshark gives), holding what a stateless proxy really sends: its own Via on top of a forwarded
request, the top Via taken off a forwarded reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipsim.cli import main as cli_main
from sipsim.packets.pcap import read_capture
from sipsim.packets.pcapwriter import PcapWriter
from sipsim.packets.replay import ANY, parse_frames, parse_proxy_options, plan_replay

PUBLIC, PRIVATE = ("203.0.113.1", 5060), ("10.0.0.1", 5060)  # the proxy's two sides
CALLER, BOB = ("198.51.100.5", 5060), ("10.0.0.20", 5062)  # a caller outside, a phone inside


def hp(a: tuple[str, int]) -> str:
    return f"{a[0]}:{a[1]}"


def request(method: str, uri: str, vias: list[str], call_id: str, cseq: int, *, to: str = "sip:bob@example.com",
            contact: str | None = None, compact_call_id: bool = False) -> bytes:
    lines = [f"{method} {uri} SIP/2.0", *(f"Via: SIP/2.0/UDP {v}" for v in vias), "Max-Forwards: 70",
             f"From: <sip:caller@example.com>;tag=f{cseq}", f"To: <{to}>",
             f"{'i' if compact_call_id else 'Call-ID'}: {call_id}", f"CSeq: {cseq} {method}"]
    if contact:
        lines += [f"Contact: <{contact}>", "Expires: 3600"]
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


def reply(status: str, vias: list[str], call_id: str, cseq: int, method: str) -> bytes:
    lines = [f"SIP/2.0 {status}", *(f"Via: SIP/2.0/UDP {v}" for v in vias),
             f"From: <sip:caller@example.com>;tag=f{cseq}", "To: <sip:bob@example.com>;tag=b1",
             f"Call-ID: {call_id}", f"CSeq: {cseq} {method}", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def multihomed_capture(path: Path) -> None:
    """Bob registers on the private side; a caller's INVITE reaches the public side and leaves by
    the private one; Bob's 180 comes back the same way. Frames 1 to 6, as tshark numbers them."""
    bob_via = f"{hp(BOB)};branch=z9hG4bK-reg1"
    uac_via = f"{hp(CALLER)};branch=z9hG4bK-inv1"
    prx_via = f"{hp(PRIVATE)};branch=z9hG4bK-prx1"
    with PcapWriter(path, epoch=1_700_000_000) as w:
        w.write(0.000, BOB, PRIVATE, request("REGISTER", "sip:10.0.0.1", [bob_via], "reg-1@bob", 1,
                                             to="sip:bob@203.0.113.1", contact=f"sip:bob@{hp(BOB)}"))
        w.write(0.001, PRIVATE, BOB, reply("200 OK", [bob_via], "reg-1@bob", 1, "REGISTER"))
        w.write(1.000, CALLER, PUBLIC, request("INVITE", "sip:bob@203.0.113.1", [uac_via], "call-1@caller", 1,
                                              to="sip:bob@203.0.113.1"))
        w.write(1.001, PRIVATE, BOB, request("INVITE", f"sip:bob@{hp(BOB)}", [prx_via, uac_via],
                                             "call-1@caller", 1))
        w.write(1.050, BOB, PRIVATE, reply("180 Ringing", [prx_via, uac_via], "call-1@caller", 1, "INVITE"))
        w.write(1.051, PUBLIC, CALLER, reply("180 Ringing", [uac_via], "call-1@caller", 1, "INVITE"))


def trace_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    rc = cli_main(["trace", "--json", *args])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


def test_a_proxy_with_two_addresses_replays_both_sides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Named twice or found in the capture, both addresses are the proxy's: the REGISTER that
    reached the private side fills the location table, the INVITE that reached the public side
    finds Bob there, Bob's 180 to the private side goes back to the caller. Named once, the
    other side is left out (the INVITE then finds nobody) and stderr says which option adds it."""
    cap = tmp_path / "multihomed.pcap"
    multihomed_capture(cap)
    expected = [(1, "replied", 200, None), (3, "forwarded", None, hp(BOB)), (5, "forwarded", 180, hp(CALLER))]

    def flow(rows: list[dict]) -> list[tuple]:
        return [(r["frame"], r["outcome"], r["status"], r["sent"][0]["to"] if r["outcome"] == "forwarded" else None)
                for r in rows]

    rc, given, err = trace_json(capsys, "--pcap", str(cap), "--pcap-proxy", hp(PUBLIC), "--pcap-proxy", hp(PRIVATE))
    assert rc == 0 and flow(given) == expected, err
    assert "the capture's proxy is 203.0.113.1:5060 and 10.0.0.1:5060 (given" in err
    assert "between two other hosts" not in err and "3 datagram(s) left out: sent by the capture's proxy" in err
    # the first named is where the traced proxy listens: the forwarded INVITE carries its Via
    assert given[1]["sent"][0]["data"].split("\r\n")[1].startswith("Via: SIP/2.0/UDP 203.0.113.1")
    # the REGISTER's Request-URI named the private side: "myself" (answered), not relayed onwards
    assert given[0]["sent"][0]["data"].startswith("SIP/2.0 200 OK")

    rc, guessed, err = trace_json(capsys, "--pcap", str(cap))
    assert rc == 0 and flow(guessed) == expected, err
    # the private side takes part in more datagrams: the guess starts there and the INVITE forwarded
    # from it proves the public side is the same box
    assert "the capture's proxy is 10.0.0.1:5060 and 203.0.113.1:5060 (guessed" in err
    assert ("203.0.113.1:5060 is the proxy's too: frame 4, sent from 10.0.0.1:5060, forwards frame 3, received at "
            "203.0.113.1:5060") in err

    rc, once, err = trace_json(capsys, "--pcap", str(cap), "--pcap-proxy", hp(PUBLIC))
    assert rc == 0 and [(r["frame"], r["outcome"], r["status"]) for r in once] == [(3, "replied", 404)]
    assert "add --pcap-proxy 10.0.0.1:5060" in err and "4 datagram(s) left out: between two other hosts" in err

    # simulate takes the same addresses: the simulated proxy receives all three and forwards to Bob
    saved = tmp_path / "replayed.pcap"
    assert cli_main(["simulate", "--pcap", str(cap), "--pcap-proxy", hp(PUBLIC), "--pcap-proxy", hp(PRIVATE),
                     "--save-pcap", str(saved), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"]["arrived"] == 3 and doc["metrics"]["outcomes"] == {"forwarded": 2, "replied": 1,
                                                                              "dropped": 0}
    sent = [(d.dst, d.data.split(b"\r\n", 1)[0]) for d in read_capture(saved).datagrams if tuple(d.src) == PUBLIC]
    assert sent == [(BOB, b"SIP/2.0 200 OK"), (BOB, f"INVITE sip:bob@{hp(BOB)} SIP/2.0".encode()),
                    (CALLER, b"SIP/2.0 180 Ringing")]


def test_the_guess_adds_an_address_on_evidence_only() -> None:
    """sipsim's own capture on 0.0.0.0: requests reach 127.0.0.1 and 10.9.9.1 on one port and
    nothing is forwarded. Nothing proves 10.9.9.1 is the proxy's, so the guess keeps one address
    and the note names both options; given both, both are replayed. 'any' goes alone and one
    socket takes one family."""
    from sipsim.packets.pcap import SipDatagram

    lo, other, client = ("127.0.0.1", 5060), ("10.9.9.1", 5060), ("10.9.9.1", 38374)
    via1, via2 = "127.0.0.1:47490;branch=z9hG4bK-1", "10.9.9.1:38374;branch=z9hG4bK-2"
    opts = [SipDatagram(0.0, ("127.0.0.1", 47490), lo, request("OPTIONS", "sip:127.0.0.1", [via1], "o1", 1), frame=1),
            SipDatagram(0.001, lo, ("127.0.0.1", 47490), reply("200 OK", [via1], "o1", 1, "OPTIONS"), frame=2),
            SipDatagram(0.4, client, other, request("OPTIONS", "sip:10.9.9.1", [via2], "o2", 1), frame=3)]
    plan = plan_replay(opts)
    assert plan.addresses == (lo,) and plan.maybe == (other,)
    assert plan.notes()[-2].endswith("name every address: --pcap-proxy 127.0.0.1:5060 --pcap-proxy 10.9.9.1:5060")
    both = plan_replay(opts, parse_proxy_options(["127.0.0.1:5060", "10.9.9.1"]))
    assert both.addresses == (lo, other) and [d.frame for d in both.arrivals] == [1, 3] and not both.skipped.get(
        "between two other hosts (not to the capture's proxy)")
    assert parse_proxy_options(["any"]) == ANY and parse_proxy_options(None) is None
    for bad in (["any", "127.0.0.1"], ["127.0.0.1", "[::1]:5060"]):
        with pytest.raises(ValueError):
            parse_proxy_options(bad)


def busy_capture(path: Path) -> None:
    """At one proxy (192.0.2.1): Alice registers (frame 1, answered by frame 2), an OPTIONS ping
    with a compact Call-ID (frames 3-4), then two calls to Alice whose datagrams interleave:
    call A (INVITE frame 5, forwarded 6; its 180 frame 9, forwarded 10) and call B (INVITE frame
    7, forwarded 8; its 180 frame 11, forwarded 12)."""
    proxy, alice, carol, dave = ("192.0.2.1", 5060), ("192.0.2.10", 5070), ("192.0.2.20", 5060), ("192.0.2.30", 5060)
    reg = f"{hp(alice)};branch=z9hG4bK-reg"
    with PcapWriter(path, epoch=1_700_000_000) as w:
        w.write(0.0, alice, proxy, request("REGISTER", "sip:192.0.2.1", [reg], "reg@alice", 1,
                                           to="sip:alice@192.0.2.1", contact=f"sip:alice@{hp(alice)}"))
        w.write(0.001, proxy, alice, reply("200 OK", [reg], "reg@alice", 1, "REGISTER"))
        ping = f"{hp(dave)};branch=z9hG4bK-ping"
        w.write(0.2, dave, proxy, request("OPTIONS", "sip:192.0.2.1", [ping], "Ping-1@dave", 1, compact_call_id=True))
        w.write(0.201, proxy, dave, reply("200 OK", [ping], "Ping-1@dave", 1, "OPTIONS"))
        t = 1.0
        legs = {}
        for call, src in (("A", carol), ("B", dave)):
            uac, prx = f"{hp(src)};branch=z9hG4bK-{call}", f"192.0.2.1:5060;branch=z9hG4bK-p{call}"
            legs[call] = (src, uac, prx)
            w.write(t, src, proxy, request("INVITE", "sip:alice@192.0.2.1", [uac], f"call-{call}", 1,
                                           to="sip:alice@192.0.2.1"))
            w.write(t + 0.001, proxy, alice, request("INVITE", f"sip:alice@{hp(alice)}", [prx, uac], f"call-{call}", 1))
            t += 0.1
        for call in ("A", "B"):
            src, uac, prx = legs[call]
            w.write(t, alice, proxy, reply("180 Ringing", [prx, uac], f"call-{call}", 1, "INVITE"))
            w.write(t + 0.001, proxy, src, reply("180 Ringing", [uac], f"call-{call}", 1, "INVITE"))
            t += 0.1


def test_call_id_and_frames_show_one_call_as_the_full_replay_runs_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--call-id and --frames pick exactly the datagrams asked for, and each one shown is what the
    full replay shows for it, step by step: the unshown REGISTER still ran, so call A's INVITE is
    forwarded to Alice's contact (alone it would get a 404)."""
    cap = tmp_path / "busy.pcap"
    busy_capture(cap)
    rc, full, _ = trace_json(capsys, "--pcap", str(cap))
    assert rc == 0 and [r["frame"] for r in full] == [1, 3, 5, 7, 9, 11]
    by_frame = {r["frame"]: r for r in full}
    assert by_frame[5]["sent"][0]["to"] == "192.0.2.10:5070"  # Alice's binding

    cases = {("--call-id", "call-A"): [5, 9], ("--call-id", "Ping-1@dave"): [3],  # the compact i: header
             ("--frames", "5-9"): [5, 7, 9], ("--frames", "7"): [7], ("--frames", "9-"): [9, 11],
             ("--frames", "1,7-8"): [1, 7], ("--call-id", "call-B", "--frames", "1-10"): [7]}
    for args, frames in cases.items():
        rc, rows, err = trace_json(capsys, "--pcap", str(cap), *args)
        assert rc == 0 and [r["frame"] for r in rows] == frames, (args, err)
        assert rows == [by_frame[f] for f in frames], args  # as in the full replay, every step and key
    assert [r["file"] for r in rows] == [f"{cap}#4"]  # numbered as in the full replay

    rc = cli_main(["trace", "--pcap", str(cap), "--call-id", "call-A"])
    out, err = capsys.readouterr()
    assert rc == 0 and [line.split(" frame ")[1].split()[0] for line in out.splitlines()
                        if line.startswith("== ")] == ["5", "9"]
    assert "2 of the 6 replayed datagram(s) shown (frames 5, 9); the 3 replayed before them still run, unshown" in err
    assert "matching but not replayed: frames 6, 10: sent by the capture's proxy" in err
    alone = tmp_path / "alone.pcap"  # the same INVITE without the REGISTER before it: nobody to find
    with PcapWriter(alone, epoch=1_700_000_000) as w:
        d = read_capture(cap).datagrams[4]
        w.write(0.0, d.src, d.dst, d.data)
    assert trace_json(capsys, "--pcap", str(alone))[1][0]["status"] == 404

    for args, words in ((["--pcap", str(cap), "--call-id", "CALL-A"], "no replayed datagram matches --call-id CALL-A"),
                        (["--pcap", str(cap), "--frames", "6"], "frame 6: sent by the capture's proxy"),
                        (["--pcap", str(cap), "--frames", "9-3"], "a range N-M goes up"),
                        (["--pcap", str(cap), "--frames", "five"], "expected frame numbers"),
                        (["tests/data/rfc3261/F1.dat", "--call-id", "x"], "--call-id goes with --pcap")):
        assert cli_main(["trace", *args]) == 2, args
        assert words in capsys.readouterr().err, args
    assert parse_frames("1-20, 67,100-") == ((1, 20), (67, 67), (100, None))
