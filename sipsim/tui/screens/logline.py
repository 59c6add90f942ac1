"""``v`` in the event log: one log line in full, for the line the panel had to cut with ``…``.

The log gives every event one line, cut at the panel's width; the pipeline panel narrates only the
step shown now. This dialog shows the highlighted line whole — its position, time, who, what
happened and the mark's meaning (a retransmission, a reordered send) — wrapped to the dialog's
width; ``enter`` goes there (as ``enter`` in the log does), ``escape`` closes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sipsim.tui.keybar import KeyBar


class LogLineScreen(ModalScreen[bool]):
    """Dismissed with True when the learner asks to go to the event (``enter``), else False."""

    DEFAULT_CSS = """
    LogLineScreen { align: center middle; }
    #logline-box {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    #logline-title { text-style: bold; height: auto; }
    #logline-scroll { height: auto; max-height: 70vh; }
    #logline-hint { color: $text-muted; height: auto; }
    """
    BINDINGS: ClassVar = [
        Binding("enter", "go", "go there"),
        Binding("escape", "close", "close"),
        Binding("v", "close", "close", show=False),
        Binding("q", "close", "close", show=False),
        Binding("ctrl+q", "app.quit", "quit", priority=True),  # in the key bar here too
    ]

    def __init__(self, title: str, body: Text, *, here: bool) -> None:
        """``title``: position and time; ``body``: the line's text (styled, never markup);
        ``here``: the line is the step shown now (``enter`` would not move: it only closes)."""
        super().__init__()
        self.line_title = title
        self.body = body
        self.here = here

    def compose(self) -> ComposeResult:
        with Vertical(id="logline-box"):
            yield Static(self.line_title, id="logline-title", markup=False)
            with VerticalScroll(id="logline-scroll"):
                yield Static(self.body, id="logline-text")
            hint = "this is the step shown now · escape closes" if self.here else "enter goes there · escape closes"
            yield Static(hint, id="logline-hint", markup=False)
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go":  # no "go there" on the line we are at
            return not self.here
        return True

    def action_go(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
