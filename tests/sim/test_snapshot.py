"""The pure fold: it mirrors the simulated kernel exactly, and it reads live workers' streams."""

from __future__ import annotations

import pytest
from simkit import kinds

from sipsim.engine import snapshot as snapmod
from sipsim.engine.events import DATAGRAM_DROPPED, KernelEvent, StepEvent
from sipsim.engine.scenario import load_scenario
from sipsim.engine.stepping import Simulation


@pytest.mark.parametrize("name", ["burst", "herd", "reorder"])
def test_fold_mirrors_the_kernel_state_at_every_event(name: str) -> None:
    sim = Simulation(load_scenario(name))
    sim.run()
    snap = snapmod.initial(policy=sim.scenario.policy, rcvbuf=sim.runner.rcvbuf)
    seen = set()
    for ev, t in zip(sim.events, sim.times, strict=True):
        snap = snapmod.fold(snap, ev, t)
        if isinstance(ev, KernelEvent) and ev.kind == "worker_sleeps":
            assert snap.wait_queue == ev.detail["wait_queue"]
            seen.add("sleeps")
        if isinstance(ev, KernelEvent) and ev.kind == "datagram_queued":
            assert (snap.queued, snap.queued_bytes) == (ev.detail["queued"], ev.detail["rmem"])
            seen.add("queued")
        for w in snap.workers:  # a worker is on the wait-queue exactly when it sleeps
            assert (w.id in snap.wait_queue) == (w.state == snapmod.SLEEPING)
    assert seen == {"sleeps", "queued"}
    assert snap == sim.snapshot
    assert snap.queued == 0 and all(w.state == snapmod.SLEEPING for w in snap.workers)


def test_worker_and_message_views_through_one_datagram() -> None:
    sim = Simulation(load_scenario("basic-call"))
    sim.run_until(lambda s: getattr(s.event, "kind", "") == "worker_wakeup")
    s = sim.snapshot
    w = s.worker(s.event.worker)
    assert w.state == snapmod.WOKEN and w.id not in s.wait_queue and s.queued == 1
    s = sim.step()
    w = s.worker(w.id)
    assert s.event.kind == "worker_woken" and w.state == snapmod.RECEIVED and s.queued == 0
    assert w.msg.summary.startswith("REGISTER") and w.msg.slept
    s = sim.run_until(lambda s: isinstance(s.event, StepEvent) and s.event.step == "parse_msg")
    m = s.worker(w.id).msg
    assert s.worker(w.id).state_text == "running parse_msg"
    assert "HDR_VIA1_F" in m.parsed and m.unparsed and m.steps[:3] == ("recvfrom", "udp_rcv_loop", "receive_msg")
    s = sim.run_until(lambda s: getattr(s.event, "kind", "") == "datagram_sent")
    m = s.worker(w.id).msg
    assert m.outcome == "replied" and m.status == 200 and m.sent_to == ("127.0.0.3:5060",) and m.out_bytes
    s = sim.run_until(lambda s: getattr(s.event, "kind", "") == "worker_sleeps")
    assert s.worker(w.id).msg is None and s.wait_queue[-1] == w.id and s.handled == 1
    sim.run_until(lambda s: isinstance(s.event, StepEvent) and s.event.step == "forward_request")
    m = sim.snapshot.worker(sim.snapshot.event.worker).msg
    assert m.summary.startswith("INVITE") and m.lumps and m.new_uri == "sip:bob@127.0.0.3:5060"


