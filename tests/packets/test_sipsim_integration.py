"""Packets meet the rest of sipsim: pcaps of simulated and live traffic, captures replayed, send to serve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import need_tool

SIPSIM = [sys.executable, "-m", "sipsim"]


def sipsim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(SIPSIM + list(args), capture_output=True, text=True, timeout=timeout)


def tshark_sip(tshark: str, pcap: Path) -> list[tuple[str, str, str, str]]:
    out = subprocess.run([tshark, "-r", str(pcap), "-Y", "sip", "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                          "-e", "sip.Method", "-e", "sip.Status-Code"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [tuple((line.split("\t") + ["", "", "", ""])[:4]) for line in out.splitlines() if line.strip()]


def test_tshark_reads_the_pcap_of_a_simulated_call(tmp_path: Path) -> None:
    tshark = need_tool("tshark")
    pcap = tmp_path / "call.pcap"
    out = sipsim("simulate", "basic-call", "--save-pcap", str(pcap))
    assert out.returncode == 0, out.stderr
    rows = tshark_sip(tshark, pcap)
    got = [m or s for _src, _dst, m, s in rows]
    # every message in and out of the proxy: REGISTER/200, then INVITE, 100, 180, 200, ACK, BYE, 200
    # each seen arriving and leaving (the proxy forwards all but its own REGISTER answer)
    assert got == ["REGISTER", "200", "INVITE", "INVITE", "100", "100", "180", "180", "200", "200",
                   "ACK", "ACK", "BYE", "BYE", "200", "200"]
    proxy = {r[0] for r in rows} & {r[1] for r in rows}
    assert "127.0.0.1" in proxy


def _foreign_pcap(path: Path) -> None:
    """A capture written with Scapy's plain layers (not sipsim's writer): three OPTIONS, 0/0.5/1.5 s."""
    from scapy.layers.inet import IP, UDP
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    pkts = []
    for i, t in enumerate((100.0, 100.5, 101.5)):
        msg = (f"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKf{i}\r\n"
               f"From: <sip:f@192.0.2.20>;tag=f{i}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: foreign-{i}\r\n"
               f"CSeq: {i + 1} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
        p = IP(src="192.0.2.20", dst="127.0.0.1") / UDP(sport=5062, dport=5060) / Raw(msg)
        p.time = t
        pkts.append(p)
    wrpcap(str(path), pkts)


def test_a_foreign_capture_replays_through_the_simulator_with_its_timing(tmp_path: Path) -> None:
    pcap = tmp_path / "foreign.pcap"
    _foreign_pcap(pcap)
    out = sipsim("simulate", "--pcap", str(pcap), "--trace", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    queued = [r for r in doc["trace"] if r.get("kind") == "datagram_queued"]
    assert len(queued) == 3
    times = [r["time"] - queued[0]["time"] for r in queued]
    assert times == pytest.approx([0.0, 0.5, 1.5])
    assert all(r["detail"]["src"] == "192.0.2.20:5062" for r in queued)
    assert doc["metrics"]["outcomes"].get("replied") == 3

    traced = sipsim("trace", "--pcap", str(pcap), "--json")
    rows = [json.loads(line) for line in traced.stdout.splitlines()]
    assert [(r["outcome"], r["status"]) for r in rows] == [("replied", 200)] * 3
    assert all(r["sent"][0]["to"] == "192.0.2.20:5062" for r in rows)


def test_send_options_to_a_live_server_prints_its_200_and_serve_saves_a_pcap(tmp_path: Path,
                                                                              isolated_network: None) -> None:
    from live_harness import LiveServer

    tshark = need_tool("tshark")
    pcap = tmp_path / "live.pcap"
    with LiveServer(tmp_path, workers=2, args=["--pcap", str(pcap)]) as srv:
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"", ("127.0.0.1", srv.port))  # an empty datagram: received, counted, dropped
        out = sipsim("send", "options", "--to", f"127.0.0.1:{srv.port}", timeout=30)
        assert out.returncode == 0, out.stderr
        assert "SIP/2.0 200 OK" in out.stdout
    rows = tshark_sip(tshark, pcap)
    assert [(m or s) for _s, _d, m, s in rows] == ["OPTIONS", "200"]
    assert rows[0][1] == "127.0.0.1" and rows[1][0] == "127.0.0.1"
    # the capture keeps what the server received, the empty datagram too
    udp = subprocess.run([tshark, "-r", str(pcap), "-T", "fields", "-e", "udp.length"], capture_output=True,
                         text=True, timeout=30)
    assert udp.stdout.split()[0] == "8", udp.stdout  # 8 bytes: a UDP header and nothing else
