"""Panel 7 — the event log: one line per event up to the cursor, filterable, each a place to jump to.

A line longer than the panel is cut with ``…``; ``v`` shows the highlighted one in full (a dialog),
and maximized (``f``) the log wraps its lines instead of cutting them.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED, WORKER_WOKEN, KernelEvent, StepEvent
from sipsim.tui.history import History
from sipsim.tui.panels.base import Panel, wrap_line
from sipsim.tui.sources import Source
from sipsim.tui.view import mname
from sipsim.tui.wiretext import narration


def event_line(src: Source, pos: int) -> str:
    """The log line of the event at ``pos`` (without the position and time columns)."""
    ev = src.event_at(pos)
    if ev is None:
        return ""
    live = src.live
    if ev.worker is None:
        who = "kernel"
    else:
        who = str(ev.worker) if live else f"W{ev.worker}"
    if type(ev) is StepEvent:
        text = f"{ev.step}: {narration(ev.text)}"
        if ev.outcome:
            text += f"  [{ev.outcome}{' ' + str(ev.status) if ev.status else ''}]"
    else:
        text = narration(ev.text)
    return f"{who:<{8 if live else 6}} {text}"


def annotation(src: Source, pos: int) -> str:
    """What a line means beyond its text: a retransmission, a drop, a reordered send."""
    ev = src.event_at(pos)
    if type(ev) is not KernelEvent or ev.msg is None:
        return ""
    h: History = src.history
    m = h.msgs.get(ev.msg)
    if m is None:
        return ""
    if ev.kind in (DATAGRAM_QUEUED, DATAGRAM_DROPPED) or (ev.kind == WORKER_WOKEN and m.arrive == pos):
        if m.retrans_of is not None and m.retrans_pos <= src.position:
            held = " while the first copy is still in the proxy" if src.live and src.waiting else ""
            return f"  ↻ retransmission of {_mname(src, m.retrans_of)}{held} ({m.retrans_why})"
    if ev.kind == "datagram_sent":
        for r in h.rows[max(0, h.rows_until(pos) - 1):h.rows_until(pos)]:
            if r.pos == pos and r.reordered:
                return f"  ⇅ {r.reordered}"
    return ""


def _mname(src: Source, msg_id: int) -> str:
    return mname(src, msg_id)


class LogPanel(Panel):
    SELF_WINDOWED = True
    NUMBER = 7
    TITLE = "Event log"
    HELP = """\
### 7 Event log — every event, one line each

Position, time (virtual seconds in the simulator, seconds since the first event live), who (a
worker, or the kernel) and what happened, up to the cursor. Kernel events (a datagram queued or
dropped, a worker sleeping, woken, taking queued data, sending) and every pipeline step.

`↻` marks a retransmission — a request arriving again with the same Call-ID, CSeq and Via branch
(live, before the bytes are known: same source, first line and size while the first copy is still
unanswered). In live-step, while you hold a worker, clients keep retransmitting: you will see it
here. `⇅` marks a datagram sent out of order.

Keys: `up`/`down` select a line, `enter` jumps there, `v` shows the selected line in full (the
panel cuts a long one with `…`; `enter` in that dialog jumps there too), `/` filters (text;
`escape` clears). Maximized (`f`), the log wraps its lines instead of cutting them.

