"""`sipsim tui --pcap FILE`: a real capture stepped through in the TUI, replayed as `sipsim simulate
--pcap` replays it (same parser, same scenario), and the refusals before the terminal is taken."""

from __future__ import annotations

import argparse
from pathlib import Path

from tuikit import panel_text, settle

from sipsim.cli import build_parser
from sipsim.cli import main as cli_main
from sipsim.cli.tui import replay_scenario
from sipsim.engine.events import StepEvent
from sipsim.packets import PcapWriter
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import MessagePanel

SIZE = (160, 45)
PROXY = ("192.0.2.10", 5060)
PHONE = ("192.0.2.20", 5072)


def options(n: int) -> bytes:
    return (f"OPTIONS sip:{PROXY[0]} SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE[0]}:{PHONE[1]};branch=z9hG4bK-cap{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:zoe@{PHONE[0]}>;tag=cap{n}\r\nTo: <sip:{PROXY[0]}>\r\n"
            f"Call-ID: captured-{n}@{PHONE[0]}\r\nCSeq: {n} OPTIONS\r\nUser-Agent: captured-phone\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def capture(path: Path) -> Path:
    """Two OPTIONS a phone sent to a proxy, 0.5 s apart, and the proxy's answers (as a real capture)."""
    with PcapWriter(str(path), epoch=1_790_000_000.0) as w:
        for n, t in ((1, 0.0), (2, 0.5)):
            w.write(t, PHONE, PROXY, options(n))
            w.write(t + 0.001, PROXY, PHONE, b"SIP/2.0 200 OK\r\n" + options(n).split(b"\r\n", 1)[1])
    return path


def tui_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["tui", *argv])


async def test_a_capture_is_stepped_through_as_simulate_replays_it(tmp_path: Path) -> None:
    pcap = capture(tmp_path / "phone.pcap")
    sc = replay_scenario(tui_args("--pcap", str(pcap), "--pcap-time-scale", "2"))
    labels = [a.label for a in sc.arrivals]
    assert labels == ["pcap#1", "pcap#2"], labels  # the phone's two requests, not the proxy's answers
    assert [a.time for a in sc.arrivals] == [0.01, 0.01 + 1.0]  # 0.5 s apart, at half speed
    app = SipsimApp(scenario=sc)
    async with app.run_test(size=SIZE) as pilot:
        src = app.source
        src.goto(10**7)  # the end of the (short) replay
        end = src.position
        parsed = [p for p in range(1, end + 1)
                  if isinstance(ev := src.event_at(p), StepEvent) and ev.step == "parse_msg"]
        assert len(parsed) == 2, "each captured request goes through the pipeline"
        app.goto(parsed[0])
        await settle(pilot)
        text = panel_text(app, MessagePanel)
        assert "User-Agent: captured-phone" in text and "captured-1@192.0.2.20" in text


def test_pcap_options_are_checked_before_the_terminal_is_taken(tmp_path: Path, capsys) -> None:
    pcap = capture(tmp_path / "phone.pcap")
    assert cli_main(["tui", "--pcap", str(pcap), "--live", "127.0.0.1:5999"]) == 2
    assert "give one" in capsys.readouterr().err
    assert cli_main(["tui", "--pcap-proxy", "any"]) == 2
    assert "go with --pcap" in capsys.readouterr().err
    assert cli_main(["tui", "--pcap", str(tmp_path / "missing.pcap")]) == 2  # an input that is missing: usage (2)
    assert "missing.pcap" in capsys.readouterr().err
    # a good capture gets as far as the terminal check (pytest has none)
    assert cli_main(["tui", "--pcap", str(pcap)]) == 2
    assert "needs a terminal" in capsys.readouterr().err
