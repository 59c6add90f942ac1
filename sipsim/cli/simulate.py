"""`sipsim simulate`: run a scenario on the simulated kernel and summarise what happened.

    sipsim simulate [SCENARIO] [--workers N] [--policy fifo|wake-all|reuseport|lifo] [--rate R]
                    [--count N] [--rcvbuf BYTES] [--rmem-max BYTES] [--seed S] [--cpus N]
                    [--until SECONDS]
                    [--profile ser|kamailio] [--route FILE] [--no-relay] [--pcap FILE
                    [--pcap-proxy IP:PORT|any ...] [--pcap-time-scale X] [--call-id TEXT] [--frames N-M]]
                    [--save-pcap OUT [--force]] [--trace] [--json] [--list]

SCENARIO is a .toml file (every key: sipsim/engine/scenario.py) or the name of a shipped scenario
(--list; default basic-call). Options override the file. --rate/--count change every arrival
stream of the scenario (a scenario without one gets a stream of OPTIONS pings to the proxy).
A replayed capture is no stream: its datagrams keep their captured times and number
(--pcap-time-scale changes their pace); with --pcap, --rate/--count change only SCENARIO's own
streams, beside the capture, and are refused when it has none.
--pcap adds the SIP datagrams of a capture as arrivals, at their captured times (with no
SCENARIO: an empty one): only those sent to the capture's proxy (guessed, or --pcap-proxy), whose
place the simulated proxy takes; what was left out, and why, goes to stderr. A proxy with several
addresses takes --pcap-proxy once per address: the first is where the simulated proxy listens
(with no SCENARIO), the others are its aliases, and what reached any of them arrives.
A capture that records directions (sipsim's own, tcpdump -i any) holds a datagram its proxy sent
to itself twice, sent and received: neither arrives, for the simulated proxy sends (and receives)
its own; a datagram captured both as sent and as received (a phone on the proxy's box) arrives once.

One call out of many, as `sipsim trace` picks them: --call-id TEXT selects the capture's datagrams
whose Call-ID (or compact i:) is TEXT, --frames N-M those of capture frames N to M (as Wireshark
numbers them; also N, N- and lists: 1-20,67); both: both must hold. The replayed datagrams before
the last one selected still arrive, unselected, so the proxy's state is as in the full replay;
those after it do not arrive (stderr says how many of each). The summary and --json's usual keys
count everything that ran (the kernel, the workers and the queue saw it all); what is *shown* is
the selection: a "selected" block after the summary (each selected datagram — and each loop it
made the proxy send itself — with its frame, worker, outcome and what the proxy sent), --trace's
lines and --json's "trace" only for those datagrams, --json's "selection" key (below), and
--save-pcap keeps only those datagrams and what the proxy sent for them.

The simulated proxy relays requests for other domains (a scenario's proxy.relay, default true);
--no-relay makes it answer 403 as `sipsim serve` does without --relay. Host names are not resolved.
--rcvbuf is SO_RCVBUF as a program asks it: the kernel caps the request at net.core.rmem_max
(--rmem-max, or the scenario's rmem_max; default 212992, the stock value), then doubles it:
--rcvbuf 10000000 gives an sk_rcvbuf of 425984 unless --rmem-max is raised (as root's
`sysctl -w net.core.rmem_max=...` would). --seed changes only what is random: the workers' start
order (when the scenario gives none), step-cost jitter, Poisson arrivals and the reuseport hash;
on a scenario with none of those the summary says the seed changes nothing.

The text summary. Times are virtual: "busy" in ms, from recvfrom returning a datagram to the
worker's next recvfrom (handling it, and any wait for a CPU meanwhile; wasted wake-ups are
counted apart, under "wasted CPU"), "util" busy time as a percentage of the run; "sleep#" the
worker's place in the order workers first went to sleep; "took" datagrams the worker took
*without sleeping* (it came back to recvfrom with data queued); "wasted" wake-ups that found the
queue empty, and the CPU they cost. "handled by" names the worker (W1, W0, ...) that took each
datagram, in arrival order. An "arrivals" line says how much later than written the arrival
streams started, when a scenario with wait_for_workers = true had to wait for its last worker to
go to sleep (e.g. herd --workers 32: 5.502 ms; peers keep their own times).

--trace prints one line per event; --json prints one object — a stable interface (keys are only
ever added). Units in JSON: seconds for every time and duration ("time", "busy", "wasted_cpu",
latencies, series times), "utilization" a fraction (0.004 = 0.4 %), bytes for buffer sizes;
events' "vruntime" is in nanoseconds. Every float is rounded to 9 decimals (nanoseconds: 0.4703834,
not 0.47038339999999956). The values are an example:

    {
      "schema": 3,                   # this layout's version: 2 added schema, rmem_max, handled_by_names;
                                     # 3 added arrival_shift (and selection)
      "scenario": "basic-call", "source": "...", "seed": 1, "workers": 4, "cpus": 4,
      "profile": "ser", "policy": "fifo",
      "rcvbuf": 212992,              # the socket's sk_rcvbuf in bytes (SO_RCVBUF capped, then doubled)
      "rmem_max": 212992,            # net.core.rmem_max the simulated kernel capped SO_RCVBUF at
      "time": 0.3717,                # virtual seconds at the last event
      "events": 200, "finished": true,   # false when --until/`until` cut the run short
      "handled_by": [0, 1, 2, 3, 0, 1, 2, 3],
                                     # per datagram that reached a worker, in arrival order: the
                                     # worker that took it, numbered in the order workers first slept
      "handled_by_names": ["W1", "W0", "W2", "W3", ...],   # the same workers by name (as in --trace)
      "drops": 0,                    # datagrams the receive buffer refused (RcvbufErrors)
      "pipeline_drops": 0,           # datagrams a worker took and dropped
      "wasted_wakeups": 0,           # wake-ups that found the queue empty
      "metrics": {
        "time", "arrived", "queued", "drops", "handled", "pipeline_drops", "wasted_wakeups",
        "wasted_cpu",                # seconds of CPU the wasted wake-ups cost (context switch + empty recvfrom)
        "took_without_sleeping", "sent",
        "outcomes": {"forwarded": n, "replied": n, "dropped": n},
        "latency": {"count", "p50", "p99", "mean", "max"},    # seconds, arrival -> first send
        "socket_queue": {"datagrams": {"max", "mean", "series": [[t, n], ...]},   # summed over sockets
                         "bytes": {"max", "mean", "series": [[t, bytes], ...]},
                         "sockets": [{"socket", "max_datagrams", "max_bytes", "drops"}, ...]},
                                     # one per socket that received (several with --policy reuseport)
        "wait_queue": {"max", "mean", "series": [[t, sleepers], ...]},
        "workers": [{"index", "id", "handled", "busy", "utilization", "took_without_sleeping",
                     "wasted_wakeups", "wasted_cpu"}, ...]          # in sleep order; busy in s,
                                     # utilization a fraction; "took_without_sleeping" is the text's "took"
      },
      "peers": [{"name", "type", "address", "sent", "received", "retransmissions", "retransmitted",
                 "timeouts", ... per type: "calls_started", "calls_completed", "calls_failed",
                 "late_provisionals" (uac); "invites", "answered", "acked", "byes", "registered" (uas)}],
      "core_stats": {"rcv_requests": n, ...},         # Kamailio 5.6's core group: its fixed 85 names, zeros too
      "sl_stats": {"200_replies": n, ...},            # its sl group: 24 names, zeros too (replies sl sent)
      "arrival_shift": 0.0055022,    # seconds the arrival streams start later than written: a scenario
                                     # with wait_for_workers waits until every worker has slept once (0 else)
      "trace": [{"time": t, "type": "kernel"|"step", ...event fields}],  # only with --trace
      "selection": {"call_id": "..." or null, "frames": "N-M" or null,    # only with --call-id/--frames
                    "replayed": n, "ran": n,  # datagrams of the capture replayed; of them, run (to the last selected)
                    "datagrams": [{"msg", "frame" (null for a loop), "time" (ISO 8601 UTC or null), "src",
                                   "first_line", "loop" (sent by the proxy to itself), "worker" ("W0" or null),
                                   "outcome" (null: never taken, or dropped by the buffer), "status",
                                   "sent": [{"to", "first_line"}]}, ...]}
    }
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sipsim.cli.common import EXIT_STATUS, fail, input_file_error, missing_folder
from sipsim.cli.simulate_report import (
    JSON_SCHEMA,
    Picked,
    dumps_json,
    handled_by_names,
    print_selected,
    print_summary,
    result_json,
    trace_line,
    trace_record,
)

__all__ = ["JSON_SCHEMA", "Picked", "build_scenario", "build_selected", "handled_by_names", "print_summary",
           "result_json", "run"]
POLICY_CHOICES = ("fifo", "wake-all", "reuseport", "lifo")
PING = """OPTIONS sip:{domain} SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ping-{n};rport
Max-Forwards: 70
From: <sip:monitor@192.0.2.10>;tag=m{n}
To: <sip:{domain}>
Call-ID: ping-{n}@192.0.2.10
CSeq: {n} OPTIONS
Content-Length: 0

