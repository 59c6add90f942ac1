"""Max-Forwards (RFC 3261 §16.6 step 3; the maxfwd module, ``src/modules/maxfwd/``).

``mf_process_maxfwd_header(limit)``: if the request has no Max-Forwards, add one with ``limit``
right after the request line; if it is 0, return false (the script then answers 483 Too Many Hops —
RFC 4475 §3.3.11); else decrement it — a value above ``max_limit`` (module parameter, default 70)
becomes ``max_limit`` itself. The change is a lump replacing the value: the received bytes keep the
old one. Kamailio 5.6 writes the new number in the old digits' place, right-aligned (``0070`` ->
``  69``, measured); the ser profile writes it plainly. The kamailio profile reads the number as
the module does (:func:`str2s`: five digits at most, 16 bits), the ser profile by the RFC grammar.
"""

from __future__ import annotations

from sipsim.engine import lumps
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_MAXFORWARDS, flag_names
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers

MAX_LIMIT = 70
_TRIMMED = "\0\r\n \t"  # what the maxfwd module trims after the digits


def str2s(body: str) -> int | None:
    """The value as the kamailio profile reads it: the maxfwd module's ``str2s()``.

    Only digits (white space around them trimmed), at most five of them, kept in an unsigned
    16-bit number: ``000070`` or ``4294967296`` are errors, ``65536`` is 0, an empty value is 0.
    """
    s = body.rstrip(_TRIMMED).lstrip(" \t")
    if len(s) > 5 or (s and not s.isdigit()) or not s.isascii():
        return None
    return int(s or "0") & 0xFFFF


def mf_process_maxfwd_header(ctx: WorkerContext, msg: SipMsg, limit: int = 10, max_limit: int = MAX_LIMIT) -> Steps:
    """Returns 2 (header added), 1 (decremented), -1 (it was 0), -2 (unparsable) — as the module."""
    before = msg._pf
    rc = parse_headers(msg, F_MAXFORWARDS)
    # every kind the parser went over to find it (named for the narration only)
    parsed = flag_names(msg._pf & ~before) if ctx.tracing else ()
    if rc < 0 and msg.maxforwards is None:
        reason = msg.hdr_error.reason if msg.hdr_error else "parse error"
        msg.extra["cause"] = f"cannot reach Max-Forwards: {reason}"
        if ctx.tracing:
            yield ctx.event("mf_process_maxfwd_header", msg, f"cannot reach Max-Forwards: {reason}",
                            unparsed=msg.unparsed)
        return -2
    h = msg.maxforwards
    if h is None:
        at = msg.headers[0].start if msg.headers else (msg.first_line.end if msg.first_line else 0)
        lumps.insert(msg, at, f"Max-Forwards: {limit}\r\n", "mf_process_maxfwd_header: header was missing")
        if ctx.tracing:
            yield ctx.event("mf_process_maxfwd_header", msg, f"no Max-Forwards: adds 'Max-Forwards: {limit}'",
                            parsed=parsed, unparsed=msg.unparsed, detail={"added": limit})
        return 2
    if ctx.ser:
        try:
            value = parse_hdr_body(h)
        except ParseError as exc:
            msg.hdr_errors += 1  # the ser profile parses the value with the header: a header error
            msg.extra["cause"] = exc.reason  # ("Max-Forwards is not a number: '-1'", "... of 5,000 digits")
            if ctx.tracing:
                yield ctx.event("mf_process_maxfwd_header", msg, exc.reason)
            return -2
        assert isinstance(value, int)
    else:
        value = str2s(h.body)
        if value is None:
            msg.extra["cause"] = f"Max-Forwards {h.body[:20]!r} is not a number"
            if ctx.tracing:
                yield ctx.event("mf_process_maxfwd_header", msg,
                                f"Max-Forwards {h.body[:20]!r}: unable to parse the max forwards number (error)")
            return -2
    if value == 0:
        msg.extra["cause"] = "Max-Forwards is 0"
        if ctx.tracing:
            yield ctx.event("mf_process_maxfwd_header", msg, "Max-Forwards is 0: must not forward (false)",
                            parsed=parsed, unparsed=msg.unparsed, detail={"value": 0})
        return -1
    new = max_limit if value > max_limit else value - 1
    text = str(new)
    start, end = h.body_start, h.body_end
    if not ctx.ser:
        # Kamailio 5.6 rewrites the digits str2s() read in their own place, right-aligned:
        # "10" -> " 9"; what it trimmed after them stays ("70 NUL" -> "69 NUL": measured)
        digits = h.body.rstrip(_TRIMMED)
        end = start + len(digits)
        start = end - len(digits.lstrip(" \t"))
        text = text.rjust(end - start)
    lumps.delete(msg, start, end - start, "mf_process_maxfwd_header")
    lumps.insert(msg, start, text, "mf_process_maxfwd_header: decremented")
    if ctx.tracing:
        yield ctx.event("mf_process_maxfwd_header", msg, f"Max-Forwards {h.body} -> {new} {lumps.how(ctx.ser)}",
                        parsed=parsed, unparsed=msg.unparsed, detail={"value": value, "new": new})
    return 1
