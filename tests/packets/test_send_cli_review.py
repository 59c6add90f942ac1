"""``sipsim send`` from a VoIP engineer's review: a taken --from port is the machine's refusal (1,
as serve's port in use), and the note after an unACKed INVITE no longer says every answerer
retransmits — a stateless proxy's own reply is sent once."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from sipsim.packets.dialog import reply_to


def sipsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sipsim", *args], capture_output=True, text=True, timeout=30)


def test_a_from_port_in_use_exits_1_as_serve(isolated_network: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        taken.bind(("127.0.0.1", 0))
        peer.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        res = sipsim("send", "options", "--to", f"127.0.0.1:{peer.getsockname()[1]}", "--from", f"127.0.0.1:{port}")
    assert res.returncode == 1, res.stderr
    assert f"cannot bind --from 127.0.0.1:{port}: Address already in use" in res.stderr


def _answer_invite(sock: socket.socket, server: bytes | None) -> None:
    try:
        data, peer = sock.recvfrom(65535)
    except OSError:
        return
    answer = reply_to(data, 486)
    if server:
        answer = answer.replace(b"\r\nContent-Length:", b"\r\nServer: " + server + b"\r\nContent-Length:", 1)
    sock.sendto(answer, peer)


@pytest.mark.parametrize(("server", "said"), [
    (b"sipsim", "this answer is sipsim serve's own stateless reply (sl_send_reply), sent once: nothing "
                "retransmits it"),
    (b"kamailio (5.6.3 (x86_64/linux))", "If a UAS or a stateful proxy (a transaction) sent this answer, it "
                                         "retransmits it"),
    (None, "a stateless proxy's own reply (Kamailio's sl_send_reply) is sent once"),
])
def test_the_note_after_an_invite_says_who_retransmits(server: bytes | None, said: str,
                                                        isolated_network: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as uas:
        uas.bind(("127.0.0.1", 0))
        uas.settimeout(10)
        t = threading.Thread(target=_answer_invite, args=(uas, server), daemon=True)
        t.start()
        res = sipsim("send", "invite", "--to", f"127.0.0.1:{uas.getsockname()[1]}", "--wait", "5")
        t.join(timeout=5)
    assert res.returncode == 0 and "SIP/2.0 486 " in res.stdout, res.stderr
    assert said in " ".join(res.stderr.split())
    assert "the answering side retransmits" not in res.stderr
