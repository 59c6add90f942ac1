"""Panel 1 — the workers: who sleeps in ``recvfrom``, who was woken, who runs which step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from sipsim.engine.events import WASTED_WAKEUP, WORKER_SLEEPS, WORKER_TAKES, WORKER_WAKEUP, KernelEvent
from sipsim.engine.snapshot import EXITED, PAUSED, RECEIVED, RUNNING, SLEEPING, STARTING, TOOK, WOKEN
from sipsim.tui.panels.base import Panel, wrap_line, wrap_parts
from sipsim.tui.wiretext import from_engine

ICONS = {SLEEPING: "z", WOKEN: "!", RECEIVED: "↓", TOOK: "⇣", RUNNING: "▶", PAUSED: "‖", EXITED: "✗", STARTING: "…"}
STYLES = {SLEEPING: "dim", WOKEN: "bold cyan", RECEIVED: "cyan", TOOK: "bold magenta", RUNNING: "bold yellow",
          PAUSED: "red", EXITED: "red"}
CPU_REFRESH = 0.25  # s between looks at the live source's CPU times (it reads them every 0.5 s)
SHORT = {RECEIVED: "recvfrom returned", TOOK: "took, never slept"}  # when the whole state does not fit
WASTED_TEXT = "woken for nothing: queue empty"  # a woken worker whose wake-up was wasted (state WOKEN still)
LOOK_BACK = 4000  # events searched back for a woken worker's last event (a herd is a few per worker)


class WorkersPanel(Panel):
    AUTO_HEIGHT = True
    NUMBER = 1
    TITLE = "Workers"
    HELP = """\
### 1 Workers — the processes that call `recvfrom`

One line per worker process: its name (**W0**, **W1** … in the simulator; the real **pid** live),
its state, and the datagram it holds.

* `z` **sleeping in recvfrom** — blocked in the kernel, on the socket's wait-queue;
* `!` **woken by the kernel** — taken off the wait-queue, not running yet (it may wait for a CPU);
  `! woken for nothing` — woken with the others (a wake-all herd), but another worker took the
  datagram: it finds the queue empty and goes **back to sleep** (a wasted wake-up);
* `↓` **recvfrom returned** after sleeping; `⇣` **took queued data without sleeping** — it came
  back to `recvfrom` while datagrams were queued, so it never slept;
* `▶` **running** a step of `receive_msg`; `‖` paused (SIGSTOP, or held by live-step).

In the simulator the number at the right of each line is the worker's **vruntime**: the CPU time
the scheduler has charged it (µs, ms, s). When there are more runnable workers than CPUs, the
lowest vruntime runs first — so the worker that just handled a datagram waits behind those that
only woke up, and a herd's losers pay for their wasted wake-ups here too. sipsim charges it when
the worker leaves its CPU (it sleeps, or its time slice is over), so a running worker shows what it
had when it started; Linux's `update_curr()` also charges the running task at every tick.
Live mode shows each real worker's **CPU time** there instead: the scheduler's `sum_exec_runtime`,
read from `/proc/PID/schedstat` twice a second (the figure now, whichever step you look at). For
workers of equal weight (nice 0) it is the very quantity the simulator's vruntime counts: Linux
advances a nice-0 task's vruntime by exactly the CPU time it used.

The **wait-queue** line lists the sleepers in the order the kernel will wake them
(`W2 → W3 → W4`): the first one gets the next datagram. A worker that finishes goes back to
`recvfrom` and **rejoins at the tail** — that is the seed's round-robin.

Maximized (`f`), the panel adds the figures worker by worker: datagrams handled, taken without
sleeping, wasted wake-ups, and the time each spent busy (from `recvfrom` returning to the next
`recvfrom`).

Keys: `up`/`down` choose a worker, `enter` pins it (the pipeline and message panels follow the
datagram it holds), `escape` unpins.

