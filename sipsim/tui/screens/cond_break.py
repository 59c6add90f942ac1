"""``X``: a conditional break — stop at the next reply, the next INVITE, or the next datagram from an
address (or the next drop). The app arms it; the simulator finds it at once, live mode waits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED, DROPPED, WORKER_WOKEN, KernelEvent, StepEvent
from sipsim.engine.snapshot import Event
from sipsim.tui.keybar import KeyBar


@dataclass(frozen=True)
class Condition:
    kind: str  # reply | invite | from | drop
    arg: str = ""

    def describe(self) -> str:
        return {"reply": "the next reply arrives", "invite": "the next INVITE arrives",
                "from": f"the next datagram from {self.arg} arrives",
                "drop": "the next datagram is dropped"}[self.kind]

    def matcher(self, *, live: bool) -> Callable[[Event], bool]:
        """A predicate on events: true on the arrival (live: the recvfrom) the condition names."""
        arrive = (WORKER_WOKEN,) if live else (DATAGRAM_QUEUED, DATAGRAM_DROPPED)
        kind, arg = self.kind, self.arg

        def first_line(ev: KernelEvent) -> str:
            return str(ev.detail.get("first_line", ""))

        def match(ev: Event) -> bool:
            if kind == "drop":
                return (type(ev) is KernelEvent and ev.kind == DATAGRAM_DROPPED) or (
                    type(ev) is StepEvent and ev.outcome == DROPPED)
            if type(ev) is not KernelEvent or ev.kind not in arrive:
                return False
            if kind == "reply":
                return first_line(ev).startswith("SIP/")
            if kind == "invite":
                return first_line(ev).startswith("INVITE ")
            src = str(ev.detail.get("src", ""))
            return src == arg or src.rsplit(":", 1)[0] == arg
        return match


CHOICES = (("reply", "next reply (a status line arrives)"), ("invite", "next INVITE"),
           ("from", "next datagram from an address…"), ("drop", "next drop (kernel or pipeline)"))


class CondBreakScreen(ModalScreen[Condition | None]):
    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-box", id="cond-box"):
            yield Static("Conditional break: stop when …", classes="prompt-title")
            yield OptionList(*[Option(text, id=key) for key, text in CHOICES], id="cond-choices")
            yield Input(placeholder="address, e.g. 127.0.0.2:5060 or 127.0.0.2", id="cond-addr")
            yield Static("enter chooses · escape cancels", classes="prompt-hint", id="cond-hint", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#cond-addr").display = False
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if key == "from":
            addr = self.query_one("#cond-addr", Input)
            addr.display = True
            addr.focus()
            return
        self.dismiss(Condition(key))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self.query_one("#cond-hint", Static).update("type the sender's address (IP or IP:PORT)")
            return
        self.dismiss(Condition("from", value))

    def action_cancel(self) -> None:
        self.dismiss(None)
