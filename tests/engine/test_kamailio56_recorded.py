"""The kamailio profile against what the real Kamailio 5.6.3 did, recorded byte for byte.

``tests/data/kamailio56/corpus.json`` holds what the real binary sent for every corpus file and 37
crafted messages (``tests/kamailio/record_ground_truth.py``, cfg ``tests/kamailio/cfgs/default.cfg``
— the cfg twin of sipsim's built-in default route — with biloxi.com as an alias and host names
resolvable). The kamailio profile must send the same datagrams to the same places, in the same order,
the same bytes except for what is ours by design: the Server header and the value of the branch of
our Via (it has Kamailio's *form*). The To-tag sl adds is compared as it is: sipsim computes it as
5.6 does (``sipsim/engine/sl.py``). The routing-engine tests run
the live comparison against the binary; this one needs no Kamailio and runs everywhere.
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import DATA, corpus, with_body

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.events import format_addr

GT = json.loads((DATA / "kamailio56" / "corpus.json").read_text())
HOSTS: dict[str, str] = GT["hosts"]
ENTRIES = {e.id: e for e in corpus()}

# What sipsim does differently on purpose (each a decision written down in the engine):
def _sequence() -> list[tuple[str, bytes, tuple[str, int], list[dict]]]:
    from kamailio.crafted import crafted  # the recording abbreviates large messages: take the bytes

    crafted_bytes = {c.name: c.data for c in crafted()}
    out = []
    for name, entry in GT["corpus"].items():
        data = with_body(ENTRIES[name])
        src = entry["default"]["src"].rsplit(":", 1)
        out.append((name, data, (src[0], int(src[1])), entry["default"]["sent"]))
    for name, entry in GT["crafted"].items():
        src = entry["default"]["src"].rsplit(":", 1)
        data = crafted_bytes[name]
        out.append((f"crafted/{name}", data, (src[0], int(src[1])), entry["default"]["sent"]))
    return out


SEQUENCE = _sequence()
_BRANCH = re.compile(r"branch=z9hG4bK[0-9a-f]{1,4}\.[0-9a-f]{32}\.0")


def normalise(text: str) -> str:
    lines = [ln for ln in text.split("\r\n") if not ln.lower().startswith("server:")]
    return _BRANCH.sub("branch=OURS", "\r\n".join(lines))


@pytest.fixture(scope="module")
def results() -> dict[str, list[tuple[str, str]]]:
    cfg = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060),
                       aliases=("biloxi.com", "registrar.biloxi.com"))
    driver = MemoryDriver(cfg)
    out = {}
    for name, data, src, _ in SEQUENCE:
        result = driver.feed(data, src)
        sent = []
        for s in result.sent:
            host = HOSTS.get(s.to[0], s.to[0])
            sent.append((format_addr((host, s.to[1])), s.data.decode("latin-1")))
        out[name] = sent
    return out


@pytest.mark.parametrize(("name", "data", "src", "recorded"), SEQUENCE, ids=[s[0] for s in SEQUENCE])
def test_kamailio_profile_sends_what_kamailio_56_sent(name, data, src, recorded, results) -> None:  # noqa: ANN001
    ours = [(to, text) for to, text in results[name]]
    theirs = [(r["to"], r["data"]) for r in recorded]
    for i, (to, real) in enumerate(theirs):
        m = re.match(r"<(\d+) bytes> ", real)  # the recording keeps the first 600 bytes of big ones
        if m and i < len(ours):
            assert len(ours[i][1]) == int(m.group(1))
            theirs[i] = (to, real[m.end():])
            ours[i] = (ours[i][0], ours[i][1][: len(real) - m.end()])
    ours = [(to, normalise(text)) for to, text in ours]
    theirs = [(to, normalise(text)) for to, text in theirs]
    assert [to for to, _ in ours] == [to for to, _ in theirs], "destinations differ"
    for (_, mine), (_, real) in zip(ours, theirs, strict=True):
        assert mine == real