"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run a scenario on the simulated kernel (workers, wait-queue, socket)",
                       description=__doc__, epilog=EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="a .toml file or a shipped scenario's name")
    p.add_argument("--workers", type=int, metavar="N", help="number of workers")
    p.add_argument("--policy", choices=POLICY_CHOICES, help="the kernel's wake-up policy")
    p.add_argument("--rate", type=float, metavar="R",
                   help="datagrams per second of every arrival stream of the scenario (not a --pcap capture's "
                        "datagrams: they keep their captured times)")
    p.add_argument("--count", type=int, metavar="N",
                   help="datagrams in every arrival stream of the scenario (not a --pcap capture's)")
    p.add_argument("--rcvbuf", type=int, metavar="BYTES",
                   help="SO_RCVBUF as asked: the kernel caps it at net.core.rmem_max (--rmem-max, stock 212992), "
                        "then doubles it")
    p.add_argument("--rmem-max", type=int, metavar="BYTES", dest="rmem_max",
                   help="net.core.rmem_max of the simulated kernel (sysctl; default 212992): the cap on --rcvbuf")
    p.add_argument("--seed", type=int, metavar="S", help="seed for start order, jitter and Poisson arrivals")
    p.add_argument("--cpus", type=int, metavar="N", help="CPUs of the simulated machine")
    p.add_argument("--until", type=float, metavar="SECONDS", help="stop at this virtual time")
    p.add_argument("--profile", choices=("ser", "kamailio"), help="which era of the receive path to model")
    p.add_argument("--route", metavar="FILE", help="a routing script (.cfg or KEMI .py) instead of the default route")
    p.add_argument("--no-relay", action="store_true",
                   help="answer 403 to requests for other domains, as serve does without --relay (the scenario's "
                        "proxy.relay = false)")
    p.add_argument("--pcap", metavar="FILE", help="add the SIP datagrams of a pcap/pcapng capture as arrivals")
    p.add_argument("--pcap-proxy", action="append", metavar="IP:PORT|any",
                   help="with --pcap: the capture's proxy; the datagrams sent to it arrive (default: guessed; "
                        "'any': every datagram arrives). Repeat it for each address of a proxy with several: "
                        "the first is the listen address, the others aliases")
    p.add_argument("--pcap-time-scale", type=float, default=None, metavar="X",
                   help="with --pcap: multiply the captured gaps by X (2: half speed, 0.5: double, 0: a burst)")
    p.add_argument("--call-id", metavar="TEXT",
                   help="with --pcap: select the datagrams whose Call-ID is TEXT (compared exactly): the report's "
                        "\"selected\" block, --trace, --json's \"selection\" and --save-pcap show only those; the "
                        "replayed datagrams before the last one selected still run, unselected, so the proxy's state "
                        "is as in the full replay")
    p.add_argument("--frames", metavar="N-M",
                   help="with --pcap: select the datagrams of these capture frames, numbered as Wireshark does (N-M, "
                        "N, N- to the end, or several: 1-20,67); shown as with --call-id")
    p.add_argument("--save-pcap", metavar="OUT",
                   help="write every datagram in and out of the proxy to a new pcap OUT (Wireshark/tshark decode "
                        "it as SIP; this writes, --pcap reads; an existing OUT is refused unless --force). One "
                        "frame per datagram as the socket saw it (reassembled), not wire fragments, each with its "
                        "direction (a Linux cooked capture's packet type: Wireshark's \"Sent by us\"); a replay's "
                        "OUT starts at the first replayed datagram's captured time, others at the current time")
    p.add_argument("--force", action="store_true", help="with --save-pcap: overwrite OUT if it exists")
    p.add_argument("--trace", action="store_true", help="one line per event")
    p.add_argument("--json", action="store_true", help="one JSON object (stable interface, see above)")
    p.add_argument("--list", action="store_true",
                   help="list the shipped scenarios and exit (with --json: one {name, description} object a line)")


