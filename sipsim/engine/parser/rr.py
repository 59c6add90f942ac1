"""Route and Record-Route (RFC 3261 §20.30, §20.34), as Kamailio's ``parse_rr.c``.

Each value must be a ``name-addr`` (URI in angle brackets); loose routers mark themselves ``;lr``.
"""

from __future__ import annotations

from sipsim.engine.parser.contact import parse_addr_list
from sipsim.engine.parser.nameaddr import NameAddr


def parse_rr(body: str, base: int, what: str = "Route", kamailio: bool = False) -> list[NameAddr]:
    """The values of one Route/Record-Route header; ``kamailio`` (the kamailio profile): their
    URIs are read by Kamailio's ``parse_uri()`` (:attr:`NameAddr.kamailio`), and a parameter may
    have an empty value at the very end of the header (``;x=``, as its ``parse_params()`` allows in
    a Contact; measured), nowhere else."""
    return parse_addr_list(body, base, what, need_brackets=True, empty_last_value=kamailio, kamailio=kamailio)
