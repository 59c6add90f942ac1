"""Finding a lesson's anchors in a simulation: "the first ``parse_msg`` of the INVITE" → a position.

An anchor is resolved with :meth:`Simulation.find` — the same search the TUI's breakpoints use —
so the position is *the state right after the anchored event*: the TUI shows that event as the one
that just happened. Anchors are found in file order; one with ``after = "other"`` is searched from
the other's position on. Nothing here counts steps, so an engine that adds or removes a step
elsewhere does not move a lesson's anchors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.lessons.model import AnchorSpec, LessonError, did_you_mean
from sipsim.lessons.view import MessageIndex

if TYPE_CHECKING:
    from sipsim.engine.snapshot import Event
    from sipsim.engine.stepping import Simulation

SEARCH_LIMIT = 2_000_000  # events; a lesson scenario is far smaller


def _field_ok(ev: Event, key: str, want: Any) -> bool:
    wants = want if isinstance(want, list) else [want]
    if key == "worker":
        return ev.worker in wants
    if key == "text":
        return any(str(w).casefold() in ev.text.casefold() for w in wants)
    if type(ev) is not StepEvent:
        return False
    if key == "outcome":
        return ev.outcome in wants
    if key == "reply":
        return ev.status in {int(w) for w in wants}
    detail = ev.detail or {}
    if key == "callback":
        return detail.get("callback") in wants
    if key == "line":
        return detail.get("line") in {int(w) for w in wants}
    if key == "action":
        return detail.get("action") in wants
    return False


def matcher(spec: AnchorSpec, index: MessageIndex) -> Callable[[Event], bool]:
    """A predicate over events for one anchor. It teaches ``index`` each arrival it passes, so
    message filters work on events computed during the search (an arrival precedes its events)."""
    step, kernel, msg_sel, fields = spec.step, spec.kernel, spec.msg, spec.fields

    def match(ev: Event) -> bool:
        index.learn(ev)
        if step is not None:
            if type(ev) is not StepEvent or ev.step != step:
                return False
        elif type(ev) is not KernelEvent or ev.kind != kernel:
            return False
        for key, want in fields.items():
            if not _field_ok(ev, key, want):
                return False
        if msg_sel:
            if ev.msg is None or ev.msg not in index.msgs:
                return False
            if not index.matches(index.msgs[ev.msg], msg_sel):
                return False
        return True

    return match


def resolve(sim: Simulation, specs: tuple[AnchorSpec, ...], where: str = "") -> dict[str, int]:
    """anchor id → position (the state right after the anchored event). LessonError names the
    first anchor the simulation never reaches, and what it was looking for."""
    index = MessageIndex()
    index.update(sim.events)
    out: dict[str, int] = {}
    for spec in specs:
        start = out[spec.after] if spec.after else 0
        match = matcher(spec, index)
        pos: int | None = start
        for _ in range(spec.nth):
            pos = sim.find(match, start=pos, limit=SEARCH_LIMIT)
            if pos is None:
                break
        if pos is None:
            raise LessonError(f"{where}anchor {spec.id!r} ({spec.describe()}) never happens in this simulation: "
                              f"{why_missing(sim, spec, start)}")
        out[spec.id] = pos
    return out


def datagrams_summary(index: MessageIndex) -> str:
    """What arrived, the way an anchor or a selector names it: "2 REGISTER, 1 INVITE, 1 100; labels:
    query; peers: alice, bob" — what a teacher needs to see to fix a filter that matches nothing."""
    counts: dict[str, int] = {}
    for m in index.msgs.values():
        counts[m.short] = counts.get(m.short, 0) + 1
    said = ", ".join(f"{n} {what}" for what, n in counts.items()) or "none"
    labels = sorted({m.label for m in index.msgs.values() if m.label})
    peers = sorted({m.peer for m in index.msgs.values() if m.peer})
    return (f"the datagrams that arrived: {said}" + (f"; labels: {', '.join(labels)}" if labels else "")
            + (f"; peers: {', '.join(peers)}" if peers else ""))


def why_missing(sim: Simulation, spec: AnchorSpec, start: int) -> str:
    """Why no event matches ``spec`` — the step never runs at all (a typo?), no datagram is what the
    filters say, the step never runs for those datagrams, the event filters exclude it, or it
    happens fewer than ``nth`` times — so that a teacher can fix the anchor without guessing."""
    events = sim.events
    index = MessageIndex()
    index.update(events)
    if spec.step is not None:
        what, named = f"step {spec.step!r}", {ev.step for ev in events if type(ev) is StepEvent}
        base: Callable[[Event], bool] = lambda ev: type(ev) is StepEvent and ev.step == spec.step  # noqa: E731
        name = spec.step
    else:
        what, named = f"kernel event {spec.kernel!r}", {ev.kind for ev in events if type(ev) is KernelEvent}
        base = lambda ev: type(ev) is KernelEvent and ev.kind == spec.kernel  # noqa: E731
        name = str(spec.kernel)
    if name not in named:
        close = did_you_mean(name, named)
        return (f"no {what} happens in the whole run{' — ' + close if close else ''} (`sipsim simulate "
                f"SCENARIO --trace` prints every event, its step or kind in the fourth column)")
    chosen: set[int] | None = None
    if spec.msg:
        try:
            chosen = {m.id for m in index.msgs.values() if index.matches(m, spec.msg)}
        except LessonError as exc:
            return str(exc)
        if not chosen:
            filters = ", ".join(f"{k}={v!r}" for k, v in spec.msg.items())
            return f"no datagram has {filters} ({datagrams_summary(index)})"
    found = [k for k, ev in enumerate(events) if base(ev) and (chosen is None or ev.msg in chosen)]
    if not found:
        return f"the {what} never runs for the datagrams it names (a request step for a reply, say)"
    kept = [k for k in found if all(_field_ok(events[k], key, want) for key, want in spec.fields.items())]
    if not kept:
        seen = {key: sorted({str(_field_value(events[k], key)) for k in found}) for key in spec.fields}
        said = "; ".join(f"{key} is {', '.join(v)}" for key, v in seen.items())
        return f"the {what} happens {len(found)} time(s) for them, never with the event filters given ({said} there)"
    later = [k for k in kept if k >= start]
    since = f" after anchor {spec.after!r}" if spec.after else ""
    return f"it happens {len(later)} time(s){since}, and the anchor asks for occurrence {spec.nth} (nth)"


def _field_value(ev: Event, key: str) -> Any:
    """The value an event filter reads (for saying what was there instead)."""
    if key == "worker":
        return ev.worker
    if key == "text":
        return "…"
    if type(ev) is not StepEvent:
        return None
    if key == "outcome":
        return ev.outcome
    if key == "reply":
        return ev.status
    return (ev.detail or {}).get(key)
