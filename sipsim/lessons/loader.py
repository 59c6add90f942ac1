"""Reading lessons: Markdown files with TOML front matter, found in the ``lessons/`` folder.

A lesson file (``lessons/01-sleeping-in-recvfrom.md``) is TOML between two ``+++`` lines, then
Markdown. The front matter says which scenario runs, where the lesson stops (anchors), what it
asks (questions) and what it verifies (checks); the Markdown says what the learner reads at each
anchor, one ``## Title {#anchor-id}`` section per anchor. ``lessons/README.md`` is the format's
reference for teachers. TOML is read with the standard library's ``tomllib`` — no new dependency.

Where the lessons are: ``$SIPSIM_LESSONS`` if set (a teacher's own folder), else the ``lessons/``
folder beside the ``sipsim`` package — that is the repository in a source checkout and in the
editable install ``make`` does — else ``<prefix>/share/sipsim/lessons`` (where a wheel that ships
them as data files would install them), else ``./lessons``.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from sipsim.lessons.model import (
    AnchorSpec,
    CheckSpec,
    Choice,
    Judged,
    Lesson,
    LessonError,
    QuestionSpec,
    Section,
)

LESSON_FILE = re.compile(r"^(\d{1,3})-[a-z0-9][a-z0-9-]*\.md$")
SECTION = re.compile(r"^##\s+(?P<title>.*?)\s*\{#(?P<id>[A-Za-z0-9_-]+)\}\s*$")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

_TOP = {"number", "title", "summary", "scenario", "overrides", "hints", "module", "files", "anchors", "questions",
        "checks", "live"}
LIVE_KINDS = ("wake-order",)
_OVERRIDES = {"workers", "policy", "rate", "count", "rcvbuf", "seed", "profile", "cpus", "route", "start_order"}
MSG_FILTERS = {"msg", "method", "status", "label", "peer", "src"}
EVENT_FILTERS = {"worker", "outcome", "reply", "callback", "line", "action", "text"}
_ANCHOR = {"id", "step", "kernel", "nth", "after", "source", "hint"} | MSG_FILTERS | EVENT_FILTERS
_QUESTION = {"id", "at", "reveal", "prompt", "choices", "answer", "check", "args", "variant", "hints", "explain",
             "tolerance"}
_CHECK = {"id", "says", "check", "args", "variant", "expect", "tolerance", "at_least", "at_most"}


def lessons_dir() -> Path:
    """The folder the lessons are read from (see the module docstring)."""
    env = os.environ.get("SIPSIM_LESSONS")
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve().parent  # sipsim/lessons
    repo = here.parent.parent / "lessons"
    if repo.is_dir():
        return repo
    shared = Path(sys.prefix) / "share" / "sipsim" / "lessons"  # where a wheel's data-files would put them
    if shared.is_dir():
        return shared
    return Path.cwd() / "lessons"


def lesson_paths(folder: Path | None = None) -> list[Path]:
    """Lesson files (``NN-name.md``) in number order."""
    folder = folder or lessons_dir()
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and LESSON_FILE.match(p.name)]
    return sorted(found, key=lambda p: (int(LESSON_FILE.match(p.name).group(1)), p.name))  # type: ignore[union-attr]


def list_lessons(folder: Path | None = None) -> tuple[list[Lesson], list[str]]:
    """Every lesson that loads, and one message per file that does not (a list never crashes)."""
    lessons, errors = [], []
    for path in lesson_paths(folder):
        try:
            lessons.append(load_lesson_file(path))
        except LessonError as exc:
            errors.append(str(exc))
    return lessons, errors


def find_lesson(ref: str | int, folder: Path | None = None) -> Lesson:
    """A lesson by number (``3``), file name or stem (``03-the-receive-buffer``), or path."""
    text = str(ref).strip()
    p = Path(text)
    if text.endswith(".md") and p.is_file():
        return load_lesson_file(p)
    paths = lesson_paths(folder)
    for path in paths:
        num = int(LESSON_FILE.match(path.name).group(1))  # type: ignore[union-attr]
        if (text.isdigit() and int(text) == num) or text in (path.name, path.stem):
            return load_lesson_file(path)
    where = folder or lessons_dir()
    if not paths:
        raise LessonError(f"no lessons found in {where} (set SIPSIM_LESSONS to the lessons folder)")
    numbers = ", ".join(str(int(LESSON_FILE.match(p.name).group(1))) for p in paths)  # type: ignore[union-attr]
    raise LessonError(f"no lesson {text!r} in {where} (lessons: {numbers})")


# -- one file -------------------------------------------------------------------------------------
def split_front_matter(text: str, name: str) -> tuple[str, str]:
    """(TOML front matter, Markdown body) of a lesson file."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "+++":
        raise LessonError(f"{name}: a lesson starts with a line '+++', then TOML front matter, then '+++'")
    for i in range(1, len(lines)):
        if lines[i].strip() == "+++":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:])
    raise LessonError(f"{name}: the front matter has no closing '+++' line")