def build_scenario(args: argparse.Namespace) -> Any:
    """The scenario the command line asks for (raises ScenarioError / PacketsError / OSError)."""
    return build_selected(args)[0]


def build_selected(args: argparse.Namespace) -> tuple[Any, Picked | None]:
    """The scenario the command line asks for, and what ``--call-id``/``--frames`` selected of its
    replay (None without them): returned together, for the selection is made while the capture is
    read and decides which of its datagrams the scenario runs. ``run`` and the TUI take both from
    here (raises ScenarioError / PacketsError / OSError)."""
    from dataclasses import replace

    from sipsim.engine.peers import proxy_domain
    from sipsim.engine.scenario import ArrivalSpec, Scenario, ScenarioError, load_scenario, normalise_text

    if not args.pcap:
        given = [o for o, v in (("--pcap-proxy", args.pcap_proxy), ("--pcap-time-scale", args.pcap_time_scale),
                                ("--call-id", getattr(args, "call_id", None)),
                                ("--frames", getattr(args, "frames", None))) if v is not None]
        if given:
            raise ScenarioError(f"{given[0]} goes with --pcap (which capture?)")
    if args.workers is not None and args.workers < 1:
        raise ScenarioError("--workers must be at least 1")
    if args.rate is not None and not 0 < args.rate < float("inf"):  # also refuses nan
        raise ScenarioError(f"--rate {args.rate}: give datagrams per second, a finite number above 0")
    if args.scenario:
        sc = load_scenario(args.scenario)  # (a bad proxy.aliases is refused there, as serve --alias)
    elif args.pcap:
        sc = Scenario(name="pcap", description="datagrams of a capture", source="(none)")
    else:
        sc = load_scenario("basic-call")
    resized = args.rate is not None or args.count is not None
    if args.pcap and resized and not sc.arrivals:  # refused before the capture is read
        raise ScenarioError(f"{'--rate' if args.rate is not None else '--count'} changes the scenario's arrival "
                            "streams, and there is none here: a capture replayed with --pcap keeps its captured "
                            "times and datagrams (--pcap-time-scale X changes its pace, --call-id/--frames pick "
                            "some); give a SCENARIO with arrival streams to run them beside the capture")
    if not sc.arrivals and resized:
        ping = normalise_text(PING.replace("{domain}", proxy_domain(sc)))
        sc = replace(sc, arrivals=(ArrivalSpec(messages=(ping,), time=0.01, count=100, rate=1000.0,
                                               label="options"),))
    replayed: tuple[Any, ...] = ()
    picked = None
    if args.pcap:
        from sipsim.packets.replay import save_epoch

        sc, records, picked = _replay(args, sc)
        start = 0.01  # after the workers went to sleep
        # a saved pcap (--save-pcap, the TUI's s key) then lines up with the capture read
        sc = replace(sc, capture_epoch=save_epoch(records, start))
        replayed = tuple(ArrivalSpec(messages=(r.data,), src=(tuple(r.src),), time=start + r.time,
                                     label=f"pcap#{i + 1}", template=False) for i, r in enumerate(records))
    # --rate/--count change the scenario's own streams; the capture's datagrams keep their times
    sc = sc.with_overrides(workers=args.workers, policy=args.policy, rate=args.rate, count=args.count,
                           rcvbuf=args.rcvbuf, rmem_max=getattr(args, "rmem_max", None), seed=args.seed,
                           profile=args.profile, cpus=args.cpus,
                           route=args.route)
    if replayed:
        sc = replace(sc, arrivals=sc.arrivals + replayed)
        sc.validate()  # (each captured datagram's size, as for a scenario's own)
    if args.no_relay:
        sc = replace(sc, proxy=replace(sc.proxy, relay=False))
    if args.until is not None:
        if not args.until > 0:  # also refuses nan
            raise ScenarioError(f"--until {args.until}: give a virtual time in seconds above 0")
        sc = replace(sc, until=args.until)
    return sc, picked


