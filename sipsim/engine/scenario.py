'''Scenarios: what the simulated server is, who talks to it, and what arrives when (TOML).

One scenario file drives ``sipsim simulate``, the TUI and the lessons alike; the shipped ones live
in ``sipsim/scenarios/`` (``list_scenarios()``), and any ``.toml`` file works too. Files are read
with ``tomllib``; every key is checked, so a typo is an error with the key's name, never ignored.
A commented example with every key (all are optional)::

    name = "my-scenario"
    description = "one line for the scenario list"
    workers = 4                 # udp_rcv_loop processes (Kamailio's `children`)
    profile = "ser"             # "ser" (the seed's era) or "kamailio" (5.6)
    policy = "fifo"             # fifo | wake-all | reuseport | lifo (see kernel_queue.py)
    rcvbuf = 65536              # SO_RCVBUF in bytes; the kernel caps it at rmem_max, then doubles
                                # it. Omit: rmem_default (212992)
    rmem_max = 4194304          # net.core.rmem_max, the cap on SO_RCVBUF (default: stock 212992)
    cpus = 2                    # CPUs of the machine (default: one per worker)
    seed = 7                    # seeds start order, jitter and Poisson arrivals
    jitter = 0.1                # each step cost is scaled by uniform(1-j, 1+j)
    timeslice = 0.0015          # CPU slice when workers wait for a CPU (default: Linux's
                                # sched_base_slice, 0.75 ms * (1 + floor(log2(min(cpus, 8)))))
    start_order = [1, 0, 2, 3]  # the order workers start and first sleep (default: seeded shuffle)
    start_gap = 0.0005          # seconds between two worker starts (fork)
    latency = 0.0001            # one-way network delay between the peers and the proxy
    until = 10.0                # stop the simulation at this virtual time (default: when idle)
    speeds = [1, 1, 1, 20]      # per-worker slowness factor (or a table: [speeds] 3 = 20)

    [costs]                     # virtual seconds per step; see simulation.DEFAULT_COSTS
    parse_msg = 30e-6
    try_to_wake_up = 60e-6      # the kernel side has costs too: sys_recvfrom, sys_sendto,
                                #   context_switch, sys_recvfrom_empty (a wasted wake-up)

    [proxy]
    listen = "127.0.0.1:5060"
    advertise = "proxy.example"     # name in our Via (optional)
    aliases = ["sipsim.test"]       # other names of this proxy (R-URI "myself" checks)
    relay = true                    # forward requests for other domains (default route)
    route = "my.cfg"                # a routing script instead of the default route
    check_via = false
    add_local_rport = false

    [hosts]                         # the virtual network's DNS (names otherwise do not resolve)
    "biloxi.example" = "192.0.2.4"

    [[peers]]                       # a UAS that registers bob, then answers calls
    type = "uas"                    # uas | uac | ua (registers only); options: peers.py
    name = "bob"
    address = "127.0.0.3:5060"
    aor = "bob"

    [[peers]]
    type = "uac"
    name = "alice"
    address = "127.0.0.2:5060"
    call = "bob"
    start = 0.05

    [[arrivals]]                    # datagrams from nowhere in particular (no peer behind them)
    label = "pings"                 # shown in the events' detail ("stream")
    time = 0.02                     # first arrival
    src = ["192.0.2.10:5060", "192.0.2.11:5070"]   # cycled
    text = """
    OPTIONS sip:127.0.0.1 SIP/2.0
    Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-{n}
    ...
    """                             # lone LF become CRLF; {n} is the datagram's number (1-based),
                                    # {src_ip} and {src_port} the address it is sent from
    # file = "rfc3261/s24_2_F1_INVITE.dat"  or  files = [...]  or  glob = "rfc4475/*.dat"
    count = 24                      # datagrams (messages are cycled); default: one per message
    spacing = 0.02                  # seconds between them (0: all at once — a burst)
    # rate = 5000                   # ... or datagrams per second
    # poisson = true                # with rate: exponential gaps (seeded)
    raw = false                     # true: keep the text's line ends as written

    [[pauses]]                      # SIGSTOP the workers for a while (the proxy stops answering)
    start = 0.1
    end = 2.5
    workers = [0, 1]                # default: all

File names are looked up relative to the scenario file, then the package data (``sipsim/data``),
then the repository's ``tests/data`` (in a checkout), then the current directory.
'''

