"""Direction in captures: what the proxy received and what it sent, told apart in the file.

sipsim's captures of a proxy (``simulate --save-pcap``, ``serve --pcap``'s worker parts, the TUI's
save) are Linux cooked captures whose packet type is the direction (0 "Unicast to us", 4 "Sent by
us"), as tshark shows it. A datagram the proxy sends to itself is then one sent copy and one received
copy, and every reader takes it once. Foreign captures say it too (``tcpdump -i any``: SLL/SLL2
packet type; pcapng ``epb_flags``, as text2pcap -D writes them); captures without it (Ethernet,
sipsim's older files) are read as before.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from helpers import need_tool

from sipsim.cli import main
from sipsim.packets import PcapWriter
from sipsim.packets.errors import PacketsError
from sipsim.packets.pcap import LINKTYPE_LINUX_SLL2, read_capture
from sipsim.packets.pcapwriter import udp_ip_packet
from sipsim.packets.replay import LOOPED, SENT_BY_PROXY, SENT_COPY, plan_replay
from sipsim.real.capture import WorkerCapture, merge_parts
from sipsim.tui.live_capture import LiveCapture

PROXY = ("127.0.0.1", 5060)
PHONE = ("127.0.0.1", 5070)
EPOCH = 1_790_000_000.0
# a reply whose second Via names the proxy itself: forward_reply sends it to the proxy (a loop of one hop)
LOOP_REPLY = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-a\r\n"
              b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-b\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n"
              b"Call-ID: loop-1@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")


def options(n: int, src: tuple[str, int] = PHONE) -> bytes:
    return (f"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK-o{n}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:p@x>;tag={n}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: opt-{n}@x\r\n"
            f"CSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def tshark_fields(path: Path, *fields: str) -> list[list[str]]:
    tshark = need_tool("tshark")
    args = [tshark, "-r", str(path), "-T", "fields", *(x for f in fields for x in ("-e", f))]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_the_writer_records_directions_that_wireshark_and_our_reader_read(tmp_path: Path) -> None:
    cap = tmp_path / "dir.pcap"
    with PcapWriter(cap, epoch=EPOCH, directions=True) as w:
        w.write(0.0, PHONE, PROXY, options(1), "in")
        w.write(0.001, PROXY, PROXY, LOOP_REPLY, "out")
        w.write(0.002, PROXY, PROXY, LOOP_REPLY, "in")
        w.write(0.003, ("::1", 5060), ("::1", 5070), options(2, ("::1", 5060)), "out")
        with pytest.raises(PacketsError, match="bad direction"):
            w.write(0.004, PHONE, PROXY, options(3))  # a capture with directions wants each one
    assert [d.direction for d in read_capture(cap).datagrams] == ["in", "out", "in", "out"]
    # what Wireshark shows: "Unicast to us" (0) and "Sent by us" (4), the SIP decoded under it
    assert tshark_fields(cap, "sll.pkttype", "sip.CSeq.method") == [
        ["0", "OPTIONS"], ["4", "INVITE"], ["0", "INVITE"], ["4", "OPTIONS"]]
    verbose = subprocess.run([need_tool("tshark"), "-r", str(cap), "-V", "-c", "2"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    assert "Packet type: Unicast to us (0)" in verbose and "Packet type: Sent by us (4)" in verbose

    plain = tmp_path / "plain.pcap"
    with PcapWriter(plain) as w, pytest.raises(PacketsError, match="no direction field"):
        w.write(0.0, PHONE, PROXY, options(1), "in")  # an Ethernet frame cannot say it: refused, not lost


def test_pcapng_epb_flags_and_sll2_packet_types_are_read(tmp_path: Path) -> None:
    text2pcap = need_tool("text2pcap")
    payload = options(1)
    dump = "".join(f"{d} 0000 {payload.hex(' ')}\n" for d in "OI")
    (tmp_path / "dump.txt").write_text(dump)
    ng = tmp_path / "flags.pcapng"
    subprocess.run([text2pcap, "-q", "-D", "-4", "127.0.0.1,127.0.0.2", "-u", "5060,5060", str(tmp_path / "dump.txt"),
                    str(ng)], check=True, timeout=30)
    assert [r[0] for r in tshark_fields(ng, "frame.packet_flags_direction")] == ["0x00000002", "0x00000001"]
    assert [d.direction for d in read_capture(ng).datagrams] == ["out", "in"]

    # tcpdump -i any (libpcap >= 1.10): SLL2, the packet type in its 11th octet
    sll2 = tmp_path / "any.pcap"
    with sll2.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_LINUX_SLL2))
        for k, pkttype in enumerate((4, 0, 1)):
            frame = struct.pack("!HHIHBB8x", 0x0800, 0, 1, 772, pkttype, 6) + udp_ip_packet(PHONE, PROXY, payload)
            f.write(struct.pack("<IIII", 1_790_000_000 + k, 0, len(frame), len(frame)) + frame)
    assert [d.direction for d in read_capture(sll2).datagrams] == ["out", "in", "in"]


def test_a_datagram_to_itself_is_sent_once_and_received_once_in_every_reader(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """simulate --save-pcap writes the loop as three frames: the phone's reply received, the proxy's
    forward to itself sent and received. trace replays each received datagram once; simulate leaves
    the received copy of its own loop out (the simulated proxy sends it to itself again)."""
    old = tmp_path / "old.pcap"  # what a phone sent (no direction: an Ethernet capture, as before)
    with PcapWriter(old, epoch=EPOCH) as w:
        w.write(0.0, PHONE, PROXY, LOOP_REPLY)
    saved = tmp_path / "saved.pcap"
    assert main(["simulate", "--pcap", str(old), "--workers", "1", "--save-pcap", str(saved), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["arrived"] == 2  # the reply and its loop
    assert tshark_fields(saved, "sll.pkttype", "ip.src", "udp.srcport", "udp.dstport") == [
        ["0", "127.0.0.1", "5070", "5060"], ["4", "127.0.0.1", "5060", "5060"], ["0", "127.0.0.1", "5060", "5060"]]

    capture = read_capture(saved)
    plan = plan_replay(capture.datagrams)
    assert [d.frame for d in plan.arrivals] == [1, 3] and plan.left_out == {SENT_COPY: [2]}
    looped = plan_replay(capture.datagrams, loopback=True)
    assert [d.frame for d in looped.arrivals] == [1] and looped.left_out == {SENT_COPY: [2], LOOPED: [3]}

    assert main(["trace", "--pcap", str(saved), "--json"]) == 0
    out = capsys.readouterr()
    traced = [json.loads(line) for line in out.out.splitlines()]
    assert [(t["frame"], t["outcome"]) for t in traced] == [(1, "forwarded"), (3, "dropped")]
    assert "1 datagram(s) left out: the sent copy of a datagram captured twice" in out.err

    again = tmp_path / "again.pcap"
    assert main(["simulate", "--pcap", str(saved), "--workers", "1", "--save-pcap", str(again), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["arrived"] == 2  # not 3: the loop arrives once
    assert [(d.direction, d.data) for d in read_capture(again).datagrams] == \
        [(d.direction, d.data) for d in capture.datagrams]  # the replay of the replay is the same capture

    # sipsim's older captures (no direction): both copies of a datagram to itself are replayed, as before
    twice = tmp_path / "twice.pcap"
    with PcapWriter(twice, epoch=EPOCH) as w:
        for r in capture.datagrams:
            w.write(r.capture_time - EPOCH, r.src, r.dst, r.data)
    assert [d.frame for d in plan_replay(read_capture(twice).datagrams).arrivals] == [1, 2, 3]


def test_tcpdump_any_on_the_proxy_box_and_a_phone_side_capture(tmp_path: Path) -> None:
    """``tcpdump -i any`` sees a loopback datagram twice, sent and received: each is replayed once.
    A capture taken at the phone holds what the phone sent as "out" only: still replayed."""
    box = tmp_path / "box.pcap"
    with PcapWriter(box, epoch=EPOCH, directions=True) as w:
        for n in (1, 2):
            t = n * 0.1
            w.write(t, PHONE, PROXY, options(n), "out")  # the phone's send, on the same box
            w.write(t + 1e-5, PHONE, PROXY, options(n), "in")  # the proxy's receive
            w.write(t + 2e-5, PROXY, PHONE, b"SIP/2.0 200 OK\r\n\r\n", "out")
            w.write(t + 3e-5, PROXY, PHONE, b"SIP/2.0 200 OK\r\n\r\n", "in")
    plan = plan_replay(read_capture(box).datagrams, loopback=True)
    assert plan.proxy == PROXY and [d.frame for d in plan.arrivals] == [2, 6]
    assert plan.left_out == {SENT_COPY: [1, 3, 5, 7], SENT_BY_PROXY: [4, 8]}

    phone = tmp_path / "phone.pcap"
    with PcapWriter(phone, epoch=EPOCH, directions=True) as w:
        w.write(0.0, PHONE, PROXY, options(1), "out")
        w.write(0.01, PROXY, PHONE, b"SIP/2.0 200 OK\r\n\r\n", "in")
        w.write(2.0, PHONE, PROXY, options(1), "out")  # the same bytes again, later: a retransmission
    plan = plan_replay(read_capture(phone).datagrams, [PROXY])
    assert [d.frame for d in plan.arrivals] == [1, 3] and plan.left_out == {SENT_BY_PROXY: [2]}


def test_serve_parts_keep_directions_through_merge_and_the_live_loader(tmp_path: Path) -> None:
    """A worker's part records received()/sent() as such; the merged FILE keeps them; the TUI's live
    loader files a datagram to itself under both, so the n-th received record is still datagram n."""
    path = str(tmp_path / "calls.pcap")
    part = WorkerCapture(path, 4242)
    part.received(EPOCH, PHONE, PROXY, LOOP_REPLY)  # datagram 1
    part.sent(EPOCH + 0.001, PROXY, PROXY, LOOP_REPLY)  # forwarded to itself
    part.received(EPOCH + 0.002, PROXY, PROXY, LOOP_REPLY)  # datagram 2: the loop
    part.received(EPOCH + 0.003, PHONE, PROXY, options(1))  # datagram 3
    part.flush()
    live = LiveCapture(path, PROXY)
    assert live.refresh() == 4
    assert [(r.src, r.data[:7]) for r in (live.received(4242 * 10**9 + n) for n in (1, 2, 3))] == \
        [(PHONE, b"SIP/2.0"), (PROXY, b"SIP/2.0"), (PHONE, b"OPTIONS")]
    assert [r.direction for r in live.sent_by(4242)] == ["out"]
    assert [r.direction for r in live.all_records()] == ["in", "out", "in", "in"]
    part.close()
    old = WorkerCapture(path, 4243)  # a worker that records no direction: Ethernet, filed by address
    old.write(EPOCH + 0.004, PROXY, PHONE, b"SIP/2.0 200 OK\r\n\r\n")
    old.close()
    assert merge_parts(path, 5060, [4242]) == 4
    assert [d.direction for d in read_capture(path).datagrams] == ["in", "out", "in", "in"]
    assert tshark_fields(Path(path), "sll.pkttype") == [["0"], ["4"], ["0"], ["0"]]
    assert merge_parts(path, 5060, [4243], into=str(tmp_path / "old.pcap")) == 1
    assert [d.direction for d in read_capture(tmp_path / "old.pcap").datagrams] == [None]


def test_the_tuis_save_of_a_replay_records_directions(tmp_path: Path) -> None:
    """``tui --pcap`` then ``s``: the simulated loop is saved sent and received, as simulate saves it."""
    from sipsim.cli import build_parser
    from sipsim.cli.simulate import build_scenario
    from sipsim.tui.sources import SimSource

    old = tmp_path / "old.pcap"
    with PcapWriter(old, epoch=EPOCH) as w:
        w.write(0.0, PHONE, PROXY, LOOP_REPLY)
    source = SimSource(build_scenario(build_parser().parse_args(["simulate", "--pcap", str(old), "--workers", "1"])))
    source.goto(10**6)
    saved = tmp_path / "saved.pcap"
    assert source.save_pcap(str(saved)) == 3
    got = read_capture(saved).datagrams
    assert [(d.direction, d.src, d.dst) for d in got] == [("in", PHONE, PROXY), ("out", PROXY, PROXY),
                                                          ("in", PROXY, PROXY)]
    assert got[0].capture_time == pytest.approx(EPOCH, abs=1e-6)  # the capture's own time, as simulate --save-pcap


def test_a_forged_source_port_0_is_saved_and_a_refused_record_leaves_no_half_capture(tmp_path: Path,
                                                                                    capsys) -> None:  # noqa: ANN001
    """Port 0 is a value the wire can carry (the bad-input scenario forges one; the server drops
    it): simulate --save-pcap writes it, and our reader gives it back. A record the writer cannot
    write leaves nothing behind, not even over a file --force was to replace."""
    from types import SimpleNamespace

    from sipsim.cli.simulate import save_wire_pcap

    out = tmp_path / "bad-input.pcap"
    assert main(["simulate", "bad-input", "--save-pcap", str(out), "--json"]) == 0
    got = read_capture(out).datagrams
    assert any(d.src[1] == 0 for d in got), [d.src for d in got]
    capsys.readouterr()
    assert main(["trace", "--pcap", str(out)]) in (0, 1)
    assert "source port 0: dropped silently" in capsys.readouterr().out

    out.write_bytes(b"the old capture")
    ok = SimpleNamespace(time=0.0, src=("127.0.0.1", 5060), dst=("127.0.0.1", 5070), data=b"x", direction="in")
    huge = SimpleNamespace(time=0.1, src=("127.0.0.1", 5060), dst=("127.0.0.1", 5070), data=b"x" * 70000,
                           direction="out")
    with pytest.raises(PacketsError, match="does not fit one IPv4 packet"):
        save_wire_pcap(str(out), [ok, huge])
    assert out.read_bytes() == b"the old capture" and sorted(p.name for p in tmp_path.iterdir()) == [out.name]
    capsys.readouterr()
    assert main(["simulate", "basic-call", "--save-pcap", str(tmp_path / "no" / "x.pcap")]) == 1  # before the run
    assert f"--save-pcap {tmp_path / 'no' / 'x.pcap'}: no such folder" in capsys.readouterr().err
