"""The addresses of this machine, for a server that listens on the wildcard (0.0.0.0 or ::).

A socket bound to 0.0.0.0 receives datagrams sent to any of the machine's addresses, but SIP
needs more than the socket: ``uri == myself`` must know every name the server answers to, and
the server must put *one* reachable address in its own Via. Kamailio, started without ``listen``,
walks the interfaces and listens on each address (and each becomes "myself"). sipsim keeps its
one wildcard socket and makes each local address an alias instead (simplification), and it asks
for ``--advertise`` to know which address goes into its Via.

The kernel lists the local addresses in ``/proc/net/fib_trie`` (IPv4: every ``/32 host LOCAL``
leaf) and ``/proc/net/if_inet6`` (IPv6: one address per line, 32 hex digits, the interface
last). Nothing is resolved and nothing is sent.

A link-local IPv6 address (``fe80::/10``) is only unique on one link, so ``bind()`` wants the
interface too — the *scope* (``sin6_scope_id``): ``--listen [fe80::1%eth0]:5060``.
:func:`listen_address` reads it and names the problem when it is missing or wrong, instead of the
kernel's bare "Invalid argument".
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def listen_address(host: str, port: int) -> tuple[IPAddress, int]:
    """``--listen``'s host -> (the address without its scope, the scope id for ``bind``; 0: none).

    ValueError carries the one-line reason: not an address (names are not resolved), a
    link-local address without its interface, a scope on an address that has none, an unknown
    interface.
    """
    text = host.strip("[]")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"bad listen address {host!r}: give an IPv4 or IPv6 address (names are not resolved)") \
            from None
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip, 0
    scope = ip.scope_id
    bare = ipaddress.IPv6Address(text.partition("%")[0])
    where = f"[{text}]:{port}"
    if scope is None:
        if bare.is_link_local:
            devs = link_local_devices(bare) or ["eth0"]
            raise ValueError(f"cannot listen on {where}: a link-local address needs a scope, the interface it "
                             f"is on: --listen '[{bare}%{devs[0]}]:{port}'")
        return bare, 0
    if not bare.is_link_local:
        raise ValueError(f"cannot listen on {where}: a scope (%{scope}) belongs only to a link-local address "
                         "(fe80::/10); leave it out")
    try:
        index = int(scope) if (scope.isascii() and scope.isdigit()) else socket.if_nametoindex(scope)
        socket.if_indextoname(index)
    except (OSError, OverflowError):
        raise ValueError(f"cannot listen on {where}: this machine has no interface {scope!r} (see `ip link`)") \
            from None
    return bare, index


def link_local_devices(ip: ipaddress.IPv6Address, if_inet6: str = "/proc/net/if_inet6") -> list[str]:
    """The interfaces that hold the link-local address ``ip`` (for the hint of :func:`listen_address`)."""
    want = f"{int(ip):032x}"
    try:
        with open(if_inet6) as f:
            return [fields[-1] for fields in (line.split() for line in f) if len(fields) >= 6 and fields[0] == want]
    except OSError:
        return []


def is_link_local(host: str) -> bool:
    """Is this IPv6 text in fe80::/10 (a destination that needs a scope to be sent to)?"""
    return host[:3].lower() in ("fe8", "fe9", "fea", "feb") and ":" in host


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
    """The ``alias`` values that make every local address of one family mean "this server" on
    ``port``: ``127.0.0.1:5060``, ``[2001:db8::1]:5060`` (an IPv6 reference, as Kamailio writes
    an IPv6 alias with a port)."""
    if version == 4:
        return tuple(f"{ip}:{port}" for ip in local_ipv4())
    return tuple(f"[{ip}]:{port}" for ip in local_ipv6())


LOOPBACK_NAME = "localhost"


def loopback_aliases(host: str, port: int) -> tuple[str, ...]:
    """``localhost:PORT`` when the server listens on 127.0.0.1, ::1 or the wildcard, else nothing.

    Kamailio, with ``auto_aliases`` on (its default), asks the resolver for the name of each
    address it listens on and makes that name an alias with the socket's port
    (``fix_socket_list()`` in ``src/core/socket_info.c``); for 127.0.0.1 the answer comes from
    ``/etc/hosts``, without DNS: ``localhost``. So ``REGISTER sip:localhost`` is "myself" there.
    sipsim asks nobody (simplification): it adds the one name RFC 6761 (§6.3) reserves for the
    loopback, for the two addresses that name — and for the wildcard, which receives on them too.
    Other names a resolver might return (a host name on 127.0.1.1, a reverse DNS name) are not
    added: give them with ``--alias``.
    """
    try:
        ip = ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return ()
    if ip.is_unspecified or ip in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")):
        return (f"{LOOPBACK_NAME}:{port}",)
    return ()


def advertise_needed(where: str) -> str:
    """Why a server on the wildcard (``where``: the option and address as the user gave them)
    cannot start without ``--advertise``: one line, said alike by ``serve`` and ``tui --live``."""
    return (f"{where} receives on every address of this machine, but the server must name one in its own Via: "
            "add --advertise ADDRESS (the address the phones use), or listen on that address")


def listen_slug(listen: tuple[str, int]) -> str:
    """``127.0.0.1-5060``, ``__1-5060``: a listen address as part of a file name (the default
    control socket's and location table's, so that each server has its own)."""
    return f"{listen[0].strip('[]').replace(':', '_')}-{listen[1]}"
