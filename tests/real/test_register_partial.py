"""A REGISTER with one bad contact, in live mode: the ``kamailio`` profile keeps what the contacts
before it did, as Kamailio 5.6.3's ``update_contacts()`` does (it changes usrloc contact by
contact; the rule is measured in tests/routing/fuzzfound.py, ``register-partial-*``), and the
SQLite table keeps it for every worker; the ``ser`` profile keeps RFC 3261 §10.3's all or
nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from live_harness import LiveServer

from sipsim.real.location import SQLiteLocation

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]


def _register(port: int, src: int, cseq: int, contacts: str) -> bytes:
    host = f"127.0.0.1:{port}"
    return (f"REGISTER sip:{host} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK-part{cseq}\r\n"
            f"From: <sip:kai@{host}>;tag=p{cseq}\r\nTo: <sip:kai@{host}>\r\nCall-ID: partial-kai\r\n"
            f"CSeq: {cseq} REGISTER\r\nContact: {contacts}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


@pytest.mark.parametrize(("profile", "kept"), [("kamailio", ["sip:kai@127.0.0.1:7002", "sip:kai@127.0.0.1:7001"]),
                                               ("ser", ["sip:kai@127.0.0.1:7001"])])
def test_a_bad_contact_keeps_what_came_before_it_in_the_kamailio_profile(
        tmp_path: Path, isolated_network: None, profile: str, kept: list[str]) -> None:
    with LiveServer(tmp_path, workers=2, args=["--profile", profile]) as srv, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", 0))
        phone.settimeout(3.0)
        src = phone.getsockname()[1]
        answers = []
        for cseq, contacts in ((1, "<sip:kai@127.0.0.1:7001>"),
                               (2, "<sip:kai@127.0.0.1:7003>;q=1., <sip:kai@127.0.0.1:7002>;q=0.8")):
            phone.sendto(_register(srv.port, src, cseq, contacts), ("127.0.0.1", srv.port))
            answers.append(phone.recvfrom(65535)[0].decode("latin-1"))
        store = SQLiteLocation(srv.db)
        bound = [b.contact for b in store.lookup("kai", 0)]
        store.close()
    assert answers[0].startswith("SIP/2.0 200 OK\r\n"), answers[0]
    assert answers[1].startswith("SIP/2.0 400 Bad Request\r\n"), answers[1]
    assert "P-Registrar-Error: Invalid q param in contact\r\n" in answers[1], answers[1]
    assert bound == kept
    listed = next(line for line in answers[1].split("\r\n") if line.startswith("Contact: "))
    assert [c.split(">")[0].lstrip("<") for c in listed[len("Contact: "):].split(", ")] == kept, listed
