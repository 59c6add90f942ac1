"""Panel 3 — the pipeline: ``receive_msg``'s steps for the datagram in focus, and the script line."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from sipsim.engine.events import StepEvent
from sipsim.tui.panels.base import Panel, mark_style, wrap_line
from sipsim.tui.steps import CURRENT, PENDING, SKIPPED, Row, build_rows, script_lines
from sipsim.tui.wiretext import narration

SCRIPT_CONTEXT = 3  # lines shown above and below the current script line


class PipelinePanel(Panel):
    NUMBER = 3
    TITLE = "Pipeline"
    HELP = """\
### 3 Pipeline — what one worker does with one datagram

The steps of `receive_msg`, in Kamailio's own names and order for the profile (`ser`: the seed
document; `kamailio`: 5.6), for the datagram in focus (the one the last event concerned, or the
pinned worker's):

`✓` done · `▶` the step the worker is on · `·` not reached yet · `✗` dropped here, with the
reason · `–` never reached (dropped earlier, or the worker finished without it) or the branch not
taken.

After `parse_msg` the first line decides the **request branch** (core sanity, pre-script
callbacks, `request_route`) or the **reply branch** (`forward_reply`; in 5.6 `onreply_route` first
when the script has one — without one it stays `–`). A datagram that does not parse takes
**neither**: `receive_msg` frees it (the `ser` profile may first answer 400).

What a step calls is nested under it — the script's functions (`mf_process_maxfwd_header`,
`save`, `lookup`, `forward_request`, `sl_send_reply` …) and each `sendto`. While the script
runs, the **script** itself is shown with `▶` on the current line.

Keys: `up`/`down` select a row when this panel has focus, `enter` goes to that step.

Breakpoints `●`: `x` toggles one on the selected step (otherwise on the current step); `p`
(run) stops at any step with a breakpoint. Live, a worker reporting that step turns live-step on
(the workers stop at their next step: the report comes after the step was taken).

