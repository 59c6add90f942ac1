"""``X``: a conditional break — stop at the next reply, the next INVITE, or the next datagram from an
address (or the next drop). The app arms it; the simulator finds it at once, live mode waits."""

from __future__ import annotations

import ipaddress
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


ADDR_HELP = "type an IP (127.0.0.2, ::1) or IP:PORT (127.0.0.2:5060, [::1]:5060)"


def parse_sender(text: str) -> str:
    """The sender a ``from`` condition compares with an event's ``src`` (``host:port``, IPv6 as
    ``[v6]:port``): ``127.0.0.2:5060``, ``127.0.0.2``, ``[::1]:5060`` or ``[::1]`` (``::1`` too).
    Raises ValueError with words a learner can act on: a typo must not arm a break that never fires."""
    value = text.strip()
    if not value:
        raise ValueError(f"no address: {ADDR_HELP}")
    host, port = value, ""
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{value!r} is not an address: {ADDR_HELP}")
        port = rest[1:] if rest else ""
        if rest and not port:
            raise ValueError(f"{value!r}: no port after the colon: {ADDR_HELP}")
    elif value.count(":") == 1:
        host, port = value.split(":")
        if not port:
            raise ValueError(f"{value!r}: no port after the colon: {ADDR_HELP}")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address: {ADDR_HELP} (no host names: nothing is "
                         "looked up)") from None
    if value.startswith("[") and ip.version != 6:
        raise ValueError(f"{value!r}: brackets are for IPv6 addresses: {ADDR_HELP}")
    if port and (not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536):
        raise ValueError(f"{port!r} is not a port (1–65535): {ADDR_HELP}")
    shown = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    return f"{shown}:{int(port)}" if port else shown


CHOICES = (("reply", "next reply (a status line arrives)"), ("invite", "next INVITE"),
           ("from", "next datagram from an address…"), ("drop", "next drop (kernel or pipeline)"))


class CondBreakScreen(ModalScreen[Condition | None]):
    DEFAULT_CSS = """
    CondBreakScreen #cond-hint.error { color: $error; }
    """
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
        try:
            sender = parse_sender(event.value)
        except ValueError as exc:  # the dialog stays open, with what is wrong in its hint line
            hint = self.query_one("#cond-hint", Static)
            hint.update(str(exc))
            hint.add_class("error")
            return
        self.dismiss(Condition("from", sender))

    def action_cancel(self) -> None:
        self.dismiss(None)
