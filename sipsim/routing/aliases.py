"""A script's ``alias=`` values, read as Kamailio's cfg grammar reads them.

``uri == myself`` reads every alias with :func:`sipsim.engine.forward.split_alias`; one it cannot
read would name nothing, in silence. Kamailio refuses such a script at start-up (``kamailio -c``:
"parse error in config file ..., port number expected"), so :func:`load_route` refuses it too, at
the value's place in the file — for ``check``, ``serve --route``, ``trace --route`` and the TUI alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sipsim.engine.forward import split_alias
from sipsim.routing.errors import CfgError
from sipsim.routing.lexer import Lexer, Token


def alias_warnings(path: str | Path, script: Any, defines: dict[str, str]) -> list[str]:
    """Refuse an ``alias=`` value that Kamailio's cfg grammar refuses (``kamailio -c``: "parse
    error in config file ..., line L, column C: port number expected"), with its place in the
    file; return a warning for a quoted value that cannot be read.

    The values checked are the script's ``alias=`` globals, read by
    :func:`sipsim.engine.forward.split_alias` as ``uri == myself`` reads them; a bad one would
    otherwise name nothing, in silence. The parser keeps a global's value but not where it was
    written, so the place is found again in the script's tokens (includes and ``#!ifdef``
    branches as the parser saw them). Kamailio takes a quoted alias as one literal name and never
    refuses it: such a value that cannot be read is a warning (it names no URI host), not an
    error. Simplification: split_alias also refuses port 0 and ports above 65535, which Kamailio
    5.6 lets through.
    """
    warnings = []
    for value in (str(v) for v in getattr(script, "globals", {}).get("alias", [])):
        try:
            split_alias(value)
        except ValueError as exc:
            where = _alias_token(Lexer(dict(defines)).lex_file(Path(path)), value)
            if where is None:
                raise CfgError(str(exc), str(path), 0, 0) from None
            if where.kind == "STR":
                warnings.append(f"{where.file}:{where.line}: alias \"{value}\" names nothing: Kamailio reads a "
                                "quoted alias as one name, and sipsim cannot read it as host[:port]")
                continue
            raise CfgError(str(exc), where.file, where.line, where.col,
                           expected="alias=host, host:port or [v6]:port, with an optional proto:") from None
    return warnings


def _alias_token(tokens: list[Token], value: str) -> Token | None:
    """The first token of the ``alias = VALUE`` whose tokens read ``value``: a quoted string, or
    adjacent tokens that make one value (``udp:[::1]:5060``), as the cfg parser reads them."""
    for i, t in enumerate(tokens[:-2]):
        if not (t.is_id("alias") and tokens[i + 1].is_op("=")):
            continue
        parts = [tokens[i + 2]]
        for n in tokens[i + 3:] if parts[0].kind != "STR" else ():
            last = parts[-1]
            if n.kind == "EOF" or n.is_op(";") or n.line != last.end_line or n.col != last.end_col + 1:
                break
            parts.append(n)
        if "".join(p.value for p in parts) == value:
            return parts[0]
    return None
