"""`sipsim stats`: the core, sl, registrar and usrloc statistics of a running `sipsim serve`.

Printed as `kamcmd stats.get_statistics core:` prints them: Kamailio 5.6's whole core group
(kex's fixed list: rcv_requests, rcv_requests_invite ..., rcv_replies_4xx, rcv_replies_486,
rcv_replies_2xx_reg ..., fwd_requests ...), zeros included, sorted by name (core:rcv_requests = 12);
then, as `kamcmd stats.get_statistics sl:` prints them, the sl module's counters of the replies the
server sent itself (sl:200_replies, sl:404_replies, sl:4xx_replies for the other 4xx codes ...,
sl:sent_replies, sl:failures, sl:received_ACKs); then the registrar's group as
`kamcmd stats.get_statistics registrar:` prints it (registrar:accepted_regs: REGISTERs answered
200, queries and removals included; registrar:rejected_regs: answered with an error; and the
settings default_expire, max_contacts, max_expires, with the two expires ranges 5.6.3 always
prints as 0); then usrloc's for the table `location` (usrloc:location_users: AORs,
usrloc:location_contacts: contacts, both counting expired ones not purged yet, as Kamailio's
usrloc until its timer runs; usrloc:location_expires: contacts removed because they expired;
usrloc:registered_users); then sipsim's own live-mode counters
(sipsim:rcv_datagrams, sipsim:send_refused ...), then the receive socket (effective buffer size,
bytes queued, datagrams the kernel dropped because the buffer was full) and each worker's pid.
The server is found by its --listen address (give the same one) or its --control socket.

Counters are summed over the workers; the registrar's settings and usrloc's figures are read when
asked (the location table is one file all workers share).

--json prints the same groups: {"core": {Kamailio's core counters}, "sl": {its sl counters},
"registrar": {...}, "usrloc": {...}, "sipsim": {sipsim's live-mode counters}, "socket": {...},
"workers": [{"slot", "pid", "respawns", "stats"}, ...], ...}.
"""

from __future__ import annotations

import argparse
from typing import Any

from sipsim.cli.common import UsageError, fail, parse_hostport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="core, sl, registrar and usrloc statistics of a running `sipsim serve` "
                       "(like kamcmd stats)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--control", metavar="PATH", help="the server's control socket (default: derived from --listen)")
    p.add_argument("--listen", default="127.0.0.1:5060", metavar="IP:PORT",
                   help="the server's listen address, to find its default control socket (127.0.0.1:5060)")
    p.add_argument("--json", action="store_true",
                   help='print JSON: {"core": {...}, "sl": {...}, "registrar": {...}, "usrloc": {...}, '
                        '"sipsim": {...}, "socket": {...}, "workers": [...]}')
    p.add_argument("--ps", action="store_true", help="print the process table instead (like kamcmd core.ps)")


def run(args: argparse.Namespace) -> int:
    import json

    from sipsim.real.control import default_control_path, query
    from sipsim.real.stats import GROUPS

    try:
        path = args.control or default_control_path(parse_hostport(args.listen))
    except UsageError as exc:
        return fail(str(exc))
    try:
        answer = query(path, "ps" if args.ps else "stats")
    except (OSError, ValueError) as exc:
        hint = ("" if args.control else
                f" (is `sipsim serve --listen {args.listen}` running? give the --listen or --control it uses;"
                " the server of `sipsim tui --live` answers only its TUI, which shows its counters)")
        return fail(f"no sipsim server answers on {path}: {getattr(exc, 'strerror', None) or exc}{hint}", 1)
    if "error" in answer:
        return fail(str(answer["error"]), 1)
    if not args.ps:
        answer = _grouped(answer)
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    if args.ps:
        for proc in answer["processes"]:
            print(f"{proc['pid']:>8}  {proc['desc']}")
        return 0
    # Kamailio's groups under core:, sl:, registrar:, usrloc:; sipsim's own live-mode counters under sipsim:
    for group in GROUPS:
        for name, value in answer[group].items():
            print(f"{group}:{name} = {value}")
    sock = answer.get("socket", {})
    print(f"socket:listen = {sock.get('listen')}")
    for key in ("rcvbuf", "rcvbuf_requested", "rcv_queue", "drops"):
        if sock.get(key) is not None:
            print(f"socket:{key} = {sock[key]}")
    for w in answer.get("workers", []):
        print(f"worker:{w['slot']} pid = {w['pid']} respawns = {w['respawns']} "
              f"rcv_datagrams = {w['stats'].get('rcv_datagrams', 0)}")
    return 0


def _grouped(answer: dict[str, Any]) -> dict[str, Any]:
    """The control socket's ``stats`` answer with its counters as ``kamcmd`` groups them.

    A server that already answers ``{"core": ..., "sl": ..., "registrar": ..., "usrloc": ...,
    "sipsim": ...}`` is taken as it is; one that sums everything under ``"core"`` (sipsim's own
    counters included), or has no ``"sl"``, ``"registrar"`` or ``"usrloc"`` group yet (they show as
    zeros), is split here, so the JSON and the text always show the same groups. Other keys are
    kept in place.
    """
    from sipsim.engine.stats import REGISTRAR_COUNTERS, USRLOC_TABLE
    from sipsim.real.stats import grouped

    core = answer.get("core")
    if not isinstance(core, dict):
        return answer
    merged = dict(core)
    for group in ("sl", "sipsim"):
        if isinstance(answer.get(group), dict):
            merged.update(answer[group])
    reg = answer.get("registrar") if isinstance(answer.get("registrar"), dict) else {}
    merged.update({name: reg[name] for name in REGISTRAR_COUNTERS if name in reg})
    settings = {name: v for name, v in reg.items() if name not in REGISTRAR_COUNTERS}
    loc = answer.get("usrloc")
    usrloc = None
    if isinstance(loc, dict):
        usrloc = (int(loc.get(f"{USRLOC_TABLE}_users", 0)), int(loc.get(f"{USRLOC_TABLE}_contacts", 0)),
                  int(loc.get(f"{USRLOC_TABLE}_expires", 0)))
    groups = grouped(merged, settings, usrloc)
    out: dict[str, Any] = {}
    for key, value in answer.items():
        if key == "core":
            out.update(groups)
        elif key not in groups:
            out[key] = value
    return out