from __future__ import annotations

import glob as globmod
import heapq
import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.events import Addr
from sipsim.engine.kernel_queue import POLICIES, RMEM_MAX
from sipsim.engine.scenario_check import (
    INT_MAX,
    ScenarioError,
    array,
    boolean,
    check_datagram_size,
    check_keys,
    number,
    parse_addr,
    string,
    table,
    tables,
)

__all__ = ["Arrival", "ArrivalSpec", "Pause", "PeerSpec", "ProxySpec", "Scenario", "ScenarioError", "load_router",
           "load_scenario", "list_scenarios", "normalise_text", "parse_addr"]

DEFAULT_SRC: Addr = ("192.0.2.10", 5060)
PEER_TYPES = ("uac", "uas", "ua")


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
            if b"{" in data:
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


# -- loading ---------------------------------------------------------------------------------------
_TOP_KEYS = {"name", "description", "workers", "profile", "policy", "rcvbuf", "rmem_max", "cpus", "seed",
             "jitter", "timeslice", "start_order", "start_gap", "latency", "until", "speeds", "costs", "proxy",
             "hosts", "peers", "arrivals", "pauses"}
_PROXY_KEYS = {"listen", "advertise", "aliases", "relay", "route", "check_via", "add_local_rport"}
_ARRIVAL_KEYS = {"time", "src", "text", "file", "files", "glob", "count", "spacing", "rate", "poisson", "raw",
                 "label"}
_PAUSE_KEYS = {"start", "end", "workers"}


def data_roots(base: Path | None) -> list[Path]:
    """Where relative file names in a scenario are looked up, in order."""
    roots: list[Path] = []
    if base is not None:
        roots.append(base)
    pkg = Path(str(resources.files("sipsim"))) / "data"
    roots.append(pkg)
    for parent in Path(__file__).resolve().parents:
        if (parent / "tests" / "data").is_dir():
            roots.append(parent / "tests" / "data")
            break
    roots.append(Path.cwd())
    return roots


def _aliases(value: object) -> tuple[str, ...]:
    """``proxy.aliases``: each read as Kamailio's ``alias=`` is (``[proto:]host[:port]``), so one
    the proxy could not read is refused here — for simulate, the TUI and the lessons alike —
    instead of naming nothing in silence."""
    from sipsim.engine.forward import split_alias

    out = []
    for a in array(value, "proxy.aliases"):
        text = string(a, "proxy.aliases[]")
        try:
            split_alias(text)
        except ValueError as exc:
            raise ScenarioError(f"proxy.aliases: {exc}") from None
        out.append(text)
    return tuple(out)


def _find_file(name: str, base: Path | None, what: str) -> Path:
    p = Path(name)
    if p.is_absolute():
        if p.is_file():
            return p
    else:
        for root in data_roots(base):
            if (root / p).is_file():
                return root / p
    raise ScenarioError(f"{what}: file {name!r} not found (looked in: "
                        f"{', '.join(str(r) for r in data_roots(base))})")


