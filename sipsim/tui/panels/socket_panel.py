"""Panel 2 — the socket: datagrams queued in the kernel, the receive buffer's fill, drops."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED, KernelEvent
from sipsim.tui.panels.base import Panel, wrap_line, wrap_parts
from sipsim.tui.panels.workers import CPU_REFRESH
from sipsim.tui.wiretext import from_engine

MAX_LISTED = 6  # queued datagrams listed one by one; the rest are counted


def fill_bar(rmem: int, rcvbuf: int | None, width: int) -> Text:
    """``[████······]`` of the bytes charged against the receive buffer, with the figures."""
    if not rcvbuf:
        return Text(f"{rmem} B charged (receive buffer size unknown)", style="dim")
    frac = min(1.0, rmem / rcvbuf)
    n = max(4, min(30, width - 34))
    full = round(frac * n)
    style = "red" if frac > 0.9 else "yellow" if frac > 0.5 else "green"
    out = Text("[")
    out.append("█" * full, style=style)
    out.append("·" * (n - full), style="dim")
    figures = f"] {rmem}/{rcvbuf} B ({frac * 100:.1f} %)"
    if len(out) + len(figures) > width:  # 80 columns, a full buffer: the unit gives way to the per cent
        figures = f"] {rmem}/{rcvbuf} ({frac * 100:.1f}%)"
    out.append(figures)
    return out


class SocketPanel(Panel):
    AUTO_HEIGHT = True
    NUMBER = 2
    TITLE = "Socket"
    HELP = """\
### 2 Socket — the kernel's receive queue of the proxy's UDP socket

* **queued**: datagrams that arrived and wait for a worker's `recvfrom` (id, first line, sender,
  size, and the bytes the kernel *charges* for each: the skb's truesize, far more than the
  payload);
* the **fill bar**: bytes charged against the receive buffer (`SO_RCVBUF`, doubled by Linux;
  `rmem_default` when unset). When a datagram does not fit, the kernel **drops** it
  (`RcvbufErrors`): no worker ever sees it, no log line, only a counter. The fill can be more
  than the queued datagrams' charges: Linux gives the bytes of datagrams already read back in
  batches (`udp_rmem_release`, a quarter of the buffer at a time, or when the reader's queue is
  empty), and the line under the bar says how many bytes wait for that;
* **drops**, datagrams arrived, and with the `reuseport` policy one socket per worker.

Live mode: the real kernel does not report its queue to the workers, so queued datagrams are not
shown; drops come from the attendant, which reads the socket's drop counter (`SO_MEMINFO`);
**received** is what the workers' `recvfrom` returned (the server's counters, read twice a second;
a watched worker counts a datagram as it returns from `recvfrom`, so a message held in live-step is
received already) and **watched** the datagrams whose steps reached the TUI.

Keys: `up`/`down` scroll; `f` maximizes the panel, and then every queued datagram the screen
holds is listed (six otherwise, the rest counted).

