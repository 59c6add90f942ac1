"""``$RAi`` is the receiving socket's advertised address (Kamailio's ``pv_get_rcv_advertised_ip``:
the socket's ``advertise``, else its own IP), which the script's ``advertised_address`` global does
not change; ``$ou``/``$oU`` keep the received R-URI after ``$ru`` changed, read as the profile
reads URIs; ``$cl`` is the parsed Content-Length."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route

SCRIPT = '''loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
request_route {
	xlog("L_INFO", "RAi=$RAi RAp=$RAp Ri=$Ri cl=$cl su=$su ou=$ou\\n");
	$ru = "sip:carol@192.0.2.7:5090";
	xlog("L_INFO", "ru=$ru ou=$ou oU=$oU od=$od\\n");
	sl_send_reply("200", "OK");
}
'''


def _logs(tmp_path: Path, script: str, config: ServerConfig, ruri: str) -> list[str]:
    path = tmp_path / "s.cfg"
    path.write_text(script)
    router = load_route(path, config)
    driver = MemoryDriver(router.config, router=router)
    res = driver.feed(crafted.request("MESSAGE", ruri, body="hello"), ("2001:db8::5", 5070))
    assert res.status == 200
    return [ev.detail["message"].rstrip("\n") for ev in res.events if ev.step == "xlog"]


@pytest.mark.parametrize("profile", [Profile.KAMAILIO, Profile.SER])
def test_advertised_socket_address_and_the_original_uri(tmp_path: Path, profile: Profile) -> None:
    advertised = ServerConfig(profile=profile, advertise="proxy.example")
    first, after = _logs(tmp_path, SCRIPT, advertised, "sip:bob@127.0.0.1")
    assert first == "RAi=proxy.example RAp=5060 Ri=127.0.0.1 cl=5 su=sip:[2001:db8::5]:5070 ou=sip:bob@127.0.0.1"
    assert after == "ru=sip:carol@192.0.2.7:5090 ou=sip:bob@127.0.0.1 oU=bob od=127.0.0.1"
    # the global only changes what goes into our Via: the socket advertises nothing
    global_only = 'advertised_address="via.example"\n' + SCRIPT
    first, _ = _logs(tmp_path, global_only, ServerConfig(profile=profile), "sip:bob@127.0.0.1")
    assert first.startswith("RAi=127.0.0.1 RAp=5060 ")


def test_the_original_uri_is_read_as_the_profile_reads_uris(tmp_path: Path) -> None:
    """A user with a character the RFC grammar refuses: Kamailio 5.6's parse_uri() lets it through
    (the kamailio profile), the ser profile's RFC reading does not -- before and after ``$ru``."""
    ruri = "sip:b{ob@127.0.0.1"
    kam = _logs(tmp_path, SCRIPT, ServerConfig(profile=Profile.KAMAILIO), ruri)
    ser = _logs(tmp_path, SCRIPT, ServerConfig(profile=Profile.SER), ruri)
    assert kam[0].endswith(f"ou={ruri}") and kam[1].endswith(f"ou={ruri} oU=b{{ob od=127.0.0.1")
    assert ser[0].endswith("ou=<null>") and ser[1].endswith("ou=<null> oU=<null> od=<null>")
