"""Numbers of thousands of digits, wherever a message or a script has a number.

Python's ``int()`` refuses a string of more than 4300 digits (ValueError) and takes time that grows
with the square of the length below that; a C digit loop just overflows or reads zeros. Such a
datagram must get the answer any other bad number gets (a 400, a silent drop, a conversion
warning), never "internal error" — and leading zeros are no digits at all."""

from __future__ import annotations

import pytest

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing.functions import parse_int
from sipsim.routing.operators import str2int

ONES, ZEROS = "1" * 5000, "0" * 5000 + "5"
VIA = "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlong"


def _invite(*extra: str, clen: str = "0", mf: str = "70", cseq: str = "1") -> bytes:
    lines = ["INVITE sip:bob@192.0.2.9 SIP/2.0", VIA, f"Max-Forwards: {mf}", "To: <sip:bob@192.0.2.9>",
             "From: <sip:alice@192.0.2.1>;tag=1", "Call-ID: long@x", f"CSeq: {cseq} INVITE", *extra,
             f"Content-Length: {clen}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _register(contact: str, *extra: str) -> bytes:
    lines = ["REGISTER sip:127.0.0.1 SIP/2.0", VIA, "Max-Forwards: 70", "To: <sip:bob@127.0.0.1>",
             "From: <sip:bob@127.0.0.1>;tag=1", "Call-ID: reg-long@x", "CSeq: 1 REGISTER", f"Contact: {contact}",
             *extra, "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _reply(rport: str) -> bytes:
    lines = ["SIP/2.0 200 OK", "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx",
             f"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKlong;rport={rport}", "To: <sip:b@x>;tag=2",
             "From: <sip:a@x>;tag=1", "Call-ID: c@x", "CSeq: 1 INVITE", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


CASES = {
    "content-length": _invite(clen=ONES),
    "max-forwards": _invite(mf=ONES),
    "cseq": _invite(cseq=ONES),
    "expires": _invite(f"Expires: {ONES}"),
    "contact-expires": _register(f"<sip:bob@192.0.2.1>;expires={ONES}"),
    "register-expires": _register("<sip:bob@192.0.2.1>", f"Expires: {ONES}"),
    "reply-rport": _reply(ONES),
}


@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO])
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_number_of_thousands_of_digits_is_a_bad_number_not_an_internal_error(name: str, profile: Profile) -> None:
    driver = MemoryDriver(ServerConfig(profile=profile, listen=("127.0.0.1", 5060)))
    res = driver.feed(CASES[name], ("192.0.2.1", 5060))
    reasons = [e.reason for e in res.events if getattr(e, "reason", None)]
    assert reasons and not any("internal error" in r for r in reasons), reasons


def test_what_long_numbers_get() -> None:
    ser = MemoryDriver(ServerConfig(profile=Profile.SER, listen=("127.0.0.1", 5060)))
    res = ser.feed(CASES["content-length"], ("192.0.2.1", 5060))
    assert [s.data[:24] for s in res.sent] == [b"SIP/2.0 400 Bad Request\r"]
    assert b"Content-Length is a number of 5,000 digits" in res.sent[0].data
    # leading zeros are no digits: Max-Forwards 000...05 is 5, and the INVITE goes on with 4
    res = ser.feed(_invite(mf=ZEROS), ("192.0.2.1", 5060))
    assert len(res.sent) == 1 and b"\r\nMax-Forwards: 4\r\n" in res.sent[0].data
    # ser: an rport too long to be a port -> the Via's own port, as for no rport
    res = ser.feed(CASES["reply-rport"], ("127.0.0.1", 5080))
    assert [s.to for s in res.sent] == [("192.0.2.1", 5070)]
    # the script's conversions: too long for an int, as 2147483648 is
    assert str2int(ONES) is None and str2int("-" + ZEROS) == -5 and parse_int(ONES) is None


def test_a_reason_that_names_its_header_is_said_once() -> None:
    """"Max-Forwards is not a number: Max-Forwards is not a number: '-1'" read twice the same words."""
    ser = MemoryDriver(ServerConfig(profile=Profile.SER, listen=("127.0.0.1", 5060)))
    res = ser.feed(_invite(mf="-1"), ("192.0.2.1", 5060))
    texts = [e.text for e in res.events] + [s.data.decode() for s in res.sent]
    assert any("Max-Forwards is not a number: '-1'" in t for t in texts)
    assert not any("Max-Forwards is not a number: Max-Forwards" in t or "bad Max-Forwards: Max-Forwards" in t
                   for t in texts), texts
