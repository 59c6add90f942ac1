"""`sipsim trace`: run datagrams through the pipeline and print every step.

Each datagram is handled as one worker of the proxy would handle it, without a network: a .dat
file holds one raw SIP message (tests/data/rfc4475/ and tests/data/rfc3261/ have many), a folder
is traced file by file, a capture (--pcap) datagram by datagram. Datagrams the proxy would send
are printed, not sent. For example:

    sipsim trace tests/data/rfc4475/wsinv.dat --profile kamailio

--json prints one object per datagram, one per line — a stable interface:

    {"file": "...", "outcome": "forwarded"|"replied"|"dropped", "status": <int or null>,
     "reason": "...", "sent": [{"to": "host:port", "data": "<latin-1 text>"}],
     "steps": [{"step": "...", ...}], "src": "host:port", "dst": "host:port",
     "frame": <int or null>, "time": "<ISO 8601 UTC>" or null}

("data" holds the bytes one character each: encode it as latin-1 to get them back; "reason" and
each step's "text" and "reason" are sentences, a UTF-8 header value quoted in them read as UTF-8.) "src" and
"dst" are the datagram's addresses (for a FILE: --from and the proxy's --listen). With --pcap,
"frame" is the capture's frame number as Wireshark and tshark count it (a datagram reassembled
from IP fragments: the frame of the fragment that completed it, where Wireshark shows the
message) and "time" that frame's timestamp, e.g. "2026-11-28T00:22:39.123456Z"; "file" is
FILE#N, N counting the datagrams replayed. For a FILE both are null.

--pcap reads a capture (it never writes one: `craft --pcap`, `serve --pcap` and `simulate
--save-pcap` write). Only SIP over UDP is traced; TCP, TLS and SCTP packets are counted and
skipped. Each datagram is headed with its frame number and time of day (local time, as
Wireshark's time column), e.g. "== lo.pcapng frame 67 (00:22:39.123456)".

A capture that records each datagram's direction (sipsim's own: serve --pcap, simulate
--save-pcap; tcpdump -i any; pcapng with epb_flags) holds a datagram its host sent to itself (a
proxy forwarding to itself) twice, sent and received: it is traced once, as received; a capture
without directions (tcpdump -i lo, Ethernet) is read as each frame comes.

Which datagrams: those sent to the capture's proxy, guessed or named by --pcap-proxy IP:PORT.
The guess takes, of the addresses that act most like a server (forwarding what they received,
then receiving requests — a phone sending to two servers receives none), the busiest; when
another fits as well, stderr says which was taken and the --pcap-proxy to give instead.
A proxy with several addresses (a public and a private side, or one listening on 0.0.0.0) takes
--pcap-proxy once per address: the first is where the traced proxy listens, the others are its
aliases ("myself"), and what reached any of them is traced. The guess adds an address only when
the capture shows the proxy forwarding from it what reached another one; otherwise stderr names
the addresses that may be the proxy's and the options to give.

One call out of many: --call-id TEXT shows only the datagrams whose Call-ID (or compact i:) is
TEXT, --frames N-M only those of capture frames N to M (as Wireshark numbers them; also N, N- and
lists: 1-20,67); both: both must hold. The datagrams replayed before the last one shown still
run, unshown, so each one shown meets the proxy in the state the full replay left it (an INVITE
finds the binding a REGISTER left out of the display made); stderr says how many ran so. With
--json the objects of the others are left out; "file" keeps its number in the full replay:

    sipsim trace --pcap lo.pcapng --call-id 3-4609@127.0.0.1
    sipsim trace --pcap lo.pcapng --frames 60-80 --json

Relaying: as the RFC 3261 §24 examples (a proxy that forwards for other domains), trace relays
requests for a domain that is not the proxy's; `sipsim serve` does not unless --relay, and
answers 403 — give --no-relay to see that. Host names are never resolved: a request forwarded to
a name is shown sent to name:port; serve, without --dns, answers 478 instead.

A FOLDER's .dat files (the extension in any case; a symbolic link to a file is one too) are
traced in name order; stderr names whatever else the folder holds, skipped. FILE - reads one
datagram from stdin. --full prints each datagram sent in full; a forwarded one
as a diff against the datagram received ('-' a line the proxy changed or left out, '+' its new
text: its own Via, received=/rport, Max-Forwards one less).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from sipsim.cli.common import (
    EXIT_STATUS,
    UsageError,
    add_server_options,
    alias_error,
    fail,
    file_kind,
    input_file_error,
    ip_literal,
    parse_hostport,
    readable_event,
    shown,
    shown_bytes,
    sip_host_error,
    terminal,
)

DEFAULT_LISTEN = "127.0.0.1:5060"  # --listen when neither given nor taken from a capture
# --from when not given: a client beside the proxy (as `sipsim craft` assumes), never the proxy's
# own address — a request "from ourselves" would make the trace show a reply sent to the proxy
DEFAULT_FROM = {4: "127.0.0.1:5070", 6: "[::1]:5070"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trace", help="run one datagram (or a folder of .dat files) through the pipeline, step by step",
                       description=__doc__, epilog=EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", metavar="FILE.dat|DIR|-",
                   help="a raw SIP message, a folder of .dat files, or - for one message on stdin")
    p.add_argument("--from", dest="src", default=None, metavar="IP:PORT",
                   help="the datagram's source address (default 127.0.0.1:5070, or [::1]:5070 when --listen "
                        "is IPv6)")
    p.add_argument("--pcap", metavar="FILE",
                   help="read the datagrams (and their sources) from a pcap/pcapng capture; SIP over UDP only "
                        "(TCP, TLS, SCTP are skipped and counted)")
    p.add_argument("--pcap-proxy", action="append", metavar="IP:PORT|any",
                   help="with --pcap: the capture's proxy, whose received datagrams are traced (default: "
                        "guessed; 'any' traces every datagram). Repeat it for each address of a proxy with "
                        "several (public and private side, or a listen on 0.0.0.0): the first is where the "
                        "traced proxy listens, the others are its aliases")
    p.add_argument("--call-id", metavar="TEXT",
                   help="with --pcap: show only the datagrams whose Call-ID is TEXT (compared exactly); the "
                        "others still run, unshown, so the proxy's state is as in the full replay")
    p.add_argument("--frames", metavar="N-M",
                   help="with --pcap: show only the datagrams of these capture frames, numbered as Wireshark "
                        "does (N-M, N, N- to the end, or several: 1-20,67); the earlier ones still run, unshown")
    add_server_options(p, listen_default=None,
                       listen_help=f"default {DEFAULT_LISTEN}; with --pcap, the capture's proxy")
    p.add_argument("--no-relay", action="store_true",
                   help="answer 403 to requests for other domains, as serve does without --relay (default: "
                        "relay, as the RFC 3261 §24 proxies)")
    p.add_argument("--full", "-v", action="store_true",
                   help="print each datagram sent in full, its lines marked against the datagram received")
    p.add_argument("--json", action="store_true", help="one JSON object per datagram (stable interface)")


def check_addresses(args: argparse.Namespace) -> None:
    """Refuse addresses no proxy could have (UsageError): a source that is a name, a listen
    address that is a name or the wildcard without --advertise (the Via would say 0.0.0.0 and the
    proxy would forward to itself), a source of the other family, an advertised name that is no
    SIP host. Sets ``args.src`` to the default when not given."""
    from sipsim.engine.events import format_addr
    from sipsim.real.netinfo import advertise_needed, listen_address

    if args.advertise is not None:
        bad = sip_host_error(args.advertise)
        if bad:
            raise UsageError(bad)
    listen = parse_hostport(args.listen or DEFAULT_LISTEN)
    try:
        ip = listen_address(*listen)[0]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    args.wildcard = ip.is_unspecified
    if args.listen is not None and "%" in args.listen:
        # a link-local address's interface (fe80::1%lo) is for bind(), not for SIP: the proxy's own
        # Via says [fe80::1] (RFC 3261 §25.1's IPv6reference has no zone), as serve's does
        args.listen = format_addr((str(ip), listen[1]))
    if ip.is_unspecified and not args.advertise and not args.route:  # a script may set advertised_address
        raise UsageError(advertise_needed(f"--listen {format_addr((str(ip), listen[1]))}"))
    if args.src is None:
        args.src = DEFAULT_FROM[ip.version]
    src = ip_literal(parse_hostport(args.src), "--from")
    if (":" in src[0]) != (ip.version == 6):
        raise UsageError(f"--from {args.src} and --listen {format_addr((str(ip), listen[1]))} are not of one "
                         "family: a socket receives IPv4 or IPv6 datagrams, not both")


@dataclass(frozen=True)
class Input:
    """One datagram to trace. ``dst``: where it was sent (None: the traced proxy's address);
    ``frame``/``capture_ns``: where it is in a capture (None for a FILE)."""

    name: str
    data: bytes
    src: tuple[str, int]
    time: float = 0.0
    dst: tuple[str, int] | None = None
    frame: int | None = None
    capture_ns: int | None = None
    shown: bool = True  # False: run (the proxy's state needs it) but not printed (--call-id, --frames)

    def heading(self) -> str:
        """``lo.pcapng frame 67 (00:22:39.123456)`` for a capture's datagram; else the name."""
        if self.frame is None or self.capture_ns is None:
            return self.name
        from sipsim.packets.pcap import time_of_day

        return f"{self.name.rpartition('#')[0]} frame {self.frame} ({time_of_day(self.capture_ns)})"


def _inputs(args: argparse.Namespace) -> list[Input]:
    if args.pcap:
        if args.path:
            raise UsageError(f"give either {args.path} or --pcap {args.pcap}, not both")
        if args.src is not None:
            raise UsageError("--from goes with a FILE: a capture gives each datagram's own source")
        inputs = _pcap_inputs(args)
        check_addresses(args)  # the capture may have set --listen
        return inputs
    if args.pcap_proxy:
        raise UsageError("--pcap-proxy goes with --pcap (which capture's proxy?)")
    for option, value in (("--call-id", args.call_id), ("--frames", args.frames)):
        if value is not None:
            raise UsageError(f"{option} goes with --pcap: it picks datagrams of a capture")
    check_addresses(args)
    src = parse_hostport(args.src)
    if not args.path:
        raise UsageError("give a FILE.dat, a folder, - (stdin) or --pcap FILE")
    if args.path == "-":
        data = sys.stdin.buffer.read()
        if not data:
            raise UsageError("nothing on stdin: give one SIP message (sipsim craft TEMPLATE prints one)")
        return [Input("<stdin>", data, src)]
    path = Path(args.path)
    if path.is_dir():
        files, skipped = folder_files(path)
        for note in skipped:
            print(f"sipsim: {terminal(str(path))}: {note}", file=sys.stderr)
        if not files:
            raise UsageError(f"no .dat files in {terminal(str(path))}"
                             + ("" if not skipped else " that can be traced (see above)"))
    elif path.is_file():
        files = [path]
    elif path.exists():
        raise UsageError(f"{path}: not a regular file ({file_kind(path)}); give a FILE.dat, a folder or - for stdin")
    else:
        raise UsageError(f"no such file or folder: {path}")
    out = []
    for f in files:
        data = f.read_bytes()  # a file that cannot be read: OSError, exit 1 (as for a FILE named alone)
        if not data and len(files) == 1:
            raise UsageError(f"{f}: empty file: no datagram to trace")
        out.append(Input(str(f), data, src))
    return out


MAX_NAMES = 10  # names listed in one note about skipped folder entries; then "…"


def folder_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The datagrams of ``trace FOLDER``, in name order, and a note for whatever is skipped.

    A file is taken when its name ends in ``.dat``, in any case (``INVITE.DAT``, as an old DOS or
    Windows tool names it, is one too), and it is a regular file or a symbolic link to one
    (a corpus linked in from elsewhere is what the user sees with ``ls``). Nothing is skipped in
    silence: a ``.dat`` name that is no regular file (a broken link, a link loop, a folder, a
    pipe) gets a note each, the other names one note (``not named *.dat``), the subfolders
    another (trace does not descend into them)."""
    taken: list[Path] = []
    other: list[str] = []
    folders: list[str] = []
    notes: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if entry.suffix.lower() != ".dat":
            (folders if entry.is_dir() else other).append(name)
            continue
        if entry.is_file():  # follows a symbolic link
            taken.append(entry)
            continue
        notes.append(f"skipped {terminal(name)}: {_not_a_datagram(entry)}")
    if other:
        notes.append(f"skipped {len(other)} file(s) not named *.dat: {_name_list(other)}")
    if folders:
        notes.append(f"skipped {len(folders)} folder(s): {_name_list(folders)} (trace reads the .dat files of the "
                     "folder given, not of its subfolders)")
    return taken, notes


def _not_a_datagram(entry: Path) -> str:
    """Why a ``.dat`` entry of a folder is no datagram to trace, in words."""
    import errno
    import os

    if entry.is_symlink():
        try:
            target = os.readlink(entry)
        except OSError:
            target = "?"
        if not entry.exists():  # dangling, or a loop (stat fails either way)
            try:
                entry.stat()
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return f"a symbolic link to {terminal(target)}, a loop of symbolic links"
                if exc.errno == errno.ENOENT:
                    return f"a symbolic link to {terminal(target)}, which does not exist"
                return f"a symbolic link to {terminal(target)}, which cannot be followed ({exc.strerror or exc})"
            return f"a symbolic link to {terminal(target)}, which cannot be followed"
        kind = "a folder" if entry.is_dir() else file_kind(entry)
        return f"a symbolic link to {terminal(target)}, {kind}: not a regular file"
    if entry.is_dir():
        return "a folder: not a regular file (trace does not descend into subfolders)"
    return f"not a regular file ({file_kind(entry)})"


def _name_list(names: list[str]) -> str:
    shown_names = ", ".join(terminal(n) for n in names[:MAX_NAMES])
    return shown_names + (f", … ({len(names) - MAX_NAMES} more)" if len(names) > MAX_NAMES else "")


def _pcap_inputs(args: argparse.Namespace) -> list[Input]:
    """The datagrams the capture's proxy received (see sipsim.packets.replay); what was left out
    and why goes to stderr. Without --listen the traced proxy listens where the captured one did
    (its first address); with it, the captured proxy's addresses become aliases, so a Request-URI
    or Route naming one still means "myself" — as the proxy's other addresses always do.

    --call-id and --frames mark the datagrams to show; every replayed datagram before the last one
    shown still runs, unshown, so that a shown INVITE finds the binding an earlier REGISTER made."""
    from sipsim.engine.events import format_addr
    from sipsim.packets.errors import PcapError
    from sipsim.packets.pcap import read_capture
    from sipsim.packets.replay import Selection, family_mismatch, parse_frames, parse_proxy_options, plan_replay

    try:
        proxy = parse_proxy_options(args.pcap_proxy)
        selection = Selection(args.call_id, parse_frames(args.frames) if args.frames is not None else (),
                              args.frames or "")
    except PcapError as exc:
        raise UsageError(str(exc)) from None
    listen_given = args.listen is not None
    bad = input_file_error(args.pcap, "--pcap")
    if bad:
        raise UsageError(bad)
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
    if plan.proxy is not None and args.listen is None:  # the traced proxy stands where the captured one stood
        args.listen = format_addr(plan.proxy)  # [2001:db8::1]:5060 for IPv6, as --listen reads it
    # the captured proxy's other addresses (and its first, when told where to listen): still "myself"
    args.alias = [*args.alias, *(a for a in plan.alias_names(every=listen_given) if a not in args.alias)]
    wrong = family_mismatch(plan.arrivals, parse_hostport(args.listen or DEFAULT_LISTEN)[0])
    if wrong:
        raise UsageError(f"{args.pcap}: {wrong}; {_family_fix(plan.arrivals, plan.proxy, listen_given)}")
    # the Call-IDs the plan read (each datagram parsed once), and the capture's frames that match unreplayed
    flags, not_replayed = plan.select(selection) if selection.active else ([True] * len(plan.arrivals), [])
    inputs = [Input(f"{args.pcap}#{i + 1}", d.data, d.src, d.time, d.dst, d.frame, d.capture_ns, shown=flag)
              for i, (d, flag) in enumerate(zip(plan.arrivals, flags, strict=True))]
    if selection.active:  # what is shown, what runs unshown; nothing shown: an error saying why
        try:
            note = selection.note(plan, flags, not_replayed, capture.packets)
        except PcapError as exc:
            raise UsageError(f"{args.pcap}: {exc}") from None
        print(f"sipsim: {args.pcap}: {note}", file=sys.stderr)
    return inputs


def _family_fix(arrivals: list, proxy: tuple[str, int] | None, listen_given: bool) -> str:  # noqa: ANN001
    """What to do when the traced proxy cannot receive the capture's datagrams (the other address
    family). Leaving --listen out helps only when it was given and a proxy was picked (the traced
    proxy then stands where the captured one did); with --pcap-proxy any it is --listen of the
    datagrams' family, and for a capture of both families, one proxy's datagrams."""
    from sipsim.packets.addr import is_ipv6

    families = {is_ipv6(d.dst[0]) for d in arrivals}
    example = "[::1]:5060" if True in families else "127.0.0.1:5060"
    if proxy is not None and listen_given:
        return "give --listen an address of that family, or leave --listen out"
    if len(families) > 1:
        return ("the capture holds both IPv4 and IPv6 datagrams and one socket receives one family: name "
                "one proxy with --pcap-proxy IP:PORT")
    return f"give --listen an address of that family (e.g. --listen {example})"


def build_driver(args: argparse.Namespace):  # noqa: ANN201 - returns MemoryDriver
    from sipsim.engine.config import Profile, ServerConfig
    from sipsim.engine.driver import MemoryDriver
    from sipsim.engine.events import format_addr

    listen = parse_hostport(args.listen or DEFAULT_LISTEN)
    config = ServerConfig(profile=Profile(args.profile), listen=listen, advertise=args.advertise,
                          aliases=tuple(args.alias), relay=not args.no_relay)
    router = None
    if args.route:
        from sipsim.routing import load_route  # the routing engine (issue 5)

        router = load_route(args.route, config)
        config = router.config  # a script's global parameters (advertised_address, check_via ...) apply
    if getattr(args, "wildcard", False):
        from sipsim.real.netinfo import advertise_needed, wildcard_aliases

        if not config.advertise:  # neither --advertise nor the script's advertised_address
            raise UsageError(advertise_needed(f"--listen {format_addr(listen)}"))
        # as serve on the wildcard: every address of this machine means "me"
        ip = listen[0].strip("[]")
        mine = wildcard_aliases(6 if ":" in ip else 4, listen[1])
        config = config.with_(aliases=config.aliases + tuple(a for a in mine if a not in config.aliases))
    return MemoryDriver(config, router=router)


def header(args: argparse.Namespace, config) -> str:  # noqa: ANN001 - ServerConfig
    """The text mode's first line: where the traced proxy stands and how it differs from serve."""
    from sipsim.engine.events import format_addr

    if args.route:
        relay = (f"relay as {args.route} decides (SIPSIM_NO_RELAY {'defined' if args.no_relay else 'undefined'}"
                 f"{'' if args.no_relay else '; --no-relay defines it, as serve without --relay'})")
    elif args.no_relay:
        relay = "relay off, as serve's default: requests for other domains get 403"
    else:
        relay = "relay on — serve's default is off; --no-relay to see its 403"
    via = f", Via {config.advertise}" if config.advertise else ""
    return terminal(f"sipsim trace: proxy udp:{format_addr(config.listen)}{via}, profile {config.profile.value}, "
                    f"route {args.route or 'default.cfg (shipped)'}; {relay}. Names are not resolved: a forward "
                    "to a name shows name:port (serve resolves only with --dns, else answers 478).")


