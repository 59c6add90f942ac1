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

from sipsim.cli.common import EXIT_STATUS, fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check a routing script (.cfg or KEMI .py) without running it, like kamailio -c",
                       description=__doc__, epilog=EXIT_STATUS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
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
            router = load_route(args.path, config)  # (refuses a bad alias= at its place, as kamailio -c)
        except RouteError as exc:
            where = f" [profile {profile.value}]" if len(profiles) > 1 else ""
            return fail(_show_error(exc, where), 1)
        except OSError as exc:
            return fail(f"{args.path}: {exc.strerror or exc}", 1)
        summary = _summary(router)
        for w in getattr(getattr(router, "script", None), "warnings", []):
            warned.setdefault(str(w), []).append(profile.value)
        for level, text in getattr(router, "load_log", ()):
            # a KEMI script's KSR.info() ... in mod_init: Kamailio logs these at start-up; they are
            # the script's own lines, not a complaint about it
            print(f"{args.path}: logged while loading [{level}]: {text.rstrip()}", file=sys.stderr)
    for w, given_by in warned.items():
        # the same script checked twice gives most warnings twice: say each once, and name the
        # profile only when the other one did not give it (an #!ifdef SIPSIM_SER branch)
        where = f" [profile {given_by[0]}]" if len(given_by) < len(profiles) else ""
        print(f"warning: {w}{where}", file=sys.stderr)
    print(f"{args.path}: ok — {summary}")
    return 0


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
