"""A Contact's own ``;received=`` parameter: sipsim against the real Kamailio 5.6, message by message.

``cfgs/received.cfg`` saves every REGISTER and, for anything else, runs ``lookup()`` and
``forward()``: what Kamailio 5.6.3 does with the parameter (see sipsim/engine/registrar.py, "The
received parameter") -- stores it, echoes it in the 200 as ``;received="..."`` (or under the
``received_param`` name), makes it ``$du`` so the call goes to the received address, and carries
it over to the contacts read after it in the same REGISTER.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import kamdiff
from routing.crafted import request
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFG = Path(__file__).parent / "cfgs" / "received.cfg"
PHONE = ("192.0.2.4", 5060)
H = "192.0.2.4:5070"


def _register(n: int, user: str, headers: list[str], *, cseq: int = 1, callid: str = "reg-r") -> bytes:
    return request("REGISTER", "sip:127.0.0.1", to=f"<sip:{user}@127.0.0.1>", frm=f"<sip:{user}@127.0.0.1>;tag=r{n}",
                   callid=callid, cseq=f"{cseq} REGISTER", extra=tuple(f"Contact: {h}" for h in headers), n=n)


def _invite(n: int, user: str) -> bytes:
    return request("INVITE", f"sip:{user}@127.0.0.1", n=n)


STEPS: list[tuple[str, bytes]] = [
    ("quoted", _register(1, "bob", [f'<sip:b1@{H}>;received="sip:198.51.100.7:4444"'])),
    ("query-lists-it", _register(2, "bob", [])),
    ("invite-goes-to-received", _invite(3, "bob")),
    ("unquoted-with-q", _register(4, "carol", [f"<sip:c1@{H}>;received=sip:198.51.100.8;q=0.5"])),
    ("single-quotes-uri-param-not-it", _register(5, "dave", [f"<sip:d1@{H};received=x>;received='sip:198.51.100.5'"])),
    ("empty-no-value", _register(6, "erin", [f"<sip:e1@{H}>;received"])),
    ("empty-value", _register(7, "erin", [f"<sip:e2@{H}>;received="], cseq=2)),
    ("empty-quoted", _register(8, "erin", [f'<sip:e3@{H}>;received=""'], cseq=3)),
    ("invite-no-received", _invite(9, "erin")),
    ("name-in-capitals", _register(10, "gus", [f'<sip:g1@{H}>;RECEIVED="sip:203.0.113.2"'])),
    ("repeated-last-wins", _register(11, "hal", [f"<sip:h1@{H}>;received=sip:203.0.113.3;received=sip:203.0.113.4"])),
    ("ipv6-unquoted", _register(12, "ivy", [f"<sip:i1@{H}>;received=sip:[2001:db8::1]:5060"])),
    ("with-transport", _register(13, "jay", [f'<sip:j1@{H}>;received="sip:198.51.100.9:7000;transport=udp"'])),
    ("invite-to-received-port", _invite(14, "jay")),
    # carried over to the contacts read after it (headers in order, a header's contacts last first)
    ("carry-next-header", _register(15, "kim", [f'<sip:k1@{H}>;received="sip:198.51.100.15"', f"<sip:k2@{H}>"])),
    ("carry-same-header-first", _register(16, "lou", [f"<sip:l1@{H}>, <sip:l2@{H}>;received=\"sip:198.51.100.16\""])),
    ("no-carry-same-header-last", _register(17, "max", [f"<sip:m1@{H}>;received=\"sip:198.51.100.17\", <sip:m2@{H}>"])),
    ("no-carry-backwards", _register(18, "ned", [f"<sip:n2@{H}>", f'<sip:n1@{H}>;received="sip:198.51.100.18"'])),
    ("empty-does-not-clear", _register(19, "oz", [f'<sip:o1@{H}>;received="sip:198.51.100.19"',
                                                  f"<sip:o2@{H}>;received", f"<sip:o3@{H}>"])),
    ("first-value-sticks", _register(20, "pat", [f'<sip:p1@{H}>;received="sip:198.51.100.20"',
                                                      f'<sip:p2@{H}>;received="sip:198.51.100.21"', f"<sip:p3@{H}>"])),
    ("carry-from-removed-new-aor", _register(21, "quinn", [f'<sip:q1@{H}>;received="sip:198.51.100.22";expires=0',
                                                           f"<sip:q2@{H}>"])),
    ("known-aor-plain", _register(22, "ray", [f"<sip:r1@{H}>"])),
    ("carry-from-removed-known-aor", _register(23, "ray", [f'<sip:rx@{H}>;received="sip:198.51.100.23";expires=0',
                                                            f"<sip:r2@{H}>"], cseq=2)),
    ("refresh-sets-it", _register(24, "ray", [f'<sip:r1@{H}>;received="sip:198.51.100.24"', f"<sip:r1@{H}>"], cseq=3)),
    ("retransmission-keeps-it", _register(25, "ray", [f'<sip:r2@{H}>;received="sip:198.51.100.25"', f"<sip:r1@{H}>"],
                                          cseq=3)),
    ("refresh-without-clears", _register(26, "ray", [f"<sip:r1@{H}>", f"<sip:r2@{H}>"], cseq=4)),
    ("invite-after-clear", _invite(27, "ray")),
    ("empty-then-value", _register(28, "sam", [f"<sip:s1@{H}>;received", f'<sip:s2@{H}>;received="sip:198.51.100.28"',
                                               f"<sip:s3@{H}>"])),
    ("long-value-255", _register(29, "tom", [f'<sip:t1@{H}>;received="sip:{"x" * 240}"'])),
    # parse_params() closes a quoted value at the next quote, escaped or not: 400 Contact parse error
    ("escaped-quote", _register(30, "uma", [f'<sip:u1@{H}>;received="sip:a\\"b"'])),
    ("escaped-quote-other-param", _register(31, "uma", [f'<sip:u1@{H}>;x="a\\"b";expires=60'], cseq=2)),
    ("escaped-backslash", _register(32, "uma", [f'<sip:u1@{H}>;x="a\\\\";expires=60'], cseq=3)),
    # single quotes are quotes to parse_params() too: 200, the value echoed in double quotes
    ("single-quoted-with-dquote", _register(33, "vic", [f"<sip:v1@{H}>;received='sip:a\"b'"])),
    ("single-quoted-space", _register(34, "vic", [f"<sip:v1@{H}>;x='a b';expires=60"], cseq=2)),
    ("single-quoted-received-space", _register(35, "wes", [f"<sip:w1@{H}>;received='sip:1.2.3.4 x'"])),
]

CASES = {"received_param-default": (), "received_param-rcv": ("RCV_NAME",)}
_RESULTS: dict[str, tuple[list[kamdiff.Seen], list[kamdiff.Seen]]] = {}


def _run(case: str) -> tuple[list[kamdiff.Seen], list[kamdiff.Seen]]:
    if case not in _RESULTS:
        need_tool("kamailio")
        defines = CASES[case]
        data = [(m, PHONE) for _, m in STEPS]
        seen_k = kamdiff.kamailio_run(CFG.read_text(), data, defines=defines)
        seen_s = kamdiff.sipsim_run(CFG, data, defines=defines)
        _RESULTS[case] = (seen_k, seen_s)
    return _RESULTS[case]


@pytest.mark.parametrize("case", list(CASES))
def test_sipsim_keeps_the_contacts_received_as_kamailio_does(case: str, isolated_network: None) -> None:
    seen_k, seen_s = _run(case)
    names = [n for n, _ in STEPS]
    wrong = [kamdiff.describe(n, k, s) for n, k, s in zip(names, seen_k, seen_s, strict=True)
             if not kamdiff.agree(k, s)]
    assert not wrong, "\n".join(wrong)
    # the walk really shows the behaviour (Kamailio's own answers, so a harness fault cannot pass)
    by_name = dict(zip(names, seen_k, strict=True))
    name = "rcv" if case.endswith("rcv") else "received"
    assert f';{name}="sip:198.51.100.7:4444"' in by_name["quoted"].sent[0][1]
    assert f';{name}="sip:198.51.100.7:4444"' in by_name["query-lists-it"].sent[0][1]
    assert by_name["invite-goes-to-received"].sent[0][0] == ("198.51.100.7", 4444)
    assert by_name["invite-goes-to-received"].sent[0][1].startswith("INVITE sip:b1@192.0.2.4:5070 ")
    assert by_name["invite-to-received-port"].sent[0][0] == ("198.51.100.9", 7000)
    assert by_name["invite-no-received"].sent[0][0] == ("192.0.2.4", 5070)
    kim = by_name["carry-next-header"].sent[0][1]
    assert kim.count(f';{name}="sip:198.51.100.15"') == 2, kim
    assert by_name["no-carry-same-header-last"].sent[0][1].count(f';{name}="') == 1
    pat = by_name["first-value-sticks"].sent[0][1]
    assert pat.count(f';{name}="sip:198.51.100.20"') == 3 and "198.51.100.21" not in pat, pat


def _feed(profile: Profile, messages: list[bytes]) -> list[str]:
    """The first datagram each message made sipsim send (text), through received.cfg."""
    router = load_route(CFG, ServerConfig(profile=profile, listen=("127.0.0.1", 5060)))
    driver = MemoryDriver(router.config, router=router)
    return [driver.feed(m, PHONE).sent[0].data.decode("latin-1") for m in messages]


def test_ser_profile_keeps_each_contacts_own_received() -> None:
    """The sticking first value is Kamailio's quirk: the ser profile stores what each Contact says."""
    ok, invite = _feed(Profile.SER, [
        _register(1, "kim", [f'<sip:k1@{H}>;received="sip:198.51.100.1"', f"<sip:k2@{H}>",
                             f'<sip:k3@{H}>;received="sip:198.51.100.3"']),
        _invite(2, "kim")])
    contacts = next(ln for ln in ok.split("\r\n") if ln.startswith("Contact: "))
    assert contacts == (f'Contact: <sip:k1@{H}>;expires=3600;received="sip:198.51.100.1", '
                        f"<sip:k2@{H}>;expires=3600, "
                        f'<sip:k3@{H}>;expires=3600;received="sip:198.51.100.3"')
    assert invite.startswith(f"INVITE sip:k1@{H} SIP/2.0\r\n")


