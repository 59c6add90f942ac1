"""What the keys do: stepping, running, breakpoints, inject, pcap, panels, help (live mode: live_controls).

A mixin of :class:`~sipsim.tui.app.SipsimApp`. Every action moves the source's cursor (or changes
a UI choice) and then asks the app to redraw; ``check_action`` hides the keys that would do
nothing now (no ``b`` at step 0, no ``n`` at the end), so the footer shows only live bindings.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.timer import Timer

from sipsim.engine.events import Addr, StepEvent
from sipsim.engine.scenario import ScenarioError, load_scenario
from sipsim.tui.panels import BY_NUMBER, PanelInfo, PipelinePanel
from sipsim.tui.screens.cond_break import CondBreakScreen, Condition
from sipsim.tui.screens.help import HelpScreen
from sipsim.tui.screens.inject import InjectRequest, InjectScreen
from sipsim.tui.screens.prompts import GotoScreen, PromptScreen, parse_goto
from sipsim.tui.sources import SimSource, Source

if TYPE_CHECKING:
    from sipsim.tui.panels.lesson import LessonState

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 500, 2000)  # steps per second for p (run)
TICK = 0.05
COMPACT_BELOW = 110  # columns: a shorter top bar, run state first
APP_HELP = """\
### sipsim — a SIP server you can watch think

