"""Safety nets of the live worker against input that makes it work or write without end.

These are sipsim's own, like the destination policy (:mod:`sipsim.real.policy`): Kamailio has
neither. A teaching server in a shared lab meets students who try to break it, and a Python
worker pays for each hop hundreds of times what Kamailio pays.

* **A reply that loops through us** (:func:`too_many_vias`). ``forward_reply`` strips our Via
  and sends the reply to the address in the next one. A crafted reply whose Vias all name this
  server (``Via: SIP/2.0/UDP us, SIP/2.0/UDP us, ...``: 2,300 of them fit in one 64 KiB
  datagram) comes back to us once per Via, and each hop parses what is left: measured, one such
  datagram kept a worker busy for 6.5 s of CPU and wrote 2,300 log lines. Requests cannot do
  this: ``mf_process_maxfwd_header`` caps Max-Forwards at 70 (``max_limit``), so a request
  loops at most 70 times. A reply has no such counter, but a genuine one cannot carry more Vias
  than its request collected — one per hop, at most 70 hops behind a proxy that caps
  Max-Forwards, plus the client's own. So a forwarded reply with more than ``MAX_REPLY_VIAS``
  Via values is not sent (dropped and counted as ``send_refused``, with the reason in the log).
  The count is cheap: only replies long enough to hold that many Vias are looked at.
* **Log lines one datagram can cause** (:class:`Throttle`). The per-message info line is the
  server's design (``--log-level notice`` turns it off), but warnings such as "not sending ...
  not allowed" come one per crafted datagram at any level: a flood of them fills a disk. A
  throttle lets ``burst`` of one kind through per second, then counts, and says how many it
  held back when the next one is allowed.
"""

from __future__ import annotations

from sipsim.engine.maxfwd import MAX_LIMIT

MAX_REPLY_VIAS = MAX_LIMIT + 1  # 70 proxies (Max-Forwards' max_limit) and the client
# The shortest Via value ("SIP/2.0/UDP a" and a comma) is 14 bytes: a reply shorter than this
# cannot hold more than MAX_REPLY_VIAS of them, and is never scanned (the common case).
_SCAN_FROM = 14 * MAX_REPLY_VIAS


def via_values(data: bytes) -> int:
    """How many Via values the header section of ``data`` holds, counted generously.

    Each ``Via:``/``v:`` header line (any case, folded lines included) counts one, plus one per
    comma in it. A comma inside a quoted parameter counts too: the count may be too high, never
    too low, and the limit it is held against is far above what real replies carry.
    """
    count = 0
    in_via = False
    for line in data.split(b"\n")[1:]:
        if line in (b"", b"\r"):
            break  # the end of the headers: the body is not looked at
        if line[:1] in (b" ", b"\t"):  # a folded continuation of the previous header
            if in_via:
                count += line.count(b",")
            continue
        name, colon, rest = line.partition(b":")
        in_via = bool(colon) and name.strip().lower() in (b"via", b"v")
        if in_via:
            count += 1 + rest.count(b",")
    return count


def too_many_vias(data: bytes, limit: int = MAX_REPLY_VIAS) -> int:
    """The Via count of a reply about to be forwarded when it is above ``limit``, else 0."""
    if len(data) < _SCAN_FROM:
        return 0
    n = via_values(data)
    return n if n > limit else 0


class Throttle:
    """At most ``burst`` events of one kind per second; the rest are counted, not logged.

    ``allow(now)`` says whether to log this one; ``held()`` then gives (and resets) how many
    were held back since the last logged one, for the line that is logged. The clock is the
    caller's (``now``, in seconds), so the throttle is easy to test.
    """

    def __init__(self, burst: int = 10) -> None:
        self.burst = burst
        self._window = -1
        self._used = 0
        self._held = 0

    def allow(self, now: float) -> bool:
        window = int(now)
        if window != self._window:
            self._window, self._used = window, 0
        if self._used < self.burst:
            self._used += 1
            return True
        self._held += 1
        return False

    def held(self) -> int:
        n, self._held = self._held, 0
        return n

    def note(self) -> str:
        """`` (N more lines like it not logged ...)`` when some were held back since the last logged one."""
        n = self.held()
        return f" ({n} more lines like it not logged: at most {self.burst} a second)" if n else ""
