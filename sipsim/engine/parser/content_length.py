"""Content-Length (RFC 3261 §20.14; compact form ``l``), as Kamailio's ``parse_content.c``.

Parsed as soon as its header is met (Kamailio does it in ``get_hdr_field``): it frames the body of
a datagram. Whether the body really has that many bytes is the sanity checks' business (RFC 4475
§3.1.2.2 sends 9999 with far fewer bytes; §3.3.9 sends two conflicting headers).
"""

from __future__ import annotations

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.numbers import parse_number

# Kamailio 5.6 keeps the value in an int and stops as soon as one more digit could overflow it:
# before each digit the value so far must stay under 214748364 (measured: 2147483639 passes,
# 2147483640 is "content length value is too large")
KAMAILIO_LIMIT = 2147483640


def parse_content_length(body: str, base: int, kamailio: bool = False) -> int:
    value = parse_number(body, base, "Content-Length")
    if kamailio and value >= KAMAILIO_LIMIT:
        raise ParseError(f"Content-Length {value} is too large (Kamailio keeps it in an int)", base)
    return value
