"""The in-memory driver: feed datagrams to one worker, collect its events and what it sends.

This is the smallest possible driver of the pipeline: one worker generator, no kernel, no clock.
``sipsim trace`` and the engine tests use it; the simulated kernel and live mode are the other two
drivers and run the very same ``udp_rcv_loop``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sipsim.engine.config import ServerConfig
from sipsim.engine.context import Router, WorkerContext
from sipsim.engine.events import DROPPED, Addr, Datagram, Recv, Send, StepEvent, oversize_error

SendPolicy = Callable[[Send], "str | None"]


@dataclass
class MessageResult:
    """Everything one datagram caused."""

    datagram: Datagram
    events: list[StepEvent] = field(default_factory=list)
    sent: list[Send] = field(default_factory=list)

    @property
    def final(self) -> StepEvent | None:
        for ev in reversed(self.events):
            if ev.outcome is not None:
                return ev
        return None

    @property
    def outcome(self) -> str:
        ev = self.final
        return ev.outcome if ev is not None and ev.outcome else DROPPED

    @property
    def status(self) -> int | None:
        ev = self.final
        return ev.status if ev is not None else None

    @property
    def reason(self) -> str:
        ev = self.final
        return (ev.reason or ev.text) if ev is not None else "no outcome"

    def steps(self) -> list[str]:
        return [ev.step for ev in self.events]


class MemoryDriver:
    """Drive one worker (``udp_rcv_loop``) with datagrams given by the caller."""

    def __init__(self, config: ServerConfig | None = None, *, router: Router | None = None,
                 ctx: WorkerContext | None = None, send_policy: SendPolicy | None = None) -> None:
        from sipsim.engine.udp_server import udp_rcv_loop

        self.ctx = ctx or WorkerContext(config=config or ServerConfig(), router=router)
        self.send_policy = send_policy
        self._next_id = 0
        self._gen = udp_rcv_loop(self.ctx)
        first = next(self._gen)
        assert isinstance(first, Recv)

    def feed(self, data: bytes, src: Addr = ("127.0.0.1", 5060), *, dst: Addr | None = None,
             time: float = 0.0, id: int | None = None) -> MessageResult:
        self._next_id += 1
        dgram = Datagram(data, src, dst or self.ctx.config.listen, self._next_id if id is None else id, time)
        result = MessageResult(dgram)
        item = self._gen.send(dgram)
        while not isinstance(item, Recv):
            reply = None
            if isinstance(item, StepEvent):
                result.events.append(item)
            elif isinstance(item, Send):
                reply = oversize_error(item)  # the kernel's refusal: then nothing was sent
                if reply is None:
                    result.sent.append(item)
                    reply = self.send_policy(item) if self.send_policy else None
            item = self._gen.send(reply)
        return result
