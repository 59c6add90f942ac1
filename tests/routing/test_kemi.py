"""KEMI Python scripts: KSR calls as steps with their script lines, results handed back synchronously
(a Send's answer included), errors reported with file:line, and the helper thread always ending.

Kamailio's app_python3 is not installed here, so KEMI cannot be compared with the real Kamailio:
these tests check sipsim's KEMI against its own cfg behaviour and app_python3's documented API.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers import corpus, with_body

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.context import WorkerContext
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.events import Datagram, StepEvent
from sipsim.engine.udp_server import handle_datagram
from sipsim.routing import SCRIPTS, kemi, load_route
from sipsim.routing.errors import KemiError

CONFIG = ServerConfig(profile=Profile.KAMAILIO, aliases=("biloxi.com", "registrar.biloxi.com"))


def _load(tmp_path: Path, source: str, config: ServerConfig = CONFIG):  # noqa: ANN202
    path = tmp_path / "script.py"
    path.write_text(source)
    return load_route(path, config)


def _line(source: str, fragment: str) -> int:
    return next(i + 1 for i, ln in enumerate(source.split("\n")) if fragment in ln)


SCRIPT = '''import KSR as KSR


def ksr_request_route(msg):
    if KSR.maxfwd.process_maxfwd(10) < 0:
        KSR.sl.sl_send_reply(483, "Too Many Hops")
        return 1
    KSR.pv.seti("$var(seen)", (KSR.pv.get("$var(seen)") or 0) + 1)
    if KSR.is_method_in("R"):
        KSR.registrar.save("location", 0)
        KSR.x.exit()
        KSR.err("never reached")
    KSR.hdr.remove("Subject")
    KSR.hdr.append("X-Seen: " + str(KSR.pv.get("$var(seen)")) + "\\r\\n")
    if KSR.forward() < 0:
        KSR.info("forward failed: " + str(KSR.pv.get("$du")))
        KSR.sl.sl_reply_error()


def ksr_reply_route(msg):
    if KSR.pv.get("$rs") == 183:
        KSR.x.drop()
    if KSR.pv.get("$rs") == 199:
        raise ValueError("bad reply")
'''


def test_each_ksr_call_is_a_step_with_its_line(tmp_path: Path) -> None:
    router = _load(tmp_path, SCRIPT)
    driver = MemoryDriver(router.config, router=router)
    msg = crafted.request("MESSAGE", "sip:carol@192.0.2.30:5090", extra=("Subject: s",), body="x")
    result = driver.feed(msg, crafted.UA)
    calls = [(ev.step, ev.detail["line"]) for ev in result.events if ev.step.startswith("route:KSR.")]
    assert calls[:3] == [("route:KSR.maxfwd.process_maxfwd", _line(SCRIPT, "process_maxfwd(10)")),
                         ("route:KSR.pv.get", _line(SCRIPT, "KSR.pv.seti")),
                         ("route:KSR.pv.seti", _line(SCRIPT, "KSR.pv.seti"))]
    assert [c[0] for c in calls[3:]] == ["route:KSR.is_method_in", "route:KSR.hdr.remove", "route:KSR.pv.get",
                                         "route:KSR.hdr.append", "route:KSR.forward"]
    first = next(ev for ev in result.events if ev.step == "route:KSR.maxfwd.process_maxfwd")
    assert first.detail["file"] == str(tmp_path / "script.py") and first.detail["column"] == 8
    # the engine's own step follows the KSR step that caused it
    steps = [ev.step for ev in result.events]
    assert steps[steps.index("route:KSR.forward") + 1] == "forward_request"
    assert result.outcome == "forwarded"
    data = result.sent[0].data
    assert b"Subject:" not in data and b"X-Seen: 1\r\n" in data and b"Max-Forwards: 69" in data


def test_a_failed_send_is_answered_inside_the_ksr_call(tmp_path: Path) -> None:
    """KSR.forward() needs the driver's answer to its Send before it returns: -1 here, then 478."""
    router = _load(tmp_path, SCRIPT)
    driver = MemoryDriver(router.config, router=router,
                          send_policy=lambda s: "unresolvable" if s.to[0] == "nowhere.invalid" else None)
    result = driver.feed(crafted.request("INVITE", "sip:carol@nowhere.invalid"), crafted.UA)
    logs = [ev.detail["message"] for ev in result.events if ev.step == "xlog"]
    assert logs == ["forward failed: None"]
    assert result.status == 478