def _replay(args: argparse.Namespace, sc: Any) -> tuple[Any, list[Any], Picked | None]:
    """The capture's datagrams that reach the simulated proxy (sipsim.packets.replay) and what
    --call-id/--frames selected of them (:func:`_select`), notes on stderr. The simulated proxy
    stands in for the captured one: with no SCENARIO it listens on the captured proxy's first
    address (the saved pcap then reads like the original) and its other addresses are aliases;
    with one, every address becomes an alias, so a Request-URI or Route naming any still means
    "myself"."""
    from dataclasses import replace

    from sipsim.engine.peers import proxy_domain
    from sipsim.engine.scenario import ScenarioError
    from sipsim.packets.errors import PcapError
    from sipsim.packets.pcap import read_capture
    from sipsim.packets.replay import family_mismatch, parse_proxy_options, plan_replay

    scale = getattr(args, "pcap_time_scale", None)
    scale = 1.0 if scale is None else scale
    if not 0 <= scale < float("inf"):  # also refuses nan
        raise ScenarioError(f"--pcap-time-scale {scale}: give a factor >= 0 (1: as captured)")
    try:
        proxy = parse_proxy_options(getattr(args, "pcap_proxy", None))
    except PcapError as exc:
        raise ScenarioError(str(exc)) from None
    bad = input_file_error(args.pcap, "--pcap")
    if bad:
        raise ScenarioError(bad)  # a usage error (2), as a missing SCENARIO
    capture = read_capture(args.pcap, time_scale=scale)
    plan = plan_replay(capture.datagrams, proxy, loopback=True)  # the simulated proxy delivers its loops
    for note in capture.notes() + (plan.notes() if capture.datagrams else []):
        print(f"sipsim: {args.pcap}: {note}", file=sys.stderr)
    if not plan.arrivals:
        what = "no SIP datagram over UDP" if not capture.datagrams else "no datagram sent to the capture's proxy"
        raise ScenarioError(f"{args.pcap}: {what} in this capture ({capture.packets} packet(s) read)")
    if plan.proxy is not None:
        # the scenario's peers take the first alias as their domain: keep the one they used
        kept = (sc.proxy.aliases or (proxy_domain(sc),)) if args.scenario else sc.proxy.aliases
        names = plan.alias_names(every=bool(args.scenario))  # a scenario fixes where the proxy listens
        sc = replace(sc, proxy=replace(sc.proxy, aliases=tuple(dict.fromkeys((*kept, *names)))))
        if not args.scenario:
            sc = replace(sc, proxy=replace(sc.proxy, listen=plan.proxy))
    wrong = family_mismatch(plan.arrivals, sc.proxy.listen[0])
    if wrong:
        raise ScenarioError(f"{args.pcap}: {wrong}; replay it without a SCENARIO (the proxy then listens where "
                            "the captured one did) or pick another proxy with --pcap-proxy")
    return (sc, *_select(args, plan, capture.packets))


