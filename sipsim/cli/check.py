"""`sipsim check FILE.cfg|FILE.py`: load a routing script without running it, as `kamailio -c`.

A cfg script is preprocessed, parsed and every function call and pseudo-variable resolved; a KEMI
script is compiled, loaded and checked for ksr_request_route. The first error is printed as
file:line:column: message (expected ...) with the offending line, and the exit status is 1.
Without --profile a cfg script is checked in both profiles (#!ifdef SIPSIM_SER branches).
Examples: sipsim/routing/scripts/; how sipsim differs from Kamailio: sipsim/routing/KAMAILIO_DIFFERENCES.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from sipsim.cli.common import fail

if TYPE_CHECKING:
    from sipsim.routing.lexer import Token


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check a routing script (.cfg or KEMI .py) without running it, like kamailio -c",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", metavar="FILE", help="a Kamailio cfg script or a KEMI Python script")
    p.add_argument("--profile", choices=("ser", "kamailio"),
                   help="check for one profile only (default: both, for a cfg script)")
    p.add_argument("-A", "--define", action="append", default=[], metavar="NAME[=VALUE]",
                   help="a preprocessor define, as kamailio -A (repeatable)")
    p.add_argument("--no-relay", action="store_true", help="check as a server that does not relay (SIPSIM_NO_RELAY)")


def _show_error(exc: Exception, suffix: str = "") -> str:
    from sipsim.routing.errors import CfgError, KemiError

    text = str(exc) + suffix
    if isinstance(exc, (CfgError, KemiError)) and getattr(exc, "line", None):
        try:
            with open(exc.file, encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
        except OSError:
            return text
        line = exc.line
        if 0 < line <= len(lines):
            src = lines[line - 1].replace("\t", "    ")
            text += f"\n  {line:5} | {src}"
            col = getattr(exc, "column", 0)
            if col:
                raw = lines[line - 1][: col - 1]
                pad = len(raw.replace("\t", "    "))
                text += f"\n        | {' ' * pad}^"
    return text


def run(args: argparse.Namespace) -> int:
    from sipsim.engine.config import Profile, ServerConfig
    from sipsim.routing import load_route
    from sipsim.routing.errors import RouteError

    profiles = [Profile(args.profile)] if args.profile else [Profile.SER, Profile.KAMAILIO]
    if args.path.endswith(".py"):
        profiles = profiles[:1]
    summary = ""
    warned: dict[str, list[str]] = {}  # warning -> the profiles that gave it, in order
    for profile in profiles:
        config = ServerConfig(profile=profile, defines=tuple(args.define), relay=not args.no_relay)
        try:
            router = load_route(args.path, config)
            alias_notes = alias_warnings(args.path, router, config)
        except RouteError as exc:
            where = f" [profile {profile.value}]" if len(profiles) > 1 else ""
            return fail(_show_error(exc, where), 1)
        except OSError as exc:
            return fail(f"{args.path}: {exc.strerror or exc}", 1)
        summary = _summary(router)
        for w in [*getattr(getattr(router, "script", None), "warnings", []), *alias_notes]:
            warned.setdefault(str(w), []).append(profile.value)
    for w, given_by in warned.items():
        # the same script checked twice gives most warnings twice: say each once, and name the
        # profile only when the other one did not give it (an #!ifdef SIPSIM_SER branch)
        where = f" [profile {given_by[0]}]" if len(given_by) < len(profiles) else ""
        print(f"warning: {w}{where}", file=sys.stderr)
    print(f"{args.path}: ok — {summary}")
    return 0


def alias_warnings(path: str, router: object, config: object) -> list[str]:
    """Refuse an ``alias=`` value that Kamailio's cfg grammar refuses (``kamailio -c``: "parse
    error in config file ..., line L, column C: port number expected"), with its place in the
    file; return a warning for a quoted value that cannot be read.

    The values checked are the ones the router folded into its config, read by
    :func:`sipsim.engine.forward.split_alias` as ``uri == myself`` reads them; a bad one would
    otherwise name nothing, in silence. The parser keeps a global's value but not where it was
    written, so the place is found again in the script's tokens (includes and ``#!ifdef``
    branches as the parser saw them). Kamailio takes a quoted alias as one literal name and never
    refuses it: such a value that cannot be read is a warning (it names no URI host), not an
    error. Simplification: split_alias also refuses port 0 and ports above 65535, which Kamailio
    5.6 lets through.
    """
    from sipsim.engine.forward import split_alias
    from sipsim.routing import defines_for
    from sipsim.routing.errors import CfgError
    from sipsim.routing.lexer import Lexer

    script = getattr(router, "script", None)
    warnings = []
    for value in (str(v) for v in getattr(script, "globals", {}).get("alias", [])):
        try:
            split_alias(value)
        except ValueError as exc:
            where = _alias_token(Lexer(defines_for(config)).lex_file(path), value)  # type: ignore[arg-type]
            if where is None:
                raise CfgError(str(exc), path, 0, 0) from None
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


def _summary(router: object) -> str:
    from sipsim.routing.kemi import KemiRouter

    if isinstance(router, KemiRouter):
        parts = ["KEMI script: ksr_request_route"]
        if router.reply_fn is not None:
            parts.append("ksr_reply_route")
        return ", ".join(parts)
    script = router.script  # type: ignore[attr-defined]
    blocks = ["request_route"]
    if script.onreply is not None:
        blocks.append("onreply_route")
    blocks += [f"route[{n}]" for n in script.routes]
    mods = ", ".join(script.modules) or "none"
    return f"{script.count_actions()} actions in {', '.join(blocks)}; modules: {mods}"
