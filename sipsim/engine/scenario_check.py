"""Checks for the values of a scenario file: one clear message per mistake, never a traceback.

A scenario is written by hand (by a teacher, a student, a lesson author), so every value is
checked for its type *and* its meaning before the simulator sees it: a number must be a finite
number (TOML accepts ``nan`` and ``inf``, which would put a datagram at a time that never comes,
or stop the ordering of the simulator's agenda from meaning anything), a list must be a list (a
string would otherwise be read one character at a time), a table must be a table.
The scenario's modules (``scenario_load.py``, ``scenario_model.py``) and ``peers.py`` (the peers'
options) use these.
"""

from __future__ import annotations

import math
from typing import Any

from sipsim.engine.config import max_udp_payload
from sipsim.engine.events import Addr

# setsockopt(SO_RCVBUF) takes a C int
INT_MAX = 2**31 - 1


class ScenarioError(ValueError):
    """A scenario that cannot be used, with a message for people."""


def number(v: Any, what: str, *, minimum: float | None = 0.0, integer: bool = False) -> Any:
    """A finite number (an integer if asked) not below ``minimum``."""
    ok = isinstance(v, int) if integer else isinstance(v, int | float)
    if isinstance(v, bool) or not ok:
        raise ScenarioError(f"{what}: expected {'an integer' if integer else 'a number'}, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ScenarioError(f"{what}: expected a finite number, got {v!r}")
    if minimum is not None and v < minimum:
        raise ScenarioError(f"{what}: must be at least {minimum:g}, got {v!r}")
    return v


def string(v: Any, what: str) -> str:
    if not isinstance(v, str):
        raise ScenarioError(f"{what}: expected a string, got {v!r}")
    return v


def boolean(v: Any, what: str) -> bool:
    if not isinstance(v, bool):
        raise ScenarioError(f"{what}: expected true or false, got {v!r}")
    return v


def array(v: Any, what: str) -> list[Any]:
    """A TOML array (``[...]``): a string or a number is refused, not iterated."""
    if not isinstance(v, list):
        raise ScenarioError(f"{what}: expected a list [...], got {v!r}")
    return v


def table(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ScenarioError(f"{what}: expected a table, got {v!r}")
    return v


def tables(v: Any, what: str) -> list[dict[str, Any]]:
    """An array of tables (``[[what]]`` sections)."""
    items = array(v, what)
    for i, t in enumerate(items):
        if not isinstance(t, dict):
            raise ScenarioError(f"{what}[{i}]: expected a table (write it as a [[{what}]] section), got {t!r}")
    return items


def check_keys(t: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                            f"(allowed: {', '.join(sorted(allowed))})")


def parse_addr(text: Any, what: str, default_port: int = 5060, *, port_zero: bool = False) -> Addr:
    """``ip:port``, ``[v6]:port`` or ``host`` → (host, port); ScenarioError otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ScenarioError(f"{what}: expected an address like \"127.0.0.1:5060\", got {text!r}")
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_s = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_s = text.partition(":")
    else:
        host, port_s = text, ""
    if port_s and not port_s.isdigit():
        raise ScenarioError(f"{what}: bad port in {text!r}")
    port = int(port_s) if port_s else default_port
    if not host or not (0 if port_zero else 1) <= port < 65536:
        raise ScenarioError(f"{what}: bad address {text!r}")
    return host, port


def check_datagram_size(data: bytes, src: Addr, what: str) -> None:
    """A UDP datagram cannot carry more than 65,507 bytes over IPv4 (65,527 over IPv6; see
    ``config.py``): ``sendto`` refuses a bigger one with EMSGSIZE, so no such datagram can reach
    the proxy."""
    limit = max_udp_payload(src[0])
    if len(data) > limit:
        raise ScenarioError(f"{what}: a datagram of {len(data):,} bytes cannot be sent over UDP "
                            f"(at most {limit:,} bytes of payload over IPv{6 if ':' in src[0] else 4})")
