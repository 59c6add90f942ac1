"""A fast ``dataclasses.replace`` for the snapshot's frozen, slotted dataclasses.

The fold builds a new :class:`~sipsim.engine.snapshot.Snapshot` (and usually a new worker and
message view) for every event, and a long capture is hundreds of thousands of events: there
``dataclasses.replace`` was most of the fold's cost, because it walks ``fields()``, builds a dict
of every value and then runs the generated frozen ``__init__``, which sets each field through
``object.__setattr__``.

:func:`replacer` returns, once per class, a function with the same meaning — a copy of ``obj``
with the named fields changed, ``TypeError`` for a name that is not a field — written for that
class: keyword-only parameters (one per field, an unchanged field keeps a sentinel default) and
the slots' own setters, which is what ``object.__setattr__`` ends up calling on a slotted class.
It only serves classes where this is the same thing as ``replace``: frozen, slotted, every field
an ``__init__`` field, no ``__post_init__`` (checked when it is made). It copies into that
class, so it is for instances of exactly that class (the snapshot's views have no subclasses).
The function is generated source, as ``dataclasses`` generates its own ``__init__``: a loop over
the fields costs about as much as what it saves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_UNCHANGED = object()  # "not given": no field value is this object


def replacer(cls: type[T]) -> Callable[..., T]:
    """``replacer(C)(obj, **changes)`` is ``dataclasses.replace(obj, **changes)`` for a ``C``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__: use dataclasses.replace")
    names = [f.name for f in dataclasses.fields(cls)]
    if any(n in ("obj", "new") or n.startswith("_") for n in names):
        raise TypeError(f"{cls.__name__} has a field whose name the generated code uses")
    if not all(f.init for f in dataclasses.fields(cls)):
        raise TypeError(f"{cls.__name__} has fields outside __init__: use dataclasses.replace")
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_U": _UNCHANGED}
    env.update({f"_set_{n}": getattr(cls, n).__set__ for n in names})
    lines = [f"def replace_{cls.__name__}(obj, /, *, {', '.join(f'{n}=_U' for n in names)}):",
             "    new = _new(_cls)"]
    lines += [f"    _set_{n}(new, obj.{n} if {n} is _U else {n})" for n in names]
    lines.append("    return new")
    exec("\n".join(lines), env)  # noqa: S102 - source built above from the class's own field names
    fn = env[f"replace_{cls.__name__}"]
    fn.__doc__ = f"dataclasses.replace for {cls.__name__} (see sipsim.engine.snapshot_replace)."
    return fn  # type: ignore[no-any-return]
