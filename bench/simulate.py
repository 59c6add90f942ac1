"""Benchmark: the simulated kernel against the engine pipeline alone, and stepping back.

    python bench/simulate.py [--count 100000] [--rounds 2] [--calibrate]

Prints, in one run:
  1. the engine pipeline alone: ``MemoryDriver.feed`` (one worker, no kernel, no clock) on COUNT
     datagrams — the RFC 3261 §24 REGISTER, INVITE, 180 and 200 in turn, as the biloxi.com proxy;
  2. the simulation of the same datagrams arriving at 8,000/s at 4 workers (fifo, no trace: the
     runner's events feed only the metrics) — simulated datagrams per second of wall time;
  3. the ratio sim/pipeline (time per datagram). Goal: <= 1.5;
  4. stepping on a simulation of the same traffic: ``back()`` at step 10,000 (goal < 100 ms),
     ``goto(10000)`` from scratch, and inject-after-back at step 10,000 (re-executes the run).
Both wall time and CPU time (``process_time``) are measured; the ratio uses CPU time, which other
processes on a shared machine disturb less (the wall-time ratio is printed too). With ``--rounds R``
each measurement is repeated R times (pipeline and simulation alternating); the best of each counts.

``--calibrate`` instead measures what the simulator's defaults are made of: the median cost of
each pipeline step (simulation.DEFAULT_COSTS), and — in a private network namespace, over
loopback — sendto/recvfrom costs, the wake-up latency of a process blocked in recvfrom, the skb
truesize charged per datagram size (SO_MEMINFO), how many datagrams fit a receive buffer, and (with
``ctxswitch.c``, compiled when ``cc`` exists) a context switch and an empty ``recvfrom``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipsim.demo import DEMO_CONFIG, rfc3261_message  # noqa: E402
from sipsim.engine.config import Profile  # noqa: E402
from sipsim.engine.driver import MemoryDriver  # noqa: E402
from sipsim.engine.scenario import ArrivalSpec, ProxySpec, Scenario  # noqa: E402
from sipsim.engine.simulation import run_scenario  # noqa: E402
from sipsim.engine.stepping import Simulation  # noqa: E402

FLOW = (("s24_1_F1_REGISTER.dat", ("192.0.2.4", 5060)), ("s24_2_F3_INVITE.dat", ("192.0.2.2", 5060)),
        ("s24_2_F6_180.dat", ("192.0.2.4", 5060)), ("s24_2_F9_200.dat", ("192.0.2.4", 5060)))
RATE = 8000.0


def flow() -> list[tuple[bytes, tuple[str, int]]]:
    return [(rfc3261_message(name), src) for name, src in FLOW]


def bench_scenario(count: int) -> Scenario:
    msgs = flow()
    proxy = ProxySpec(listen=DEMO_CONFIG.listen, advertise=DEMO_CONFIG.advertise, aliases=DEMO_CONFIG.aliases)
    spec = ArrivalSpec(messages=tuple(m for m, _ in msgs), src=tuple(s for _, s in msgs), time=0.01,
                       count=count, rate=RATE)
    return Scenario(name="bench", workers=4, seed=1, proxy=proxy, arrivals=(spec,))


def time_pipeline(count: int) -> tuple[float, float]:
    """(wall, CPU) seconds to feed ``count`` datagrams to one worker through MemoryDriver."""
    msgs = flow()
    driver = MemoryDriver(DEMO_CONFIG)
    gap = 1.0 / RATE
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(count):
        data, src = msgs[i % 4]
        driver.feed(data, src, time=0.01 + i * gap)
    return time.perf_counter() - t0, time.process_time() - c0


def time_simulation(count: int) -> tuple[float, float, object]:
    sc = bench_scenario(count)
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_scenario(sc)
    return time.perf_counter() - t0, time.process_time() - c0, result


def stepping(at: int = 10_000) -> dict[str, float]:
    sc = bench_scenario(2000)
    sim = Simulation(sc)
    t0 = time.perf_counter()
    sim.goto(at)
    goto_s = time.perf_counter() - t0
    backs = []
    for _ in range(15):
        sim.goto(at)
        t0 = time.perf_counter()
        snap = sim.back()
        backs.append(time.perf_counter() - t0)
        assert snap.step == at - 1
    t0 = time.perf_counter()
    sim.inject(rfc3261_message("s24_2_F3_INVITE.dat"), ("192.0.2.2", 5060))
    sim.step()
    inject_s = time.perf_counter() - t0
    return {"goto": goto_s, "back_median": statistics.median(backs), "back_max": max(backs), "inject": inject_s}


def main_bench(args: argparse.Namespace) -> int:
    n = args.count
    print(f"sipsim simulator benchmark: {n:,} datagrams (RFC 3261 §24 REGISTER/INVITE/180/200), "
          f"4 workers, {RATE:,.0f}/s, best of {args.rounds}")
    pipe: list[tuple[float, float]] = []
    sim: list[tuple[float, float]] = []
    result = None
    for r in range(args.rounds):
        for what in (("pipe", "sim") if r % 2 == 0 else ("sim", "pipe")):
            if what == "pipe":
                pipe.append(time_pipeline(n))
            else:
                wall, cpu, result = time_simulation(n)
                sim.append((wall, cpu))
    pw, pc = min(w for w, _ in pipe), min(c for _, c in pipe)
    sw, sc = min(w for w, _ in sim), min(c for _, c in sim)
    m = result.metrics  # type: ignore[attr-defined]
    print(f"  pipeline alone (MemoryDriver)  CPU {pc:7.2f} s  wall {pw:7.2f} s  {n / pc:9,.0f} datagrams/s  "
          f"{pc / n * 1e6:6.1f} µs/datagram")
    print(f"  simulation (4 workers, fifo)   CPU {sc:7.2f} s  wall {sw:7.2f} s  {n / sc:9,.0f} datagrams/s  "
          f"{sc / n * 1e6:6.1f} µs/datagram")
    print(f"      {result.events:,} events, virtual time {m.time:.2f} s, drops {m.drops}, "  # type: ignore[attr-defined]
          f"handled {m.handled:,}, pipeline drops {m.pipeline_drops}")
    ratio = sc / pc
    print(f"  ratio simulation/pipeline      {ratio:.2f}x CPU ({sw / pw:.2f}x wall)   "
          f"goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}")
    if args.rounds > 1:
        print(f"  rounds (CPU s): pipeline {', '.join(f'{c:.2f}' for _, c in pipe)}; "
              f"simulation {', '.join(f'{c:.2f}' for _, c in sim)}")
    st = stepping()
    print(f"  stepping at step 10,000: back() median {st['back_median'] * 1e3:.2f} ms, "
          f"max {st['back_max'] * 1e3:.2f} ms (goal < 100 ms: {'met' if st['back_max'] < 0.1 else 'NOT met'}); "
          f"goto(10000) from scratch {st['goto'] * 1e3:.0f} ms; "
          f"inject after back (re-executes 10,000 events) {st['inject'] * 1e3:.0f} ms")
    return 0


# -- calibration -------------------------------------------------------------------------------------
def calibrate_steps(reps: int = 3000) -> None:
    from sipsim.engine.context import WorkerContext
    from sipsim.engine.events import Datagram, Recv, StepEvent
    from sipsim.engine.udp_server import udp_rcv_loop

    msgs = flow()
    for profile in (Profile.SER, Profile.KAMAILIO):
        cfg = DEMO_CONFIG.with_(profile=profile)
        gen = udp_rcv_loop(WorkerContext(config=cfg))
        next(gen)
        costs: dict[str, list[int]] = defaultdict(list)
        pc = time.perf_counter_ns
        n = 0
        for _ in range(reps):
            for data, src in msgs:
                n += 1
                t0 = pc()
                item = gen.send(Datagram(data, src, cfg.listen, n, 0.0))
                t1 = pc()
                while not isinstance(item, Recv):
                    if isinstance(item, StepEvent):
                        costs[item.step].append(t1 - t0)
                    t0 = pc()
                    item = gen.send(None)
                    t1 = pc()
        print(f"  {profile.value}: median µs per step (over {reps} x the 4 messages)")
        total = 0.0
        for step, v in sorted(costs.items(), key=lambda kv: -statistics.median(kv[1])):
            med = statistics.median(v) / 1000
            total += med * len(v)
            print(f"    {step:<28} {med:7.1f}")
        print(f"    per datagram: {total / n:.0f} µs")


def calibrate_kernel() -> None:
    import os
    import socket
    import struct

    from sipsim.engine.kernel_queue import skb_truesize
    from sipsim.sandbox import enter_private_netns

    if not enter_private_netns():
        print("  (no private network namespace: kernel measurements skipped)")
        return
    so_meminfo = 55

    def rmem(s: socket.socket) -> int:
        return struct.unpack("9I", s.getsockopt(socket.SOL_SOCKET, so_meminfo, 36))[0]

    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    addr = r.getsockname()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    print("  skb truesize (payload bytes -> charged; model):")
    for n in (0, 197, 198, 645, 646, 1669, 1670, 3717, 3718, 7813, 7814, 16004, 16005, 32766):
        s.sendto(b"x" * n, addr)
        time.sleep(0.003)
        got = rmem(r)
        r.recv(65535)
        print(f"    {n:6d} -> {got:6d}   model {skb_truesize(n):6d} {'ok' if got == skb_truesize(n) else 'DIFFERS'}")
    print("  datagrams accepted before any read (SO_RCVBUF, payload -> count):")
    for so, n in ((None, 500), (8192, 500), (65536, 1500)):
        q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if so:
            q.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, so)
        q.bind(("127.0.0.1", 0))
        q.setblocking(False)
        for _ in range(2000):
            s.sendto(b"y" * n, q.getsockname())
        k = 0
        while True:
            try:
                q.recv(65535)
                k += 1
            except BlockingIOError:
                break
        print(f"    {so or 'default'}, {n} bytes -> {k}")
        q.close()
    data = b"z" * 500
    t0 = time.perf_counter()
    for _ in range(20000):
        s.sendto(data, addr)
    send_us = (time.perf_counter() - t0) / 20000 * 1e6
    r.setblocking(False)
    got = 0
    t0 = time.perf_counter()
    while True:
        try:
            r.recvfrom(65535)
            got += 1
        except BlockingIOError:
            break
    recv_us = (time.perf_counter() - t0) / max(got, 1) * 1e6
    r.setblocking(True)
    rp, wp = os.pipe()
    pid = os.fork()
    if pid == 0:  # the sleeper: reports how long after the send its recvfrom returned
        os.close(rp)
        for _ in range(300):
            d, _ = r.recvfrom(100)
            os.write(wp, struct.pack("q", time.monotonic_ns() - int(d)))
        os._exit(0)
    os.close(wp)
    lat = []
    for _ in range(300):
        time.sleep(0.002)
        s.sendto(str(time.monotonic_ns()).encode(), addr)
        lat.append(struct.unpack("q", os.read(rp, 8))[0] / 1000)
    os.waitpid(pid, 0)
    lat.sort()
    print(f"  sendto 500 bytes {send_us:.1f} µs; recvfrom of a queued datagram {recv_us:.1f} µs")
    print(f"  send -> blocked recvfrom returns: median {lat[150]:.0f} µs (p10 {lat[30]:.0f}, p90 {lat[270]:.0f})")
    context_switch()


def context_switch() -> None:
    """A context switch and an empty recvfrom (a herd's wasted wake-up) are too short to time from
    Python: ``ctxswitch.c`` does it, compiled here when a C compiler is around."""
    import shutil
    import subprocess
    import tempfile

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("  context switch: no C compiler (cc), not measured")
        return
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "ctxswitch"
        subprocess.run([cc, "-O2", "-o", str(exe), str(Path(__file__).with_name("ctxswitch.c"))], check=True,
                       timeout=60)
        out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, check=True).stdout
    print("".join(f"  {line}\n" for line in out.splitlines()), end="")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=100_000, help="datagrams (default 100,000)")
    p.add_argument("--rounds", type=int, default=2, help="repeat each measurement, keep the best (default 2)")
    p.add_argument("--calibrate", action="store_true", help="measure step and kernel costs instead")
    args = p.parse_args()
    if args.calibrate:
        print("pipeline step costs (simulation.DEFAULT_COSTS):")
        calibrate_steps()
        print("kernel (loopback, private network namespace):")
        calibrate_kernel()
        return 0
    return main_bench(args)


if __name__ == "__main__":
    sys.exit(main())
