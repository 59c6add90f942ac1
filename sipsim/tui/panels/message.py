"""Panel 4 — the message: its bytes as the worker sees them (buf, orig, lumps, what was sent, hex)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding

from sipsim.tui import msgtext
from sipsim.tui.msgtext import LABEL_WIDTH, Line
from sipsim.tui.panels.base import Panel, mark_style
from sipsim.tui.wiretext import from_engine

TABS = ("buf", "orig", "lumps", "out", "hex")
HEX_WIDTHS = (16, 8, 4)  # bytes per hex row, the widest that fits the panel
KIND_WORDS = {"reply": "local reply", "request": "forwarded request", "fwd_reply": "forwarded reply"}


def gutter_text(lines: list[Line], width: int) -> tuple[list[Text], int]:
    """Lines with their mark and label in a gutter; long lines wrap under a ↪ mark. An escape
    (a byte that is not text, ``\\xff``) is in reverse video, apart from the same characters
    typed in the message; lines wrap by terminal cells (a CJK character takes two)."""
    out: list[Text] = []
    anchor = 0
    room = max(10, width - LABEL_WIDTH - 5)
    for ln in lines:
        if ln.mark == msgtext.AT_UNPARSED:
            anchor = len(out)
        body = Text(ln.text or ("(empty line: end of the headers)" if ln.kind == "blank" else ""),
                    style="dim" if ln.mark in (msgtext.UNPARSED, msgtext.BODY) else "")
        for a, b in ln.escapes:
            body.stylize("reverse", a, b)
        body.expand_tabs(4)
        whole = [(sp.start, sp.end) for sp in body.spans if sp.style == "reverse"]
        for k, chunk in enumerate(body.divide(wrap_offsets(body.plain, room, whole))):
            if k == 0:
                t = Text(f"{ln.mark} ", style=mark_style(ln.mark))
                t.append(f"{ln.label:<{LABEL_WIDTH}}", style=mark_style(ln.mark) or "dim")
            else:
                t = Text(f"  {'↪':>{LABEL_WIDTH}}", style="dim")
            t.append(" │ ", style="dim")
            t.append_text(chunk)
            out.append(t)
    return out, anchor


def wrap_offsets(text: str, room: int, whole: Sequence[tuple[int, int]] = ()) -> list[int]:
    """Where ``text`` breaks into pieces of at most ``room`` terminal cells: never inside a
    character nor inside a ``whole`` span (an escape stays ``\\xff``, not ``\\x`` over ``ff``);
    something wider than ``room`` gets a line of its own."""
    if not whole and cell_len(text) == len(text):  # one cell per character: the common case
        return list(range(room, len(text), room))
    ends = dict(whole)
    cuts, used, i = [], 0, 0
    while i < len(text):
        j = ends.get(i, i + 1)
        w = cell_len(text[i:j])
        if used and used + w > room:
            cuts.append(i)
            used = 0
        used += w
        i = j
    return cuts


class MessagePanel(Panel):
    FIXED_TOP = 2  # the datagram's first line and the tab bar
    NUMBER = 4
    TITLE = "Message"
    HELP = """\
### 4 Message — the datagram in focus, as the worker holds it

Tabs (`left`/`right`): **buf** · **orig** · **lumps** · **out** · **hex**.

A gutter beside every line says how far the parser got — by a mark and a label, never by colour
alone: `✓` parsed (with the header's kind: `first_line`, `via1`, `via2`, `to`, `from`, `callid`,
`cseq`, `maxfwd` …), `▸ unparsed` where `msg->unparsed` points (parsing stopped there; later steps
parse further only when they need to), `·` not parsed yet, `=` body.

* **buf** — `ser` profile (the seed): the working copy; changes are made here at once
  (`✎ changed`, `+ added`). `kamailio` profile: the received bytes, **never written**.
* **orig** — `ser` only: the untouched copy `receive_msg` keeps. Kamailio removed it in 2003
  (in the `kamailio` profile the tab reads `orig (ser only)`, or `orig –`, and is skipped).
* **lumps** — the recorded changes (insert/delete at an offset of the received buffer, and a new
  Request-URI): in Kamailio they are applied only when an outgoing buffer is built.
* **out** — what the worker sent for this datagram (forwarded or a local reply), lines changed
  from the received message marked.
