"""Simulated SIP peers: a calling UA (UAC), a called UA (UAS) and a UA that only registers.

They exist so that a whole call crosses the simulated proxy — REGISTER/200, INVITE/100/180/200,
ACK, BYE/200 — and so that a slow, overloaded or paused proxy shows its real consequence: the
peers retransmit, as RFC 3261 §17 tells them to.

* Client transactions retransmit over UDP: an INVITE by **Timer A** (T1, 2·T1, 4·T1 … — no cap)
  until a provisional or final answer, giving up at **Timer B** = 64·T1; a non-INVITE request
  (REGISTER, BYE) by **Timer E** (doubling, capped at T2; every T2 once a provisional came),
  giving up at **Timer F** = 64·T1. T1 = 500 ms, T2 = 4 s by default (settable per peer:
  ``t1``, ``t2``) — an overloaded proxy sees its own backlog come back doubled.
* The UAS answers an INVITE with 100, 180 after ``ring`` seconds and 200 after ``answer`` more
  (or ``reject = 486`` …), retransmits the 200 until the ACK comes (§13.3.1.4: T1 doubling up to
  T2, for 64·T1), answers a retransmitted request with its last response, and BYE with 200.
* The UAC sends everything to the proxy (an outbound proxy, as SIPp's ``-rsa`` does): the INVITE
  to the AOR, then ACK and BYE to the UAS's Contact — the default route relays them. It ACKs every
  2xx it receives (retransmissions too), and counts a provisional that arrives after the final
  answer (a stateless proxy with several workers can reorder a 180 and a 200: lesson 10).
* The registering UA (``ua``) registers ``aor`` at its own address (or ``contact = "host:port"``,
  e.g. a phone that is gone) and takes no calls: 480 to an INVITE, 200 to other requests.
* Responses go where RFC 3261 §18.2.2 says: the top Via's ``received``/``rport`` if present,
  else its sent-by (default port 5060).

Simplifications: no authentication, no CANCEL, no forking, one dialog per call; peers parse what
they receive with a tolerant line splitter (they are test equipment, not the subject); a
datagram they cannot read is counted and ignored. Options per type are listed in ``PEER_OPTIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sipsim.engine.events import Addr, format_addr
from sipsim.engine.peer_msg import (
    PeerMsg,
    build,
    header_value,
    read_msg,
    response_dest,
    sdp,
    tag_of,
    uri_in,
)

if TYPE_CHECKING:
    from sipsim.engine.scenario import PeerSpec, Scenario

T1 = 0.5
T2 = 4.0
MAX_NOTES = 50  # notes kept in a peer's summary

# type -> {option: default}; "call"/"aor" defaults of None mean required
PEER_OPTIONS: dict[str, dict[str, Any]] = {
    "uac": {"call": None, "user": None, "start": 0.05, "calls": 1, "interval": 1.0, "hold": 0.2,
            "t1": T1, "t2": T2, "domain": None},
    "uas": {"aor": None, "register": True, "register_at": 0.0, "expires": 3600, "ring": 0.0, "answer": 0.1,
            "reject": 0, "trying": True, "t1": T1, "t2": T2, "domain": None},
    "ua": {"aor": None, "register_at": 0.0, "expires": 3600, "contact": None, "t1": T1, "t2": T2, "domain": None},
}


class Timer:
    """A handle on a scheduled peer action."""

    __slots__ = ("cancelled", "fn")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class PeerNet(Protocol):
    """What the simulator offers a peer: its clock, a way to send, timers."""

    @property
    def now(self) -> float: ...

    def send(self, peer: Peer, data: bytes, dst: Addr, meta: dict[str, Any] | None = None) -> None: ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer: ...


# -- a tolerant reader ------------------------------------------------------------------------
class ClientTx:
    """A UDP client transaction: send, retransmit by Timer A/E, give up at Timer B/F (64·T1)."""

    def __init__(self, peer: Peer, data: bytes, method: str, on_timeout: Callable[[], None]) -> None:
        self.peer, self.data, self.method, self.on_timeout = peer, data, method, on_timeout
        self.invite = method == "INVITE"
        self.interval = peer.t1
        self.sends = 0
        self.done = False
        self.timer: Timer | None = None
        self.deadline: Timer | None = None

    def start(self) -> None:
        self.peer.send_proxy(self.data)
        self.timer = self.peer.net.call_later(self.interval, self._fire)
        self.deadline = self.peer.net.call_later(64 * self.peer.t1, self._timeout)

    def _fire(self) -> None:
        if self.done:
            return
        self.sends += 1
        self.peer.count_retransmission(self.method)
        timer = "A" if self.invite else "E"
        self.peer.send_proxy(self.data, {"retransmission": self.sends, "timer": timer,
                                         "note": f"{self.peer.name} retransmits {self.method} "
                                                 f"(Timer {timer}, copy {self.sends + 1})"})
        self.interval = self.interval * 2 if self.invite else min(self.interval * 2, self.peer.t2)
        self.timer = self.peer.net.call_later(self.interval, self._fire)

    def _timeout(self) -> None:
        if not self.done:
            self.stop()
            self.peer.stats["timeouts"] += 1
            self.on_timeout()

    def provisional(self) -> None:
        if self.invite:  # Proceeding: no more retransmissions, and Timer B no longer applies
            self.stop()
        else:
            self.interval = self.peer.t2  # non-INVITE in Proceeding: retransmit every T2 until F

    def stop(self) -> None:
        self.done = True
        for t in (self.timer, self.deadline):
            if t is not None:
                t.cancel()


# -- peers --------------------------------------------------------------------------------------
class Peer:
    kind = "peer"

    def __init__(self, name: str, addr: Addr, options: dict[str, Any], proxy: Addr, domain: str) -> None:
        self.name, self.addr, self.proxy = name, addr, proxy
        self.opts = options
        self.t1 = float(options["t1"])
        self.t2 = float(options["t2"])
        self.domain = options.get("domain") or domain
        self.net: PeerNet = None  # type: ignore[assignment]  # set by start()
        self.stats: dict[str, Any] = {"sent": 0, "received": 0, "retransmissions": 0, "timeouts": 0,
                                      "unreadable": 0}
        self.retransmitted: dict[str, int] = {}
        self.log: list[tuple[float, str]] = []
        self._n = 0

    @property
    def hostport(self) -> str:
        return format_addr(self.addr)

    def next_id(self, what: str) -> str:
        self._n += 1
        return f"{what}{self._n}"

    def note(self, text: str) -> None:
        self.log.append((self.net.now, text))

    def count_retransmission(self, method: str) -> None:
        self.stats["retransmissions"] += 1
        self.retransmitted[method] = self.retransmitted.get(method, 0) + 1

    def send_proxy(self, data: bytes, meta: dict[str, Any] | None = None) -> None:
        self.send(data, self.proxy, meta)

    def send(self, data: bytes, dst: Addr, meta: dict[str, Any] | None = None) -> None:
        self.stats["sent"] += 1
        self.net.send(self, data, dst, meta)

    def via(self, branch: str) -> str:
        return f"Via: SIP/2.0/UDP {self.hostport};branch={branch};rport"

    def start(self, net: PeerNet) -> None:
        self.net = net

    def receive(self, data: bytes, src: Addr) -> None:
        self.stats["received"] += 1
        msg = read_msg(data)
        if msg is None or not msg.lines("via"):
            self.stats["unreadable"] += 1
            return
        if msg.is_request:
            self.on_request(msg, src)
        else:
            self.on_response(msg)

    def on_request(self, msg: PeerMsg, src: Addr) -> None:
        """A UA that takes no calls: 480 to an INVITE, nothing to an ACK, 200 to the rest."""
        if msg.method == "INVITE":
            self.respond(msg, src, 480, "Temporarily Unavailable", to_tag=f"{self.name}-na")
        elif msg.method != "ACK":
            self.respond(msg, src, 200, "OK")

    def on_response(self, msg: PeerMsg) -> None:
        pass

    def respond(self, req: PeerMsg, src: Addr, code: int, reason: str, *, to_tag: str = "",
                contact: bool = False, body: bytes = b"") -> bytes:
        to = req.get("to") or ""
        if to_tag and not tag_of(to):
            to = f"{to};tag={to_tag}"
        hs = [f"Via: {v}" for v in req.lines("via")]
        hs += [f"From: {req.get('from') or ''}", f"To: {to}", f"Call-ID: {req.call_id}",
               f"CSeq: {req.get('cseq') or ''}"]
        if contact:
            hs.append(f"Contact: <sip:{self.user}@{self.hostport}>")
        data = build(f"SIP/2.0 {code} {reason}", hs, body)
        self.send(data, response_dest(req, src))
        return data

    @property
    def user(self) -> str:
        return str(self.opts.get("aor") or self.opts.get("user") or self.name)

    def summary(self) -> dict[str, Any]:
        """Counters, retransmissions per method, and the first notes (what happened, with times)."""
        out = {"name": self.name, "type": self.kind, "address": self.hostport, **self.stats}
        out["retransmitted"] = dict(sorted(self.retransmitted.items()))
        out["notes"] = [[round(t, 9), text] for t, text in self.log[:MAX_NOTES]]
        return out

    # registration, shared by "ua" and "uas"
    def register(self) -> None:
        callid = f"reg-{self.name}@{self.addr[0]}"
        self._reg_cseq = getattr(self, "_reg_cseq", 0) + 1
        branch = f"z9hG4bK{self.name}-{self.next_id('r')}"
        aor = self.opts["aor"]
        data = build(f"REGISTER sip:{self.domain} SIP/2.0", [
            self.via(branch), "Max-Forwards: 70", f"From: <sip:{aor}@{self.domain}>;tag={self.name}-reg",
            f"To: <sip:{aor}@{self.domain}>", f"Call-ID: {callid}", f"CSeq: {self._reg_cseq} REGISTER",
            f"Contact: <sip:{aor}@{self.opts.get('contact') or self.hostport}>", f"Expires: {self.opts['expires']}",
            f"User-Agent: sipsim-{self.kind}"])
        self.stats.setdefault("registered", False)
        self._reg_tx = ClientTx(self, data, "REGISTER", lambda: self.note("REGISTER timed out (Timer F)"))
        self._reg_tx.start()

    def register_response(self, msg: PeerMsg) -> bool:
        tx = getattr(self, "_reg_tx", None)
        if tx is None or msg.method != "REGISTER":
            return False
        if msg.status < 200:
            tx.provisional()
        elif not tx.done or not self.stats.get("registered"):
            tx.stop()
            ok = 200 <= msg.status < 300
            self.stats["registered"] = ok
            self.stats["register_status"] = msg.status
            self.note(f"REGISTER answered {msg.status}")
        return True


class RegisteringUA(Peer):
    kind = "ua"

    def start(self, net: PeerNet) -> None:
        super().start(net)
        net.call_later(float(self.opts["register_at"]), self.register)

    def on_response(self, msg: PeerMsg) -> None:
        self.register_response(msg)


@dataclass
class _UasCall:
    to_tag: str
    last: bytes = b""
    dest: Addr = ("", 0)
    acked: bool = False
    retrans: Timer | None = None
    interval: float = T1
    started: float = 0.0
    bye: dict[int, bytes] = field(default_factory=dict)


class UAS(Peer):
    kind = "uas"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.calls: dict[str, _UasCall] = {}
        self.stats.update({"invites": 0, "answered": 0, "acked": 0, "byes": 0, "ack_timeouts": 0})

    def start(self, net: PeerNet) -> None:
        super().start(net)
        if self.opts["register"]:
            net.call_later(float(self.opts["register_at"]), self.register)

    def on_response(self, msg: PeerMsg) -> None:
        self.register_response(msg)

    def on_request(self, msg: PeerMsg, src: Addr) -> None:
        cid = msg.call_id
        call = self.calls.get(cid)
        if msg.method == "INVITE":
            if call is not None:  # a retransmission: repeat the last answer
                if call.last:
                    self.send(call.last, call.dest)
                return
            self.stats["invites"] += 1
            call = self.calls[cid] = _UasCall(to_tag=f"{self.name}-{self.next_id('t')}", dest=response_dest(msg, src))
            if self.opts["trying"]:
                call.last = self.respond(msg, src, 100, "Trying")
            ring = float(self.opts["ring"])
            self.net.call_later(ring, lambda: self._ring(msg, src, call))
            self.net.call_later(ring + float(self.opts["answer"]), lambda: self._answer(msg, src, call))
        elif msg.method == "ACK":
            if call is not None and not call.acked:
                call.acked = True
                self.stats["acked"] += 1
                if call.retrans is not None:
                    call.retrans.cancel()
        elif msg.method == "BYE":
            num = msg.cseq[0]
            if call is not None and num in call.bye:
                self.send(call.bye[num], response_dest(msg, src))
                return
            self.stats["byes"] += 1
            data = self.respond(msg, src, 200 if call is not None else 481,
                                "OK" if call is not None else "Call/Transaction Does Not Exist")
            if call is not None:
                call.bye[num] = data
        else:
            super().on_request(msg, src)

    def _ring(self, msg: PeerMsg, src: Addr, call: _UasCall) -> None:
        if not self.opts["reject"]:
            call.last = self.respond(msg, src, 180, "Ringing", to_tag=call.to_tag, contact=True)

    def _answer(self, msg: PeerMsg, src: Addr, call: _UasCall) -> None:
        code = int(self.opts["reject"])
        if code:
            call.last = self.respond(msg, src, code, "Busy Here" if code == 486 else "Rejected", to_tag=call.to_tag)
            return
        self.stats["answered"] += 1
        call.last = self.respond(msg, src, 200, "OK", to_tag=call.to_tag, contact=True,
                                 body=sdp(self.user, self.addr[0], 2000 + len(self.calls)))
        call.started = self.net.now
        call.interval = self.t1
        call.retrans = self.net.call_later(call.interval, lambda: self._retransmit_200(call))

    def _retransmit_200(self, call: _UasCall) -> None:
        if call.acked:
            return
        if self.net.now - call.started >= 64 * self.t1 - 1e-12:
            self.stats["ack_timeouts"] += 1
            self.note("no ACK for the 200 after 64*T1: the call is given up")
            return
        self.count_retransmission("200/INVITE")
        self.send(call.last, call.dest, {"retransmission": True, "timer": "2xx",
                                         "note": f"{self.name} retransmits its 200 OK: no ACK yet (RFC 3261 13.3.1.4)"})
        call.interval = min(call.interval * 2, self.t2)
        call.retrans = self.net.call_later(call.interval, lambda: self._retransmit_200(call))


@dataclass
class _UacCall:
    n: int
    call_id: str
    from_tag: str
    branch: str
    invite: bytes
    tx: ClientTx | None = None
    state: str = "calling"  # calling, proceeding, confirmed, terminating, completed, failed
    to: str = ""
    target: str = ""
    ack: bytes = b""
    bye_tx: ClientTx | None = None
    provisionals: list[int] = field(default_factory=list)
    status: int | None = None


class UAC(Peer):
    kind = "uac"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.calls: dict[str, _UacCall] = {}
        self.stats.update({"calls_started": 0, "calls_completed": 0, "calls_failed": 0, "late_provisionals": 0})
        self.responses: list[str] = []  # "180 INVITE", ... in the order received

    def start(self, net: PeerNet) -> None:
        super().start(net)
        start, interval = float(self.opts["start"]), float(self.opts["interval"])
        for i in range(int(self.opts["calls"])):
            net.call_later(start + i * interval, lambda i=i: self._call(i + 1))

    def _call(self, n: int) -> None:
        callee = self.opts["call"]
        cid = f"call{n}-{self.name}@{self.addr[0]}"
        branch = f"z9hG4bK{self.name}-{self.next_id('i')}"
        ftag = f"{self.name}-{n}"
        data = build(f"INVITE sip:{callee}@{self.domain} SIP/2.0", [
            self.via(branch), "Max-Forwards: 70", f"From: \"{self.user}\" <sip:{self.user}@{self.domain}>;tag={ftag}",
            f"To: <sip:{callee}@{self.domain}>", f"Call-ID: {cid}", "CSeq: 1 INVITE",
            f"Contact: <sip:{self.user}@{self.hostport}>", "User-Agent: sipsim-uac"], sdp(self.user, self.addr[0], n))
        call = self.calls[cid] = _UacCall(n, cid, ftag, branch, data)
        self.stats["calls_started"] += 1
        call.tx = ClientTx(self, data, "INVITE", lambda: self._fail(call, None, "no final answer (Timer B)"))
        call.tx.start()

    def _fail(self, call: _UacCall, status: int | None, why: str) -> None:
        if call.state in ("completed", "failed"):
            return
        call.state = "failed"
        call.status = status
        self.stats["calls_failed"] += 1
        self.note(f"call {call.n} failed: {why}")

    def on_response(self, msg: PeerMsg) -> None:
        call = self.calls.get(msg.call_id)
        if call is None:
            return
        self.responses.append(f"{msg.status} {msg.method}")
        if msg.method == "INVITE":
            self._invite_response(call, msg)
        elif msg.method == "BYE" and msg.status >= 200 and call.bye_tx is not None:
            call.bye_tx.stop()
            if call.state == "terminating":
                if msg.status < 300:
                    call.state = "completed"
                    self.stats["calls_completed"] += 1
                    self.note(f"call {call.n} completed")
                else:
                    self._fail(call, msg.status, f"BYE answered {msg.status}")
        elif msg.method == "BYE" and call.bye_tx is not None:
            call.bye_tx.provisional()

    def _invite_response(self, call: _UacCall, msg: PeerMsg) -> None:
        assert call.tx is not None
        if msg.status < 200:
            call.provisionals.append(msg.status)
            if call.state == "calling":
                call.state = "proceeding"
                call.tx.provisional()
            elif call.state not in ("proceeding",):
                self.stats["late_provisionals"] += 1
                self.note(f"call {call.n}: {msg.status} arrived after the final answer (reordered) — ignored")
            return
        call.tx.stop()
        if msg.status >= 300:
            # the ACK of a non-2xx answer is hop-by-hop: same branch as the INVITE (RFC 3261 §17.1.1.3)
            call.ack = self._ack(call, msg, call.branch, f"sip:{self.opts['call']}@{self.domain}")
            self.send_proxy(call.ack)
            self._fail(call, msg.status, f"INVITE answered {msg.status}")
            return
        if call.ack:  # a retransmitted 200: ACK it again
            self.send_proxy(call.ack)
            return
        call.to = msg.get("to") or ""
        call.target = uri_in(msg.get("contact")) or f"sip:{self.opts['call']}@{self.domain}"
        call.ack = self._ack(call, msg, f"z9hG4bK{self.name}-{self.next_id('a')}", call.target)
        self.send_proxy(call.ack)
        if call.state in ("calling", "proceeding"):
            call.state = "confirmed"
            self.net.call_later(float(self.opts["hold"]), lambda: self._bye(call))

    def _ack(self, call: _UacCall, msg: PeerMsg, branch: str, ruri: str) -> bytes:
        return build(f"ACK {ruri} SIP/2.0", [
            self.via(branch), "Max-Forwards: 70", f"From: {header_value(call.invite, 'From')}",
            f"To: {msg.get('to') or ''}",
            f"Call-ID: {call.call_id}", "CSeq: 1 ACK"])

    def _bye(self, call: _UacCall) -> None:
        if call.state != "confirmed":
            return
        call.state = "terminating"
        data = build(f"BYE {call.target} SIP/2.0", [
            self.via(f"z9hG4bK{self.name}-{self.next_id('b')}"), "Max-Forwards: 70",
            f"From: {header_value(call.invite, 'From')}", f"To: {call.to}", f"Call-ID: {call.call_id}", "CSeq: 2 BYE"])
        call.bye_tx = ClientTx(self, data, "BYE", lambda: self._fail(call, None, "BYE not answered (Timer F)"))
        call.bye_tx.start()


PEER_CLASSES: dict[str, type[Peer]] = {"uac": UAC, "uas": UAS, "ua": RegisteringUA}


def _options(spec: PeerSpec) -> dict[str, Any]:
    """The peer's options over their defaults, each checked: a finite number where a number is
    expected (an integer for counts, codes and Expires), a string where a name is."""
    from sipsim.engine.scenario_check import ScenarioError, number, string

    allowed = PEER_OPTIONS[spec.type]
    given = dict(spec.options)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ScenarioError(f"peer {spec.name!r} ({spec.type}): unknown option {', '.join(unknown)} "
                            f"(allowed: {', '.join(sorted(allowed))})")
    opts = {**allowed, **given}
    for key, default in allowed.items():
        if default is None and key in ("call", "aor") and not opts.get(key):
            raise ScenarioError(f"peer {spec.name!r} ({spec.type}): option {key!r} is required")
        value = opts[key]
        what = f"peer {spec.name!r}: {key}"
        if default is None:
            if value is not None:
                string(value, what)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ScenarioError(f"{what} must be true or false")
        elif isinstance(default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScenarioError(f"{what} must be a non-negative number")
            number(value, what, integer=isinstance(default, int))
    if opts["t1"] <= 0 or opts["t2"] <= 0:
        raise ScenarioError(f"peer {spec.name!r}: t1 and t2 must be positive")
    if spec.type == "uas" and opts["reject"] and not 300 <= opts["reject"] <= 699:
        raise ScenarioError(f"peer {spec.name!r}: reject must be a final failure code (300-699), "
                            f"not {opts['reject']}")
    return opts


def proxy_domain(scenario: Scenario) -> str:
    """The domain peers use in their URIs: the proxy's first alias, else its address."""
    p = scenario.proxy
    if p.aliases:
        from sipsim.engine.forward import split_alias

        try:  # the host[:port] part: a transport prefix (udp:) has no place in a URI
            host, alias_port = split_alias(p.aliases[0])
        except ValueError:
            return p.aliases[0]
        host = f"[{host}]" if ":" in host else host
        return host if alias_port is None else f"{host}:{alias_port}"
    host, port = p.listen
    host = f"[{host}]" if ":" in host else host
    return host if port == 5060 else f"{host}:{port}"


def check_peer_specs(scenario: Scenario) -> None:
    for spec in scenario.peers:
        _options(spec)


def make_peers(scenario: Scenario) -> list[Peer]:
    domain = proxy_domain(scenario)
    return [PEER_CLASSES[s.type](s.name, s.address, _options(s), scenario.proxy.listen, domain)
            for s in scenario.peers]