Kamailio: the socket is opened once by the main process before forking (`udp_init()` in
`src/core/udp_server.c`, `SO_RCVBUF` grown up to `maxbuffer`); the queue and the drops are the
kernel's (`__udp_enqueue_schedule_skb`, `sk_rmem_alloc` against `sk_rcvbuf`).
"""

    _drawn_stats: object = None  # live: the server's stats answer the panel last drew

    def on_mount(self) -> None:
        self.set_interval(CPU_REFRESH, self._fresh_stats)

    def _fresh_stats(self) -> None:
        """Live: the fill, the kernel's drops and what the workers received come from the server's
        stats, read twice a second whether events come or not; the app redraws on events only, so
        the panel redraws itself when the source holds a new read."""
        v = self.view
        if v is not None and v.live and getattr(v.source, "stats", None) is not self._drawn_stats:
            self.redraw_panel()

    def lines(self, width: int) -> tuple[list[Text], int]:
        """The figures first (fill, drops, what just happened, counters), the queued datagrams last:
        when the panel is short (80×24, a flood) the list is what gets cut, never the drops."""
        v = self.view
        assert v is not None
        snap = v.snap
        out: list[Text] = []
        multi = len(snap.sockets) > 1
        src = v.source
        self._drawn_stats = getattr(src, "stats", None)
        head = f"{src.listen} · wake policy {snap.policy or '?'}"
        if len(head) > width:
            head = f"{src.listen} · policy {snap.policy or '?'}"
        out.append(Text(head, style="bold"))
        whole = {id(out[0])}  # lines kept whole (a fill bar broken at a space would read as two)
        queued: list[tuple[Text | None, tuple[Any, ...]]] = []  # each socket's queue: listed last
        notes: list[Text] = []
        for s in snap.sockets:
            label = None
            if multi:
                owner = f" (read by {v.wname(s.owner)})" if s.owner is not None else ""
                label = Text(f"socket {s.index}{owner}", style="bold")
                out.append(label)
            if v.live:
                stats = getattr(src, "stats", {}).get("socket", {})
                if stats:
                    out.append(fill_bar(int(stats.get("rcv_queue", 0)), int(stats.get("rcvbuf", 0)) or None, width))
                    whole.add(id(out[-1]))
                    out.append(Text(f"kernel drops {stats.get('drops', 0)} · SO_MEMINFO, read twice a second",
                                    style="dim"))
                out.append(Text("the datagrams queued are not reported live, only their bytes", style="dim"))
                rate = getattr(src, "msg_rate", None)
                if rate is not None:
                    out.append(Text(f"{rate:,.0f} datagrams/s received by the workers", style="dim"))
                continue
            out.append(fill_bar(s.rmem, s.rcvbuf, width))
            whole.add(id(out[-1]))
            held = s.rmem - sum(q.charge for q in s.queue)
            if held > 0:  # the fill is more than the queue's charges: read, not given back yet (last:
                # on a short panel the drops and the queue come first)
                notes.append(Text(f"{held} B of the fill: read, not given back yet (udp_rmem_release)",
                                  style="dim"))
            if s.drops:
                out.append(Text(f"✗ {s.drops} dropped: receive buffer full", style="bold red"))
            if not s.queue:
                out.append(Text("queue empty", style="dim"))
                continue
            queued.append((label.copy() if multi and label is not None else None, s.queue))
        ev = v.event
        if type(ev) is KernelEvent and ev.kind == DATAGRAM_DROPPED:
            d = ev.detail
            why = (f"{d.get('rmem', '?')} + {d.get('charge', '?')} > {d.get('rcvbuf', '?')} B"
                   if "charge" in d else f"{d.get('count', 1)} by the kernel")
            out.append(Text(f"✗ {v.mname(ev.msg)} dropped: {why}", style="bold red"))
        elif type(ev) is KernelEvent and ev.kind == DATAGRAM_QUEUED:
            out.append(Text(f"+ {v.mname(ev.msg)} queued", style="green"))
        if v.live:
            # no kernel events live, so no "arrived": what the workers' recvfrom returned (the
            # server's counters; the kernel's drops are above) and what the TUI saw handled
            received = getattr(src, "received", None)
            counts = [Text(f"received {'?' if received is None else received}", style="dim"),
                      Text(f"watched {snap.handled}", style="dim")]
        else:
            counts = [Text(f"arrived {snap.arrived}", style="dim"), Text(f"drops {snap.drops}", style="dim"),
                      Text(f"handled {snap.handled}", style="dim")]
        out.extend(wrap_parts(counts, width, style="dim"))
        if v.live and src.history.lost:
            out.append(Text(f"observer lost {src.history.lost} events (the TUI lagged)", style="yellow"))
        # sentences are wrapped, not cut: on 80 columns this panel is 30 cells wide, and "the
        # datagrams queued are not …" or "✗ #812 dropped: 212800 + 1…" told a learner nothing
        out = [piece for line in out for piece in (wrap_line(line, width) if id(line) not in whole else [line])]
        notes = [piece for line in notes for piece in wrap_line(line, width)]
        return out + self._listings(v, queued, len(out) + len(notes)) + notes, 0

    def _listings(self, v: Any, queued: list[tuple[Text | None, tuple[Any, ...]]], other: int) -> list[Text]:
        """The queued datagrams, oldest first: MAX_LISTED per socket, the rest counted. Maximized
        (``f``), as many as the screen holds: a flood's queue is what one maximizes this panel for."""
        limit = MAX_LISTED
        if self.has_class("-maximized") and queued:
            heads = sum(2 if label is not None else 1 for label, _q in queued)  # (a label, "N queued")
            limit = max(MAX_LISTED, (self.content_size.height - other - heads) // len(queued) - 1)  # (- "… more")
        out: list[Text] = []
        for label, queue in queued:
            if label is not None:
                out.append(label)
            out.append(Text(f"{len(queue)} queued (oldest first):"))
            shown = queue if len(queue) <= limit else queue[:limit]
            for q in shown:
                line = Text(f"  {v.mname(q.id)} ", style="bold")
                line.append(f"{from_engine(q.summary)[:40]} ", style="cyan")
                line.append(f"from {q.src}, {q.size} B, charged {q.charge}", style="dim")
                if q.note:
                    line.append(f" — {q.note}", style="yellow")
                out.append(line)
            if len(queue) > len(shown):
                out.append(Text(f"  … and {len(queue) - len(shown)} more", style="dim"))
        return out
