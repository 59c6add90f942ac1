"""What `sipsim simulate` prints: the text summary, --trace's lines, the --json object and the
"selected" block of a replay's --call-id/--frames (:class:`Picked`). Kept apart from
:mod:`sipsim.cli.simulate`, which reads the command line and runs the scenario.

Every float of the --json object goes through :func:`json_rounded` (nanoseconds): the simulator
adds durations in binary floating point, so a time printed raw carries noise in its last digits
(``0.47038339999999956`` for 0.4703834 s) that means nothing and changes with the order of the
additions. Rounding to 9 decimals keeps every digit the simulation means (its times are
nanosecond-grained; fractions such as utilisation keep 9 decimals), the keys and types stay the
same, and a run stays byte-for-byte reproducible (same input, same rounding).
"""

from __future__ import annotations

import sys
from typing import Any

from sipsim.cli.common import readable_event, shown
from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED

JSON_SCHEMA = 3  # --json's layout version (1: before the key was there); bumped when keys are added
JSON_DIGITS = 9  # decimals kept in --json's floats: nanoseconds for the times in seconds
_ARRIVALS = (DATAGRAM_QUEUED, DATAGRAM_DROPPED)  # a datagram's first event: its arrival

def trace_line(ev: Any, t: float) -> str:
    from sipsim.engine.events import StepEvent

    if type(ev) is StepEvent:
        mark = {"forwarded": "→", "replied": "↩", "dropped": "✗"}.get(ev.outcome or "", " ")
        return f"{t * 1e3:12.4f} ms  W{ev.worker:<5} {mark} {ev.step:<26} #{ev.msg} {shown(ev.text)}"
    who = f"W{ev.worker}" if ev.worker is not None else "kernel"
    return f"{t * 1e3:12.4f} ms  {who:<6}   {ev.kind:<26} {shown(ev.text)}"


def trace_record(ev: Any, t: float) -> dict[str, Any]:
    from sipsim.engine.events import StepEvent

    d = readable_event(ev.to_dict())
    d.pop("time", None)
    return {"time": t, "type": "step" if type(ev) is StepEvent else "kernel", **d}


def result_json(result: Any, trace: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    sc, m = result.scenario, result.metrics
    out: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "scenario": sc.name, "source": sc.source, "seed": sc.seed, "workers": sc.workers, "cpus": sc.cpu_count(),
        "profile": sc.profile, "policy": sc.policy, "rcvbuf": result.rcvbuf, "rmem_max": sc.rmem_max,
        "time": m.time, "events": result.events, "finished": result.finished,
        "handled_by": m.handled_by(), "handled_by_names": handled_by_names(m), "drops": m.drops,
        "pipeline_drops": m.pipeline_drops,
        "wasted_wakeups": m.wasted_wakeups, "metrics": m.summary(), "peers": result.peers,
        "core_stats": result.core_stats, "sl_stats": result.sl_stats,
        "arrival_shift": result.arrival_shift,
    }
    if trace is not None:
        out["trace"] = trace
    return out


def json_rounded(value: Any) -> Any:
    """``value`` with every float in it (nested in dicts, lists and tuples) rounded to
    ``JSON_DIGITS`` decimals; everything else as it is (bool and int are no floats here). The one
    place --json's floats are rounded: see the module doc for why."""
    if type(value) is float:
        return round(value, JSON_DIGITS) + 0.0  # (+ 0.0: a tiny negative becomes 0.0, not -0.0)
    if isinstance(value, dict):
        return {k: json_rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_rounded(v) for v in value]
    return value


def dumps_json(obj: dict[str, Any]) -> str:
    """--json's one line: ``obj`` with its floats rounded (:func:`json_rounded`), non-ASCII kept."""
    import json

    return json.dumps(json_rounded(obj), ensure_ascii=False)


def handled_by_names(m: Any) -> list[str]:
    """The worker that took each datagram, in arrival order, by name (W<id>)."""
    return [f"W{m.worker_of[k]}" for k in sorted(m.worker_of)]


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1e3:.3f} ms"


