"""The built-in predicates: what a lesson can ask of a finished simulation.

Every predicate takes the run (:class:`~sipsim.lessons.view.RunView`) and keyword arguments from
the lesson's front matter, and returns an :class:`~sipsim.lessons.judge.Observation`. Arguments
named ``msg`` take one datagram and ``msgs`` several, with the selectors of
:meth:`~sipsim.lessons.view.MessageIndex.select`: an arrival number (``5``), a range (``"1-8"``),
an arrival stream's label (``"no via"``), or filters (``{ method = "INVITE" }``,
``{ status = 180 }``, ``{ peer = "alice", method = "ACK" }``, ``{ ..., nth = 2 }``).

The sentence of each observation is what ``sipsim lesson N --check`` prints and the TUI shows
after an answer: it says what the simulation did, in words, with the datagram it is about.
"""

from __future__ import annotations

from typing import Any

from sipsim.engine.events import DATAGRAM_QUEUED, DATAGRAM_SENT, WASTED_WAKEUP, KernelEvent
from sipsim.lessons.judge import Observation
from sipsim.lessons.model import LessonError
from sipsim.lessons.predicates import predicate
from sipsim.lessons.view import MsgInfo, RunView, worker_name

# -- the kernel: who sleeps, who is woken, who takes what -----------------------------------------


def _how(m: MsgInfo) -> str:
    if m.taker is None:
        return "never reached a worker" + (" (the receive buffer was full: the kernel dropped it)"
                                           if m.dropped_by_kernel else "")
    how = "woken from the wait-queue" if m.slept else "took it without sleeping (it was already queued)"
    return f"was taken by {worker_name(m.taker)}, {how}"


@predicate("taker", kind="worker")
def taker(view: RunView, msg: Any) -> Observation:
    """The worker whose recvfrom returned datagram ``msg``."""
    m = view.msg(msg)
    return Observation(worker_name(m.taker), "worker", f"{m.describe()} {_how(m)}.")


@predicate("takers", kind="workers")
def takers(view: RunView, msgs: Any = "all") -> Observation:
    """The workers that took the datagrams ``msgs``, in arrival order."""
    got = view.handled(msgs)
    if not got:
        raise LessonError(f"no datagram of {msgs!r} reached a worker")
    seq = [m.taker for m in got]
    ids = f"#{got[0].id}-#{got[-1].id}" if len(got) > 1 else f"#{got[0].id}"
    return Observation(seq, "workers", f"datagrams {ids} were taken by {' '.join(worker_name(w) for w in seq)}.")


@predicate("sleep_order", kind="workers")
def sleep_order(view: RunView) -> Observation:
    """The order in which the workers first went to sleep in recvfrom."""
    order = view.sleep_order
    return Observation(list(order), "workers",
                       f"the workers first slept in the order {' → '.join(worker_name(w) for w in order)}.")


@predicate("round_robin", kind="bool")
def round_robin(view: RunView, msgs: Any = "all") -> Observation:
    """Whether the datagrams ``msgs`` were taken in strict rotation of the workers' first sleep order."""
    got = view.handled(msgs)
    order = view.sleep_order
    if not got or not order:
        raise LessonError("no datagram reached a worker: nothing to compare with the sleep order")
    seq = [m.taker for m in got]
    start = order.index(seq[0]) if seq[0] in order else 0
    expected = [order[(start + i) % len(order)] for i in range(len(seq))]
    ok = seq == expected
    said = " ".join(worker_name(w) for w in seq)
    if ok:
        return Observation(True, "bool", f"strict round-robin in sleep order ({' → '.join(map(worker_name, order))}): "
                                         f"{said}.")
    k = next(i for i, (a, b) in enumerate(zip(seq, expected, strict=True)) if a != b)
    return Observation(False, "bool", f"not round-robin: sleep order {' → '.join(map(worker_name, order))}, takers "
                                      f"{said}; #{got[k].id} went to {worker_name(seq[k])}, the rotation says "
                                      f"{worker_name(expected[k])}.")


