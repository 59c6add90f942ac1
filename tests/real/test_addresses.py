"""Addresses a lab meets beyond 127.0.0.1: an IPv6 alias with a port, a link-local ``--listen``.

``--alias [2001:db8::1]:5070`` is read as Kamailio reads ``alias=[2001:db8::1]:5070`` (an IPv6
reference carrying a port; tests/routing's ``aliases`` differential case compares the forms with
Kamailio 5.6.3); a wildcard IPv6 listen makes each local address "me" on its port only. A
link-local address needs its interface (``[fe80::1%lo]``): without it the kernel only says
"Invalid argument", so sipsim says what is missing; with it the server binds with that scope id
and reaches link-local peers through it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from helpers import free_udp_port, link_local_on_lo
from live_harness import LiveServer

pytestmark = pytest.mark.network


def _options(ruri: str, via_host: str, tag: str) -> bytes:
    return (f"OPTIONS {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {via_host}:{{lp}};branch=z9hG4bK-{tag}\r\n"
            f"From: <sip:t@example.com>;tag={tag}\r\nTo: <{ruri}>\r\nCall-ID: {tag}\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def _ask(client: socket.socket, data: bytes, to: tuple) -> bytes:
    client.sendto(data.replace(b"{lp}", str(client.getsockname()[1]).encode()), to)
    return client.recvfrom(65535)[0]


def test_address_mistakes_get_one_clear_line(tmp_path, isolated_network):
    """fe80::1 without its interface was the kernel's "Invalid argument"; a bad --alias was a
    ValueError in every worker at the first request."""
    port = free_udp_port()
    common = ["--db", str(tmp_path / "l.sqlite"), "--control", str(tmp_path / "c.sock"), "--workers", "1"]
    # every listen address the command line gets wrong is a usage error (2), as any bad option and
    # as `tui --live` says it; `foo:5060` was 1. What the machine refuses (not its address) is 1.
    cases = [
        # the hint names the interface holding fe80::1 if there is one (another test may add it to lo)
        (f"[fe80::1]:{port}", [], 2, "a link-local address needs a scope, the interface it is on: "
                                     "--listen '[fe80::1%"),
        (f"[fe80::1%nosuch0]:{port}", [], 2, "this machine has no interface 'nosuch0'"),
        (f"[::1%lo]:{port}", [], 2, "a scope (%lo) belongs only to a link-local address"),
        (f"foo:{port}", [], 2, "bad listen address 'foo': give an IPv4 or IPv6 address (names are not resolved)"),
        (f"192.0.2.1:{port}", [], 1, "192.0.2.1 is not an address of this machine"),
        (f"127.0.0.1:{port}", ["--alias", "[2001:db8::1]:50x"], 2, "--alias: bad alias '[2001:db8::1]:50x'"),
        (f"127.0.0.1:{port}", ["--alias", "[2001:db8::1"], 2, "an IPv6 reference is [address] or [address]:port"),
    ]
    for listen, extra, status, needle in cases:
        t0 = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "sipsim", "serve", *common, "--listen", listen, *extra],
                             capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        lines = res.stderr.strip().splitlines()
        assert res.returncode == status, (listen, extra, res.stderr)
        assert len(lines) == 1 and lines[0].startswith("sipsim: ") and needle in lines[0], (listen, res.stderr)
        assert time.monotonic() - t0 < 5


def test_ipv6_alias_carries_a_port_and_wildcard_v6_addresses_are_me_on_the_port(tmp_path, isolated_network):
    port = free_udp_port("::1")
    args = ["--listen", f"[::]:{port}", "--advertise", "sipsim.lab.test", "--alias", "[2001:DB8::1]:5070"]
    with LiveServer(tmp_path, workers=2, port=port, args=args) as srv, \
            socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as c:
        c.bind(("::1", 0))
        c.settimeout(3)
        expected = {
            "sip:[2001:db8::1]:5070": b"SIP/2.0 200 OK",  # the alias, on its port
            "sip:a@[2001:db8::1]:5071": b"SIP/2.0 403 Relaying Forbidden",  # another port: not me
            "sip:a@[2001:db8::1]": b"SIP/2.0 403",  # no port is 5060
            f"sip:[::1]:{port}": b"SIP/2.0 200 OK",  # a local address, on the listening port
            f"sip:a@[::1]:{port + 1}": b"SIP/2.0 403",  # was "me" too: any port counted for IPv6
        }
        for n, (ruri, status) in enumerate(expected.items()):
            answer = _ask(c, _options(ruri, "[::1]", f"al{n}"), ("::1", port))
            assert answer.startswith(status), (ruri, answer[:60], srv.log_text())
        assert f"[::1]:{port}" in srv.log_text()  # the startup line lists the aliases


def test_link_local_listen_with_its_scope_serves_and_forwards_on_that_link(tmp_path, isolated_network):
    port, far_port = free_udp_port("::1"), free_udp_port("::1")
    with link_local_on_lo() as lo:
        # written as a user might: the server still names itself fe80::1 (its Via, `myself`)
        args = ["--listen", f"[FE80:0::1%lo]:{port}", "--relay", "--allow-dest", "fe80::/10"]
        with LiveServer(tmp_path, workers=2, port=port, args=args) as srv, \
                socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as c, \
                socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as far:
            c.bind(("fe80::1", 0, 0, lo))
            far.bind(("fe80::1", far_port, 0, lo))
            c.settimeout(3)
            far.settimeout(3)
            # for the server: the answer goes back to a link-local source (the scope is needed)
            answer = _ask(c, _options(f"sip:[fe80::1]:{port}", "[fe80::1]", "ll1"), ("fe80::1", port, 0, lo))
            assert answer.startswith(b"SIP/2.0 200 OK"), (answer, srv.log_text())
            assert b"received=" not in answer.split(b"\r\n")[1], "the engine saw the address without '%lo'"
            # forwarded to a link-local destination; our Via names the address without its scope
            c.sendto(_options(f"sip:b@[fe80::1]:{far_port}", "[fe80::1]", "ll2").replace(
                b"{lp}", str(c.getsockname()[1]).encode()), ("fe80::1", port, 0, lo))
            fwd = far.recvfrom(65535)[0]
            assert fwd.split(b"\r\n")[1].startswith(f"Via: SIP/2.0/UDP [fe80::1]:{port};branch=".encode()), fwd
            assert f"listening on udp:[fe80::1%lo]:{port}," in srv.log_text()
