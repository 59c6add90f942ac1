"""``--listen 0.0.0.0``: the real local address of each datagram (IP_PKTINFO), in the capture and
as the source of the answer.

The capture showed the proxy as 0.0.0.0, and an answer left from whatever address the kernel
picked: a peer that sent to 127.0.0.2 got its 200 from 127.0.0.1, which a connected socket (a
phone, a NAT) throws away.
"""

from __future__ import annotations

import socket

import pytest
from helpers import free_udp_port
from live_harness import LiveServer, options_request

pytestmark = pytest.mark.network


def test_wildcard_listen_captures_and_answers_from_the_address_the_peer_used(tmp_path, isolated_network):
    from scapy.all import IP, UDP, rdpcap

    port = free_udp_port()
    pcap = tmp_path / "w.pcap"
    args = ["--listen", f"0.0.0.0:{port}", "--advertise", "127.0.0.1", "--pcap", str(pcap)]
    answers = {}
    with LiveServer(tmp_path, workers=2, port=port, args=args) as srv:
        for n, to in enumerate(("127.0.0.1", "127.0.0.2")):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
                c.bind(("127.0.0.1", 0))
                c.settimeout(5)  # a loaded 2-core CI machine
                c.connect((to, port))  # takes datagrams from (to, port) only
                c.send(options_request(port, c.getsockname()[1], cseq=n + 1))
                answers[to] = c.recv(65535).split(b"\r\n", 1)[0]
    assert answers == {"127.0.0.1": b"SIP/2.0 200 OK", "127.0.0.2": b"SIP/2.0 200 OK"}, (answers, srv.log_text())
    seen = [(p[IP].src, p[UDP].sport, p[IP].dst, p[UDP].dport) for p in rdpcap(str(pcap))]
    assert len(seen) == 4 and "0.0.0.0" not in {a for s in seen for a in (s[0], s[2])}, seen
    assert [(s[0] if s[1] == port else s[2]) for s in seen] == ["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"]
