"""Helpers shared by subcommands: address parsing and the server-configuration options."""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

from sipsim.engine.events import Addr


class UsageError(Exception):
    """A bad command line: printed as one line, exit status 2."""


# One rule for every command that loads files: 2 is the command line's fault (an unknown option, a
# bad value, a datagram or scenario that is missing or is no file), 1 is the world's (a routing script that
# is missing or does not load, a port that is taken, a missing folder). Said in each --help epilog.
EXIT_STATUS = textwrap.fill(
    "Exit status: 0 done; 1 a routing script (--route, or check's FILE) that is missing or does not load, or "
    "what the machine refuses (a port in use, a folder that does not exist or cannot be written); 2 a usage "
    "error (a bad option or value, an input named on the command line that is missing, empty or no regular "
    "file: trace's FILE, simulate's SCENARIO).", 96)

# RFC 3261 §25.1 hostname: labels of letters, digits and '-' (not at either end), the last one
# starting with a letter; '_' is taken as Kamailio's parser takes it.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")


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
    if ":" in host:
        # an IPv6 address in its shortest, lower-case form, as Kamailio prints a socket's address
        # (in its Via and in sl's tags): [0:0:0:0:0:0:0:1] is ::1
        try:
            host = ipaddress.ip_address(host).compressed
        except ValueError:
            pass
    return host, port


def _refuse_port_lookalike(text: str) -> None:
    """``::1:5070`` is a valid IPv6 address (port 5060), but what the user meant is almost surely
    ``[::1]:5070``. An unbracketed text that is an IPv6 address plus ``:PORT`` (a 4- or 5-digit
    decimal number of 1024 or more) is refused — as ambiguous when the whole is an address too —
    with the bracketed spellings. ``2001:db8::8080`` passes (``2001:db8:`` is no address)."""
    head, _, last = text.rpartition(":")
    if not ((last.isascii() and last.isdigit()) and 4 <= len(last) <= 5 and 1024 <= int(last) < 65536):
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


def sip_host_error(text: str, what: str = "--advertise") -> str | None:
    """Why ``text`` is no SIP host (RFC 3261 §25.1: hostname, IPv4address or IPv6reference), as
    one line, or None. A bare IPv6 address is taken too (it is bracketed in the Via). There is no
    port: the Via carries the listening port, and sipsim has no advertise-with-port."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"{what} {text!r}: no IPv6 address inside the brackets"
        host = host[1:-1]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if ip.is_unspecified:
            return f"{what} {text!r}: the wildcard is no address a peer can send to; name the one they use"
        return None
    labels = host.rstrip(".").split(".")
    if host and _HOSTNAME.fullmatch(host) and not all(label.isdigit() for label in labels) \
            and not labels[-1][0].isdigit():
        return None
    if re.fullmatch(r"[^:\[\]]+:\d+|\[[^\]]*\]:\d+", host):
        return (f"{what} {text!r}: give the name or address alone, without a port (the Via carries the "
                "port the proxy listens on)")
    return (f"{what} {text!r}: not a SIP host — give a host name (letters, digits, '-' and dots), an IPv4 "
            "address or an IPv6 address")


def ip_literal(addr: Addr, what: str) -> Addr:
    """``addr`` with an IP address as its host, or UsageError: a datagram comes from an address,
    never from a name (a name would end up in Via's received=)."""
    try:
        ipaddress.ip_address(addr[0].strip("[]"))
    except ValueError:
        raise UsageError(f"{what} {addr[0]!r}: give an IPv4 or IPv6 address and a port (names are not "
                         "resolved), e.g. 192.0.2.10:5070 or [2001:db8::10]:5070") from None
    return addr


def shown(text: str) -> str:
    """Engine text for a terminal. The engine keeps message bytes as latin-1 text (one character
    per octet, so the bytes on the wire never change); SIP and cfg text are UTF-8, so a run of such
    characters that is valid UTF-8 is shown decoded (``cafÃ©`` -> ``café``). Any other text —
    sipsim's own ``§`` or ``µs``, a lone latin-1 octet — is left as it is."""
    if text.isascii():
        return text
    return _HIGH_RUN.sub(_as_utf8, text)


def readable_event(event: dict) -> dict:
    """An event's sentences (``text``, ``reason``) in --json as people read them: the engine keeps
    message bytes as latin-1 text, so a UTF-8 header value quoted there read ``cafÃ©``; it reads
    ``café``, as on a terminal (:func:`shown`). ``detail`` keeps the engine's values."""
    for key in ("text", "reason"):
        value = event.get(key)
        if isinstance(value, str) and not value.isascii():
            event[key] = shown(value)
    return event


def shown_bytes(data: bytes) -> str:
    """Octets of a datagram for a terminal: UTF-8, an undecodable octet shown as U+FFFD."""
    return data.decode("utf-8", errors="replace")


_HIGH_RUN = re.compile("[\x80-\xff]+")


def _as_utf8(m: re.Match[str]) -> str:
    try:
        return m.group().encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return m.group()


# What a terminal would act on rather than show: C0 controls but TAB (CR and LF break the line, ESC
# starts a control sequence), DEL, C1 controls (U+009B is CSI on its own), the Unicode line and
# paragraph separators and the bidirectional overrides and isolates (text shown in another order
# than it is), and the surrogates that stand for undecodable bytes of a file name.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                              "\udc80-\udcff]")


def terminal(text: str) -> str:
    """``text`` safe to print on a terminal, one line: every character a terminal would act on
    (see ``_TERMINAL_UNSAFE``) written as an escape — ``\\x0d`` for CR, ``\\x0a`` for LF,
    ``\\x1b`` for ESC, ``\\u202e`` for a bidi override, ``\\xNN`` for an undecodable byte of a
    file name. A routing script's reason text, a captured datagram or a file name may hold any of
    them: printed raw they would break the line or drive the terminal. (--json needs none of
    this: JSON escapes control characters itself.)"""
    return _TERMINAL_UNSAFE.sub(_terminal_escape, text)


def _terminal_escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was no UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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


def file_kind(path: Path) -> str:
    """What a path that is no regular file (nor a folder) is, in words."""
    if path.is_char_device():
        return "a character device"
    if path.is_fifo():
        return "a named pipe; for a pipe give - and redirect stdin"
    if path.is_socket():
        return "a socket"
    if path.is_block_device():
        return "a block device"
    return "not a file nor a folder"


def input_file_error(path: str, option: str) -> str | None:
    """Why an input file named on the command line cannot be read, or None -- a usage error (2),
    as the exit status of every command says: missing, no regular file, or empty."""
    p = Path(path)
    if not p.exists():
        return f"{option} {path}: no such file"
    if p.is_dir():
        return f"{option} {path}: is a folder; give a capture file"
    if not p.is_file():
        return f"{option} {path}: not a regular file ({file_kind(p)})"
    if p.stat().st_size == 0:
        return f"{option} {path}: empty file"
    return None


def missing_folder(path: str | None, option: str) -> str | None:
    """A file a command creates (serve's --db, --control, --observe; simulate's --save-pcap) in a
    folder that does not exist: said before anything starts, as for --pcap, rather than the
    folders made in silence (a typo in the path would otherwise leave a tree of folders and a
    database nobody looks for). The default paths (under $XDG_STATE_HOME, $XDG_RUNTIME_DIR) are
    still created."""
    import os

    if not path:
        return None
    if os.path.isdir(path):
        return f"{option} {path}: is a folder; give a file name"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"{option} {path}: no such folder {folder}"
    return None
