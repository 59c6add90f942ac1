"""``simulate --pcap --call-id/--frames``: one call out of a capture, as ``trace`` picks it, and each
captured datagram parsed once for the choice (trace and simulate alike).

The selected datagrams meet the proxy in the state the full replay leaves it (a REGISTER before
them still runs), those after the last one are not run; the report's "selected" block, --trace,
--json's "selection" and --save-pcap show the selection only; the summary counts what ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_flow import ALICE, BOB, request, simulate, write_capture

import sipsim.packets.replay as replay
from sipsim.cli import build_parser
from sipsim.cli.trace import _pcap_inputs
from sipsim.packets.pcap import read_capture

FLOW = [
    (0.00, BOB, request("REGISTER", "sip:127.0.0.1", "reg-1", BOB, "Contact: <sip:bob@127.0.0.1:5080>\r\n",
                              "sip:bob@127.0.0.1")),
    (0.10, ALICE, request("INVITE", "sip:bob@127.0.0.1", "call-A", ALICE)),
    (0.20, ALICE, request("INVITE", "sip:carol@127.0.0.1", "call-B", ALICE)),
    (0.30, ALICE, request("OPTIONS", "sip:127.0.0.1", "ping-1", ALICE)),
]


@pytest.fixture
def cap(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "calls.pcap", FLOW)


def test_a_call_id_runs_what_came_before_and_shows_only_the_call(cap: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    saved = tmp_path / "call-A.pcap"
    code, out, err = simulate(capsys, "--pcap", str(cap), "--call-id", "call-A", "--trace", "--json",
                              "--save-pcap", str(saved))
    assert code == 0, err
    assert "--call-id call-A: 1 of the 4 replayed datagram(s) selected (frame 2); the one replayed before them " \
           "still runs, unselected" in err and "the 2 replayed after the last one selected are not run" in err
    d = json.loads(out)
    assert d["metrics"]["arrived"] == 2  # the REGISTER ran (for the location table), the rest did not
    sel = d["selection"]
    assert (sel["call_id"], sel["frames"], sel["replayed"], sel["ran"]) == ("call-A", None, 4, 2)
    [inv] = sel["datagrams"]
    # bob's binding, made by the REGISTER that was not selected, is where the INVITE goes
    assert (inv["frame"], inv["outcome"], inv["loop"], inv["worker"]) == (2, "forwarded", False, "W0")
    assert inv["sent"] == [{"to": "127.0.0.1:5080", "first_line": "INVITE sip:bob@127.0.0.1:5080 SIP/2.0"}]
    assert inv["time"] == "2026-09-21T14:13:20.100000Z" and inv["src"] == "127.0.0.1:5070"
    msgs = {r.get("msg") for r in d["trace"]}
    assert msgs == {inv["msg"]}  # --trace: the selected datagram's events only
    # --save-pcap keeps the selected datagram and what the proxy sent for it, with their directions
    assert [(r.direction, r.data.split(b" ", 1)[0]) for r in read_capture(saved, ports=[5060, 5080]).datagrams] == \
        [("in", b"INVITE"), ("out", b"INVITE")]

    code, out, err = simulate(capsys, "--pcap", str(cap), "--frames", "3-")
    assert code == 0, err
    assert "selected (--frames 3-): 2 datagram(s) of the capture" in out
    assert "frame 3 (" in out and "#3 INVITE sip:carol@127.0.0.1 SIP/2.0 from 127.0.0.1:5070: W0 replied 404" in out
    assert "frame 4 (" in out and "W0 replied 200" in out
    assert "arrived 4" in out  # the summary counts all that ran


def test_bad_selections_say_why(cap: Path, capsys) -> None:  # noqa: ANN001
    code, _, err = simulate(capsys, "--pcap", str(cap), "--call-id", "CALL-A")
    assert code == 2 and "no replayed datagram matches --call-id CALL-A (Call-IDs are compared exactly" in err
    code, _, err = simulate(capsys, "--pcap", str(cap), "--frames", "9-12")
    assert code == 2 and "(the capture's frames are 1 to 4)" in err
    code, _, err = simulate(capsys, "--call-id", "call-A")
    assert code == 2 and "--call-id goes with --pcap" in err
    code, _, err = simulate(capsys, "--pcap", str(cap), "--frames", "3-1")
    assert code == 2 and "a range N-M goes up" in err
    assert "Traceback" not in err


def test_each_captured_datagram_is_parsed_once_for_the_choice(cap: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    parsed: list[bytes] = []
    real = replay.read_heads

    def counting(data: bytes) -> replay.Heads:
        parsed.append(data)
        return real(data)

    monkeypatch.setattr(replay, "read_heads", counting)
    inputs = _pcap_inputs(build_parser().parse_args(["trace", "--pcap", str(cap), "--call-id", "call-B"]))
    assert [i.frame for i in inputs if i.shown] == [3]
    assert sorted(parsed) == sorted(data for _, _, data in FLOW)  # each once: the plan's read serves the choice
    parsed.clear()
    code, _, err = simulate(capsys, "--pcap", str(cap), "--call-id", "call-B")
    assert code == 0, err
    assert sorted(parsed) == sorted(data for _, _, data in FLOW)
    parsed.clear()
    assert simulate(capsys, "--pcap", str(cap), "--frames", "2", "--pcap-proxy", "any")[0] == 0
    assert parsed == []  # frames alone, and no proxy to guess: no header read at all


def test_a_captured_datagram_is_replayed_byte_for_byte_braces_and_all(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """A scenario's own messages are templates ({n}, {src_ip}, {src_port}); a capture's are not: a
    Call-ID ``odd-{n}-call`` seen on the wire reaches the proxy as it was (it became odd-1-call)."""
    odd = request("OPTIONS", "sip:127.0.0.1", "odd-{n}-{src_port}-call", ALICE)
    cap = write_capture(tmp_path / "braces.pcap", [(0.0, ALICE, odd)])
    saved = tmp_path / "again.pcap"
    code, out, err = simulate(capsys, "--pcap", str(cap), "--save-pcap", str(saved), "--json")
    assert code == 0, err
    [got, answer] = read_capture(saved, ports=[5060]).datagrams
    assert got.direction == "in" and got.data == odd
    assert b"Call-ID: odd-{n}-{src_port}-call\r\n" in answer.data  # and the 200 echoes it


def test_trace_json_reads_a_quoted_utf8_value_as_utf8(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """--trace --json: an event's text quoting a UTF-8 header value reads café, not cafÃ© (the engine's
    latin-1 view of the octets), as simulate's terminal trace prints it."""
    bad = request("OPTIONS", "sip:127.0.0.1", "utf-1", ALICE)
    bad = bad.replace(b"Max-Forwards: 70", "Max-Forwards: café".encode())
    cap = write_capture(tmp_path / "utf.pcap", [(0.0, ALICE, bad)])
    code, out, err = simulate(capsys, "--pcap", str(cap), "--trace", "--json")
    assert code == 0, err
    texts = [r["text"] for r in json.loads(out)["trace"]]
    assert any("'café'" in t for t in texts) and not any("Ã" in t for t in texts), texts