def result_json(name: str, result, item: Input | None = None, proxy: tuple[str, int] | None = None) -> dict:  # noqa: ANN001
    """One --json object (a stable interface: keys are added, never renamed or removed). ``item``
    gives src/dst/frame/time; ``proxy`` is the traced proxy's address (a FILE's destination)."""
    from sipsim.engine.events import format_addr
    from sipsim.packets.pcap import utc_time

    out = {
        # a file name that is no UTF-8 (Python keeps its bytes as surrogates) would make the line
        # no JSON text: its undecodable bytes become U+FFFD, the rest of the name stays readable
        "file": name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
        "outcome": result.outcome,
        "status": result.status if result.outcome == "replied" or result.status else None,
        "reason": shown(result.reason) if result.reason else result.reason,
        "sent": [{"to": format_addr(s.to), "data": s.data.decode("latin-1")} for s in result.sent],
        "steps": [readable_event(ev.to_dict()) for ev in result.events],
    }
    if item is not None:
        dst = item.dst or proxy
        out.update({
            "src": format_addr(item.src),
            "dst": format_addr(dst) if dst else None,
            "frame": item.frame,
            "time": utc_time(item.capture_ns) if item.capture_ns is not None else None,
        })
    return out


def print_text(name: str, data: bytes, src: tuple[str, int], result, out=None, *,  # noqa: ANN001
               full: bool = False, dst: tuple[str, int] | None = None) -> None:
    """One datagram's trace for a terminal. Every text that comes from outside sipsim — the file
    name, the datagram's octets, a routing script's texts (an ``sl_send_reply`` reason with CR LF
    in it), a name in a Via — goes through :func:`terminal`: one line each, nothing a terminal
    would act on."""
    from sipsim.engine.events import format_addr
    from sipsim.engine.network import is_ip

    out = out if out is not None else sys.stdout  # looked up now: sys.stdout may have been replaced

    first = terminal(shown_bytes(data.split(b"\n", 1)[0]).strip())  # a capture may hold any octets
    to = f" to {format_addr(dst)}" if dst else ""  # a capture's datagram: where it was sent
    print(terminal(f"== {name}: {len(data)} bytes from {format_addr(src)}{to}: ") + first[:70], file=out)
    width = max((len(ev.step) for ev in result.events), default=10)
    for ev in result.events:
        mark = {"forwarded": "→", "replied": "↩", "dropped": "✗"}.get(ev.outcome or "", " ")
        print(f"  {mark} {terminal(ev.step):<{width}}  {terminal(shown(ev.text))}", file=out)
    for s in result.sent:
        first_line = terminal(shown_bytes(s.data.split(b"\r\n", 1)[0]))
        print(f"    sent to {terminal(shown(format_addr(s.to)))} ({s.kind}): {first_line}", file=out)
        if not is_ip(s.to[0]):
            print(f"      ({terminal(shown(s.to[0]))} is a name: sipsim does not resolve it; serve without --dns "
                  "answers 478)", file=out)
        if full:
            for line in full_lines(data, s.data, s.kind):
                print(f"      {line}".rstrip(), file=out)
    status = f" {result.status}" if result.status else ""
    print(f"  = {result.outcome}{status}: {terminal(shown(result.reason))}", file=out)
    print(file=out)


