"""The sipsim TUI: watch workers sleep and wake, and every ``receive_msg`` step, simulated or live.

``sipsim`` (no arguments) and ``sipsim tui [SCENARIO]`` open :class:`SipsimApp` on a simulation;
``sipsim tui --live 127.0.0.1:5060`` (or ``L``) on a real server; ``sipsim lesson N`` on a lesson
(:func:`run_tui` with ``lesson=``). The app holds the source and the UI choices; the main screen
lays out the panels; :mod:`sipsim.tui.controls` has what the keys do.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from sipsim.engine.events import Addr
from sipsim.engine.scenario import Scenario, load_scenario
from sipsim.tui.commands import SipsimCommands
from sipsim.tui.controls import Controls
from sipsim.tui.live_controls import LiveControls
from sipsim.tui.live_options import SERVE_DEFAULTS, ServerOptions
from sipsim.tui.panels.lesson import LessonState
from sipsim.tui.screens.main import MainScreen, TopBar
from sipsim.tui.sources import ReplaySelection, SimSource, Source
from sipsim.tui.view import build_view

DEFAULT_SCENARIO = "basic-call"
KEYED_ACTIONS = ("step", "back", "next_msg", "prev_msg", "run", "home", "end", "faster", "slower", "hint", "goto")


class SipsimApp(LiveControls, Controls, App[int]):
    CSS_PATH = str(Path(__file__).with_name("sipsim.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "sipsim"
    COMMANDS: ClassVar = App.COMMANDS | {SipsimCommands}
    BINDINGS: ClassVar = [
        # help first (as htop's F1): on a narrow footer the keys that do not fit are left out, and
        # help lists them all, so it must never be one of those left out
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("f1", "help", "help", show=False),
        Binding("n", "step", "step"),
        Binding("b", "back", "back"),
        Binding("right_square_bracket", "next_msg", "next", key_display="]"),
        Binding("left_square_bracket", "prev_msg", "prev", key_display="["),
        Binding("p", "run", "run"),
        # the call in focus (call_keys), in the footer only while a call is chosen on purpose; then
        # it is the move that matters, before g, x, i …: one entry for both keys, as the message
        # panel's ←/→
        Binding("right_curly_bracket", "next_in_call", "in call", key_display="}/{"),
        Binding("left_curly_bracket", "prev_in_call", "in call, back", key_display="{", show=False),
        Binding("h", "hint", "hint"),
        Binding("g", "goto", "goto"),
        Binding("x", "breakpoint", "break"),
        Binding("X", "cond_break", "cond", key_display="X"),
        Binding("i", "inject", "inject"),
        Binding("s", "save_pcap", "pcap"),
        Binding("L", "live", "live", key_display="L"),
        Binding("f", "maximize", "max"),
        Binding("home", "home", "start", show=False),
        Binding("end", "end", "end", show=False),
        Binding("plus", "faster", "faster", key_display="+", show=False),
        Binding("minus", "slower", "slower", key_display="-", show=False),
        Binding("ctrl+q", "quit", "quit", priority=True),
        *[Binding(str(n), f"focus_panel({n})", f"Panel {n}", show=False) for n in range(1, 9)],
    ]

    def __init__(self, *, source: Source | None = None, scenario: Scenario | str | Path | None = None,
                 lesson: Any = None, live: Addr | None = None, live_workers: int | None = None,
                 live_profile: str | None = None, live_options: ServerOptions = SERVE_DEFAULTS) -> None:
        super().__init__()
        self.live_options = live_options  # handed to every live server this app starts (L or --live)
        self.ui: dict[str, Any] = {}
        self.lesson: LessonState | None = None
        if source is None:
            if lesson is not None:
                scenario = lesson.scenario
            sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or DEFAULT_SCENARIO)
            source = SimSource(sc)
        self.source: Source = source
        self.sim_source: SimSource | None = source if isinstance(source, SimSource) else None
        if lesson is not None:
            self.lesson = LessonState(lesson)
            if self.sim_source is not None:
                lesson.attach(self.sim_source.sim)
        self.init_controls()
        self._live_keys: tuple[bool | str | None, ...] = ()
        self._live_request = (live, live_workers, live_profile) if live is not None else None

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.push_screen(MainScreen())
        self.redraw()
        self.call_after_refresh(self.freeze_gc)
        self._exit_on_signals(True)
        if self._live_request is not None:
            addr, workers, profile = self._live_request
            self.start_live(addr, workers=workers, profile=profile)

    def _exit_on_signals(self, on: bool) -> None:
        """SIGTERM or SIGHUP (a closed terminal, ``kill PID``) leave the app as ctrl+q does, so that
        a live server it started is stopped by its PID (``on_unmount``) instead of being left
        running, reparented to init, with its temporary folder."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                if on:
                    loop.add_signal_handler(sig, self.exit)
                else:
                    loop.remove_signal_handler(sig)

    def on_unmount(self) -> None:  # Textual runs Controls.on_unmount too (each class's handler, MRO)
        self._exit_on_signals(False)  # the loop may outlive the app (tests): give the signals back

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own palette entries, with "Keys" and "Maximize" doing what ``?`` and ``f`` do:
        Textual's keys panel docked itself beside the panels (on 80 columns it squeezed them to
        a few letters, and no key closed it), and its maximize took the focused widget — the
        lesson's list of choices, not the lesson pane."""
        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                yield SystemCommand("Keys", "help for the focused panel and every key (as ? or F1)", self.action_help)
            elif command.title in ("Maximize", "Minimize"):
                yield SystemCommand(command.title, "the focused panel fills the screen, or back (as f)",
                                    self.action_maximize)
            else:
                yield command

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Our notices carry paths, exception texts and datagram lines: plain text, never read as
        markup (a ``[`` in a file name must not turn into a style, or ``[/]`` into a crash)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- drawing ---------------------------------------------------------------------------------
    @property
    def main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def redraw(self) -> None:
        """Build the view of the current position and hand it to every panel."""
        main = self.main
        if main is None or not main.panels:
            return
        src = self.source
        view = build_view(src, src.position, breakpoints=frozenset(self.breakpoints), pinned=self.pinned)
        for panel in main.panels.values():
            if hasattr(panel, "show"):
                panel.show(view)  # type: ignore[attr-defined]
            else:
                panel.show_lesson(self.lesson, src.position)  # type: ignore[attr-defined]
        try:
            main.query_one("#topbar", TopBar).update(self.top_line())
        except Exception:  # the screen is being recomposed
            pass
        # the footer rebuilds itself on refresh_bindings(): only when a key appears, disappears or
        # changes its words (p: run / pause)
        live_keys = (*(self.check_action(a, ()) for a in KEYED_ACTIONS), self.key_label("run"),
                     self.key_label("live"), self.call_selected())
        if live_keys != self._live_keys:
            self._live_keys = live_keys
            self.refresh_bindings()


def run_tui(*, scenario: Scenario | str | Path | None = None, lesson: Any = None, live: Addr | str | None = None,
            profile: str | None = None, workers: int | None = None, policy: str | None = None,
            route: str | None = None, live_options: ServerOptions = SERVE_DEFAULTS,
            selection: ReplaySelection | None = None) -> int:
    """Open the TUI and return its exit status.

    ``scenario``: a :class:`Scenario`, a shipped name or a ``.toml`` path (default: basic-call).
    ``lesson``: a :class:`sipsim.lessons.api.LessonSession` — the TUI builds the simulation from
    ``lesson.scenario`` and calls ``lesson.attach(sim)``. ``live``: ``"127.0.0.1:5060"`` or
    ``(host, port)`` to start in live mode. ``profile``/``workers``/``policy``/``route`` override
    the scenario (and the live server); ``live_options``: what a live server gets besides (serve's
    ``--allow-dest``, ``--advertise``, ``--alias``, ``--relay``); ``selection``: a replay's
    ``--call-id``/``--frames`` (the TUI opens at the first selected datagram, see :class:`SimSource`).
    Raises ``ScenarioError`` for a scenario that cannot be used.
    """
    sc: Scenario | None = None
    if lesson is None:
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or DEFAULT_SCENARIO)
        if profile or workers or policy or route:
            sc = sc.with_overrides(profile=profile, workers=workers, policy=policy, route=route)
    addr: Addr | None = None
    if isinstance(live, str):
        from sipsim.cli.common import parse_hostport

        addr = parse_hostport(live)
    elif live is not None:
        addr = live
    source = SimSource(sc, selection) if selection is not None and sc is not None else None
    app = SipsimApp(source=source, scenario=sc, lesson=lesson, live=addr, live_workers=workers, live_profile=profile,
                    live_options=live_options)
    app.run()
    return int(app.return_code or 0)
