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
    for _name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"sipsim.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sipsim.cli.{module}":
                raise
            continue  # subcommand not built yet
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
