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
from sipsim.lessons.model import AnchorSpec, LessonError
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
            raise LessonError(f"{where}anchor {spec.id!r} ({spec.describe()}) never happens in this simulation")
        out[spec.id] = pos
    return out
