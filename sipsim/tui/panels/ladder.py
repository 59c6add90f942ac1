"""Panel 6 — the ladder: every datagram in and out of the proxy, sngrep style, with its worker."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from sipsim.tui.history import LadderRow
from sipsim.tui.panels.base import Panel

GUTTER = 3
MIN_COL = 14
FOLDED = "…"  # the column that stands for the addresses there is no room for


class LadderPanel(Panel):
    SELF_WINDOWED = True
    NUMBER = 6
    TITLE = "Ladder"
    HELP = """\
### 6 Ladder — the call flow through the proxy

One column per address (the proxy in the middle, peers by name when the scenario names them),
one arrow per datagram that reached or left the proxy, in the order it happened, as sngrep draws
it. When there are more addresses than columns fit, the least used share the last column, headed
`… N more`, and the panel's title lists them (`f` maximizes the panel: more columns).

Each arrow says the method or status **and the worker that handled it**: an arrow into the proxy
names the worker whose `recvfrom` took it (`queued` while none has yet, `✗ dropped` if the
receive buffer refused it); an arrow out names the worker that sent it.

`⇅ reordered` marks a datagram that arrived before another of the same flow but left after it:
a stateless proxy handles every datagram in whichever worker takes it, so a slower worker lets a
200 overtake its 180 (try the `reorder` scenario). `↻` marks a retransmission.

Keys: `up`/`down` select an arrow, `enter` jumps to that datagram's steps, `c` shows only the
selected arrow's call (Call-ID; again to show all), `/` filters by Call-ID text. `}` / `{` go to
the next / previous datagram of the call: the filtered one, else the selected arrow's.

