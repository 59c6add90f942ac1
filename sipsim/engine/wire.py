"""The proxy's wire as the simulator records it: every datagram in and out, with its bytes.

Kept apart from ``simulation.py`` (which re-exports it) so that the runner stays one module of
reasonable size; nothing here has behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipsim.engine.events import Addr


@dataclass(frozen=True, slots=True)
class WireRecord:
    """One datagram on the proxy's wire: arriving (``"in"``, even if the receive buffer then drops it)
    or leaving (``"out"``). Kept only when asked (``record_wire``): the TUI's message panel and
    ``--save-pcap`` need the bytes, the events carry only their first line."""

    time: float
    src: Addr
    dst: Addr
    data: bytes
    direction: str  # "in" | "out"
    msg: int  # the datagram id (for "out": the id of the datagram being handled)
    worker: int | None = None
    event: int = -1  # index of the event that reports it (datagram_queued/_dropped, datagram_sent)