def full_lines(received: bytes, sent: bytes, kind: str) -> list[str]:
    """The datagram sent, line by line, for --full. A forwarded request or reply is the received
    one changed, shown as a diff against it: a line the proxy added or changed (its own Via,
    received=/rport on the sender's, Max-Forwards one less) is marked '+', right after the
    received line it replaces or that was left out (a reply's top Via), marked '-'. A local reply
    is a new message: shown as it is."""
    import difflib

    def lines(data: bytes) -> list[str]:
        head, sep, body = data.partition(b"\r\n\r\n")
        out = [terminal(shown_bytes(line)) for line in head.split(b"\r\n")]
        if sep:
            out.append("")
            out += [terminal(shown_bytes(line)) for line in body.split(b"\r\n")] if body else []
        return out

    new = lines(sent)
    if kind == "reply":
        return [f"  {line}" for line in new]
    old = lines(received.replace(b"\n", b"\r\n") if b"\r\n" not in received else received)
    marked: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            marked += [f"  {line}" for line in new[j1:j2]]
        else:
            marked += [f"- {line}" for line in old[i1:i2]] + [f"+ {line}" for line in new[j1:j2]]
    return marked


def run(args: argparse.Namespace) -> int:
    from sipsim.routing.errors import RouteError

    try:
        bad = alias_error(args.alias)  # as serve: one line, not an alias that silently names nothing
        if bad:
            raise UsageError(bad)
        inputs = _inputs(args)
        driver = build_driver(args)
    except UsageError as exc:
        return fail(str(exc))
    except (OSError, ValueError, RouteError) as exc:  # a script that does not load: 1, as check and serve
        return fail(str(exc), 1)
    if not args.json:
        print(header(args, driver.ctx.config) + "\n")
    proxy = driver.ctx.config.listen
    last = max((i for i, item in enumerate(inputs) if item.shown), default=-1)
    for item in inputs[:last + 1]:  # what comes after the last one shown changes nothing shown
        if not item.shown:  # run for the state it leaves (a binding, a counter), quietly
            driver.ctx.tracing, tracing = False, driver.ctx.tracing  # as live mode with no observer
            driver.feed(item.data, item.src, time=item.time)
            driver.ctx.tracing = tracing
            continue
        result = driver.feed(item.data, item.src, time=item.time)
        if args.json:
            print(json.dumps(result_json(item.name, result, item, proxy), ensure_ascii=False))
        else:
            print_text(item.heading(), item.data, item.src, result, full=args.full, dst=item.dst)
    return 0


def run_builtin_demo() -> int:
    """Trace the built-in call flow (RFC 3261 §24 through the biloxi.com proxy)."""
    from sipsim.demo import demo_flow

    driver, flow = demo_flow()
    print("sipsim: the RFC 3261 §24 call flow through the biloxi.com proxy (server10.biloxi.com)\n")
    for name, data, src in flow:
        print_text(name, data, src, driver.feed(data, src))
    return 0
