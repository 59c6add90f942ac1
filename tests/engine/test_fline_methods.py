"""Which methods each profile's first-line parser knows, and what knowing one changes.

Kamailio 5.6's ``parse_first_line()`` gives a method bit to nineteen names in any case — the
fourteen SIP methods and KDMQ, GET, POST, PUT, DELETE — with the values of its ``enum
request_method`` (``METHOD_OTHER`` is the bit after DELETE's). The ser profile keeps the seed's
fourteen, spelled exactly. The bit decides kex's counters (tests/routing/test_kamailio_methods.py
compares them with the real Kamailio) and ``KSR.is_method_in()``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.fline import (
    KAMAILIO_METHODS,
    METHOD_OTHER,
    METHODS,
    SIP_REQUEST,
    parse_first_line,
    parse_first_line_kamailio,
)
from sipsim.routing import load_route

#: Kamailio 5.6's enum request_method, in bit order (msg_parser.h)
KAMAILIO_56_ORDER = ("INVITE", "CANCEL", "ACK", "BYE", "INFO", "REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE",
                     "OPTIONS", "PRACK", "UPDATE", "REFER", "PUBLISH", "KDMQ", "GET", "POST", "PUT", "DELETE")
EXTRA = ("KDMQ", "GET", "POST", "PUT", "DELETE")


def line(method: str, tail: str = " SIP/2.0\r\n") -> str:
    return f"{method} sip:node@192.0.2.7{tail}Via: x\r\n"


def test_the_bits_are_kamailio_56s() -> None:
    assert KAMAILIO_METHODS == {name: 1 << i for i, name in enumerate(KAMAILIO_56_ORDER)}
    assert METHOD_OTHER == 1 << len(KAMAILIO_56_ORDER)
    assert METHODS == {name: 1 << i for i, name in enumerate(KAMAILIO_56_ORDER[:14])}


# the ordinary shape takes the regular-expression fast path; a tab before the version, trailing white
# space or a bare LF take the character walk: both must give the same bit
SHAPES = [" SIP/2.0\r\n", " \tSIP/2.0\r\n", " SIP/2.0 \r\n", " SIP/2.0\n"]


@pytest.mark.parametrize("shape", SHAPES, ids=["fast", "tab", "trailing-space", "bare-lf"])
def test_kamailio_profile_knows_nineteen_methods_in_any_case(shape: str) -> None:
    for name in KAMAILIO_56_ORDER:
        for spelled in (name, name.lower(), name[0].lower() + name[1:], name.title()):
            fl = parse_first_line_kamailio(line(spelled, shape), 0)
            assert (fl.type, fl.method, fl.method_value) == (SIP_REQUEST, spelled, KAMAILIO_METHODS[name])
            assert fl.method_is(name)


@pytest.mark.parametrize("shape", SHAPES, ids=["fast", "tab", "trailing-space", "bare-lf"])
def test_a_name_is_known_only_whole(shape: str) -> None:
    """A known name must be the whole token: a longer or shorter one is an extension method."""
    for method in ("GETS", "GE", "KDM", "KDMQQ", "PUTT", "POSTS", "DELETED", "DEL", "K-DMQ", "FOO", "intmeth"):
        fl = parse_first_line_kamailio(line(method, shape), 0)
        assert (fl.method, fl.method_value) == (method, METHOD_OTHER)
        assert not any(fl.method_is(name) for name in KAMAILIO_METHODS)


def test_ser_profile_keeps_the_seeds_fourteen() -> None:
    for name in EXTRA:
        assert parse_first_line(line(name), 0).method_value == METHOD_OTHER
        assert not parse_first_line(line(name), 0).method_is(name)
    for name in METHODS:
        assert parse_first_line(line(name), 0).method_value == METHODS[name]
    assert parse_first_line(line("invite"), 0).method_value == METHOD_OTHER  # the RFC: case-sensitive


def test_a_known_method_still_needs_its_space() -> None:
    """Knowing the name changes only the bit: the line's grammar is the same (one space after it)."""
    with pytest.raises(ParseError):
        parse_first_line_kamailio("KDMQ\tsip:node@192.0.2.7 SIP/2.0\r\nVia: x\r\n", 0)


