"""Max-Forwards (RFC 3261 §20.22), parsed on demand as the maxfwd module's ``is_maxfwd_present``.

Only ``mf_process_maxfwd_header`` (``sipsim.engine.maxfwd``) asks for it; the value is read as a
plain number, and what a proxy does with it (0 → 483, decrement, cap) is the module's business.
"""

from __future__ import annotations

from sipsim.engine.parser.numbers import parse_number


def parse_maxfwd(body: str, base: int) -> int:
    return parse_number(body, base, "Max-Forwards")
