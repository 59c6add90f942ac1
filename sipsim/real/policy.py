"""Where a live server may send: the destination policy of ``sipsim serve``.

A teaching server reads addresses out of messages that anyone can craft (Request-URI, Via,
Contact, maddr …). Forwarding blindly would make it a traffic reflector, so every ``Send`` the
pipeline yields passes through :class:`DestPolicy` first:

* by default only loopback is allowed (127.0.0.0/8 and ::1);
* ``--allow-dest CIDR`` (repeatable) widens that, e.g. ``--allow-dest 192.168.1.0/24`` or
  ``--allow-dest 0.0.0.0/0`` for a real proxy on a lab network; a multicast group (224.0.0.0/4,
  ff00::/8: one datagram for every host that joined it) only when a multicast network is given
  by name, never through a wider one such as 0.0.0.0/0;
* names are never resolved unless ``--dns`` is given; then ``getaddrinfo`` is asked once per name
  (the answer is cached for the worker's life, as Kamailio's DNS cache would keep it for a while)
  and the resolved address must still be allowed. A name with white space or a control byte
  (``"127.0.0.1 "``, a NUL) is unresolvable without asking: Kamailio finds no address for it.

The answer is one of the strings the engine understands (``sipsim.engine.errors.SEND_ERRORS``):
``"unresolvable"`` (a name and no ``--dns``, or DNS said no — Kamailio answers 478),
``"not-allowed"`` (the address is outside the allowed networks — answered 477 and logged), or the
resolved ``(ip, port)`` to pass to ``sendto``.

Simplification: Kamailio has no such policy (it sends wherever the script says); it is sipsim's
own safety net and the log line says so when it refuses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK: tuple[IPNetwork, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
UNRESOLVABLE = "unresolvable"
NOT_ALLOWED = "not-allowed"
SEND_FAILED = "send-failed"
_CACHE_MAX = 4096  # random input names many hosts: keep the cache bounded
# A host name never holds white space or a control byte. glibc's getaddrinfo() may still read
# "127.0.0.1 " as 127.0.0.1 (and raises ValueError on a NUL) where Kamailio's resolver answers
# nothing (478): such a name is refused before it reaches the resolver.
_NOT_A_NAME = re.compile(r"[\x00-\x20\x7f]")


class PolicyError(ValueError):
    """A bad --allow-dest value."""


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``["10.0.0.0/8", "::1"]`` -> networks; a bad value raises PolicyError with a clear message."""
    out = []
    for text in cidrs:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            raise PolicyError(f"bad --allow-dest {text!r}: {exc}") from None
    return tuple(out)


class DestPolicy:
    """Decide, per destination host, whether a worker may send there (and to which IP).

    ``family`` is the listen socket's family: a datagram for the other family cannot leave
    through that socket, so it fails as Kamailio fails when it finds no socket to send from.
    """

    def __init__(self, allow: Iterable[IPNetwork] = (), *, dns: bool = False,
                 family: int = socket.AF_INET) -> None:
        self.allow = LOOPBACK + tuple(allow)
        self.dns = dns
        self.family = family
        self._cache: dict[str, tuple[str, str]] = {}  # host -> ("ok", ip) | ("err", reason)

    def describe(self) -> str:
        nets = ", ".join(str(n) for n in self.allow)
        return f"sends only to {nets}; names {'resolved (--dns)' if self.dns else 'not resolved'}"

    def check(self, host: str) -> tuple[str | None, str]:
        """(ip, "") when allowed, else (None, error) with error one of the engine's send errors.

        The second item is also the human reason when refused ("not-allowed: 192.0.2.1 is outside
        127.0.0.0/8, ::1/128").
        """
        hit = self._cache.get(host)
        if hit is None:
            hit = self._decide(host)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[host] = hit
        kind, value = hit
        return (value, "") if kind == "ok" else (None, value)

    def _decide(self, host: str) -> tuple[str, str]:
        h = host.strip("[]")
        try:
            ip = ipaddress.ip_address(h)
        except ValueError:
            if not self.dns:
                return "err", f"{UNRESOLVABLE}: {host} is a name and --dns is off"
            if _NOT_A_NAME.search(h):
                return "err", f"{UNRESOLVABLE}: {host!r} holds white space or a control byte"
            ip = self._resolve(h)
            if ip is None:
                return "err", f"{UNRESOLVABLE}: DNS gave no usable address for {host}"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not any(ip.version == net.version and ip in net for net in self.allow):
            nets = ", ".join(str(n) for n in self.allow)
            return "err", f"{NOT_ALLOWED}: {ip} is outside {nets}"
        if ip.is_multicast and not any(ip.version == net.version and ip in net and net.is_multicast
                                       for net in self.allow):
            # one datagram to a group reaches every member host: --allow-dest 0.0.0.0/0 means "any
            # host", not "every host at once"; a group is allowed only when named (224.0.0.0/4)
            return "err", f"{NOT_ALLOWED}: {ip} is a multicast group (allow it by name: --allow-dest {ip})"
        want = 4 if self.family == socket.AF_INET else 6
        if ip.version != want:
            return "err", f"{SEND_FAILED}: no IPv{ip.version} socket to send from (listening on IPv{want})"
        return "ok", str(ip)

    def _resolve(self, name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            infos = socket.getaddrinfo(name, None, self.family, socket.SOCK_DGRAM)
        except (OSError, UnicodeError, ValueError):  # ValueError: a NUL byte in the name
            return None
        for info in infos:
            try:
                return ipaddress.ip_address(info[4][0])
            except ValueError:
                continue
        return None


def error_code(reason: str) -> str:
    """The engine's send-error string at the start of a policy reason."""
    return reason.split(":", 1)[0]