@predicate("took_without_sleeping", kind="number")
def took_without_sleeping(view: RunView, msgs: Any = "all") -> Observation:
    """How many of ``msgs`` a worker took at once, finding them queued when it called recvfrom."""
    got = view.handled(msgs)
    n = sum(1 for m in got if m.slept is False)
    return Observation(n, "number", f"{n} of {len(got)} datagrams were taken without sleeping; "
                                    f"{len(got) - n} woke a sleeping worker.")


@predicate("workers_used", kind="number")
def workers_used(view: RunView, msgs: Any = "all") -> Observation:
    """How many different workers took the datagrams ``msgs``."""
    got = view.handled(msgs)
    used = sorted({m.taker for m in got if m.taker is not None})
    return Observation(len(used), "number", f"{len(got)} datagrams were taken by {len(used)} worker(s): "
                                            f"{', '.join(map(worker_name, used)) or 'none'}.")


@predicate("wasted_wakeups", kind="number")
def wasted_wakeups(view: RunView, per_datagram: bool = False) -> Observation:
    """Wake-ups that found the queue empty (in total, or per datagram handled)."""
    wasted = len(view.kernel_events(WASTED_WAKEUP))
    handled = len(view.handled())
    if per_datagram:
        value = round(wasted / handled, 2) if handled else 0.0
        return Observation(value, "number", f"{wasted} wasted wake-ups for {handled} datagrams: {value:g} each.")
    return Observation(wasted, "number", f"{wasted} wake-ups found nothing to read ({handled} datagrams handled).")


@predicate("max_queued", kind="number")
def max_queued(view: RunView) -> Observation:
    """The most datagrams the socket's receive queue held at once."""
    most = max((int(ev.detail.get("queued", 0)) for ev in view.kernel_events(DATAGRAM_QUEUED)), default=0)
    rcvbuf = view.final.sockets[0].rcvbuf
    return Observation(most, "number", f"at most {most} datagrams waited in the receive queue at once "
                                       f"(sk_rcvbuf {rcvbuf} bytes).")


@predicate("kernel_drops", kind="number")
def kernel_drops(view: RunView, msgs: Any = "all") -> Observation:
    """How many of ``msgs`` the kernel dropped because the receive buffer was full."""
    got = view.msgs(msgs)
    n = sum(1 for m in got if m.dropped_by_kernel)
    return Observation(n, "number", f"the kernel dropped {n} of {len(got)} datagrams (RcvbufErrors); "
                                    f"{len(got) - n} were queued.")


@predicate("dropped_reached_worker", kind="bool")
def dropped_reached_worker(view: RunView) -> Observation:
    """Whether any datagram the kernel dropped was ever seen by a worker."""
    dropped = [m for m in view.msgs("all") if m.dropped_by_kernel]
    seen = [m for m in dropped if m.taker is not None or m.steps]
    if seen:
        return Observation(True, "bool", f"{seen[0].describe()} was dropped and yet reached a worker.")
    return Observation(False, "bool", f"none of the {len(dropped)} dropped datagrams reached a worker: no recvfrom "
                                      f"ever returned them, no step ran for them.")


# -- the pipeline: what happened to one datagram ----------------------------------------------------


def _outcome(m: MsgInfo) -> tuple[str, str]:
    final = m.final
    if final is None:
        if m.dropped_by_kernel:
            return "dropped", "in the kernel (receive buffer full)"
        return "none", "nothing decided yet"
    value = f"replied {final.status}" if final.outcome == "replied" else str(final.outcome)
    where = f"at {final.step}"
    if final.reason:
        where += f" ({final.reason})"
    return value, where


@predicate("all_handled", kind="bool")
def all_handled(view: RunView, msgs: Any = "all") -> Observation:
    """Whether every datagram of ``msgs`` that a worker took was forwarded or answered."""
    got = view.handled(msgs)
    bad = [m for m in got if m.final is None or m.final.outcome not in ("forwarded", "replied")]
    if bad:
        value, where = _outcome(bad[0])
        return Observation(False, "bool", f"{len(bad)} of the {len(got)} datagrams the workers took were not "
                                          f"forwarded or answered, e.g. {bad[0].describe()}: {value} {where}.")
    return Observation(True, "bool", f"all {len(got)} datagrams the workers took were forwarded or answered.")


