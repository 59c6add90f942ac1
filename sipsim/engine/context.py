"""Everything one worker needs besides the datagram: configuration, route, callbacks, tables.

A :class:`WorkerContext` is the per-process state of a Kamailio child: its rank (``worker``),
its message counter (``msg_no``, per process as in Kamailio), its statistics, and what it shares
with the other workers of the server (configuration, routing script, callbacks, location table).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sipsim.engine.config import ServerConfig
from sipsim.engine.events import StepEvent
from sipsim.engine.location import LocationStore, MemoryLocation
from sipsim.engine.script_cb import ScriptCallbacks, callbacks_for
from sipsim.engine.sl_timeout import SlTimeout
from sipsim.engine.stats import CoreStats

if TYPE_CHECKING:
    from sipsim.engine.parser.msg import SipMsg

Steps = Generator[Any, Any, Any]
"""A pipeline generator: yields StepEvent/Recv/Send, returns a value (a route's return code)."""


class Router(Protocol):
    """The routing script: the built-in default route, a cfg script or a KEMI Python script."""

    name: str

    def request_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps: ...

    def has_onreply_route(self) -> bool: ...

    def onreply_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps: ...


@dataclass
class WorkerContext:
    config: ServerConfig = field(default_factory=ServerConfig)
    worker: int = 0
    router: Router | None = None
    callbacks: ScriptCallbacks = None  # type: ignore[assignment]  # None: the router's (callbacks_for)
    location: LocationStore = field(default_factory=MemoryLocation)
    stats: CoreStats = field(default_factory=CoreStats)
    sl_timeout: SlTimeout = field(default_factory=SlTimeout)  # shared by a server's workers
    msg_no: int = 0
    # False: only steps that decide a message's fate are reported, with their outcome, status and
    # reason but no detail (live mode with no observer: the log line needs no more)
    tracing: bool = True
    ser: bool = field(init=False, default=True)  # the profile, as a plain bool (read on every step)

    def __post_init__(self) -> None:
        self.ser = self.config.profile.value == "ser"
        if self.router is None:
            # the shipped default.cfg (a stateless proxy + registrar), run by the routing engine;
            # sipsim.engine.default_route.DefaultRoute is its Python twin
            from sipsim.routing import default_router

            self.router = default_router(self.config)
        if self.callbacks is None:
            self.callbacks = callbacks_for(self.router)

    def event(self, step: str, msg: SipMsg | int, text: str, **fields: Any) -> StepEvent:
        """A StepEvent of this worker. When the message's changes (lumps, new R-URI) moved since
        its last event, the event carries them in ``detail["changes"]`` — so an observer can show
        ``buf``/``orig``/``lumps``/``out`` at every step without holding the message itself."""
        if isinstance(msg, int):
            return StepEvent(step, self.worker, msg, text, **fields)
        if not self.tracing:  # nobody will show the message's state: the deciding facts are enough
            detail = fields.pop("detail", None)
            if detail and "cause" in detail:  # why an error reply was sent: the live log line says it
                fields["detail"] = {"cause": detail["cause"]}
            return StepEvent(step, self.worker, msg.id, text, **fields)
        marker = (len(msg.add_rm), msg.new_uri)
        if marker != msg.extra.get("_reported", (0, None)):
            msg.extra["_reported"] = marker
            detail = dict(fields.pop("detail", None) or {})
            detail["changes"] = {
                "lumps": [(lp.op, lp.offset, lp.length, lp.text, lp.why) for lp in msg.add_rm],
                "new_uri": msg.new_uri,
            }
            fields["detail"] = detail
        return StepEvent(step, self.worker, msg.id, text, **fields)
