"""The ``sipsim`` command line: one small module per subcommand.

Each module in this package exposes ``register(subparsers)`` (argument definitions only, cheap to
import) and ``run(args) -> int``. Heavy imports (Scapy, Textual) happen inside ``run`` so that
``sipsim --help`` starts fast. ``sipsim`` with no subcommand opens the TUI on the built-in scenario.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> module under sipsim.cli; the order is the order of ``sipsim --help``.
COMMANDS: dict[str, str] = {
    "tui": "tui",
    "trace": "trace",
    "simulate": "simulate",
    "serve": "serve",
    "stats": "stats",
    "location": "location",
    "check": "check",
    "send": "send",
    "craft": "craft",
    "lessons": "lessons",
    "lesson": "lesson",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sipsim",
        description="A SIP server you can watch think: Kamailio's receive path, step by step.",
        epilog="Without a COMMAND, sipsim opens the TUI on the built-in scenario (basic-call); ctrl+q quits. "
               "`sipsim COMMAND --help` describes a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(f"sipsim.cli.{module}").register(sub)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line; an option the command does not know is refused with *that command's*
    usage line (argparse alone reports it against ``sipsim [-h] COMMAND``, which tells the user nothing
    about the options ``sipsim trace`` does take)."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = getattr(args, "command", None)
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        owner = sub.choices[command] if sub is not None and command in sub.choices else parser
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _parse(parser, argv)
    if args.command is None:
        # No subcommand: the TUI on the built-in scenario, or (until the TUI exists) a trace of
        # the built-in call flow.
        try:
            mod = importlib.import_module("sipsim.cli.tui")
        except ModuleNotFoundError:
            mod = importlib.import_module("sipsim.cli.trace")
            return mod.run_builtin_demo()
        return mod.run(parser.parse_args(["tui"]))
    mod = importlib.import_module(f"sipsim.cli.{COMMANDS[args.command]}")
    try:
        return int(mod.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `sipsim trace ... | head`: the reader went away; that is not an error of ours.
        sys.stderr.close()
        return 0
