"""Small dialogs: go to a step (``g``), save a pcap (``s``), start live mode (``L``), filter (``/``).

Each returns its answer to the app through ``dismiss`` (None when cancelled); the app does the
work, so a dialog never touches the simulation.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sipsim.tui.keybar import KeyBar


class PromptScreen(ModalScreen[str | None]):
    """One line of input with a title and a hint; enter answers, escape cancels."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, hint: str, value: str = "", *, prompt_id: str = "prompt") -> None:
        super().__init__(id=f"{prompt_id}-screen")
        self.prompt_title = title
        self.hint = hint
        self.value = value
        self.prompt_id = prompt_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-box"):
            yield Static(self.prompt_title, classes="prompt-title", markup=False)
            yield Input(self.value, id=f"{self.prompt_id}-input")
            yield Static(self.hint, classes="prompt-hint", id=f"{self.prompt_id}-hint", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.validate(event.value)
        if error:
            self.query_one(f"#{self.prompt_id}-hint", Static).update(error)
            return
        self.dismiss(event.value)

    def validate(self, value: str) -> str:
        """An error message, or "" when the value can be used."""
        return ""

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_goto(text: str, *, time_to_pos, msg_to_pos, msg_number=None) -> int:  # noqa: ANN001
    """``123`` (a step), ``t=0.05`` (the last step at or before that time) or ``#7`` (where datagram
    7 arrived; live: ``#7`` as the screen numbers them when ``msg_number`` maps that number to the
    datagram's id, or the worker's own ``#17@4242``). Raises ValueError with a message for people."""
    text = text.strip()
    if not text:
        raise ValueError("type a step number, t=SECONDS or #ID")
    if text.startswith("t="):
        try:
            t = float(text[2:])
        except ValueError:
            raise ValueError(f"not a time: {text[2:]!r}") from None
        return int(time_to_pos(t))
    if text.startswith("#"):
        try:
            n, _, pid = text[1:].partition("@")  # live ids read #n@pid
            mid = int(pid) * 10**9 + int(n) if pid else int(n)
        except ValueError:
            raise ValueError(f"not a datagram id: {text[1:]!r}") from None
        if not pid and msg_number is not None:
            found = msg_number(mid)
            if found is None:
                raise ValueError(f"no datagram {text} (yet)")
            mid = found
        pos = msg_to_pos(mid)
        if pos is None:
            raise ValueError(f"no datagram {text} (yet)")
        return int(pos)
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"not a step number: {text!r} (or t=SECONDS, #ID)") from None
    if n < 0:
        raise ValueError("steps start at 0")
    return n


class GotoScreen(PromptScreen):
    def __init__(self, current: int, *, time_to_pos, msg_to_pos, msg_number=None) -> None:  # noqa: ANN001
        super().__init__("Go to", "a step number · t=SECONDS (virtual time) · #ID (where a datagram arrived)",
                         str(current), prompt_id="goto")
        self._t2p, self._m2p, self._num = time_to_pos, msg_to_pos, msg_number

    def validate(self, value: str) -> str:
        try:
            parse_goto(value, time_to_pos=self._t2p, msg_to_pos=self._m2p, msg_number=self._num)
        except ValueError as exc:
            return str(exc)
        return ""


class LiveStartScreen(PromptScreen):
    def __init__(self, default: str) -> None:
        super().__init__("Live mode: run sipsim serve on",
                         "IP:PORT [workers]  — e.g. 127.0.0.1:5060 4 · the workers are real processes. "
                         "They start held (live-step): nothing is answered until you press p to let them "
                         "run (n: one step). escape cancels", default, prompt_id="live")

    def validate(self, value: str) -> str:
        from sipsim.cli.common import UsageError, parse_hostport

        parts = value.split()
        if not parts or len(parts) > 2:
            return "IP:PORT and, optionally, the number of workers"
        try:
            parse_hostport(parts[0])
        except UsageError as exc:
            return str(exc)
        if len(parts) == 2 and (not (parts[1].isascii() and parts[1].isdigit()) or not 1 <= int(parts[1]) <= 64):
            return "workers: a number from 1 to 64"
        return ""
