"""The routing engine: Kamailio cfg scripts and KEMI Python scripts, one action at a time.

    from sipsim.routing import load_route
    router = load_route("sipsim/routing/scripts/default.cfg", config)   # or a KEMI script.py
    ctx = WorkerContext(config=router.config, router=router)

``load_route(path, config)`` returns a ``Router`` (see ``sipsim.engine.context``): a
:class:`~sipsim.routing.router.CfgRouter` for a ``.cfg`` file, a
:class:`~sipsim.routing.kemi.KemiRouter` for a ``.py`` file. A broken script raises
:class:`~sipsim.routing.errors.RouteError` whose text is ``file:line:column: message``.

The preprocessor defines seen by a cfg script (``#!ifdef``):

* ``SIPSIM`` always, and Kamailio's version defines ``KAMAILIO_5``, ``KAMAILIO_5_6``,
  ``KAMAILIO_5_6_3``;
* ``SIPSIM_SER`` in the ``ser`` profile (``default.cfg`` then calls sipsim's ``rfc_checks()``
  instead of ``sanity_check()``; real Kamailio never defines it);
* ``SIPSIM_NO_RELAY`` when the server does not relay for foreign domains (``ServerConfig.relay``
  false, as ``sipsim serve`` without ``--relay``): ``default.cfg`` then answers 403;
* every ``ServerConfig.defines`` entry (``NAME`` or ``NAME=value``), as Kamailio's ``-A``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sipsim.engine.config import Profile, ServerConfig
from sipsim.routing.errors import CfgError, KemiError, RouteError

SCRIPTS = Path(__file__).parent / "scripts"
DEFAULT_CFG = SCRIPTS / "default.cfg"
KAMAILIO_VERSION_DEFINES = ("KAMAILIO_5", "KAMAILIO_5_6", "KAMAILIO_5_6_3")

__all__ = ["DEFAULT_CFG", "CfgError", "KemiError", "RouteError", "default_router", "defines_for", "load_route",
           "parse_cfg"]

_CACHE: dict[tuple[Any, ...], Any] = {}


def defines_for(config: ServerConfig) -> dict[str, str]:
    """The preprocessor defines a script sees under ``config`` (see the module docstring)."""
    out = {"SIPSIM": ""}
    for name in KAMAILIO_VERSION_DEFINES:
        out[name] = ""
    if config.profile is Profile.SER:
        out["SIPSIM_SER"] = ""
    if not config.relay:
        out["SIPSIM_NO_RELAY"] = ""
    for d in config.defines:
        name, _, value = d.partition("=")
        out[name.strip()] = value.strip()
    return out


def parse_cfg(path: str | Path, defines: dict[str, str]) -> Any:
    """Lex and parse a cfg file into a Script (cached by file identity and defines)."""
    from sipsim.routing import modules  # noqa: F401 - registers the functions
    from sipsim.routing.lexer import Lexer, script_lines
    from sipsim.routing.parser import Parser
    from sipsim.routing.tree import Script

    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise CfgError(f"cannot read the script: {exc.strerror or exc}", str(path), 0, 0) from None
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size, tuple(sorted(defines.items())))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    tokens = Lexer(defines).lex_file(p)
    script = Parser(tokens, Script(file=str(path), lines=script_lines(p))).parse()
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = script
    return script


def load_route(path: str | Path, config: ServerConfig) -> Any:
    """Load a routing script for a server with ``config``: a cfg file or a KEMI ``.py`` file."""
    p = Path(path)
    if p.suffix == ".py":
        from sipsim.routing.kemi import KemiRouter

        return KemiRouter.load(p, config)
    from sipsim.routing.aliases import alias_warnings
    from sipsim.routing.router import CfgRouter

    defines = defines_for(config)
    script = parse_cfg(p, defines)
    script.warnings.extend(alias_warnings(p, script, defines))  # a bad unquoted alias= is a CfgError
    return CfgRouter(script, config, defines=tuple(sorted(defines)))


def default_router(config: ServerConfig) -> Any:
    """The shipped ``default.cfg`` as a Router for ``config`` (what a server runs without --route)."""
    return load_route(DEFAULT_CFG, config)
