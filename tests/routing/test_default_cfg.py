"""default.cfg against the built-in Python DefaultRoute, and stepping through it line by line."""

from __future__ import annotations

import pytest
from helpers import corpus, with_body

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import DEFAULT_CFG, load_route

ALIASES = ("biloxi.com", "registrar.biloxi.com", "atlanta.com")


def _messages() -> list[tuple[str, bytes, tuple[str, int]]]:
    # (an INVITE for a user of ours nobody registered: the 404 — bye-after-strict, which used to
    # give one, is now loose-routed to its target)
    unknown = ("invite-unknown-user", crafted.request("INVITE", "sip:nobody@biloxi.com", n=90), crafted.UA)
    return [(e.id, with_body(e), ("192.0.2.1", 5060)) for e in corpus()] + crafted.dialog_messages() + [unknown]


@pytest.mark.parametrize("relay", [True, False], ids=["relay", "no-relay"])
@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO], ids=["ser", "kamailio"])
def test_default_cfg_behaves_as_the_builtin_default_route(profile: Profile, relay: bool) -> None:
    """Same outcome, status and sent bytes (to the same places) for every corpus and crafted message."""
    config = ServerConfig(profile=profile, aliases=ALIASES, relay=relay)
    router = load_route(DEFAULT_CFG, config)
    cfg_driver = MemoryDriver(config, router=router)
    builtin = MemoryDriver(config)
    outcomes = set()
    for name, data, src in _messages():
        a = cfg_driver.feed(data, src)
        b = builtin.feed(data, src)
        assert (a.outcome, a.status) == (b.outcome, b.status), name
        assert [(s.to, s.kind, s.data) for s in a.sent] == [(s.to, s.kind, s.data) for s in b.sent], name
        assert not any("internal error" in ev.text for ev in a.events), name
        outcomes.add((a.outcome, a.status))
    # the comparison is not vacuous: forwards, replies of several kinds and silent drops all occurred
    assert ("forwarded", None) in outcomes and ("dropped", None) in outcomes
    assert {s for o, s in outcomes if o == "replied"} >= {200, 404, 483}
    if not relay:
        assert ("replied", 403) in outcomes


def _line_of(text: str, count: int = 1) -> int:
    """The line holding ``text``, which must occur ``count`` times; the last one is meant."""
    lines = DEFAULT_CFG.read_text().split("\n")
    found = [i + 1 for i, ln in enumerate(lines) if text in ln]
    assert len(found) == count, text
    return found[-1]


@pytest.mark.parametrize("profile", [Profile.KAMAILIO, Profile.SER], ids=["kamailio", "ser"])
def test_stepping_through_default_cfg_for_an_invite(profile: Profile) -> None:
    """An INVITE for a registered user visits the expected lines, in order, each followed by its work."""
    config = ServerConfig(profile=profile, aliases=("biloxi.com", "registrar.biloxi.com"))
    router = load_route(DEFAULT_CFG, config)
    driver = MemoryDriver(config, router=router)
    reg = next(e for e in corpus() if e.file == "s24_1_F1_REGISTER.dat")
    invite = next(e for e in corpus() if e.file == "s24_2_F1_INVITE.dat")
    assert driver.feed(with_body(reg), ("192.0.2.4", 5060)).status == 200
    result = driver.feed(with_body(invite), ("192.0.2.1", 5060))

    check = "rfc_checks" if profile is Profile.SER else "sanity_check"
    mf = _line_of('if (!mf_process_maxfwd_header("10"))')
    ck = _line_of(f"if (!{check}())", 2 if profile is Profile.SER else 1)  # ser: also in the 483 block
    d1 = _line_of('if (has_totag() && !(uri == myself) && is_myself("$route_uri"))')
    d2 = _line_of("if (!has_totag() || !(uri == myself))")
    lr = _line_of("\tloose_route();", 2)  # the second: the first is in the in-dialog block
    me = _line_of("if (uri == myself)")
    rg = _line_of('if (is_method("REGISTER"))')
    op = _line_of('if (is_method("OPTIONS") && $rU == $null)')
    lk = _line_of('if (!lookup("location"))')
    fw = _line_of("if (!forward())", 2)
    expected = [("if", mf), ("mf_process_maxfwd_header", mf), ("if", ck), (check, ck), ("if", d1), ("has_totag", d1),
                ("if", d2), ("has_totag", d2), ("loose_route", lr), ("if", me),
                ("if", rg), ("is_method", rg), ("if", op), ("is_method", op), ("if", lk), ("lookup", lk),
                ("if", fw), ("forward", fw)]
    actions = [ev for ev in result.events if ev.step.startswith("route:") and "action" in ev.detail]
    assert [(ev.detail["action"], ev.detail["line"]) for ev in actions] == expected
    for ev in actions:
        assert ev.detail["file"] == str(DEFAULT_CFG) and ev.detail["route"] == "request_route"
        assert ev.detail["column"] >= 1 and ev.detail["src"] == DEFAULT_CFG.read_text().split("\n")[
            ev.detail["line"] - 1].strip()

    # each function's step is followed by the engine's own step for it, before the next action
    steps = [ev.step for ev in result.events]
    for action, engine_step in (("mf_process_maxfwd_header", "mf_process_maxfwd_header"), (check, check),
                                ("lookup", "lookup"), ("forward", "forward_request")):
        i = steps.index(f"route:{action}")
        assert steps[i + 1] == engine_step
    assert result.outcome == "forwarded"
    assert [s.to for s in result.sent] == [("192.0.2.4", 5060)]  # the registered contact
    assert b"INVITE sip:bob@192.0.2.4 SIP/2.0" in result.sent[0].data
    end = next(ev for ev in result.events if ev.step == "route:end")
    assert end.detail["rc"] == 1 and "end of the block" in end.text


