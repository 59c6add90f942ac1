"""Overload, drops and the peers: calls through the simulated proxy, retransmissions, reordering."""

from __future__ import annotations

import pytest
from simkit import kinds, scenario, steps, stream, takers

from sipsim.engine.events import KernelEvent
from sipsim.engine.kernel_queue import skb_truesize
from sipsim.engine.scenario import load_scenario
from sipsim.engine.simulation import run_scenario
from sipsim.engine.stepping import Simulation


def test_simultaneous_burst_drops_exactly_what_does_not_fit() -> None:
    # SO_RCVBUF 8192 -> sk_rcvbuf 16384; 500-byte datagrams are charged 1280: 12 fit (real Linux: 12)
    msg = b"X" * 500
    sim = Simulation(scenario(rcvbuf=8192, arrivals=(stream(50, message=msg),)))
    sim.run()
    assert len(kinds(sim.events, "datagram_queued")) == 12
    assert len(kinds(sim.events, "datagram_dropped")) == 38
    assert sim.snapshot.drops == 38 and sim.snapshot.handled == 12


def test_overload_every_drop_is_a_datagram_that_did_not_fit() -> None:
    """Replay the socket's byte accounting from the events alone, independently of the kernel:
    a datagram read is given back (udp_rmem_release) only once the bytes read since the last
    release reach sk_rcvbuf / 4, or the reader has emptied the batch it took from the queue."""
    sc = load_scenario("overload").with_overrides(count=1500)
    sim = Simulation(sc)
    sim.run()
    rcvbuf = sim.runner.rcvbuf
    queue: dict[int, int] = {}  # queued msg -> charge, in arrival order
    held = batch = 0  # bytes read and not released; datagrams left in the reader's batch
    queued = dropped = batched = 0
    for ev in sim.events:
        if not isinstance(ev, KernelEvent):
            continue
        if ev.kind in ("datagram_queued", "datagram_dropped"):
            charge = skb_truesize(ev.detail["len"])
            assert ev.detail["charge"] == charge
            fits = sum(queue.values()) + held + charge <= rcvbuf or not queue
            assert fits == (ev.kind == "datagram_queued"), ev.text
            assert ev.detail["rmem"] == sum(queue.values()) + held + (charge if fits else 0), ev.text
            if fits:
                queue[ev.msg] = charge
                queued += 1
            else:
                dropped += 1
        elif ev.kind in ("worker_woken", "worker_takes"):
            assert next(iter(queue)) == ev.msg  # the head of the queue
            batch = batch or len(queue)
            held += queue.pop(ev.msg)
            batch -= 1
            if held >= rcvbuf >> 2 or not batch:
                batched += held > ev.detail["charge"]
                held = 0
            assert (ev.detail["rmem"], ev.detail["held"]) == (sum(queue.values()) + held, held), ev.text
    assert dropped > 100 and queued > 100 and batched > 10  # releases of several datagrams at once
    snap = sim.snapshot
    assert snap.drops == dropped and snap.arrived == queued + dropped and snap.handled == queued
    r = run_scenario(sc)
    assert r.metrics.drops == dropped and r.metrics.pipeline_drops == 0


