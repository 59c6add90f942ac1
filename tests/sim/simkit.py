"""Helpers for the simulator tests: small scenarios built in code, and event-stream readers."""

from __future__ import annotations

from dataclasses import replace

from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.engine.scenario import ArrivalSpec, Scenario, normalise_text

OPTIONS = """OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t-{n};rport
Max-Forwards: 70
From: <sip:test@192.0.2.10>;tag=t{n}
To: <sip:127.0.0.1>
Call-ID: t-{n}@192.0.2.10
CSeq: {n} OPTIONS
Content-Length: 0

"""


def options(n: int = 1) -> bytes:
    return normalise_text(OPTIONS.replace("{n}", str(n)))


def stream(count: int, *, spacing: float = 0.0, time: float = 0.01, src: tuple = (("192.0.2.10", 5060),),
           message: bytes | None = None) -> ArrivalSpec:
    msg = message if message is not None else normalise_text(OPTIONS)
    return ArrivalSpec(messages=(msg,), src=tuple(src), time=time, count=count, spacing=spacing)


def scenario(**kw: object) -> Scenario:
    base = Scenario(name="test", workers=4, seed=1)
    return replace(base, **kw)


def first_sleep_order(events: list) -> list[int]:
    order: list[int] = []
    for ev in events:
        if isinstance(ev, KernelEvent) and ev.kind == "worker_sleeps" and ev.worker not in order:
            order.append(ev.worker)
    return order


def takers(events: list) -> list[int]:
    """The worker that took each datagram, in arrival (id) order."""
    got = {ev.msg: ev.worker for ev in events
           if isinstance(ev, KernelEvent) and ev.kind in ("worker_woken", "worker_takes")}
    return [got[m] for m in sorted(got)]


def kinds(events: list, kind: str) -> list[KernelEvent]:
    return [ev for ev in events if isinstance(ev, KernelEvent) and ev.kind == kind]


def steps(events: list) -> list[StepEvent]:
    return [ev for ev in events if isinstance(ev, StepEvent)]
