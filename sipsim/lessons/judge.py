"""Comparing an answer with what the simulation did, whatever way the learner wrote it.

A predicate reports an :class:`Observation`: a value, its *kind* and a sentence. The kind says how
answers are read, so "1", "w1" and "worker 1" all mean ``W1``; "Via, From" and "HDR_VIA1_F
HDR_FROM_F" name the same header flags; "yes"/"true" are the same boolean; numbers may have a
tolerance. A question with choices first turns the answer into a choice — by its text, its value,
or its number on screen (1-based) — and compares the choice's value.
"""

from __future__ import annotations

import re
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
        m = re.search(r"-?\d+(?:\.\d+)?", str(value).replace(",", "").replace("_", ""))
        return float(m.group()) if m else None
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


def same(answer: Any, observed: Observation, tolerance: float = 0.0) -> bool:
    a, b = normalise(answer, observed.kind), normalise(observed.value, observed.kind)
    if a is None or b is None:
        return False
    if observed.kind == "number":
        return abs(a - b) <= tolerance + 1e-9
    return a == b


def resolve_choice(answer: str, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice an answer names: its text, its value, or its 1-based number on screen ("2" or "#2";
    only "#2" when the choices are themselves numbers)."""
    a = " ".join(str(answer).split()).casefold()
    for c in choices:
        if a in (" ".join(c.text.split()).casefold(), " ".join(c.value.split()).casefold()):
            return c
    worker = re.fullmatch(r"(?:w|worker)\s*(\d+)", a)  # "worker 1", "w 1" name the choice W1
    if worker:
        for c in choices:
            if any(re.fullmatch(rf"w\s*0*{int(worker.group(1))}", x.strip().casefold()) for x in (c.text, c.value)):
                return c
    numeric = any(c.text.strip().isdigit() for c in choices)  # then only "#2" means the second choice
    m = re.fullmatch(r"#\s*(\d+)" if numeric else r"#?\s*(\d+)", a)
    if m and 1 <= int(m.group(1)) <= len(choices):
        return choices[int(m.group(1)) - 1]
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