* **hex** — the bytes with their ASCII beside them and the row holding the `unparsed` offset
  marked: 16 per row when the panel has room (73 columns; `f` maximizes it), else 8 or 4 — the
  first line says how many.

Text is read as UTF-8, as SIP is (RFC 3261 §7.3.1: `"Zoë"` reads `Zoë`). What cannot be shown
as itself is an escape in reverse video: `\\xNN` is one byte that is not text — not valid UTF-8
(RFC 4475's `mpart01` carries `0xff`) or a control byte (`intmeth`'s NUL, BEL, DEL), the same
byte the hex tab shows; `\\uNNNN` is a character that draws nothing (a byte-order mark, a bidi
override). The gutter's marks and offsets count bytes, as the parser does.

Live mode: the observer channel carries no bytes; they come from the server's own capture once
the worker has finished the message (`serve --pcap`); until then only the first line is known.

Kamailio: `struct sip_msg` (`src/core/parser/msg_parser.h`: `buf`, `unparsed`, `parsed_flag`,
`add_rm`), `parse_headers()` in `src/core/parser/msg_parser.c`, lumps in
`src/core/data_lump.c`, buffers built by `build_req_buf_from_sip_req()` in
`src/core/msg_translator.c`.
"""
    BINDINGS: ClassVar = [
        # one footer entry for the pair (two took the room of a global key on 80 columns)
        Binding("left", "tab(-1)", "tab", key_display="←/→"),
        Binding("right", "tab(1)", "tab", key_display="→", show=False),
    ]

    @property
    def tab(self) -> str:
        return str(self.ui.get("message.tab", "buf"))

    @tab.setter
    def tab(self, name: str) -> None:
        self.ui["message.tab"] = name

    def action_tab(self, step: int) -> None:
        tabs = self.tabs()
        i = tabs.index(self.tab) if self.tab in tabs else 0
        self.tab = tabs[(i + step) % len(tabs)]
        self.manual_scroll = False
        self.scroll_top = 0
        self.redraw_panel()

    def tabs(self) -> tuple[str, ...]:
        if self.view is not None and self.view.profile != "ser":
            return tuple(t for t in TABS if t != "orig")
        return TABS

    def select_tab(self, name: str) -> None:
        if name in TABS:
            self.tab = name
            self.redraw_panel()

    def _tab_bar(self, width: int = 0) -> Text:
        """The tabs; one the profile does not have (orig in ``kamailio``) says so in words, not by
        its style alone: ``orig (ser only)``, or ``orig –`` when the panel is narrow."""
        off = [t for t in TABS if t not in self.tabs()]
        full = sum(len(t) + 3 for t in TABS) + 2 + sum(len(" (ser only)") for _ in off)
        bar = Text()
        for t in TABS:
            if t == self.tab:
                bar.append(f"[{t}]", style="bold reverse")
            elif t in off:
                bar.append(f" {t}", style="dim strike")
                bar.append(" (ser only) " if not width or full <= width else " – ", style="dim")
            else:
                bar.append(f" {t} ")
            bar.append(" ")
        return bar

    def lines(self, width: int) -> tuple[list[Text], int]:
        v = self.view
        assert v is not None
        m = v.focus
        if m is None:
            return [self._tab_bar(width), Text("no datagram yet", style="dim")], 0
        if self.tab not in self.tabs():
            self.tab = "buf"
        head = Text(f"{v.mname(m.id)} ", style="bold")
        head.append(m.first_line, style="cyan")
        head.append(f"  from {m.src} · {m.size} B", style="dim")
        out = [head, self._tab_bar(width)]
        wire = v.source.datagram(m.id)
        data = wire.data if wire is not None else None
        mv = v.mview
        unparsed = mv.unparsed if mv is not None else None
        body, anchor = getattr(self, f"_tab_{self.tab}")(v, data, unparsed, width)
        return out + body, anchor + 2

    # -- tabs -------------------------------------------------------------------------------------
    def _no_bytes(self, v) -> tuple[list[Text], int]:  # noqa: ANN001
        if v.live:
            return [Text("bytes not available yet: the observer stream carries only first lines; the "
                         "server's capture has them once the worker has finished this message.", style="yellow"),
                    Text(f"first line: {v.focus.first_line}")], 0
        return [Text("no bytes recorded for this datagram", style="yellow")], 0

    def _tab_buf(self, v, data, unparsed, width) -> tuple[list[Text], int]:  # noqa: ANN001
        if data is None:
            return self._no_bytes(v)
        base = msgtext.gutter(data, unparsed)
        mv = v.mview
        if v.profile == "ser":
            note = Text("buf: SER's copy, changed in place (orig keeps the original)", style="italic dim")
            lines = base
            if mv is not None and (mv.lumps or mv.new_uri):
                lines = msgtext.diff_marked(data, msgtext.edited(data, mv.lumps, mv.new_uri), base)
        else:
            note = Text("buf: the received bytes, never written (changes are lumps)", style="italic dim")
            lines = base
        body, anchor = gutter_text(lines, width)
        return [note, *body], anchor + 1

    def _tab_orig(self, v, data, unparsed, width) -> tuple[list[Text], int]:  # noqa: ANN001
        if data is None:
            return self._no_bytes(v)
        note = Text("orig: the untouched copy (SER; Kamailio dropped it in 2003)", style="italic dim")
        body, anchor = gutter_text(msgtext.gutter(data, unparsed), width)
        return [note, *body], anchor + 1

    def _tab_lumps(self, v, data, unparsed, width) -> tuple[list[Text], int]:  # noqa: ANN001
        mv = v.mview
        when = ("applied to buf at once (the list keeps header offsets valid)" if v.profile == "ser"
                else "applied only when an outgoing buffer is built (forward_request / forward_reply)")
        out = [Text(f"lumps: {when}", style="italic dim")]
        if mv is None or (not mv.lumps and not mv.new_uri):
            out.append(Text("no change recorded", style="dim"))
            return out, 0
        for i, lump in enumerate(mv.lumps, 1):
            t = Text(f"{i:>2} ", style="dim")
            t.append("+ " if lump[0] == "add" else "- ", style="magenta")
            t.append(msgtext.describe_lump(lump))
            out.append(t)
        if mv.new_uri:
            uri = from_engine(mv.new_uri)
            out.append(Text(f"new R-URI ($ru): {uri} — not a lump: written in place of the old one", style="cyan"))
        return out, 0

    def _tab_out(self, v, data, unparsed, width) -> tuple[list[Text], int]:  # noqa: ANN001
        m = v.focus
        wires = v.source.sent(m.id)
        out: list[Text] = []
        for k, p in enumerate(m.sends):
            if p > v.pos:
                break
            ev = v.source.event_at(p)
            d = ev.detail if ev is not None else {}
            w = wires[k] if k < len(wires) else None
            kind = KIND_WORDS.get(d.get("kind", ""), d.get("kind", ""))
            who = v.wname(ev.worker if ev is not None else None)
            out.append(Text(f"→ {d.get('to', '?')} by {who} · {d.get('len', '?')} B · {kind}", style="bold"))
            if w is None or w.data is None:
                out.append(Text(f"  {from_engine(d.get('first_line', ''))} (bytes not captured yet)", style="yellow"))
                continue
            lines = msgtext.diff_marked(data, w.data) if data is not None else [
                Line.of(p, " ", "", "header") for p in msgtext.split_lines(w.data)]
            out.extend(gutter_text(lines, width)[0])
        if not out:
            out.append(Text("nothing sent for this datagram yet", style="dim"))
        return out, 0

    def _tab_hex(self, v, data, unparsed, width) -> tuple[list[Text], int]:  # noqa: ANN001
        if data is None:
            return self._no_bytes(v)
        per = hex_per_row(width)
        out = [Text(f"{len(data)} bytes, {per} per row" + (f"; unparsed at offset {unparsed} (0x{unparsed:x})"
                                                           if unparsed is not None else "; not parsed yet"),
                    style="italic dim")]
        anchor = 0
        for mark, row in msgtext.hexdump(data, unparsed, per):
            if mark == msgtext.AT_UNPARSED:
                anchor = len(out)
            t = Text(f"{mark} ", style=mark_style(mark))
            t.append(row)
            out.append(t)
        return out, anchor


def hex_per_row(width: int) -> int:
    """How many bytes a hex row shows in ``width`` columns, with their ASCII: a row of n bytes
    takes 4n + 9 (the mark, the offset, n × "xx ", the ASCII)."""
    return next((n for n in HEX_WIDTHS if 4 * n + 9 <= width), HEX_WIDTHS[-1])
