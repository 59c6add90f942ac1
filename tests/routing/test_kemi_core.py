"""KSR core functions after Kamailio 5.6's KEMI documentation (app_python3 is not installed here, so
these are checked against the documented behaviour, not the binary):

* the logging functions work while the script loads — ``mod_init()``, the object's ``__init__`` —
  as in the official kamailio-basic-kemi-python example: logged, not refused;
* ``KSR.is_<METHOD>()`` for the nineteen methods of the KEMI core, on the parsed method bit (any
  case) or, for a reply, the CSeq method;
* ``KSR.pv.getw/getvs/getvn``, ``KSR.log``, ``KSR.is_myself_furi/turi/srcip``,
  ``KSR.seturi/setuser/sethost``, ``KSR.setdsturi/resetdsturi/isdsturiset``;
* a missing KSR name lists what sipsim models, and not the stateful modules' refusal stubs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.parser.fline import KAMAILIO_METHODS
from sipsim.routing import load_route
from sipsim.routing.ksr import KEMI_IS_METHODS

CONFIG = ServerConfig(profile=Profile.KAMAILIO, aliases=("biloxi.com",))

LOADING = '''import KSR


def mod_init():
    KSR.info("from mod_init\\n")
    KSR.log("warn", "a warning while loading\\n")
    return kamailio()


class kamailio:
    def __init__(self):
        KSR.notice("from __init__\\n")

    def child_init(self, rank):
        KSR.info("child_init(%d)\\n" % rank)
        return 0

    def ksr_request_route(self, msg):
        KSR.sl.sl_send_reply(200, "OK")
        return 1
'''


def _driver(tmp_path: Path, source: str) -> tuple[object, MemoryDriver]:
    path = tmp_path / "script.py"
    path.write_text(source)
    router = load_route(path, CONFIG)
    return router, MemoryDriver(router.config, router=router)


def _logs(res: object) -> list[tuple[str, str]]:
    return [(ev.detail["level"], ev.detail["message"]) for ev in res.events if ev.step == "xlog"]  # type: ignore


def test_logging_while_the_script_loads(tmp_path: Path) -> None:
    router, driver = _driver(tmp_path, LOADING)
    assert router.load_log == [("L_INFO", "from mod_init\n"), ("L_WARN", "a warning while loading\n"),
                               ("L_NOTICE", "from __init__\n")]
    assert not any("logged while loading" in w for w in router.script.warnings), "a log line is no warning"
    first = driver.feed(crafted.request("OPTIONS", "sip:bob@127.0.0.1"), crafted.UA)
    assert first.status == 200 and _logs(first) == [("L_INFO", "child_init(0)\n")]  # a step of the worker
    assert _logs(driver.feed(crafted.request("OPTIONS", "sip:bob@127.0.0.1", n=2), crafted.UA)) == []


IS_METHODS = '''import KSR


def ksr_request_route(msg):
    KSR.info(",".join(m for m in METHODS if getattr(KSR, "is_" + m)()))
    KSR.sl.sl_send_reply(200, "OK")


def ksr_reply_route(msg):
    KSR.info(",".join(m for m in METHODS if getattr(KSR, "is_" + m)()))
'''


def test_is_method_family(tmp_path: Path) -> None:
    assert set(KEMI_IS_METHODS) <= set(KAMAILIO_METHODS) and len(KEMI_IS_METHODS) == 19
    _, driver = _driver(tmp_path, f"METHODS = {list(KEMI_IS_METHODS)!r}\n" + IS_METHODS)
    for n, method in enumerate([*KEMI_IS_METHODS, "invite", "Kdmq", "FOO"], start=1):
        res = driver.feed(crafted.request(method, "sip:bob@127.0.0.1", n=n), crafted.UA)
        want = method.upper() if method.upper() in KEMI_IS_METHODS else ""
        assert _logs(res)[0][1] == want, method
    # a reply: the CSeq method counts
    reply = crafted.reply(180, "Ringing", vias=(crafted.OURS, crafted.UAC_VIA))
    assert _logs(driver.feed(reply, ("192.0.2.4", 5070)))[0][1] == "INVITE"


CORE = '''import KSR


def ksr_request_route(msg):
    KSR.info("getw=%r getvs=%r getvn=%r get=%r" % (KSR.pv.getw("$hdr(X-None)"), KSR.pv.getvs("$hdr(X-None)", "dflt"),
             KSR.pv.getvn("$var(n)", 7), KSR.pv.getw("$rU")))
    KSR.log("NOTICE", "notice by name")
    KSR.log("nosuch", "an unknown level is L_ERR")
    KSR.info("myself: furi=%s turi=%s srcip=%s" % (KSR.is_myself_furi(), KSR.is_myself_turi(), KSR.is_myself_srcip()))
    KSR.info("du set: %s" % KSR.isdsturiset())
    KSR.setdsturi("sip:192.0.2.77:5080")
    KSR.info("du set: %s %s" % (KSR.isdsturiset(), KSR.pv.get("$du")))
    KSR.resetdsturi()
    KSR.info("du set: %s" % KSR.isdsturiset())
    KSR.setuser("carol")
    KSR.sethost("192.0.2.9")
    KSR.info("ruri=" + KSR.pv.get("$ru"))
    KSR.seturi("sip:dave@192.0.2.10:5070")
    KSR.setdsturi("sip:192.0.2.77:5080")
    KSR.forward()
'''


def test_core_functions(tmp_path: Path) -> None:
    _, driver = _driver(tmp_path, CORE)
    msg = crafted.request("INVITE", "sip:bob@biloxi.com", extra=("To: <sip:bob@biloxi.com>",))
    res = driver.feed(msg, ("127.0.0.1", 5090))
    logs = _logs(res)
    assert logs[0] == ("L_INFO", "getw='<<null>>' getvs='dflt' getvn=0 get='bob'")  # $var(n) starts at 0
    assert logs[1:3] == [("L_NOTICE", "notice by name"), ("L_ERR", "an unknown level is L_ERR")]
    # From is sip:alice@atlanta.com (not us), To biloxi.com (an alias), the source 127.0.0.1 (us)
    assert logs[3][1] == "myself: furi=False turi=True srcip=True"
    assert [t for _, t in logs[4:7]] == ["du set: False", "du set: True sip:192.0.2.77:5080", "du set: False"]
    assert logs[7][1] == "ruri=sip:carol@192.0.2.9"
    assert [s.to for s in res.sent] == [("192.0.2.77", 5080)]
    assert res.sent[0].data.startswith(b"INVITE sip:dave@192.0.2.10:5070 SIP/2.0")


def test_a_missing_name_lists_what_is_modelled(tmp_path: Path) -> None:
    _, driver = _driver(tmp_path, "import KSR\n\ndef ksr_request_route(msg):\n    KSR.nosuch()\n")
    res = driver.feed(crafted.request("OPTIONS", "sip:bob@127.0.0.1"), crafted.UA)
    (err,) = [ev.text for ev in res.events if ev.step == "route:error"]
    available = err.split("available: ", 1)[1].split(";", 1)[0].split(", ")
    assert "is_CANCEL" in available and "sl" in available
    assert not {"tm", "tmx", "dialog", "dispatcher", "uac"} & set(available)
    assert "not modelled, stateful: tm, tmx, dialog, dispatcher, uac" in err


@pytest.mark.parametrize("call", ['KSR.pv.get("$ru")', 'KSR.sl.sl_send_reply(200, "OK")'])
def test_other_calls_while_loading_are_still_refused(tmp_path: Path, call: str) -> None:
    from sipsim.routing.errors import KemiError

    path = tmp_path / "script.py"
    path.write_text(f"import KSR\n\n{call}\n\ndef ksr_request_route(msg):\n    pass\n")
    with pytest.raises(KemiError) as info:
        load_route(path, CONFIG)
    assert info.value.line == 3 and "can only be called while sipsim runs" in str(info.value)


def test_check_and_serve_show_what_the_script_logged_while_loading(tmp_path: Path, capsys, isolated_network) -> None:
    """``sipsim check`` prints the lines as the script's own (not as warnings about it); ``sipsim serve``
    logs them at start-up at their levels, as Kamailio logs a KEMI script's mod_init."""
    from live_harness import LiveServer

    from sipsim.cli import main

    path = tmp_path / "script.py"
    path.write_text(LOADING)
    assert main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"{path}: logged while loading [L_WARN]: a warning while loading" in err
    assert "warning:" not in err
    with LiveServer(tmp_path, workers=1, args=["--route", str(path)], log_level="info") as srv:
        text = srv.log_text()
    lines = text.splitlines()
    assert any(" INFO " in line and line.endswith(f"{path}: from mod_init") for line in lines), text
    assert any(" WARNING " in line and line.endswith(f"{path}: a warning while loading") for line in lines), text



def test_hdr_append_to_reply(tmp_path: Path) -> None:
    """``KSR.hdr.append_to_reply`` (Kamailio's KEMI core): the redirect idiom, as the cfg function."""
    _, driver = _driver(tmp_path, '''import KSR


def ksr_request_route(msg):
    KSR.hdr.append_to_reply("Contact: <sip:" + KSR.pv.get("$rU") + "@192.0.2.9>\\r\\n")
    KSR.sl.sl_send_reply(302, "Moved")
''')
    res = driver.feed(crafted.request("INVITE", "sip:bob@127.0.0.1"), crafted.UA)
    (sent,) = res.sent
    assert sent.data.startswith(b"SIP/2.0 302 Moved\r\n")
    assert b"\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.9>\r\n" in sent.data
