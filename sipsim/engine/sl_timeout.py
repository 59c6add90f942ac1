"""sl's ``sl_timeout``: until when an ACK may still be the ACK of one of our stateless replies.

Kamailio's sl module keeps one timestamp in shared memory for the whole server: every stateless
reply it sends moves it to "now + ``SL_RPL_WAIT_TIME``" (2 s, ``src/modules/sl/sl_funcs.h``), and
its ``filter_ACK`` pre-script callback looks at an ACK's To-tag only while that time has not
passed — after it, every ACK goes to the script. One value for all workers matters: the 404 goes
out of one worker and its ACK usually wakes another.

The engine never reads a clock: "now" is the time the driver gave the datagram (``msg.time``). The
simulator shares one :class:`SlTimeout` between its workers; live mode gives its forked workers one
kept in a shared mapping (``sipsim.real.shared_clock``). Simplified: Kamailio counts in timer ticks
(1/16 s); sipsim in the driver's seconds.
"""

from __future__ import annotations

SL_RPL_WAIT_TIME = 2.0


class SlTimeout:
    """The time until which an ACK is checked against our own To-tags (``-inf``: no reply yet)."""

    def __init__(self) -> None:
        self._until = float("-inf")

    def get(self) -> float:
        return self._until

    def set(self, until: float) -> None:
        self._until = until

    def replied(self, now: float) -> None:
        """A stateless reply went out at ``now``."""
        self.set(now + SL_RPL_WAIT_TIME)

    def expects_ack(self, now: float) -> bool:
        """``filter_ACK``'s first test: too late for an ACK of ours once the time has come."""
        return now < self.get()
