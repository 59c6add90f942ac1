#!/usr/bin/env python3
"""Benchmark: replaying a big capture (``sipsim simulate --pcap``, ``sipsim tui --pcap``).

    .venv/bin/python bench/pcap_replay.py [--calls 155] [--rounds 2] [--capture FILE]

Makes its capture in a temporary folder with sipsim's own tools: a scenario of 10 callers each
placing CALLS calls to 10 registered callees through the simulated proxy, run by
``sipsim simulate SCENARIO --save-pcap`` (a Linux cooked capture with directions, as
``serve --pcap`` and ``tcpdump -i any`` write; about 21,700 datagrams for the default 155 calls,
half of them sent to the proxy). ``--capture FILE`` measures another capture instead. Then, in one
run, each figure the best of ROUNDS, per datagram of the capture (per replayed datagram for the
simulation itself):

1. **reading**: ``read_capture`` (link, IP, UDP headers; fragments) — against the baseline, Scapy's
   full ``rdpcap`` dissection of the same file (plain Scapy layers; sipsim's SIP layer not bound);
2. **the replay's plan**: ``plan_replay`` (each datagram's Call-ID and Vias read, the proxy guessed);
3. **before the run**: simulate's ``build_selected`` — reading, plan and scenario, all that
   ``simulate --pcap`` and ``tui --pcap`` do before the first event;
4. **the run**: ``run_scenario`` of that scenario — against the baseline, the engine pipeline alone
   (``MemoryDriver.feed``, one worker, no kernel) on the same datagrams;
5. **the commands**, each in a fresh interpreter: ``sipsim simulate --pcap FILE`` from start to
   exit, and the TUI from start to its first frame (headless, 160×45) on ``--pcap FILE`` —
   against the same TUI opening the built-in scenario.

Wall time (``perf_counter``); figures move by a third from run to run on a shared VM, so compare
ratios within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CALLERS = 10


def scenario_text(calls: int) -> str:
    """Callee i registers, caller i calls it ``calls`` times, 50 ms apart, each call held 100 ms."""
    lines = ['name = "pcap-bench"', 'description = "callers calling registered callees"', "workers = 4",
             'policy = "fifo"', "seed = 1", "", "[proxy]", 'listen = "127.0.0.1:5060"', ""]
    for i in range(CALLERS):
        lines += ["[[peers]]", 'type = "uas"', f'name = "bob{i}"', f'address = "127.0.1.{i + 1}:5060"',
                  f'aor = "bob{i}"', "register_at = 0.01", "ring = 0.02", "answer = 0.05", ""]
    for i in range(CALLERS):
        lines += ["[[peers]]", 'type = "uac"', f'name = "alice{i}"', f'address = "127.0.2.{i + 1}:5060"',
                  f'call = "bob{i}"', "start = 0.05", "hold = 0.1", f"calls = {calls}", "interval = 0.05", ""]
    return "\n".join(lines)


def make_capture(work: Path, calls: int) -> Path:
    """The capture, saved by ``sipsim simulate SCENARIO --save-pcap`` (run in this process)."""
    from sipsim.cli import main

    toml = work / "calls.toml"
    toml.write_text(scenario_text(calls))
    cap = work / "calls.pcap"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["simulate", str(toml), "--save-pcap", str(cap)])
    if code != 0:
        raise SystemExit(f"sipsim simulate --save-pcap failed ({code})")
    return cap


def best(rounds: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall time of ``rounds`` calls of ``fn``, and its last result."""
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` with its stderr notes (the replay's) discarded."""
    def run() -> Any:
        with contextlib.redirect_stderr(io.StringIO()):
            return fn()
    return run


def scapy_rdpcap(path: Path) -> int:
    from scapy.layers import inet, inet6, l2  # noqa: F401 - the link types' dissectors, bound on import
    from scapy.utils import rdpcap

    return len(rdpcap(str(path)))


def pipeline(sc: Any) -> Callable[[], None]:
    """Feeding the scenario's arrivals to the engine alone, as bench/simulate.py's baseline does."""
    from sipsim.engine.driver import MemoryDriver

    arrivals = [(a.messages[0], a.src[0], a.time) for a in sc.arrivals]

    def run() -> None:
        driver = MemoryDriver(sc.server_config())
        for data, src, t in arrivals:
            driver.feed(data, src, time=t)
    return run


TUI_FIRST_FRAME = """
import argparse, sys
from sipsim.tui.app import SipsimApp
sc = None
if {pcap!r}:
    from sipsim.cli.tui import replay_selection
    args = argparse.Namespace(scenario=None, pcap={pcap!r}, pcap_proxy=[], pcap_time_scale=None, call_id=None,
                              frames=None)
    sc = replay_selection(args)[0]
class First(SipsimApp):
    def on_mount(self):  # Textual also runs the base class's on_mount
        self.call_after_refresh(self.exit)
First(scenario=sc).run(headless=True, size=(160, 45))
"""


def fresh(argv: list[str]) -> Callable[[], None]:
    """Running ``argv`` in a fresh interpreter (output discarded; a failure stops the benchmark)."""
    def run() -> None:
        subprocess.run(argv, check=True, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=600)
    return run


def per(seconds: float, n: int) -> str:
    us = seconds / n * 1e6 if n else 0.0
    return f"{us:8.1f} µs" if us < 10_000 else f"{us / 1000:8.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=155, help="calls per caller (10 callers; default 155)")
    parser.add_argument("--rounds", type=int, default=2, help="measure each figure this many times, keep the best")
    parser.add_argument("--capture", metavar="FILE", help="measure this capture instead of making one")
    args = parser.parse_args()

    from sipsim.cli import build_parser
    from sipsim.cli.simulate import build_selected
    from sipsim.engine.scenario import load_router
    from sipsim.engine.simulation import run_scenario
    from sipsim.packets.pcap import read_capture
    from sipsim.packets.replay import plan_replay

    with tempfile.TemporaryDirectory(prefix="sipsim-pcap-bench-") as tmp:
        t0 = time.perf_counter()
        cap = Path(args.capture) if args.capture else make_capture(Path(tmp), args.calls)
        made = time.perf_counter() - t0
        r = args.rounds
        t_read, capture = best(r, lambda: read_capture(cap))
        n = len(capture.datagrams)
        t_plan, plan = best(r, quiet(lambda: plan_replay(capture.datagrams, None, loopback=True)))
        sim_args = build_parser().parse_args(["simulate", "--pcap", str(cap)])
        t_build, (sc, _picked) = best(r, quiet(lambda: build_selected(sim_args)))
        replayed = len(sc.arrivals)
        t_run, _ = best(r, lambda: run_scenario(sc, router=load_router(sc, sc.server_config())))
        t_pipe, _ = best(r, pipeline(sc))
        t_scapy, scapy_packets = best(r, lambda: scapy_rdpcap(cap))
        py = sys.executable
        t_cli, _ = best(r, fresh([py, "-m", "sipsim", "simulate", "--pcap", str(cap)]))
        t_tui, _ = best(r, fresh([py, "-c", TUI_FIRST_FRAME.format(pcap=str(cap))]))
        t_tui0, _ = best(r, fresh([py, "-c", TUI_FIRST_FRAME.format(pcap="")]))

    print(f"capture: {capture.packets:,} packets ({cap.name if args.capture else f'made in {made:.1f} s'}), "
          f"{n:,} SIP datagrams, {replayed:,} replayed (sent to the proxy: {plan.how} {plan.proxy})")
    assert scapy_packets == capture.packets
    print(f"{'':44}{'total':>9}  {'per datagram':>13}  ratio")
    rows = [
        ("Scapy rdpcap, full dissection (baseline)", t_scapy, capture.packets, "1"),
        ("read_capture", t_read, capture.packets, f"{t_read / t_scapy:.3f} of Scapy's"),
        ("plan_replay (Call-IDs, Vias, proxy guess)", t_plan, n, f"{t_plan / t_scapy:.3f} of Scapy's reading"),
        ("before the run (simulate's build_selected)", t_build, n, f"{t_build / t_scapy:.3f} of Scapy's reading"),
        ("engine pipeline alone (baseline)", t_pipe, replayed, "1"),
        ("the simulation (run_scenario)", t_run, replayed, f"{t_run / t_pipe:.2f} of the pipeline's"),
        ("sipsim simulate --pcap, fresh interpreter", t_cli, replayed,
         f"{t_cli / (t_pipe + t_scapy):.2f} of pipeline + Scapy reading"),
    ]
    for label, t, count, ratio in rows:
        print(f"  {label:42}{t:8.2f} s  {per(t, count)}  {ratio}")
    print(f"  {'tui --pcap: start to first frame':42}{t_tui:8.2f} s  "
          f"{'':13}  {t_tui / t_tui0:.2f} of the built-in scenario's ({t_tui0:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