Kamailio: `udp_rcv_loop()` in `src/core/udp_server.c` (the loop every worker runs), the children
forked in `main_loop()` (`src/main.c`); the wait-queue is the kernel's (`linux-wake-order.md`).
"""
    BINDINGS: ClassVar = [
        Binding("enter", "pin", "pin"),
        Binding("escape", "unpin", "Unpin", show=False),
    ]

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(ui)
        self.cursor = 0

    def on_mount(self) -> None:
        self.set_interval(CPU_REFRESH, self._fresh_cpu)

    def after_show(self, view) -> None:  # noqa: ANN001
        self.set_title("CPU time on the right" if view.live else "vruntime on the right")

    def _fresh_cpu(self) -> None:
        """Live: the source reads the workers' CPU time twice a second, events or not; the app
        redraws only when something happens, so this panel takes each new read itself (the view
        with only its ``cpu_ns`` replaced: everything else stays what the app built)."""
        v = self.view
        if v is None or not v.live:
            return
        cpu = v.source.cpu_ns
        if cpu is not v.cpu_ns and cpu != v.cpu_ns:
            self.view = replace(v, cpu_ns=cpu)
            self.redraw_panel()

    def lines(self, width: int) -> tuple[list[Text], int]:
        v = self.view
        assert v is not None
        snap = v.snap
        out: list[Text] = []
        ev = v.event
        namew = 7 if v.live else 4
        # simulated: the vruntime the snapshot folded; live: the real CPU time /proc says now
        vrs = {w.id: short_ns(v.cpu_ns[w.id]) for w in snap.workers if w.id in v.cpu_ns} if v.live else \
            {w.id: short_ns(w.vruntime) for w in snap.workers if w.vruntime is not None}
        vrw = max(map(len, vrs.values()), default=-1) + 1  # the figures' column, and the space before it
        wasted = _woken_for_nothing(v)
        for i, w in enumerate(snap.workers):
            vr = vrs.get(w.id, "")
            name = v.wname(w.id)
            sel = "›" if self.has_focus and i == self.cursor else " "
            pin = v.pinned == w.id
            state = WASTED_TEXT if w.id in wasted else w.state_text
            held = v.waiting.get(w.id)
            if held is not None:
                state = f"held after {held.get('step')} (live-step)"
            msg = f" {v.mname(w.msg.id)} {from_engine(w.msg.summary)}" if w.msg is not None else ""
            # a narrow panel shortens the state before it hides which datagram the worker holds
            # ("running" first: the ▶ says it already)
            room = max(8, width - (1 + namew + 2) - (len(v.mname(w.msg.id)) + 2 if w.msg is not None else 0))
            if len(state) > room - vrw and w.state == RUNNING:  # (leaving room for the vruntime too)
                state = state.removeprefix("running ")
            if held is not None and len(state) > room - vrw:  # the top bar says live-step too
                state = state.removesuffix(" (live-step)")
            if len(state) > room and w.state in SHORT:  # the icon says the rest
                state = SHORT[w.state]
            if len(state) > room:
                state = state[: room - 1] + "…"
            bold = ev is not None and ev.worker == w.id
            line = Text(f"{sel}{name:<{namew}}", style="bold" if bold else "")
            line.append(f"{ICONS.get(w.state, '?')} ", style=STYLES.get(w.state, ""))
            pad = min(22, room)
            if vr and msg:  # the padding gives way to the figure before the datagram's number does
                pad = max(len(state), min(pad, room - vrw))
            line.append(f"{state:<{pad}}", style=STYLES.get(w.state, ""))
            # kept: the name, the state (and its padding when the datagram's number follows), the number
            keep = len(line.plain) + len(v.mname(w.msg.id)) + 1 if w.msg is not None else len(line.plain.rstrip())
            if msg:
                line.append(msg, style="")
            if pin:
                line.append(" (pinned)", style="italic")
            if vr:  # right-aligned: the datagram's summary gives way to it, never the state or its number
                # (a long state on a narrow panel leaves no room: that line shows none)
                line = _with_suffix(line, vr, width, keep)
            out.append(line)
        if not snap.workers:
            out.append(Text("no worker has reported yet", style="dim"))
        out.extend(self._queue_lines(v, width))
        note = self._event_note(v)
        if note is not None:  # wrapped: "z 26673 sleeps in recvfrom for the first…" said nothing
            out.extend(wrap_line(note, width))
        wasted = f"wasted wake-ups {snap.wasted_wakeups}"
        if snap.wasted_cpu:  # what the herd cost (simulated: a context switch and an empty recvfrom each)
            wasted += f" ({snap.wasted_cpu * 1e6:.1f} µs of CPU)"
        figures = (f"handled {snap.handled}", f"took without sleeping {snap.took_without_sleeping}", wasted)
        out.extend(wrap_parts([Text(f, style="dim") for f in figures], width, style="dim"))
        if self.has_class("-maximized") and snap.workers:  # the room f gives: the figures, worker by worker
            out.extend(per_worker(v, width))
        # the wait-queue and the figures are what this panel is about: when the workers are more
        # than the panel's rows, the list scrolls (to the selected worker when it has the focus)
        anchor = min(self.cursor, max(0, len(snap.workers) - 1)) if self.has_focus else len(out) - 1
        return out, anchor

    def _queue_lines(self, v, width: int) -> list[Text]:  # noqa: ANN001
        q = v.snap.wait_queue
        line = Text("wait-queue, next first: ", style="bold")
        if not q:
            full = "(empty — no worker sleeps in recvfrom)"
            line.append(full if len(line) + len(full) <= width else "(empty)", style="dim")
            return [line]
        ev = v.event
        rejoined = (type(ev) is KernelEvent and ev.kind == WORKER_SLEEPS and ev.detail.get("at", "tail") == "tail"
                    and ev.worker == q[-1] and _slept_before(v, ev.worker))
        parts: list[Text] = []
        for i, wid in enumerate(q):
            style = "bold green" if i == 0 else ""
            if rejoined and i == len(q) - 1:
                style = "bold yellow"
            parts.append(Text(v.wname(wid), style=style))
        line.append_text(parts[0])
        return wrap_parts([line, *parts[1:]], width, sep=" → ", indent="  → ")

    def _event_note(self, v) -> Text | None:  # noqa: ANN001
        ev = v.event
        if type(ev) is not KernelEvent or ev.worker is None:
            return None
        name = v.wname(ev.worker)
        if ev.kind == WORKER_SLEEPS:
            q = v.snap.wait_queue
            head = ev.detail.get("at") == "head"  # a poll()-style waiter: it rejoins at the head
            before = _before(v, ev.worker)
            if before is not None and before.state == WOKEN:  # woken with the herd, got nothing
                if head:  # (the panel is narrow: the short form)
                    return Text(f"↺ {name} woken for nothing: sleeps at the head", style="yellow")
                return Text(f"↺ {name} back to sleep: woken for nothing", style="yellow")
            if not _slept_before(v, ev.worker):  # its first recvfrom: nothing was done, nothing to rejoin
                return Text(f"z {name} sleeps in recvfrom for the first time", style="yellow")
            if head:
                return Text(f"↺ {name} sleeps at the head of the wait-queue", style="yellow")
            if len(q) > 1 and q[-1] == ev.worker:
                return Text(f"↺ {name} done: rejoins the queue at the tail", style="yellow")
            return Text(f"↺ {name} calls recvfrom and sleeps", style="yellow")
        if ev.kind == WORKER_TAKES:
            return Text(f"⇣ {name} took queued data, never slept", style="magenta")
        if ev.kind == WASTED_WAKEUP:
            return Text(f"✗ {name} wasted wake-up: the queue is empty", style="yellow")
        return None

    def action_scroll_lines(self, n: int) -> None:
        if self.view is None or not self.view.snap.workers:
            return
        self.cursor = max(0, min(len(self.view.snap.workers) - 1, self.cursor + (1 if n > 0 else -1)))
        self.redraw_panel()

    def action_pin(self) -> None:
        if self.view is not None and self.view.snap.workers:
            w = self.view.snap.workers[min(self.cursor, len(self.view.snap.workers) - 1)]
            self.app.pin_worker(w.id)  # type: ignore[attr-defined]

    def action_unpin(self) -> None:
        self.app.pin_worker(None)  # type: ignore[attr-defined]


def per_worker(v, width: int) -> list[Text]:  # noqa: ANN001
    """The totals above, one row per worker (maximized): who handled how many datagrams — the
    round-robin of the wait-queue, or one worker doing all the work — and whom a herd woke for
    nothing. ``busy`` is the time from ``recvfrom`` returning to the next ``recvfrom`` (virtual
    seconds simulated, real ones live), summed."""
    namew = len("per worker") + (2 if v.live else 0)  # (a pid: up to 7 digits)
    cols = (("handled", 8), ("took without sleeping", 22), ("wasted wake-ups", 16), ("busy", 9))
    head = Text(f"{'per worker':<{namew}}", style="bold")
    for title, w in cols:
        head.append(f"{title:>{w}}", style="bold")
    rows = [Text(""), head]
    for w in v.snap.workers:
        row = Text(f"{v.wname(w.id):<{namew}}")
        figures = (w.handled, w.took_without_sleeping, w.wasted_wakeups, w.busy)
        for n, (_title, cw) in zip(figures, cols, strict=True):
            figure = short_ns(round(n * 1e9)) if isinstance(n, float) else str(n)
            row.append(f"{figure:>{cw}}", style="dim" if not n else "")
        rows.append(row)
    return rows


def short_ns(ns: int) -> str:
    """A vruntime or CPU time in at most 6 characters: ``613µs``, ``12.3ms``, ``613ms``, ``1.23s``."""
    if ns < 999_500:
        return f"{ns / 1e3:.0f}µs"
    if ns < 99_950_000:
        return f"{ns / 1e6:.1f}ms"
    if ns < 999_500_000:
        return f"{ns / 1e6:.0f}ms"
    return f"{ns / 1e9:.2f}s" if ns < 99_995_000_000 else f"{ns / 1e9:.0f}s"


def _with_suffix(line: Text, suffix: str, width: int, keep: int) -> Text:
    """``line`` with ``suffix`` right-aligned at ``width``: the line is cut (with …) to make room,
    but never before ``keep`` characters (the name, state and datagram number); if even those do
    not fit, the suffix is left out."""
    room = width - len(suffix) - 1
    if len(line) > room:
        if room - 1 < keep:
            return line
        line = line[:room - 1]
        line.append("…")
    line.append(" " * (width - len(line) - len(suffix)))
    line.append(suffix, style="dim")
    return line


def _before(v, wid: int | None):  # noqa: ANN001, ANN202
    """The worker as it was just before the event at the cursor (None: unknown, e.g. the first
    event, or live history already dropped). A snapshot of the history: stepping back is exact."""
    if wid is None or v.pos <= getattr(v.source, "base", 0):
        return None
    try:
        return v.source.snapshot_at(v.pos - 1).worker(wid)
    except (IndexError, KeyError, ValueError):
        return None


def _slept_before(v, wid: int | None) -> bool:  # noqa: ANN001
    """Whether the worker had slept in ``recvfrom`` before the event at the cursor: its first sleep
    is not a return to the queue (``sleep_index`` is set at a worker's first sleep and kept)."""
    w = _before(v, wid)
    return w is not None and (w.sleep_index is not None or w.handled > 0)


def _woken_for_nothing(v) -> set[int]:  # noqa: ANN001
    """The woken workers (``!``) whose latest event is a wasted wake-up: the kernel woke them with
    a herd, another worker took the datagram, and they have not gone back to sleep yet. The
    snapshot keeps them WOKEN; the events say more (looked up backwards from the cursor)."""
    todo = {w.id for w in v.snap.workers if w.state == WOKEN and w.wasted_wakeups > 0}
    out: set[int] = set()
    pos, stop = v.pos, max(getattr(v.source, "base", 0), v.pos - LOOK_BACK)
    while todo and pos >= stop:
        ev = v.source.event_at(pos)
        pos -= 1
        if type(ev) is not KernelEvent or ev.worker not in todo:
            continue
        if ev.kind == WASTED_WAKEUP:
            out.add(ev.worker)
            todo.discard(ev.worker)
        elif ev.kind == WORKER_WAKEUP:
            todo.discard(ev.worker)
    return out