def load_lesson_file(path: Path) -> Lesson:
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError(f"{name}: cannot read the lesson: {exc}") from None
    front, body = split_front_matter(text, name)
    try:
        doc = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{name}: front matter TOML error: {exc}") from None
    return build_lesson(doc, body, path)


def _keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise LessonError(f"{where}: expected a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise LessonError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                          f"(allowed: {', '.join(sorted(allowed))})")
    return table


def _str(v: Any, where: str, *, required: bool = True) -> str:
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise LessonError(f"{where}: expected a non-empty string, got {v!r}")
    return v.strip()


def _id(v: Any, where: str) -> str:
    s = _str(v, where)
    if not ID.match(s):
        raise LessonError(f"{where}: {s!r} is not a usable id (letters, digits, - and _)")
    return s


def _strings(v: Any, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v.strip(),)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise LessonError(f"{where}: expected a list of strings")
    return tuple(x.strip() for x in v)


def _number(v: Any, where: str, default: float = 0.0) -> float:
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise LessonError(f"{where}: expected a non-negative number, got {v!r}")
    return float(v)


def _judged(t: dict[str, Any], where: str) -> Judged:
    from sipsim.lessons.predicates import check_arguments, known_predicate

    name = _str(t.get("check"), f"{where}.check")
    args = t.get("args", {})
    variant = t.get("variant", {})
    if not isinstance(args, dict):
        raise LessonError(f"{where}.args: expected a table")
    if not isinstance(variant, dict):
        raise LessonError(f"{where}.variant: expected a table of scenario overrides")
    _keys(variant, _OVERRIDES, f"{where}.variant")
    if not known_predicate(name):
        from sipsim.lessons.predicates import predicate_names

        raise LessonError(f"{where}.check: no predicate named {name!r} (known: {', '.join(predicate_names())})")
    try:
        check_arguments(name, args)
    except LessonError as exc:
        raise LessonError(f"{where}: {exc}") from None
    return Judged(name, dict(args), dict(variant))


def _anchor(t: Any, where: str) -> AnchorSpec:
    t = _keys(t, _ANCHOR, where)
    aid = _id(t.get("id"), f"{where}.id")
    step, kernel = t.get("step"), t.get("kernel")
    if (step is None) == (kernel is None):
        raise LessonError(f"{where} ({aid}): give exactly one of step = \"parse_msg\" (a pipeline step) "
                          f"or kernel = \"worker_sleeps\" (a kernel event)")
    nth = t.get("nth", 1)
    if isinstance(nth, bool) or not isinstance(nth, int) or nth < 1:
        raise LessonError(f"{where} ({aid}).nth: expected a positive integer, got {nth!r}")
    if kernel is not None:
        from sipsim.engine import events

        kinds = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str) and "_" in v
                 and k not in ("FORWARDED", "REPLIED", "DROPPED")}
        if kernel not in kinds:
            raise LessonError(f"{where} ({aid}).kernel: {kernel!r} is not a kernel event "
                              f"(one of {', '.join(sorted(kinds))})")
    return AnchorSpec(
        id=aid,
        step=_str(step, f"{where}.step") if step is not None else None,
        kernel=kernel,
        msg={k: t[k] for k in MSG_FILTERS if k in t},
        fields={k: t[k] for k in EVENT_FILTERS if k in t},
        nth=nth,
        after=_id(t["after"], f"{where}.after") if "after" in t else None,
        source=_str(t.get("source"), f"{where}.source", required=False),
        hint=_str(t.get("hint"), f"{where}.hint", required=False),
    )


