"""The rows of the pipeline panel: ``receive_msg``'s steps for one datagram, in Kamailio's names.

The skeleton is the order of ``src/core/receive.c`` for the profile (``ser``: the seed document's
order; ``kamailio``: 5.6's), with its request and reply branches. The datagram's own events are laid
over it: a step done is ✓, the step the worker is on is ▶, a step not reached yet is ·, the step
that dropped the message is ✗ with the reason, and steps a dropped message never reaches are –.
What a step calls (the routing script's functions, ``sl_send_reply``, a ``sendto``) is nested
under it. Marks are characters, never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sipsim.engine.events import (
    DATAGRAM_DROPPED,
    DATAGRAM_QUEUED,
    DATAGRAM_SENT,
    DROPPED,
    WORKER_TAKES,
    WORKER_WOKEN,
    KernelEvent,
    StepEvent,
)
from sipsim.engine.snapshot import Event
from sipsim.tui.wiretext import from_engine, narration

DONE, CURRENT, PENDING, FAILED, SKIPPED = "✓", "▶", "·", "✗", "–"

COMMON = {
    "ser": ("recvfrom", "udp_rcv_loop", "receive_msg", "parse_msg"),
    "kamailio": ("recvfrom", "udp_rcv_loop", "receive_msg", "parse_msg", "parse_headers"),
}
BRANCHES = {
    ("ser", "request"): ("exec_pre_script_cb", "receive_msg.sanity", "request_route", "exec_post_script_cb"),
    ("ser", "reply"): ("exec_pre_script_cb", "receive_msg.sanity", "forward_reply", "exec_post_script_cb"),
    ("kamailio", "request"): ("receive_msg.sanity", "exec_pre_script_cb", "request_route", "exec_post_script_cb"),
    ("kamailio", "reply"): ("receive_msg.sanity", "exec_pre_script_cb", "onreply_route", "forward_reply",
                            "exec_post_script_cb"),
}
END = ("free_sip_msg",)
NOTES = {
    "recvfrom": "the datagram leaves the socket queue",
    "udp_rcv_loop": "size checks; buffer zero-terminated",
    "receive_msg": "allocates the sip_msg",
    "parse_msg": "first line + headers up to the first Via",
    "parse_headers": "From, To, Call-ID, CSeq",
    "exec_pre_script_cb": "pre-script callbacks (0 drops)",
    "receive_msg.sanity": "core checks: Via present",
    "request_route": "the routing script",
    "onreply_route": "only if the script has one",
    "forward_reply": "removes our Via, sends by the next",
    "exec_post_script_cb": "post-script callbacks",
    "free_sip_msg": "frees the sip_msg",
}


@dataclass(frozen=True, slots=True)
class Row:
    depth: int
    mark: str
    name: str  # a step name (or a kernel event in words)
    note: str
    pos: int = 0  # position of the event behind the row (0: none yet)
    step: str = ""  # the step name a breakpoint on this row stops at ("" for none)


def skeleton(profile: str, branch: str | None) -> list[tuple[str, str]]:
    """(step, section) for every step of the profile; section is "", "request" or "reply"."""
    out = [(s, "") for s in COMMON[profile]]
    for b in ("request", "reply"):
        if branch in (None, b):
            out.extend((s, b) for s in BRANCHES[(profile, b)])
    out.extend((s, "") for s in END)
    return out


def build_rows(profile: str, is_reply: bool | None, events: list[tuple[int, Event]], current: int, *,
               live: bool = False) -> list[Row]:
    """Rows for one datagram: ``events`` are (position, event) of that datagram up to the cursor,
    ``current`` the cursor's position. ``is_reply`` None while the first line is unknown."""
    branch = None if is_reply is None else ("reply" if is_reply else "request")
    rows: list[Row] = []
    prelude: list[Row] = []
    done: dict[str, tuple[int, StepEvent, int]] = {}  # step -> (position, last event, count)
    nested: dict[str, list[Row]] = {}
    dropped_at: str | None = None
    anchor = "recvfrom"
    routing_now: tuple[str, str] | None = None  # (anchor, where in the script) when the cursor is on a script action
    for pos, ev in events:
        mark = CURRENT if pos == current else DONE
        if type(ev) is KernelEvent:
            if ev.kind == DATAGRAM_QUEUED:
                prelude.append(Row(0, mark, "queued", f"in the socket's receive queue ({ev.detail.get('len', '?')} B)",
                                   pos))
            elif ev.kind == DATAGRAM_DROPPED:
                prelude.append(Row(0, FAILED, "dropped by the kernel", "the receive buffer is full", pos))
            elif ev.kind in (WORKER_WOKEN, WORKER_TAKES):
                how = "woken" if ev.kind == WORKER_WOKEN else "taken without sleeping"
                said = "its recvfrom returns" if ev.kind == WORKER_WOKEN else "recvfrom found it queued"
                prelude.append(Row(0, mark, how, f"{worker_name(ev.worker, live)}: {said}", pos))
            elif ev.kind == DATAGRAM_SENT:
                what = from_engine(ev.detail.get("first_line", ""))[:28]
                nested.setdefault(anchor, []).append(Row(2, mark, "sendto", f"{what} → {ev.detail.get('to', '')}", pos))
            continue
        assert type(ev) is StepEvent
        step = ev.step
        if step in _ALL_STEPS:
            prev = done.get(step)
            done[step] = (pos, ev, (prev[2] + 1) if prev else 1)
            anchor = step
            if ev.outcome == DROPPED:
                dropped_at = step
        elif step.startswith("route:") and step != "route:end":
            if pos == current:
                line = ev.detail.get("line")
                said = f"script line {line}: {ev.detail.get('src', '')}" if line else ev.text
                routing_now = (anchor, narration(said))
        else:
            nested.setdefault(anchor, []).append(
                Row(2, FAILED if ev.outcome == DROPPED else mark, step.removeprefix("route:"), _short(ev), pos, step))
            if ev.outcome == DROPPED:
                dropped_at = anchor
    rows.extend(prelude)
    # receive_msg returned before the first line chose a branch: a datagram that did not parse (or
    # was dropped earlier) takes neither; what it looks like says nothing about what it "is"
    stopped = _stopped_before_branch(done, dropped_at)
    if stopped is not None:
        branch = None
    steps = skeleton(profile, branch)
    # a step not run while a later one was (onreply_route when the script has none; anything once
    # free_sip_msg ran) never will be: – rather than ·
    last_done = max((i for i, (st, _) in enumerate(steps) if st in done), default=-1)
    section = ""
    after_drop = False
    for k, (step, sec) in enumerate(steps):
        if sec and stopped is not None:
            if sec != section:
                section = sec
                if sec == "request":
                    rows.append(Row(0, SKIPPED, "neither branch", stopped))
            continue
        if sec != section:
            section = sec
            if sec:
                rows.append(Row(0, " ", f"{sec} branch", "" if branch else "(chosen by the first line)"))
        got = done.get(step)
        depth = 1 if sec else 0
        if got is not None:
            pos, ev, count = got
            if ev.outcome == DROPPED:
                mark, note = FAILED, f"dropped: {narration(ev.reason or ev.text)}"
            elif routing_now is not None and routing_now[0] == step:
                mark, note = CURRENT, routing_now[1]
            else:
                mark = CURRENT if pos == current else DONE
                note = _short(ev) + (f" (×{count})" if count > 1 else "")
            rows.append(Row(depth, mark, step, note, pos, step))
        else:
            mark = SKIPPED if (after_drop and step != "free_sip_msg") or k < last_done else PENDING
            note = NOTES.get(step, "")
            if mark == SKIPPED:
                note = ("not reached: the message was dropped" if after_drop
                        else "not run: the script has no onreply_route" if step == "onreply_route"
                        else "not run")
            rows.append(Row(depth, mark, step, note, 0, step))
        for sub in nested.get(step, []):
            rows.append(Row(depth + 1, sub.mark, sub.name, sub.note, sub.pos, sub.step))
        if dropped_at == step:
            after_drop = True
    if branch is not None and stopped is None:
        other = "reply" if branch == "request" else "request"
        rows.append(Row(0, SKIPPED, f"{other} branch", f"not taken: this is a {branch}"))
    return rows


