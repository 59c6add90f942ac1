"""Server configuration: the profile (which era of the server we model) and core parameters.

Two profiles model two eras of the same receive path:

* ``ser`` — the seed document (SER Developer's Guide, "Main Loop", 2002): ``receive_msg`` copies
  the datagram to ``orig`` and changes are made to ``buf``; ``parse_msg`` parses the first line and
  the first Via, pre-script callbacks run, a request needs a parsed first Via, a reply is simply
  forwarded. sipsim's ``ser`` profile also gives the answers RFC 3261/4475 ask of a careful proxy
  (400 for a request it cannot parse, 505, 416, 420, 483): the historical SER dropped unparsable
  messages silently, as Kamailio still does — lessons show that difference.
* ``kamailio`` — Kamailio 5.6's core (``src/core/receive.c``): no ``orig``; ``buf`` is never
  written, changes are lumps; From/To/Call-ID/CSeq are parsed right after ``parse_msg`` and a
  message missing one is dropped silently before any route runs.

Defaults follow Kamailio's (``src/core/config.h``, ``main.c``); see reference §8.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from sipsim.engine.events import Addr


class Profile(StrEnum):
    SER = "ser"
    KAMAILIO = "kamailio"


MIN_UDP_PACKET = 32  # config.h: shorter datagrams are "probing packets", silently dropped
MSG_RECV_MAX_SIZE = 32767  # newer Kamailio's msg_recv_max_size (5.6 has no such check)
BUF_SIZE = 65535  # recvfrom buffer (Kamailio's udp_rcv_loop reads into BUF_SIZE bytes)
# the largest UDP payload: an IP datagram's 16-bit length less the headers it counts — IPv4's
# total length counts its 20-byte header and UDP's 8; IPv6's payload length only UDP's 8 (RFC 2675
# jumbograms aside). Both are below BUF_SIZE: Kamailio's buffer never truncates a UDP datagram.
MAX_UDP_PAYLOAD_V4 = 65_507
MAX_UDP_PAYLOAD_V6 = 65_527


def max_udp_payload(src_host: str) -> int:
    """The most bytes a UDP datagram from ``src_host`` (an IP literal, brackets allowed) can carry."""
    return MAX_UDP_PAYLOAD_V6 if ":" in src_host else MAX_UDP_PAYLOAD_V4
SIP_PORT = 5060


@dataclass(frozen=True)
class ServerConfig:
    """Core parameters of one server (Kamailio's global cfg parameters of the same names)."""

    profile: Profile = Profile.SER
    listen: Addr = ("127.0.0.1", SIP_PORT)
    advertise: str | None = None  # cfg `advertise`: the name put in our Via / Record-Route
    aliases: tuple[str, ...] = ()  # cfg `alias`: other names (host or host:port) that mean "me"
    check_via: bool = False  # cfg `check_via`: forward_reply checks the top Via is ours
    relay: bool = True  # default route: forward requests for foreign domains (serve: off)
    add_local_rport: bool = False  # cfg `add_local_rport`: put ;rport in our own Via
    min_udp_packet: int = MIN_UDP_PACKET
    msg_recv_max_size: int | None = None  # None: no limit but the 65535-byte buffer (as Kamailio 5.6)
    # the registrar's max_contacts when a script does not set the modparam (0: no limit, Kamailio's
    # default; `sipsim serve --max-contacts` sets it: see sipsim.engine.registrar)
    max_contacts: int = 0
    server_header: str = "Server: sipsim"  # sl replies carry it, as Kamailio's server_signature
    defines: tuple[str, ...] = field(default_factory=tuple)  # cfg preprocessor defines (-A)

    @property
    def advertised_host(self) -> str:
        return self.advertise or self.listen[0]

    def with_(self, **changes: object) -> ServerConfig:
        return replace(self, **changes)  # type: ignore[arg-type]
