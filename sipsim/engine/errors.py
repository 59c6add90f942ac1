"""Internal error codes and the replies they turn into (Kamailio's ``error.h``/``err2reason_phrase``).

A function that fails records ``ser_error`` on the message; ``sl_reply_error()`` answers with the
matching code. The driver reports a failed send as a short string (``Send`` returns it); it becomes
one of these.
"""

from __future__ import annotations

from typing import Any

E_UNSPEC = -1
E_BAD_REQ = -400
E_SEND = -477
E_BAD_ADDRESS = -478
E_BAD_URI = -479
E_NO_SOCKET = -7
E_BAD_VIA = -8
E_BAD_TUPEL = -9

REASONS = {
    E_UNSPEC: (500, "I'm terribly sorry, server error occurred"),  # error.c's default
    E_BAD_REQ: (400, "Bad Request"),
    E_SEND: (477, "Unfortunately error on sending to next hop occurred"),
    E_BAD_ADDRESS: (478, "Unresolvable destination"),
    E_NO_SOCKET: (500, "I'm terribly sorry, server error occurred"),
    E_BAD_URI: (479, "Regretfully, we were not able to process the URI"),
    E_BAD_VIA: (400, "Bad Via"),
    E_BAD_TUPEL: (400, "Missing Call-ID, From, To or CSeq"),
}

# What a driver answers to a Send it could not perform (the word before any ":") -> the internal
# error. "send-failed" is sendto() failing: Kamailio 5.6's udp_send() returns -1 and ser_error
# stays E_UNSPEC (measured with EMSGSIZE: sl_reply_error() answers "500 ... (1/SL)");
# "not-allowed" is sipsim's own destination policy (live mode), answered 477.
SEND_ERRORS = {
    "unresolvable": E_BAD_ADDRESS,
    "not-allowed": E_SEND,
    "send-failed": E_UNSPEC,
}


def send_error_code(err: object) -> int:
    """The internal error for a driver's answer to a Send (an unknown word: a failed sendto)."""
    return SEND_ERRORS.get(str(err).split(":", 1)[0].strip(), E_UNSPEC)


def set_ser_error(msg: Any, code: int, why: str) -> None:
    """Record an internal error on the message, with what failed in words (for the live log)."""
    msg.extra["ser_error"] = code
    msg.extra["ser_error_why"] = (code, why)


def ser_error_cause(msg: Any) -> str | None:
    """What failed, if the message's current ``ser_error`` is the one recorded with words (the
    routing engine resets ``ser_error`` before each action: a stale cause is never reported)."""
    code, why = msg.extra.get("ser_error_why", (None, None))
    return why if code is not None and msg.extra.get("ser_error") == code else None


def err2reason(ser_error: int, kamailio: bool = False) -> tuple[int, str]:
    """The reply for an internal error; Kamailio's sl_reply_error appends " (<error>/SL)"."""
    code, reason = REASONS.get(ser_error, REASONS[E_UNSPEC])
    if kamailio:
        reason = f"{reason} ({-ser_error}/SL)"
    return code, reason