def test_reading_gives_the_buffer_back_four_datagrams_at_a_time_as_linux_does() -> None:
    """/tmp/review-sim/out_rmem_release.txt, Linux 6.18: SO_RCVBUF 8192 (sk_rcvbuf 16384), 12
    datagrams of 240 bytes queued (1280 each, 15360): reading 1-3 leaves rmem_alloc at 15360 and
    20 more are all dropped; after 4 reads it is 10240 and 4 get in; after 8, 5120 (8 get in)."""
    from sipsim.engine.events import Datagram
    from sipsim.engine.kernel_queue import SimSocket, Skb, effective_rcvbuf

    def skb(i: int) -> Skb:
        return Skb(Datagram(b"x" * 240, ("192.0.2.1", 5060), ("127.0.0.1", 5060), i), skb_truesize(240))

    linux = {0: (15360, 0), 1: (15360, 0), 2: (15360, 0), 3: (15360, 0), 4: (10240, 4), 5: (10240, 4),
             6: (10240, 4), 7: (10240, 4), 8: (5120, 8)}
    for reads, (rmem, accepted) in linux.items():
        sock = SimSocket(0, effective_rcvbuf(8192))
        assert sum(sock.enqueue(skb(i)) for i in range(40)) == 12 and sock.rmem == 15360
        for _ in range(reads):
            assert sock.dequeue() is not None
        assert sock.rmem == rmem, reads
        assert sock.queued_bytes == (12 - reads) * 1280
        assert sum(sock.enqueue(skb(100 + i)) for i in range(20)) == accepted, reads
    # the reader empties its batch: everything it read is given back, whatever the threshold
    sock = SimSocket(0, effective_rcvbuf(65536))
    for i in range(3):
        sock.enqueue(skb(i))
    sock.dequeue(), sock.dequeue()
    assert (sock.rmem, sock.held) == (3 * 1280, 2 * 1280)
    sock.enqueue(skb(3))  # arrives after the reader took its batch of 3: not in it
    sock.dequeue()
    assert (sock.rmem, sock.held, len(sock.queue)) == (1280, 0, 1)


def test_overload_invite_saved_by_timer_a() -> None:
    r = run_scenario(load_scenario("overload"))
    alice = next(p for p in r.peers if p["name"] == "alice")
    assert r.metrics.drops > 1000
    assert alice["retransmitted"].get("INVITE", 0) >= 1  # the first INVITE was dropped
    assert alice["calls_completed"] == 1


def test_a_simulated_call_completes_through_different_workers() -> None:
    sim = Simulation(load_scenario("basic-call"))
    sim.run()
    firsts = [ev.detail["first_line"].split(" ")[0 if not ev.detail["first_line"].startswith("SIP/") else 1]
              for ev in kinds(sim.events, "datagram_queued")]
    assert firsts == ["REGISTER", "INVITE", "100", "180", "200", "ACK", "BYE", "200"]
    assert len(set(takers(sim.events))) == 4  # every worker had a part in it
    peers = {p.name: p for p in sim.runner.peers}
    assert peers["bob"].stats["registered"] and peers["bob"].stats["acked"] == 1
    assert peers["alice"].stats["calls_completed"] == 1 and peers["alice"].stats["retransmissions"] == 0
    sent = kinds(sim.events, "datagram_sent")
    assert [ev.detail["peer"] for ev in sent] == ["bob", "bob", "alice", "alice", "alice", "bob", "bob", "alice"]
    outcomes = {ev.msg: ev.outcome for ev in steps(sim.events) if ev.outcome}
    assert outcomes == {1: "replied", **{m: "forwarded" for m in range(2, 9)}}


def test_paused_proxy_makes_the_uac_retransmit() -> None:
    sim = Simulation(load_scenario("paused-proxy"))
    sim.run()
    pause = kinds(sim.events, "workers_paused")[0]
    resume = kinds(sim.events, "workers_resumed")[0]
    during = sim.events[sim.events.index(pause) + 1: sim.events.index(resume)]
    assert not steps(during), "no worker runs while stopped"
    retrans = [ev for ev in kinds(during, "datagram_queued") if ev.detail.get("retransmission")]
    assert [ev.detail["timer"] for ev in retrans] == ["A", "A"]  # at T1 and 2*T1 after the INVITE
    invite_times = [sim.times[sim.events.index(ev)] for ev in kinds(during, "datagram_queued")
                    if ev.detail["first_line"].startswith("INVITE")]
    assert [round(t - invite_times[0], 6) for t in invite_times] == [0.0, 0.5, 1.5]
    alice = next(p for p in sim.runner.peers if p.name == "alice")
    assert alice.stats["calls_completed"] == 1
    assert sim.snapshot.handled == len(kinds(sim.events, "datagram_queued"))


