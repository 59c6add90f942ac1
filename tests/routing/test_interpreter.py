"""The interpreter's semantics (Kamailio's action.c), the preprocessor, pseudo-variables and lumps.

The behaviours asserted here were first observed on the real Kamailio 5.6 (the differential tests
re-check most of them against it); these tests pin them down fast and without Kamailio.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import corpus, with_body

from routing import crafted
from sipsim.engine import registrar as engine_registrar
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.context import WorkerContext
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import SCRIPTS, defines_for, load_route
from sipsim.routing.errors import CfgError

MODS = "".join(f'loadmodule "{m}.so"\n' for m in ("sl", "pv", "xlog", "textops", "siputils", "sanity", "maxfwd",
                                                  "rr", "usrloc", "registrar"))
KAM = ServerConfig(profile=Profile.KAMAILIO)


def _router(tmp_path: Path, text: str, config: ServerConfig = KAM, name: str = "s.cfg"):  # noqa: ANN202
    path = tmp_path / name
    path.write_text(text)
    return load_route(path, config)


def _driver(tmp_path: Path, text: str, config: ServerConfig = KAM) -> MemoryDriver:
    router = _router(tmp_path, text, config)
    return MemoryDriver(router.config, router=router)


def _xlogs(result) -> list[str]:  # noqa: ANN001
    return [ev.detail["message"].rstrip("\n") for ev in result.events if ev.step == "xlog"]


ONREPLY = MODS + """request_route {
	exit;
}
onreply_route {
	if ($rs == 180) { exit; }
	if ($rs == 181) { drop; }
	if ($rs == 182) { return 0; }
	if ($rs == 183) { return -1; }
	if ($rs == 184) { route(ZERO); }
	if ($rs == 185) { $var(z) = 0; return $var(z); }
	if ($rs == 186) { return; }
	if ($rs == 187) { return 2; }
	if ($rs == 188) { route(NEG); xlog("L_INFO", "after NEG rc=$rc\\n"); }
	if ($rs == 189) { route(NEG); }
}
route[ZERO] {
	return 0;
}
route[NEG] {
	return -3;
}
"""


@pytest.mark.parametrize(("code", "forwarded"), [(180, True), (181, False), (182, False), (183, False),
                                                 (184, False), (185, False), (186, True), (187, True), (188, True),
                                                 (189, False), (200, True)])
def test_onreply_route_result_decides_forwarding(tmp_path: Path, code: int, forwarded: bool) -> None:
    """exit and positive results forward; drop, return 0 (even from a called route) and errors keep it."""
    driver = _driver(tmp_path, ONREPLY)
    reply = crafted.reply(code, "X", vias=(crafted.OURS, crafted.UAC_VIA))
    result = driver.feed(reply, ("192.0.2.4", 5070))
    assert bool(result.sent) is forwarded
    assert result.outcome == ("forwarded" if forwarded else "dropped")
    if code == 189:  # a negative result is Kamailio's "error while trying onreply script"
        assert any("error while trying onreply script" in ev.text for ev in result.events)
    if code == 188:
        assert _xlogs(result) == ["after NEG rc=-3"]


def test_a_function_returning_zero_stops_the_script(tmp_path: Path) -> None:
    driver = _driver(tmp_path, MODS + """request_route {
	if (!sanity_check()) {
		xlog("L_INFO", "never: sanity_check returned 0, which ends the script\\n");
	}
	xlog("L_INFO", "never either\\n");
}
""")
    bad = crafted.request("INVITE", "sip:bob@biloxi.com", cseq="5 BYE")
    result = driver.feed(bad, crafted.UA)
    assert result.status == 400 and result.reason == "CSeq method does not match request method"
    assert _xlogs(result) == []
    end = next(ev for ev in result.events if ev.step == "route:end")
    assert "sanity_check() returned 0" in end.text and end.detail["rc"] == 0


def test_sanity_autodrop_off_returns_false_instead(tmp_path: Path) -> None:
    driver = _driver(tmp_path, MODS + """modparam("sanity", "autodrop", 0)
