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

from sipsim.lessons.judge import unreadable
from sipsim.lessons.model import (
    PLACEHOLDERS,
    AnchorSpec,
    CheckSpec,
    Choice,
    Judged,
    Lesson,
    LessonError,
    QuestionSpec,
    Section,
    did_you_mean,
)

LESSON_FILE = re.compile(r"^(\d{1,3})-[a-z0-9][a-z0-9-]*\.md$")
SECTION = re.compile(r"^##\s+(?P<title>.*?)\s*\{#(?P<id>[A-Za-z0-9_-]+)\}\s*$")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

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


def misnamed(folder: Path | None = None) -> list[str]:
    """Why each Markdown file of the folder that looks meant as a lesson is not read as one
    (``14-Register.md``, ``14_register.md``, ``lesson14.md``): a silent skip would leave a
    teacher looking for their lesson in the list."""
    folder = folder or lessons_dir()
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() != ".md" or LESSON_FILE.match(p.name) or p.stem.upper() == "README":
            continue
        digits = re.search(r"\d+", p.stem)
        if digits is None:
            continue
        rest = re.sub(r"[^a-z0-9]+", "-", p.stem[digits.end():].lower()).strip("-") or "name"
        out.append(f"{p.name}: not read as a lesson — a lesson file is named NN-short-name.md (its number, a "
                   f"dash, then lower-case letters, digits and dashes): {digits.group()}-{rest}.md, say")
    return out


def list_lessons(folder: Path | None = None) -> tuple[list[Lesson], list[str]]:
    """Every lesson that loads, and one message per file that does not (a list never crashes)."""
    lessons: list[Lesson] = []
    errors = misnamed(folder)
    for path in lesson_paths(folder):
        try:
            lesson = load_lesson_file(path)
        except LessonError as exc:
            errors.append(str(exc))
            continue
        twin = next((x for x in lessons if x.number == lesson.number), None)
        if twin is not None:  # progress is kept by number: two lessons 14 would share it
            errors.append(f"{path.name}: lesson {lesson.number} is already {twin.path.name}; give one of them "
                          f"another number (its file name and its front matter's number)")
            continue
        lessons.append(lesson)
    return lessons, errors


def find_lesson(ref: str | int, folder: Path | None = None) -> Lesson:
    """A lesson by number (``3``), file name or stem (``03-the-receive-buffer``), or path."""
    text = str(ref).strip()
    p = Path(text)
    if text.endswith(".md") and p.is_file():
        return load_lesson_file(p)
    paths = lesson_paths(folder)
    found = [path for path in paths
             if ((text.isascii() and text.isdigit()) and int(text) == int(LESSON_FILE.match(path.name).group(1)))  # type: ignore[union-attr]
             or text in (path.name, path.stem)]
    if len(found) > 1:
        raise LessonError(f"two lessons are numbered {text}: {', '.join(p.name for p in found)}; give one of them "
                          f"another number (progress is kept by number), or open one by its file name")
    if found:
        return load_lesson_file(found[0])
    where = folder or lessons_dir()
    skipped = "".join(f"; {m}" for m in misnamed(where))
    if not paths:
        raise LessonError(f"no lessons found in {where} (set SIPSIM_LESSONS to the lessons folder){skipped}")
    numbers = ", ".join(str(int(LESSON_FILE.match(p.name).group(1))) for p in paths)  # type: ignore[union-attr]
    raise LessonError(f"no lesson {text!r} in {where} (lessons: {numbers}){skipped}")


def in_course(lesson: Lesson) -> bool:
    """Whether ``lesson`` is the course's lesson of its number (``sipsim lesson N`` opens this very
    file). A teacher's draft opened by its path is not: its progress must not be saved under the
    number of a course lesson, and commands that name it must give its path."""
    try:
        return find_lesson(lesson.number).path.resolve() == lesson.path.resolve()
    except LessonError:
        return False


def command_ref(lesson: Lesson) -> str:
    """How a command names ``lesson``: its number in the course, else its file's path."""
    import shlex

    return str(lesson.number) if in_course(lesson) else shlex.quote(str(lesson.path))


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


def toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message with the line counted in the lesson file (the front matter starts on its
    second line), and the usual cause of the commonest one: an inline table cut over two lines."""
    text = re.sub(r"at line (\d+)", lambda m: f"at line {int(m.group(1)) + 1} of the file", str(exc))
    if "key part" in text or "Unclosed inline table" in text or "inline table" in text:
        text += " — an inline table { ... } must stay on one line in TOML; a list [ ... ] may span lines"
    return text


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
        raise LessonError(f"{name}: front matter TOML error: {toml_error(exc)}") from None
    return build_lesson(doc, body, path)


def _keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise LessonError(f"{where}: expected a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        close = "; ".join(f"{k!r}: {m}" for k in unknown if (m := did_you_mean(k, allowed)))
        top = sorted(set(unknown) & _TOP) if allowed is not _TOP else []
        moved = (f". In TOML every key after a [table] or [[table]] line belongs to that table: move "
                 f"{', '.join(top)} above the first one") if top else ""
        raise LessonError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                          f"({close + '; ' if close else ''}allowed: {', '.join(sorted(allowed))}){moved}")
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

        close = did_you_mean(name, predicate_names())
        raise LessonError(f"{where}.check: no predicate named {name!r} ({close + ' ' if close else ''}"
                          f"known: {', '.join(predicate_names())}; lessons/README.md lists what each reads)")
    try:
        check_arguments(name, args)
    except LessonError as exc:
        raise LessonError(f"{where}: {exc}") from None
    return Judged(name, dict(args), dict(variant))


_KIND_WORDS = {"worker": "a worker (W0, W1 …)", "workers": "a list of workers (W1 W0 …)", "number": "a number",
               "bool": "yes or no", "text": "a text", "flags": "header names", "seq": "a sequence (200, 180 …)"}


def _kind(check: str) -> str | None:
    from sipsim.lessons.predicates import predicate_kind

    return predicate_kind(check)


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
        by_place = answer.isascii() and answer.isdigit() and 0 < int(answer) <= len(choices)
        place = (f" (the reference answer is a choice's text or value, not its place: "
                 f"answer = {choices[int(answer) - 1].text!r})") if by_place and not any(
            c.value == answer for c in choices) else ""
        raise LessonError(f"{where}.answer: {answer!r} is none of the choices{place}")
    judged = _judged(t, where)
    kind = _kind(judged.check)
    if kind is not None:  # a reference answer the predicate can never report: the question can never pass
        right = next((c for c in choices if answer.casefold() in (c.text.casefold(), c.value.casefold())), None)
        said = right.value if right is not None else answer
        why = unreadable(said, kind)
        if why is not None:
            how = (f"the answer is the choice whose value is {said!r}: {why} (a choice {{ text = \"...\", "
                   f"value = \"...\" }} shows its text and is judged by its value)") if right is not None else why
            raise LessonError(f"{where}.answer: {judged.check} reports {_KIND_WORDS[kind]}, and {how}: "
                              f"this question could never be answered right")
    return QuestionSpec(
        id=qid, at=_id(t.get("at"), f"{where}.at"), prompt=_str(t.get("prompt"), f"{where}.prompt"),
        judged=judged, answer=answer, choices=choices,
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
    judged = _judged(t, where)
    kind = _kind(judged.check)
    if kind is not None and bounds and kind != "number":
        raise LessonError(f"{where}: at_least/at_most compare numbers, and {judged.check} reports "
                          f"{_KIND_WORDS[kind]}: write expect = ... instead")
    if kind is not None and not bounds and "expect" not in t and kind != "bool":
        raise LessonError(f"{where}: no expect — a check without one expects yes, and {judged.check} reports "
                          f"{_KIND_WORDS[kind]}: write expect = ... (what the simulation must show)"
                          + (" or at_least/at_most" if kind == "number" else ""))
    if kind is not None and "expect" in t:
        expect = t["expect"]
        why = None if isinstance(expect, str | int | float | bool | list) else f"{expect!r} is no value"
        if why is None and not (isinstance(expect, bool) and kind == "number"):
            why = unreadable(" ".join(map(str, expect)) if isinstance(expect, list) else str(expect), kind)
        if why is not None:
            raise LessonError(f"{where}.expect: {judged.check} reports {_KIND_WORDS[kind]}, and {why}: "
                              f"this check could never pass")
    return CheckSpec(id=cid, says=_str(t.get("says"), f"{where}.says"), judged=judged,
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
    for where, text in [("the introduction", "\n".join(intro))] + [(f"section {sid!r}", "\n".join(lines))
                                                                    for sid, _, lines in sections]:
        for m in PLACEHOLDER.finditer(text):
            if where == "the introduction":
                raise LessonError(f"{name}: {m.group(0)} in the introduction: it is shown before any event, so "
                                  f"there is nothing to fill it with (placeholders work in a section)")
            if m.group(1) not in PLACEHOLDERS:
                close = did_you_mean(m.group(1), PLACEHOLDERS)
                raise LessonError(f"{name}: {where}: {m.group(0)} is no placeholder ({close + ' ' if close else ''}"
                                  f"known: {', '.join('{{' + p + '}}' for p in PLACEHOLDERS)})")
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


def _close(word: str, known: set[str]) -> str:
    close = did_you_mean(word, known)
    return f" ({close})" if close else f" (anchors: {', '.join(sorted(known)) or 'none'})"


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
            raise LessonError(f"{name}: anchor {a.id!r} is after {a.after!r}, which is no anchor"
                              f"{_close(a.after, known)}")
        if a.after is not None and anchor_ids.index(a.after) >= anchor_ids.index(a.id):
            raise LessonError(f"{name}: anchor {a.id!r} must come after the anchor it follows ({a.after!r})")
    for q in questions:
        for ref in (q.at, q.reveal):
            if ref is not None and ref not in known:
                raise LessonError(f"{name}: question {q.id!r} refers to {ref!r}, which is no anchor"
                                  f"{_close(ref, known)}")
    for s in sections:
        if s.anchor not in known:
            raise LessonError(f"{name}: section '{s.title}' is for {s.anchor!r}, which is no anchor"
                              f"{_close(s.anchor, known)}")
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
