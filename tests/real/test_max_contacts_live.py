"""``sipsim serve --max-contacts``: the registrar's limit reaches the forked workers of a live server.

The default (10) is a lab's cap, not Kamailio's 0 (see sipsim/cli/serve.py); ``--max-contacts 0``
gives Kamailio's default back. What the limit counts is compared with Kamailio in
tests/routing/test_max_contacts.py."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from live_harness import LiveServer, eventually


def _register(port: int, local: int, user: str, count: int) -> bytes:
    contacts = ", ".join(f"<sip:{user}-{i}@127.0.0.1:{local}>" for i in range(count))
    return (f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-{user};rport\r\n"
            f"From: <sip:{user}@127.0.0.1>;tag=t\r\nTo: <sip:{user}@127.0.0.1>\r\nCall-ID: mc-{user}\r\n"
            f"CSeq: 1 REGISTER\r\nContact: {contacts}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def _status(port: int, user: str, count: int) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.bind(("127.0.0.1", 0))
        c.settimeout(3.0)
        c.sendto(_register(port, c.getsockname()[1], user, count), ("127.0.0.1", port))
        try:
            return c.recvfrom(65535)[0].split(b"\r\n", 1)[0].decode("latin-1")
        except TimeoutError:
            return ""


@pytest.mark.parametrize(("args", "limit"), [((), 10), (("--max-contacts", "0"), None)])
def test_serve_caps_the_contacts_of_one_aor(tmp_path, isolated_network, args, limit) -> None:  # noqa: ANN001
    with LiveServer(tmp_path, workers=2, args=args) as srv:
        assert _status(srv.port, "ten", 10) == "SIP/2.0 200 OK"
        eleven = _status(srv.port, "eleven", 11)
        eventually(lambda: srv.log_text().count(" replied ") >= 2, timeout=3.0)  # the worker logs after sending
        log = srv.log_text()
    if limit:
        assert eleven == "SIP/2.0 503 Service Unavailable"
        assert "max_contacts 10," in log
        assert "Too many registered contacts" in log, "the live log line says why"
    else:
        assert eleven == "SIP/2.0 200 OK"
        assert "max_contacts none," in log


def test_serve_and_its_options_agree_on_the_default() -> None:
    from sipsim.cli.serve import MAX_CONTACTS
    from sipsim.real.server import ServeOptions

    assert ServeOptions().max_contacts == MAX_CONTACTS == 10  # a program building ServeOptions gets the same


def test_a_negative_max_contacts_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "sipsim", "serve", "--max-contacts", "-1"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "negative (0 means no limit)" in done.stderr
    assert "Traceback" not in done.stderr
