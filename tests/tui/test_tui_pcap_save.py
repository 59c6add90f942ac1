"""A replayed capture saved again (the TUI's `s` key, `simulate --save-pcap`) starts where the
capture did, so that Wireshark and mergecap line the two files up; any other run is stamped from
now. The epoch travels on the scenario (``Scenario.capture_epoch``), which TOML cannot set."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest
from tuikit import save_with_s, settle

from sipsim.cli import build_parser
from sipsim.cli import main as cli_main
from sipsim.cli.tui import replay_scenario
from sipsim.engine.scenario import ScenarioError, from_dict
from sipsim.packets import PcapWriter, read_sip_datagrams
from sipsim.tui.app import SipsimApp

SIZE = (160, 45)
PROXY = ("192.0.2.10", 5060)
PHONE = ("192.0.2.20", 5072)
EPOCH = 1_790_000_000.25  # the capture's first frame, a quarter second past a whole second
GAPS = (0.0, 0.5)


def options(n: int) -> bytes:
    return (f"OPTIONS sip:{PROXY[0]} SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE[0]}:{PHONE[1]};branch=z9hG4bK-sv{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:zoe@{PHONE[0]}>;tag=sv{n}\r\nTo: <sip:{PROXY[0]}>\r\n"
            f"Call-ID: saved-{n}@{PHONE[0]}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def capture(path: Path) -> Path:
    """A phone's two OPTIONS to a proxy, half a second apart, and the proxy's answers."""
    with PcapWriter(str(path), epoch=EPOCH) as w:
        for n, t in enumerate(GAPS, 1):
            w.write(t, PHONE, PROXY, options(n))
            w.write(t + 0.001, PROXY, PHONE, b"SIP/2.0 200 OK\r\n" + options(n).split(b"\r\n", 1)[1])
    return path


def tui_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["tui", *argv])


def requests_at(path: Path) -> list[float]:
    """The capture times of the phone's OPTIONS in a saved file."""
    return [r.capture_time for r in read_sip_datagrams(str(path)) if r.data.startswith(b"OPTIONS")]


async def test_the_tui_saves_a_replay_stamped_with_the_captures_time(tmp_path: Path) -> None:
    sc = replay_scenario(tui_args("--pcap", str(capture(tmp_path / "phone.pcap"))))
    out = tmp_path / "again.pcap"
    app = SipsimApp(scenario=sc)
    async with app.run_test(size=SIZE) as pilot:
        app.source.goto(10**7)  # the end of the (short) replay: both OPTIONS in, both answers out
        await settle(pilot)
        await save_with_s(pilot, out)
    # each OPTIONS where the capture has it (the first at the first frame's own timestamp), not today
    assert requests_at(out) == pytest.approx([EPOCH + t for t in GAPS], abs=1e-6)
    firsts = [r.data.split(b"\r\n", 1)[0] for r in read_sip_datagrams(str(out))]
    assert firsts == [b"OPTIONS sip:192.0.2.10 SIP/2.0", b"SIP/2.0 200 OK"] * 2


def test_simulate_saves_a_replay_as_the_tui_does_and_a_scenario_from_now(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    cap = capture(tmp_path / "phone.pcap")
    replayed, fresh = tmp_path / "replayed.pcap", tmp_path / "fresh.pcap"
    assert cli_main(["simulate", "--pcap", str(cap), "--save-pcap", str(replayed), "--json"]) == 0
    assert requests_at(replayed) == pytest.approx([EPOCH + t for t in GAPS], abs=1e-6)
    assert cli_main(["simulate", "basic-call", "--save-pcap", str(fresh), "--json"]) == 0
    capsys.readouterr()
    stamps = [r.capture_time for r in read_sip_datagrams(str(fresh))]
    assert stamps and abs(stamps[0] - time.time()) < 600, "no capture: stamped from now, not 1970"
    # the replay's epoch is no TOML key: a scenario file cannot set it, by mistake or not
    with pytest.raises(ScenarioError, match="capture_epoch"):
        from_dict({"capture_epoch": EPOCH})
