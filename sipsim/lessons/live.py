"""``sipsim lesson N --check --live``: the real kernel's wake order beside the simulator's.

For a lesson that declares ``live = "wake-order"`` (lesson 12), this starts a real ``sipsim serve``
on a free port of 127.0.0.1 with the lesson's number of workers, watches it through the observer
socket, and sends the lesson's number of OPTIONS 20 ms apart — each only once every worker is
asleep in ``recvfrom`` (``/proc/PID/stat`` state S, wait channel in the socket receive path), so
the order is the kernel's, not the scheduler's luck. It then judges two things:

* the real kernel served the workers round-robin in the order they first slept (Linux's FIFO
  wake-ups: ``linux-wake-order.md`` in the reference notes);
* the simulator, given the same sleep order, predicts exactly the same takers.

Nothing leaves the machine: the server listens on 127.0.0.1, forwards nothing, and is stopped by
its PID (SIGTERM, then SIGKILL for it and any worker left). Linux only (``/proc``). The lesson's own
checks stay against the simulation; these two results are added to them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sipsim.lessons.api import CheckResult
from sipsim.real.procinfo import wait_all_asleep

GAP = 0.02
START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_asleep(pids: list[int], timeout: float = 5.0) -> None:
    if not wait_all_asleep(pids, timeout):
        raise RuntimeError("the workers did not all go back to sleep in recvfrom within 5 s")


def _options(port: int, local: int, n: int) -> bytes:
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-live-{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:lesson@127.0.0.1>;tag=live{n}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: live-{n}@127.0.0.1\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def _stop(proc: subprocess.Popen[bytes], pids: list[int]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for pid in pids:  # never leave a worker behind
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def record_wake_order(workers: int, count: int, profile: str = "ser") -> tuple[list[int], list[int], list[int]]:
    """Run a real server; returns (worker pids by slot, first sleep order, taker of each datagram)."""
    from sipsim.real.control import query
    from sipsim.real.observe import Observer

    with tempfile.TemporaryDirectory(prefix="sipsim-live-") as tmp:
        port = _free_port()
        ctl = str(Path(tmp) / "ctl.sock")
        with Observer(str(Path(tmp) / "obs.sock")) as obs:
            cmd = [sys.executable, "-m", "sipsim", "serve", "--listen", f"127.0.0.1:{port}", "--workers",
                   str(workers), "--profile", profile, "--observe", obs.path, "--control", ctl,
                   "--db", str(Path(tmp) / "loc.sqlite"), "--log-level", "warning"]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            pids: list[int] = []
            try:
                deadline = time.monotonic() + START_TIMEOUT
                while len(pids) < workers:
                    if proc.poll() is not None:
                        raise RuntimeError(f"sipsim serve exited with status {proc.returncode}")
                    if time.monotonic() > deadline:
                        raise RuntimeError("sipsim serve did not start its workers within 10 s")
                    try:
                        pids = [p["pid"] for p in query(ctl, "ps")["processes"] if "slot" in p]
                    except (OSError, ValueError):
                        pass
                    time.sleep(0.05)
                events: list[dict[str, Any]] = []
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
                    c.bind(("127.0.0.1", 0))
                    c.settimeout(3.0)
                    for n in range(1, count + 1):
                        _wait_asleep(pids)
                        events.extend(obs.events(timeout=0))
                        c.sendto(_options(port, c.getsockname()[1], n), ("127.0.0.1", port))
                        c.recvfrom(65535)
                        time.sleep(GAP)
                    _wait_asleep(pids)
                    events.extend(obs.events(timeout=0.2))
            finally:
                _stop(proc, pids)
    first_sleep: list[int] = []
    takers: list[int] = []
    for ev in events:
        if ev.get("type") != "kernel":
            continue
        if ev.get("kind") == "worker_sleeps" and ev.get("worker") not in first_sleep:
            first_sleep.append(int(ev["worker"]))
        elif ev.get("kind") == "worker_woken":
            takers.append(int(ev["worker"]))
    return pids, first_sleep, takers


def _predicted(session: Any, order: list[int], count: int) -> list[int]:
    from sipsim.engine.simulation import run_scenario

    sc = session.scenario.with_overrides(start_order=tuple(order), count=count)
    got: list[int] = []

    def trace(ev: Any, t: float) -> None:
        if getattr(ev, "kind", None) in ("worker_woken", "worker_takes"):
            got.append(ev.worker)

    run_scenario(sc, trace=trace)
    return got


def live_results(session: Any) -> list[CheckResult]:
    """The live checks of ``session``'s lesson (a failed run is a failed check, with the reason)."""
    kind = getattr(session.lesson, "live", "")
    if kind != "wake-order":
        return [CheckResult("live", False, f"lesson {session.number} has no live comparison "
                                           "(lesson 12 has: sipsim lesson 12 --check --live)")]
    if not sys.platform.startswith("linux"):
        return [CheckResult("live", False, "the live comparison needs Linux (/proc and fork)")]
    workers = session.scenario.workers
    count = sum(a.total for a in session.scenario.arrivals) or 12
    try:
        pids, first_sleep, takers = record_wake_order(workers, count, session.scenario.profile)
    except (RuntimeError, OSError) as exc:
        return [CheckResult("live", False, f"the live run failed: {exc}")]
    names = {pid: f"pid {pid}" for pid in pids}
    said = " ".join(names.get(t, str(t)) for t in takers)
    if len(takers) != count or sorted(first_sleep) != sorted(pids):
        return [CheckResult("live-round-robin", False, f"incomplete observation: {len(takers)} of {count} "
                                                       f"datagrams seen, sleep order {first_sleep}")]
    rotation = [first_sleep[i % len(first_sleep)] for i in range(count)]
    ok = takers == rotation
    real = CheckResult("live-round-robin", ok,
                       f"the real kernel: workers first slept in the order {first_sleep}; the {count} spaced OPTIONS "
                       f"were taken by {said}" + (" — strict round-robin." if ok else " — not a rotation."),
                       " ".join(map(str, rotation)))
    slot = {pid: i for i, pid in enumerate(pids)}
    predicted = [pids[w] for w in _predicted(session, [slot[p] for p in first_sleep], count)]
    same = predicted == takers
    sim = CheckResult("live-matches-simulator", same,
                      "the simulator, started in the same sleep order, predicts the same takers."
                      if same else f"the simulator predicts {predicted}, the real kernel gave {takers}.",
                      " ".join(map(str, predicted)))
    return [real, sim]
