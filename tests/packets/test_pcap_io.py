"""pcap in and out: tshark reads what the writer saves; captures made by other tools (text2pcap,
Scapy's plain layers) come back with their timing, addresses and bytes, fragments reassembled."""

from __future__ import annotations

import gzip
import random
import struct
import subprocess
from pathlib import Path

import pytest
from helpers import need_tool

from sipsim.packets.dialog import Dialog
from sipsim.packets.errors import PcapError
from sipsim.packets.fragments import Reassembler
from sipsim.packets.layer import SIP
from sipsim.packets.pcap import SipDatagram, read_capture, read_sip_datagrams
from sipsim.packets.pcapwriter import PcapWriter, inet_checksum, write_pcap
from sipsim.packets.templates import craft_bytes

ALICE = ("192.0.2.10", 5060)
REGISTRAR = ("192.0.2.5", 5060)
BOB = ("192.0.2.20", 5060)


def endpoints(pkt) -> tuple[tuple[str, int], tuple[str, int]]:  # noqa: ANN001
    net = pkt.getlayer("IP") or pkt.getlayer("IPv6")
    return (net.src, pkt.sport), (net.dst, pkt.dport)


def call_flow() -> list:
    """REGISTER/200, INVITE/100/180/200/ACK, BYE/200, crafted with the templates' Dialog."""
    reg = Dialog(ALICE, BOB, proxy=REGISTRAR)
    d = Dialog(ALICE, BOB)
    r = reg.register()
    inv = d.invite()
    flow = [r, reg.reply(r, 200), inv, d.reply(inv, 100), d.reply(inv, 180), d.reply(inv, 200), d.ack()]
    bye = d.bye()
    return [*flow, bye, d.reply(bye, 200)]


def test_tshark_decodes_a_call_flow_saved_by_the_writer(tmp_path: Path) -> None:
    tshark = need_tool("tshark")
    flow = call_flow()
    path = tmp_path / "call.pcap"
    with PcapWriter(path, epoch=1_700_000_000.0) as w:
        for i, pkt in enumerate(flow):
            src, dst = endpoints(pkt)
            w.write(i * 0.25, src, dst, bytes(pkt[SIP]))
    assert w.count == len(flow)
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code",
         "-e", "frame.time_relative", "-e", "ip.checksum.status", "-e", "udp.checksum.status",
         "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"],
        capture_output=True, text=True, timeout=30, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(m, s) for m, s, *_ in rows] == [
        ("REGISTER", ""), ("", "200"), ("INVITE", ""), ("", "100"), ("", "180"), ("", "200"),
        ("ACK", ""), ("BYE", ""), ("", "200")]
    assert [float(t) for _, _, t, _, _ in rows] == [i * 0.25 for i in range(len(flow))]
    assert {(ip, udp) for *_, ip, udp in rows} == {("1", "1")}  # 1 = checksum good

    # and the writer's pcap reads back through our reader, byte for byte
    back = read_sip_datagrams(path)
    assert [(d.src, d.dst, d.data) for d in back] == [(*endpoints(p), bytes(p[SIP])) for p in flow]
    assert back[-1].time == pytest.approx(2.0) and back[0].capture_time == pytest.approx(1_700_000_000.0)


def test_writer_and_reader_round_trip_ipv4_ipv6_and_nanoseconds(tmp_path: Path) -> None:
    records = [
        SipDatagram(0.0, ("192.0.2.1", 5060), ("192.0.2.2", 5060), craft_bytes("options")),
        SipDatagram(0.000001234, ("2001:db8::1", 5070), ("2001:db8::2", 5060),
                    craft_bytes("register", src="[2001:db8::1]:5070", dst="[2001:db8::2]:5060")),
        SipDatagram(3.5, ("192.0.2.2", 40000), ("192.0.2.1", 40001), b"SIP/2.0 200 OK\r\n\r\n"),
    ]
    path = tmp_path / "ns.pcap"
    assert write_pcap(path, records, nanosecond=True) == 3
    back = read_sip_datagrams(path, time_scale=2.0)
    assert [(d.src, d.dst, d.data) for d in back] == [(r.src, r.dst, r.data) for r in records]
    assert [d.time for d in back] == [0.0, pytest.approx(0.000002468, abs=1e-12), 7.0]
    # the third is on no SIP port: recognised by its status line; not when content is ignored
    assert len(read_sip_datagrams(path, by_content=False)) == 2
    assert len(read_sip_datagrams(path, ports=[40000], by_content=False)) == 1
    # a gzip-compressed copy reads the same
    gz = tmp_path / "ns.pcap.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert read_sip_datagrams(gz) == read_sip_datagrams(path)
    with pytest.raises(PcapError, match="time_scale"):
        read_sip_datagrams(path, time_scale=-1)