def normalise_text(text: str) -> bytes:
    """TOML text → datagram bytes: lone LF become CRLF (SIP's line end)."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("latin-1", errors="replace")


def _arrival(t: dict[str, Any], base: Path | None, where: str) -> ArrivalSpec:
    check_keys(t, _ARRIVAL_KEYS, where)
    raw = boolean(t.get("raw", False), f"{where}.raw")
    messages: list[bytes] = []
    if "text" in t:
        text = string(t["text"], f"{where}.text")
        messages.append(text.encode("latin-1", errors="replace") if raw else normalise_text(text))
    if "file" in t:
        messages.append(_find_file(string(t["file"], f"{where}.file"), base, f"{where}.file").read_bytes())
    for name in array(t.get("files", []), f"{where}.files"):
        messages.append(_find_file(string(name, f"{where}.files"), base, f"{where}.files").read_bytes())
    if "glob" in t:
        pattern = string(t["glob"], f"{where}.glob")
        found: list[str] = []
        for root in data_roots(base):
            found = sorted(f for f in globmod.glob(str(root / pattern)) if Path(f).is_file())
            if found:
                break
        if not found:
            raise ScenarioError(f"{where}.glob: no file matches {pattern!r}")
        messages.extend(Path(f).read_bytes() for f in found)
    if not messages:
        raise ScenarioError(f"{where}: give the datagram as text, file, files or glob")
    src_v = t.get("src", f"{DEFAULT_SRC[0]}:{DEFAULT_SRC[1]}")
    srcs = src_v if isinstance(src_v, list) else [src_v]
    if not srcs:
        raise ScenarioError(f"{where}.src: empty list")
    rate = t.get("rate")
    if rate is not None:
        rate = float(number(rate, f"{where}.rate"))
        if rate <= 0:
            raise ScenarioError(f"{where}.rate: must be positive")
    poisson = boolean(t.get("poisson", False), f"{where}.poisson")
    if poisson and rate is None:
        raise ScenarioError(f"{where}: poisson arrivals need a rate")
    count = t.get("count")
    return ArrivalSpec(
        messages=tuple(messages),
        src=tuple(parse_addr(s, f"{where}.src", port_zero=True) for s in srcs),
        time=float(number(t.get("time", 0.02), f"{where}.time")),
        count=None if count is None else number(count, f"{where}.count", integer=True),
        spacing=float(number(t.get("spacing", 0.0), f"{where}.spacing")),
        rate=rate, poisson=poisson, label=string(t.get("label", ""), f"{where}.label"),
    )


def from_dict(d: dict[str, Any], *, base: Path | None = None, source: str = "") -> Scenario:
    """Build and check a scenario from a parsed TOML document."""
    check_keys(d, _TOP_KEYS, source or "scenario")
    kw: dict[str, Any] = {"source": source}
    for key in ("name", "description", "profile", "policy"):
        if key in d:
            kw[key] = string(d[key], key)
    for key in ("workers", "cpus", "seed", "rcvbuf", "rmem_max"):
        if key in d:
            kw[key] = number(d[key], key, integer=True, minimum=None if key == "seed" else 0)
    for key in ("jitter", "timeslice", "start_gap", "latency", "until"):
        if key in d:
            kw[key] = float(number(d[key], key))
    if "start_order" in d:
        order = d["start_order"]
        if not isinstance(order, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in order):
            raise ScenarioError("start_order: expected a list of worker numbers")
        kw["start_order"] = tuple(order)
    workers = kw.get("workers", 4)
    if "speeds" in d:
        sp = d["speeds"]
        if isinstance(sp, list):
            speeds = [float(number(v, "speeds[]")) for v in sp]
        elif isinstance(sp, dict):
            speeds = [1.0] * workers
            for k, v in sp.items():
                if not k.isdigit() or int(k) >= workers:
                    raise ScenarioError(f"speeds: {k!r} is not a worker number below {workers}")
                speeds[int(k)] = float(number(v, f"speeds.{k}"))
        else:
            raise ScenarioError("speeds: expected a list or a table")
        kw["speeds"] = tuple(speeds)
    if "costs" in d:
        costs = d["costs"]
        if not isinstance(costs, dict):
            raise ScenarioError("costs: expected a table of step = seconds")
        kw["costs"] = tuple((str(k), float(number(v, f"costs.{k}"))) for k, v in costs.items())
    if "proxy" in d:
        p = table(d["proxy"], "proxy")
        check_keys(p, _PROXY_KEYS, "proxy")
        route = p.get("route")
        if route is not None:
            route = str(_find_file(string(route, "proxy.route"), base, "proxy.route"))
        kw["proxy"] = ProxySpec(
            listen=parse_addr(p.get("listen", "127.0.0.1:5060"), "proxy.listen"),
            advertise=string(p["advertise"], "proxy.advertise") if "advertise" in p else None,
            aliases=_aliases(p.get("aliases", [])),
            relay=boolean(p.get("relay", True), "proxy.relay"), route=route,
            check_via=boolean(p.get("check_via", False), "proxy.check_via"),
            add_local_rport=boolean(p.get("add_local_rport", False), "proxy.add_local_rport"),
        )
    if "hosts" in d:
        if not isinstance(d["hosts"], dict):
            raise ScenarioError("hosts: expected a table of name = \"ip\"")
        kw["hosts"] = tuple((str(k).lower(), string(v, f"hosts.{k}")) for k, v in d["hosts"].items())
    peers = []
    for i, t in enumerate(tables(d.get("peers", []), "peers")):
        where = f"peers[{i}]"
        ptype = string(t.get("type", ""), f"{where}.type")
        if ptype not in PEER_TYPES:
            raise ScenarioError(f"{where}.type: must be one of {', '.join(PEER_TYPES)}, not {ptype!r}")
        name = string(t.get("name", f"{ptype}{i}"), f"{where}.name")
        addr = parse_addr(t.get("address", ""), f"{where}.address")
        opts = tuple((k, v) for k, v in t.items() if k not in ("type", "name", "address"))
        peers.append(PeerSpec(ptype, name, addr, opts))
    kw["peers"] = tuple(peers)
    kw["arrivals"] = tuple(_arrival(t, base, f"arrivals[{i}]")
                           for i, t in enumerate(tables(d.get("arrivals", []), "arrivals")))
    pauses = []
    for i, t in enumerate(tables(d.get("pauses", []), "pauses")):
        where = f"pauses[{i}]"
        check_keys(t, _PAUSE_KEYS, where)
        start = float(number(t.get("start", 0.0), f"{where}.start"))
        end = float(number(t.get("end", start), f"{where}.end"))
        if end <= start:
            raise ScenarioError(f"{where}: end must come after start")
        ws = t.get("workers")
        pauses.append(Pause(start, end, None if ws is None else tuple(
            number(w, f"{where}.workers[]", integer=True) for w in array(ws, f"{where}.workers"))))
    kw["pauses"] = tuple(pauses)
    sc = Scenario(**kw)
    sc.validate()
    if sc.peers:
        from sipsim.engine.peers import check_peer_specs

        check_peer_specs(sc)
    return sc


def load_scenario(ref: str | Path) -> Scenario:
    """A scenario from a ``.toml`` path or the name of a shipped one (``basic-call``)."""
    path = Path(ref)
    if path.is_file():
        text, base, source = path.read_bytes(), path.parent, str(path)
    else:
        name = str(ref).removesuffix(".toml")
        res = resources.files("sipsim.scenarios").joinpath(f"{name}.toml")
        if "/" in name or not res.is_file():
            names = ", ".join(n for n, _ in list_scenarios())
            raise ScenarioError(f"no scenario file or shipped scenario named {str(ref)!r} (shipped: {names})")
        text, base, source = res.read_bytes(), None, f"{name} (shipped)"
    try:
        doc = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{source}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: TOML error: {exc}") from None
    doc.setdefault("name", Path(source.split(" ")[0]).stem)
    return from_dict(doc, base=base, source=source)


def load_router(scenario: Scenario, config: ServerConfig) -> Any:
    """The scenario's routing script, or None for the built-in default route."""
    path = scenario.proxy.route
    if not path:
        return None
    try:
        from sipsim.routing import load_route
    except ImportError as exc:
        raise ScenarioError(f"cannot load the routing script {path}: the routing engine (sipsim.routing) "
                            f"is not available ({exc})") from None
    try:
        return load_route(path, config)
    except Exception as exc:  # RouteError (file:line:col: message), OSError, ...: one clear line
        raise ScenarioError(f"routing script {path}: {exc}") from None


def list_scenarios() -> list[tuple[str, str]]:
    """(name, description) of the shipped scenarios, sorted by name."""
    out = []
    for res in resources.files("sipsim.scenarios").iterdir():
        if res.name.endswith(".toml"):
            try:
                doc = tomllib.loads(res.read_text("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                doc = {}
            out.append((res.name.removesuffix(".toml"), str(doc.get("description", ""))))
    return sorted(out)
