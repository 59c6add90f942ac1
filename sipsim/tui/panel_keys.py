"""Panels: ``1``–``8`` focus one, ``f`` maximizes it, ``?``/``F1`` its help; pin a worker, filter.

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`).
"""

from __future__ import annotations

from typing import Any

from sipsim.tui.panels import BY_NUMBER, PanelInfo
from sipsim.tui.screens.help import HelpScreen
from sipsim.tui.screens.prompts import PromptScreen

APP_HELP = """\
### sipsim — a SIP server you can watch think

The screen shows one moment of a SIP proxy modelled on Kamailio (formerly SER): its worker
processes (1), its socket (2), what the worker in focus does with its datagram (3 pipeline,
4 message, 5 layers), the call flow (6 ladder), every event (7 log) and, in a lesson, what it says
(8 lesson). `n` steps, `b` steps back, `p` runs and pauses.
Focus a panel with its number and press `?` (or `F1`) for its own help.
"""


class PanelKeys:
    """``self`` is the App (see Controls for the shared state)."""

    pinned: int | None

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
