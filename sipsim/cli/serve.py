"""`sipsim serve`: a real stateless SIP proxy and registrar on a UDP port, in forked workers.

The main process opens the socket and forks --workers processes that all block in `recvfrom` on
it, each running the very pipeline `sipsim trace` shows step by step. By default it listens on
127.0.0.1:5060, sends only to loopback, resolves no names and relays nothing for foreign domains
(403). It logs one line per message on stderr; ctrl+c or SIGTERM stops it. `sipsim stats` reads
its counters, `sipsim location` its bindings (kept in an SQLite file across restarts).

To serve phones on a lab network, listen on the address they use and allow their network
(--listen 192.168.1.10:5060 --allow-dest 192.168.1.0/24), or listen on every address
(--listen 0.0.0.0:5060, still with --allow-dest) with --advertise naming the one the proxy puts
in its Via; each local address then means "me". sipsim does not authenticate: any user name
registers.

An AOR takes at most --max-contacts contacts (10): the registrar's max_contacts, which Kamailio
leaves at 0 (no limit). Without it anyone could bind thousands of contacts to one name and then
have the 200 to a small, forged REGISTER query — it lists every binding — sent to any address.
Ten leaves a student's desk phone, softphones and sipp's per-user scenarios room to spare; 0 gives
Kamailio's default back. The simulator, `sipsim trace` and the differential tests keep 0, as
Kamailio does.
"""

from __future__ import annotations

import argparse

from sipsim.cli.common import (
    EXIT_STATUS,
    UsageError,
    add_server_options,
    alias_error,
    fail,
    missing_folder,
    parse_hostport,
    sip_host_error,
)

MAX_CONTACTS = 10  # serve's default max_contacts (see the module docstring)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative (0 means no limit)")
    return value


def _rcvbuf(text: str) -> int:
    """SO_RCVBUF is a C int that Linux doubles: past 1 GiB the kernel cannot take it (no traceback)."""
    from sipsim.real.server import MAX_RCVBUF

    value = _positive(text)
    if value > MAX_RCVBUF:
        raise argparse.ArgumentTypeError(f"{text} bytes is too large (at most {MAX_RCVBUF})")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run a live stateless proxy + registrar on a UDP port (forked workers)",
                       description=__doc__, epilog=EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_options(p)
    p.add_argument("--workers", type=_positive, default=4, metavar="N",
                   help="worker processes blocking in recvfrom on the one socket (4)")
    p.add_argument("--db", metavar="PATH",
                   help="location database (SQLite; default $XDG_STATE_HOME/sipsim/location.sqlite for "
                        "127.0.0.1:5060, location-HOST-PORT.sqlite beside it for another --listen, its folder "
                        "created; a PATH given must be in a folder that exists; two servers share a table only "
                        "when given the same PATH)")
    p.add_argument("--max-bindings", type=_count, default=100_000, metavar="N",
                   help="refuse a REGISTER that would grow the location table beyond N rows, as Kamailio "
                        "does when usrloc's memory is full: 500 (100000; 0: no limit)")
    p.add_argument("--max-contacts", type=_count, default=MAX_CONTACTS, metavar="N",
                   help="the registrar's max_contacts: refuse a REGISTER that would bind more than N contacts to "
                        f"one AOR, 503 as Kamailio does ({MAX_CONTACTS}; 0: no limit, Kamailio's default). Bounds "
                        "the 200 a forged REGISTER query can draw; a script's own "
                        'modparam("registrar", "max_contacts", N) wins')
    p.add_argument("--rcvbuf", type=_rcvbuf, metavar="BYTES",
                   help="the socket's receive buffer (SO_RCVBUF; Linux doubles it; the effective value is logged)")
    p.add_argument("--relay", action="store_true",
                   help="forward requests for domains that are not ours (default: 403, no open relay)")
    p.add_argument("--allow-dest", action="append", default=[], metavar="CIDR",
                   help="also send to this network (default: loopback only); repeatable")
    p.add_argument("--dns", action="store_true", help="resolve host names in URIs and Vias (default: never)")
    p.add_argument("--observe", metavar="PATH",
                   help="send every step to the observer's Unix datagram socket at PATH (see sipsim/real/OBSERVER.md)")
    p.add_argument("--step-control", action="store_true",
                   help="with --observe: each worker waits for the observer's go-ahead before each step")
    p.add_argument("--step-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="a paused worker goes on by itself after this long without an answer (120)")
    p.add_argument("--on-child-death", choices=("respawn", "shutdown"), default="respawn",
                   help="respawn a dead worker (default), or stop the whole server as Kamailio does")
    p.add_argument("--control", metavar="PATH",
                   help="control socket for `sipsim stats` (default: derived from --listen, in $XDG_RUNTIME_DIR/"
                        "sipsim/; a PATH given must be in a folder that exists)")
    p.add_argument("--pcap", metavar="FILE",
                   help="write every datagram received and sent to a new capture FILE when the server stops "
                        "(this writes; to replay a capture use trace --pcap or simulate --pcap; an existing FILE "
                        "is refused unless --force). Each worker writes FILE.PID.part until then; the parts a "
                        "server killed with SIGKILL leaves are merged into a file of their own, "
                        "calls-recovered.pcap for calls.pcap, by the next serve --pcap FILE when it starts. One "
                        "frame per datagram as the socket saw it (reassembled), not wire fragments")
    p.add_argument("--force", action="store_true", help="with --pcap: overwrite FILE if it exists")
    p.add_argument("--log-level", choices=("debug", "info", "notice", "warning", "error"), default="info",
                   help="info logs one line per message (default); debug adds one line per receive_msg "
                        "step; warning keeps only problems")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop (as on SIGTERM) when the process that started serve is gone, even if it was "
                        "killed: for a program that runs serve as its child (`sipsim tui --live` does). "
                        "Without it serve outlives its parent (nohup, a closed terminal)")