modparam("sanity", "default_checks", 32)
request_route {
	if (!sanity_check()) {
		xlog("L_INFO", "continued rc=$rc\\n");
	}
	exit;
}
""")
    result = driver.feed(crafted.request("INVITE", "sip:bob@biloxi.com", cseq="5 BYE"), crafted.UA)
    assert _xlogs(result) == ["continued rc=-1"]
    assert result.status == 400  # the check still answered


def test_var_belongs_to_a_worker_and_survives_messages(tmp_path: Path) -> None:
    router = _router(tmp_path, MODS + """request_route {
	$var(n) = $var(n) + 1;
	sl_send_reply("200", "n=$var(n)");
}
""")
    a = MemoryDriver(ctx=WorkerContext(config=router.config, worker=0, router=router))
    b = MemoryDriver(ctx=WorkerContext(config=router.config, worker=1, router=router))
    msg = crafted.request("OPTIONS", "sip:127.0.0.1")
    assert [a.feed(msg, crafted.UA).reason for _ in range(2)] == ["n=1", "n=2"]
    assert b.feed(msg, crafted.UA).reason == "n=1"
    assert a.feed(msg, crafted.UA).reason == "n=3"


@pytest.mark.parametrize("profile", [Profile.KAMAILIO, Profile.SER])
def test_header_changes_are_lumps_the_script_does_not_see(tmp_path: Path, profile: Profile) -> None:
    driver = _driver(tmp_path, MODS + """request_route {
	remove_hf("Subject");
	append_hf("X-Added: $si\\r\\n");
	if (is_present_hf("Subject") && !is_present_hf("X-Added")) {
		xlog("L_INFO", "the script sees the received headers: Subject=$hdr(Subject)\\n");
	}
	forward();
}
""", ServerConfig(profile=profile))
    msg = crafted.request("MESSAGE", "sip:carol@192.0.2.30:5090", extra=("Subject: hello",), body="hi")
    result = driver.feed(msg, crafted.UA)
    assert _xlogs(result) == ["the script sees the received headers: Subject=hello"]
    sent = result.sent[0].data
    assert b"Subject:" not in sent
    assert sent.endswith(b"Content-Length: 2\r\nX-Added: 192.0.2.1\r\n\r\nhi")


def test_sl_reply_error_answers_the_previous_actions_error(tmp_path: Path) -> None:
    router = _router(tmp_path, MODS + """request_route {
	if (!forward("unknown.invalid", 5060)) {
		sl_reply_error();
	}
}
""")
    driver = MemoryDriver(router.config, router=router,
                          send_policy=lambda s: "unresolvable" if s.to[0] == "unknown.invalid" else None)
    result = driver.feed(crafted.request("INVITE", "sip:bob@biloxi.com"), crafted.UA)
    assert result.status == 478
    assert [s.kind for s in result.sent] == ["request", "reply"]  # the send was tried, then answered


def test_preprocessor(tmp_path: Path) -> None:
    text = MODS + """#!define CODE 404
