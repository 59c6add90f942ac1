"""Addresses as the packet toolkit takes them: ``(ip, port)`` tuples parsed from ``HOST:PORT`` text.

Crafting writes addresses into IP headers and SIP headers, so they must be IP literals: sipsim
never resolves a name behind the user's back (and tests must never do a DNS lookup). IPv6 is
written in brackets wherever SIP or a ``HOST:PORT`` wants it (``[2001:db8::1]:5060``, RFC 3261 §19.1.1
and RFC 5118).
"""

from __future__ import annotations

import ipaddress

from sipsim.packets.errors import AddressError

SIP_PORT = 5060
Address = tuple[str, int]


def is_ipv6(host: str) -> bool:
    return ":" in host


def parse_ip(text: str) -> str:
    """The normalised text of an IPv4 or IPv6 literal (brackets allowed), or AddressError."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise AddressError(f"{text!r} is not an IPv4 or IPv6 address") from None


def parse_port(text: str | int, what: str = "port") -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise AddressError(f"bad {what} {text!r}: expected a number from 1 to 65535") from None
    if not 0 < port < 65536:
        raise AddressError(f"bad {what} {port}: expected a number from 1 to 65535")
    return port


def split_hostport(text: str, default_port: int | None = SIP_PORT) -> tuple[str, int]:
    """Split ``HOST:PORT`` / ``[V6]:PORT`` / ``HOST`` / ``V6`` without judging HOST (it may be a name)."""
    s = text.strip()
    if not s:
        raise AddressError("empty address: expected HOST:PORT, e.g. 127.0.0.1:5060 or [::1]:5060")
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise AddressError(f"bad address {text!r}: '[' without ']'")
        host, rest = s[1:end], s[end + 1:]
        if rest and not rest.startswith(":"):
            raise AddressError(f"bad address {text!r}: expected ':PORT' after ']'")
        port_text = rest[1:] if rest else None
    elif s.count(":") > 1:  # a bare IPv6 address: no port can follow it unambiguously
        host, port_text = s, None
    else:
        host, _, port_text = s.partition(":")
        if _ == ":" and not port_text:
            raise AddressError(f"bad address {text!r}: nothing after ':'")
        port_text = port_text or None
    if not host:
        raise AddressError(f"bad address {text!r}: no host")
    if port_text is None:
        if default_port is None:
            raise AddressError(f"bad address {text!r}: a port is required (HOST:PORT)")
        return host, default_port
    return host, parse_port(port_text)


def parse_address(text: str, default_port: int | None = SIP_PORT) -> Address:
    """``HOST:PORT`` with HOST an IP literal → ``(ip, port)``; AddressError with a readable message."""
    host, port = split_hostport(text, default_port)
    return parse_ip(host), port


def as_address(value: Address | str, *, wire: bool = False) -> Address:
    """Accept ``(ip, port)`` or ``"ip:port"`` and return a checked, normalised ``(ip, port)``.

    ``wire``: an address read off the wire (a capture, a simulated datagram), where port 0 is a
    legal value -- a sender's port 0 is how a forged datagram shows, and the server drops it."""
    if isinstance(value, str):
        return parse_address(value)
    try:
        host, port = value
    except (TypeError, ValueError):
        raise AddressError(f"bad address {value!r}: expected (ip, port)") from None
    if wire and port == 0:
        return parse_ip(str(host)), 0
    return parse_ip(str(host)), parse_port(port)


def hostport(addr: Address) -> str:
    """``1.2.3.4:5060`` / ``[2001:db8::1]:5060``: the form SIP headers and humans use."""
    host, port = addr
    return f"{uri_host(host)}:{port}"


def uri_host(host: str) -> str:
    """A host as it appears in a SIP URI or Via: IPv6 inside brackets."""
    return f"[{host}]" if is_ipv6(host) and not host.startswith("[") else host
