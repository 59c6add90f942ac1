"""What a Wireshark/sngrep engineer checks on sipsim's captures, read and written.

Reading: frame numbers and times as tshark gives them (with non-SIP packets between, IP fragments
that arrive reversed, timestamps that go backwards), VLAN tags under Linux cooked captures (SLL
and SLL2), a TCP segment cut by the snap length counted as "not UDP". Writing: no writer replaces
a capture that exists without --force; a datagram past a 1500-byte MTU is written with DF clear;
a crafted capture is stamped now, not 1970; a replay's saved capture starts at the input's time.
Templates crafted with one --from/--to/--seed are separate transactions, except what the call ties.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import need_tool

from sipsim.packets.pcap import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, read_capture
from sipsim.packets.pcapwriter import PcapWriter, existing_capture_error, inet_checksum, udp_ip_packet
from sipsim.packets.replay import plan_replay, save_epoch
from sipsim.packets.templates import craft_message

PROXY = ("192.0.2.1", 5060)
ALICE = ("192.0.2.10", 5070)
T0 = 1_700_000_000


def sipsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sipsim", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def options(n: int, src: tuple[str, int] = ALICE) -> bytes:
    return (f"OPTIONS sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK-{n}\r\n"
            f"From: <sip:a@x>;tag={n}\r\nTo: <sip:192.0.2.1>\r\nCall-ID: c{n}@x\r\nCSeq: {n} OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def write_pcap(path: Path, linktype: int, frames: list[tuple[float, bytes]]) -> None:
    """A classic µs pcap of raw frames (any link type), as another tool would write it."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for t, frame in frames:
        sec, usec = divmod(round(t * 1e6), 10**6)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def ether(ip: bytes, vlans: tuple[int, ...] = ()) -> bytes:
    tags = b"".join(struct.pack("!HH", 0x8100, v) for v in vlans)
    return b"\x00" * 12 + tags + (b"\x86\xdd" if ip[0] >> 4 == 6 else b"\x08\x00") + ip