#!define REASON "Not Here"
#!trydef CODE 500
#!substdef "/WHO/bob/"
#!ifdef SIPSIM
#!ifndef SIPSIM_SER
#!define PROFILE "kamailio"
#!else
#!define PROFILE "ser"
#!endif
#!else
this is not cfg and must be skipped
#!endif
#!ifdef EXTRA
#!redefine REASON "Gone"
#!endif
request_route {
	xlog("L_INFO", "WHO PROFILE $var(x)\\n");
	$var(x) = PROFILE;
	xlog("L_INFO", "profile=$var(x) level=LEVEL\\n");
	sl_send_reply(CODE, REASON);
}
"""
    msg = crafted.request("OPTIONS", "sip:127.0.0.1")
    r1 = _driver(tmp_path, text, ServerConfig(profile=Profile.KAMAILIO, defines=("LEVEL=3",))).feed(msg, crafted.UA)
    assert (r1.status, r1.reason) == (404, "Not Here")
    assert _xlogs(r1) == ["bob PROFILE 0", "profile=kamailio level=LEVEL"]
    r2 = _driver(tmp_path, text, ServerConfig(profile=Profile.SER, defines=("EXTRA",))).feed(msg, crafted.UA)
    assert (r2.status, r2.reason) == (404, "Gone")
    assert _xlogs(r2)[1] == "profile=ser level=LEVEL"
    # line numbers are those of the file, skipped lines included
    first = next(ev for ev in r1.events if ev.step == "route:xlog")
    assert first.detail["line"] == text.split("\n").index('\txlog("L_INFO", "WHO PROFILE $var(x)\\n");') + 1


def test_defines_for_the_profiles_and_relay() -> None:
    assert "SIPSIM_SER" in defines_for(ServerConfig(profile=Profile.SER))
    assert "SIPSIM_SER" not in defines_for(ServerConfig(profile=Profile.KAMAILIO))
    assert "SIPSIM_NO_RELAY" in defines_for(ServerConfig(relay=False))
    assert defines_for(ServerConfig(defines=("A=1", "B")))["A"] == "1"


def test_include_file_keeps_its_own_file_and_lines(tmp_path: Path) -> None:
    (tmp_path / "inc.cfg").write_text('route[INC] {\n\txlog("L_INFO", "included\\n");\n}\n')
    driver = _driver(tmp_path, MODS + 'include_file "inc.cfg"\nrequest_route {\n\troute(INC);\n\texit;\n}\n')
    result = driver.feed(crafted.request("OPTIONS", "sip:127.0.0.1"), crafted.UA)
    ev = next(e for e in result.events if e.step == "route:xlog")
    assert ev.detail["file"] == str(tmp_path / "inc.cfg") and ev.detail["line"] == 2
    assert ev.detail["route"] == "route[INC]"


def test_script_globals_fold_into_the_server_config(tmp_path: Path) -> None:
    text = 'alias="biloxi.com"\nadvertised_address="proxy.biloxi.com"\nserver_signature=no\ncheck_via=1\n' + \
        MODS + 'request_route {\n\tif (uri == myself) { sl_send_reply("200", "mine"); exit; }\n\tforward();\n}\n'
    router = _router(tmp_path, text)
    assert "biloxi.com" in router.config.aliases
    assert router.config.advertise == "proxy.biloxi.com" and router.config.check_via
    assert router.config.server_header == ""
    # uri == myself knows the script's alias even when the driver keeps its own config
    result = MemoryDriver(KAM, router=router).feed(crafted.request("INVITE", "sip:bob@biloxi.com"), crafted.UA)
    assert result.reason == "mine"
    with_cfg = MemoryDriver(router.config, router=router).feed(crafted.request("INVITE", "sip:x@192.0.2.3"),
                                                               crafted.UA)
    assert b"Via: SIP/2.0/UDP proxy.biloxi.com;branch=" in with_cfg.sent[0].data


def test_record_route_then_loose_route_round_trip(tmp_path: Path) -> None:
    router = load_route(SCRIPTS / "forwarder.cfg", KAM)
    driver = MemoryDriver(router.config, router=router)
    invite = driver.feed(crafted.request("INVITE", "sip:bob@192.0.2.4:5070"), crafted.UA)
    rr = next(ln for ln in invite.sent[0].data.split(b"\r\n") if ln.startswith(b"Record-Route:"))
    assert rr == b"Record-Route: <sip:127.0.0.1;lr;ftag=ft1>"
    bye = crafted.request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                          extra=("Route: " + rr.split(b": ", 1)[1].decode(),))
    result = driver.feed(bye, ("192.0.2.4", 5070))
    assert [s.to for s in result.sent] == [("192.0.2.4", 5070)]
    assert b"Route:" not in result.sent[0].data  # our own Route was removed
    lr = next(ev for ev in result.events if ev.step == "loose_route")
    assert lr.detail["rc"] == 1


def test_registrar_modparams_are_honoured_and_the_engine_defaults_untouched(tmp_path: Path) -> None:
    driver = _driver(tmp_path, 'alias="biloxi.com"\n' + MODS + """modparam("registrar", "default_expires", 900)