def _select(args: argparse.Namespace, plan: Any, packets: int) -> tuple[list[Any], Picked | None]:
    """The arrivals to run: all, or with --call-id/--frames those up to the last one selected (the
    earlier ones for the proxy's state; see the module doc), and the selection (None without
    those options). What it picked goes to stderr, nothing picked is a ScenarioError."""
    from sipsim.engine.scenario import ScenarioError
    from sipsim.packets.errors import PcapError
    from sipsim.packets.replay import Selection, parse_frames

    call_id, frames = getattr(args, "call_id", None), getattr(args, "frames", None)
    try:
        selection = Selection(call_id, parse_frames(frames) if frames is not None else (), frames or "")
        if not selection.active:
            return plan.arrivals, None
        flags, others = plan.select(selection)  # the Call-IDs the plan read: each datagram parsed once
        note = selection.note(plan, flags, others, packets, shown_word="selected", after=True)
    except PcapError as exc:
        raise ScenarioError(f"{args.pcap}: {exc}") from None
    print(f"sipsim: {args.pcap}: {note}", file=sys.stderr)
    last = max(i for i, flag in enumerate(flags) if flag)
    records = plan.arrivals[:last + 1]
    labels = {f"pcap#{i + 1}": d for i, d in enumerate(records) if flags[i]}  # the arrivals' labels (below)
    return records, Picked(selection, labels, len(plan.arrivals), len(records))


