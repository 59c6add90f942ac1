"""Content-Length (RFC 3261 §20.14; compact form ``l``), as Kamailio's ``parse_content.c``.

Parsed as soon as its header is met (Kamailio does it in ``get_hdr_field``): it frames the body of
a datagram. Whether the body really has that many bytes is the sanity checks' business (RFC 4475
§3.1.2.2 sends 9999 with far fewer bytes; §3.3.9 sends two conflicting headers).
"""

from __future__ import annotations

from sipsim.engine.parser.numbers import parse_number


def parse_content_length(body: str, base: int) -> int:
    return parse_number(body, base, "Content-Length")
