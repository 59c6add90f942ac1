"""Helpers shared by subcommands: address parsing and the server-configuration options."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Iterable

from sipsim.engine.events import Addr


class UsageError(Exception):
    """A bad command line: printed as one line, exit status 2."""


def parse_hostport(text: str, default_port: int = 5060) -> Addr:
    """``1.2.3.4:5060``, ``[::1]:5060``, ``::1`` or ``host`` -> (host, port)."""
    text = text.strip()
    if not text:
        raise UsageError("empty address")
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise UsageError(f"bad address {text!r} (no closing ']'; expected [v6]:port)")
        if not rest:
            return host, default_port
        if not rest.startswith(":") or not rest[1:].isdigit():
            raise UsageError(f"bad address {text!r} (expected [v6]:port)")
        port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        if not p.isdigit():
            raise UsageError(f"bad port in {text!r}")
        port = int(p)
    else:
        host, port = text, default_port
        _refuse_port_lookalike(text)
    if not host:
        raise UsageError(f"bad address {text!r} (no host)")
    if not 0 < port < 65536:
        raise UsageError(f"bad address {text!r}: the port must be 1 to 65535")
    return host, port


def _refuse_port_lookalike(text: str) -> None:
    """``::1:5070`` is a valid IPv6 address (port 5060), but what the user meant is almost surely
    ``[::1]:5070``. An unbracketed text that is an IPv6 address plus ``:PORT`` (a 4- or 5-digit
    decimal number of 1024 or more) is refused — as ambiguous when the whole is an address too —
    with the bracketed spellings. ``2001:db8::8080`` passes (``2001:db8:`` is no address)."""
    head, _, last = text.rpartition(":")
    if not (last.isdigit() and 4 <= len(last) <= 5 and 1024 <= int(last) < 65536):
        return
    try:
        ipaddress.IPv6Address(head)
    except ValueError:
        return
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        raise UsageError(f"bad address {text!r}: an IPv6 address with a port takes brackets, [{head}]:{last}") from None
    raise UsageError(f"ambiguous address {text!r}: write [{head}]:{last} for port {last} on {head}, "
                     f"or [{text}] for the address {text}")


def add_server_options(p: argparse.ArgumentParser, *, listen_default: str | None = "127.0.0.1:5060",
                       listen_help: str | None = None) -> None:
    """The options that describe the proxy. ``listen_default`` None: the command decides (and
    says how in ``listen_help``)."""
    p.add_argument("--profile", choices=("ser", "kamailio"), default="ser",
                   help="which era of the receive path to model (default: ser, the seed document)")
    p.add_argument("--listen", default=listen_default, metavar="IP:PORT",
                   help=f"the proxy's own address ({listen_help or listen_default})")
    p.add_argument("--advertise", metavar="NAME", help="the name the proxy puts in its own Via (Kamailio's advertise)")
    p.add_argument("--alias", action="append", default=[], metavar="NAME",
                   help="another name that means this proxy: host, host:port or [v6]:port (as Kamailio's "
                        "alias=); repeatable")
    p.add_argument("--route", metavar="FILE", help="a routing script (.cfg or KEMI .py) instead of the default route")


def alias_error(aliases: Iterable[str], what: str = "--alias") -> str | None:
    """The first alias that Kamailio's ``alias=`` grammar would refuse, as one line, or None.

    Read by :func:`sipsim.engine.forward.split_alias`, the very reading ``uri == myself`` makes:
    an alias it cannot read would otherwise be skipped in silence and name nothing."""
    from sipsim.engine.forward import split_alias

    for alias in aliases:
        try:
            split_alias(alias)
        except ValueError as exc:
            return f"{what}: {exc}"
    return None


def fail(message: str, status: int = 2) -> int:
    print(f"sipsim: {message}", file=sys.stderr)
    return status


def no_terminal(instead: str) -> str | None:
    """Why the TUI cannot start here, or None: it needs stdin and stdout to be a terminal (on a
    pipe Textual spins at 100 % CPU and draws for no one). ``instead`` names the commands to use."""
    if all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout)):
        return None
    return f"the TUI needs a terminal (stdin and stdout); {instead}"