def test_live_stream_with_pids_builds_the_same_kind_of_snapshot() -> None:
    """What real workers report: enters/leaves recvfrom, steps, sends — no socket queue events."""
    a, b = 41001, 41002
    events = [
        KernelEvent("worker_started", 1.0, a), KernelEvent("worker_started", 1.0, b),
        KernelEvent("worker_sleeps", 1.1, b, None, "enters recvfrom"),
        KernelEvent("worker_sleeps", 1.2, a, None, "enters recvfrom"),
        KernelEvent("worker_woken", 2.0, b, 7, "recvfrom returned", {"src": "127.0.0.1:5070", "len": 300,
                                                                       "first_line": "OPTIONS sip:127.0.0.1 SIP/2.0"}),
        StepEvent("recvfrom", b, 7, "recvfrom returns 300 bytes", detail={"src": "127.0.0.1:5070", "len": 300}),
        StepEvent("parse_msg", b, 7, "first line", parsed=("HDR_VIA1_F",), unparsed=120,
                  detail={"first_line": "OPTIONS sip:127.0.0.1"}),
        StepEvent("sl_send_reply", b, 7, "answers 200", outcome="replied", status=200, reason="OK",
                  detail={"to": "127.0.0.1:5070", "bytes": 280}),
        KernelEvent("datagram_sent", 2.001, b, 7, "sendto", {"to": "127.0.0.1:5070", "kind": "reply", "len": 280,
                                                             "first_line": "SIP/2.0 200 OK"}),
    ]
    snap = snapmod.fold_all(snapmod.initial(), events, [1.0, 1.0, 1.1, 1.2, 2.0, 2.0, 2.0005, 2.001, 2.001])
    assert snap.sleep_order() == (b, a) and snap.wait_queue == (a,)
    wb = snap.worker(b)
    assert wb.state == snapmod.RUNNING and wb.step == "sl_send_reply" and wb.handled == 1
    assert wb.msg.summary == "OPTIONS sip:127.0.0.1" and wb.msg.parsed == ("HDR_VIA1_F",) and wb.msg.unparsed == 120
    assert wb.msg.sent_to == ("127.0.0.1:5070",) and snap.replied == 1 and snap.queued == 0
    snap = snapmod.fold(snap, KernelEvent("worker_sleeps", 2.002, b, None, "enters recvfrom"))
    assert snap.wait_queue == (a, b) and snap.worker(b).busy == pytest.approx(0.002) and snap.pipeline_drops == 0
    snap = snapmod.fold(snap, KernelEvent("worker_woken", 3.0, a, 8, "", {"first_line": "garbage"}))
    snap = snapmod.fold(snap, StepEvent("parse_msg", a, 8, "bad", outcome="dropped", reason="parse error"), 3.0)
    snap = snapmod.fold(snap, KernelEvent("worker_sleeps", 3.1, a))
    snap = snapmod.fold(snap, KernelEvent(DATAGRAM_DROPPED, 3.2, None, None, "kernel dropped 3", {"count": 3}))
    assert snap.pipeline_drops == 1 and snap.drops == 3 and snap.handled == 2 and snap.step == len(events) + 5


def test_pause_window_in_snapshots() -> None:
    sim = Simulation(load_scenario("paused-proxy"))
    sim.run_until(lambda s: getattr(s.event, "kind", "") == "workers_paused")
    s = sim.snapshot
    assert s.paused and s.wait_queue == () and all(w.paused for w in s.workers)
    s = sim.run_until(lambda s: getattr(s.event, "kind", "") == "workers_resumed")
    assert not s.paused and s.queued >= 3  # INVITE and its two retransmissions waited in the queue
    assert len(kinds(sim.events[: sim.position], "datagram_queued")) - s.handled == s.queued


def test_each_reuseport_socket_is_read_by_the_worker_that_bound_it() -> None:
    sim = Simulation(load_scenario("reuseport").with_overrides(count=40, start_order=(2, 0, 3, 1)))
    sim.run()
    snap = sim.snapshot
    owners = [s.owner for s in snap.sockets]
    assert owners == [2, 0, 3, 1]  # bound in start order: socket k belongs to the k-th worker started
    for ev in kinds(sim.events, "worker_sleeps") + kinds(sim.events, "worker_woken"):
        assert owners[ev.detail["socket"]] == ev.worker
    shared = Simulation(load_scenario("fifo-spaced"))
    shared.run()
    assert [s.owner for s in shared.snapshot.sockets] == [None]  # one socket, read by every worker
