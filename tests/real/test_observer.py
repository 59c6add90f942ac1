"""The observer channel of live workers: the events, live-step control, and an observer that vanishes."""

from __future__ import annotations

import time

import pytest
from live_harness import LiveServer, options_request, recv_answer, udp_client, wait_all_asleep

from sipsim.engine.config import ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.real.observe import Observer, as_event

pytestmark = pytest.mark.network


def _until(obs: Observer, pred, timeout: float = 3.0) -> list[dict]:
    """Read events until one satisfies pred; return everything read (the last one matches)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = obs.next(timeout=0.1)
        if ev is None:
            continue
        got.append(ev)
        if pred(ev):
            return got
    raise AssertionError(f"no matching event within {timeout} s; got {[e.get('kind') or e['type'] for e in got]}")


def test_events_are_the_pipeline_steps_of_the_real_worker(tmp_path, isolated_network):
    with Observer(str(tmp_path / "obs.sock")) as obs, LiveServer(tmp_path, workers=2, observe=obs.path) as srv:
        pids = srv.worker_pids()
        wait_all_asleep(pids)
        seen: set[int] = set()
        _until(obs, lambda e: e["type"] == "hello" and e.get("role") == "worker" and seen.add(e["worker"]) is None
               and seen == set(pids))
        c = udp_client()
        data = options_request(srv.port, c.getsockname()[1])
        c.sendto(data, ("127.0.0.1", srv.port))
        assert recv_answer(c, 2.0).startswith(b"SIP/2.0 200 OK")
        woken = _until(obs, lambda e: e.get("kind") == "worker_woken")[-1]
        taker, mid = woken["worker"], woken["msg"]
        assert taker in pids and mid // 10**9 == taker
        assert woken["detail"]["src"] == f"127.0.0.1:{c.getsockname()[1]}"
        assert woken["detail"]["first_line"] == f"OPTIONS sip:127.0.0.1:{srv.port} SIP/2.0"
        rest = _until(obs, lambda e: e.get("kind") == "worker_sleeps" and e["worker"] == taker)
        steps = [as_event(e) for e in rest if e["type"] == "step"]
        sent = [e for e in rest if e.get("kind") == "datagram_sent"]
        c.close()
    assert all(s.worker == taker and s.msg == mid for s in steps)
    # the very same pipeline as the in-memory driver, step for step
    oracle = MemoryDriver(ServerConfig(listen=("127.0.0.1", srv.port), relay=False))
    expected = oracle.feed(data, woken_src(woken))
    assert [s.step for s in steps] == expected.steps()
    assert steps[-1].step == "free_sip_msg"
    assert [e["detail"]["first_line"] for e in sent] == ["SIP/2.0 200 OK"]
    assert sent[0]["detail"]["to"] == woken["detail"]["src"] and sent[0]["msg"] == mid


def woken_src(woken: dict) -> tuple[str, int]:
    host, port = woken["detail"]["src"].rsplit(":", 1)
    return host, int(port)


def test_step_control_holds_a_worker_while_another_takes_the_next_datagram(tmp_path, isolated_network):
    with Observer(str(tmp_path / "obs.sock")) as obs, \
            LiveServer(tmp_path, workers=2, observe=obs.path, args=["--step-control"]) as srv:
        pids = srv.worker_pids()
        wait_all_asleep(pids)
        a, b = udp_client(), udp_client()
        a.sendto(options_request(srv.port, a.getsockname()[1], callid="a"), ("127.0.0.1", srv.port))
        ready_a = _until(obs, lambda e: e["type"] == "ready")[-1]
        assert ready_a["step"] == "recvfrom"  # took the datagram, waits before the next step
        b.sendto(options_request(srv.port, b.getsockname()[1], callid="b"), ("127.0.0.1", srv.port))
        ready_b = _until(obs, lambda e: e["type"] == "ready")[-1]
        assert {ready_a["worker"], ready_b["worker"]} == set(pids), "the second worker took the second datagram"
        assert recv_answer(a, 0.3) is None and recv_answer(b, 0.01) is None, "both are held: nothing answered yet"
        steps_a = 0
        wa = ready_a["worker"]
        # step worker A alone to the end of its message; B stays held
        while ready_a["type"] == "ready":
            assert obs.go(wa, ready_a["seq"])
            steps_a += 1
            ready_a = _until(obs, lambda e: e.get("worker") == wa and (e["type"] == "ready"
                                                                       or e.get("kind") == "worker_sleeps"))[-1]
            assert steps_a < 80  # a bound, not a figure: one OPTIONS is some 40 steps
        r = recv_answer(a, 1.0)
        assert (r or b"").startswith(b"SIP/2.0 200 OK")
        assert recv_answer(b, 0.2) is None and ready_b["worker"] in obs.waiting
        # let B run freely: `run` releases it without further go-aheads
        obs.set_stepping(False, [ready_b["worker"]])
        assert (recv_answer(b, 2.0) or b"").startswith(b"SIP/2.0 200 OK")
        a.close()
        b.close()
        assert steps_a >= 8


def test_a_vanishing_observer_releases_paused_workers(tmp_path, isolated_network):
    obs = Observer(str(tmp_path / "obs.sock"))
    with LiveServer(tmp_path, workers=2, observe=obs.path, args=["--step-control"]) as srv:
        wait_all_asleep(srv.worker_pids())
        c = udp_client()
        c.sendto(options_request(srv.port, c.getsockname()[1]), ("127.0.0.1", srv.port))
        _until(obs, lambda e: e["type"] == "ready")
        assert recv_answer(c, 0.3) is None
        obs.close()  # the observer goes away without a word
        t0 = time.monotonic()
        reply = recv_answer(c, 3.0)
        assert reply is not None and reply.startswith(b"SIP/2.0 200 OK")
        assert time.monotonic() - t0 < 2.5
        # the server keeps serving without an observer
        c.sendto(options_request(srv.port, c.getsockname()[1], cseq=2), ("127.0.0.1", srv.port))
        assert (recv_answer(c, 1.0) or b"").startswith(b"SIP/2.0 200 OK")
        # a new observer at the same path: the attendant introduces every worker, idle ones included
        with Observer(obs.path) as late:
            hello = _until(late, lambda e: e["type"] == "hello" and e.get("role") == "attendant", 3.0)[-1]
            assert sorted(w["pid"] for w in hello["workers"]) == sorted(srv.worker_pids())
            time.sleep(1.1)  # a worker that found no observer looks again after a second (OBSERVER.md)
            c.sendto(options_request(srv.port, c.getsockname()[1], cseq=3), ("127.0.0.1", srv.port))
            ready = _until(late, lambda e: e["type"] == "ready", 3.0)[-1]  # step control is back on
            assert late.set_stepping(False) == 2
            assert (recv_answer(c, 2.0) or b"").startswith(b"SIP/2.0 200 OK")
            assert ready["worker"] in late.workers
        c.close()
