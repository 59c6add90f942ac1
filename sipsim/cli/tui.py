"""`sipsim tui [SCENARIO] [--pcap FILE [--call-id TEXT] [--frames N-M]] [--live HOST:PORT]`:
the step-through TUI (also `sipsim` alone).

Opens a simulation of SCENARIO (a shipped name, see `sipsim simulate --list`, or a .toml file;
default: basic-call — 4 workers, a REGISTER and a call). With --pcap it replays the SIP datagrams
of a capture (pcap or pcapng, as `sipsim simulate --pcap` does: those sent to the capture's proxy
arrive at the simulated one, at their captured times), so a real trace can be stepped through
message by message. --call-id TEXT and --frames N-M select one call, or a range of frames, as
`sipsim trace --pcap` and `sipsim simulate --pcap` do. In a step-through that means: the TUI
opens on the arrival of the first selected datagram, after a fast-forward over everything the
replay does before it (run, not shown), so the proxy meets it in the state the full replay has
then (a REGISTER outside the selection has made the binding its INVITE needs); unselected
datagrams that come between two selected ones still arrive in their place (the capture's order
and timing are kept), and the run ends after the last selected one (later ones are not
replayed). The top bar names the selection; b and home still go back over what ran first.
With --live it starts a real `sipsim serve` on HOST:PORT (the port must be free) and shows its
real workers, held step by step; the server stops when you leave live mode (L) or quit. Keys: n
step, b back, p run/pause, 1-8 or tab a panel, f maximize/restore it, ? or F1 help on the focused
panel and every key, ctrl+p the command palette, ctrl+q quit.
"""

from __future__ import annotations

import argparse
from typing import Any

from sipsim.cli.common import UsageError, alias_error, fail, no_terminal, parse_hostport, sip_host_error

POLICIES = ("fifo", "wake-all", "reuseport", "lifo")  # kept in step with sipsim.engine.kernel_queue


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= n <= 1024:
        raise argparse.ArgumentTypeError("between 1 and 1024")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="the step-through TUI (default command): simulated, or live with --live",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="a shipped scenario name or a .toml file (default: basic-call)")
    p.add_argument("--pcap", metavar="FILE",
                   help="replay the SIP datagrams of a pcap/pcapng capture in the simulator (read, never written)")
    p.add_argument("--pcap-proxy", action="append", default=[], metavar="IP:PORT|any",
                   help="with --pcap: the capture's proxy (default: guessed), as sipsim simulate --pcap-proxy")
    p.add_argument("--pcap-time-scale", type=float, metavar="X",
                   help="with --pcap: multiply the captured gaps by X (0: a burst)")
    p.add_argument("--call-id", metavar="TEXT",
                   help="with --pcap: start at the first datagram whose Call-ID is TEXT (compared exactly); what "
                        "was replayed before it has run, so the proxy's state is as in the full replay")
    p.add_argument("--frames", metavar="N-M",
                   help="with --pcap: start at the first datagram of these capture frames, numbered as Wireshark "
                        "does (N-M, N, N- to the end, or several: 1-20,67); with --call-id both must hold")
    p.add_argument("--live", metavar="HOST:PORT",
                   help="start sipsim serve on HOST:PORT (a free local port) and watch its real workers")
    p.add_argument("--profile", choices=("ser", "kamailio"),
                   help="override the scenario's profile (and the live server's)")
    p.add_argument("--workers", type=_workers, metavar="N",
                   help="override the number of workers (and the live server's)")
    p.add_argument("--policy", choices=POLICIES, help="override the kernel's wake-up policy")
    p.add_argument("--route", metavar="FILE", help="a routing script (.cfg or KEMI .py) instead of the default")
    p.add_argument("--allow-dest", action="append", default=[], metavar="CIDR",
                   help="with --live: the server may also send to this network (default: loopback only, as "
                        "sipsim serve); repeatable")
    p.add_argument("--advertise", metavar="NAME",
                   help="with --live: the name the server puts in its own Via (needed on 0.0.0.0 or [::])")
    p.add_argument("--alias", action="append", default=[], metavar="NAME",
                   help="with --live: another name that means the server (as sipsim serve); repeatable")
    p.add_argument("--relay", action="store_true",
                   help="with --live: forward requests for foreign domains (default: 403, as sipsim serve)")


def live_address(text: str, advertised: bool = False) -> tuple[str, int]:
    """``--live``'s HOST:PORT, refused here as ``sipsim serve`` refuses a bad ``--listen``
    (:func:`sipsim.real.netinfo.listen_address`: not an IP address, a link-local address without
    its interface, a scope on an address that has none, the wildcard without ``--advertise`` ...),
    before Textual takes the terminal: otherwise the TUI opens and only then says that the server
    it started has exited. ``advertised``: an advertised address may be given (``--advertise``, or
    a ``--route`` script's ``advertised_address``, which only the server reads)."""
    from sipsim.real.netinfo import advertise_needed, listen_address

    addr = parse_hostport(text)
    try:
        ip, _ = listen_address(*addr)
    except ValueError as exc:  # the hint names serve's option; here the user typed --live
        raise UsageError(str(exc).replace("--listen '", "--live '")) from None
    if ip.is_unspecified and not advertised:
        raise UsageError(advertise_needed(text))
    return addr