modparam("registrar", "min_expires", 120)
modparam("registrar", "max_expires", 600)
request_route {
	save("location");
}
""")
    reg = crafted.request("REGISTER", "sip:biloxi.com", to="<sip:bob@biloxi.com>", frm="<sip:bob@biloxi.com>;tag=1",
                          extra=("Contact: <sip:bob@192.0.2.4>, <sip:bob@192.0.2.5>;expires=30, "
                                 "<sip:bob@192.0.2.6>;expires=7200",))
    result = driver.feed(reg, ("192.0.2.4", 5060))
    contacts = [ln for ln in result.sent[0].data.split(b"\r\n") if ln.startswith(b"Contact:")]
    # one Contact header listing every binding, as Kamailio's registrar writes it (5.6.3 lists
    # .5 first: the registrar meets one header's contacts last first); 900 and 7200 are capped
    assert contacts == [b"Contact: <sip:bob@192.0.2.6>;expires=600, <sip:bob@192.0.2.5>;expires=120, "
                        b"<sip:bob@192.0.2.4>;expires=600"]
    assert (engine_registrar.DEFAULT_EXPIRES, engine_registrar.MIN_EXPIRES) == (3600, 60)


def test_tm_may_be_loaded_but_stateful_functions_are_refused(tmp_path: Path) -> None:
    text = 'loadmodule "tm.so"\n' + MODS + 'request_route {\n\tt_on_failure("RETRY");\n\tforward();\n}\n'
    with pytest.raises(CfgError) as info:
        _router(tmp_path, text)
    assert info.value.line == 13 and "stateless core" in str(info.value)


def test_other_route_blocks_are_read_but_never_run(tmp_path: Path) -> None:
    router = _router(tmp_path, MODS + 'request_route {\n\texit;\n}\nfailure_route[F] {\n\texit;\n}\n'
                     'event_route[core:worker-one-init] {\n\texit;\n}\n')
    assert any("failure_route[F] is read but never runs" in w for w in router.script.warnings)
    assert any("event_route[core:worker-one-init]" in w for w in router.script.warnings)


@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO])
def test_every_shipped_and_test_script_handles_every_message(profile: Profile) -> None:
    """No internal error, an outcome for every message, in both profiles (robustness)."""
    scripts = sorted(SCRIPTS.glob("*.cfg")) + sorted((Path(__file__).parent / "cfgs").glob("*.cfg"))
    messages = [(e.id, with_body(e), ("192.0.2.1", 5060)) for e in corpus()] + crafted.dialog_messages() + \
        crafted.control_messages() + crafted.header_messages() + crafted.blocklist_messages()
    for script in scripts:
        router = load_route(script, ServerConfig(profile=profile))
        driver = MemoryDriver(router.config, router=router)
        for name, data, src in messages:
            result = driver.feed(data, src)
            assert result.final is not None, (script.name, name)
            assert not any("internal error" in ev.text for ev in result.events), (script.name, name)


@pytest.mark.parametrize("profile", [Profile.KAMAILIO, Profile.SER])
def test_an_xlog_line_ends_at_a_nul_byte_in_the_kamailio_profile(tmp_path: Path, profile: Profile) -> None:
    """Kamailio writes a log line as a C string: a NUL inside a header ends it (newline included)."""
    d = _driver(tmp_path, MODS + 'request_route {\n\txlog("L_INFO", "x=[$hdr(X)] end\\n");\n\texit;\n}\n',
                ServerConfig(profile=profile))
    msg = (b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKn\r\n"
           b"From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: nul1\r\nCSeq: 1 OPTIONS\r\n"
           b"X: ab\x00cd\r\nContent-Length: 0\r\n\r\n")
    got = [ev.detail["message"] for ev in d.feed(msg, ("192.0.2.1", 5060)).events if ev.step == "xlog"]
    assert got == (["x=[ab"] if profile is Profile.KAMAILIO else ["x=[ab\x00cd] end\n"])
