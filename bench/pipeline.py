"""Benchmark: messages per second through the engine, against a naive forwarder measured in the same run.

    python bench/pipeline.py [--seconds S]

Prints messages/s for
  1. ``parse_msg`` alone on the RFC 3261 §24 INVITE (F1, with its SDP);
  2. ``receive_msg`` + forward of that INVITE through the whole pipeline, both profiles, with
     (a) a route that only calls forward() — the same job as the naive forwarder — with every
         step narrated (as the simulator and the TUI run it) and without (as live mode runs
         when no observer watches: only the deciding steps become events), and
     (b) the default route, default.cfg (Max-Forwards, the RFC/sanity checks, uri==myself, forward);
  3. a naive forwarder doing the same job without structure: split the headers on CRLF, find the top
     Via, MD5 a branch, splice a Via line in;
  4. a floor: the leanest structured forwarder CPython allows (``lean_forwarder.py``: every header read
     once, top Via/To/From/CSeq parsed, the RFC 3261 §16.11 key-field branch, ``received=``; no lazy
     parsing, no checks, no steps) — a lower bound for any structured pipeline in this interpreter;
and the ratios pipeline/naive (time per message). Goal for 2a: <= 3x.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lean_forwarder import lean_forward  # noqa: E402

from sipsim.demo import rfc3261_message  # noqa: E402
from sipsim.engine.config import Profile, ServerConfig  # noqa: E402
from sipsim.engine.context import WorkerContext  # noqa: E402
from sipsim.engine.events import Datagram, Recv, Send, StepEvent  # noqa: E402
from sipsim.engine.forward import forward_request  # noqa: E402
from sipsim.engine.parser.msg import ReceiveInfo, SipMsg  # noqa: E402
from sipsim.engine.parser.msg_parser import parse_msg  # noqa: E402
from sipsim.engine.udp_server import udp_rcv_loop  # noqa: E402

SRC = ("192.0.2.1", 5060)


class ForwardOnly:
    """A route that only forwards: ``request_route { forward(); }``."""

    name = "forward-only"

    def has_onreply_route(self) -> bool:
        return False

    def request_route(self, ctx, msg):  # noqa: ANN001, ANN201
        return (yield from forward_request(ctx, msg))

    def onreply_route(self, ctx, msg):  # noqa: ANN001, ANN201
        return 1
        yield


def naive_forward(data: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    i = next((k for k, line in enumerate(lines) if line[:4].lower() == b"via:" or line[:2].lower() == b"v:"), -1)
    if i < 0:
        return data
    branch = "z9hG4bK" + hashlib.md5(lines[i] + lines[0]).hexdigest()
    lines.insert(i, b"Via: SIP/2.0/UDP 127.0.0.1;branch=" + branch.encode())
    return b"\r\n".join(lines) + sep + body


def rate(fn, seconds: float) -> float:  # noqa: ANN001
    n, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(200):
            fn()
        n += 200
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


def pipeline_runner(profile: Profile, router: object | None, data: bytes, tracing: bool = True):  # noqa: ANN201
    ctx = WorkerContext(config=ServerConfig(profile=profile), router=router)  # type: ignore[arg-type]
    ctx.tracing = tracing
    gen = udp_rcv_loop(ctx)
    next(gen)
    dgram = Datagram(data, SRC, ("127.0.0.1", 5060), 1, 0.0)
    sent = []

    def one() -> None:
        item = gen.send(dgram)
        while not isinstance(item, Recv):
            if isinstance(item, Send):
                sent.append(item)
            elif not isinstance(item, StepEvent):
                raise AssertionError(item)
            item = gen.send(None)
        if len(sent) > 1000:
            sent.clear()

    one()
    assert sent and sent[-1].kind == "request", "the INVITE was not forwarded"
    return one


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.5, help="time per measurement (1.5)")
    args = ap.parse_args()
    data = rfc3261_message("s24_2_F1_INVITE.dat")

    def parse_only() -> None:
        parse_msg(SipMsg(data, ReceiveInfo(SRC, ("127.0.0.1", 5060))))

    lean = lean_forward(data)  # the floor must do the job too: our Via on top, received= on the sender's
    assert lean.split(b"\r\n")[1].startswith(b"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK"), lean[:200]
    assert b"received=192.0.2.1" in lean and lean_forward(data) == lean, "branch not deterministic"
    results: dict[str, float] = {}
    results["naive forwarder"] = rate(lambda: naive_forward(data), args.seconds)
    results["floor: lean structured forwarder"] = rate(lambda: lean_forward(data), args.seconds)
    results["parse_msg alone"] = rate(parse_only, args.seconds)
    for profile in (Profile.SER, Profile.KAMAILIO):
        results[f"receive_msg+forward ({profile.value}, forward-only route)"] = rate(
            pipeline_runner(profile, ForwardOnly(), data), args.seconds)
        results[f"receive_msg+forward ({profile.value}, forward-only, no narration)"] = rate(
            pipeline_runner(profile, ForwardOnly(), data, tracing=False), args.seconds)
        results[f"receive_msg+forward ({profile.value}, default route)"] = rate(
            pipeline_runner(profile, None, data), args.seconds)
    naive = results["naive forwarder"]
    print(f"{'measurement':<58} {'msg/s':>10} {'us/msg':>8} {'x naive':>8}")
    for name, r in results.items():
        print(f"{name:<58} {r:>10,.0f} {1e6 / r:>8.1f} {naive / r:>8.2f}")
    worst = max(naive / r for n, r in results.items() if "forward-only" in n)
    floor = naive / results["floor: lean structured forwarder"]
    print(f"\npipeline/naive (forward-only route, worst profile): {worst:.2f}x  (goal <= 3x)")
    print(f"floor/naive: {floor:.2f}x  (the leanest structured forwarder we could write for this interpreter)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
