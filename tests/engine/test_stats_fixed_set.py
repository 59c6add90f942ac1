"""``sipsim simulate --json``'s ``core_stats`` is Kamailio 5.6's fixed core group, whatever arrives.

Before, any method name made a counter of its own (``rcv_requests_foo``, even one with RFC 4475's
``!interesting-Method0123456789_*+`.%indeed'~``) and counters that stayed zero were missing. Now the
keys are always :data:`CORE_STATS`, in kex's order, zeros included (the values themselves are
checked against the real Kamailio in test_stats_kamailio.py). Both profiles run the same callbacks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DATA

from sipsim.cli import main
from sipsim.engine.scenario import load_scenario
from sipsim.engine.simulation import run_scenario
from sipsim.engine.stats import CORE_STATS, KEX_REQUEST_METHODS

FOO = """FOO sip:bob@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-foo
Max-Forwards: 70
From: <sip:alice@192.0.2.7>;tag=f
To: <sip:bob@127.0.0.1>
Call-ID: foo@192.0.2.7
CSeq: 1 FOO
Content-Length: 0

"""
RINGING = """SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ours
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-caller
From: <sip:alice@127.0.0.1>;tag=a
To: <sip:bob@127.0.0.1>;tag=b
Call-ID: ring@127.0.0.1
CSeq: 7 INVITE
Content-Length: 0

"""


def scenario(tmp_path: Path, profile: str) -> Path:
    p = tmp_path / f"odd-{profile}.toml"
    arrivals = [f'[[arrivals]]\ntime = 0.01\nsrc = "192.0.2.7:5060"\nfile = "{DATA / "rfc4475" / "intmeth.dat"}"\n',
                f'[[arrivals]]\ntime = 0.02\nsrc = "192.0.2.7:5060"\ntext = """\n{FOO}"""\n',
                f'[[arrivals]]\ntime = 0.03\nsrc = "127.0.0.1:5080"\ntext = """\n{RINGING}"""\n']
    p.write_text(f'name = "odd"\nworkers = 2\nprofile = "{profile}"\nseed = 1\n\n' + "\n".join(arrivals))
    return p


@pytest.mark.parametrize("profile", ["ser", "kamailio"])
def test_unknown_methods_make_no_counters_and_zeros_are_kept(tmp_path: Path, profile: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["simulate", str(scenario(tmp_path, profile)), "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and not err
    stats = json.loads(out)["core_stats"]
    assert list(stats) == list(CORE_STATS)
    assert stats["rcv_requests"] == 2 and stats["unsupported_methods"] == 2
    assert all(stats[f"rcv_requests_{m.lower()}"] == 0 for m in KEX_REQUEST_METHODS)
    nonzero = {k: v for k, v in stats.items() if v and k.startswith("rcv_replies")}
    assert nonzero == {"rcv_replies": 1, "rcv_replies_1xx": 1, "rcv_replies_18x": 1, "rcv_replies_1xx_invite": 1}


def test_a_whole_call_is_counted_per_method_and_class() -> None:
    """basic-call (ser profile, simulated phones): REGISTER, INVITE/100/180/200/ACK, BYE/200, and
    whatever the phones retransmit; every request has a known method, every reply a class."""
    r = run_scenario(load_scenario("basic-call"))
    s = r.core_stats
    assert list(s) == list(CORE_STATS)
    per_method = sum(s[f"rcv_requests_{m.lower()}"] for m in KEX_REQUEST_METHODS)
    assert s["rcv_requests"] == per_method > 0 and s["unsupported_methods"] == 0
    for m in ("register", "invite", "ack", "bye"):
        assert s[f"rcv_requests_{m}"] >= 1, m
    assert s["rcv_replies"] == sum(s[f"rcv_replies_{c}xx"] for c in range(1, 7)) > 0
    for c in range(1, 7):  # each reply of the call answers an INVITE or a BYE
        assert s[f"rcv_replies_{c}xx"] == s[f"rcv_replies_{c}xx_invite"] + s[f"rcv_replies_{c}xx_bye"], c
    assert s["rcv_replies_2xx_invite"] >= 1 and s["rcv_replies_2xx_bye"] >= 1
    assert s["rcv_replies_18x"] <= s["rcv_replies_1xx"]


def test_simulate_json_carries_the_sl_group_of_the_replies_sl_sent(capsys: pytest.CaptureFixture[str]) -> None:
    """basic-call: the REGISTER's 200 is the only reply the proxy itself sends (the rest it
    forwards): sl_stats has sl's 24 names, that 200 in 200_replies and sent_replies, nothing else."""
    from sipsim.engine.stats import SL_STATS

    assert main(["simulate", "basic-call", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    sl = out["sl_stats"]
    assert list(sl) == list(SL_STATS)
    assert {k: v for k, v in sl.items() if v} == {"200_replies": 1, "sent_replies": 1}
    assert out["core_stats"]["fwd_requests"] > 0  # the forwarded ones are not sl's
