"""Loading a scenario: TOML text → a checked :class:`~sipsim.engine.scenario_model.Scenario`.

Every key is checked for its name, type and meaning (``scenario_check.py``), so a typo or a bad
value is one clear error naming the key, never ignored and never a traceback. Relative file names
(datagrams, routing scripts) are looked up in :func:`data_roots`. The file format itself is
described in ``scenario.py``.
"""

from __future__ import annotations

import glob as globmod
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from sipsim.engine.config import ServerConfig
from sipsim.engine.scenario_check import (
    ScenarioError,
    array,
    boolean,
    check_keys,
    number,
    parse_addr,
    string,
    table,
    tables,
)
from sipsim.engine.scenario_model import DEFAULT_SRC, ArrivalSpec, Pause, PeerSpec, ProxySpec, Scenario

__all__ = ["PEER_TYPES", "data_roots", "from_dict", "list_scenarios", "load_router", "load_scenario",
           "normalise_text"]

PEER_TYPES = ("uac", "uas", "ua")

_TOP_KEYS = {"name", "description", "workers", "profile", "policy", "rcvbuf", "rmem_max", "cpus", "seed",
             "jitter", "timeslice", "start_order", "start_gap", "wait_for_workers",
             "latency", "until", "speeds", "costs", "proxy",
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
    if "wait_for_workers" in d:
        kw["wait_for_workers"] = boolean(d["wait_for_workers"], "wait_for_workers")
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
                if not (k.isascii() and k.isdigit()) or int(k) >= workers:
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
