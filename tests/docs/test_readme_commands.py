"""README.md against the real command line, so the first page a user reads cannot drift from it.

Every ``sipsim ...`` the README shows — in its code blocks and in inline code — is read back:
each subcommand and option must exist in the argparse parser, a list of values (``fifo|lifo``)
must be exactly the option's choices, and a command with no placeholder must parse as written
and name a scenario, lesson, template or file that exists. The paths the README names must exist,
its lesson table must match the lessons, and the offline example commands (trace, check, craft,
simulate, the headless lesson check ...) must run and succeed. ``test_the_checker_finds_*`` feeds
the checker wrong text, to show these tests can fail.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from pathlib import Path

import pytest

from sipsim.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_.:=-]*")  # FILE, N, IP:PORT, ID=VALUE ...
VALUE_LIST = re.compile(r"[a-z0-9-]+(\|[a-z0-9-]+)+")  # fifo|wake-all|reuseport|lifo
RUNNABLE = {"trace", "check", "craft", "simulate", "lessons", "lesson"}  # offline, a second or less


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


def snippets(text: str) -> list[tuple[str, bool]]:
    """(snippet, from a code block) for every piece of README text that may hold a command."""
    out: list[tuple[str, bool]] = []
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if line.startswith("    ") and not line.lstrip().startswith("|"):
            code = re.sub(r"\s#\s.*$", "", line).strip()  # the comment after a command
            if out and out[-1][1] and code.startswith("["):  # a synopsis continued on the next line
                out[-1] = (out[-1][0] + " " + code, True)
            else:
                out.append((code, True))
        else:
            out += [(span, False) for span in re.findall(r"`([^`]+)`", line)]
    return out


def commands(text: str) -> list[tuple[list[str], bool]]:
    """Each ``sipsim ...`` as its tokens after ``sipsim``; a snippet may hold several."""
    found: list[tuple[list[str], bool]] = []
    for snippet, block in snippets(text):
        current: list[str] | None = None
        for tok in snippet.split():
            if tok == "sipsim":
                current = []
                found.append((current, block))
            elif current is not None and tok != "|":
                current.append(tok)
    return found


def is_placeholder(tok: str) -> bool:
    return any(c in tok for c in "[]|…") or "..." in tok or bool(PLACEHOLDER.fullmatch(tok))


def command_problems(tokens: list[str], block: bool, parsers: dict[str, argparse.ArgumentParser]) -> list[str]:
    shown = "sipsim " + " ".join(tokens)
    name = tokens[0] if tokens and tokens[0] in parsers else ""
    if tokens and not name and not tokens[0].startswith(("-", "[")) and not is_placeholder(tokens[0]):
        return [f"{shown}: no subcommand {tokens[0]!r}"]
    p = parsers[name]
    options = {s: a for a in p._actions for s in a.option_strings}
    problems = []
    words = [t.strip("[]") for t in tokens]
    for i, word in enumerate(words):
        opt = word.split("=", 1)[0]
        if not re.fullmatch(r"--?[A-Za-z][\w-]*", opt):
            continue
        action = options.get(opt)
        if action is None:
            problems.append(f"{shown}: sipsim {name} has no option {opt}")
            continue
        value = words[i + 1] if i + 1 < len(words) else ""
        if action.choices and VALUE_LIST.fullmatch(value) and set(value.split("|")) != set(action.choices):
            problems.append(f"{shown}: {opt} {value} but its choices are {'|'.join(action.choices)}")
        elif action.choices and value and not is_placeholder(value) and not value.startswith("-") \
                and value not in action.choices:
            problems.append(f"{shown}: {opt} {value} is not one of {'|'.join(action.choices)}")
    if block and not any(is_placeholder(t) for t in tokens):
        problems += concrete_problems(tokens, shown, p)
    return problems


def concrete_problems(tokens: list[str], shown: str, parser: argparse.ArgumentParser) -> list[str]:
    """A command shown with real values: it must parse, and what it names must exist."""
    from sipsim.engine.scenario import list_scenarios
    from sipsim.lessons import LessonError, find_lesson
    from sipsim.packets.templates import template_names

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = build_parser().parse_args(tokens)
    except SystemExit:
        return [f"{shown}: does not parse: {err.getvalue().strip().splitlines()[-1]}"]
    cmd = args.command
    if cmd in ("tui", "simulate") and args.scenario:
        if args.scenario not in dict(list_scenarios()) and not (ROOT / args.scenario).is_file():
            return [f"{shown}: no scenario {args.scenario!r}"]
    if cmd == "lesson":
        try:
            find_lesson(args.lesson)
        except LessonError as exc:
            return [f"{shown}: {exc}"]
    if cmd in ("craft", "send") and args.template:
        if args.template not in dict(template_names()) and not (ROOT / args.template).is_file():
            return [f"{shown}: no template or file {args.template!r}"]
    if cmd in ("trace", "check") and args.path and not (ROOT / args.path).exists():
        return [f"{shown}: no file {args.path}"]
    del parser
    return []


def path_problems(text: str) -> list[str]:
    """Repository paths anywhere in the text (a word whose first part is a top-level entry of the
    repository); the file tree of "How it is built", whose entries are relative to their folder."""
    top = {p.name for p in ROOT.iterdir()} - {".venv"}
    names = {n.rstrip(".") for n in re.findall(r"[\w.\-/]+", text)}  # links, code, comments alike
    problems = [f"README names {n}, which does not exist" for n in sorted(names)
                if "/" in n and n.split("/")[0] in top and not (ROOT / n).exists()]
    base = None
    for line in text.splitlines():
        head = re.match(r"    (sipsim/[\w/]+/)(\s|$)", line)
        if head:
            base = head.group(1)
        elif base and line.startswith("      "):
            for tok in line.split():
                tok = tok.strip(";:,")
                if re.fullmatch(r"[\w]+(\.py|/)", tok) and not (ROOT / base / tok).exists():
                    problems.append(f"README's file tree names {base}{tok}, which does not exist")
        elif not line.startswith("    "):
            base = None
    return problems


def readme_problems(text: str) -> list[str]:
    parsers = subparsers()
    problems = [p for tokens, block in commands(text) for p in command_problems(tokens, block, parsers)]
    return problems + path_problems(text)


def test_every_command_option_and_path_in_the_readme_exists():
    text = README.read_text(encoding="utf-8")
    shown = commands(text)
    # the README shows every subcommand at least once
    assert set(subparsers()) - {""} <= {t[0] for t, _ in shown if t}, "a subcommand is missing from README.md"
    assert readme_problems(text) == []


def test_the_readme_lesson_table_is_the_course():
    from sipsim.lessons import list_lessons

    lessons, errors = list_lessons()
    assert not errors
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", README.read_text(encoding="utf-8"), re.M)
    assert [(int(n), title) for n, title in rows] == [(lesson.number, lesson.title) for lesson in lessons]


def test_the_readme_names_every_key_of_the_tui():
    """A key added to the app (or dropped from the README) shows here; `1`–`8` stand for the panels."""
    from sipsim.tui.app import SipsimApp

    text = README.read_text(encoding="utf-8")
    keys = {b.key_display or b.key for b in SipsimApp.BINDINGS if not b.key.isdigit()}
    assert keys and sorted(k for k in keys if f"`{k}`" not in text and f"`{k.upper()}`" not in text) == []
    assert "`1`–`8`" in text


def test_the_readme_offline_examples_run_and_succeed(tmp_path, monkeypatch, capsys):
    """The commands a reader copies first: trace, check, craft, simulate, lessons and the headless
    lesson check (whose answers must still be right) — run as written, from the repository."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # progress goes to a scratch folder
    ran = []
    for tokens, block in commands(README.read_text(encoding="utf-8")):
        if not block or not tokens or tokens[0] not in RUNNABLE or any(is_placeholder(t) for t in tokens):
            continue
        if tokens[0] == "lesson" and ({"--check", "--text", "--answer"}.isdisjoint(tokens) or "--live" in tokens):
            continue  # the TUI, or a real server: not here
        status = main(list(tokens))
        out = capsys.readouterr()
        assert status == 0, f"sipsim {' '.join(tokens)} exited {status}:\n{out.out[-2000:]}\n{out.err[-2000:]}"
        ran.append(tokens[0])
    assert {"trace", "check", "lesson", "lessons", "simulate"} <= set(ran)


@pytest.mark.parametrize("bad, expected", [
    ("    sipsim serve --listn 127.0.0.1:5060\n", "has no option --listn"),
    ("    sipsim simulate [--policy fifo|lifo]\n", "its choices are"),
    ("    sipsim tui reorderr\n", "no scenario 'reorderr'"),
    ("    sipsim lesson 99 --check\n", "99"),
    ("    sipsim trace tests/data/nowhere.dat\n", "no file"),
    ("Run `sipsim stat --json` to see.\n", "no subcommand 'stat'"),
    ("See `tests/engine/test_nothing_here.py`.\n", "does not exist"),
    ("    sipsim/engine/\n      no_such_module.py   the tree\n", "sipsim/engine/no_such_module.py"),
])
def test_the_checker_finds_wrong_text(bad, expected):
    problems = readme_problems(bad)
    assert any(expected in p for p in problems), problems
