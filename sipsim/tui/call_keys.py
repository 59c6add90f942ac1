"""``}`` / ``{``: the next / previous datagram of the call in focus (``]``/``[`` take any datagram).

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`).
sngrep shows one call's flow and moves through its messages only; Wireshark has "next packet in
conversation". In a busy run the datagrams of one call are scattered among everyone else's, and
``]`` stops at each of them. The call in focus is, first that applies:

1. the ladder's Call-ID filter (``c`` or ``/`` in panel 6): the datagrams the ladder shows;
2. the arrow selected in the ladder (focused, moved with up/down): that datagram's Call-ID;
3. a capture's selection (``sipsim tui --pcap FILE --call-id TEXT --frames N-M``): the selected
   datagrams (``--frames`` may select across calls: the selection is what counts);
4. otherwise the Call-ID of the datagram the screen is about now.

The cursor goes to the datagram's arrival at the proxy, as ``]`` does (``n`` then steps through
what the worker does with it). A simulation is computed forward as far as needed, as ``X`` does;
live, only what has happened so far can be found. The footer shows the two keys while 1 or 3 is
in force (the key bar would otherwise lose keys on 80 columns); ``?`` and the palette always list
them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sipsim.engine.snapshot import Event
from sipsim.tui.history import call_id_of
from sipsim.tui.sources import SimSource, Source, is_arrival

CALL_ACTIONS = ("next_in_call", "prev_in_call")


@dataclass(frozen=True, slots=True)
class CallFocus:
    """Which datagrams belong to the call in focus: ``what`` in words, ``holds`` asked of the event
    where a datagram arrived."""

    what: str
    holds: Callable[[Event], bool]


def call_id(src: Source, msg: int | None) -> str:
    """The datagram's Call-ID ("" while unknown: live, before the capture has its bytes)."""
    if msg is None:
        return ""
    m = src.history.msgs.get(msg)
    if m is not None:
        return src.history.fill_call_id(m)
    w = src.datagram(msg)  # a simulation's datagram just computed, not yet in the history
    return call_id_of(w.data if w is not None else None)


class CallKeys:
    """``self`` is the App (see Controls for the shared state)."""

    source: Source

    def _ladder(self) -> Any:
        from sipsim.tui.panels import LadderPanel

        main = self.main  # type: ignore[attr-defined]
        return main.panel(LadderPanel) if main is not None else None

    def call_selected(self) -> bool:
        """Is a call chosen on purpose (the ladder's filter, a capture's selection)? Then the
        footer offers ``}``/``{``."""
        ladder = self._ladder()
        return bool(ladder is not None and ladder.call_filter) or getattr(self.source, "selection", None) is not None

    def call_focus(self) -> CallFocus | None:
        """The call ``}``/``{`` move in (None: the datagram in focus has no Call-ID known)."""
        src = self.source
        ladder = self._ladder()
        if ladder is not None and ladder.call_filter:
            text = ladder.call_filter
            needle = text.lower()
            return CallFocus(f"Call-ID ~ {text}", lambda ev: needle in call_id(src, ev.msg).lower())
        msg: int | None = None
        if ladder is not None and ladder.has_focus and ladder.cursor is not None:
            row = ladder.selected_row()
            msg = row.msg if row is not None else None
        else:
            selection = getattr(src, "selection", None)
            if selection is not None:
                labels = selection.labels
                return CallFocus(selection.what, lambda ev: ev.detail.get("stream") in labels)  # type: ignore[union-attr]
            msg = src.history.focus_msg(src.position)
        cid = call_id(src, msg)
        if not cid:
            return None
        return CallFocus(f"Call-ID {cid}", lambda ev: call_id(src, ev.msg) == cid)

    def _arrival_of_call(self, focus: CallFocus, *, backwards: bool) -> int | None:
        src = self.source
        pos = src.position
        arrivals = src.history.arrivals
        if backwards:  # the last arrival before the cursor (the history has everything before it)
            for p in reversed(arrivals[: bisect_left(arrivals, pos)]):
                ev = src.event_at(p)
                if ev is not None and focus.holds(ev):
                    return p
            return None
        if isinstance(src, SimSource):  # computed as far as needed
            return src.find(lambda ev: is_arrival(ev) and focus.holds(ev))
        return next((p for p in arrivals[bisect_left(arrivals, pos + 1):]
                     if (ev := src.event_at(p)) is not None and focus.holds(ev)), None)

    def _move_in_call(self, *, backwards: bool) -> None:
        if getattr(self, "running", False):
            self.stop_running()  # type: ignore[attr-defined]
        focus = self.call_focus()
        if focus is None:
            self.notify("no call in focus: go to a datagram (]), select an arrow in the ladder (6) "  # type: ignore[attr-defined]
                        "or filter it by Call-ID (c, /)", severity="warning")
            return
        target = self._arrival_of_call(focus, backwards=backwards)
        if target is None:
            where = "before this point" if backwards else "after this point" + (" yet" if self.source.live else "")
            self.notify(f"no datagram of {focus.what} {where}")  # type: ignore[attr-defined]
            return
        self.goto(target)  # type: ignore[attr-defined]

    def action_next_in_call(self) -> None:
        """``}``: the next datagram of the call in focus."""
        self._move_in_call(backwards=False)

    def action_prev_in_call(self) -> None:
        """``{``: the previous datagram of the call in focus."""
        self._move_in_call(backwards=True)
