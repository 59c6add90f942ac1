"""The registry of named predicates that questions and checks call from a lesson's front matter.

A predicate reads a finished run (:class:`~sipsim.lessons.view.RunView`) and reports an
:class:`~sipsim.lessons.judge.Observation` — what the simulation did, as a value a learner's answer
can be compared with, and a sentence saying it. A lesson names one::

    [[questions]]
    check = "taker"            # which worker took ...
    args = { msg = 5 }         # ... the 5th datagram

The built-in ones are in ``builtin.py`` (listed in ``lessons/README.md``). A lesson that needs its
own puts a small Python module beside itself (``module = "13-checks.py"`` in the front matter)::

    from sipsim.lessons.predicates import predicate
    from sipsim.lessons.judge import Observation

    @predicate("lesson13_header_value", kind="text")
    def header_value(view, msg, name):
        ...
        return Observation(value, "text", f"... says {value}")

Names are global: prefix a lesson module's predicates with the lesson (``lesson13_``).

``kind`` is the kind of value the predicate always reports (``worker``, ``workers``, ``number``,
``bool``, ``text``, ``flags``, ``seq``: see ``judge.py``). When it is given, the loader checks every
``expect``, choice and reference answer against it as the lesson loads — ``expect = "two"`` for a
number, or a check with no ``expect`` (which means yes) on a predicate that reads a worker, is
refused then, instead of being a check that can never pass. Leave it out when the kind depends on
the arguments (``peer_stat``).
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sipsim.lessons.judge import Observation
from sipsim.lessons.model import LessonError, did_you_mean

Predicate = Callable[..., Observation]

_REGISTRY: dict[str, Predicate] = {}
_ORIGIN: dict[str, str] = {}
_KIND: dict[str, str] = {}
_LOADED: dict[str, Any] = {}


def predicate(name: str, kind: str | None = None) -> Callable[[Predicate], Predicate]:
    """Register ``fn(view, **args) -> Observation`` under ``name``; ``kind``: what it always reports."""
    from sipsim.lessons.judge import KINDS

    if kind is not None and kind not in KINDS:
        raise LessonError(f"predicate {name!r}: kind {kind!r} is not one of {', '.join(KINDS)}")

    def deco(fn: Predicate) -> Predicate:
        origin = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
        if name in _REGISTRY and _ORIGIN[name] != origin:
            raise LessonError(f"predicate {name!r} is defined twice ({_ORIGIN[name]} and {origin})")
        _REGISTRY[name] = fn
        _ORIGIN[name] = origin
        if kind is not None:
            _KIND[name] = kind
        return fn

    return deco


def _ensure_builtins() -> None:
    if "taker" not in _REGISTRY:
        from sipsim.lessons import builtin  # noqa: F401 - registers on import


def known_predicate(name: str) -> bool:
    _ensure_builtins()
    return name in _REGISTRY


def predicate_kind(name: str) -> str | None:
    """The kind of value predicate ``name`` always reports (None: it depends, or it was not said)."""
    _ensure_builtins()
    return _KIND.get(name)


def predicate_names() -> list[str]:
    _ensure_builtins()
    return sorted(_REGISTRY)


def describe_predicates() -> list[tuple[str, str, str]]:
    """(name, arguments, first docstring line) of every predicate — for the README and ``--help``."""
    _ensure_builtins()
    out = []
    for name in sorted(_REGISTRY):
        fn = _REGISTRY[name]
        params = list(inspect.signature(fn).parameters.values())[1:]
        args = ", ".join(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
                         for p in params)
        doc = (inspect.getdoc(fn) or "").split("\n", 1)[0]
        out.append((name, args, doc))
    return out


def check_arguments(name: str, args: dict[str, Any]) -> None:
    """LessonError when ``args`` do not fit predicate ``name`` (caught when the lesson loads)."""
    _ensure_builtins()
    fn = _REGISTRY[name]
    try:
        inspect.signature(fn).bind(None, **args)
    except TypeError as exc:
        params = list(inspect.signature(fn).parameters)[1:]
        hint = ""
        for key in sorted(set(args) - set(params)):
            close = did_you_mean(key, params)
            hint += f"; {key!r}: {close}" if close else ""
        raise LessonError(f"predicate {name!r}: {exc} (its arguments: {', '.join(params) or 'none'}{hint})") from None


def evaluate(name: str, view: Any, args: dict[str, Any]) -> Observation:
    """Run predicate ``name`` on ``view``. A LessonError says what was wrong, for people."""
    _ensure_builtins()
    fn = _REGISTRY.get(name)
    if fn is None:
        raise LessonError(f"no predicate named {name!r}")
    result = fn(view, **args)
    if isinstance(result, Observation) and _KIND.get(name) not in (None, result.kind):
        raise LessonError(f"predicate {name!r} says it reports a {_KIND[name]} but reported a {result.kind}")
    if not isinstance(result, Observation):
        raise LessonError(f"predicate {name!r} returned {type(result).__name__}, not an Observation")
    return result


def load_module(path: Path) -> Any:
    """Import a lesson's own predicate module (once per file)."""
    key = str(Path(path).resolve())
    if key in _LOADED:
        return _LOADED[key]
    mod_name = "sipsim_lesson_" + "".join(ch if ch.isalnum() else "_" for ch in Path(path).stem)
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise LessonError(f"cannot load the lesson module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except LessonError:
        raise
    except Exception as exc:  # a teacher's module with a bug: say which and why
        sys.modules.pop(mod_name, None)
        raise LessonError(f"lesson module {Path(path).name} failed to load: {type(exc).__name__}: {exc}") from None
    _LOADED[key] = module
    return module