@predicate("outcome", kind="text")
def outcome(view: RunView, msg: Any) -> Observation:
    """What became of datagram ``msg``: "forwarded", "replied NNN" or "dropped"."""
    m = view.msg(msg)
    value, where = _outcome(m)
    return Observation(value, "text", f"{m.describe()}: {value} {where}.")


@predicate("status", kind="number")
def status(view: RunView, msg: Any) -> Observation:
    """The status code the proxy answered datagram ``msg`` with (0: no answer)."""
    m = view.msg(msg)
    final = m.final
    code = final.status if final is not None and final.outcome == "replied" and final.status else 0
    value, where = _outcome(m)
    return Observation(code, "number", f"{m.describe()}: {value} {where}.")


@predicate("decided_by", kind="text")
def decided_by(view: RunView, msg: Any) -> Observation:
    """The step that decided datagram ``msg``'s fate (udp_rcv_loop, parse_msg, receive_msg.sanity, ...)."""
    m = view.msg(msg)
    final = m.final
    step = final.step if final is not None else ("kernel" if m.dropped_by_kernel else "none")
    value, where = _outcome(m)
    return Observation(step, "text", f"{m.describe()}: {value} {where}.")


@predicate("dropped_by_callback", kind="text")
def dropped_by_callback(view: RunView, msg: Any) -> Observation:
    """The pre-script callback that dropped datagram ``msg`` ("none" when no callback did)."""
    m = view.msg(msg)
    final = m.final
    if final is not None and final.step == "exec_pre_script_cb" and final.outcome == "dropped":
        name = str(final.detail.get("callback", "?"))
        return Observation(name, "text", f"{m.describe()}: the pre-script callback {name} returned 0 and the "
                                         f"message was dropped before the routing script.")
    value, where = _outcome(m)
    return Observation("none", "text", f"{m.describe()}: no callback dropped it; {value} {where}.")


@predicate("callback_order", kind="seq")
def callback_order(view: RunView, msg: Any) -> Observation:
    """The pre-script callbacks run for datagram ``msg``, in the order they ran."""
    m = view.msg(msg)
    names = [str(ev.detail.get("callback")) for ev in m.steps
             if ev.step == "exec_pre_script_cb" and ev.detail.get("callback")]
    return Observation(names, "seq", f"{m.describe()}: pre-script callbacks ran in the order "
                                     f"{' → '.join(names) or '(none)'}.")


@predicate("first_of", kind="text")
def first_of(view: RunView, msg: Any, steps: list[str]) -> Observation:
    """Which of ``steps`` datagram ``msg`` reached first ("none": none of them)."""
    m = view.msg(msg)
    for ev in m.steps:
        if ev.step in steps:
            return Observation(ev.step, "text", f"{m.describe()} reached {ev.step} first (of {', '.join(steps)}).")
    return Observation("none", "text", f"{m.describe()} reached none of {', '.join(steps)}.")


@predicate("reached", kind="bool")
def reached(view: RunView, msg: Any, step: str) -> Observation:
    """Whether datagram ``msg`` reached pipeline step ``step``."""
    m = view.msg(msg)
    ok = any(ev.step == step for ev in m.steps)
    value, where = _outcome(m)
    return Observation(ok, "bool", f"{m.describe()} {'reached' if ok else 'never reached'} {step}; "
                                   f"{value} {where}.")


def _nth_step(m: MsgInfo, step: str, nth: int = 1) -> int:
    k = 0
    for i, ev in enumerate(m.steps):
        if ev.step == step:
            k += 1
            if k == nth:
                return i
    raise LessonError(f"{m.describe()} has no step {step!r}" + (f" (occurrence {nth})" if nth > 1 else ""))