def fragments(ip: bytes, size: int = 1480) -> list[bytes]:
    """An IPv4 packet split as a sender's IP layer splits it (offsets in 8-octet units)."""
    head, payload = ip[:20], ip[20:]
    out = []
    for off in range(0, len(payload), size):
        piece = payload[off:off + size]
        more = 0x2000 if off + size < len(payload) else 0
        h = bytearray(head)
        struct.pack_into("!H", h, 2, 20 + len(piece))  # total length
        struct.pack_into("!H", h, 6, more | (off // 8))  # flags (DF clear) and fragment offset
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, inet_checksum(bytes(h)))
        out.append(bytes(h) + piece)
    return out


def tcp_packet(src: str, dst: str, total: int) -> bytes:
    """An IPv4 header announcing ``total`` octets of TCP; the caller cuts it (a short snap length)."""
    import ipaddress

    head = struct.pack("!BBHHHBBH", 0x45, 0, total, 7, 0x4000, 64, 6, 0)
    return head + ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + b"\x00" * (total - 20)


# -- reading: frames and times as Wireshark counts them -----------------------------------------------


def test_frame_numbers_and_times_match_tshark(tmp_path: Path) -> None:
    """Frame numbers count every packet of the file (ARP-ish noise, a proxy's answer, fragments);
    a reassembled INVITE has the number of the fragment that completed it — tshark's frame too."""
    tshark = need_tool("tshark")
    big = craft_message("invite", src=ALICE, dst=PROXY, sets=[("X-Pad", "p" * 3000)]).to_bytes()
    first, second, third = fragments(udp_ip_packet(ALICE, PROXY, big, ident=99))
    frames = [
        (T0 + 0.0, b"\xff" * 12 + b"\x08\x06" + b"\x00" * 28),                        # 1: ARP
        (T0 + 0.1, ether(udp_ip_packet(ALICE, PROXY, options(1)))),                    # 2: OPTIONS in
        (T0 + 0.2, ether(udp_ip_packet(PROXY, ALICE, b"SIP/2.0 200 OK\r\n\r\n"))),     # 3: its answer
        (T0 + 0.3, ether(third)),                                                      # 4..6: INVITE,
        (T0 + 0.301, ether(first)),                                                    #   fragments reversed
        (T0 + 0.302, ether(second)),
        (T0 + 0.4, ether(udp_ip_packet(("192.0.2.11", 5070), PROXY, options(2, ("192.0.2.11", 5070))))),  # 7
    ]
    cap = tmp_path / "mixed.pcap"
    write_pcap(cap, LINKTYPE_ETHERNET, frames)

    res = sipsim("trace", "--pcap", str(cap), "--json")
    assert res.returncode == 0, res.stderr
    items = [json.loads(line) for line in res.stdout.splitlines()]
    got = [(d["frame"], d["time"], d["src"], d["dst"]) for d in items]
    assert got == [(2, "2023-11-14T22:13:20.100000Z", "192.0.2.10:5070", "192.0.2.1:5060"),
                   (6, "2023-11-14T22:13:20.302000Z", "192.0.2.10:5070", "192.0.2.1:5060"),
                   (7, "2023-11-14T22:13:20.400000Z", "192.0.2.11:5070", "192.0.2.1:5060")], got
    assert [d["file"] for d in items] == [f"{cap}#1", f"{cap}#2", f"{cap}#3"]  # unchanged: replay order

    shark = subprocess.run([tshark, "-r", str(cap), "-Y", "sip.Method", "-T", "fields", "-e", "frame.number",
                            "-e", "frame.time_epoch"], capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("\t") for line in shark.stdout.split("\n") if line]
    assert [int(n) for n, _ in rows] == [d["frame"] for d in items]
    assert [round(float(t), 6) for _, t in rows] == [round(T0 + x, 6) for x in (0.1, 0.302, 0.4)]

    text = sipsim("trace", "--pcap", str(cap))
    heads = re.findall(r"^== (.*?): (\d+) bytes from (\S+) to (\S+):", text.stdout, re.M)
    assert [h[0].split(" (")[0] for h in heads] == [f"{cap} frame 2", f"{cap} frame 6", f"{cap} frame 7"]
    assert all(re.fullmatch(r".* frame \d+ \(\d\d:\d\d:\d\d\.\d{6}\)", h[0]) for h in heads), heads
    assert heads[1][1] == str(len(big))


def test_a_file_traced_has_null_frame_and_time_and_its_addresses(tmp_path: Path) -> None:
    dat = tmp_path / "o.dat"
    dat.write_bytes(options(3))
    res = sipsim("trace", str(dat), "--json", "--from", "127.0.0.1:5099")
    item = json.loads(res.stdout)
    assert (item["frame"], item["time"], item["src"], item["dst"]) == (None, None, "127.0.0.1:5099",
                                                                     "127.0.0.1:5060")
    assert {"file", "outcome", "status", "reason", "sent", "steps"} <= set(item)  # nothing renamed


def test_timestamps_going_backwards_are_said_once_and_frames_stay_the_files(tmp_path: Path) -> None:
    cap = tmp_path / "back.pcap"
    write_pcap(cap, LINKTYPE_ETHERNET, [(T0 + 1, ether(udp_ip_packet(ALICE, PROXY, options(1)))),
                                        (T0 + 0, ether(udp_ip_packet(ALICE, PROXY, options(2))))])
    capture = read_capture(cap)
    assert [(d.frame, d.capture_ns) for d in capture.datagrams] == [(2, T0 * 10**9), (1, (T0 + 1) * 10**9)]
    res = sipsim("trace", "--pcap", str(cap))
    notes = [line for line in res.stderr.splitlines() if "backwards" in line]
    assert notes == [f"sipsim: {cap}: timestamps go backwards 1 time(s) in the file: the datagrams are taken in "
                     "time order, not file order (the frame numbers shown are the file's)"], res.stderr
    write_pcap(cap, LINKTYPE_ETHERNET, [(T0, ether(udp_ip_packet(ALICE, PROXY, options(1)))),
                                        (T0, ether(udp_ip_packet(ALICE, PROXY, options(2))))])  # equal: in order
    assert read_capture(cap).backwards == 0 and "backwards" not in sipsim("trace", "--pcap", str(cap)).stderr


@pytest.mark.parametrize("vlans", [(5,), (5, 7)])
@pytest.mark.parametrize("linktype", [LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2])
def test_vlan_tags_under_linux_cooked_captures(tmp_path: Path, linktype: int, vlans: tuple[int, ...]) -> None:
    """``tcpdump -i any`` on a box with VLAN interfaces: the SLL/SLL2 protocol is 0x8100 and the
    802.1Q tag(s) follow the cooked header, as after an Ethernet header."""
    ip = udp_ip_packet(ALICE, PROXY, options(1))
    tags = b"".join(struct.pack("!HH", v, 0x8100 if i + 1 < len(vlans) else 0x0800) for i, v in enumerate(vlans))
    if linktype == LINKTYPE_LINUX_SLL:
        frame = struct.pack("!HHH8sH", 0, 1, 6, b"\x00" * 8, 0x8100) + tags + ip
    else:
        frame = struct.pack("!HHIHBB8s", 0x8100, 0, 1, 1, 0, 6, b"\x00" * 8) + tags + ip
    cap = tmp_path / "cooked.pcap"
    write_pcap(cap, linktype, [(T0, frame)])
    capture = read_capture(cap)
    assert [(d.src, d.dst, d.data) for d in capture.datagrams] == [(ALICE, PROXY, options(1))], capture.skipped


def test_a_tcp_segment_cut_by_the_snap_length_is_not_udp(tmp_path: Path) -> None:
    """Checked in the order Wireshark's reader thinks: what the packet is before whether it is whole."""
    cut_tcp = tcp_packet("192.0.2.10", "192.0.2.1", 1200)[:200]
    cut_udp = udp_ip_packet(ALICE, PROXY, options(1) + b"x" * 500)[:200]
    cap = tmp_path / "snap.pcap"
    write_pcap(cap, LINKTYPE_ETHERNET, [(T0, ether(cut_tcp)), (T0 + 1, ether(cut_udp))])
    skipped = read_capture(cap).skipped
    assert skipped == {"not UDP (TCP: sipsim replays SIP over UDP only)": 1,
                       "cut short by the capture's snap length": 1}, skipped


def test_an_unsupported_format_names_editcap(tmp_path: Path) -> None:
    snoop = tmp_path / "x.snoop"
    snoop.write_bytes(b"snoop\x00\x00\x00" + b"\x00" * 32)
    res = sipsim("trace", "--pcap", str(snoop))
    assert res.returncode == 1 and f"editcap -F pcapng {snoop} OUT.pcapng" in res.stderr, res.stderr


def test_pcap_proxy_any_does_not_say_to_leave_out_a_listen_never_given(tmp_path: Path) -> None:
    cap = tmp_path / "v6.pcap"
    write_pcap(cap, LINKTYPE_ETHERNET, [(T0, ether(udp_ip_packet(("2001:db8::10", 5070), ("2001:db8::1", 5060),
                                                                 options(1))))])
    res = sipsim("trace", "--pcap", str(cap), "--pcap-proxy", "any")
    assert res.returncode == 2 and "--listen [::1]:5060" in res.stderr and "leave --listen out" not in res.stderr
    assert sipsim("trace", "--pcap", str(cap), "--pcap-proxy", "any", "--listen", "[::1]:5060").returncode == 0


# -- writing ---------------------------------------------------------------------------------------------


def test_every_writer_of_a_capture_refuses_one_that_exists(tmp_path: Path) -> None:
    """craft --pcap writes; a user who meant to replay a capture must not lose it."""
    customer = tmp_path / "customer.pcap"
    write_pcap(customer, LINKTYPE_ETHERNET, [(T0, ether(udp_ip_packet(ALICE, PROXY, options(1))))])
    before = customer.read_bytes()
    res = sipsim("craft", "invite", "--pcap", str(customer))
    assert res.returncode == 2 and customer.read_bytes() == before
    line, = res.stderr.splitlines()
    assert line == (f"sipsim: craft --pcap {customer}: the file exists ({len(before)} bytes), and craft --pcap "
                    "writes a capture, which would replace it (sipsim trace --pcap FILE and sipsim simulate --pcap "
                    "FILE read one); add --force to overwrite it")
    assert sipsim("craft", "invite", "--force").returncode == 2  # --force alone: which file?

    started = time.time()
    res = sipsim("craft", "invite", "--pcap", str(customer), "--force")
    assert res.returncode == 0, res.stderr
    (d,) = read_capture(customer).datagrams
    assert d.data.startswith(b"INVITE ") and started - 1 <= d.capture_time <= time.time() + 1  # now, not 1970

    empty = tmp_path / "empty.pcap"  # `> empty.pcap` made it: nothing to lose
    empty.touch()
    assert existing_capture_error(empty, "craft --pcap") is None
    assert existing_capture_error(tmp_path / "new.pcap", "craft --pcap") is None
    assert existing_capture_error("/dev/null", "craft --pcap") is None  # no regular file


def test_a_datagram_past_the_mtu_is_written_with_df_clear(tmp_path: Path) -> None:
    tshark = need_tool("tshark")
    out = tmp_path / "df.pcap"
    small = options(1)
    big = options(2) + b"x" * (1500 - 28 - len(options(2)) + 1)  # one byte past a 1500-byte IP packet
    fits = options(3) + b"x" * (1500 - 28 - len(options(3)))       # exactly 1500
    with PcapWriter(out, epoch=T0) as w:
        for i, data in enumerate((small, big, fits)):
            w.write(i, ALICE, PROXY, data)
    res = subprocess.run([tshark, "-r", str(out), "-T", "fields", "-e", "ip.len", "-e", "ip.flags.df",
                          "-e", "ip.checksum.status", "-o", "ip.check_checksum:TRUE"],
                         capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("\t") for line in res.stdout.splitlines()]
    assert [(int(n), df) for n, df, _ in rows] == [(28 + len(small), "1"), (1501, "0"), (1500, "1")], rows
    assert {ok for *_, ok in rows} == {"1"}  # Wireshark: header checksum good (1), DF or not


def test_a_replay_saved_starts_where_the_capture_did(tmp_path: Path) -> None:
    cap = tmp_path / "in.pcap"
    write_pcap(cap, LINKTYPE_ETHERNET, [(T0 + 0.25, ether(udp_ip_packet(ALICE, PROXY, options(1)))),
                                        (T0 + 1.75, ether(udp_ip_packet(ALICE, PROXY, options(2))))])
    plan = plan_replay(read_capture(cap).datagrams)
    epoch = save_epoch(plan.arrivals, start=0.01)
    assert epoch == pytest.approx(T0 + 0.25 - 0.01, abs=1e-6)
    out = tmp_path / "out.pcap"
    with PcapWriter(out, epoch=epoch) as w:  # as the simulator writes its arrivals: start + time
        for d in plan.arrivals:
            w.write(0.01 + d.time, d.src, d.dst, d.data)
    again = read_capture(out).datagrams
    assert [d.capture_ns for d in again] == [d.capture_ns for d in plan.arrivals]
    assert save_epoch([]) == 0.0


# -- templates: one transaction each -------------------------------------------------------------------


@pytest.mark.parametrize("seed", [None, 7])
def test_templates_are_separate_transactions_except_where_the_call_ties_them(seed: int | None) -> None:
    def ids(name: str) -> tuple[str, str, str, str]:
        m = craft_message(name, src=ALICE, dst=PROXY, seed=seed)
        branch = re.search(r"branch=([^;]+)", m.get_header("Via") or "").group(1)  # type: ignore[union-attr]
        tag = re.search(r"tag=([^;>]+)", m.get_header("From") or "").group(1)  # type: ignore[union-attr]
        return branch, tag, m.get_header("Call-ID") or "", m.get_header("CSeq") or ""

    got = {name: ids(name) for name in ("register", "invite", "cancel", "ack", "bye", "options", "message")}
    independent = ("register", "invite", "options", "message")
    assert len({got[n][0] for n in independent}) == 4, got  # four transactions, four branches
    assert len({got[n][1] for n in independent}) == 4, got  # and From-tags
    assert len({got[n][2] for n in independent}) == 4, got  # and Call-IDs
    # the call: CANCEL is the INVITE's transaction (§9.1); ACK for a 2xx and BYE are new ones (§13.2.2.4)
    assert got["cancel"][0] == got["invite"][0]
    assert got["ack"][0] not in {got["invite"][0], got["bye"][0]}
    assert {got[n][1:3] for n in ("invite", "cancel", "ack", "bye")} == {got["invite"][1:3]}
    assert [got[n][3] for n in ("invite", "cancel", "ack", "bye")] == ["1 INVITE", "1 CANCEL", "1 ACK", "2 BYE"]
    assert ids("options") == got["options"]  # still deterministic
