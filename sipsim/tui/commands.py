"""The command palette (``ctrl+p``): lesson, scenario, profile, policy, workers, theme, live mode,
and the moves in the call in focus (``}``/``{``).

Every command changes the *simulation* the screen shows (a new run of the chosen scenario with the
overrides; the cursor keeps its step, so a change can be compared at the same point); the theme
changes the look. In live mode the simulation commands apply when you come back to it (``L``).
``lesson: N`` opens lesson N on its own scenario — or reopens the one a scenario switch closed,
with the answers already given — like ``sipsim lesson N``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

WORKER_CHOICES = (1, 2, 3, 4, 6, 8, 16)


def palette_commands(app) -> list[tuple[str, str, Callable[[], object]]]:  # noqa: ANN001
    """(name, help, callback) for every command, in the order the palette lists them."""
    from sipsim.engine.kernel_queue import POLICIES
    from sipsim.engine.scenario import list_scenarios

    out: list[tuple[str, str, Callable[[], object]]] = []
    closed = getattr(getattr(getattr(app, "closed_lesson", None), "session", None), "number", None)
    lessons = [(f"lesson: {number} {title}", f"open lesson {number} on its own scenario"
                + (" again: a change of scenario closed it (your answers are kept)" if number == closed else ""),
                partial(open_lesson_here, app, number)) for number, title in lesson_titles()]
    out.extend(x for x in lessons if x[0].startswith(f"lesson: {closed} "))  # the closed lesson first
    for name, desc in list_scenarios():
        out.append((f"scenario: {name}", desc, partial(app.switch_scenario, name)))
    for profile, desc in (("ser", "the seed document's receive path: buf and orig, changes made to buf"),
                          ("kamailio", "Kamailio 5.6: buf never written, lumps, From/To/Call-ID/CSeq parsed first")):
        out.append((f"profile: {profile}", desc, partial(app.override, profile=profile)))
    for policy in POLICIES:
        out.append((f"policy: {policy}", f"the kernel wakes sleepers with the {policy} policy",
                    partial(app.override, policy=policy)))
    for n in WORKER_CHOICES:
        out.append((f"workers: {n}", f"{n} worker process{'es' if n > 1 else ''} in recvfrom",
                    partial(app.override, workers=n)))
    for theme in sorted(app.available_themes):
        out.append((f"theme: {theme}", "change the colours", partial(setattr, app, "theme", theme)))
    out.append(("live mode: on/off", "run sipsim serve on a real port and watch its workers (same as L)",
                app.action_live))
    out.append(("call: next datagram", "the next datagram of the call in focus: the ladder's filter or selected "
                "arrow, the capture's selection, else the datagram shown (same as })", app.action_next_in_call))
    out.append(("call: previous datagram", "the previous datagram of the call in focus (same as {)",
                app.action_prev_in_call))
    out.extend(x for x in lessons if not x[0].startswith(f"lesson: {closed} "))
    return out


@cache
def lesson_titles() -> tuple[tuple[int, str], ...]:
    """(number, title) of every lesson that loads (read once: the palette asks on every key)."""
    from sipsim.lessons import list_lessons

    lessons, _errors = list_lessons()  # a lesson that does not load is not offered (`sipsim lesson` says why)
    return tuple((x.number, x.title) for x in sorted(lessons, key=lambda x: x.number))


async def open_lesson_here(app: Any, number: int) -> None:
    """Open lesson ``number`` in this app as ``sipsim lesson N`` would: its own scenario, at the stop
    the learner last read (the pane resumes there; ``r`` starts over), the lesson pane in front.
    The session of a lesson closed by a scenario switch (or the open one) is reused, so its answers
    and score are kept; another gets the progress store of the one before, or the learner's own
    (XDG state) when there was none."""
    from sipsim.lessons import LessonError, ProgressStore, Session, find_lesson
    from sipsim.tui.controls import SPEEDS
    from sipsim.tui.panels import LessonPanel
    from sipsim.tui.panels.lesson import LessonState
    from sipsim.tui.sources import SimSource

    if app.source.live:
        app.notify(f"lesson {number} runs on a simulation: leave live mode first (L), then open it")
        return
    states = [s for s in (app.lesson, getattr(app, "closed_lesson", None)) if s is not None]
    state = next((s for s in states if getattr(s.session, "number", None) == number), None)
    if state is None:
        try:
            store = next((s.session.store for s in states if getattr(s.session, "store", None) is not None), None)
            state = LessonState(Session(find_lesson(number), store=store if store is not None else ProgressStore()))
        except LessonError as exc:
            app.notify(str(exc), severity="error")
            return
    session = state.session
    state.result_pos = state.hint_pos = -1  # a verdict or hint tied to a step of the old run
    app.lesson = state
    app._use_sim(SimSource(session.scenario), keep_position=False)  # attaches the lesson (or says why not)
    if app.lesson is None:
        return
    app.closed_lesson = None
    app.speed = SPEEDS.index(50)  # as `sipsim lesson N`: the lesson's stops pause the run
    main = app.main
    if main is None:
        return
    app.ui["tabs.active"] = "tab-lesson"  # narrow and medium layouts: the lesson's tab in front
    if main.panel(LessonPanel) is None:  # the screen was built without a lesson pane
        await main.recompose()
    app.redraw()
    app.refresh_bindings()
    app.action_focus_panel(LessonPanel.NUMBER)
    app.notify(f"lesson {number}: {session.title}")


class SipsimCommands(Provider):
    """Lesson, scenario, profile, policy, workers, theme — fuzzy-matched like Textual's own commands."""

    async def discover(self) -> Hits:
        for name, help_text, callback in palette_commands(self.app):
            if not name.startswith("theme:"):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in palette_commands(self.app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