def options_from_args(args: argparse.Namespace):  # noqa: ANN201 - returns ServeOptions
    from pathlib import Path

    from sipsim.engine.config import Profile
    from sipsim.real.log import LEVELS
    from sipsim.real.netinfo import listen_address
    from sipsim.real.policy import PolicyError, parse_networks
    from sipsim.real.server import ServeOptions

    if args.step_control and not args.observe:
        raise UsageError("--step-control needs --observe PATH (the observer gives the go-ahead)")
    if args.step_timeout <= 0:
        raise UsageError("--step-timeout must be positive")
    if args.force and not args.pcap:
        raise UsageError("--force goes with --pcap FILE (it allows overwriting FILE)")
    try:
        allow = parse_networks(args.allow_dest)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    bad = alias_error(args.alias)  # [proto:]host[:port], [v6]:port: what `uri == myself` will read
    if bad:
        raise UsageError(bad)
    bad = sip_host_error(args.advertise) if args.advertise is not None else None  # it goes into our Via
    if bad:
        raise UsageError(bad)
    listen = parse_hostport(args.listen)
    try:  # a name, a link-local address without its interface ...: a bad command line, as in `tui --live`
        listen_address(*listen)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return ServeOptions(
        listen=listen, workers=args.workers, profile=Profile(args.profile), route=args.route,
        db=Path(args.db) if args.db else None, max_bindings=args.max_bindings, max_contacts=args.max_contacts,
        rcvbuf=args.rcvbuf,
        relay=args.relay, allow_dest=allow,
        dns=args.dns, observe=args.observe, step_control=args.step_control, step_timeout=args.step_timeout,
        on_child_death=args.on_child_death, control=args.control, log_level=LEVELS[args.log_level],
        advertise=args.advertise, aliases=tuple(args.alias), pcap=args.pcap, pcap_force=args.force,
        exit_with_parent=args.exit_with_parent,
    )


def run(args: argparse.Namespace) -> int:
    from sipsim.real.server import ServeError, Server

    try:
        opts = options_from_args(args)
    except UsageError as exc:
        return fail(str(exc))
    # (--observe names the observer's socket, made by the observer, maybe later: its folder must exist)
    for path, option in ((args.db, "--db"), (args.control, "--control"), (args.observe, "--observe")):
        missing = missing_folder(path, option)
        if missing:  # the machine's state, not the command line: 1, as --pcap's check
            return fail(missing, 1)
    try:
        return Server(opts).run()
    except ServeError as exc:
        return fail(str(exc), exc.status)
    except OSError as exc:
        return fail(f"serve: {exc}", 1)