def hexdump(timestamp: str, packet: bytes) -> str:
    lines = [timestamp]
    for off in range(0, len(packet), 16):
        lines.append(f"{off:06x}  " + " ".join(f"{b:02x}" for b in packet[off:off + 16]))
    return "\n".join(lines) + "\n\n"


def test_a_text2pcap_capture_with_ipv6_and_ipv4_fragments(tmp_path: Path) -> None:
    text2pcap = need_tool("text2pcap")
    from scapy.layers.inet import IP, UDP, fragment
    from scapy.layers.inet6 import IPv6
    from scapy.packet import Raw

    small = craft_bytes("options", src="10.1.1.1:5070", dst="10.1.1.2:5060")
    v6 = craft_bytes("invite", src="[2001:db8::1]:5060", dst="[2001:db8::2]:5060")
    big = craft_bytes("message", src="10.1.1.3:5060", dst="10.1.1.2:5060",
                      sets=[("X-Padding", "p" * 3000)])  # ~3.4 kB: three fragments at MTU 1500
    p_small = IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=5070, dport=5060) / Raw(small)
    p_v6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5060, dport=5060) / Raw(v6)
    frags = fragment(IP(src="10.1.1.3", dst="10.1.1.2", id=777) / UDP(sport=5060, dport=5060) / Raw(big),
                     fragsize=1480)
    assert len(frags) == 3
    text = (hexdump("10:00:00.100000", bytes(p_small)) + hexdump("10:00:00.350000", bytes(p_v6))
            # fragments out of order; the datagram exists once the last piece is in (at 1.1 s)
            + hexdump("10:00:01.000000", bytes(frags[2])) + hexdump("10:00:01.050000", bytes(frags[0]))
            + hexdump("10:00:01.100000", bytes(frags[1])))
    src = tmp_path / "dump.txt"
    src.write_text(text)
    out = tmp_path / "foreign.pcapng"
    subprocess.run([text2pcap, "-q", "-t", "%H:%M:%S.%f", "-l", "101", str(src), str(out)],
                   check=True, timeout=30, capture_output=True)
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"  # pcapng, as text2pcap writes by default

    got = read_sip_datagrams(out)
    assert [(d.src, d.dst, d.data) for d in got] == [
        (("10.1.1.1", 5070), ("10.1.1.2", 5060), small),
        (("2001:db8::1", 5060), ("2001:db8::2", 5060), v6),
        (("10.1.1.3", 5060), ("10.1.1.2", 5060), big),
    ]
    assert [d.time for d in got] == [0.0, pytest.approx(0.25), pytest.approx(1.0)]
    half = read_sip_datagrams(out, time_scale=0.5)
    assert [d.time for d in half] == [0.0, pytest.approx(0.125), pytest.approx(0.5)]


