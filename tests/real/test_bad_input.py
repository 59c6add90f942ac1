"""Bad input over a real socket: the corpus gets the in-memory pipeline's outcome, fuzz kills nobody.

Oracle: ``MemoryDriver`` with the server's configuration (profile ser, relay on, the same listen
address) and a send policy written here, independently, from the documented live rule: only
loopback IPv4 can be reached from an IPv4 socket (127.0.0.0/8 allowed; ``::1`` fails for want of
an IPv6 socket), a name is never resolved. So a corpus request for 192.0.2.x or example.com that
the in-memory pipeline "forwards" is, live, refused (477/478 answer, or a dropped reply) — the test
accounts for it by giving the oracle that same rule, and checks that this is the only difference.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import time

import pytest
from helpers import corpus, with_body
from live_harness import LiveServer, ask_options, wait_all_asleep

from sipsim.engine.config import ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.events import Send
from sipsim.real.observe import Observer, as_event

pytestmark = pytest.mark.network


def live_rule(send: Send) -> str | None:
    """The documented default policy of `sipsim serve` on an IPv4 socket (written independently)."""
    host = send.to[0].strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "unresolvable"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_loopback:
        return "not-allowed"
    return None if ip.version == 4 else "send-failed"


def _live_message(obs: Observer, timeout: float = 3.0) -> tuple[int, list]:
    """Events of the next datagram a worker takes: (worker pid, its step events) until it sleeps again."""
    deadline = time.monotonic() + timeout
    worker, steps = None, []
    while time.monotonic() < deadline:
        ev = obs.next(timeout=0.1)
        if ev is None:
            continue
        if worker is None:
            if ev.get("kind") == "worker_woken":
                worker = ev["worker"]
            continue
        if ev.get("worker") != worker:
            continue
        if ev["type"] == "step":
            steps.append(as_event(ev))
        elif ev.get("kind") == "worker_sleeps":
            return worker, steps
    raise AssertionError("the server did not finish the datagram in time")


def _mutate(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1) if data else 0
        if op == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:  # insert noise
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:  # truncate
            del data[pos:]
        elif op == 3:  # delete a span
            del data[pos:pos + rng.randint(1, 40)]
        elif op == 4:  # CRLF -> LF, or a fold
            data = bytearray(bytes(data).replace(b"\r\n", rng.choice([b"\n", b"\r\n ", b"\r"]), rng.randint(1, 3)))
        elif op == 5:  # duplicate a line
            lines = bytes(data).split(b"\r\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            data = bytearray(b"\r\n".join(lines))
        else:  # a separator or digit where a token was
            data[pos:pos] = rng.choice([b":", b";", b"<", b">", b"@", b"\x00", b"99999999999", b"%", b"\"", b" "])
    return bytes(data)


def _fuzz_datagrams(n: int, seed: int = 4475) -> list[bytes]:
    rng = random.Random(seed)
    bases = [with_body(e) for e in corpus()]
    out = []
    for i in range(n):
        if i % 10 == 0:  # one in ten: pure noise of any size up to 2 KB (some below MIN_UDP_PACKET)
            out.append(bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 4, 31, 32, 200, 2000]))))
        else:
            out.append(_mutate(rng, rng.choice(bases)))
    return out


def test_corpus_and_fuzz_over_udp(tmp_path, isolated_network):
    entries = corpus()
    obs = Observer(str(tmp_path / "obs.sock"))
    with LiveServer(tmp_path, workers=4, observe=obs.path, args=["--relay"]) as srv:
        pids = srv.worker_pids()
        wait_all_asleep(pids)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        src = ("127.0.0.1", client.getsockname()[1])
        oracle = MemoryDriver(ServerConfig(listen=("127.0.0.1", srv.port), relay=True), send_policy=live_rule)
        unconstrained = MemoryDriver(ServerConfig(listen=("127.0.0.1", srv.port), relay=True))
        mismatches, refused = [], 0
        for entry in entries:
            data = with_body(entry)
            client.sendto(data, ("127.0.0.1", srv.port))
            worker, steps = _live_message(obs)
            want = oracle.feed(data, src)
            free = unconstrained.feed(data, src)
            final = next((s for s in reversed(steps) if s.outcome), None)
            live = (final.outcome if final else "dropped", final.status if final and final.outcome == "replied"
                    else None)
            expected = (want.outcome, want.status if want.outcome == "replied" else None)
            if live != expected or [s.step for s in steps] != want.steps():
                mismatches.append((entry.id, live, expected))
            if any(live_rule(s) for s in free.sent):
                refused += 1  # the policy changed the story for this one: accounted for by the oracle
            else:
                assert (free.outcome, free.status) == (want.outcome, want.status), entry.id
        assert not mismatches, mismatches
        assert refused > 0, "the corpus names foreign hosts; some sends must have been refused"
        obs.close()  # the fuzz runs without an observer

        # 10,000 mutated and random datagrams, in bursts the server keeps up with
        datagrams = _fuzz_datagrams(10_000)
        before = srv.stats()["rcv_datagrams"]
        sent = 0
        for start in range(0, len(datagrams), 100):
            for d in datagrams[start:start + 100]:
                client.sendto(d, ("127.0.0.1", srv.port))
                sent += 1
            deadline = time.monotonic() + 10
            while srv.stats()["rcv_datagrams"] - before < sent:
                assert time.monotonic() < deadline, "the server stopped taking datagrams"
                time.sleep(0.005)
        client.close()
        stats = srv.query("stats")
        assert stats["socket"]["drops"] == 0, "paced: the kernel never had to drop one"
        assert srv.worker_pids() == pids, "no worker ever exited"
        assert stats["sipsim"]["internal_errors"] == 0
        assert ask_options(srv.port) == "SIP/2.0 200 OK"
        log = srv.log_text()
    assert "Traceback" not in log
    assert "internal error" not in log, [ln for ln in log.splitlines() if "internal error" in ln][:5]
    assert "respawned" not in log
