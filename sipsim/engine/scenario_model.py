"""The Scenario model: what the simulated server is, who talks to it, and what arrives when.

Plain frozen dataclasses, built by ``scenario_load.py`` from a TOML file (the format is described
in ``scenario.py``, where every name here can also be imported from) or by code (tests, benchmarks,
``simulate --pcap``). A ``Scenario`` knows how to check itself (:meth:`Scenario.validate`), how the
command line's options apply over it (:meth:`Scenario.with_overrides`) and how its arrival streams
expand into datagrams (:meth:`Scenario.iter_arrivals`); it does no I/O.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.events import Addr
from sipsim.engine.kernel_queue import POLICIES, RMEM_MAX
from sipsim.engine.scenario_check import INT_MAX, ScenarioError, check_datagram_size

__all__ = ["DEFAULT_SRC", "Arrival", "ArrivalSpec", "Pause", "PeerSpec", "ProxySpec", "Scenario"]

DEFAULT_SRC: Addr = ("192.0.2.10", 5060)


@dataclass(frozen=True)
class ProxySpec:
    listen: Addr = ("127.0.0.1", 5060)
    advertise: str | None = None
    aliases: tuple[str, ...] = ()
    relay: bool = True
    route: str | None = None
    check_via: bool = False
    add_local_rport: bool = False


@dataclass(frozen=True)
class PeerSpec:
    type: str
    name: str
    address: Addr
    options: tuple[tuple[str, Any], ...] = ()  # validated by peers.make_peer


@dataclass(frozen=True)
class ArrivalSpec:
    messages: tuple[bytes, ...]
    src: tuple[Addr, ...] = (DEFAULT_SRC,)
    time: float = 0.02
    count: int | None = None  # None: one per message
    spacing: float = 0.0
    rate: float | None = None
    poisson: bool = False
    label: str = ""
    # a scenario's own messages are templates ({n}, {src_ip}, {src_port} filled in per datagram);
    # a captured datagram is replayed byte for byte, whatever braces it holds
    template: bool = True

    @property
    def total(self) -> int:
        return self.count if self.count is not None else len(self.messages)


@dataclass(frozen=True)
class Pause:
    start: float
    end: float
    workers: tuple[int, ...] | None = None  # None: all


@dataclass(frozen=True)
class Arrival:
    """One datagram that arrives at the proxy at ``time`` (expanded from the scenario)."""

    time: float
    data: bytes
    src: Addr
    meta: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str = "scenario"
    description: str = ""
    workers: int = 4
    profile: str = "ser"
    policy: str = "fifo"
    rcvbuf: int | None = None
    rmem_max: int = RMEM_MAX  # net.core.rmem_max (sysctl): the largest SO_RCVBUF request honoured
    cpus: int | None = None
    seed: int = 0
    jitter: float = 0.0
    timeslice: float | None = None  # None: Linux's base slice, 0.75 ms * (1 + log2(min(cpus, 8)))
    start_order: tuple[int, ...] | None = None
    start_gap: float = 0.0005
    # The arrival streams start no earlier than the moment every worker has gone to sleep once (the
    # proxy is up): if the last one sleeps after a stream's first ``time``, all of them move later by
    # the difference, their spacing kept — as a tester starts sipp once the server is up. Peers keep
    # their own times. The simulation does it (``Runner``); ``iter_arrivals`` gives the times as written.
    wait_for_workers: bool = False
    latency: float = 0.0001
    until: float | None = None
    speeds: tuple[float, ...] = ()
    costs: tuple[tuple[str, float], ...] = ()
    proxy: ProxySpec = field(default_factory=ProxySpec)
    hosts: tuple[tuple[str, str], ...] = ()
    peers: tuple[PeerSpec, ...] = ()
    arrivals: tuple[ArrivalSpec, ...] = ()
    pauses: tuple[Pause, ...] = ()
    source: str = ""  # where it was loaded from (for messages)
    # Set by a replay (``--pcap``), not a TOML key (from_dict refuses it as unknown): the Unix time
    # that virtual time 0 stands for, so that a pcap saved from the run (``simulate --save-pcap``,
    # the TUI's ``s``) lines up with the capture replayed. None: the writer stamps from "now".
    # The simulation never reads it: time stays virtual, the run the same.
    capture_epoch: float | None = None

    # -- derived -------------------------------------------------------------------------------
    def server_config(self) -> ServerConfig:
        p = self.proxy
        return ServerConfig(profile=Profile(self.profile), listen=p.listen, advertise=p.advertise,
                            aliases=p.aliases, relay=p.relay, check_via=p.check_via,
                            add_local_rport=p.add_local_rport)

    def cpu_count(self) -> int:
        return self.cpus if self.cpus is not None else self.workers

    def time_slice(self) -> float:
        """The scheduler's slice: as given, else Linux's ``sysctl_sched_base_slice``, 0.75 ms scaled
        by ``1 + ilog2(cpus)`` — with the CPU count capped at 8 (``get_update_sysctl_factor``), so
        no machine gets more than 3 ms."""
        if self.timeslice is not None:
            return self.timeslice
        return 0.00075 * min(self.cpu_count(), 8).bit_length()

    def speed(self, worker: int) -> float:
        return self.speeds[worker] if worker < len(self.speeds) else 1.0

    def worker_start_order(self) -> tuple[int, ...]:
        """The order workers start in: as given, else a shuffle seeded by ``seed``."""
        if self.start_order is not None:
            return self.start_order
        order = list(range(self.workers))
        random.Random(f"start-order:{self.seed}").shuffle(order)
        return tuple(order)

    def seed_is_used(self) -> bool:
        """Whether anything here draws on ``seed``: the start order when none is given (above),
        step-cost jitter, Poisson arrivals (:meth:`_stream`) or the reuseport hash. When nothing
        does, another seed gives the same run (``simulate`` says so)."""
        return (self.start_order is None or self.jitter > 0 or self.policy == "reuseport"
                or any(spec.poisson for spec in self.arrivals))

    def iter_arrivals(self) -> Iterator[Arrival]:
        """Every scheduled datagram in time order (file order for equal times), made lazily: a run
        of 100,000 datagrams does not hold 100,000 objects. Each stream has its own seeded RNG."""
        return heapq.merge(*(self._stream(k, spec) for k, spec in enumerate(self.arrivals)), key=lambda a: a.time)

    def _stream(self, k: int, spec: ArrivalSpec) -> Iterator[Arrival]:
        rng = random.Random(f"arrivals:{self.seed}:{k}")
        t = spec.time
        gap = 1.0 / spec.rate if spec.rate else spec.spacing
        meta = (("stream", spec.label or f"arrivals[{k}]"),)
        msgs, srcs = spec.messages, spec.src
        for i in range(spec.total):
            data = msgs[i % len(msgs)]
            src = srcs[i % len(srcs)]
            if spec.template and b"{" in data:
                data = data.replace(b"{n}", str(i + 1).encode())
                data = data.replace(b"{src_ip}", src[0].encode()).replace(b"{src_port}", str(src[1]).encode())
            yield Arrival(t, data, src, meta)
            t += rng.expovariate(spec.rate) if spec.poisson and spec.rate else gap

    def expand_arrivals(self) -> list[Arrival]:
        return list(self.iter_arrivals())

    def with_overrides(self, *, workers: int | None = None, policy: str | None = None,
                       rate: float | None = None, count: int | None = None, rcvbuf: int | None = None,
                       seed: int | None = None, profile: str | None = None, cpus: int | None = None,
                       route: str | None = None, arrivals: tuple[ArrivalSpec, ...] | None = None,
                       start_order: tuple[int, ...] | None = None, rmem_max: int | None = None) -> Scenario:
        """The command line's options applied over the file (``--rate``/``--count`` change the
        arrival streams: every stream's count, and its rate — a spaced stream gets 1/rate)."""
        changes: dict[str, Any] = {}
        if workers is not None:
            if workers < 1:
                raise ScenarioError("workers must be at least 1")
            changes["workers"] = workers
            if self.start_order is not None and sorted(self.start_order) != list(range(workers)):
                changes["start_order"] = None
        if start_order is not None:
            changes["start_order"] = tuple(start_order)
        if policy is not None:
            changes["policy"] = policy
        if rcvbuf is not None:
            changes["rcvbuf"] = rcvbuf
        if rmem_max is not None:
            changes["rmem_max"] = rmem_max
        if seed is not None:
            changes["seed"] = seed
        if profile is not None:
            changes["profile"] = profile
        if cpus is not None:
            changes["cpus"] = cpus
        if route is not None:
            changes["proxy"] = replace(self.proxy, route=route)
        new_arrivals = self.arrivals if arrivals is None else arrivals
        if rate is not None or count is not None:
            if rate is not None and rate <= 0:
                raise ScenarioError("--rate must be positive")
            if count is not None and count < 0:
                raise ScenarioError("--count must not be negative")
            specs = []
            for spec in new_arrivals:
                if count is not None:
                    spec = replace(spec, count=count)
                if rate is not None:
                    spec = replace(spec, rate=rate, spacing=1.0 / rate)
                specs.append(spec)
            new_arrivals = tuple(specs)
        changes["arrivals"] = new_arrivals
        out = replace(self, **changes)
        out.validate()
        return out

    def validate(self) -> None:
        if self.workers < 1 or self.workers > 1024:
            raise ScenarioError(f"workers must be between 1 and 1024, not {self.workers}")
        if self.policy not in POLICIES:
            raise ScenarioError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if self.profile not in ("ser", "kamailio"):
            raise ScenarioError(f"profile must be ser or kamailio, not {self.profile!r}")
        if self.cpus is not None and self.cpus < 1:
            raise ScenarioError("cpus must be at least 1")
        if self.rcvbuf is not None and not 0 <= self.rcvbuf <= INT_MAX:
            raise ScenarioError(f"rcvbuf must be between 0 and {INT_MAX} (SO_RCVBUF is a C int), not {self.rcvbuf}")
        if not 0 <= self.rmem_max <= INT_MAX:
            raise ScenarioError(f"rmem_max must be between 0 and {INT_MAX} (net.core.rmem_max is a C int), "
                                f"not {self.rmem_max}")
        if not 0 <= self.jitter < 1:
            raise ScenarioError("jitter must be in [0, 1)")
        if self.timeslice is not None and self.timeslice <= 0:
            raise ScenarioError("timeslice must be positive")
        if self.start_order is not None and sorted(self.start_order) != list(range(self.workers)):
            raise ScenarioError(f"start_order must list each worker 0..{self.workers - 1} once, "
                                f"not {list(self.start_order)}")
        if any(s <= 0 for s in self.speeds):
            raise ScenarioError("worker speeds must be positive")
        for p in self.pauses:
            if p.workers is not None and any(not 0 <= w < self.workers for w in p.workers):
                raise ScenarioError(f"pause names a worker outside 0..{self.workers - 1}")
        names = [p.name for p in self.peers]
        if len(set(names)) != len(names):
            raise ScenarioError("peer names must be unique")
        taken = {self.proxy.listen: "the proxy"}
        for p in self.peers:  # one UDP port, one owner: the virtual network delivers by address
            if p.address in taken:
                raise ScenarioError(f"peer {p.name!r}: address {p.address[0]}:{p.address[1]} is already taken "
                                    f"by {taken[p.address]}")
            taken[p.address] = f"peer {p.name!r}"
        for k, spec in enumerate(self.arrivals):
            for data in spec.messages:
                check_datagram_size(data, spec.src[0], f"arrivals[{k}]")