def test_slow_worker_reorders_180_and_200() -> None:
    sim = Simulation(load_scenario("reorder"))
    sim.run()
    to_alice = [ev.detail["first_line"] for ev in kinds(sim.events, "datagram_sent") if ev.detail["peer"] == "alice"]
    assert to_alice[:3] == ["SIP/2.0 100 Trying", "SIP/2.0 200 OK", "SIP/2.0 180 Ringing"]
    alice = next(p for p in sim.runner.peers if p.name == "alice")
    assert alice.stats["late_provisionals"] == 1 and alice.stats["calls_completed"] == 1
    fast = run_scenario(load_scenario("reorder").with_overrides(workers=4))
    assert fast.peers[1]["late_provisionals"] == 1  # same scenario, same answer


def test_no_answer_fails_the_call_by_timer_b() -> None:
    sc = load_scenario("basic-call")
    from dataclasses import replace

    from sipsim.engine.scenario import PeerSpec
    alice = PeerSpec("uac", "alice", ("127.0.0.2", 5060), (("call", "nobody-listens"), ("t1", 0.05)))
    r = run_scenario(replace(sc, peers=(alice,)))
    peer = r.peers[0]
    # 404 from the proxy (nobody registered): a final answer, no retransmission
    assert peer["calls_failed"] == 1 and peer["retransmissions"] == 0
    ghost = PeerSpec("uac", "alice", ("127.0.0.2", 5060), (("call", "bob"), ("t1", 0.05)))
    # bob registers a contact where nobody lives any more: the proxy forwards there, nobody answers
    bob = PeerSpec("ua", "bob", ("192.0.2.200", 5060), (("aor", "bob"), ("contact", "192.0.2.201:5060")))
    r = run_scenario(replace(sc, peers=(bob, ghost)))
    peer = r.peers[1]
    assert peer["calls_failed"] == 1 and peer["timeouts"] == 1
    assert peer["retransmitted"]["INVITE"] == 6  # Timer A at T1, 3T1, 7T1 ... 63T1, then Timer B
    invite_at = 0.05  # alice's start
    timeout_at = next(t for t, text in peer["notes"] if "Timer B" in text)
    assert timeout_at == pytest.approx(invite_at + 64 * 0.05)


def test_register_to_a_stopped_proxy_is_retransmitted_by_timer_e_capped_at_t2() -> None:
    from sipsim.engine.scenario import Pause, PeerSpec

    ua = PeerSpec("ua", "carol", ("127.0.0.4", 5060), (("aor", "carol"), ("register_at", 0.01)))
    sim = Simulation(scenario(peers=(ua,), pauses=(Pause(0.005, 12.0),)))
    sim.run()
    times = [sim.times[sim.events.index(ev)] for ev in kinds(sim.events, "datagram_queued")]
    gaps = [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [0.5, 1.0, 2.0, 4.0, 4.0]  # T1 doubling, capped at T2 = 4 s
    carol = sim.runner.peers[0]
    assert carol.stats["registered"] and carol.stats["retransmissions"] == 5
    assert sim.snapshot.replied == 6  # the proxy answers every copy once it runs again


def test_a_flood_from_several_sources_names_each_source_in_its_via() -> None:
    """{src_ip}/{src_port} in an arrival's text: each datagram's Via is where it really comes from
    (no received= for a sender that told the truth)."""
    sc = load_scenario("overload")
    flood = [a for a in sc.iter_arrivals() if dict(a.meta).get("stream") == "flood"][:8]
    assert len({a.src for a in flood}) == 4
    for a in flood:
        via = next(line for line in a.data.split(b"\r\n") if line.startswith(b"Via:"))
        assert via.startswith(f"Via: SIP/2.0/UDP {a.src[0]}:{a.src[1]};".encode()), (a.src, via)
