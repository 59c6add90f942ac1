"""``sipsim serve --pcap FILE`` writes a capture: a FILE that exists is refused at start (exit 2,
nothing bound, no database made, the file untouched) unless --force — a user who types it to replay
a customer's capture must not lose it. With --force the server runs and replaces FILE at stop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_udp_port, stop_pid
from live_harness import LiveServer, ask_options

from sipsim.packets.pcap import read_capture
from sipsim.packets.pcapwriter import PcapWriter

pytestmark = pytest.mark.network


def _customer_capture(path: Path) -> bytes:
    with PcapWriter(path, epoch=1_700_000_000) as w:
        w.write(0.0, ("192.0.2.10", 5070), ("192.0.2.1", 5060), b"OPTIONS sip:192.0.2.1 SIP/2.0\r\n\r\n")
    return path.read_bytes()


def test_serve_refuses_a_capture_that_exists(tmp_path: Path, isolated_network: None) -> None:
    customer = tmp_path / "customer.pcap"
    before = _customer_capture(customer)
    db = tmp_path / "loc.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "sipsim", "serve", "--listen", f"127.0.0.1:{free_udp_port()}",
                             "--pcap", str(customer), "--db", str(db), "--control", str(tmp_path / "c.sock")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        stop_pid(proc)
        pytest.fail("serve started on a capture that exists")
    assert proc.returncode == 2, err
    line, = err.splitlines()
    assert line.startswith(f"sipsim: serve --pcap {customer}: the file exists ({len(before)} bytes), and serve "
                           "--pcap writes a capture") and "sipsim trace --pcap FILE" in line and "--force" in line
    assert customer.read_bytes() == before
    assert not db.exists() and not list(tmp_path.glob("customer.pcap.*.part"))  # refused before anything


def test_serve_force_replaces_the_capture_at_stop(tmp_path: Path, isolated_network: None) -> None:
    capture = tmp_path / "calls.pcap"
    _customer_capture(capture)
    with LiveServer(tmp_path, workers=1, args=["--pcap", str(capture), "--force"]) as srv:
        assert ask_options(srv.port) == "SIP/2.0 200 OK"
    got = read_capture(capture, ports=srv.port).datagrams
    assert [d.data[:12] for d in got] == [b"OPTIONS sip:", b"SIP/2.0 200 "], got
