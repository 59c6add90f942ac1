"""Captures replayed as a VoIP engineer brings them: taken at a proxy (both directions), IPv6, or
holding more than SIP over UDP. The simulated proxy must receive only what the captured proxy
received, stand in for it, and say what it left out and why."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sipsim.packets.pcap import SipDatagram, read_sip_datagrams
from sipsim.packets.pcapwriter import PcapWriter
from sipsim.packets.replay import ANY, guess_proxy, parse_proxy_option, plan_replay


def sipsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sipsim", *args], capture_output=True, text=True, timeout=60)


def _flow(path: Path) -> list[tuple[str, tuple[str, int], tuple[str, int]]]:
    return [(d.data.split(b"\r\n", 1)[0].decode(), d.src, d.dst) for d in read_sip_datagrams(path)]


def _msg(first: str, n: int, via: str = "192.0.2.10:5060") -> bytes:
    return (f"{first}\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK-r{n}\r\nMax-Forwards: 70\r\n"
            f"From: <sip:a@example.com>;tag=a{n}\r\nTo: <sip:b@example.com>\r\nCall-ID: r{n}@x\r\n"
            f"CSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def test_a_capture_taken_at_the_proxy_replays_to_the_same_call(tmp_path: Path) -> None:
    """Both directions are in a proxy's capture; only what it received may arrive again. Before,
    the proxy also received its own forwarded INVITE and its own replies: 16 arrivals, loops."""
    first, again = tmp_path / "call.pcap", tmp_path / "again.pcap"
    made = sipsim("simulate", "basic-call", "--save-pcap", str(first))
    assert made.returncode == 0, made.stderr
    replayed = sipsim("simulate", "--pcap", str(first), "--save-pcap", str(again), "--json")
    assert replayed.returncode == 0, replayed.stderr
    doc = json.loads(replayed.stdout)
    assert doc["metrics"]["arrived"] == 8 and doc["metrics"]["outcomes"]["dropped"] == 0
    assert "the capture's proxy is 127.0.0.1:5060 (guessed" in replayed.stderr
    assert "8 datagram(s) left out: sent by the capture's proxy" in replayed.stderr
    assert _flow(again) == _flow(first)  # the same 16 datagrams, in the same order, same addresses

    traced = sipsim("trace", "--pcap", str(first), "--json")
    rows = [json.loads(line) for line in traced.stdout.splitlines()]
    assert [r["outcome"] for r in rows] == ["replied"] + ["forwarded"] * 7


def test_an_ipv6_capture_replays_as_its_proxy_and_an_ipv4_proxy_refuses_it(tmp_path: Path) -> None:
    """The proxy takes the captured IPv6 proxy's place and saves the run (it used to fail with
    'mixed IPv4 and IPv6' and lose it); an IPv4 proxy is told it cannot receive IPv6 datagrams."""
    cap = tmp_path / "v6.pcap"
    phone, server = ("2001:db8::10", 5062), ("2001:db8::20", 5060)
    with PcapWriter(cap, epoch=1_700_000_000) as w:
        w.write(0.0, phone, server, _msg("OPTIONS sip:[2001:db8::20] SIP/2.0", 1, "[2001:db8::10]:5062"))
        w.write(0.001, server, phone, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        w.write(0.5, phone, server, _msg("OPTIONS sip:[2001:db8::20] SIP/2.0", 2, "[2001:db8::10]:5062"))

    alone = tmp_path / "alone.pcap"
    res = sipsim("simulate", "--pcap", str(cap), "--pcap-time-scale", "2", "--save-pcap", str(alone), "--json")
    assert res.returncode == 0, res.stderr
    flow = _flow(alone)
    requests = [d.time for d in read_sip_datagrams(alone) if d.data.startswith(b"OPTIONS")]
    assert requests == pytest.approx([0.0, 1.0])  # 0.5 s apart in the capture, stretched twice
    assert [f[0] for f in flow] == ["OPTIONS sip:[2001:db8::20] SIP/2.0", "SIP/2.0 200 OK"] * 2
    assert {(f[1], f[2]) for f in flow} == {(phone, server), (server, phone)}  # "myself": answered, not forwarded

    # trace without --listen stands where the captured proxy stood: the OPTIONS are for "myself"
    res = sipsim("trace", "--pcap", str(cap), "--json")
    out = res.stdout.decode() if isinstance(res.stdout, bytes) else res.stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert res.returncode == 0 and [(r["outcome"], r["status"]) for r in rows] == [("replied", 200)] * 2, out
    # an IPv4 scenario cannot receive IPv6 datagrams (no socket does): the replay says so, both commands
    for cmd in (("simulate", "basic-call"), ("trace", "--listen", "127.0.0.1:5060")):
        res = sipsim(*cmd, "--pcap", str(cap))
        err = res.stderr.decode() if isinstance(res.stderr, bytes) else res.stderr
        assert res.returncode == 2 and "2 of the capture's 2 datagram(s) came over IPv6" in err, err
        assert "Traceback" not in err
    # a pair of addresses of two families (the TUI saves whatever it shows) is written as IPv6,
    # the IPv4 end as an IPv4-mapped address
    mixed = tmp_path / "mixed.pcap"
    with PcapWriter(mixed) as w:
        w.write(0.0, phone, ("127.0.0.1", 5060), b"OPTIONS sip:x SIP/2.0\r\n\r\n")
    (got,) = read_sip_datagrams(mixed)
    assert (got.src, got.dst) == (phone, (str(ipaddress.ip_address("::ffff:127.0.0.1")), 5060))


def test_replay_picks_the_proxy_and_leaves_out_the_rest() -> None:
    a, b, p, q = ("10.0.0.1", 5060), ("10.0.0.2", 5060), ("10.0.0.9", 5060), ("10.0.0.7", 5060)

    def d(t: float, src: tuple[str, int], dst: tuple[str, int], first: str) -> SipDatagram:
        return SipDatagram(t, src, dst, f"{first}\r\n\r\n".encode())

    through = [d(1.0, a, p, "INVITE sip:b@x SIP/2.0"), d(1.1, p, b, "INVITE sip:b@x SIP/2.0"),
               d(1.2, b, p, "SIP/2.0 200 OK"), d(1.3, p, a, "SIP/2.0 200 OK"), d(1.4, a, q, "OPTIONS sip:q SIP/2.0")]
    plan = plan_replay(through)
    assert plan.proxy == p and plan.how == "guessed"
    assert [(round(x.time, 9), x.src) for x in plan.arrivals] == [(0.0, a), (0.2, b)]  # re-based on the first arrival
    assert sum(plan.skipped.values()) == 3 and len(plan.notes()) == 3
    # a phone and a server take part in every datagram: the first request's destination is the proxy,
    # even when the capture starts with the server's answer to something earlier
    pair = [d(0.0, p, a, "SIP/2.0 200 OK"), d(0.1, a, p, "REGISTER sip:x SIP/2.0")]
    assert guess_proxy(pair) == p
    assert plan_replay(through, a).arrivals[0].src == p  # given: whatever the user says
    assert len(plan_replay(through, ANY).arrivals) == 5 and plan_replay([]).arrivals == []
    assert parse_proxy_option("[2001:db8::9]") == ("2001:db8::9", 5060) and parse_proxy_option(" ANY ") == ANY


def test_trace_and_simulate_say_what_a_capture_held(tmp_path: Path) -> None:
    """SIP over TCP, ARP, RTP-like UDP, a binary datagram to 5060, fragments never completed: each
    gets a reason on stderr; control octets are escaped; nothing usable is an error, not silence."""
    from scapy.layers.inet import IP, TCP, UDP, fragment
    from scapy.layers.l2 import ARP, Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    a, b = "192.0.2.10", "192.0.2.20"
    sip = _msg("OPTIONS sip:192.0.2.20 SIP/2.0", 1)
    cap = tmp_path / "mixed.pcap"
    wrpcap(str(cap), [Ether() / IP(src=a, dst=b) / TCP(sport=40000, dport=5060, flags="PA") / Raw(sip),
                      Ether() / ARP(), Ether() / IP(src=a, dst=b) / UDP(sport=16000, dport=16002) / Raw(b"\x80" * 40),
                      Ether() / IP(src=a, dst=b) / UDP(sport=5060, dport=5060) / Raw(sip),
                      Ether() / IP(src=a, dst=b) / UDP(sport=5060, dport=5060) / Raw(b"\x1b[2J\x00 junk")])
    res = sipsim("trace", "--pcap", str(cap))
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert "1 packet(s) skipped: not UDP (TCP: sipsim replays SIP over UDP only)" in res.stderr
    assert "1 packet(s) skipped: not IP" in res.stderr and "1 packet(s) skipped: UDP but not SIP" in res.stderr
    assert "\x1b" not in res.stdout and "\\x1b[2J\\x00 junk" in res.stdout
    assert res.stdout.count("\n== ") + res.stdout.startswith("== ") == 2

    big = IP(src=a, dst=b, id=7) / UDP(sport=5060, dport=5060) / Raw(sip + b"x" * 3000)
    lost = tmp_path / "lost.pcap"
    wrpcap(str(lost), [Ether() / f for f in fragment(big, fragsize=1400)[:-1]])
    for cmd in ("trace", "simulate"):
        res = sipsim(cmd, "--pcap", str(lost))
        assert res.returncode == 2, res.stderr
        assert "IP datagram never completed (fragments missing)" in res.stderr
        assert "no SIP datagram over UDP in this capture (2 packet(s) read)" in res.stderr
        assert "Traceback" not in res.stderr