Kamailio logs much less (one line per message at `info`, `xlog` in the script); these events are
sipsim's narration of `udp_rcv_loop()` and `receive_msg()`.
"""
    BINDINGS: ClassVar = [
        Binding("enter", "jump", "go there"),
        Binding("v", "show_line", "full line"),  # before / : a narrow footer keeps it longer
        Binding("slash", "filter", "filter", key_display="/"),
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(ui)
        self.cursor: int | None = None  # a position, None: follow the cursor
        self._cache: dict[int, str] = {}
        self._cache_key: tuple[int, int] = (0, 0)
        self._matches: list[int] = []
        self._matched_upto = 0
        self._visible: list[int] = []

    @property
    def filter(self) -> str:
        return str(self.ui.get("log.filter", ""))

    @filter.setter
    def filter(self, text: str) -> None:
        self.ui["log.filter"] = text

    def after_show(self, view) -> None:  # noqa: ANN001
        self.cursor = None
        self.set_title(f"filter: {self.filter}" if self.filter else "")

    def set_filter(self, text: str) -> None:
        self.filter = text.strip()
        self._matches, self._matched_upto = [], 0
        if self.view is not None:
            self.after_show(self.view)
        self.redraw_panel()

    def _line(self, src: Source, pos: int) -> str:
        h = src.history
        key = (id(h), h.base)
        if key != self._cache_key or len(self._cache) > 400_000:
            self._cache, self._cache_key = {}, key
            self._matches, self._matched_upto = [], 0
        line = self._cache.get(pos)
        if line is None:
            line = self._cache[pos] = event_line(src, pos)
        return line

    def positions(self) -> list[int]:
        """Positions of the lines shown (filtered), up to the cursor."""
        v = self.view
        assert v is not None
        src = v.source
        lo = src.history.base + 1
        if not self.filter:
            return list(range(max(lo, v.pos - 2000), v.pos + 1)) if v.pos >= lo else []
        f = self.filter.lower()
        self._line(src, lo)  # resets the match cache if the history changed
        for p in range(max(self._matched_upto + 1, lo), v.pos + 1):
            if f in self._line(src, p).lower() or f in annotation(src, p).lower():
                self._matches.append(p)
        self._matched_upto = max(self._matched_upto, v.pos)
        return self._matches[: bisect_right(self._matches, v.pos)]

    def lines(self, width: int) -> tuple[list[Text], int]:
        v = self.view
        assert v is not None
        vis = self._visible = self.positions()
        if not vis:
            return [Text("no event matches" if self.filter else "no event yet", style="dim")], 0
        height = max(1, self.size.height)
        cur = self._highlighted()
        ci = bisect_right(vis, cur) - 1
        if self.has_class("-maximized"):  # the whole screen: every line whole, wrapped
            return self._wrapped(vis, ci, height, width), 0
        start = max(0, ci - height + 1) if self.cursor is None else max(0, min(ci - height // 2, len(vis) - height))
        return [self._row(p, cur) for p in vis[start:start + height]], 0

    def _highlighted(self) -> int:
        """The line the keys act on: the one chosen with up/down, else the last one shown."""
        return self._visible[-1] if self.cursor is None else self.cursor

    def _row(self, p: int, cur: int) -> Text:
        """The line of position ``p``: position, time, mark, who and what, the mark's meaning."""
        v = self.view
        assert v is not None
        src = v.source
        t = Text(f"{p:>6} ", style="bold" if p == v.pos else "dim")
        t.append(f"{src.time_at(p):>10.6f} ", style="dim")
        ann = annotation(src, p)
        t.append(f"{ann.strip()[:1] if ann else ' '} ", style="bold yellow")
        t.append(self._line(src, p), style="bold" if p == v.pos else "")
        if ann:
            t.append(ann, style="yellow")
        if p == cur and (self.cursor is not None or self.has_focus):
            t.stylize("reverse")
        return t

    def _wrapped(self, vis: list[int], ci: int, height: int, width: int) -> list[Text]:
        """The window of wrapped lines around the highlighted one (at the bottom while following,
        in the middle once chosen): only the events that can reach the window are wrapped."""
        v = self.view
        assert v is not None
        # continuation rows start under the text (under "who" when that leaves too little room)
        text_col = 20 + (9 if v.live else 7)
        indent = " " * (text_col if width - text_col >= 30 else 20)
        cur = vis[ci]
        lo, hi = max(0, ci - height), min(len(vis), ci + height + 1)
        rows: list[Text] = []
        first = last = 0
        for i in range(lo, hi):
            if i == ci:
                first = len(rows)
            rows.extend(wrap_line(self._row(vis[i], cur), width, indent=indent))
            if i == ci:
                last = len(rows) - 1
        if self.cursor is None:
            start = max(0, last + 1 - height)
        else:
            start = max(0, min(first - (height - (last - first + 1)) // 2, len(rows) - height))
        return rows[start:start + height]

    def action_scroll_lines(self, n: int) -> None:
        vis = self._visible
        if not vis:
            return
        cur = vis[-1] if self.cursor is None else self.cursor
        i = max(0, min(len(vis) - 1, bisect_right(vis, cur) - 1 + n))
        self.cursor = vis[i]
        self.redraw_panel()

    def action_jump(self) -> None:
        if self.cursor is not None:
            self.app.jump_to(self.cursor)  # type: ignore[attr-defined]
        else:  # the highlighted line is the step shown now: say how to pick another one
            self.app.notify("this is the step shown now: move with ↑/↓ to another event, then ⏎ goes there")

    def action_show_line(self) -> None:
        """The highlighted line in full, in a dialog; its ``enter`` jumps there."""
        v = self.view
        if v is None or not self._visible:
            self.app.notify("no event to show yet")
            return
        pos = self._highlighted()
        src = v.source
        body = Text(self._line(src, pos))
        ann = annotation(src, pos).strip()
        if ann:
            body.append(f"\n\n{ann}", style="yellow")

        def done(go: bool | None) -> None:
            if go:
                self.app.jump_to(pos)  # type: ignore[attr-defined]

        from sipsim.tui.screens.logline import LogLineScreen

        title = f"Event {pos} · t={src.time_at(pos):.6f}" + ("  (the step shown now)" if pos == v.pos else "")
        self.app.push_screen(LogLineScreen(title, body, here=pos == v.pos), done)

    def action_filter(self) -> None:
        self.app.ask_filter(self)  # type: ignore[attr-defined]

    def action_clear_filter(self) -> None:
        self.set_filter("")