@predicate("parsed_at", kind="flags")
def parsed_at(view: RunView, msg: Any, step: str = "parse_msg", nth: int = 1) -> Observation:
    """The header flags the ``nth`` ``step`` of datagram ``msg`` parsed, and where parsing stopped."""
    m = view.msg(msg)
    ev = m.steps[_nth_step(m, step, nth)]
    flags = list(ev.parsed)
    stop = f"; msg->unparsed is now offset {ev.unparsed}" if ev.unparsed is not None else ""
    return Observation(flags, "flags", f"{m.describe()}: {step} parsed {', '.join(flags) or 'no header'}{stop}.")


@predicate("parsed_before", kind="flags")
def parsed_before(view: RunView, msg: Any, step: str = "request_route") -> Observation:
    """Every header flag parsed for datagram ``msg`` before its first ``step``."""
    m = view.msg(msg)
    end = _nth_step(m, step)
    flags: list[str] = []
    for ev in m.steps[:end]:
        flags.extend(f for f in ev.parsed if f not in flags)
    return Observation(flags, "flags", f"{m.describe()}: before {step}, the parser had set "
                                       f"{', '.join(flags) or 'no flag'}.")


@predicate("next_parser", kind="text")
def next_parser(view: RunView, msg: Any, after: str = "parse_msg") -> Observation:
    """The first step after ``after`` that made the parser read further in datagram ``msg``."""
    m = view.msg(msg)
    start = _nth_step(m, after)
    for ev in m.steps[start + 1:]:
        if ev.parsed:
            return Observation(ev.step, "text", f"{m.describe()}: after {after}, {ev.step} was the next to ask "
                                                f"for headers: {', '.join(ev.parsed)}.")
    return Observation("none", "text", f"{m.describe()}: nothing parsed further after {after}.")


def _header_names(data: bytes, start: int, end: int) -> list[str]:
    """Names of the header lines that begin in data[start:end] (folded lines belong to theirs)."""
    names = []
    pos = start
    head_end = data.find(b"\r\n\r\n")
    limit = min(end, head_end + 2 if head_end >= 0 else len(data))
    while pos < limit:
        nl = data.find(b"\n", pos)
        line = data[pos:nl if nl >= 0 else len(data)].rstrip(b"\r")
        if line and line[:1] not in (b" ", b"\t") and b":" in line:
            names.append(line.split(b":", 1)[0].strip().decode("utf-8", errors="replace"))
        if nl < 0:
            break
        pos = nl + 1
    return names


@predicate("headers_parsed", kind="flags")
def headers_parsed(view: RunView, msg: Any, step: str = "parse_msg", nth: int = 1) -> Observation:
    """The header lines the parser walked over during the ``nth`` ``step`` of datagram ``msg``
    (from where the previous step left ``msg->unparsed`` to where this one left it)."""
    m = view.msg(msg)
    data = view.datagram(m)
    if data is None:
        raise LessonError(f"{m.describe()}: its bytes are not in the scenario (only arrival streams' are)")
    k = _nth_step(m, step, nth)
    before = data.find(b"\n") + 1  # headers start after the first line
    for ev in m.steps[:k]:
        if ev.unparsed is not None:
            before = max(before, ev.unparsed)
    after = m.steps[k].unparsed
    if after is None or after <= before:
        return Observation([], "flags", f"{m.describe()}: {step} parsed no further header "
                                        f"(msg->unparsed stays at {before}).")
    names = _header_names(data, before, after)
    return Observation(names, "flags", f"{m.describe()}: {step} moved msg->unparsed from {before} to {after}, "
                                       f"over {', '.join(names) or 'no header line'}.")


@predicate("change_model", kind="text")
def change_model(view: RunView, msg: Any, step: str) -> Observation:
    """Where the changes made up to ``step`` live: "lumps" (Kamailio: buf untouched, edits recorded
    beside it) or "buf" (SER: edits made in buf, the received copy kept in orig); "none" if no change."""
    m = view.msg(msg)
    found = _changes_until(m, step)
    if not found:
        return Observation("none", "text", f"{m.describe()}: nothing changed up to {step}.")
    said = f"{len(found)} change(s) up to {step}"
    if view.scenario.profile == "kamailio":
        return Observation("lumps", "text", f"{m.describe()}: {said}, kept as lumps; buf still holds the received "
                                            f"bytes (profile kamailio).")
    return Observation("buf", "text", f"{m.describe()}: {said}, applied to buf; orig keeps the received bytes "
                                      f"(profile ser).")