def test_exit_stops_the_script_and_var_lives_per_worker(tmp_path: Path) -> None:
    router = _load(tmp_path, SCRIPT)
    a = MemoryDriver(ctx=WorkerContext(config=router.config, worker=0, router=router))
    b = MemoryDriver(ctx=WorkerContext(config=router.config, worker=1, router=router))
    reg = next(e for e in corpus() if e.file == "s24_1_F1_REGISTER.dat")
    result = a.feed(with_body(reg), ("192.0.2.4", 5060))
    assert result.status == 200
    assert not any(ev.step == "xlog" for ev in result.events)  # KSR.err after KSR.x.exit never runs
    msg = crafted.request("MESSAGE", "sip:carol@192.0.2.30:5090", body="x")
    assert b"X-Seen: 2\r\n" in a.feed(msg, crafted.UA).sent[0].data
    assert b"X-Seen: 1\r\n" in b.feed(msg, crafted.UA).sent[0].data


@pytest.mark.parametrize(("code", "forwarded"), [(180, True), (183, False), (199, False)])
def test_reply_route(tmp_path: Path, code: int, forwarded: bool) -> None:
    router = _load(tmp_path, SCRIPT)
    driver = MemoryDriver(router.config, router=router)
    result = driver.feed(crafted.reply(code, "X", vias=(crafted.OURS, crafted.UAC_VIA)), ("192.0.2.4", 5070))
    assert bool(result.sent) is forwarded
    if code == 199:
        err = next(ev for ev in result.events if ev.step == "route:error")
        assert f"script.py:{_line(SCRIPT, 'raise ValueError')}" in err.text and "ValueError: bad reply" in err.text


def test_a_script_error_is_reported_with_its_line_and_the_worker_goes_on(tmp_path: Path) -> None:
    source = '''import KSR


def helper(n):
    return KSR.nosuch.thing(n)


def ksr_request_route(msg):
    if KSR.is_method("OPTIONS"):
        KSR.sl.sl_send_reply(200, "OK")
        return
    helper(1)
'''
    router = _load(tmp_path, source)
    driver = MemoryDriver(router.config, router=router)
    bad = driver.feed(crafted.request("INVITE", "sip:bob@biloxi.com"), crafted.UA)
    err = next(ev for ev in bad.events if ev.step == "route:error")
    assert f"script.py:{_line(source, 'KSR.nosuch')}" in err.text
    assert "KSR.nosuch is not modeled by sipsim" in err.text
    assert bad.outcome == "dropped"
    assert driver.feed(crafted.request("OPTIONS", "sip:127.0.0.1"), crafted.UA).status == 200


@pytest.mark.parametrize(("source", "line", "fragment"), [
    ("def ksr_request_route(msg)\n    pass\n", 1, "syntax error"),
    ("def other(msg):\n    pass\n", None, "no ksr_request_route"),
    ("import KSR\n\ndef ksr_request_route(msg):\n    KSR.tm.t_relay()\n", 4, "stateless core"),
    ("x = 1 / 0\n", 1, "ZeroDivisionError"),
    ("def ksr_request_route():\n    pass\n", 1, "exactly one argument"),
])
def test_kemi_load_errors(tmp_path: Path, source: str, line: int | None, fragment: str) -> None:
    with pytest.raises(KemiError) as info:
        _load(tmp_path, source)
    assert info.value.line == line and fragment in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "script.py"))