def request(method: str, n: int) -> bytes:
    return (f"{method} sip:node@192.0.2.7 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfm{n}\r\n"
            f"Max-Forwards: 70\r\nTo: <sip:node@192.0.2.7>\r\nFrom: <sip:peer@192.0.2.1>;tag=f\r\n"
            f"Call-ID: fm-{n}\r\nCSeq: {n} {method}\r\nContent-Length: 0\r\n\r\n").encode()


@pytest.mark.parametrize(("profile", "unsupported"), [(Profile.KAMAILIO, 1), (Profile.SER, 6)])
def test_kex_counts_what_the_parser_knows(tmp_path: Path, profile: Profile, unsupported: int) -> None:
    """kamailio: the five have bits but no counters (``rcv_requests`` only), FOO is unsupported;
    ser: its parser knows none of them, so all six are unsupported."""
    path = tmp_path / "exit.cfg"
    path.write_text('loadmodule "kex.so"\n\nrequest_route {\n\texit;\n}\n')
    config = ServerConfig(profile=profile, listen=("127.0.0.1", 5060))
    driver = MemoryDriver(config, router=load_route(path, config))
    for n, method in enumerate((*EXTRA, "FOO", "OPTIONS"), 1):
        driver.feed(request(method, n), ("192.0.2.1", 5060))
    stats = driver.ctx.stats.snapshot()
    assert stats["rcv_requests"] == 7 and stats["unsupported_methods"] == unsupported
    assert stats["rcv_requests_options"] == 1
    assert sum(v for k, v in stats.items() if k.startswith("rcv_requests_")) == 1


KEMI = '''import KSR as KSR


def ksr_request_route(msg):
    for letters in ("K", "k", "G", "V", "T", "D", "I", "IRB", "KGTVD"):
        if KSR.is_method_in(letters):
            KSR.info("in " + letters)
    KSR.x.exit()


def ksr_reply_route(msg):
    if KSR.is_method_in("k"):
        KSR.info("reply to a KDMQ")
    if KSR.is_method_in("I"):
        KSR.info("reply to an INVITE")
'''


def test_ksr_is_method_in_tests_the_method_bit(tmp_path: Path) -> None:
    """Kamailio's ``sr_kemi_core_is_method_in()``: letters in any case, against the request's bit (a
    reply's CSeq method's), so a lower-case ``kdmq`` or ``invite`` is in; an extension method
    (``METHOD_OTHER``) is in no list."""
    path = tmp_path / "script.py"
    path.write_text(KEMI)
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060))
    driver = MemoryDriver(config, router=load_route(path, config))

    def logs(data: bytes) -> list[str]:
        res = driver.feed(data, ("192.0.2.1", 5060))
        return [ev.detail["message"] for ev in res.events if ev.step == "xlog"]

    assert logs(request("kdmq", 1)) == ["in K", "in k", "in KGTVD"]
    assert logs(request("GET", 2)) == ["in G", "in KGTVD"]
    assert logs(request("pUt", 3)) == ["in V", "in KGTVD"]
    assert logs(request("invite", 4)) == ["in I", "in IRB"]
    assert logs(request("KDMQX", 5)) == []
    reply = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKr1\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr0\r\nTo: <sip:n@h>;tag=t\r\nFrom: <sip:p@h>;tag=f\r\n"
             "Call-ID: fm-r\r\nCSeq: 9 {}\r\nContent-Length: 0\r\n\r\n")
    assert logs(reply.format("Kdmq").encode()) == ["reply to a KDMQ"]
    assert logs(reply.format("INVITE").encode()) == ["reply to an INVITE"]
    assert logs(reply.format("FOO").encode()) == []