@predicate("all_slept", kind="bool")
def all_slept(view: RunView, msgs: Any = "all") -> Observation:
    """Whether every datagram of ``msgs`` woke a sleeping worker (none was taken without sleeping)."""
    got = view.handled(msgs)
    n = sum(1 for m in got if m.slept is False)
    if n:
        first = next(m for m in got if m.slept is False)
        return Observation(False, "bool", f"{n} of {len(got)} datagrams were taken without sleeping, the first "
                                          f"{first.describe()} by {worker_name(first.taker)}.")
    return Observation(True, "bool", f"each of the {len(got)} datagrams woke a sleeping worker.")


def _changes_until(m: MsgInfo, step: str) -> list[tuple[Any, ...]]:
    end = _nth_step(m, step)
    lumps: list[tuple[Any, ...]] = []
    for ev in m.steps[:end + 1]:
        ch = ev.detail.get("changes") if ev.detail else None
        if ch is not None:
            lumps = [tuple(lp) for lp in ch.get("lumps", ())]
    return lumps


@predicate("lumps", kind="number")
def lumps(view: RunView, msg: Any, step: str = "forward_request") -> Observation:
    """How many lumps (recorded changes) datagram ``msg`` carries when its ``step`` has run."""
    m = view.msg(msg)
    found = _changes_until(m, step)
    said = "; ".join(f"{op} at {off}" + (f" {text!r}" if text else f" ({ln} bytes)") for op, off, ln, text, *_ in found)
    return Observation(len(found), "number", f"{m.describe()}: {len(found)} lumps after {step}: {said or 'none'}.")


@predicate("lump_added", kind="bool")
def lump_added(view: RunView, msg: Any, contains: str) -> Observation:
    """Whether some step of datagram ``msg`` recorded a lump inserting text that contains ``contains``."""
    m = view.msg(msg)
    for ev in m.steps:
        ch = ev.detail.get("changes") if ev.detail else None
        for lp in (ch or {}).get("lumps", ()):
            if lp[0] == "add" and contains in str(lp[3]):
                return Observation(True, "bool", f"{m.describe()}: {ev.step} recorded a lump inserting "
                                                 f"{str(lp[3]).strip()!r}.")
    value, where = _outcome(m)
    return Observation(False, "bool", f"{m.describe()}: no lump inserts {contains!r}; {value} {where}.")


@predicate("route_action", kind="text")
def route_action(view: RunView, msg: Any) -> Observation:
    """The routing-script action that ran last before datagram ``msg``'s fate was decided."""
    m = view.msg(msg)
    final = m.final
    last = None
    for ev in m.steps:
        if ev is final:
            break
        if ev.step.startswith("route:") and ev.step not in ("route:end", "route:cond", "route:if"):
            last = ev
    if last is None:
        value, where = _outcome(m)
        return Observation("none", "text", f"{m.describe()}: no script action decided it; {value} {where}.")
    d = last.detail
    action = last.step.removeprefix("route:")
    return Observation(action, "text", f"{m.describe()}: decided by {action} at {d.get('route', 'the script')} "
                                       f"line {d.get('line')}: {str(d.get('src', '')).strip()}")


# -- what left the proxy -----------------------------------------------------------------------------


@predicate("sent_to", kind="text")
def sent_to(view: RunView, msg: Any, nth: int = 1) -> Observation:
    """Where the proxy sent what datagram ``msg`` made it send ("nothing" when it sent nothing)."""
    m = view.msg(msg)
    if len(m.sent) < nth:
        value, where = _outcome(m)
        return Observation("nothing", "text", f"{m.describe()}: nothing was sent; {value} {where}.")
    ev = m.sent[nth - 1]
    to = str(ev.detail.get("to", ""))
    return Observation(to, "text", f"{m.describe()}: {worker_name(ev.worker)} sent "
                                   f"{ev.detail.get('first_line', '')} to {to}.")