def print_summary(result: Any, out: Any = None) -> None:
    from sipsim.engine.events import format_addr

    out = out or sys.stdout
    sc, m = result.scenario, result.metrics
    s = m.summary()
    o = s["outcomes"]
    q = s["socket_queue"]
    print(f"sipsim simulate: {sc.name} — {sc.workers} workers, profile {sc.profile}, policy {sc.policy}, "
          f"{sc.cpu_count()} CPUs, rcvbuf {result.rcvbuf} bytes, seed {sc.seed}", file=out)
    if sc.rcvbuf is not None and sc.rcvbuf > sc.rmem_max:
        print(f"  SO_RCVBUF {sc.rcvbuf} was capped at net.core.rmem_max {sc.rmem_max} (doubled: {result.rcvbuf}); "
              "--rmem-max raises the cap", file=out)
    if not sc.seed_is_used():
        print(f"  (seed {sc.seed} changes nothing here: fixed start order, no jitter, no Poisson arrivals, "
              "no reuseport hash)", file=out)
    if sc.proxy.route:
        relay = f"relay as {sc.proxy.route} decides (SIPSIM_NO_RELAY {'undefined' if sc.proxy.relay else 'defined'})"
    elif sc.proxy.relay:
        relay = "relay on — serve's default is off; --no-relay to see its 403"
    else:
        relay = "relay off, as serve's default: requests for other domains get 403"
    print(f"  proxy {format_addr(sc.proxy.listen)}, {relay}", file=out)
    if sc.description:
        print(f"  {sc.description}", file=out)
    if result.arrival_shift > 0:
        print(f"  arrivals    the streams start {result.arrival_shift * 1e3:.3f} ms later than written: they wait "
              "until every worker has slept once (wait_for_workers)", file=out)
    cut = "" if result.finished else " (stopped by --until)"
    print(f"  {result.events} events, virtual time {s['time']:.6f} s{cut}\n", file=out)
    print(f"  datagrams   arrived {s['arrived']}, queued {s['queued']}, dropped by the receive buffer {s['drops']}",
          file=out)
    print(f"              handled {s['handled']}: forwarded {o['forwarded']}, replied {o['replied']}, "
          f"dropped by a worker {o['dropped']}; sent {s['sent']}", file=out)
    print(f"  wake-ups    wasted {s['wasted_wakeups']} ({s['wasted_cpu'] * 1e6:.1f} µs of CPU); "
          f"taken without sleeping {s['took_without_sleeping']}", file=out)
    lat = s["latency"]
    print(f"  latency     arrival → first send: p50 {_ms(lat['p50'])}, p99 {_ms(lat['p99'])} "
          f"({_count(lat['count'], 'datagram')})", file=out)
    socks = q.get("sockets") or []
    if len(socks) > 1:  # reuseport: one queue per socket, each against its own buffer
        worst = max(socks, key=lambda k: k["max_bytes"])
        queued = (f"{len(socks)} sockets, the fullest at most {_count(worst['max_datagrams'], 'datagram')} / "
                  f"{worst['max_bytes']} bytes queued")
    else:
        queued = f"at most {_count(q['datagrams']['max'], 'datagram')} / {q['bytes']['max']} bytes queued"
    print(f"  socket      {queued}; "
          f"wait-queue at most {s['wait_queue']['max']} sleepers (mean {s['wait_queue']['mean']:.2f})\n", file=out)
    print(f"  {'worker':<8}{'sleep#':>7}{'handled':>9}{'busy':>13}{'util':>8}{'took':>7}{'wasted':>8}"
          f"{'wasted CPU':>12}", file=out)
    for w in s["workers"]:
        print(f"  {'W' + str(w['id']):<8}{w['index']:>7}{w['handled']:>9}{_ms(w['busy']):>13}"
              f"{w['utilization'] * 100:>7.1f}%{w['took_without_sleeping']:>7}{w['wasted_wakeups']:>8}"
              f"{w['wasted_cpu'] * 1e6:>9.1f} µs", file=out)
    print("  (busy: recvfrom returned → next recvfrom; util: busy / run time; took: datagrams taken without "
          "sleeping; wasted: wake-ups that found the queue empty)", file=out)
    hb = handled_by_names(m)
    shown = " ".join(hb[:48]) + (" …" if len(hb) > 48 else "")
    print(f"\n  handled by (in arrival order): {shown or '-'}", file=out)
    if result.peers:
        print("\n  peers", file=out)
        for p in result.peers:
            print(f"  {p['name']} ({p['type']} {p['address']}): {_peer_text(p)}", file=out)


def _peer_text(p: dict[str, Any]) -> str:
    parts = [f"sent {p['sent']}, received {p['received']}"]
    if p["retransmissions"]:
        what = ", ".join(f"{k} ×{v}" for k, v in p["retransmitted"].items())
        parts.append(f"retransmitted {what}")
    if "registered" in p:
        parts.append(f"registered ({p.get('register_status', 'no answer')})" if p["registered"]
                     else f"not registered ({p.get('register_status', 'no answer')})")
    if p["type"] == "uac":
        parts.append(f"calls: {p['calls_started']} started, {p['calls_completed']} completed, "
                     f"{p['calls_failed']} failed")
        if p["late_provisionals"]:
            parts.append(f"{p['late_provisionals']} provisional(s) after the final answer (reordered)")
    if p["type"] == "uas":
        parts.append(f"{p['invites']} INVITE(s), {p['answered']} answered, {p['acked']} ACKed, {p['byes']} BYE(s)")
    if p["timeouts"]:
        parts.append(f"{p['timeouts']} transaction timeout(s)")
    return "; ".join(parts)


