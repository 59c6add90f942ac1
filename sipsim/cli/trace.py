"""`sipsim trace`: run datagrams through the pipeline and print every step.

Each datagram is handled as one worker of the proxy would handle it, without a network: a .dat
file holds one raw SIP message (tests/data/rfc4475/ and tests/data/rfc3261/ have many), a folder
is traced file by file, a capture (--pcap) datagram by datagram. Datagrams the proxy would send
are printed, not sent. For example:

    sipsim trace tests/data/rfc4475/wsinv.dat --profile kamailio

--json prints one object per datagram, one per line — a stable interface:

    {"file": "...", "outcome": "forwarded"|"replied"|"dropped", "status": <int or null>,
     "reason": "...", "sent": [{"to": "host:port", "data": "<latin-1 text>"}],
     "steps": [{"step": "...", ...}]}
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sipsim.cli.common import UsageError, add_server_options, alias_error, fail, parse_hostport

DEFAULT_LISTEN = "127.0.0.1:5060"  # --listen when neither given nor taken from a capture
# --from when not given: a client beside the proxy (as `sipsim craft` assumes), never the proxy's
# own address — a request "from ourselves" would make the trace show a reply sent to the proxy
DEFAULT_FROM = {4: "127.0.0.1:5070", 6: "[::1]:5070"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trace", help="run one datagram (or a folder of .dat files) through the pipeline, step by step",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", metavar="FILE.dat|DIR", help="a raw SIP message, or a folder of .dat files")
    p.add_argument("--from", dest="src", default=None, metavar="IP:PORT",
                   help="the datagram's source address (default 127.0.0.1:5070, or [::1]:5070 when --listen "
                        "is IPv6)")
    p.add_argument("--pcap", metavar="FILE", help="take the datagrams (and their sources) from a pcap/pcapng capture")
    p.add_argument("--pcap-proxy", metavar="IP:PORT|any",
                   help="with --pcap: the capture's proxy, whose received datagrams are traced (default: "
                        "guessed; 'any' traces every datagram)")
    add_server_options(p, listen_default=None,
                       listen_help=f"default {DEFAULT_LISTEN}; with --pcap, the capture's proxy")
    p.add_argument("--json", action="store_true", help="one JSON object per datagram (stable interface)")


def _inputs(args: argparse.Namespace) -> list[tuple[str, bytes, tuple[str, int], float]]:
    if args.src is None:
        listen_ip = parse_hostport(args.listen or DEFAULT_LISTEN)[0]
        args.src = DEFAULT_FROM[6 if ":" in listen_ip else 4]
    src = parse_hostport(args.src)
    if args.pcap:
        return _pcap_inputs(args)
    if not args.path:
        raise UsageError("give a FILE.dat, a folder or --pcap FILE")
    path = Path(args.path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".dat")
        if not files:
            raise UsageError(f"no .dat files in {path}")
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"no such file or folder: {path}")
    return [(str(f), f.read_bytes(), src, 0.0) for f in files]


def _pcap_inputs(args: argparse.Namespace) -> list[tuple[str, bytes, tuple[str, int], float]]:
    """The datagrams the capture's proxy received (see sipsim.packets.replay); what was left out
    and why goes to stderr. Without --listen the traced proxy listens where the captured one did;
    with it, the captured proxy's address becomes an alias, so a Request-URI or Route naming it
    still means "myself"."""
    from sipsim.engine.events import format_addr
    from sipsim.packets.addr import uri_host
    from sipsim.packets.errors import PcapError
    from sipsim.packets.pcap import read_capture
    from sipsim.packets.replay import family_mismatch, parse_proxy_option, plan_replay

    try:
        proxy = parse_proxy_option(args.pcap_proxy)
    except PcapError as exc:
        raise UsageError(str(exc)) from None
    capture = read_capture(args.pcap)
    plan = plan_replay(capture.datagrams, proxy)
    for note in capture.notes():
        print(f"sipsim: {args.pcap}: {note}", file=sys.stderr)
    if capture.datagrams:
        for note in plan.notes():
            print(f"sipsim: {args.pcap}: {note}", file=sys.stderr)
    if not plan.arrivals:
        what = "no SIP datagram over UDP" if not capture.datagrams else "no datagram sent to the capture's proxy"
        raise UsageError(f"{args.pcap}: {what} in this capture ({capture.packets} packet(s) read)")
    if plan.proxy is not None:
        where = format_addr(plan.proxy)  # [2001:db8::1]:5060 for IPv6, as --listen and alias= read it
        if args.listen is None:  # the traced proxy stands where the captured one stood
            args.listen = where
        else:  # told where to listen: the captured proxy's address still means "myself"
            args.alias = [*args.alias, uri_host(plan.proxy[0]), where]
    wrong = family_mismatch(plan.arrivals, parse_hostport(args.listen or DEFAULT_LISTEN)[0])
    if wrong:
        raise UsageError(f"{args.pcap}: {wrong}; give --listen an address of that family, or leave --listen out")
    return [(f"{args.pcap}#{i + 1}", d.data, d.src, d.time) for i, d in enumerate(plan.arrivals)]


def build_driver(args: argparse.Namespace):  # noqa: ANN201 - returns MemoryDriver
    from sipsim.engine.config import Profile, ServerConfig
    from sipsim.engine.driver import MemoryDriver

    config = ServerConfig(profile=Profile(args.profile), listen=parse_hostport(args.listen or DEFAULT_LISTEN),
                          advertise=args.advertise, aliases=tuple(args.alias))
    router = None
    if args.route:
        from sipsim.routing import load_route  # the routing engine (issue 5)

        router = load_route(args.route, config)
        config = router.config  # a script's global parameters (advertised_address, check_via ...) apply
    return MemoryDriver(config, router=router)


def result_json(name: str, result) -> dict:  # noqa: ANN001
    from sipsim.engine.events import format_addr

    return {
        "file": name,
        "outcome": result.outcome,
        "status": result.status if result.outcome == "replied" or result.status else None,
        "reason": result.reason,
        "sent": [{"to": format_addr(s.to), "data": s.data.decode("latin-1")} for s in result.sent],
        "steps": [ev.to_dict() for ev in result.events],
    }


def print_text(name: str, data: bytes, src: tuple[str, int], result, out=None) -> None:  # noqa: ANN001
    from sipsim.engine.events import format_addr
    from sipsim.packets.message import printable

    out = out if out is not None else sys.stdout  # looked up now: sys.stdout may have been replaced

    first = printable(data.split(b"\n", 1)[0].decode("latin-1").strip())  # a capture may hold any octets
    print(f"== {name}: {len(data)} bytes from {format_addr(src)}: {first[:70]}", file=out)
    width = max((len(ev.step) for ev in result.events), default=10)
    for ev in result.events:
        mark = {"forwarded": "→", "replied": "↩", "dropped": "✗"}.get(ev.outcome or "", " ")
        print(f"  {mark} {ev.step:<{width}}  {ev.text}", file=out)
    for s in result.sent:
        first_line = s.data.split(b"\r\n", 1)[0].decode("latin-1")
        print(f"    sent to {format_addr(s.to)} ({s.kind}): {first_line}", file=out)
    status = f" {result.status}" if result.status else ""
    print(f"  = {result.outcome}{status}: {result.reason}", file=out)
    print(file=out)


def run(args: argparse.Namespace) -> int:
    try:
        bad = alias_error(args.alias)  # as serve: one line, not an alias that silently names nothing
        if bad:
            raise UsageError(bad)
        inputs = _inputs(args)
        driver = build_driver(args)
    except UsageError as exc:
        return fail(str(exc))
    except (OSError, ValueError) as exc:
        return fail(str(exc), 1)
    for name, data, src, t in inputs:
        result = driver.feed(data, src, time=t)
        if args.json:
            print(json.dumps(result_json(name, result), ensure_ascii=False))
        else:
            print_text(name, data, src, result)
    return 0


def run_builtin_demo() -> int:
    """Trace the built-in call flow (RFC 3261 §24 through the biloxi.com proxy)."""
    from sipsim.demo import demo_flow

    driver, flow = demo_flow()
    print("sipsim: the RFC 3261 §24 call flow through the biloxi.com proxy (server10.biloxi.com)\n")
    for name, data, src in flow:
        print_text(name, data, src, driver.feed(data, src))
    return 0