def _header_values(data: bytes, name: str) -> list[str]:
    """The values of every ``name`` header line in a SIP datagram's header block (name compared
    without case; folded continuation lines joined), in order. Read as UTF-8, as SIP text is
    (RFC 3261 §7.3.1): a display name ``"Zoë"`` compares equal to the ``Zoë`` a lesson expects."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", errors="replace")
    lines: list[str] = []
    for line in head.split("\r\n")[1:]:
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    want = name.strip().casefold()
    return [v.strip() for n, sep, v in (x.partition(":") for x in lines) if sep and n.strip().casefold() == want]


@predicate("sent_header", kind="text")
def sent_header(view: RunView, msg: Any, name: str, nth: int = 1) -> Observation:
    """The value of header ``name`` in what the proxy sent because of datagram ``msg`` ("none": no
    such header; "nothing sent": it sent nothing) — read from the bytes that left, not from lumps."""
    m = view.msg(msg)
    sent = view.sent_bytes(m)
    if len(sent) < nth:
        value, where = _outcome(m)
        return Observation("nothing sent", "text", f"{m.describe()}: nothing was sent; {value} {where}.")
    dst, data = sent[nth - 1]
    what = data.split(b"\r\n", 1)[0].decode("utf-8", errors="replace")
    found = _header_values(data, name)
    if not found:
        late = _late_lump(m, name)
        return Observation("none", "text", f"{m.describe()}: the {what!r} sent to {dst} has no {name} header"
                           + (f"; {late} recorded a lump adding it, after the message had left — lumps are "
                              "applied when the outgoing buffer is built, so add it before forward()."
                              if late else "."))
    broken = _not_well_formed(data)
    if broken:  # a header added without its CRLF (append_hf("X: 1")) ran into the empty line
        return Observation("not well-formed", "text",
                           f"{m.describe()}: the {what!r} sent to {dst} carries {name}: {found[0]}, but it is no "
                           f"well-formed SIP message any more: {broken} (RFC 3261 §7) — does the text a script "
                           "adds end with \\r\\n?")
    return Observation(found[0], "text", f"{m.describe()}: the {what!r} sent to {dst} carries {name}: {found[0]}.")


def _late_lump(m: Any, name: str) -> str | None:
    """The step that recorded a lump adding header ``name`` after datagram ``m``'s first send, or None."""
    sent = False
    for ev in m.steps:
        if ev.step in ("forward_request", "forward_reply"):
            sent = True
            continue
        ch = ev.detail.get("changes") if sent and ev.detail else None
        for lp in (ch or {}).get("lumps", ()):
            if lp[0] == "add" and str(lp[3]).lstrip().casefold().startswith(name.casefold() + ":"):
                return ev.step
    return None


def _not_well_formed(data: bytes) -> str | None:
    """Why a datagram the proxy sent is no RFC 3261 message (read by the RFC parser, every
    header), or None."""
    from sipsim.engine.parser.hf import F_EOH
    from sipsim.engine.parser.msg import ReceiveInfo, SipMsg
    from sipsim.engine.parser.msg_parser import parse_headers, parse_msg

    msg = SipMsg(data, ReceiveInfo(("127.0.0.1", 5060), ("127.0.0.1", 5060)), ser=True)
    if parse_msg(msg) < 0:
        return msg.parse_error.reason if msg.parse_error else "it does not parse"
    if parse_headers(msg, F_EOH) < 0:
        return msg.hdr_error.reason if msg.hdr_error else "a header does not parse"
    return None