def test_kamailio_profile_first_value_sticks_without_the_binary() -> None:
    """The measured rule (see the differential test above), pinned where kamailio is absent too."""
    (ok,) = _feed(Profile.KAMAILIO, [_register(1, "kim", [f'<sip:k1@{H}>;received="sip:198.51.100.1"', f"<sip:k2@{H}>",
                                                          f'<sip:k3@{H}>;received="sip:198.51.100.3"'])])
    assert ok.count(';received="sip:198.51.100.1"') == 3 and "198.51.100.3" not in ok


def test_lookup_makes_the_received_value_du() -> None:
    """lookup() sends the call to the received address; the trace says so."""
    router = load_route(CFG, ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060)))
    driver = MemoryDriver(router.config, router=router)
    driver.feed(_register(1, "bob", [f'<sip:b1@{H}>;received="sip:198.51.100.7:4444"']), PHONE)
    res = driver.feed(_invite(2, "bob"), PHONE)
    assert [s.to for s in res.sent] == [("198.51.100.7", 4444)]
    ev = next(e for e in res.events if e.step == "lookup")
    assert ev.detail["du"] == "sip:198.51.100.7:4444" and "$du = sip:198.51.100.7:4444" in ev.text


def test_xavp_cfg_is_refused_at_load(tmp_path: Path) -> None:
    """Kamailio 5.6.3 honours $xavp(<xavp_cfg>=>max_contacts); sipsim has no $xavp, so a script that
    names the xavp fails at load rather than running with the module's limit instead."""
    from sipsim.routing.errors import CfgError

    cfg = tmp_path / "xavp.cfg"
    cfg.write_text('loadmodule "sl.so"\nloadmodule "usrloc.so"\nloadmodule "registrar.so"\n'
                   'modparam("registrar", "xavp_cfg", "reg")\nrequest_route { save("location"); }\n')
    with pytest.raises(CfgError, match="xavp_cfg"):
        load_route(cfg, ServerConfig(profile=Profile.KAMAILIO))
