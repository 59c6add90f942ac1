"""The registrar's ``max_contacts`` in sipsim alone: the amplification it bounds, both profiles,
both default routes (default.cfg and its Python twin), and who decides the limit — a script's
modparam, else the server's ``ServerConfig.max_contacts`` (``sipsim serve --max-contacts``).
What it counts is compared with the real Kamailio in tests/routing/test_max_contacts.py."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.default_route import DefaultRoute
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route

UA = ("192.0.2.4", 5060)


def register(n: int, contacts: str, *, callid: str = "reg", cseq: int | None = None, extra: str = "") -> bytes:
    contact = f"Contact: {contacts}\r\n" if contacts else ""
    return (f"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKm{n}\r\n"
            f"From: <sip:bob@127.0.0.1>;tag=m{n}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: {callid}\r\n"
            f"CSeq: {n if cseq is None else cseq} REGISTER\r\n{contact}{extra}Content-Length: 0\r\n\r\n").encode()


def phone(i: int) -> str:
    return f"<sip:bob-phone-{i:04d}@192.0.2.4:5070;transport=udp>"


def first_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("twin", ["default.cfg", "DefaultRoute"])
def test_the_limit_bounds_what_a_forged_query_draws(profile: Profile, twin: str) -> None:
    """The security review's case, shrunk: many contacts for one AOR, one each REGISTER, then a
    small query. Without a limit (Kamailio's default) the 200 grows with every binding; with
    serve's default of 10 the 11th contact is refused (503) and the query's answer stays small."""
    ratios = {}
    for limit in (0, 10):
        config = ServerConfig(profile=profile, max_contacts=limit)
        d = MemoryDriver(config, router=DefaultRoute() if twin == "DefaultRoute" else None)
        answers = [first_line(d.feed(register(i, phone(i)), UA).sent[0].data) for i in range(1, 61)]
        query = register(100, "")
        reply = d.feed(query, UA).sent[0].data
        ratios[limit] = len(reply) / len(query)
        bound = d.ctx.location.lookup("bob", 0.0)
        if limit:
            assert answers[:10] == ["SIP/2.0 200 OK"] * 10
            assert set(answers[10:]) == {"SIP/2.0 503 Service Unavailable"}
            assert [b.contact for b in bound] == [phone(i)[1:-1] for i in range(1, 11)]
        else:
            assert set(answers) == {"SIP/2.0 200 OK"} and len(bound) == 60
    assert ratios[0] > 20 and ratios[10] < 5, ratios  # 60 bindings: ~21x; 10 bindings: ~4.6x


def test_a_phone_at_the_limit_can_still_refresh_swap_and_remove() -> None:
    """Only growth is refused: a refresh counts nothing, expires=0 frees a place in the same
    REGISTER, Contact: * always works — and the 503 says why and lists the bindings kept."""
    d = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, max_contacts=2))
    assert first_line(d.feed(register(1, f"{phone(1)}, {phone(2)}"), UA).sent[0].data) == "SIP/2.0 200 OK"
    refused = d.feed(register(2, phone(3)), UA)
    data = refused.sent[0].data
    assert first_line(data) == "SIP/2.0 503 Service Unavailable"
    assert b"\r\nP-Registrar-Error: Too many registered contacts\r\n" in data
    assert re.findall(rb"<sip:bob-phone-(\d+)@", data) == [b"0002", b"0001"]  # one header: last first
    (save,) = [e for e in refused.events if e.step == "save"]
    assert "3 contacts after the change, max_contacts 2" in save.text
    assert first_line(d.feed(register(3, f"{phone(1)}, {phone(2)}"), UA).sent[0].data) == "SIP/2.0 200 OK"
    swap = d.feed(register(4, f"{phone(1)};expires=0, {phone(3)}"), UA).sent[0].data
    assert first_line(swap) == "SIP/2.0 200 OK"
    assert sorted(b.contact for b in d.ctx.location.lookup("bob", 0.0)) == [phone(2)[1:-1], phone(3)[1:-1]]
    assert first_line(d.feed(register(5, "*", extra="Expires: 0\r\n"), UA).sent[0].data) == "SIP/2.0 200 OK"
    assert d.ctx.location.lookup("bob", 0.0) == []


def _script(body: str) -> str:
    return ('loadmodule "sl.so"\nloadmodule "xlog.so"\nloadmodule "pv.so"\nloadmodule "usrloc.so"\n'
            'loadmodule "registrar.so"\n' + body +
            'request_route {\n\tsave("location");\n\txlog("L_NOTICE", "rc=$rc\\n");\n}\n')


@pytest.mark.parametrize(("modparam", "server", "kept"), [
    (None, 2, 2),       # no modparam: the server's limit (serve --max-contacts)
    (3, 2, 3),          # the script's modparam wins over the command line
    (0, 1, 5),          # ... also to lift the limit, as Kamailio's default
    (-4, 1, 5),         # Kamailio limits only above 0
])
def test_the_scripts_modparam_wins_over_the_servers_default(modparam: int | None, server: int, kept: int) -> None:
    text = _script("" if modparam is None else f'modparam("registrar", "max_contacts", {modparam})\n')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reg.cfg"
        path.write_text(text)
        router = load_route(path, ServerConfig(profile=Profile.KAMAILIO, max_contacts=server))
    d = MemoryDriver(router.config, router=router)
    logs = []
    for i in range(1, 6):
        res = d.feed(register(i, phone(i)), UA)
        logs += [e.detail["message"].strip() for e in res.events if e.step == "xlog"]
    assert len(d.ctx.location.lookup("bob", 0.0)) == kept
    assert logs == ["rc=1"] * kept + ["rc=-2"] * (5 - kept)


@pytest.mark.parametrize("profile", list(Profile))
def test_each_binding_is_bounded_too_contact_max_size(profile: Profile) -> None:
    """max_contacts bounds the number of bindings; the registrar's length checks bound each one (a
    URI above 512 bytes, a received=... parameter above 255): together they bound the 200 to a
    query. The boundaries were measured on Kamailio 5.6 (tests/routing/test_max_contacts.py)."""
    def status(contact: str) -> str:
        d = MemoryDriver(ServerConfig(profile=profile))
        data = d.feed(register(1, contact), UA).sent[0].data
        return first_line(data) + (" (too long)" if b"P-Registrar-Error: Contact/received too long" in data else "")

    user = "u" * (512 - len("sip:@192.0.2.4"))
    assert status(f"<sip:{user}@192.0.2.4>") == "SIP/2.0 200 OK"
    assert status(f"<sip:{user}x@192.0.2.4>") == "SIP/2.0 400 Bad Request (too long)"
    assert status("<sip:r@192.0.2.4>;received=" + "x" * 246) == "SIP/2.0 200 OK"  # 255 with its name
    assert status('<sip:r@192.0.2.4>;received="' + "x" * 245 + '"') == "SIP/2.0 400 Bad Request (too long)"