class Picked:
    """What ``--call-id``/``--frames`` selected of a replay, and after the run what became of it.
    ``labels``: each selected arrival's stream label (``pcap#N``) -> its captured datagram;
    ``replayed``/``ran``: the capture's datagrams replayed, and of them, run. :meth:`find` fills
    ``msgs`` (datagram id -> its captured datagram, None for a loop: a datagram a selected one
    made the proxy send itself, received again) and ``fate`` (id -> what the run did with it).

    During the run :meth:`keep` (the run's trace sink) keeps only the events that can concern the
    selection: a big capture runs tens of events per datagram, and keeping them all for the few
    selected made a late Call-ID slower than the whole replay (memory, and the garbage collector
    walking it)."""

    def __init__(self, selection: Any, labels: dict[str, Any], replayed: int, ran: int) -> None:
        self.selection, self.labels, self.replayed, self.ran = selection, labels, replayed, ran
        self.msgs: dict[int, Any] = {}
        self.fate: dict[int, dict[str, Any]] = {}
        self.events: list[tuple[Any, float]] = []  # what :meth:`keep` kept, in run order
        self._kept: set[int] = set()  # the datagram ids whose events it keeps

    def keep(self, ev: Any, t: float) -> None:
        """The run's trace sink: keep ``ev`` if it is about a selected datagram or a loop (one the
        proxy sent itself: whether a selected datagram sent it, :meth:`find` tells from the wire).
        A datagram's arrival is its first event, so its id is known before the rest come."""
        msg = ev.msg
        if msg is None:
            return
        if msg not in self._kept:
            if getattr(ev, "kind", None) not in _ARRIVALS:
                return
            detail = ev.detail
            if detail.get("stream") not in self.labels and not detail.get("loop"):
                return
            self._kept.add(msg)
        self.events.append((ev, t))

    def find(self, events: list[tuple[Any, float]], wire: list[Any]) -> None:
        """The selected datagrams' ids (from their arrival events' stream label), their loops (a
        datagram sent from the proxy to itself by a selected one, matched by its bytes in the wire
        records: they come in send order), and each one's worker, outcome and sends."""
        from collections import Counter

        from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED, KernelEvent, StepEvent, format_addr
        from sipsim.engine.kernel_queue import first_line

        for ev, _t in events:
            if type(ev) is KernelEvent and ev.kind in (DATAGRAM_QUEUED, DATAGRAM_DROPPED):
                d = self.labels.get(ev.detail.get("stream"))
                if d is not None:
                    self.msgs[ev.msg] = d
        pending: Counter[bytes] = Counter()  # bytes a selected datagram made the proxy send itself, not yet back
        for r in wire:
            if r.src != r.dst:  # (a loop is sent from the proxy's address to it, and arrives so)
                continue
            if r.direction == "out" and r.msg in self.msgs:
                pending[r.data] += 1
            elif r.direction == "in" and pending[r.data] > 0:
                pending[r.data] -= 1
                self.msgs[r.msg] = None
        for r in wire:
            if r.msg in self.msgs:
                f = self.fate.setdefault(r.msg, {"src": None, "first_line": "", "sent": []})
                if r.direction == "in":
                    f["src"], f["first_line"] = format_addr(r.src), first_line(r.data)
                else:
                    f["sent"].append({"to": format_addr(r.dst), "first_line": first_line(r.data)})
        for ev, _t in events:
            if type(ev) is StepEvent and ev.msg in self.msgs and ev.outcome is not None:
                self.fate[ev.msg].update(worker=f"W{ev.worker}", outcome=ev.outcome, status=ev.status)

    def to_json(self) -> dict[str, Any]:
        from sipsim.packets.pcap import utc_time

        out = []
        for msg, d in sorted(self.msgs.items()):
            f = self.fate.get(msg, {})
            out.append({"msg": msg, "frame": d.frame if d is not None else None,
                        "time": utc_time(d.capture_ns) if d is not None and d.capture_ns else None,
                        "src": f.get("src"), "first_line": f.get("first_line", ""), "loop": d is None,
                        "worker": f.get("worker"), "outcome": f.get("outcome"), "status": f.get("status"),
                        "sent": f.get("sent", [])})
        sel = self.selection
        return {"call_id": sel.call_id, "frames": sel.frames_text or None, "replayed": self.replayed,
                "ran": self.ran, "datagrams": out}


def print_selected(picked: Picked, out: Any = None) -> None:
    """The report's "selected" block: each selected datagram (and loop) and what became of it."""
    from sipsim.packets.pcap import frame_label

    out = out or sys.stdout
    loops = sum(1 for d in picked.msgs.values() if d is None)
    more = f" and {loops} loop(s) of theirs (sent by the proxy to itself)" if loops else ""
    print(f"\n  selected ({picked.selection.describe()}): {len(picked.msgs) - loops} datagram(s) of the capture"
          f"{more}", file=out)
    for msg, d in sorted(picked.msgs.items()):
        f = picked.fate.get(msg, {})
        where = frame_label(d) if d is not None else "loop"
        fate = f"{f['worker']} {f['outcome']}{' ' + str(f['status']) if f.get('status') else ''}" \
            if f.get("outcome") else "not handled (dropped by the receive buffer, or the run ended first)"
        sent = "".join(f"; sent {s['first_line']} to {s['to']}" for s in f.get("sent", []))
        print(f"  {where} #{msg} {shown(f.get('first_line', ''))} from {f.get('src')}: {fate}{sent}", file=out)


def _count(n: int, word: str) -> str:
    """"1 datagram", "3 datagrams": the report is read by people."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
