"""``sipsim simulate`` says whether its proxy relays (serve does not, by default) and --no-relay
makes it answer as serve does; the JSON shape only grows."""

from __future__ import annotations

import json

import pytest

from sipsim.cli import main


def test_no_relay_answers_403_as_serve_and_the_summary_says_which(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "basic-call"]) == 0
    out = capsys.readouterr().out
    assert "proxy 127.0.0.1:5060, relay on — serve's default is off; --no-relay to see its 403" in out
    assert main(["simulate", "basic-call", "--no-relay"]) == 0
    out = capsys.readouterr().out
    assert "relay off, as serve's default: requests for other domains get 403" in out
    # the BYE goes to bob's Contact (127.0.0.3), no domain of the proxy's: relayed, or refused with 403
    assert main(["simulate", "basic-call", "--no-relay", "--json", "--trace"]) == 0
    refused = json.loads(capsys.readouterr().out)
    assert main(["simulate", "basic-call", "--json", "--trace"]) == 0
    relayed = json.loads(capsys.readouterr().out)
    assert set(relayed) <= set(refused)  # same keys: --no-relay removes none
    statuses = [[t["status"] for t in d["trace"] if t["type"] == "step" and t.get("status")]
                for d in (relayed, refused)]
    assert 403 not in statuses[0] and 403 in statuses[1]
    alice = {p["name"]: p for p in refused["peers"]}["alice"]
    assert alice["calls_failed"] == 1 and "BYE answered 403" in alice["notes"][-1][1]