def _choices(v: Any, where: str) -> tuple[Choice, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or len(v) < 2:
        raise LessonError(f"{where}: expected a list of at least two choices")
    out = []
    for i, c in enumerate(v):
        if isinstance(c, str):
            out.append(Choice(c.strip(), c.strip()))
        elif isinstance(c, dict):
            c = _keys(c, {"text", "value"}, f"{where}[{i}]")
            text = _str(c.get("text"), f"{where}[{i}].text")
            out.append(Choice(text, str(c.get("value", text)).strip()))
        else:
            raise LessonError(f"{where}[{i}]: a choice is a string or {{ text = \"...\", value = \"...\" }}")
    return tuple(out)


def _question(t: Any, where: str) -> QuestionSpec:
    t = _keys(t, _QUESTION, where)
    qid = _id(t.get("id"), f"{where}.id")
    where = f"{where} ({qid})"
    choices = _choices(t.get("choices"), f"{where}.choices")
    answer = t.get("answer")
    if isinstance(answer, bool | int | float):
        answer = str(answer).lower() if isinstance(answer, bool) else str(answer)
    answer = _str(answer, f"{where}.answer")
    if choices and not any(answer.casefold() in (c.text.casefold(), c.value.casefold()) for c in choices):
        raise LessonError(f"{where}.answer: {answer!r} is none of the choices")
    return QuestionSpec(
        id=qid, at=_id(t.get("at"), f"{where}.at"), prompt=_str(t.get("prompt"), f"{where}.prompt"),
        judged=_judged(t, where), answer=answer, choices=choices,
        reveal=_id(t["reveal"], f"{where}.reveal") if "reveal" in t else None,
        hints=_strings(t.get("hints"), f"{where}.hints"), explain=_str(t.get("explain"), f"{where}.explain",
                                                                     required=False),
        tolerance=_number(t.get("tolerance"), f"{where}.tolerance"),
    )


def _check(t: Any, where: str) -> CheckSpec:
    t = _keys(t, _CHECK, where)
    cid = _id(t.get("id"), f"{where}.id")
    where = f"{where} ({cid})"
    bounds = {k: _number(t[k], f"{where}.{k}") for k in ("at_least", "at_most") if k in t}
    if bounds and "expect" in t:
        raise LessonError(f"{where}: give expect, or at_least/at_most, not both")
    return CheckSpec(id=cid, says=_str(t.get("says"), f"{where}.says"), judged=_judged(t, where),
                     expect=t.get("expect", True), tolerance=_number(t.get("tolerance"), f"{where}.tolerance"),
                     **bounds)


def parse_sections(body: str, name: str) -> tuple[str, tuple[Section, ...]]:
    """(introduction, sections) of the Markdown body. A ``## `` heading must carry ``{#anchor}``."""
    intro: list[str] = []
    sections: list[tuple[str, str, list[str]]] = []
    in_code = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("## "):
            m = SECTION.match(line)
            if not m:
                raise LessonError(f"{name}: heading {line.strip()!r} names no anchor: write '## Title {{#anchor-id}}' "
                                  f"(use ### for a sub-heading)")
            sections.append((m.group("id"), m.group("title"), []))
            continue
        if sections:
            sections[-1][2].append(line)
        elif not (line.startswith("# ") and not any(x.strip() for x in intro)):  # the title: front matter has it
            intro.append(line)
    seen = set()
    out = []
    for sid, title, lines in sections:
        if sid in seen:
            raise LessonError(f"{name}: two sections for anchor {sid!r}")
        seen.add(sid)
        out.append(Section(sid, title, "\n".join(lines).strip()))
    return "\n".join(intro).strip(), tuple(out)


def _relative(base: Path, ref: str) -> Path:
    p = Path(ref).expanduser()
    return p if p.is_absolute() else base / p


def build_lesson(doc: dict[str, Any], body: str, path: Path) -> Lesson:
    name = path.name
    _keys(doc, _TOP, name)
    number = doc.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise LessonError(f"{name}: number: expected a positive integer, got {number!r}")
    m = LESSON_FILE.match(name)
    if m and int(m.group(1)) != number:
        raise LessonError(f"{name}: the file name says lesson {int(m.group(1))}, the front matter says {number}")
    base = path.parent
    scenario = _str(doc.get("scenario"), f"{name}: scenario")
    if scenario.endswith(".toml"):
        sc_path = _relative(base, scenario)
        if not sc_path.is_file():
            raise LessonError(f"{name}: scenario file {scenario!r} not found beside the lesson")
        scenario = str(sc_path)
    overrides = dict(_keys(doc.get("overrides", {}), _OVERRIDES, f"{name}: overrides"))
    if "route" in overrides:
        overrides["route"] = str(_relative(base, _str(overrides["route"], f"{name}: overrides.route")))
    module = None
    if "module" in doc:
        module = _relative(base, _str(doc["module"], f"{name}: module"))
        if not module.is_file():
            raise LessonError(f"{name}: module {doc['module']!r} not found beside the lesson")
    files = {}
    files_t = doc.get("files", {})
    if not isinstance(files_t, dict):
        raise LessonError(f"{name}: files: expected a table of name = \"file beside the lesson\"")
    for key, ref in files_t.items():
        files[key] = _relative(base, _str(ref, f"{name}: files.{key}"))
        if not files[key].is_file():
            raise LessonError(f"{name}: files.{key}: {ref!r} not found beside the lesson")
    live = _str(doc.get("live"), f"{name}: live", required=False)
    if live and live not in LIVE_KINDS:
        raise LessonError(f"{name}: live: {live!r} is not a live comparison sipsim knows ({', '.join(LIVE_KINDS)})")
    if module is not None:
        from sipsim.lessons.predicates import load_module

        load_module(module)  # registers its predicates before the checks are validated
    anchors = tuple(_anchor(t, f"{name}: anchors[{i}]") for i, t in enumerate(doc.get("anchors", [])))
    questions = tuple(_question(t, f"{name}: questions[{i}]") for i, t in enumerate(doc.get("questions", [])))
    checks = tuple(_check(t, f"{name}: checks[{i}]") for i, t in enumerate(doc.get("checks", [])))
    intro, sections = parse_sections(body, name)

    anchor_ids = [a.id for a in anchors]
    dup = {x for x in anchor_ids if anchor_ids.count(x) > 1}
    if dup:
        raise LessonError(f"{name}: anchor ids used twice: {', '.join(sorted(dup))}")
    known = set(anchor_ids)
    for a in anchors:
        if a.after is not None and a.after not in known:
            raise LessonError(f"{name}: anchor {a.id!r} is after {a.after!r}, which is no anchor")
        if a.after is not None and anchor_ids.index(a.after) >= anchor_ids.index(a.id):
            raise LessonError(f"{name}: anchor {a.id!r} must come after the anchor it follows ({a.after!r})")
    for q in questions:
        for ref in (q.at, q.reveal):
            if ref is not None and ref not in known:
                raise LessonError(f"{name}: question {q.id!r} refers to {ref!r}, which is no anchor")
    for s in sections:
        if s.anchor not in known:
            raise LessonError(f"{name}: section '{s.title}' is for {s.anchor!r}, which is no anchor")
    ids = [q.id for q in questions] + [c.id for c in checks]
    dup = {x for x in ids if ids.count(x) > 1}
    if dup:
        raise LessonError(f"{name}: question/check ids used twice: {', '.join(sorted(dup))}")
    return Lesson(
        number=number, title=_str(doc.get("title"), f"{name}: title"), path=path, scenario=scenario,
        summary=_str(doc.get("summary"), f"{name}: summary", required=False), overrides=overrides, intro=intro,
        anchors=anchors, sections=sections, questions=questions, checks=checks,
        hints=_strings(doc.get("hints"), f"{name}: hints"), module=module, files=files, live=live,
    )
