"""What the harness records: the datagrams Kamailio sent (:class:`Sent`) and everything it did
with one received datagram (:class:`Observation`), with a JSON form for recordings.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from kamailio import kamlog
from kamailio.kamlog import CfgStep, LogRecord

Addr = tuple[str, int]


def fmt_addr(addr: Addr) -> str:
    return f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"


@dataclass(frozen=True)
class Sent:
    """One datagram Kamailio sent: from which of its sockets, to where, exact bytes."""

    src: Addr
    dst: Addr
    data: bytes

    @property
    def first_line(self) -> str:
        return self.data.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def status(self) -> int | None:
        """Status code if this is a reply, else None."""
        parts = self.first_line.split(" ", 2)
        if self.data.startswith(b"SIP/2.0 ") and len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
        return None

    def headers(self, name: str) -> list[str]:
        """Values of every header line called ``name`` (case-insensitive, as sent; no compact forms)."""
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        out = []
        for line in head:
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == name.lower():
                out.append(value.strip())
        return out

    def to_json(self) -> dict:
        return {"from": fmt_addr(self.src), "to": fmt_addr(self.dst), "data": self.data.decode("latin-1")}


@dataclass
class Observation:
    """Everything Kamailio did with one datagram."""

    data: bytes
    src: Addr
    sent: list[Sent] = field(default_factory=list)  # from Kamailio's SIP socket(s), in order
    other: list[Sent] = field(default_factory=list)  # other UDP it emitted (DNS queries ...)
    log: list[LogRecord] = field(default_factory=list)  # the handling worker's records, all levels
    steps: list[CfgStep] = field(default_factory=list)  # debugger cfgtrace, in order
    workers: list[int] = field(default_factory=list)  # PIDs that received a datagram meanwhile
    end: str = ""  # how the end was detected: cleaning-up | error-exit | udp-drop | quiet | not-received
    elapsed: float = 0.0  # seconds from our sendto to the detected end

    @property
    def reached(self) -> list[str]:
        """Route blocks that ran at least one action, in first-seen order ("request_route" ...)."""
        out: list[str] = []
        for s in self.steps:
            name = s.route if s.name in kamlog.DEFAULT_ROUTE_NAMES else f"{s.route}[{s.name}]"
            if name not in out:
                out.append(name)
        return out

    @property
    def lines(self) -> list[int]:
        """The cfg line numbers executed, in order (what issue 5 compares with sipsim's steps)."""
        return [s.line for s in self.steps]

    @property
    def replies(self) -> list[Sent]:
        return [s for s in self.sent if s.status is not None]

    @property
    def requests(self) -> list[Sent]:
        return [s for s in self.sent if s.status is None]

    def messages(self, min_level: str = "INFO", cfgtrace: bool = False) -> list[str]:
        """Log lines at ``min_level`` or above (debug=3 lines are mostly parser chatter)."""
        order = ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "BUG"]
        floor = order.index(min_level)
        return [
            r.text for r in self.log
            if (order.index(r.level) if r.level in order else 9) >= floor
            and (cfgtrace or "*** cfgtrace:" not in r.text)
        ]

    def notable(self) -> list[str]:
        """The log lines that matter (kamlog.notable), scrubbed of per-run values."""
        return [kamlog.scrub(r.text) for r in self.log if kamlog.notable(r)]

    def find_log(self, fragment: str) -> list[str]:
        """Texts of the records (any level) containing ``fragment``."""
        return [r.text for r in self.log if fragment in r.text]

    def to_json(self) -> dict:
        return {
            "src": fmt_addr(self.src),
            "reached": self.reached,
            "lines": [f"{s.route}[{s.name}]:{s.line}:{s.func}" for s in self.steps],
            "sent": [s.to_json() for s in self.sent],
            # other UDP (DNS queries): from an ephemeral port, left out so recordings are reproducible
            "other_udp": [{"to": fmt_addr(s.dst), "dns": dns_question(s.data)} for s in self.other],
            "log": self.notable(),
            "end": self.end,
        }


DNS_TYPES = {1: "A", 28: "AAAA", 33: "SRV", 35: "NAPTR"}


def dns_question(data: bytes) -> str:
    """"name TYPE" of the first question of a DNS query, or "" if ``data`` is not one."""
    try:
        if len(data) < 12 or struct.unpack_from("!H", data, 4)[0] < 1:
            return ""
        labels, i = [], 12
        while data[i]:
            labels.append(data[i + 1:i + 1 + data[i]].decode("latin-1"))
            i += 1 + data[i]
        qtype = struct.unpack_from("!H", data, i + 1)[0]
    except (IndexError, struct.error):
        return ""
    return f"{'.'.join(labels)} {DNS_TYPES.get(qtype, qtype)}"
