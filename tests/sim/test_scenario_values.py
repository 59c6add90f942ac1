"""Scenario values that TOML allows but a simulation cannot mean: each gets one clear message.

A file written by hand can say ``arrivals = 5`` instead of an ``[[arrivals]]`` section, ``nan``
or ``inf`` where a time is expected, or put two peers on one address; the loader must say what is
wrong (``ScenarioError``), never crash with a ``TypeError`` nor run something meaningless.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sipsim.cli import main
from sipsim.engine.scenario import ScenarioError, load_scenario

UAS = '[[peers]]\ntype = "uas"\nname = "bob"\naddress = "127.0.0.3:5060"\naor = "bob"\n'
UAC = '[[peers]]\ntype = "uac"\nname = "alice"\naddress = "127.0.0.2:5060"\ncall = "bob"\n'
PING = '[[arrivals]]\ntext = "OPTIONS sip:127.0.0.1 SIP/2.0\\n\\n"\n'


@pytest.mark.parametrize("text,message", [
    # a section written as a plain value: refused, not iterated
    ("arrivals = 5\n", "arrivals: expected a list"),
    ("peers = 5\n", "peers: expected a list"),
    ("pauses = 5\n", "pauses: expected a list"),
    ('arrivals = ["x"]\n', r"arrivals\[0\]: expected a table"),
    ('pauses = ["x"]\n', r"pauses\[0\]: expected a table"),
    ("[[pauses]]\nstart = 0.1\nend = 0.2\nworkers = 3\n", r"pauses\[0\].workers: expected a list"),
    ('[proxy]\naliases = "sipsim.test"\n', "proxy.aliases: expected a list"),
    ('[[arrivals]]\nfiles = "one.dat"\n', r"arrivals\[0\].files: expected a list"),
    ('[[arrivals]]\nglob = ""\n', "no file matches"),  # matched the data directory itself
    # nan and inf are TOML numbers, not times or costs
    ("until = nan\n", "until: expected a finite number"),
    ("latency = inf\n", "latency: expected a finite number"),
    ("start_gap = inf\n", "start_gap: expected a finite number"),
    ("timeslice = nan\n", "timeslice: expected a finite number"),
    ("speeds = [1, inf, 1, 1]\n", "speeds"),
    ("[costs]\nparse_msg = nan\n", "costs.parse_msg: expected a finite number"),
    (PING + "count = 3\nspacing = nan\n", "spacing: expected a finite number"),
    (PING + "count = 3\nrate = inf\n", "rate: expected a finite number"),
    # booleans are not worker numbers; SO_RCVBUF is a C int; UDP has a maximum payload
    ("start_order = [true, false, 2, 3]\n", "start_order: expected a list of worker numbers"),
    ("rcvbuf = 99999999999\n", "rcvbuf must be between 0 and 2147483647"),
    pytest.param('[[arrivals]]\ntext = "' + "a" * 65_508 + '"\n', "65,508 bytes cannot be sent over UDP",
                 id="datagram-too-big"),
    # peers: finite times, strings for names, integer counts, a real failure code, one address each
    (UAS + "answer = nan\n" + UAC, "answer: expected a finite number"),
    (UAS + "t1 = nan\n" + UAC, "t1: expected a finite number"),
    (UAS + UAC + "start = inf\n", "start: expected a finite number"),
    (UAS + UAC + "calls = 1.5\n", "calls: expected an integer"),
    (UAS + UAC.replace('"bob"', "7"), "call: expected a string"),
    (UAS + 'domain = 5\n' + UAC, "domain: expected a string"),
    (UAS + "reject = 200\n" + UAC, r"reject must be a final failure code \(300-699\)"),
    (UAS + UAC.replace("127.0.0.2", "127.0.0.3"), "127.0.0.3:5060 is already taken by peer 'bob'"),
    (UAS + UAC.replace("127.0.0.2", "127.0.0.1"), "127.0.0.1:5060 is already taken by the proxy"),
])
def test_meaningless_values_are_refused_with_a_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_the_command_line_says_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[[pauses]]\nstart = 0.1\nend = 0.2\nworkers = 3\n")
    rc = main(["simulate", str(path)])
    out, err = capsys.readouterr()
    assert rc == 2 and not out and "Traceback" not in err
    assert err.strip().splitlines() == ["sipsim: pauses[0].workers: expected a list [...], got 3"]
    rc = main(["simulate", "burst", "--rcvbuf", str(2**31)])
    out, err = capsys.readouterr()
    assert rc == 2 and "rcvbuf must be between 0 and 2147483647" in err and not out


def test_values_at_the_limits_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('rcvbuf = 2147483647\nstart_order = [1, 0]\nworkers = 2\n[[arrivals]]\ntext = "'
                    + "a" * 65_507 + '"\n' + UAS + "reject = 486\n")
    sc = load_scenario(path)
    assert sc.rcvbuf == 2**31 - 1 and sc.start_order == (1, 0) and len(sc.arrivals[0].messages[0]) == 65_507
