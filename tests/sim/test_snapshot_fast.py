"""The fold's fast replace (snapshot_replace.py) builds exactly the snapshots ``dataclasses.replace`` built.

The reference is the same fold with its per-class replacers swapped back for ``dataclasses.replace``;
both fold real event streams (every shipped scenario, a replayed capture, a live worker stream) and
every snapshot along the way must be equal, field by field, and print the same."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sipsim.cli import build_parser
from sipsim.cli.tui import replay_scenario
from sipsim.engine import snapshot as snapmod
from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.engine.scenario import load_scenario
from sipsim.engine.snapshot_replace import replacer
from sipsim.engine.stepping import Simulation
from sipsim.packets import PcapWriter

REPLACERS = ("_replace_snapshot", "_replace_worker", "_replace_socket", "_replace_message")
VIEWS = (snapmod.Snapshot, snapmod.WorkerView, snapmod.SocketView, snapmod.MessageView, snapmod.QueuedDatagram)


@contextmanager
def reference_fold() -> Iterator[None]:
    """The fold as it was: every copy made by ``dataclasses.replace``."""
    saved = {name: getattr(snapmod, name) for name in REPLACERS}
    try:
        for name in REPLACERS:
            setattr(snapmod, name, dataclasses.replace)
        yield
    finally:
        for name, fn in saved.items():
            setattr(snapmod, name, fn)


def fold_each(start: snapmod.Snapshot, events: list, times: list) -> list[snapmod.Snapshot]:
    out, snap = [], start
    for ev, t in zip(events, times, strict=True):
        snap = snapmod.fold(snap, ev, t)
        out.append(snap)
    return out


def assert_same_snapshots(start: snapmod.Snapshot, events: list, times: list) -> None:
    fast = fold_each(start, events, times)
    with reference_fold():
        ref = fold_each(start, events, times)
    assert len(fast) == len(ref) == len(events)
    for n, (a, b) in enumerate(zip(fast, ref, strict=True)):
        assert a == b, f"snapshot {n + 1} differs"
        if n % 50 == 0 or n == len(fast) - 1:  # (printing them all would cost seconds on long streams)
            assert repr(a) == repr(b), f"snapshot {n + 1} prints differently"


def sim_stream(sim: Simulation) -> tuple[snapmod.Snapshot, list, list]:
    sim.run()
    return sim.timeline.snapshot_at(0), list(sim.events), list(sim.times)


def kinds_of(events: list) -> set[str]:
    return {ev.kind for ev in events if isinstance(ev, KernelEvent)}


SHIPPED = ["bad-input", "basic-call", "burst", "fifo-spaced", "herd", "paused-proxy", "reorder", "reuseport"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_snapshot_of_a_shipped_scenario_is_the_reference_one(name: str) -> None:
    scenario = load_scenario(name)
    if name == "reuseport":  # (four sockets; its full run is long)
        scenario = scenario.with_overrides(count=300)
    start, events, times = sim_stream(Simulation(scenario))
    assert any(type(ev) is StepEvent for ev in events) and kinds_of(events)
    assert_same_snapshots(start, events, times)


def test_overload_folds_to_the_reference_snapshots() -> None:
    """The drops, a long socket queue and wasted wake-ups (overload is long: its first part)."""
    sim = Simulation(load_scenario("overload"))
    sim.goto(5_000)
    events, times = list(sim.events[:5_000]), list(sim.times[:5_000])
    assert {"datagram_dropped", "datagram_queued", "worker_woken"} <= kinds_of(events)
    assert_same_snapshots(sim.timeline.snapshot_at(0), events, times)


def test_the_shipped_streams_reach_every_kind_the_fold_handles() -> None:
    """So the equivalence above covers each handler of the fold, not only the common ones."""
    seen: set[str] = set()
    for name in SHIPPED:
        sim = Simulation(load_scenario(name))
        sim.run()
        seen |= kinds_of(sim.events)
    sim = Simulation(load_scenario("overload"))
    sim.goto(5_000)
    seen |= kinds_of(sim.events)
    assert set(snapmod._KERNEL) - seen <= {"worker_exited"}, set(snapmod._KERNEL) - seen


PROXY = ("192.0.2.10", 5060)


def request(method: str, n: int, src: tuple[str, int]) -> bytes:
    user = f"u{n % 5}"
    contact = f"Contact: <sip:{user}@{src[0]}:{src[1]}>\r\n" if method == "REGISTER" else ""
    ruri = f"sip:{PROXY[0]}" if method == "REGISTER" else f"sip:u{(n * 3) % 5}@{PROXY[0]}"
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK-f{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:{user}@{PROXY[0]}>;tag=f{n}\r\nTo: <sip:{user}@{PROXY[0]}>\r\n"
            f"Call-ID: fast-{n}@{src[0]}\r\nCSeq: 1 {method}\r\n{contact}Content-Length: 0\r\n\r\n").encode()


def test_a_replayed_capture_folds_to_the_reference_snapshots(tmp_path: Path) -> None:
    """REGISTERs then INVITEs and OPTIONS from five phones, some of them close together."""
    pcap = tmp_path / "phones.pcap"
    with PcapWriter(str(pcap), epoch=1_790_000_000.0) as w:
        for n in range(40):
            method = "REGISTER" if n < 10 else ("INVITE", "OPTIONS")[n % 2]
            phone = (f"192.0.2.{20 + n % 5}", 5060)
            w.write(n * 0.0004, phone, PROXY, request(method, n, phone))
    args: argparse.Namespace = build_parser().parse_args(["tui", "--pcap", str(pcap)])
    start, events, times = sim_stream(Simulation(replay_scenario(args)))
    assert sum(1 for ev in events if isinstance(ev, KernelEvent) and ev.kind == "datagram_queued") == 40
    assert_same_snapshots(start, events, times)


def test_a_live_worker_stream_folds_to_the_reference_snapshots() -> None:
    """Real workers' reports (pids, no socket queue, vruntime absent), with an exit."""
    a, b = 41001, 41002
    events = [
        KernelEvent("worker_started", 1.0, a), KernelEvent("worker_started", 1.0, b),
        KernelEvent("worker_sleeps", 1.1, b), KernelEvent("worker_sleeps", 1.2, a),
        KernelEvent("worker_woken", 2.0, b, 7, "", {"src": "127.0.0.1:5070", "len": 300, "first_line": "OPTIONS x"}),
        StepEvent("recvfrom", b, 7, "recvfrom", detail={"src": "127.0.0.1:5070", "len": 300}),
        StepEvent("parse_msg", b, 7, "parse", parsed=("HDR_VIA1_F",), unparsed=120),
        StepEvent("sl_send_reply", b, 7, "200", outcome="replied", status=200, reason="OK", detail={"bytes": 280}),
        KernelEvent("datagram_sent", 2.001, b, 7, "", {"to": "127.0.0.1:5070", "kind": "reply", "len": 280}),
        KernelEvent("worker_sleeps", 2.002, b),
        KernelEvent("worker_woken", 3.0, a, 8, "", {"first_line": "garbage"}),
        StepEvent("parse_msg", a, 8, "bad", outcome="dropped", reason="parse error"),
        KernelEvent("worker_exited", 3.1, a),
        KernelEvent("datagram_dropped", 3.2, None, None, "", {"count": 3}),
    ]
    times = [getattr(ev, "time", 3.0) for ev in events]
    assert_same_snapshots(snapmod.initial(policy="linux"), events, times)


