"""The messages of headerfound.py through the real Kamailio 5.6 and through sipsim's ``kamailio``
profile, both running cfgs/relay.cfg: every one must give the same datagrams (destination and
bytes, our branch and the Server header masked), the same cfg lines and the same xlog
lines (tests/routing/kamdiff.py). Kamailio starts once for all of them (~1 s).

Each message is a difference the second fuzz round found and the engine fixed; the test fails if
one comes back. The test also checks the set still means something: the messages end in all
three ways (forwarded, answered, dropped), so that a harness that lost Kamailio's output could not
pass it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool
from routing import kamdiff

from kamailio import headerfound

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFG = Path(__file__).parent / "cfgs" / "relay.cfg"
HOSTS = {"biloxi.com": "203.0.113.10"}
MESSAGES = headerfound.messages()
_SEEN: dict[str, list[tuple[kamdiff.Seen, kamdiff.Seen]]] = {}


def _both() -> list[tuple[kamdiff.Seen, kamdiff.Seen]]:
    if "all" not in _SEEN:
        need_tool("kamailio")
        need_tool("unshare")
        data = [(m[1], m[2]) for m in MESSAGES]
        seen_k = kamdiff.kamailio_run(CFG.read_text(), data, hosts=HOSTS)
        seen_s = kamdiff.sipsim_run(CFG, data, hosts=HOSTS)
        _SEEN["all"] = list(zip(seen_k, seen_s, strict=True))
    return _SEEN["all"]


REGISTRAR = headerfound.registrar_messages()
DEFAULT_CFG = Path(__file__).resolve().parents[2] / "sipsim" / "routing" / "scripts" / "default.cfg"


def _registrar(tmp: Path) -> list[tuple[kamdiff.Seen, kamdiff.Seen]]:
    if "registrar" not in _SEEN:
        need_tool("kamailio")
        text = 'alias="biloxi.com"\n' + DEFAULT_CFG.read_text()
        (tmp / "default.cfg").write_text(text)
        data = [(m[1], m[2]) for m in REGISTRAR]
        seen_k = kamdiff.kamailio_run(text, data, hosts=HOSTS)
        seen_s = kamdiff.sipsim_run(tmp / "default.cfg", data, hosts=HOSTS)
        _SEEN["registrar"] = list(zip(seen_k, seen_s, strict=True))
    return _SEEN["registrar"]


@pytest.mark.parametrize("index", range(len(MESSAGES)), ids=[m[0] for m in MESSAGES])
def test_sipsim_does_what_kamailio_does(index: int, isolated_network: None) -> None:
    k, s = _both()[index]
    assert kamdiff.agree(k, s), kamdiff.describe(MESSAGES[index][0], k, s)


def test_the_set_forwards_answers_and_drops(isolated_network: None) -> None:
    kinds = {"forwarded": 0, "answered": 0, "dropped": 0}
    for k, _ in _both():
        firsts = [text.split(" ", 1)[0] for _, text in k.sent]
        kinds["dropped" if not firsts else "answered" if firsts[0].upper() == "SIP/2.0" else "forwarded"] += 1
    assert min(kinds.values()) >= 5, kinds


@pytest.mark.parametrize("index", range(len(REGISTRAR)), ids=[m[0] for m in REGISTRAR])
def test_registrar_callid_limit_as_kamailio(index: int, isolated_network: None, tmp_path: Path) -> None:
    k, s = _registrar(tmp_path)[index]
    assert kamdiff.agree(k, s), kamdiff.describe(REGISTRAR[index][0], k, s)
    assert k.sent, "every REGISTER is answered"