@predicate("send_order", kind="seq")
def send_order(view: RunView, msgs: Any) -> Observation:
    """The order in which the proxy sent on what the datagrams ``msgs`` made it send (method or status)."""
    wanted = {m.id: m for m in view.msgs(msgs)}
    order: list[MsgInfo] = []
    for ev in view.events:
        if type(ev) is KernelEvent and ev.kind == DATAGRAM_SENT and ev.msg in wanted:
            m = wanted[ev.msg]
            if m not in order:
                order.append(m)
    labels = [m.short for m in order]
    arrived = [m.short for m in sorted(wanted.values(), key=lambda x: x.id)]
    return Observation(labels, "seq", f"arrived in the order {' '.join(arrived)}; the proxy sent them on in the "
                                      f"order {' '.join(labels) or '(none)'}.")


@predicate("via_params_added", kind="seq")
def via_params_added(view: RunView, msg: Any) -> Observation:
    """The parameters forward_request wrote into the received top Via of datagram ``msg`` (received=, rport=)."""
    m = view.msg(msg)
    ev = m.steps[_nth_step(m, "forward_request")]
    params = [str(p) for p in ev.detail.get("received", ())]
    return Observation(params, "seq", f"{m.describe()}: forward_request "
                                      + (f"added {'; '.join(params)} to the top Via." if params
                                         else "left the top Via as it was."))


# -- the world around: peers and statistics ----------------------------------------------------------


@predicate("responses", kind="seq")
def responses(view: RunView, peer: str, method: str = "INVITE") -> Observation:
    """The status codes a calling peer received for its ``method``, in the order they arrived."""
    p = view.peer(peer)
    got = getattr(p, "responses", None)
    if got is None:
        raise LessonError(f"peer {peer!r} does not record the responses it receives (only a uac does)")
    codes = [r.split()[0] for r in got if r.split()[-1] == method.upper()]
    return Observation(codes, "seq", f"{peer} received, for its {method.upper()}: {' '.join(codes) or 'nothing'}.")


@predicate("late_provisional_fate", kind="text")
def late_provisional_fate(view: RunView, peer: str) -> Observation:
    """What a calling peer did with provisional answers that came after its call's final answer:
    "ignored" (the call went on), "call failed", or "none" (no provisional came late)."""
    s = view.peer(peer).summary()
    late, failed = int(s.get("late_provisionals", 0)), int(s.get("calls_failed", 0))
    done = int(s.get("calls_completed", 0))
    if not late:
        return Observation("none", "text", f"no provisional answer reached {peer} after a final one.")
    if failed:
        return Observation("call failed", "text", f"{peer} got {late} provisional(s) after a final answer, and "
                                                  f"{failed} call(s) failed.")
    return Observation("ignored", "text", f"{peer} got {late} provisional(s) after the final answer and ignored "
                                          f"them: {done} call(s) completed, none failed.")


@predicate("peer_stat")
def peer_stat(view: RunView, peer: str, stat: str) -> Observation:
    """A counter of a simulated peer (``late_provisionals``, ``retransmissions``, ``calls_completed`` ...)."""
    summary = view.peer(peer).summary()
    if stat not in summary:
        raise LessonError(f"peer {peer!r} has no counter {stat!r} (it has: {', '.join(sorted(summary))})")
    value = summary[stat]
    kind = "number" if isinstance(value, int | float) and not isinstance(value, bool) else (
        "bool" if isinstance(value, bool) else "text")
    return Observation(value, kind, f"{peer}'s {stat} is {value}.")


@predicate("core_stat", kind="number")
def core_stat(view: RunView, name: str) -> Observation:
    """One of Kamailio's core statistics (``rcv_requests``, ``err_requests`` ...), summed over the workers."""
    stats = view.core_stats()
    if name not in stats:  # a typo would read 0 and pass an "expect = 0" check
        from sipsim.lessons.model import did_you_mean

        close = did_you_mean(name, stats)
        raise LessonError(f"no core statistic {name!r}{' — ' + close if close else ''} (they are: "
                          f"{', '.join(k for k in sorted(stats) if k.count('_') <= 1)}, and per-method/code ones)")
    value = int(stats.get(name, 0))
    return Observation(value, "number", f"core statistic {name} = {value} (all workers).")
