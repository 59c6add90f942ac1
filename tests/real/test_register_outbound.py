"""Phones that register the RFC 5626/5627 way (``+sip.instance``, ``reg-id`` on their Contact, as
Linphone and other outbound-capable phones do) get both echoed in the 200 from `sipsim serve`,
as from Kamailio 5.6.3 with the same default.cfg -- the same REGISTERs go to both and the Contact
lists must match byte for byte. A phone that looks for its ``reg-id`` in the answer to know its
flow was kept would otherwise conclude the registrar ignored it.

Measured on the oracle: the names are matched in any case and written in lower case, reg-id is
read as a number (``07`` is 7), a reg-id without an instance is dropped, and a refresh that names
the contact without them keeps the stored ones (while its q and received go).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers import free_udp_port, need_tool
from live_harness import LiveServer

from sipsim.real.location import SQLiteLocation

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]

CONTACTS = [  # (user, Contact header value, Call-ID), sent in this order
    ("a", '<sip:a@127.0.0.1:6001>;q=0.5;received="sip:127.0.0.1:7000";+sip.instance="<urn:uuid:A>";reg-id=2', "ca"),
    ("a", "<sip:a@127.0.0.1:6001>", "ca"),  # a refresh (same Call-ID, next CSeq) without them
    ("b", "<sip:b@127.0.0.1:6002>;reg-id=1", "cb"),
    ("f", '<sip:f@127.0.0.1:6006>;+SIP.INSTANCE="<urn:uuid:F>";REG-ID=3', "cf"),
    ("h", '<sip:h@127.0.0.1:6008>;+sip.instance="<urn:uuid:H>";reg-id=07', "ch"),
]
EXPECTED = [
    '<sip:a@127.0.0.1:6001>;q=0.5;expires=600;received="sip:127.0.0.1:7000";+sip.instance="<urn:uuid:A>";reg-id=2',
    '<sip:a@127.0.0.1:6001>;expires=600;+sip.instance="<urn:uuid:A>";reg-id=2',
    "<sip:b@127.0.0.1:6002>;expires=600",
    '<sip:f@127.0.0.1:6006>;expires=600;+sip.instance="<urn:uuid:F>";reg-id=3',
    '<sip:h@127.0.0.1:6008>;expires=600;+sip.instance="<urn:uuid:H>";reg-id=7',
]


def _registers(port: int, src_port: int, contacts: list[tuple[str, str, str]] = CONTACTS) -> list[bytes]:
    """One REGISTER per (user, Contact value, Call-ID), CSeq 1, 2, 3 ... in order."""
    host = f"127.0.0.1:{port}"
    return [(f"REGISTER sip:{host} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{src_port};branch=z9hG4bK-ob{n};rport\r\n"
             f"From: <sip:{user}@{host}>;tag=f{n}\r\nTo: <sip:{user}@{host}>\r\nCall-ID: {callid}\r\n"
             f"CSeq: {n} REGISTER\r\nContact: {contact}\r\nExpires: 600\r\nMax-Forwards: 70\r\n"
             "Content-Length: 0\r\n\r\n").encode() for n, (user, contact, callid) in enumerate(contacts, 1)]


def _contact(reply: bytes) -> str:
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert head[0] == "SIP/2.0 200 OK", head
    return "\r\n".join(line[len("Contact: "):] for line in head if line.startswith("Contact: "))


@pytest.mark.parametrize("profile", ["ser", "kamailio"])
def test_sipsim_echoes_instance_and_reg_id(tmp_path: Path, isolated_network: None, profile: str) -> None:
    with LiveServer(tmp_path, workers=1, args=["--profile", profile]) as srv, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", 0))
        phone.settimeout(3.0)
        got = []
        for data in _registers(srv.port, phone.getsockname()[1]):
            phone.sendto(data, ("127.0.0.1", srv.port))
            got.append(_contact(phone.recvfrom(65535)[0]))
        store = SQLiteLocation(srv.db)
        kept = {b.aor: (b.instance, b.reg_id) for aor in "abfh" for b in store.lookup(aor, 0)}
        store.close()
    assert got == EXPECTED
    # kept in the location table (a restarted server lists them too)
    assert kept == {"a": ("<urn:uuid:A>", 2), "b": (None, 0), "f": ("<urn:uuid:F>", 3), "h": ("<urn:uuid:H>", 7)}


def test_kamailio_echoes_them_the_same_way(isolated_network: None) -> None:
    """The oracle: what EXPECTED says is what Kamailio 5.6.3 answers to the same REGISTERs."""
    need_tool("kamailio")
    from kamailio.harness import KamailioProcess

    script = Path(__file__).parents[2] / "sipsim" / "routing" / "scripts" / "default.cfg"
    with KamailioProcess(script.read_text(), defines=["SIPSIM_NO_RELAY"], script_name="default.cfg") as k:
        got = []
        src_port = free_udp_port()
        for data in _registers(k.port, src_port):
            (sent,) = k.send(data, src=("127.0.0.1", src_port)).sent
            got.append(_contact(sent.data))
    assert got == EXPECTED


SAME_URI = [  # one Call-ID, CSeq 1, 2, 3: a URI bound without an instance, then with one, then refreshed
    "<sip:e@127.0.0.1:6005>",
    '<sip:e@127.0.0.1:6005>;+sip.instance="<urn:uuid:E>";reg-id=1',
    "<sip:e@127.0.0.1:6005>;q=0.5",
]


def _answers(port: int, send) -> list[str]:  # noqa: ANN001
    src_port = free_udp_port()
    registers = _registers(port, src_port, [("e", contact, "same-uri") for contact in SAME_URI])
    return [_contact(send(data, src_port)) for data in registers]


def test_one_uri_bound_twice_like_kamailio(tmp_path: Path, isolated_network: None) -> None:
    """usrloc matches a contact that has an instance by its instance only: the same URI without an
    instance and with one are two bindings, in Kamailio 5.6.3 and in the SQLite table of a live
    kamailio-profile server alike (its key is the list position, not the URI); a contact without
    an instance refreshes the first of the two."""
    need_tool("kamailio")
    from kamailio.harness import KamailioProcess

    script = Path(__file__).parents[2] / "sipsim" / "routing" / "scripts" / "default.cfg"
    with KamailioProcess(script.read_text(), defines=["SIPSIM_NO_RELAY"], script_name="default.cfg") as k:
        oracle = _answers(k.port, lambda data, src: k.send(data, src=("127.0.0.1", src)).sent[0].data)
    with LiveServer(tmp_path, workers=1, args=["--profile", "kamailio"]) as srv:
        def send(data: bytes, src: int) -> bytes:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
                phone.bind(("127.0.0.1", src))
                phone.settimeout(3.0)
                phone.sendto(data, ("127.0.0.1", srv.port))
                return phone.recvfrom(65535)[0]
        got = _answers(srv.port, send)
        store = SQLiteLocation(srv.db)
        kept = [(b.contact, b.instance, b.q) for b in store.lookup("e", 0)]
        store.close()
    assert got == oracle
    assert got[1].count("<sip:e@127.0.0.1:6005>") == 2, got[1]
    assert kept == [("sip:e@127.0.0.1:6005", None, 0.5), ("sip:e@127.0.0.1:6005", "<urn:uuid:E>", None)]
