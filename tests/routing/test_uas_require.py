"""Require where sipsim is the UAS (RFC 3261 §8.2.2.3): the ser profile answers 420, a proxy passes it on.

default.cfg and its Python twin must agree on every message, in both profiles: the ``ser`` profile's
``rfc_checks()`` refuses a REGISTER, or an OPTIONS to the server itself, whose Require names an
option tag it does not support, with 420 and an Unsupported header listing those tags; a request it
only relays keeps its Require (a proxy never reads it, §16.6); the ``kamailio`` profile answers as
Kamailio's registrar does, which does not read Require (the differential registrar case,
``reg-require-path``, runs that REGISTER in the real Kamailio 5.6).
"""

from __future__ import annotations

import pytest

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import DEFAULT_CFG, load_route

ALIASES = ("biloxi.com", "registrar.biloxi.com")
PHONE = ("192.0.2.4", 5070)


def _register(require: str | None, n: int, host: str = "192.0.2.4") -> bytes:
    extra = [f"Contact: <sip:carol@{host}:5070>", "Expires: 300"] + ([f"Require: {require}"] if require else [])
    return crafted.request("REGISTER", "sip:registrar.biloxi.com", to="<sip:carol@biloxi.com>",
                           frm="<sip:carol@biloxi.com>;tag=r1", callid="req-{n}@x", cseq=f"{n} REGISTER",
                           extra=tuple(extra), n=n)


CASES = [
    # name, message, (ser status, kamailio status) — None: forwarded
    ("register-require-path", _register("path", 1, "192.0.2.5"), (420, 200)),
    ("register-no-require", _register(None, 2), (200, 200)),
    ("options-server-two-tags", crafted.request("OPTIONS", "sip:biloxi.com", extra=("Require: foo,  bar",), n=3),
     (420, 200)),
    ("options-server-empty-require", crafted.request("OPTIONS", "sip:biloxi.com", extra=("Require: ,",), n=4),
     (200, 200)),
    # OPTIONS for a user of ours is for that user: looked up and relayed, never answered with 420
    ("options-user-require", crafted.request("OPTIONS", "sip:carol@biloxi.com", extra=("Require: foo",), n=5),
     (None, None)),
    ("invite-foreign-require", crafted.request("INVITE", "sip:bob@192.0.2.30", extra=("Require: 100rel",), n=6),
     (None, None)),
]


@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO], ids=["ser", "kamailio"])
def test_require_is_read_only_where_the_server_is_the_uas(profile: Profile) -> None:
    config = ServerConfig(profile=profile, aliases=ALIASES, relay=True)
    drivers = {"cfg": MemoryDriver(config, router=load_route(DEFAULT_CFG, config)), "builtin": MemoryDriver(config)}
    for name, data, statuses in CASES:
        want = statuses[0] if profile is Profile.SER else statuses[1]
        results = {k: d.feed(data, PHONE if name.startswith("register") else crafted.UA) for k, d in drivers.items()}
        cfg, builtin = results["cfg"], results["builtin"]
        assert [(s.to, s.data) for s in cfg.sent] == [(s.to, s.data) for s in builtin.sent], name
        if want is None:
            assert cfg.outcome == "forwarded", (name, cfg.outcome, cfg.status)
            assert b"\r\nRequire: " in cfg.sent[0].data  # relayed with its Require untouched
            continue
        assert (cfg.outcome, cfg.status) == ("replied", want), name
        reply = cfg.sent[0].data.decode()
        if want == 420:
            tags = "path" if name.startswith("register") else "foo, bar"
            assert reply.startswith("SIP/2.0 420 Bad Extension\r\n") and f"\r\nUnsupported: {tags}\r\n" in reply
            said = [ev for ev in cfg.events if ev.step == "rfc_checks"]
            assert said[-1].detail["check"] == "Require" and "the UAS here: RFC 3261 §8.2.2.3" in said[-1].text
        else:
            assert "Unsupported" not in reply, name
    # the 420 left no binding behind (kamailio: it bound 192.0.2.5 too); the REGISTER without Require made one
    bound = drivers["cfg"].feed(_register(None, 9), PHONE).sent[0].data.count(b"<sip:carol@192.0.2.")
    assert bound == (1 if profile is Profile.SER else 2)