The screen shows one moment of a SIP proxy modelled on Kamailio (formerly SER): its worker
processes (1), its socket (2), what the worker in focus does with its datagram (3 pipeline,
4 message, 5 layers), the call flow (6 ladder) and every event (7 log). `n` steps, `b` steps back.
Focus a panel with its number and press `?` (or `F1`) for its own help.
"""


class Controls:
    """Actions and their state; mixed into the App (``self`` is the App)."""

    source: Source
    sim_source: SimSource | None
    lesson: LessonState | None

    def init_controls(self) -> None:
        self.breakpoints: set[str] = set()
        self.condition: Condition | None = None
        self.pinned: int | None = None
        self.running = False
        # p runs at 10 steps/s; in a lesson at 50/s: the lesson stops the run itself where something
        # happens, and between two stops there can be hundreds of kernel steps (+/- still adjust)
        self.speed = SPEEDS.index(50) if self.lesson is not None else SPEEDS.index(10)
        self._run_timer: Timer | None = None
        self._live_timer: Timer | None = None
        self._last_live_draw = 0.0
        self._live_owed = False  # live: events or held workers the panels have not shown yet
        self._live_held: tuple[tuple[int, object], ...] = ()
        self._busy = ""  # a long computation runs (end of a big scenario): moving keys wait
        self._frozen_at = 0

    # -- the top bar -------------------------------------------------------------------------------
    def top_line(self) -> Text:
        """SIM/LIVE badge, what runs, where the cursor is, the run state (plain text: no markup).

        Narrower than ``COMPACT_BELOW`` columns the run state comes right after the step, in short
        words, and what runs comes last: at 80 columns a learner must still read "paused" or
        "running", the scenario's name can be cut. Live, the server comes first at any width (see
        ``live_top_parts``)."""
        src = self.source
        compact = self.size.width < COMPACT_BELOW  # type: ignore[attr-defined]
        what = [src.describe()]
        if self.lesson is not None and not src.live:
            what.insert(0, f"lesson {self.lesson.session.number}")
        if compact and isinstance(src, SimSource):
            # the profile and the wake-up policy change what every panel shows: they come before
            # the scenario and its workers (the part that may be cut)
            sc = src.scenario
            what = [f"{sc.profile} · {sc.policy}", *what[:-1],
                    f"{sc.name} · {sc.workers} worker{'s' if sc.workers != 1 else ''}"]
        where: list[str] = []
        pos = src.position
        if src.live:  # the server first (address, workers, profile), then what the observer does
            what = self.live_top_parts(compact)  # type: ignore[attr-defined]
            compact = False
        else:
            end = " (end)" if src.at_end else ""
            where.append(f"step {pos}{end} · t={src.time_at(pos):.6f}" + ("s" if compact else " s"))
            speed = SPEEDS[self.speed]
            if compact:
                # (paused, the speed is only what p would do: it gives way to the profile and policy)
                where.append(f"▶ running {speed}/s" if self.running else "paused")
            else:
                where.append(f"▶ running {speed} steps/s (+/-)" if self.running
                             else f"paused (p runs at {speed}/s, +/-)")
        if self.breakpoints:
            where.append(f"● {len(self.breakpoints)} breakpoint{'s' if len(self.breakpoints) > 1 else ''}")
        if self.condition is not None:
            where.append(f"break when {self.condition.describe()}")
        if self._busy:
            where.append(self._busy)
        line = Text.assemble((" LIVE ", "reverse bold green") if src.live else (" SIM ", "reverse bold"), " │ ")
        line.append(" │ ".join([*where, *what] if compact else [*what, *where]))
        return line

    # -- which keys are live ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        src = self.source
        if self._busy and action in ("step", "back", "next_msg", "prev_msg", "home", "end", "run", "goto"):
            return False
        pos = src.position
        base = getattr(src, "base", 0)
        if action == "step":
            if src.live:
                return pos < src.length or bool(src.waiting)
            return not src.at_end
        if action in ("back", "home"):
            return pos > base
        if action == "end":
            return not src.following if src.live else not src.at_end  # type: ignore[attr-defined]
        if action == "next_msg":
            return src.history.next_arrival(pos) is not None if src.live else not src.at_end
        if action == "prev_msg":
            return src.history.prev_arrival(pos) is not None
        if action == "run":
            return True if src.live else (self.running or not src.at_end)
        if action == "faster":
            return self.speed < len(SPEEDS) - 1
        if action == "slower":
            return self.speed > 0
        if action == "hint":
            return self.lesson is not None
        if action == "focus_panel":
            return True
        return True

    def key_label(self, action: str) -> str | None:
        """What the footer calls a key whose effect depends on the state (None: its own words)."""
        src = self.source
        if action == "run":
            if src.live:
                return "run" if src.stepping else "live-step"  # type: ignore[attr-defined]
            return "pause" if self.running else "run"
        if action == "live":
            return "leave live" if src.live else "live"
        return None

    def _moved(self) -> None:
        self.redraw()  # type: ignore[attr-defined]

    def freeze_gc(self, *, collect: bool = False) -> None:
        """Keep the garbage collector off what is already built (the history, Scapy, the widgets):
        its full passes over a big heap are the pauses a learner would feel at a key press.
        ``collect``: first reclaim what a replaced simulation left behind."""
        if collect:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        self._frozen_at = self.source.length

    def goto(self, n: int) -> None:
        self.source.goto(n)
        self._moved()

    # -- stepping -----------------------------------------------------------------------------------
    def action_step(self) -> None:
        """``n``: one step. While ``p`` runs, the run pauses first (as a debugger's step does):
        the step is taken from where the run stopped, and the cursor stays there."""
        src = self.source
        if self.running:
            self.stop_running()
        if src.live and src.position >= src.length:
            pid = src.go(self._focused_worker())  # type: ignore[attr-defined]
            if pid is None:
                self.notify("no worker is held: nothing to step (p turns live-step on)")  # type: ignore[attr-defined]
            return
        self.goto(src.position + 1)

    def _focused_worker(self) -> int | None:
        if self.pinned is not None:
            return self.pinned
        ev = self.source.event_at(self.source.position)
        return ev.worker if ev is not None else None

    def action_back(self) -> None:
        """``b``: one step back (pausing a run first, as ``n`` does)."""
        if self.running:
            self.stop_running()
        self.goto(self.source.position - 1)

    def action_home(self) -> None:
        self.goto(0)

    def action_end(self) -> None:
        src = self.source
        if src.live:
            src.goto(src.length)
            self._moved()
            return
        self._compute_then_go(None)

    def _compute_then_go(self, target: int | None) -> None:
        """Go to ``target`` (None: the end) computing the simulation in slices, with progress on
        the top bar: a far jump in a big scenario must not freeze the screen."""
        self._busy = "computing …"
        self.run_worker(self._run_to(target), exclusive=True, group="end")  # type: ignore[attr-defined]

    async def _run_to(self, target: int | None) -> None:
        import asyncio

        src = self.source
        assert isinstance(src, SimSource)
        what = "the end" if target is None else f"step {target}"
        try:
            while (target is None or src.length < target) and not src.run_chunk(5000):
                self._busy = f"computing to {what} … {src.length} events"
                self._moved()
                await asyncio.sleep(0)
            src.goto(src.length if target is None else target)
        finally:
            self._busy = ""
            self.freeze_gc()
            self._moved()

    def action_next_msg(self) -> None:
        target = self.source.next_arrival()
        if target is None:
            self.notify("no further datagram arrives")  # type: ignore[attr-defined]
            return
        self.goto(target)

    def action_prev_msg(self) -> None:
        target = self.source.prev_arrival()
        if target is not None:
            self.goto(target)

    def jump_to(self, pos: int) -> None:
        self.stop_running()
        self.goto(pos)

    def action_goto(self) -> None:
        src = self.source

        def time_to_pos(t: float) -> int:
            return src.position_at_time(t)

        def msg_to_pos(mid: int) -> int | None:
            m = src.history.msgs.get(mid)
            if m is None and isinstance(src, SimSource):
                found = src.find(lambda ev: ev.msg == mid)
                return found
            return m.arrive if m is not None else None

        def done(value: str | None) -> None:
            if value is None:
                return
            try:
                target = parse_goto(value, time_to_pos=time_to_pos, msg_to_pos=msg_to_pos,
                                    msg_number=getattr(src, "msg_of_number", None))
            except ValueError as exc:
                self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
                return
            if isinstance(src, SimSource) and target > src.length + 5000:
                self._compute_then_go(target)
                return
            self.goto(target)

        here = src.position
        self.push_screen(GotoScreen(here, time_to_pos=time_to_pos, msg_to_pos=msg_to_pos,  # type: ignore[attr-defined]
                                    msg_number=getattr(src, "msg_of_number", None)), done)

    # -- running ----------------------------------------------------------------------------------------
    def action_run(self) -> None:
        src = self.source
        if src.live:
            on = not src.stepping  # type: ignore[attr-defined]
            src.set_stepping(on)  # type: ignore[attr-defined]
            self.notify("live-step: busy workers stop at their next step; a worker asleep in recvfrom "
                        "stops after its next datagram; n lets one step" if on
                        else "running: the workers go freely")  # type: ignore[attr-defined]
            self._moved()
            return
        if self.running:
            self.stop_running()
        else:
            self.running = True
            self._run_timer = self.set_interval(TICK, self._run_tick)  # type: ignore[attr-defined]
        self._moved()

    def stop_running(self) -> None:
        self.running = False
        if self._run_timer is not None:
            self._run_timer.stop()
            self._run_timer = None

    def _stop_positions(self) -> list[int]:
        if self.lesson is None:
            return []
        try:
            return sorted(self.lesson.session.stops())
        except Exception:  # a lesson bug must not stop the app
            return []

    def _run_tick(self) -> None:
        src = self.source
        if src.live or not self.running:
            return
        pos = src.position
        k = max(1, round(SPEEDS[self.speed] * TICK))
        stops = self._stop_positions()
        i = bisect_right(stops, pos)
        if i < len(stops):
            k = min(k, stops[i] - pos)
        bps = self.breakpoints
        cond = self.condition.matcher(live=False) if self.condition is not None else None

        def stop_here(ev: Any) -> bool:
            return (type(ev) is StepEvent and ev.step in bps) or (cond is not None and cond(ev))

        found = src.find(stop_here, limit=k) if (bps or cond) else None
        if found is not None:
            self.stop_running()
            src.goto(found)
            if cond is not None and cond(src.event_at(found)):
                self.notify(f"conditional break: {self.condition.describe()}")  # type: ignore[attr-defined,union-attr]
                self.condition = None
            else:
                ev = src.event_at(found)
                self.notify(f"breakpoint: {getattr(ev, 'step', '?')}")  # type: ignore[attr-defined]
        else:
            src.goto(pos + k)
            if i < len(stops) and src.position == stops[i]:
                self.stop_running()
                self.notify("the lesson stops here")  # type: ignore[attr-defined]
            elif src.position == pos or src.at_end:
                self.stop_running()
        self._moved()

    def action_faster(self) -> None:
        self.speed = min(len(SPEEDS) - 1, self.speed + 1)
        self._moved()

    def action_slower(self) -> None:
        self.speed = max(0, self.speed - 1)
        self._moved()

    # -- breakpoints ------------------------------------------------------------------------------------
    def action_breakpoint(self) -> None:
        step = None
        main = self.main  # type: ignore[attr-defined]
        pipeline = main.panel(PipelinePanel) if main is not None else None
        if pipeline is not None and pipeline.has_focus:
            step = pipeline.selected_step()
        if step is None:
            ev = self.source.event_at(self.source.position)
            step = ev.step if type(ev) is StepEvent else None
        if step is None:
            self.notify("choose a step: focus the pipeline (3), up/down, then x", severity="warning")  # type: ignore[attr-defined]
            return
        if step in self.breakpoints:
            self.breakpoints.discard(step)
            self.notify(f"breakpoint removed: {step}")  # type: ignore[attr-defined]
        else:
            self.breakpoints.add(step)
            self.notify(f"breakpoint: p (run) stops at every {step}")  # type: ignore[attr-defined]
        self._moved()

    def action_cond_break(self) -> None:
        def done(cond: Condition | None) -> None:
            if cond is None:
                return
            self.arm(cond)

        self.push_screen(CondBreakScreen(), done)  # type: ignore[attr-defined]

    def arm(self, cond: Condition) -> None:
        """Stop where ``cond`` first holds after the cursor: at once in a simulation, when it happens live."""
        src = self.source
        if src.live:
            self.condition = cond
            self.notify(f"armed: live-step turns on when {cond.describe()}")  # type: ignore[attr-defined]
            self._moved()
            return
        found = src.find(cond.matcher(live=False))
        if found is None:
            self.notify(f"never: nothing until the end matches ({cond.describe()})", severity="warning")  # type: ignore[attr-defined]
            return
        self.goto(found)
        self.notify(f"stopped: {cond.describe()}")  # type: ignore[attr-defined]

    # -- inject / pcap -----------------------------------------------------------------------------------
    def action_inject(self) -> None:
        src = self.source
        proxy = addr_of(src.listen)
        default = inject_source(proxy, src.live)

        def done(req: InjectRequest | None) -> None:
            if req is None:
                return
            try:
                msg = src.inject(req.data, req.src, req.note)  # type: ignore[attr-defined]
            except Exception as exc:  # LiveError, a send failure: one line, no traceback
                self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
                return
            if self.lesson is not None and isinstance(src, SimSource):
                pos = src.position
                self._reattach_lesson(src.sim)  # the future changed: the lesson finds its anchors again
                src.goto(pos)
            self.notify(msg)  # type: ignore[attr-defined]
            self._moved()

        self.push_screen(InjectScreen(proxy=proxy, default_src=default, live=src.live), done)  # type: ignore[attr-defined]

    def action_save_pcap(self) -> None:
        src = self.source
        name = f"sipsim-{'live' if src.live else src.scenario.name}-{src.position}.pcap"

        def done(path: str | None) -> None:
            if not path:
                return
            try:
                n = src.save_pcap(path)  # type: ignore[attr-defined]
            except Exception as exc:  # OSError, PcapError: say why
                self.notify(f"cannot save {path}: {exc}", severity="error")  # type: ignore[attr-defined]
                return
            extra = (" (a held worker's datagram is saved once it finishes)" if src.live else "")
            self.notify(f"saved {n} datagrams to {path}{extra}")  # type: ignore[attr-defined]

        what = ("every datagram the live workers received and sent so far" if src.live
                else f"every datagram in and out of the proxy up to step {src.position}")
        self.push_screen(PromptScreen("Save a pcap", f"{what}; enter saves, escape cancels", name,  # type: ignore[attr-defined]
                                      prompt_id="pcap"), done)

    # -- panels -------------------------------------------------------------------------------------------
    def action_focus_panel(self, n: int) -> None:
        main = self.main  # type: ignore[attr-defined]
        cls = BY_NUMBER.get(n)
        panel = main.panel(cls) if main is not None and cls is not None else None
        if panel is None:
            self.notify("no lesson is open: sipsim lesson N opens one" if n == 8 else f"no panel {n}")  # type: ignore[attr-defined]
            return
        main.reveal(panel)
        panel.focus()  # type: ignore[attr-defined]
        if main.maximized is not None and main.maximized is not panel:
            main.maximize(panel, container=False)  # f is on: the panel asked for comes to the front, maximized

    def action_maximize(self) -> None:
        screen = self.screen  # type: ignore[attr-defined]
        if screen.maximized is not None:
            screen.minimize()
            return
        panel = self._focused_panel()
        if panel is None:
            self.notify("focus a panel first (1–8), then f maximizes it")  # type: ignore[attr-defined]
            return
        screen.maximize(panel, container=False)

    def _focused_panel(self) -> PanelInfo | None:
        node = self.focused  # type: ignore[attr-defined]
        while node is not None:
            if isinstance(node, PanelInfo):
                return node
            node = node.parent
        return None

    def action_help(self) -> None:
        panel = self._focused_panel()
        if panel is None:
            self.push_screen(HelpScreen("sipsim", APP_HELP))  # type: ignore[attr-defined]
        else:
            self.push_screen(HelpScreen(f"{panel.NUMBER} {panel.TITLE}", panel.HELP))  # type: ignore[attr-defined]

    def pin_worker(self, wid: int | None) -> None:
        self.pinned = wid
        self._moved()

    def ask_filter(self, panel: Any) -> None:
        what = "Call-ID contains" if hasattr(panel, "call_filter") else "lines containing"
        current = getattr(panel, "call_filter", None) if hasattr(panel, "call_filter") else panel.filter

        def done(value: str | None) -> None:
            if value is not None:
                panel.set_filter(value)

        self.push_screen(PromptScreen(f"Filter: {what}", "empty shows everything · escape cancels",  # type: ignore[attr-defined]
                                      current or "", prompt_id="filter"), done)

    # -- lessons -------------------------------------------------------------------------------------------
    def answer_lesson(self, qid: str, answer: str) -> None:
        if self.lesson is None:
            return
        try:
            result = self.lesson.session.answer(qid, answer)
        except Exception as exc:  # a lesson bug: say it, keep going
            self.notify(f"the lesson could not check that answer: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        pos = self.source.position
        self.lesson.result, self.lesson.result_pos = result, pos
        try:  # a refused answer ("not one of the choices") leaves the question open: not kept as a verdict
            still = self.lesson.session.question(pos)
        except Exception:
            still = None
        if still is None or still.id != qid:
            self.lesson.results[qid] = result  # shown again whenever the learner is back at its stop
        self._moved()

    def action_hint(self) -> None:
        if self.lesson is None:
            return
        try:
            hint = self.lesson.session.hint(self.source.position)
        except Exception as exc:
            hint = f"(no hint: {exc})"
        self.lesson.hint, self.lesson.hint_pos = hint or "no hint here", self.source.position
        self._moved()

    # -- scenario, profile … (command palette) ---------------------------------------------------------------
    def switch_scenario(self, name: str) -> None:
        try:
            sc = load_scenario(name)
        except ScenarioError as exc:
            self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
            return
        self._use_sim(SimSource(sc), keep_position=False)

    def override(self, **changes: Any) -> None:
        base = self.sim_source
        if base is None:
            return
        try:
            sc = base.scenario.with_overrides(**changes)
        except ScenarioError as exc:
            self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
            return
        self._use_sim(SimSource(sc), keep_position=True)
        what = ", ".join(f"{k} {v}" for k, v in changes.items())
        self.notify(f"{what}: the simulation starts again" + (" (live mode: press L to see it)"
                                                             if self.source.live else ""))  # type: ignore[attr-defined]

    def _reattach_lesson(self, sim: Any) -> None:
        """Give the lesson the changed simulation; if what it speaks about no longer happens there
        (another scenario, other workers …), leave the lesson rather than fail."""
        try:
            self.lesson.session.attach(sim)  # type: ignore[union-attr]
        except Exception:  # LessonError: an anchor never happens in this simulation
            session = self.lesson.session  # type: ignore[union-attr]
            number = getattr(session, "number", "")
            own = getattr(getattr(session, "scenario", None), "name", "")
            self.closed_lesson = self.lesson  # the palette's "lesson: N" reopens it, answers and all
            self.lesson = None
            # said plainly: the anchor's name and its filters are the lesson author's words, not the learner's
            self.notify(f"Lesson {number} needs its own scenario{f' ({own})' if own else ''} and what it "
                        f"talks about does not happen in this one; it is closed. Reopen it from the palette "
                        f"(ctrl+p, \"lesson {number}\") or with `sipsim lesson {number}`.",
                        severity="warning")  # type: ignore[attr-defined]
            self.refresh_bindings()  # type: ignore[attr-defined]

    def _use_sim(self, new: SimSource, *, keep_position: bool) -> None:
        self.stop_running()
        old = self.sim_source
        pos = old.position if (keep_position and old is not None) else 0
        if old is not None:
            old.close()
        self.sim_source = new
        if self.lesson is not None:
            self._reattach_lesson(new.sim)
        self.freeze_gc(collect=True)
        if not self.source.live:
            self.source = new
            new.goto(pos)
            self.pinned = None
            self._moved()

    def on_unmount(self) -> None:
        if self.source.live:
            self.source.close()


def inject_source(proxy: Addr, live: bool) -> Addr:
    """The inject dialog's default sender. Simulated: a documentation address (nothing is sent).
    Live: a real local address of the server's family — 127.0.0.2, ``::1``, or for a link-local
    server its own address on another port (a scoped socket answers only its link)."""
    if not live:
        return "192.0.2.99", 5060
    host = proxy[0]
    if ":" not in host:
        return "127.0.0.2", 5070
    from sipsim.real.netinfo import is_link_local

    return (host, 5070) if is_link_local(host) else ("::1", 5070)


def addr_of(text: str) -> Addr:
    from sipsim.cli.common import parse_hostport

    return parse_hostport(text)
