"""Internal error codes and the replies they turn into (Kamailio's ``error.h``/``err2reason_phrase``).

A function that fails records ``ser_error`` on the message; ``sl_reply_error()`` answers with the
matching code. The driver reports a failed send as a short string (``Send`` returns it); it becomes
one of these.
"""

from __future__ import annotations

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

# What a driver answers to a Send it could not perform -> the internal error
SEND_ERRORS = {
    "unresolvable": E_BAD_ADDRESS,
    "not-allowed": E_SEND,
    "send-failed": E_SEND,
}


def err2reason(ser_error: int, kamailio: bool = False) -> tuple[int, str]:
    """The reply for an internal error; Kamailio's sl_reply_error appends " (<error>/SL)"."""
    code, reason = REASONS.get(ser_error, REASONS[E_UNSPEC])
    if kamailio:
        reason = f"{reason} ({-ser_error}/SL)"
    return code, reason
