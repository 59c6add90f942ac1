"""The simulated network: where the peers live, and a name service that never asks DNS.

A host is an IP literal, a name from the scenario's ``[hosts]`` table, one of the proxy's own names
(listen address, advertise, aliases) or a peer's host name as written. The runner asks it where a
``Send`` goes: to the proxy itself, to a peer, or nowhere (then the datagram is lost, as on a real
network with nobody there).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from sipsim.engine.events import Addr
from sipsim.engine.forward import split_alias

if TYPE_CHECKING:
    from sipsim.engine.peers import Peer


class VirtualNetwork:
    """Who lives where on the simulated network, and its name service. Nothing is ever looked up
    in DNS: a host is an IP literal, a name from the scenario's ``[hosts]`` table, one of the
    proxy's own names (listen address, advertise, aliases) or a peer's host name as written."""

    def __init__(self, listen: Addr, proxy_names: tuple[str, ...], hosts: dict[str, str], peers: list[Peer]) -> None:
        self.listen = (str(ipaddress.ip_address(listen[0].strip("[]"))) if is_ip(listen[0]) else listen[0].lower(),
                       listen[1])
        self._proxy_names = {listen[0].lower(), *filter(None, map(_alias_host, proxy_names))}
        self._hosts = {k.lower(): v for k, v in hosts.items()}
        self._cache: dict[str, str | None] = {}
        self._peers: dict[Addr, Peer] = {}
        for p in peers:
            ip = self.resolve(p.addr[0]) or p.addr[0].lower()
            self._peers[(ip, p.addr[1])] = p

    def resolve(self, host: str) -> str | None:
        key = host.lower()
        if key not in self._cache:
            bare = key.strip("[]")
            if is_ip(bare):
                ip: str | None = str(ipaddress.ip_address(bare))
            elif bare in self._hosts:
                ip = self._hosts[bare]
            elif bare.rstrip(".") in self._proxy_names:
                ip = self.listen[0]
            else:
                ip = None
            self._cache[key] = ip
        return self._cache[key]

    def is_proxy(self, ip: str, port: int) -> bool:
        return port == self.listen[1] and ip == self.listen[0]

    def peer_at(self, ip: str, port: int) -> Peer | None:
        return self._peers.get((ip, port))


def _alias_host(name: str) -> str | None:
    """The host part of an alias (or advertised name), as ``uri == myself`` reads it: ``udp:`` and
    ``:port`` left out, ``[2001:db8::1]:5070`` -> ``2001:db8::1``, lower case, no trailing dot.
    A name service maps a name to an address whatever the port. An alias that cannot be read
    (a cfg script's, say) names nothing, as in ``check_self``."""
    try:
        return split_alias(name)[0]
    except ValueError:
        return None


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
