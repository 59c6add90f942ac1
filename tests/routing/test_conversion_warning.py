"""A text Kamailio cannot turn into a number is a WARNING and 0 (measured with 5.6.3): sipsim shows the
warning as a ``route:warning`` step of the action that converted it, and goes on with 0."""

from __future__ import annotations

from pathlib import Path

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route

SCRIPT = '''loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
request_route {
	$var(i) = 0 + $hdr(X-N);
	if ($hdr(X-N) > 5) { xlog("L_INFO", "gt5\\n"); }
	switch ($hdr(X-N)) {
		case 0: xlog("L_INFO", "case0 $var(i)\\n"); break;
		default: xlog("L_INFO", "default\\n");
	}
	sl_send_reply("200", "OK");
}
'''


def test_a_failed_conversion_is_a_warning_step_and_0(tmp_path: Path) -> None:
    path = tmp_path / "s.cfg"
    path.write_text(SCRIPT)
    router = load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    driver = MemoryDriver(router.config, router=router)
    res = driver.feed(crafted.request("OPTIONS", "sip:bob@127.0.0.1", extra=("X-N: 7 ",)), crafted.UA)
    steps = [(ev.step, ev.detail.get("line")) for ev in res.events
             if ev.step in ("route:warning", "xlog", "route:error")]
    assert steps == [("route:warning", 5), ("route:warning", 6), ("route:warning", 7), ("xlog", None)]
    assert [ev.detail["message"] for ev in res.events if ev.step == "xlog"] == ["case0 0\n"]
    assert res.status == 200
    ok = driver.feed(crafted.request("OPTIONS", "sip:bob@127.0.0.1", extra=("X-N: 7",), n=2), crafted.UA)
    assert not [ev for ev in ok.events if ev.step == "route:warning"]
