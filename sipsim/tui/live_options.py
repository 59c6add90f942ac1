"""The ``sipsim serve`` options a live TUI hands on to the server it starts (``sipsim tui --live``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerOptions:
    """What ``sipsim tui --live`` hands on to every server it starts, as ``sipsim serve`` options.

    The defaults are serve's: send to loopback only, the listen address in the Via, no alias, no
    relaying for foreign domains (403). A lab server that phones on a network talk to needs
    ``allow_dest`` (their network); one on the wildcard (0.0.0.0, ::) needs ``advertise`` (the
    address the phones use: serve refuses to start without it)."""

    allow_dest: tuple[str, ...] = ()
    advertise: str | None = None
    aliases: tuple[str, ...] = ()
    relay: bool = False

    def args(self) -> list[str]:
        out: list[str] = []
        for net in self.allow_dest:
            out += ["--allow-dest", net]
        if self.advertise:
            out += ["--advertise", self.advertise]
        for alias in self.aliases:
            out += ["--alias", alias]
        if self.relay:
            out.append("--relay")
        return out


SERVE_DEFAULTS = ServerOptions()