Kamailio: `receive_msg()` in `src/core/receive.c`; `parse_msg()` in
`src/core/parser/msg_parser.c`; `exec_pre_script_cb()` in `src/core/script_cb.c`; `forward_reply()`
and `forward_request()` in `src/core/forward.c`; the script runs in `run_top_route()`
(`src/core/action.c`).
"""

    # x is the app's key, repeated here so that the footer offers it first while this panel has
    # the focus (on 80 columns the app's own x is one of the keys left out, and breakpoints are
    # what a learner comes to this panel for)
    BINDINGS: ClassVar = [Binding("enter", "jump", "go there"), Binding("x", "app.breakpoint", "break")]

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(ui)
        self.cursor: int | None = None  # selected row (for x), None: follow the current step
        self._rows: list[Row] = []

    def after_show(self, view) -> None:  # noqa: ANN001
        m = view.focus
        if m is None:
            self.set_title()
            return
        who = view.wname(m.worker) if m.take is not None and m.take <= view.pos else "no worker yet"
        self.set_title(f"{view.mname(m.id)} {m.label} ({who})")
        self.cursor = None

    def rows(self) -> list[Row]:
        v = self.view
        if v is None or v.focus is None:
            return []
        m = v.focus
        src = v.source
        events = [(p, src.event_at(p)) for p in src.msg_events(m, v.pos)]
        # the branch is known once parse_msg read the first line (a failed parse carries a reason)
        parsed = any(type(ev) is StepEvent and ev.step == "parse_msg" and not ev.reason for _, ev in events)
        return build_rows(v.profile, m.is_reply if parsed else None, events, v.pos, live=v.live)  # type: ignore[arg-type]

    def selected_step(self) -> str | None:
        if self.cursor is not None and 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor].step or None
        return None

    def lines(self, width: int) -> tuple[list[Text], int]:
        v = self.view
        assert v is not None
        if v.focus is None:
            return [Text("no datagram yet: the workers wait in recvfrom", style="dim")], 0
        rows = self._rows = self.rows()
        script, script_cur = self._script(v)
        # the script goes right under the routing step that runs it (after the calls nested there),
        # so the step, what it called and the script line it is on read together
        place = _script_place(rows) if script else len(rows)
        out: list[Text] = []
        line_of_row: list[int] = []
        anchor = 0
        for i, r in enumerate(rows):
            if i == place:
                out.extend(script)
            bp = "●" if r.step and r.step in v.breakpoints else " "
            sel = "›" if self.has_focus and self.cursor == i else " "
            line = Text(f"{sel}{bp}", style="bold red")
            line.append("  " * r.depth)
            line.append(f"{r.mark} ", style=mark_style(r.mark))
            line.append(r.name, style="bold" if r.mark == CURRENT else "")
            if r.note:
                line.append(f"  {r.note}", style="dim" if r.mark != CURRENT else "")
            if r.mark == CURRENT or r.mark == "✗":
                anchor = len(out)
            line_of_row.append(len(out))
            if (r.mark == CURRENT or r.mark == "✗") and len(line) > width:
                # what the step on screen does (or why it dropped) is the sentence a learner reads
                # here: wrapped under its name, not cut to "…" (80 columns cut most of them)
                # (under the note when that leaves it a readable column, else under the name)
                under = 6 + 2 * r.depth + len(r.name)
                out.extend(wrap_line(line, width, indent=" " * (under if width - under >= 30 else 6 + 2 * r.depth)))
                continue
            out.append(line)
        if script:
            if place >= len(rows):
                out.extend(script)
            # the script's current line is what the step is about: it is the line kept in sight
            anchor = (line_of_row[place] if place < len(rows) else len(out)) - len(script) + script_cur
        if self.cursor is not None and self.cursor < len(line_of_row):
            anchor = line_of_row[self.cursor]
        return out, anchor

    def _script(self, v) -> tuple[list[Text], int]:  # noqa: ANN001
        """The lines of the script around the current one (fewer on a short panel), and the index
        of the current one among them."""
        ev = v.source.route_event(v.focus, v.pos)
        if ev is None:
            return [], 0
        path = str(ev.detail.get("file"))
        line_no = int(ev.detail.get("line") or 0)
        lines = script_lines(path)
        out = [Text(f"  ── {os.path.basename(path)} ({ev.detail.get('route', 'route')}) ──", style="bold")]
        if not lines:
            out.append(Text(f"  line {line_no}: {narration(str(ev.detail.get('src', '')))}"))
            return out, 1
        height = self.content_size.height
        context = SCRIPT_CONTEXT if height >= 16 or height == 0 else 2 if height >= 10 else 1
        lo, hi = max(1, line_no - context), min(len(lines), line_no + context)
        cur = 0
        for n in range(lo, hi + 1):
            mark = "▶" if n == line_no else " "
            if n == line_no:
                cur = len(out)
            t = Text(f"   {mark}{n:>4} ", style="bold yellow" if n == line_no else "dim")
            t.append(lines[n - 1].expandtabs(4), style="bold" if n == line_no else "")
            out.append(t)
        return out, cur

    def action_scroll_lines(self, n: int) -> None:
        if not self._rows:
            return
        if self.cursor is None:
            cur = next((i for i, r in enumerate(self._rows) if r.mark == CURRENT), 0)
            self.cursor = cur
        self.cursor = max(0, min(len(self._rows) - 1, self.cursor + n))
        self.redraw_panel()


    def action_jump(self) -> None:
        """``enter``: to the step of the selected row (as in the ladder and the log)."""
        if self.cursor is None or not 0 <= self.cursor < len(self._rows):
            return
        r = self._rows[self.cursor]
        if r.pos <= 0:
            why = "never reached" if r.mark == SKIPPED else "not reached yet: n steps to it"
            self.app.notify(f"{r.name}: {why}")
            return
        self.app.jump_to(r.pos)  # type: ignore[attr-defined]


def _script_place(rows: list[Row]) -> int:
    """Index of the row after the routing step that runs now and the calls nested under it."""
    at = None
    for i, r in enumerate(rows):
        if r.step in ("request_route", "onreply_route") and r.mark not in (PENDING, SKIPPED):
            at = i
    if at is None:
        return len(rows)
    j = at + 1
    while j < len(rows) and rows[j].depth > rows[at].depth:
        j += 1
    return j
