"""``simulate --pcap`` and the options around it: what ``--call-id``/``--frames`` selected travels as
a return value (never an attribute on the argparse namespace), ``--rate``/``--count`` change a
scenario's own streams and never a replayed capture (which keeps its captured times and number),
and a selection keeps only the events that can concern it while the run goes on (a late Call-ID in
a big capture used to keep every event of the whole run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_flow import ALICE, BOB, request, simulate, write_capture

from sipsim.cli import build_parser
from sipsim.cli.simulate import build_scenario, build_selected
from sipsim.cli.tui import replay_selection
from sipsim.engine.simulation import run_scenario


def loop_reply(call_id: str) -> bytes:
    """A reply whose second Via names the proxy: forward_reply sends it to the proxy itself (a loop)."""
    return (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-a{call_id}\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-b{call_id}\r\nFrom: <sip:a@x>;tag=1\r\n"
            f"To: <sip:b@x>;tag=2\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


FLOW = [
    (0.00, BOB, request("REGISTER", "sip:127.0.0.1", "reg-1", BOB, "Contact: <sip:bob@127.0.0.1:5080>\r\n",
                        "sip:bob@127.0.0.1")),
    (0.10, ALICE, request("INVITE", "sip:bob@127.0.0.1", "call-A", ALICE)),
    (0.20, ALICE, loop_reply("loop-1")),
    (0.30, ALICE, loop_reply("loop-2")),
    (0.40, ALICE, request("OPTIONS", "sip:127.0.0.1", "ping-1", ALICE)),
]


@pytest.fixture
def cap(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "calls.pcap", FLOW)


def test_the_selection_is_returned_not_left_on_the_namespace(cap: Path, capsys) -> None:  # noqa: ANN001
    args = build_parser().parse_args(["simulate", "--pcap", str(cap), "--call-id", "call-A"])
    sc, picked = build_selected(args)
    assert not hasattr(args, "picked")  # no side channel: run() and the TUI take what build_selected returns
    assert picked is not None and set(picked.labels) == {"pcap#2"} and (picked.replayed, picked.ran) == (5, 2)
    assert [a.label for a in sc.arrivals] == ["pcap#1", "pcap#2"]  # up to the last one selected
    assert build_selected(build_parser().parse_args(["simulate", "--pcap", str(cap)]))[1] is None
    assert build_selected(build_parser().parse_args(["simulate", "fifo-spaced"]))[1] is None
    # build_scenario gives the same scenario, and the TUI the same selection, from the same options
    assert build_scenario(build_parser().parse_args(["simulate", "--pcap", str(cap), "--call-id", "call-A"])) == sc
    tui_sc, tui_picked = replay_selection(build_parser().parse_args(["tui", "--pcap", str(cap), "--call-id",
                                                                     "call-A"]))
    assert tui_sc == sc and set(tui_picked.labels) == set(picked.labels)
    capsys.readouterr()


def test_rate_and_count_change_a_scenarios_streams_not_the_capture(cap: Path, capsys) -> None:  # noqa: ANN001
    argv = ["simulate", "fifo-spaced", "--pcap", str(cap), "--count", "3", "--rate", "500"]
    sc = build_scenario(build_parser().parse_args(argv))
    plain = build_scenario(build_parser().parse_args(["simulate", "fifo-spaced", "--pcap", str(cap)]))
    [stream] = [a for a in sc.arrivals if a.label == "options"]
    assert (stream.count, stream.rate, stream.spacing) == (3, 500.0, 1 / 500)
    replayed = [a for a in sc.arrivals if a.label.startswith("pcap#")]
    # each captured datagram once, at its captured time: as without --rate/--count
    assert replayed == [a for a in plain.arrivals if a.label.startswith("pcap#")]
    assert [(a.total, a.rate, a.count) for a in replayed] == [(1, None, None)] * len(FLOW)
    code, out, err = simulate(capsys, *argv[1:], "--json")
    assert code == 0, err
    assert json.loads(out)["metrics"]["arrived"] == 3 + len(FLOW) + 2  # 3 OPTIONS, the capture, its 2 loops


@pytest.mark.parametrize("option", [["--rate", "100"], ["--count", "5"], ["--rate", "100", "--count", "5"]])
def test_rate_or_count_with_a_capture_alone_is_refused_before_it_is_read(cap: Path, capsys, option) -> None:  # noqa: ANN001
    code, out, err = simulate(capsys, "--pcap", str(cap), *option)
    assert code == 2 and out == ""
    assert f"sipsim: {option[0]} changes the scenario's arrival streams, and there is none here: a capture " \
           "replayed with --pcap keeps its captured times and datagrams (--pcap-time-scale X" in err
    assert "the capture's proxy is" not in err  # refused before the capture was read
    # a scenario without streams is the same: nothing for them to change but the capture
    code, _, err = simulate(capsys, "basic-call", "--pcap", str(cap), *option)
    assert code == 2 and "there is none here" in err
    # without --pcap a scenario without streams still gets its OPTIONS pings
    code, out, err = simulate(capsys, "basic-call", *option, "--json")
    assert code == 0, err
    assert json.loads(out)["metrics"]["arrived"] >= 5


def test_a_bad_rate_with_a_capture_is_refused_before_it_is_read(cap: Path, capsys) -> None:  # noqa: ANN001
    code, _, err = simulate(capsys, "fifo-spaced", "--pcap", str(cap), "--rate", "0")
    assert code == 2 and "--rate 0.0: give datagrams per second" in err and "the capture's proxy is" not in err


def test_a_selection_keeps_only_its_own_events_and_loops(cap: Path, capsys) -> None:  # noqa: ANN001
    sc, picked = build_selected(build_parser().parse_args(["simulate", "--pcap", str(cap), "--frames", "4",
                                                           "--workers", "1"]))
    wire: list = []
    result = run_scenario(sc, trace=picked.keep, wire=wire)
    kept = {ev.msg for ev, _ in picked.events}
    assert len(picked.events) < result.events / 3  # not every event of the run
    picked.find(picked.events, wire)
    selected = {m for m, d in picked.msgs.items() if d is not None}
    loops = {m for m, d in picked.msgs.items() if d is None}
    assert len(selected) == 1 and len(loops) == 1  # frame 4 and the loop it made, not frame 3's loop
    assert selected | loops < kept  # (frame 3's loop was kept as a candidate, then left out by find)
    everything: list = []
    run_scenario(sc, trace=lambda ev, t: everything.append((ev, t)))
    assert picked.events == [(ev, t) for ev, t in everything if ev.msg in kept]  # the same events, in order
    capsys.readouterr()


def test_the_selected_loop_is_reported_and_traced(cap: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = simulate(capsys, "--pcap", str(cap), "--call-id", "loop-2", "--json", "--trace")
    assert code == 0, err
    d = json.loads(out)
    sel = d["selection"]["datagrams"]
    assert [(s["frame"], s["loop"]) for s in sel] == [(4, False), (None, True)]
    assert {r["msg"] for r in d["trace"] if r.get("msg") is not None} == {s["msg"] for s in sel}
    assert all(s["outcome"] is not None for s in sel)