def test_scapy_made_captures_on_every_link_type(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
    from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1Q, Ether, Loopback
    from scapy.packet import Raw
    from scapy.utils import PcapWriter as ScapyPcapWriter

    sip4 = craft_bytes("bye", src="198.51.100.1:5060", dst="198.51.100.2:5080")
    sip6 = craft_bytes("message", src="[2001:db8::5]:5060", dst="[2001:db8::6]:5060",
                       sets=[("X-Padding", "q" * 2500)])
    ip4 = IP(src="198.51.100.1", dst="198.51.100.2") / UDP(sport=5060, dport=5080) / Raw(sip4)
    ip6 = IPv6(src="2001:db8::5", dst="2001:db8::6") / IPv6ExtHdrFragment() / UDP(sport=5060, dport=5060) \
        / Raw(sip6)
    frags6 = fragment6(ip6, 1280)
    assert len(frags6) == 3
    noise = IP(src="198.51.100.9", dst="198.51.100.2") / UDP(sport=53, dport=33000) / Raw(b"not sip")
    framings = {
        "ether_vlan": lambda p: Ether() / Dot1Q(vlan=7) / p,
        "sll": lambda p: CookedLinux(proto=0x86DD if p.haslayer(IPv6) else 0x800) / p,
        "sll2": lambda p: CookedLinuxV2(proto=0x86DD if p.haslayer(IPv6) else 0x800) / p,
        "null": lambda p: Loopback(type=30 if p.haslayer(IPv6) else 2) / p,
    }
    for name, frame in framings.items():
        path = tmp_path / f"{name}.pcap"
        with ScapyPcapWriter(str(path), nano=True) as w:
            for t, p in [(100.0, ip4), (100.5, noise), (101.0, frags6[1]), (101.25, frags6[0]),
                         (101.5, frags6[2])]:
                pkt = frame(p)
                pkt.time = t
                w.write(pkt)
        cap = read_capture(path)
        assert [(d.time, d.src, d.dst, d.data) for d in cap.datagrams] == [
            (0.0, ("198.51.100.1", 5060), ("198.51.100.2", 5080), sip4),
            (1.5, ("2001:db8::5", 5060), ("2001:db8::6", 5060), sip6),
        ], name
        assert cap.packets == 5 and cap.skipped == {"UDP but not SIP": 1}, name


def test_unreadable_files_raise_a_readable_pcap_error(tmp_path: Path) -> None:
    with pytest.raises(PcapError, match="cannot read capture .*No such file"):
        read_sip_datagrams(tmp_path / "missing.pcap")
    text = tmp_path / "notes.txt"
    text.write_text("INVITE sip:bob@example.com SIP/2.0\r\n")
    with pytest.raises(PcapError, match="is not a pcap or pcapng capture .*starts with 49 4e 56 49"):
        read_sip_datagrams(text)
    (tmp_path / "empty.pcap").write_bytes(b"")
    with pytest.raises(PcapError, match="not a pcap or pcapng capture"):
        read_sip_datagrams(tmp_path / "empty.pcap")
    with pytest.raises(PcapError, match="cannot read capture"):
        read_sip_datagrams(tmp_path)  # a directory
    # a capture cut in the middle of its last packet keeps what is complete, and says so
    good = tmp_path / "good.pcap"
    with PcapWriter(good) as w:
        w.write(0, ALICE, BOB, craft_bytes("options"))
        w.write(1, ALICE, BOB, craft_bytes("options"))
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(good.read_bytes()[:-10])
    cap = read_capture(cut)
    assert len(cap.datagrams) == 1 and cap.skipped == {"the file ends in the middle of a packet": 1}
    assert cap.notes() == ["1 packet(s) skipped: the file ends in the middle of a packet"]


def test_damaged_captures_never_crash_the_reader(tmp_path: Path) -> None:
    # a pcapng whose packet block is too short for its own fixed fields
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 101, 0, 0) + struct.pack("<I", 20)
    epb = struct.pack("<II", 6, 16) + b"\0\0\0\0" + struct.pack("<I", 16)
    short = tmp_path / "short.pcapng"
    short.write_bytes(shb + idb + epb)
    with pytest.raises(PcapError, match="too short; the file is damaged"):
        read_sip_datagrams(short)
    # random damage to good pcap and pcapng files: a result or a PcapError, nothing else
    good = tmp_path / "good.pcap"
    with PcapWriter(good) as w:
        w.write(0, ALICE, BOB, craft_bytes("invite"))
        w.write(1, ("2001:db8::1", 5060), ("2001:db8::2", 5060), craft_bytes("options", dst="[2001:db8::2]:5060"))
    ipv4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20, 1, 0, 64, 17, 0, bytes(4), bytes(4))
    packet_block = struct.pack("<IIIIIII", 6, 32 + 20, 0, 0, 0, 20, 20) + ipv4 + struct.pack("<I", 32 + 20)
    originals = [good.read_bytes(), shb + idb + packet_block]
    rng = random.Random(6)
    damaged = tmp_path / "damaged"
    for _ in range(300):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            if rng.random() < 0.2:
                del data[i:]
                break
            data[i] = rng.randrange(256)
        damaged.write_bytes(bytes(data))
        try:
            read_capture(damaged)
        except PcapError:
            pass


def test_fragment_reassembly_rules() -> None:
    r = Reassembler(timeout_ns=10)
    assert r.feed("k", 8, False, b"tail", 0) is None  # last piece first: total known, gap at 0
    assert r.feed("k", 0, True, b"head----", 1) == b"head----tail"
    assert r.incomplete == 0
    assert r.feed("x", 0, True, b"12345678", 0) is None
    assert r.feed("y", 0, True, b"abcdefgh", 100) is None  # "x" timed out meanwhile
    assert r.expired == 1 and r.incomplete == 1
    assert r.feed("z", 0, True, b"odd", 100) is None and r.invalid == 1  # non-final, not 8-aligned


def test_checksum_matches_rfc_1071_example() -> None:
    # RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement: 220d)
    assert inet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    assert inet_checksum(b"\x01") == 0xFEFF
