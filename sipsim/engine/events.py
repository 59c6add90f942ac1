"""What workers yield: syscalls for the driver to perform, and one immutable event per step.

A worker generator (``udp_rcv_loop``) yields three kinds of objects:

* :class:`Recv` — "call ``recvfrom`` on my socket": the driver sends back a :class:`Datagram`
  (or ``None`` to tell the worker to stop);
* :class:`Send` — "``sendto`` these bytes": the driver sends back ``None`` on success or a short
  error string (unresolvable name, destination not allowed, …) that the pipeline turns into the
  answer Kamailio gives;
* :class:`StepEvent` — a fact about the step just taken. The driver sends back nothing; it records
  the event, shows it, or hands it to observers (TUI, trace printer, lesson checks, tests).

Events are frozen dataclasses named after the server's own functions (``step="parse_msg"``), so
a learner can find the same step in Kamailio's sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


def slot_setters(cls: type) -> tuple[Any, ...]:
    """The slot setters of a frozen, slotted dataclass, in field order: a hand-written ``__init__``
    calls them (what ``object.__setattr__`` does, without its lookup) for the value objects made
    for every message (StepEvent, Datagram, Send, Lump, ReceiveInfo) -- a generated frozen
    ``__init__`` costs about twice as much."""
    return tuple(getattr(cls, f.name).__set__ for f in fields(cls))

Addr = tuple[str, int]
"""An (ip-or-host, port) pair. Hostnames are allowed: the engine never resolves them."""

# Outcomes carried by terminal events (the last one of a message wins).
FORWARDED = "forwarded"
REPLIED = "replied"
DROPPED = "dropped"


def format_addr(addr: Addr) -> str:
    """``host:port``, or ``[v6]:port`` for IPv6 literals."""
    host, port = addr
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


@dataclass(frozen=True, slots=True, init=False)
class Datagram:
    """One UDP payload as ``recvfrom`` returns it.

    ``id`` is given by the driver (arrival number in the simulator, a per-server counter live) and
    follows the datagram through every event. ``time`` is when the driver delivered it, in the
    driver's clock (virtual or real): the engine uses it only as "now" (e.g. for binding expiry).
    """

    data: bytes
    src: Addr
    dst: Addr
    id: int = 0
    time: float = 0.0

    def __init__(self, data: bytes, src: Addr, dst: Addr, id: int = 0, time: float = 0.0) -> None:
        # written out, as StepEvent's: one is made for every datagram
        _dg_set[0](self, data)
        _dg_set[1](self, src)
        _dg_set[2](self, dst)
        _dg_set[3](self, id)
        _dg_set[4](self, time)


@dataclass(frozen=True, slots=True)
class Recv:
    """``recvfrom(sock, buf, 65535, 0, ...)``: block until a datagram is there."""

    sock: int = 0


@dataclass(frozen=True, slots=True, init=False)
class Send:
    """``sendto(sock, data, to)``. ``kind`` says why: a local reply, a forwarded request or reply."""

    to: Addr
    data: bytes
    src: Addr
    kind: str  # "reply" | "request" | "fwd_reply"
    msg: int = 0

    def __init__(self, to: Addr, data: bytes, src: Addr, kind: str, msg: int = 0) -> None:
        # written out, as StepEvent's: one is made for nearly every message
        _send_set[0](self, to)
        _send_set[1](self, data)
        _send_set[2](self, src)
        _send_set[3](self, kind)
        _send_set[4](self, msg)


_dg_set = slot_setters(Datagram)
_send_set = slot_setters(Send)


def oversize_error(send: Send) -> str | None:
    """What ``sendto()`` answers for a datagram no UDP packet carries (EMSGSIZE), or None: a
    proxy's Via can make a received datagram that fit too long to forward. The simulated kernel
    and the in-memory driver answer with it, as the real one does in live mode (an engine
    error string: ``send-failed``, then why)."""
    from sipsim.engine.config import max_udp_payload

    limit = max_udp_payload(send.src[0])  # the sending socket's family
    if len(send.data) <= limit:
        return None
    return (f"send-failed: Message too long (EMSGSIZE): {len(send.data):,} bytes, and one UDP datagram over "
            f"IPv{6 if ':' in send.src[0] else 4} carries at most {limit:,}")


@dataclass(frozen=True, slots=True, init=False)
class StepEvent:
    """One step of the pipeline, as a fact.

    ``step`` is the server function (``recvfrom``, ``parse_msg``, ``exec_pre_script_cb``,
    ``forward_reply`` …); ``worker`` the worker that took it; ``msg`` the datagram id; ``text`` a
    one-line narration for people. The optional fields say what changed:

    * ``parsed`` — header kinds newly parsed (``HDR_VIA1_F`` names), ``unparsed`` — the new
      ``msg->unparsed`` offset;
    * ``outcome``/``status``/``reason`` — set on the step that decided the message's fate
      (``forwarded``/``replied``/``dropped``; the reply code; the drop or reply reason);
    * ``detail`` — anything else specific to the step (read-only by convention).
    """

    step: str
    worker: int
    msg: int
    text: str
    parsed: tuple[str, ...] = ()
    unparsed: int | None = None
    outcome: str | None = None
    status: int | None = None
    reason: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, step: str, worker: int, msg: int, text: str, parsed: tuple[str, ...] = (),
                 unparsed: int | None = None, outcome: str | None = None, status: int | None = None,
                 reason: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
        # Written out (not the dataclass-generated __init__) because events are made on every step of
        # every message: setting the slots directly is about twice as fast.
        _ev_set[0](self, step)
        _ev_set[1](self, worker)
        _ev_set[2](self, msg)
        _ev_set[3](self, text)
        _ev_set[4](self, parsed)
        _ev_set[5](self, unparsed)
        _ev_set[6](self, outcome)
        _ev_set[7](self, status)
        _ev_set[8](self, reason)
        _ev_set[9](self, _EMPTY if detail is None else detail)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with only the fields that carry something."""
        out: dict[str, Any] = {"step": self.step, "worker": self.worker, "msg": self.msg, "text": self.text}
        if self.parsed:
            out["parsed"] = list(self.parsed)
        for name in ("unparsed", "outcome", "status", "reason"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.detail:
            out["detail"] = {k: _jsonable(v) for k, v in self.detail.items()}
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StepEvent:
        return cls(
            step=d["step"],
            worker=int(d["worker"]),
            msg=int(d["msg"]),
            text=d.get("text", ""),
            parsed=tuple(d.get("parsed", ())),
            unparsed=d.get("unparsed"),
            outcome=d.get("outcome"),
            status=d.get("status"),
            reason=d.get("reason"),
            detail=dict(d.get("detail", {})),
        )


_EMPTY: Mapping[str, Any] = {}
_ev_set = slot_setters(StepEvent)


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


# -- the kernel side ---------------------------------------------------------------------------
# Kinds of KernelEvent. The simulated kernel emits all of them; live mode's workers report
# WORKER_SLEEPS when they enter recvfrom and WORKER_WOKEN when it returns (the real kernel does not
# tell whether a worker really slept), plus DATAGRAM_SENT. The snapshot fold accepts both streams.
DATAGRAM_QUEUED = "datagram_queued"  # a datagram entered the socket's receive queue
DATAGRAM_DROPPED = "datagram_dropped"  # it did not fit in the receive buffer (RcvbufErrors)
WORKER_SLEEPS = "worker_sleeps"  # a worker called recvfrom and joined the wait-queue
WORKER_WAKEUP = "worker_wakeup"  # simulator: the kernel woke a sleeper (off the wait-queue, not yet running)
WORKER_WOKEN = "worker_woken"  # recvfrom returned datagram ``msg`` after sleeping
WORKER_TAKES = "worker_takes"  # a worker calling recvfrom found data queued: no sleep
WASTED_WAKEUP = "wasted_wakeup"  # woken (wake-all) but another worker got the datagram
DATAGRAM_SENT = "datagram_sent"  # a worker's sendto left the proxy
WORKER_STARTED = "worker_started"
WORKER_EXITED = "worker_exited"
WORKERS_PAUSED = "workers_paused"  # simulator: a scenario pause window opens (the workers are SIGSTOPped)
WORKERS_RESUMED = "workers_resumed"  # ... and closes (SIGCONT)


@dataclass(frozen=True, slots=True)
class KernelEvent:
    """A fact about the kernel side: the socket's receive queue and the wait-queue of workers.

    ``time`` is the driver's clock (virtual seconds in the simulator, wall-clock seconds live);
    ``worker`` and ``msg`` are the worker and datagram ids concerned, when there is one.
    """

    kind: str
    time: float
    worker: int | None = None
    msg: int | None = None
    text: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "time": self.time, "text": self.text}
        if self.worker is not None:
            out["worker"] = self.worker
        if self.msg is not None:
            out["msg"] = self.msg
        if self.detail:
            out["detail"] = {k: _jsonable(v) for k, v in self.detail.items()}
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KernelEvent:
        return cls(kind=d["kind"], time=float(d["time"]), worker=d.get("worker"), msg=d.get("msg"),
                   text=d.get("text", ""), detail=dict(d.get("detail", {})))