def test_app_python3_layout_with_mod_init_and_child_init(tmp_path: Path) -> None:
    source = '''import KSR


class kamailio:
    def __init__(self):
        self.ranks = []

    def child_init(self, rank):
        self.ranks.append(rank)
        return 0

    def ksr_request_route(self, msg):
        KSR.sl.sl_send_reply(200, "ranks " + ",".join(map(str, self.ranks)))
        return 1


def mod_init():
    return kamailio()
'''
    router = _load(tmp_path, source)
    driver = MemoryDriver(ctx=WorkerContext(config=router.config, worker=3, router=router))
    msg = crafted.request("OPTIONS", "sip:127.0.0.1")
    assert driver.feed(msg, crafted.UA).reason == "ranks 3"
    assert driver.feed(msg, crafted.UA).reason == "ranks 3"  # child_init runs once per worker


def test_closing_the_route_midway_ends_the_script_thread(tmp_path: Path) -> None:
    router = _load(tmp_path, SCRIPT)
    ctx = WorkerContext(config=router.config, router=router)
    before = threading.active_count()
    gen = handle_datagram(ctx, Datagram(crafted.request("INVITE", "sip:carol@192.0.2.30"), crafted.UA,
                                        router.config.listen, 1, 0.0))
    item = next(gen)
    while isinstance(item, StepEvent) and item.step != "route:KSR.pv.seti":
        item = gen.send(None)
    gen.close()  # the driver gives up on this message while the script waits in a KSR call
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def test_a_stalled_script_is_abandoned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kemi, "STALL_SECONDS", 0.2)
    source = "import time\n\ndef ksr_request_route(msg):\n    time.sleep(0.6)\n"
    router = _load(tmp_path, source)
    result = MemoryDriver(router.config, router=router).feed(crafted.request("OPTIONS", "sip:x@192.0.2.9"),
                                                             crafted.UA)
    assert (result.outcome, result.reason) == ("dropped", "KEMI script stalled")
    assert any("did not return within 0.2 s" in ev.text for ev in result.events)


def test_ksr_outside_a_route_is_refused() -> None:
    with pytest.raises(kemi.KemiCallError):
        kemi.KSR.sl.sl_send_reply(200, "OK")


def test_the_shipped_kemi_example(tmp_path: Path) -> None:
    router = load_route(SCRIPTS / "kemi-example.py", CONFIG)
    driver = MemoryDriver(router.config, router=router)
    reg = next(e for e in corpus() if e.file == "s24_1_F1_REGISTER.dat")
    invite = next(e for e in corpus() if e.file == "s24_2_F1_INVITE.dat")
    assert driver.feed(with_body(reg), ("192.0.2.4", 5060)).status == 200
    call = driver.feed(with_body(invite), ("192.0.2.1", 5060))
    assert [s.to for s in call.sent] == [("192.0.2.4", 5060)]
    blocked = driver.feed(crafted.blocklist_messages()[2][1], ("192.0.2.42", 5060))
    assert (blocked.status, blocked.reason) == (403, "Blocked")
    assert driver.feed(crafted.request("OPTIONS", "sip:biloxi.com"), crafted.UA).status == 200
    assert driver.feed(crafted.request("INVITE", "sip:zoe@biloxi.com"), crafted.UA).status == 404
    reply = driver.feed(crafted.reply(180, "Ringing", vias=(crafted.OURS, crafted.UAC_VIA)), ("192.0.2.4", 5070))
    assert reply.outcome == "forwarded"


def test_a_script_swallowing_the_exit_cannot_hold_the_worker(tmp_path: Path) -> None:
    """Even `except BaseException` around KSR.x.exit() only gets the script unwound, not the route stuck."""
    source = '''import KSR


def ksr_request_route(msg):
    try:
        KSR.x.exit()
    except BaseException:
        KSR.err("still running after exit")
    KSR.sl.sl_send_reply(500, "should not be sent")
'''
    router = _load(tmp_path, source)
    started = time.monotonic()
    result = MemoryDriver(router.config, router=router).feed(crafted.request("OPTIONS", "sip:x@192.0.2.9"),
                                                             crafted.UA)
    assert time.monotonic() - started < 1.0
    assert result.sent == [] and not any(ev.step == "xlog" for ev in result.events)