def _stopped_before_branch(done: dict[str, tuple[int, StepEvent, int]], dropped_at: str | None) -> str | None:
    """Why no branch was taken (None: one was, or may still be): ``parse_msg`` failed (a failed
    parse carries a ``reason``; the ``ser`` profile may still answer 400 before it frees the
    message), or the message was dropped before ``parse_msg`` ran."""
    parsed = done.get("parse_msg")
    if parsed is not None and (parsed[1].reason or parsed[1].outcome == DROPPED):
        return "parse_msg failed: no first line to choose by"
    if parsed is None and dropped_at in ("recvfrom", "udp_rcv_loop", "receive_msg"):
        return "dropped before parse_msg"
    return None


_ALL_STEPS = frozenset(s for v in (*COMMON.values(), *BRANCHES.values(), END) for s in v)


def _short(ev: StepEvent) -> str:
    text = narration(ev.text)
    if ev.step == "exec_pre_script_cb" and ev.detail.get("callback"):
        text = f"{ev.detail['callback']} → {ev.detail.get('rc')}"
    return text


def worker_name(worker: int | None, live: bool) -> str:
    if worker is None:
        return "–"
    return str(worker) if live else f"W{worker}"


@lru_cache(maxsize=16)
def script_lines(path: str) -> tuple[str, ...]:
    """The lines of a routing script (cached; a missing file gives no lines)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return tuple(line.rstrip("\n") for line in f)
    except OSError:
        return ()
