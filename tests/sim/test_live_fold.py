"""The fold reads a real server's stream: ``sipsim serve --observe`` workers, real pids, real kernel.

Three forked workers, six OPTIONS sent one at a time (each once every worker sleeps in the
kernel). The observer's records go through the same :class:`Timeline` and ``fold`` the simulator
uses; the snapshot must show the real workers, their messages and the wait-queue — and the
simulator, started in the same sleep order, must predict which worker takes each datagram.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sipsim.engine import snapshot as snapmod
from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.engine.scenario import load_scenario
from sipsim.engine.stepping import Simulation

pytestmark = pytest.mark.network


def test_fold_builds_snapshots_from_real_workers(tmp_path: Path, isolated_network: None) -> None:
    from live_harness import LiveServer, options_request, wait_all_asleep

    from sipsim.real.observe import Observer, as_event

    records: list[dict] = []
    with Observer(str(tmp_path / "obs.sock")) as obs, LiveServer(tmp_path, workers=3, observe=obs.path) as srv:
        pids = srv.worker_pids()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.bind(("127.0.0.1", 0))
            c.settimeout(3.0)
            for i in range(6):
                wait_all_asleep(pids)
                records.extend(obs.events(timeout=0))
                c.sendto(options_request(srv.port, c.getsockname()[1], cseq=i + 1), ("127.0.0.1", srv.port))
                assert c.recvfrom(65535)[0].startswith(b"SIP/2.0 200 OK")
            wait_all_asleep(pids)
            records.extend(obs.events(timeout=0.3))
    timeline = snapmod.Timeline()
    for rec in records:
        ev = as_event(rec)
        if ev is not None:
            timeline.append(ev)
    snap = timeline.snapshot_at(len(timeline))
    assert {w.id for w in snap.workers} == set(pids)
    assert snap.handled == 6 and snap.replied == 6 and snap.pipeline_drops == 0
    assert sorted(snap.wait_queue) == sorted(pids)
    assert all(w.state == snapmod.SLEEPING for w in snap.workers)
    # mid-stream: the worker holding the third datagram, at its sl_send_reply step
    at = next(i for i, ev in enumerate(timeline.events) if isinstance(ev, StepEvent) and ev.step == "sl_send_reply"
              and ev.msg == snap_msg_ids(timeline)[2]) + 1
    mid = timeline.snapshot_at(at)
    holder = mid.worker(timeline.events[at - 1].worker)
    assert holder.state == snapmod.RUNNING and holder.msg.summary.startswith("OPTIONS")
    assert holder.msg.status == 200 and "HDR_VIA1_F" in holder.msg.parsed and holder.id not in mid.wait_queue
    # the simulator, with the workers starting in the real sleep order, predicts the real takers
    order = snap.sleep_order()
    live_takers = [order.index(ev.worker) for ev in timeline.events
                   if isinstance(ev, KernelEvent) and ev.kind == "worker_woken"]
    sim = Simulation(load_scenario("fifo-spaced").with_overrides(workers=3, count=6, start_order=(0, 1, 2)))
    sim.run()
    sim_takers = [ev.worker for ev in sim.events if isinstance(ev, KernelEvent) and ev.kind == "worker_woken"]
    assert live_takers == sim_takers == [0, 1, 2, 0, 1, 2]


def snap_msg_ids(timeline: snapmod.Timeline) -> list[int]:
    return [ev.msg for ev in timeline.events if isinstance(ev, KernelEvent) and ev.kind == "worker_woken"]
