"""F1: help for the focused panel — what it shows, its keys, the Kamailio source it models."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from sipsim.tui.keybar import KeyBar

GLOBAL_KEYS = """\
#### Keys everywhere

| key | | key | |
|---|---|---|---|
| `n` | one step | `b` | one step back |
| `home` / `end` | first / last step | `]` / `[` | next / previous datagram (`}` / `{`: of the call in focus) |
| `g` | go to a step, `t=` time or `#id` | `p` | run / pause (live: live-step) |
| `+` / `-` | run faster / slower | `x` | breakpoint on a pipeline step |
| `X` | conditional break | `i` | inject a datagram |
| `L` | live mode on / off | `s` | save a pcap |
| `1`–`8` | focus a panel | `f` | maximize / restore it |
| `?` / `F1` | this help | `ctrl+p` | palette: scenario, profile, policy, workers, theme |
| `ctrl+q` | quit | `h` | lesson hint |
| `tab` | next panel (`shift+tab`: back) | `escape` | close a dialog, restore `f`, leave an answer box |

The bottom line shows the keys that do something now, the focused panel's first. When they do not
all fit, it uses shorter words (a panel's `enter` reads *jump*, not *go there*) and leaves out the
least needed keys first: `L`, `[`, a panel's second keys, then `]`. On 100 columns `?`, `n`, `b`,
`p`, `g`, `x`, `X`, `i`, `s` and `f` stay. This help lists every key.
"""


class HelpScreen(ModalScreen[None]):
    # Textual sizes an h3 to its text (width: auto) and crops it at the box: on 80 columns a panel's
    # heading would lose its end; a heading as wide as the box wraps instead
    DEFAULT_CSS = """
    HelpScreen MarkdownH3, HelpScreen MarkdownH4 { width: 1fr; }
    """
    BINDINGS: ClassVar = [
        Binding("escape", "dismiss_help", "Close"),
        Binding("f1", "dismiss_help", "Close", show=False),
        Binding("question_mark", "dismiss_help", "Close", show=False),
        Binding("q", "dismiss_help", "Close", show=False),
        Binding("ctrl+q", "app.quit", "quit", priority=True),  # in the key bar here too
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.help_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(f"Help — {self.help_title}   (escape closes)", id="help-title", markup=False)
            with VerticalScroll(id="help-scroll"):
                yield Markdown(self.text + "\n\n" + GLOBAL_KEYS, id="help-text")
        yield KeyBar()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
