"""``i`` inject a datagram, ``s`` save a pcap — in a simulation or live.

A mixin of :class:`~sipsim.tui.app.SipsimApp` (through :class:`~sipsim.tui.controls.Controls`),
and the inject dialog's default sender.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipsim.engine.events import Addr
from sipsim.tui.screens.inject import InjectRequest, InjectScreen
from sipsim.tui.screens.prompts import PromptScreen
from sipsim.tui.sources import SimSource, Source

if TYPE_CHECKING:
    from sipsim.tui.panels.lesson import LessonState


class InjectKeys:
    """``self`` is the App (see Controls for the shared state)."""

    source: Source
    lesson: LessonState | None

    def action_inject(self) -> None:
        src = self.source
        proxy = addr_of(src.listen)
        default = inject_source(proxy, src.live)

        def done(req: InjectRequest | None) -> None:
            if req is None:
                return
            try:
                msg = src.inject(req.data, req.src, req.note)  # type: ignore[attr-defined]
            except Exception as exc:  # LiveError, a send failure: one line, no traceback
                self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
                return
            if self.lesson is not None and isinstance(src, SimSource):
                pos = src.position
                self._reattach_lesson(src.sim)  # the future changed: the lesson finds its anchors again
                src.goto(pos)
            self.notify(msg)  # type: ignore[attr-defined]
            self._moved()

        self.push_screen(InjectScreen(proxy=proxy, default_src=default, live=src.live), done)  # type: ignore[attr-defined]

    def action_save_pcap(self) -> None:
        src = self.source
        name = f"sipsim-{'live' if src.live else src.scenario.name}-{src.position}.pcap"

        def done(path: str | None) -> None:
            if not path:
                return
            try:
                n = src.save_pcap(path)  # type: ignore[attr-defined]
            except Exception as exc:  # OSError, PcapError: say why
                self.notify(f"cannot save {path}: {exc}", severity="error")  # type: ignore[attr-defined]
                return
            extra = (" (a held worker's datagram is saved once it finishes)" if src.live else "")
            self.notify(f"saved {n} datagrams to {path}{extra}")  # type: ignore[attr-defined]

        what = ("every datagram the live workers received and sent so far" if src.live
                else f"every datagram in and out of the proxy up to step {src.position}")
        self.push_screen(PromptScreen("Save a pcap", f"{what}; enter saves, escape cancels", name,  # type: ignore[attr-defined]
                                      prompt_id="pcap"), done)


def inject_source(proxy: Addr, live: bool) -> Addr:
    """The inject dialog's default sender. Simulated: a documentation address (nothing is sent).
    Live: a real local address of the server's family — 127.0.0.2, ``::1``, or for a link-local
    server its own address on another port (a scoped socket answers only its link)."""
    if not live:
        return "192.0.2.99", 5060
    host = proxy[0]
    if ":" not in host:
        return "127.0.0.2", 5070
    from sipsim.real.netinfo import is_link_local

    return (host, 5070) if is_link_local(host) else ("::1", 5070)


def addr_of(text: str) -> Addr:
    from sipsim.cli.common import parse_hostport

    return parse_hostport(text)
