"""Expires (RFC 3261 §20.19): delta-seconds, parsed on demand as Kamailio's ``parse_expires``.

The registrar reads it when a Contact has no ``expires`` parameter; ``sanity_check`` (bit 256)
checks it is a valid unsigned number.
"""

from __future__ import annotations

from sipsim.engine.parser.numbers import parse_number


def parse_expires(body: str, base: int) -> int:
    return parse_number(body, base, "Expires")
