"""Comparing an answer with what the simulation did, whatever way the learner wrote it.

A predicate reports an :class:`Observation`: a value, its *kind* and a sentence. The kind says how
answers are read, so "1", "w1" and "worker 1" all mean ``W1``; "Via, From" and "HDR_VIA1_F
HDR_FROM_F" name the same header flags; "yes"/"true" are the same boolean; numbers may have a
tolerance. A question with choices first turns the answer into a choice — by its text, its value,
or its number on screen (1-based) — and compares the choice's value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sipsim.lessons.model import Choice

KINDS = ("worker", "workers", "number", "bool", "text", "flags", "seq")

_TRUE = {"yes", "y", "true", "t", "1", "oui", "ja"}
_FALSE = {"no", "n", "false", "f", "0", "non", "nein"}
_FLAG_ALIASES = {"via": "via1", "callid": "callid", "call-id": "callid", "i": "callid", "f": "from", "t": "to",
                 "v": "via1", "max-forwards": "maxforwards", "maxfwd": "maxforwards", "cl": "contentlength",
                 "content-length": "contentlength", "l": "contentlength", "eoh": "eoh", "all": "eoh"}


@dataclass(frozen=True)
class Observation:
    """What a predicate read in the simulation: ``value`` of ``kind``, said as ``says``."""

    value: Any
    kind: str
    says: str


def _flag(token: str) -> str:
    t = token.strip().lower()
    if t.startswith("hdr_"):
        t = t[4:]
    if t.endswith("_f"):
        t = t[:-2]
    t = _FLAG_ALIASES.get(t, t)
    return _FLAG_ALIASES.get(t.replace("_", "").replace("-", ""), t.replace("_", "").replace("-", ""))


def normalise(value: Any, kind: str) -> Any:
    """A comparable form of ``value`` read as ``kind`` (None when it cannot be read so)."""
    if value is None:
        return None
    if kind == "worker":
        m = re.search(r"\d+", str(value))
        return f"W{int(m.group())}" if m else None
    if kind == "workers":
        if isinstance(value, list | tuple):
            return tuple(f"W{int(v)}" if isinstance(v, int) else normalise(v, "worker") for v in value)
        return tuple(f"W{int(n)}" for n in re.findall(r"\d+", str(value)))
    if kind == "number":
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, int | float):
            return float(value)
        return read_number(str(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        t = str(value).strip().lower()
        return True if t in _TRUE else False if t in _FALSE else None
    if kind == "flags":
        items = value if isinstance(value, list | tuple | set | frozenset) else re.split(r"[\s,;+|]+", str(value))
        return frozenset(_flag(x) for x in items if str(x).strip())
    if kind == "seq":
        items = value if isinstance(value, list | tuple) else re.split(r"[\s,;>|→-]+", str(value))
        return tuple(str(x).strip().lower() for x in items if str(x).strip())
    return " ".join(str(value).split()).casefold()


# One number as people write it: "12", "-3", "+0.5", "12.5" or "12,5", "1,280" or "1_280" (thousands),
# "1e3"; not glued to a letter before it ("W1", "v2" are not numbers) nor after another digit.
_NUMBER = re.compile(r"(?<![\w.,])[-+]?(?:\d{1,3}(?:[,_]\d{3})+(?![\d,_])|\d+)(?:[.,]\d+)?(?:[eE][-+]?\d+)?"
                     r"(?![.,_]?\d)")


def read_number(text: str) -> float | None:
    """The one number in ``text`` ("403", "403 Forbidden", "about 12", "6.6 µs", "1,280"), or None
    when there is none ("abc", "twelve") or more than one ("200 or 403", "12-13"): a learner's
    answer to a number question must say one number, and a word is not one."""
    t = str(text).replace("\u2212", "-").replace("\u202f", "").replace("\u00a0", " ")
    found = list(_NUMBER.finditer(t))
    if len(found) != 1:
        return None
    digits = found[0].group()
    if re.fullmatch(r"[-+]?\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?(?:[eE][-+]?\d+)?", digits):
        digits = digits.replace(",", "").replace("_", "")  # thousands separators
    else:
        digits = digits.replace(",", ".")  # a decimal comma
    try:
        return float(digits)
    except ValueError:
        return None


_EXPECTED = {"number": ("a number", "one number in digits (12, 403 or 6.6)"),
             "worker": ("a worker", "W1, w1, worker 1 or just 1"),
             "bool": ("yes or no", "yes or no"),
             "workers": ("a list of workers", "workers, e.g. W1 W0 W2"),
             "flags": ("a list of header names", "header names, e.g. Via, From"),
             "seq": ("a sequence", "a sequence, e.g. 200, 180")}


def unreadable(answer: str, kind: str) -> str | None:
    """Why ``answer`` cannot be read as a ``kind`` at all (None when it can). A refused answer is
    not judged: "abc" for a number is a typing slip, not a wrong prediction."""
    what, how = _EXPECTED.get(kind, ("an answer", "your answer"))
    given = " ".join(str(answer).split())
    if not given:
        return f"the answer is empty: write {how}"
    value = normalise(given, kind)
    if value is None or (kind in ("workers", "flags", "seq") and not value):
        return f"{given!r} is not {what}: write {how}"
    return None


def numbered_choices(choices: tuple[Choice, ...]) -> bool:
    """Whether the choices are numbers themselves: then only "#2" names the second one."""
    return any(c.text.strip().isdigit() for c in choices)


def list_choices(choices: tuple[Choice, ...]) -> str:
    """The choices with the place a learner may type for each: "1 = W0; 2 = W1", or "#1 = 6; #2 = 12"
    when the choices are numbers themselves."""
    mark = "#" if numbered_choices(choices) else ""
    return "; ".join(f"{mark}{i} = {c.text}" for i, c in enumerate(choices, 1))


def choice_refusal(answer: str, choices: tuple[Choice, ...], write: Callable[[str], str] = repr) -> str:
    """What to say when ``answer`` names none of ``choices`` — with the exact answer to type.
    ``write`` spells an answer the way the learner gives it (the CLI: ``--answer ID=VALUE``)."""
    given = " ".join(str(answer).split())
    head = f"{given!r} is none of the choices ({list_choices(choices)})"
    if numbered_choices(choices):  # a bare number is an answer, not a place
        m = re.fullmatch(r"\d+", given)
        if m and 1 <= int(given) <= len(choices):
            c = choices[int(given) - 1]
            return (f"{head}. These choices are numbers themselves, so {given} is read as the answer {given}, "
                    f"not as the choice in place {given}: to pick that one ({c.text}) write {write('#' + given)} "
                    f"or {write(c.text)}")
        return (f"{head}: write the choice itself, e.g. {write(choices[0].text)}, or its place with #, "
                f"e.g. {write('#1')}")
    return (f"{head}: write a choice's text, e.g. {write(choices[0].text)}, or its place in the list "
            f"(1-{len(choices)}, or the TUI's letter a-{chr(96 + len(choices))}), e.g. {write('1')}")


def same(answer: Any, observed: Observation, tolerance: float = 0.0) -> bool:
    a, b = normalise(answer, observed.kind), normalise(observed.value, observed.kind)
    if a is None or b is None:
        return False
    if observed.kind == "number":
        return abs(a - b) <= tolerance + 1e-9
    return a == b


def resolve_choice(answer: str, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice an answer names: its text, its value, its 1-based number on screen ("2" or "#2";
    only "#2" when the choices are themselves numbers), or the letter the TUI shows ("b" or "b)")."""
    a = " ".join(str(answer).split()).casefold()
    for c in choices:
        if a in (" ".join(c.text.split()).casefold(), " ".join(c.value.split()).casefold()):
            return c
    worker = re.fullmatch(r"(?:w|worker)\s*(\d+)", a)  # "worker 1", "w 1" name the choice W1
    if worker:
        for c in choices:
            if any(re.fullmatch(rf"w\s*0*{int(worker.group(1))}", x.strip().casefold()) for x in (c.text, c.value)):
                return c
    m = re.fullmatch(r"#\s*(\d+)" if numbered_choices(choices) else r"#?\s*(\d+)", a)  # "#2": the 2nd
    if m and 1 <= int(m.group(1)) <= len(choices):
        return choices[int(m.group(1)) - 1]
    letter = re.fullmatch(r"([a-z])\)?", a)  # "b" or "b)": the TUI's letter for the 2nd
    if letter and ord(letter.group(1)) - 97 < len(choices):
        return choices[ord(letter.group(1)) - 97]
    return None


def choice_for(observed: Observation, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice that says what the simulation did (None when no choice does)."""
    for c in choices:
        if same(c.value, observed):
            return c
    return None


def show(value: Any, kind: str) -> str:
    """A value as a learner would write it."""
    if kind == "workers" and isinstance(value, list | tuple):
        return " ".join(f"W{v}" if isinstance(v, int) else str(v) for v in value)
    if kind == "bool" and isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if kind in ("flags", "seq") and isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)