@pytest.mark.parametrize("cls", VIEWS)
def test_replacer_is_dataclasses_replace(cls: type) -> None:
    """Every field changed, one at a time and all at once; unknown names refused the same way."""
    fields = dataclasses.fields(cls)
    obj = cls(**{f.name: 1 for f in fields if f.default is dataclasses.MISSING})
    fast = replacer(cls)
    assert fast(obj) == dataclasses.replace(obj) and fast(obj) is not obj
    for f in fields:
        a, b = fast(obj, **{f.name: "changed"}), dataclasses.replace(obj, **{f.name: "changed"})
        assert type(a) is cls and a == b and repr(a) == repr(b) and hash(a) == hash(b)
    every = {f.name: (f.name, 2) for f in fields}
    assert fast(obj, **every) == dataclasses.replace(obj, **every)
    with pytest.raises(TypeError):
        dataclasses.replace(obj, no_such_field=1)
    with pytest.raises(TypeError):
        fast(obj, no_such_field=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast(obj), fields[0].name, 5)


def test_replacer_refuses_classes_it_would_copy_differently() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int = 0

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int = 0

    @dataclasses.dataclass(frozen=True, slots=True)
    class PostInit:
        a: int = 0

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived:
        a: int = 0
        b: int = dataclasses.field(default=0, init=False)

    for cls in (NoSlots, NotFrozen, PostInit, Derived):
        with pytest.raises(TypeError):
            replacer(cls)
