"""The addresses of this machine, for a server that listens on the wildcard (0.0.0.0 or ::).

A socket bound to 0.0.0.0 receives datagrams sent to any of the machine's addresses, but SIP
needs more than the socket: ``uri == myself`` must know every name the server answers to, and
the server must put *one* reachable address in its own Via. Kamailio, started without ``listen``,
walks the interfaces and listens on each address (and each becomes "myself"). sipsim keeps its
one wildcard socket and makes each local address an alias instead (simplification), and it asks
for ``--advertise`` to know which address goes into its Via.

The kernel lists the local addresses in ``/proc/net/fib_trie`` (IPv4: every ``/32 host LOCAL``
leaf) and ``/proc/net/if_inet6`` (IPv6: one address per line, 32 hex digits). Nothing is
resolved and nothing is sent.
"""

from __future__ import annotations

import ipaddress


def local_ipv4(fib_trie: str = "/proc/net/fib_trie") -> list[str]:
    """Every IPv4 address of this host (network namespace), loopback included, in first-seen order."""
    out: list[str] = []
    try:
        with open(fib_trie) as f:
            lines = f.read().splitlines()
    except OSError:
        return ["127.0.0.1"]
    last = ""
    for line in lines:
        text = line.strip()
        if text.startswith("|--"):
            last = text[3:].strip()
        elif text.startswith("/32 host LOCAL") and last and last not in out:
            out.append(last)
    return out or ["127.0.0.1"]


def local_ipv6(if_inet6: str = "/proc/net/if_inet6") -> list[str]:
    """Every IPv6 address of this host, link-local ones left out (they need a scope to be used)."""
    out: list[str] = []
    try:
        with open(if_inet6) as f:
            lines = f.read().splitlines()
    except OSError:
        return ["::1"]
    for line in lines:
        fields = line.split()
        if not fields or len(fields[0]) != 32:
            continue
        try:
            ip = ipaddress.IPv6Address(int(fields[0], 16))
        except ValueError:
            continue
        if not ip.is_link_local and str(ip) not in out:
            out.append(str(ip))
    return out or ["::1"]


def wildcard_aliases(version: int, port: int) -> tuple[str, ...]:
    """The ``alias`` values that make every local address of one family mean "this server".

    IPv4 aliases carry the port (``127.0.0.1:5060``). IPv6 ones are bare addresses: the engine's
    alias syntax (``host:port``) cannot carry a port after an IPv6 address, so for IPv6 any port
    on a local address counts as this server (simplification).
    """
    if version == 4:
        return tuple(f"{ip}:{port}" for ip in local_ipv4())
    return tuple(local_ipv6())
