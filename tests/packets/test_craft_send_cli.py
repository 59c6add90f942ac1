"""``sipsim craft`` and ``sipsim send`` as a user runs them: real subprocesses, a real UDP peer on
loopback (in the private network namespace), clear errors, and no Scapy import for ``--help``."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import DATA

from sipsim.packets.dialog import reply_to
from sipsim.packets.message import SipMessage
from sipsim.packets.pcap import read_sip_datagrams


def sipsim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sipsim", *args], capture_output=True, timeout=timeout)


class Responder:
    """A UDP peer on 127.0.0.1 that records what it receives and (optionally) answers 200 OK."""

    def __init__(self, answer: bool = True, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[bytes, tuple[str, int]]] = []
        self.answer = answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            data, peer = self.sock.recvfrom(65535)
        except OSError:
            return
        self.received.append((data, peer))
        if self.answer:
            self.sock.sendto(reply_to(data, 200), peer)

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def responder(isolated_network: None):  # noqa: ANN201
    peers: list[Responder] = []

    def make(answer: bool = True, host: str = "127.0.0.1") -> Responder:
        peers.append(Responder(answer, host))
        return peers[-1]

    yield make
    for p in peers:
        p.close()


@pytest.mark.parametrize(("host", "shown"), [("127.0.0.1", "127.0.0.1"), ("::1", "[::1]")])
def test_send_options_prints_the_200_ok(responder, host: str, shown: str) -> None:  # noqa: ANN001
    peer = responder(host=host)
    res = sipsim("send", "options", "--to", f"{shown}:{peer.port}")
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 0, err
    assert re.search(rf"--- answer 1 from {re.escape(shown)}:{peer.port} after [0-9.]+ ms \(\d+ bytes\): 200 OK ---",
                     out)
    assert "\nSIP/2.0 200 OK\r\n" in out
    # what the peer got: the real source address and port in Via and Contact, so answers come back
    (data, (ip, port, *_)), = peer.received
    assert ip == host
    sent = SipMessage.parse(data)
    assert sent.method == "OPTIONS" and sent.uri == f"sip:{shown}:{peer.port}"  # the server itself
    assert sent.get_header("Via").startswith(f"SIP/2.0/UDP {shown}:{port};branch=z9hG4bK")
    assert sent.get_header("Contact") == f"<sip:alice@{shown}:{port}>"
    assert f"sent OPTIONS sip:{shown}:{peer.port}" in err and "Traceback" not in err


def test_send_a_file_points_its_top_via_at_us(responder, tmp_path: Path) -> None:  # noqa: ANN001
    wsinv = (DATA / "rfc4475" / "wsinv.dat").read_bytes()
    peer = responder()
    res = sipsim("send", str(DATA / "rfc4475" / "wsinv.dat"), "--to", f"127.0.0.1:{peer.port}",
                 "--from", "127.0.0.1", "--set", "Max-Forwards=10", "--wait", "5")
    assert res.returncode == 0, res.stderr.decode()
    (data, (_, port)), = peer.received
    # only the Via sent-by token (folded Via kept) and the --set header changed
    expected = wsinv.replace(b"    192.0.2.2;branch=390skdjuw", f"    127.0.0.1:{port};branch=390skdjuw".encode())
    expected = expected.replace(b"MaX-fOrWaRdS: 0068", b"MaX-fOrWaRdS: 10")
    assert data == expected
    assert "top Via sent-by 192.0.2.2 -> 127.0.0.1:" in res.stderr.decode()

    silent = responder(answer=False)
    res = sipsim("send", str(DATA / "rfc4475" / "zeromf.dat"), "--to", f"127.0.0.1:{silent.port}",
                 "--keep-via", "--wait", "0.3")
    assert res.returncode == 1 and "no answer within 0.3 s" in res.stderr.decode()
    assert silent.received[0][0] == (DATA / "rfc4475" / "zeromf.dat").read_bytes()  # untouched


def test_send_to_a_closed_port_says_so(isolated_network: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = sipsim("send", "options", "--to", f"127.0.0.1:{port}", "--wait", "5")
    assert res.returncode == 1
    assert "refused the datagram (ICMP port unreachable)" in res.stderr.decode()


@pytest.mark.parametrize(("argv", "message"), [
    (["craft", "nosuch"], "'nosuch' is neither a template nor a file; templates: register"),
    (["craft", "options", "--to", "127.0.0.1:99999"], "--to '127.0.0.1:99999': bad port 99999"),
    (["craft", "options", "--to", "not-an-ip:5060"], "--to 'not-an-ip:5060': 'not-an-ip' is not an IPv4"),
    (["craft", "options", "--set", "Max-Forwards"], "bad --set 'Max-Forwards': expected Header=value"),
    (["craft", "options", "--set", "Bad Name=1"], "bad --set 'Bad Name=1': bad header name"),
    (["craft", "options", "--from", "[::1]:5070"], "must both be IPv4 or both IPv6"),
    (["craft"], "give a TEMPLATE or a FILE"),
    (["send", "options"], "--to HOST:PORT is required"),
    (["send", "nosuch", "--to", "127.0.0.1:5060"], "'nosuch' is neither a template nor a file"),
    (["send", "options", "--to", "127.0.0.1:"], "nothing after ':'"),
    (["send", "options", "--to", "127.0.0.1:5060", "--set", "X=a\nb"], "may not contain a line break"),
    (["send", "options", "--to", "127.0.0.1:5060", "--wait", "0"], "--wait 0.0: expected"),
])
def test_usage_errors_are_one_clear_line(argv: list[str], message: str) -> None:
    res = sipsim(*argv)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_craft_prints_shows_and_saves(tmp_path: Path) -> None:
    plain = sipsim("craft", "invite", "--to", "[2001:db8::2]:5060", "--set", "Subject=lab 1")
    assert plain.returncode == 0
    msg = SipMessage.parse(plain.stdout)
    assert msg.method == "INVITE" and msg.get_header("Subject") == "lab 1"
    assert msg.get_header("Via").startswith("SIP/2.0/UDP [::1]:5070;")
    assert int(msg.get_header("Content-Length")) == len(msg.body) > 0

    shown = sipsim("craft", "invite", "--to", "[2001:db8::2]:5060", "--set", "Subject=lab 1", "--show")
    text = shown.stdout.decode()
    assert shown.returncode == 0 and "###[ IPv6 ]###" in text and "###[ SIP ]###" in text
    assert "Subject: lab 1" in text and "method    = INVITE" in text
    # built as it goes on the wire (show2): lengths and checksum computed, as Wireshark shows them
    assert "None" not in text and f"plen      = {8 + len(plain.stdout)}" in text
    assert re.search(rf"\n\s+len\s+= {8 + len(plain.stdout)}\n\s+chksum\s+= 0x[0-9a-f]{{4}}\n", text)
    assert "hlim      = 64" in text
    # IPv4: the header Linux writes on a UDP socket (and the pcap holds): DF set, TTL 64
    v4 = sipsim("craft", "options", "--show").stdout.decode()
    assert "flags     = DF" in v4 and "ttl       = 64" in v4, v4

    out = tmp_path / "one.pcap"
    saved = sipsim("craft", "invite", "--to", "[2001:db8::2]:5060", "--set", "Subject=lab 1", "--pcap", str(out))
    assert saved.returncode == 0 and saved.stdout == b""
    (d,) = read_sip_datagrams(out)
    assert (d.src, d.dst, d.data) == (("::1", 5070), ("2001:db8::2", 5060), plain.stdout)

    listing = sipsim("craft", "--list")
    assert listing.returncode == 0 and b"bad-content-length" in listing.stdout


def test_help_does_not_import_scapy() -> None:
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "sipsim", "--help"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and "craft" in res.stdout and "send" in res.stdout
    modules = [line.split("|")[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")]
    assert "sipsim.cli" in modules and "argparse" in modules  # the report is real...
    assert not [m for m in modules if m == "scapy" or m.startswith("scapy.")]  # ...and has no Scapy
    # importtime does not list modules loaded through importlib.import_module (how sipsim.cli loads
    # its subcommands), so also ask the interpreter itself after building every parser.
    probe = ("import sys\nfrom sipsim.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('scapy', 'sipsim.packets', 'sipsim.cli.'))))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    loaded = res.stdout.strip().splitlines()[-1]
    assert "'sipsim.cli.send'" in loaded and "'sipsim.cli.craft'" in loaded
    assert "scapy" not in loaded and "sipsim.packets" not in loaded

    # the package and its Scapy-free parts (model, templates as bytes, pcap in/out) stay Scapy-free
    probe = ("import sys, io\nimport sipsim.packets as p\nb = p.craft_bytes('invite')\n"
             "w = p.PcapWriter(io.BytesIO()); w.write(0, ('127.0.0.1', 5070), ('127.0.0.1', 5060), b)\n"
             "assert p.SipMessage.parse(b).to_bytes() == b\nprint(sorted(m for m in sys.modules if 'scapy' in m))\n"
             "p.SIP\nprint('scapy.layers.inet' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert res.stdout.split() == ["[]", "True"], res.stderr  # ...until the layer is asked for
