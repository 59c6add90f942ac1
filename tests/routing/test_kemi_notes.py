"""KEMI scripts get the trace notes cfg scripts get, and ``KSR.is_myself_srcip()`` asks about the
address only.

* **Why a value is $null** (lesson 6: Kamailio parses headers lazily): a ``route:pv-null`` step
  names the variable and the broken header, right after the KSR call that read it
  (``KSR.pv.get``, ``KSR.hdr.get``, ``KSR.pv.is_null`` ...) and with that call's script line; a
  read by the message object (``msg.getHeader``) is not a step, so its note carries the line of the
  read and comes before the script's next KSR step. The same script in cfg gets the same notes.
* **``KSR.is_myself_srcip()``**: Kamailio 5.6's ``sr_kemi_core_is_myself_srcip()`` calls
  ``check_self(ip, 0, 0)`` (src/core/kemi.c), and port 0 means any port (``grep_sock_info``,
  ``grep_aliases``): the source address is ours whatever port we listen on or an alias names.
  (app_python3 is not installed here: the source is the authority.)
"""

from __future__ import annotations

from pathlib import Path

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route

CONFIG = ServerConfig(profile=Profile.KAMAILIO)

#: a second From after User-Agent and X-Num: the headers parse only as far as it
BROKEN = ("User-Agent: ua/1", "X-Num: 10", "From: <sip:x@y>;tag=1")

NULLS = '''import KSR


def ksr_request_route(msg):
    ua = KSR.pv.get("$ua")
    num = KSR.pv.get("$hdr(X-Num)")
    hdr = KSR.hdr.get("X-Num")
    via = msg.getHeader("X-Num")
    KSR.info("ua=%s num=%s hdr=%s via=%s" % (ua, num, hdr, via))
    if KSR.pv.is_null("$hdr(X-None)"):
        KSR.sl.sl_send_reply(200, "OK")
'''


def _line(source: str, fragment: str) -> int:
    return next(i + 1 for i, ln in enumerate(source.split("\n")) if fragment in ln)


def _feed(path: Path, source: str, extra: tuple[str, ...], config: ServerConfig = CONFIG,
          src: tuple[str, int] = crafted.UA) -> list:
    path.write_text(source)
    router = load_route(path, config)
    res = MemoryDriver(router.config, router=router).feed(
        crafted.request("OPTIONS", "sip:bob@127.0.0.1", extra=extra), src)
    return res.events


def test_a_ksr_read_of_a_header_that_did_not_parse_is_explained_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nulls.py"
    events = _feed(path, NULLS, BROKEN)
    steps = [e.step for e in events]
    notes = [(e.text, e.detail["line"], e.detail["file"]) for e in events if e.step == "route:pv-null"]
    log = next(e.detail["message"] for e in events if e.step == "xlog")
    assert log == "ua=ua/1 num=None hdr=None via=None"  # $ua's header comes before the broken one
    at = {name: _line(NULLS, name) for name in ('"$hdr(X-Num)"', 'KSR.hdr.get', 'msg.getHeader', '"$hdr(X-None)"')}
    want = [at['"$hdr(X-Num)"'], at["KSR.hdr.get"], at["msg.getHeader"], at['"$hdr(X-None)"']]
    assert [(line, file) for _, line, file in notes] == [(line, str(path)) for line in want]
    texts = [t for t, _, _ in notes]
    assert all("is $null" in t and "second From" in t for t in texts), texts
    assert texts[2].startswith(f"nulls.py line {at['msg.getHeader']}: msg.getHeader('X-Num'): $hdr(X-Num) is $null")
    # each note follows the step of the KSR call that read the value, before the next call's step
    calls = [i for i, s in enumerate(steps) if s.startswith("route:KSR.")]
    reads = [i for i, s in enumerate(steps) if s == "route:pv-null"]
    names = [steps[max(c for c in calls if c < r)] for r in reads]
    assert names == ["route:KSR.pv.get", "route:KSR.hdr.get", "route:KSR.hdr.get", "route:KSR.pv.is_null"]
    assert steps[reads[2] + 1] == "route:KSR.info"  # the msg read's note comes before the next step
    assert steps.count("route:pv-null") == 4


def test_no_note_when_the_headers_parse_and_the_same_notes_as_cfg(tmp_path: Path) -> None:
    assert not [e for e in _feed(tmp_path / "ok.py", NULLS, ("User-Agent: ua/1",)) if e.step == "route:pv-null"]
    cfg = '''loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\n
request_route {
	$var(n) = $hdr(X-Num);
	if ($hdr(X-None) == $null) { sl_send_reply("200", "OK"); }
}
'''
    kemi = '''import KSR\n\n\ndef ksr_request_route(msg):
    KSR.pv.get("$hdr(X-Num)")
    if KSR.pv.is_null("$hdr(X-None)"):
        KSR.sl.sl_send_reply(200, "OK")
'''
    by_cfg = [e.text for e in _feed(tmp_path / "s.cfg", cfg, BROKEN) if e.step == "route:pv-null"]
    by_kemi = [e.text for e in _feed(tmp_path / "s.py", kemi, BROKEN) if e.step == "route:pv-null"]
    assert by_cfg == by_kemi and len(by_cfg) == 2


SRCIP = '''import KSR


def ksr_request_route(msg):
    KSR.info("srcip=%s" % KSR.is_myself_srcip())
    KSR.sl.sl_send_reply(200, "OK")
'''


def test_is_myself_srcip_ignores_the_port(tmp_path: Path) -> None:
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5070),
                          aliases=("192.0.2.5:5080", "sip.example.org", "[2001:db8::5]:5090"))
    path = tmp_path / "srcip.py"
    seen = {}
    for src in [("127.0.0.1", 5060), ("127.0.0.1", 40000), ("192.0.2.5", 5060), ("192.0.2.6", 5080),
                ("2001:db8::5", 5060), ("2001:db8::6", 5090)]:
        events = _feed(path, SRCIP, (), config, src)
        seen[src[0]] = next(e.detail["message"] for e in events if e.step == "xlog")
    # listening on 5070, the source 127.0.0.1 is ours from any port; an alias's port does not matter
    assert seen == {"127.0.0.1": "srcip=True", "192.0.2.5": "srcip=True", "192.0.2.6": "srcip=False",
                    "2001:db8::5": "srcip=True", "2001:db8::6": "srcip=False"}