Kamailio: a stateless proxy keeps no transaction: `forward_request()` and `forward_reply()`
(`src/core/forward.c`) send each datagram on as soon as its worker gets to it.
"""
    BINDINGS: ClassVar = [
        Binding("enter", "jump", "its steps"),
        Binding("c", "call_filter", "this call"),
        Binding("slash", "filter", "filter", key_display="/"),
    ]

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(ui)
        self.cursor: int | None = None  # index into the visible rows
        self._visible: list[LadderRow] = []
        self.folded: list[str] = []  # addresses drawn in the last column, "…" (too many to show each)

    @property
    def call_filter(self) -> str:
        return str(self.ui.get("ladder.filter", ""))

    @call_filter.setter
    def call_filter(self, text: str) -> None:
        self.ui["ladder.filter"] = text

    def after_show(self, view) -> None:  # noqa: ANN001
        self.cursor = None
        self._title()

    def _title(self) -> None:
        """The filter, and which addresses share the ``…`` column (all of them: the header has
        room for one)."""
        parts = [f"Call-ID ~ {self.call_filter}"] if self.call_filter else []
        if self.folded:
            names = self.view.source.history.names if self.view is not None else {}
            parts.append("… = " + ", ".join(f"{names[a]} {a}" if names.get(a) else a for a in self.folded))
        self.set_title(" · ".join(parts))

    def set_filter(self, text: str) -> None:
        self.call_filter = text.strip()
        self.cursor = None
        if self.view is not None:
            self.after_show(self.view)
        self.redraw_panel()
        self.app.refresh_bindings()  # a chosen call: the footer offers } and { (call_keys)

    def visible_rows(self) -> list[LadderRow]:
        v = self.view
        assert v is not None
        h = v.source.history
        rows = h.rows[: h.rows_until(v.pos)]
        if self.call_filter:
            f = self.call_filter.lower()
            rows = [r for r in rows if f in h.fill_call_id(h.msgs[r.msg]).lower()] if rows else rows
        return rows

    def columns(self, rows: list[LadderRow], fit: int = 1_000_000) -> tuple[list[str], list[str]]:
        """The columns (first peer, the proxy, the other peers in the order first seen) and the
        addresses folded into the last column, ``…``, when more than ``fit`` columns would be
        needed: unnamed addresses before the peers the scenario names, then the least used ones
        (fewest arrows; the later seen on a tie), so a datagram from an injected source never
        hides the call's own participants."""
        v = self.view
        assert v is not None
        proxy = v.source.listen
        seen: dict[str, int] = {}
        for r in rows:
            a = r.dst if r.out else r.src
            seen[a] = seen.get(a, 0) + 1
        addrs = [a for a in seen if a != proxy]
        folded: list[str] = []
        if len(addrs) + 1 > fit:
            order = {a: i for i, a in enumerate(addrs)}
            names = v.source.history.names  # a peer the scenario names is a participant: kept first
            ranked = sorted(addrs, key=lambda a: (not names.get(a), -seen[a], order[a]))
            kept = set(ranked[: max(0, fit - 2)])
            folded = [a for a in ranked if a not in kept]  # the most used first
            addrs = [a for a in addrs if a in kept]
        return [*addrs[:1], proxy, *addrs[1:]], folded

    def lines(self, width: int) -> tuple[list[Text], int]:
        v = self.view
        assert v is not None
        rows = self._visible = self.visible_rows()
        if not rows:
            self.folded = []
            self._title()
            what = f"no datagram of a call matching {self.call_filter!r} yet" if self.call_filter else "no datagram yet"
            return [Text(what, style="dim")], 0
        width = max(width, GUTTER + MIN_COL * 2)  # drawn at least this wide; the window crops
        room = width - GUTTER
        cols, folded = self.columns(rows, max(2, room // MIN_COL))
        self.folded = folded
        if folded:
            cols = [*cols, FOLDED]
        self._title()
        colw = room // len(cols)
        centers = [GUTTER + i * colw + colw // 2 for i in range(len(cols))]
        index = {a: i for i, a in enumerate(cols)}
        names = v.source.history.names
        out = [self._header(cols, centers, colw, names, v.source.listen, width, top=True),
               self._header(cols, centers, colw, names, v.source.listen, width, top=False)]
        cur = len(rows) - 1 if self.cursor is None else self.cursor
        # the header stays; the arrows scroll so that the selected (or latest) one is in sight
        fit = max(1, (max(3, self.size.height) - 2) // 2)
        first = max(0, cur - fit + 1) if self.cursor is None else max(0, min(cur - fit // 2, len(rows) - fit))
        for i in range(first, min(len(rows), first + fit)):
            r = rows[i]
            a = index.get(r.src if not r.out else v.source.listen, len(cols) - 1)
            b = index.get(r.dst if r.out else v.source.listen, len(cols) - 1)
            out.extend(self._arrow(v, r, a, b, centers, width, selected=i == cur, last=r.pos == v.pos))
        return out, 0

    def _header(self, cols, centers, colw, names, proxy, width, *, top) -> Text:  # noqa: ANN001
        line = [" "] * width
        for a, c in zip(cols, centers, strict=True):
            if a == FOLDED:  # the folded addresses: how many on top, the first of them below
                more = self.folded
                label = f"… {len(more)} more" if top else ", ".join(names.get(a) or a for a in more)
                if len(label) > colw - 1:
                    label = label[: max(1, colw - 2)] + "…"
            else:
                label = ("proxy" if a == proxy else names.get(a, "")) if top else a
            label = label[: colw - 1]
            start = max(0, min(width - len(label), c - len(label) // 2))
            line[start:start + len(label)] = list(label)
        return Text("".join(line)[:width], style="bold" if top else "dim")

    def _arrow(self, v, r: LadderRow, a: int, b: int, centers: list[int], width: int, *,  # noqa: ANN001
               selected: bool, last: bool) -> list[Text]:
        """Two lines: the label (method or status, worker) above, the arrow below."""
        m = v.source.history.msgs.get(r.msg)
        bars = [" "] * width
        for c in centers:
            if c < width:
                bars[c] = "│"
        top, line = list(bars), list(bars)
        lo, hi = sorted((centers[a], centers[b]))
        label = self._label(v, r, m)
        if a == b:  # a datagram to itself (a loop)
            label = f"↺ {label}"
            start = lo + 1
        else:
            line[lo + 1:hi] = ["─"] * (hi - lo - 1)
            if b > a:
                line[hi - 1] = "▶"
            else:
                line[lo + 1] = "◀"
            start = (lo + hi) // 2 - len(label) // 2
        start = max(GUTTER, min(width - len(label), start))
        top[start:start + len(label)] = list(label[: width - start])
        retrans = m is not None and not r.out and m.retrans_of is not None and m.retrans_pos <= v.pos
        dropped = m is not None and not r.out and m.dropped
        mark = "⇅" if r.reordered else "↻" if retrans else "✗" if dropped else " "
        sel = "›" if selected and self.has_focus else ("▸" if last else " ")
        style = "bold" if last else ""
        if r.reordered or retrans:
            style += " yellow"
        elif dropped:
            style += " red"
        elif r.out:
            style += " cyan"
        out = []
        for k, chars in enumerate((top, line)):
            t = Text((sel + mark + " ") if k == 0 else "   ", style="bold yellow")
            t.append("".join(chars[GUTTER:width]), style=style.strip())
            if selected and self.has_focus:
                t.stylize("reverse", 0, len(t))
            out.append(t)
        return out

    def _label(self, v, r: LadderRow, m) -> str:  # noqa: ANN001
        base = f"{v.mname(r.msg)} {r.label}"
        if r.out:
            text = f"{base} {v.wname(r.worker)}"
        elif m is None:
            text = base
        elif m.dropped:
            text = f"{base} ✗ dropped"
        elif m.take is not None and m.take <= v.pos:
            text = f"{base} →{v.wname(m.worker)}"
        else:
            text = f"{base} queued"
        if r.reordered:
            text += " ⇅ reordered"
        return text

    # -- keys -------------------------------------------------------------------------------------
    def action_scroll_lines(self, n: int) -> None:
        if not self._visible:
            return
        cur = len(self._visible) - 1 if self.cursor is None else self.cursor
        self.cursor = max(0, min(len(self._visible) - 1, cur + n))
        self.redraw_panel()

    def selected_row(self) -> LadderRow | None:
        if not self._visible:
            return None
        i = len(self._visible) - 1 if self.cursor is None else self.cursor
        return self._visible[i]

    def action_jump(self) -> None:
        r = self.selected_row()
        if r is None or self.view is None:
            return
        target = r.pos
        m = self.view.source.history.msgs.get(r.msg)
        if not r.out and m is not None and m.take is not None:
            target = next((p for p in m.events if p > m.take), m.take)
        self.app.jump_to(target)  # type: ignore[attr-defined]

    def action_call_filter(self) -> None:
        r = self.selected_row()
        if self.call_filter or r is None or self.view is None:
            self.set_filter("")
            return
        m = self.view.source.history.msgs.get(r.msg)
        cid = self.view.source.history.fill_call_id(m) if m is not None else ""
        if not cid:
            self.app.notify("no Call-ID known for this datagram", severity="warning")
            return
        self.set_filter(cid)

    def action_filter(self) -> None:
        self.app.ask_filter(self)  # type: ignore[attr-defined]