def test_default_router_follows_the_profile_and_relay() -> None:
    from sipsim.routing import default_router

    ser = default_router(ServerConfig(profile=Profile.SER, relay=False))
    names = {a.name for a in _walk(ser.script.request.actions)}
    assert "rfc_checks" in names and "sanity_check" not in names
    kam = default_router(ServerConfig(profile=Profile.KAMAILIO))
    names = {a.name for a in _walk(kam.script.request.actions)}
    assert "sanity_check" in names and "rfc_checks" not in names
    msg = crafted.request("INVITE", "sip:carol@192.0.2.30")
    assert MemoryDriver(ser.config, router=ser).feed(msg, crafted.UA).status == 403
    assert MemoryDriver(kam.config, router=kam).feed(msg, crafted.UA).outcome == "forwarded"
    # the Python twin loads the same modules in the same order (it orders kex's and sl's callbacks)
    from sipsim.engine.default_route import DefaultRoute
    from sipsim.engine.script_cb import STOCK_ORDER, callbacks_for

    assert DefaultRoute.modules == kam.modules == ser.modules
    assert [m for m in kam.modules if m in STOCK_ORDER] == list(STOCK_ORDER)
    assert [cb.name for cb in callbacks_for(kam).pre] == ["sl:filter_ACK", "kex:core_stats", "kex:core_stats"]


def _walk(actions):  # noqa: ANN001, ANN202 - every action, including the calls inside conditions
    from sipsim.routing.tree import ActionExpr, BinOp, If, UnOp

    def calls(e):  # noqa: ANN001, ANN202
        if isinstance(e, ActionExpr):
            yield e.action
        elif isinstance(e, UnOp):
            yield from calls(e.operand)
        elif isinstance(e, BinOp):
            yield from calls(e.left)
            yield from calls(e.right)

    for a in actions:
        yield a
        if isinstance(a, If):
            yield from calls(a.cond)
            yield from _walk(a.then)
            yield from _walk(a.orelse or [])


@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO], ids=["ser", "kamailio"])
def test_a_preloaded_route_naming_the_proxy_is_removed(profile: Profile) -> None:
    """RFC 3261 16.4: a phone with an outbound proxy sends Route: <sip:PROXY;lr>; the proxy removes
    its own entry before relaying, or the next hop would route the request straight back."""
    config = ServerConfig(profile=profile, listen=("127.0.0.1", 5060))
    invite = crafted.request("INVITE", "sip:carol@192.0.2.9", extra=("Route: <sip:127.0.0.1;lr>",), n=91)
    for driver in (MemoryDriver(config, router=load_route(DEFAULT_CFG, config)), MemoryDriver(config)):
        result = driver.feed(invite, crafted.UA)
        assert result.outcome == "forwarded" and [s.to for s in result.sent] == [("192.0.2.9", 5060)]
        assert b"Route:" not in result.sent[0].data and b"Route:" in invite


@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO], ids=["ser", "kamailio"])
def test_a_phone_using_the_proxy_as_outbound_proxy_completes_its_dialogs_without_relay(profile: Profile) -> None:
    """Its ACK and BYE carry Route: <sip:PROXY;lr> and a To-tag: the route set decides, whatever the
    relay policy (Kamailio's stock WITHINDLG) — but only a Route naming us; and an ACK for a non-2xx
    keeps the INVITE's R-URI (ours) and Route (RFC 3261 17.1.1.3): it must reach the callee too."""
    config = ServerConfig(profile=profile, listen=("127.0.0.1", 5060), aliases=("biloxi.com",), relay=False)
    ours = ("Route: <sip:127.0.0.1;lr>",)
    bye = crafted.request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1", extra=ours, n=92)
    foreign = crafted.request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                              extra=("Route: <sip:192.0.2.77;lr>",), n=93)
    reg = crafted.request("REGISTER", "sip:biloxi.com", to="<sip:bob@biloxi.com>", frm="<sip:bob@biloxi.com>;tag=r1",
                          extra=("Contact: <sip:bob@192.0.2.4:5070>",), n=94)
    ack = crafted.request("ACK", "sip:bob@biloxi.com", to="<sip:bob@biloxi.com>;tag=busy1", extra=ours, n=95)
    for driver in (MemoryDriver(config, router=load_route(DEFAULT_CFG, config)), MemoryDriver(config)):
        result = driver.feed(bye, crafted.UA)
        assert result.outcome == "forwarded" and [s.to for s in result.sent] == [("192.0.2.4", 5070)]
        assert b"Route:" not in result.sent[0].data
        assert driver.feed(foreign, crafted.UA).status == 403  # a Route that is not ours opens nothing
        assert driver.feed(reg, ("192.0.2.4", 5070)).status == 200
        result = driver.feed(ack, crafted.UA)
        assert result.outcome == "forwarded" and [s.to for s in result.sent] == [("192.0.2.4", 5070)], result.reason