def _port_refused(addr: tuple[str, int]) -> int | None:
    """Exit as ``sipsim serve`` would when --live's address cannot be bound (the port in use, an
    address this machine does not have), before the TUI starts: once it runs, the server's error
    is only a notification, and the TUI would be left on the simulation."""
    from sipsim.real.udp_init import ServeError, open_socket

    try:
        sock, _info = open_socket(addr, None)
    except ServeError as exc:
        return fail(f"--live: {exc}", exc.status)
    sock.close()  # free again for the server the TUI starts
    return None


def run(args: argparse.Namespace) -> int:
    from sipsim.engine.scenario import ScenarioError, load_scenario
    from sipsim.tui.live_options import ServerOptions

    options = ServerOptions(allow_dest=tuple(getattr(args, "allow_dest", None) or ()),
                            advertise=getattr(args, "advertise", None) or None,
                            aliases=tuple(getattr(args, "alias", None) or ()),
                            relay=bool(getattr(args, "relay", False)))
    live = None
    if getattr(args, "live", None):
        try:
            live = live_address(args.live, bool(options.advertise or getattr(args, "route", None)))
        except UsageError as exc:
            return fail(f"--live: {exc}")
        refused = _port_refused(live)
        if refused is not None:
            return refused
    if options.allow_dest:
        from sipsim.real.policy import PolicyError, parse_networks

        try:
            parse_networks(options.allow_dest)
        except PolicyError as exc:
            return fail(str(exc))
    bad = alias_error(options.aliases) or (sip_host_error(options.advertise) if options.advertise else None)
    if bad:  # refused here as serve refuses them, not by the server the TUI starts
        return fail(bad)
    scenario = getattr(args, "scenario", None)
    picked = None
    if getattr(args, "pcap", None):
        if live is not None:
            return fail("--pcap replays a capture in the simulator; live mode watches a real server: give one")
        try:
            scenario, picked = replay_selection(args)
        except ScenarioError as exc:
            return fail(str(exc))
        except (OSError, ValueError) as exc:  # an unreadable file, a PcapError
            return fail(str(exc), 1)
    elif any(v is not None for v in (getattr(args, "pcap_proxy", None) or None, getattr(args, "pcap_time_scale", None),
                                     getattr(args, "call_id", None), getattr(args, "frames", None))):
        return fail("--pcap-proxy, --pcap-time-scale, --call-id and --frames go with --pcap (which capture?)")
    elif scenario:  # loaded here so that a bad one is refused before the TUI starts
        try:
            scenario = load_scenario(scenario)
        except ScenarioError as exc:
            return fail(str(exc))
    try:
        from sipsim.tui.app import run_tui
    except ImportError as exc:  # textual missing from a broken install
        return fail(f"the TUI needs Textual: {exc}", 1)
    refused = no_terminal("for output to a file or pipe use `sipsim simulate` or `sipsim trace`")
    if refused:
        return fail(refused)
    try:
        return run_tui(scenario=scenario, live=live, profile=getattr(args, "profile", None),
                       workers=getattr(args, "workers", None), policy=getattr(args, "policy", None),
                       route=getattr(args, "route", None), live_options=options,
                       selection=_tui_selection(picked))
    except ScenarioError as exc:
        return fail(str(exc))


def replay_scenario(args: argparse.Namespace) -> object:
    """The scenario ``sipsim simulate [SCENARIO] --pcap FILE ...`` would run: the same command line,
    read by simulate's own parser and built by its ``build_selected``, so the TUI replays a capture
    exactly as the command line does (same proxy guess, same notes on stderr, same refusals). The
    scenario carries the capture's time (``capture_epoch``), so the `s` key saves a pcap that lines
    up with the capture, as ``simulate --save-pcap`` does."""
    return replay_selection(args)[0]


def replay_selection(args: argparse.Namespace) -> tuple[Any, Any]:
    """:func:`replay_scenario`, and with ``--call-id``/``--frames`` what they selected (simulate's
    :class:`~sipsim.cli.simulate_report.Picked`; None without them): the scenario then replays the
    capture up to the last selected datagram, as ``simulate`` does (its ``build_selected``)."""
    from sipsim.cli import build_parser
    from sipsim.cli.simulate import build_selected

    argv = ["simulate", *([args.scenario] if args.scenario else []), "--pcap", args.pcap]
    for proxy in args.pcap_proxy:
        argv += ["--pcap-proxy", proxy]
    if args.pcap_time_scale is not None:
        argv += ["--pcap-time-scale", repr(args.pcap_time_scale)]
    for option, value in (("--call-id", getattr(args, "call_id", None)), ("--frames", getattr(args, "frames", None))):
        if value is not None:
            argv += [f"{option}={value}"]  # (a Call-ID may start with "-")
    parsed = build_parser().parse_args(argv)
    return build_selected(parsed)


def _tui_selection(picked: Any) -> Any:
    """simulate's :class:`~sipsim.cli.simulate_report.Picked` as the TUI's source takes it (None: no selection)."""
    if picked is None:
        return None
    from sipsim.tui.sources import ReplaySelection

    return ReplaySelection(frozenset(picked.labels), picked.selection.describe())