def save_wire_pcap(path: str, wire: list[Any], epoch: float = 0.0) -> int:
    """Write the proxy's datagrams to a pcap with real IP/UDP headers, virtual time t at ``epoch + t``,
    each with its direction (received or sent: a Linux cooked capture's packet type, so that a
    datagram the proxy sent to itself is there once sent and once received, told apart)."""
    import os

    from sipsim.packets import PcapWriter

    # written beside ``path`` and renamed into place once complete: a record the writer refuses
    # must leave no half capture behind (nor replace the one --force would have overwritten)
    tmp = f"{path}.part-{os.getpid()}"
    try:
        f = open(tmp, "xb")  # noqa: SIM115 - closed below, before the rename
    except OSError as exc:
        raise OSError(f"cannot create {tmp}: {exc.strerror or exc}") from None
    try:
        with f, PcapWriter(f, epoch=epoch, directions=True) as w:
            for r in wire:
                w.write(r.time, r.src, r.dst, r.data, r.direction)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return len(wire)


def run(args: argparse.Namespace) -> int:
    from sipsim.engine.scenario import ScenarioError, list_scenarios, load_router
    from sipsim.engine.simulation import run_scenario

    if args.list:
        for name, desc in list_scenarios():
            # --json: one object a line, as every other --json output of simulate and trace
            print(dumps_json({"name": name, "description": desc}) if args.json else f"{name:<14} {desc}")
        return 0
    if args.force and not args.save_pcap:
        return fail("--force goes with --save-pcap OUT (it allows overwriting OUT)")
    if args.save_pcap and not args.force:  # refused before anything runs: --save-pcap writes
        from sipsim.packets.pcapwriter import existing_capture_error

        exists = existing_capture_error(args.save_pcap, "simulate --save-pcap")
        if exists:
            return fail(exists)
    if args.save_pcap:
        missing = missing_folder(args.save_pcap, "--save-pcap")  # refused before the run, not after it
        if missing:
            return fail(missing, 1)
    try:
        sc, picked = build_selected(args)
    except ScenarioError as exc:
        return fail(str(exc))
    except (OSError, ValueError) as exc:  # unreadable files, PcapError
        return fail(str(exc), 1)
    try:  # a routing script that does not load is no usage error: 1, as trace, serve and check say
        router = load_router(sc, sc.server_config())
    except ScenarioError as exc:
        return fail(str(exc), 1)
    records: list[dict[str, Any]] | None = [] if args.trace and args.json else None
    trace = None
    if picked is not None:  # the selected datagrams' events are kept, and shown after the run
        trace = picked.keep
    elif args.trace:
        if records is not None:
            def trace(ev: Any, t: float) -> None:
                records.append(trace_record(ev, t))  # type: ignore[union-attr]
        else:
            def trace(ev: Any, t: float) -> None:
                print(trace_line(ev, t))
    wire: list[Any] | None = [] if args.save_pcap or picked is not None else None
    try:
        result = run_scenario(sc, trace=trace, wire=wire, router=router)
    except ScenarioError as exc:
        return fail(str(exc))
    if picked is not None:
        picked.find(picked.events, wire or [])
        for ev, t in picked.events if args.trace else ():
            if getattr(ev, "msg", None) in picked.msgs:
                if records is not None:
                    records.append(trace_record(ev, t))
                else:
                    print(trace_line(ev, t))
    if args.save_pcap and wire is not None:
        import time

        epoch = sc.capture_epoch  # a replay: the capture's time; else now (not 1970)
        kept = wire if picked is None else [r for r in wire if r.msg in picked.msgs]  # the selected, and their sends
        try:
            save_wire_pcap(args.save_pcap, kept, time.time() if epoch is None else epoch)
        except (OSError, ValueError) as exc:
            return fail(f"cannot write {args.save_pcap}: {exc}", 1)
    if args.json:
        out = result_json(result, records)
        if picked is not None:
            out["selection"] = picked.to_json()
        print(dumps_json(out))
    else:
        if args.trace:
            print()
        print_summary(result)
        if picked is not None:
            print_selected(picked)
    return 0
