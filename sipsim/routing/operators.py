"""The cfg language's operators on values (Kamailio's ``eval_elem``/``rval`` conversions).

A value is what a pseudo-variable or a constant gives: an int, a str or ``None`` ($null). Numbers
and strings convert the way the cfg language converts them (``to_int``/``to_str``); ``==`` compares
as numbers when the left side is one, else as strings. Kept apart from the interpreter
(``interp.py``), which decides *when* expressions are evaluated; this module says what they give.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from sipsim.routing import pv
from sipsim.routing.regex import search


class EvalError(ValueError):
    """An expression that cannot be evaluated (a string where a number is needed, division by 0 ...)."""


def to_int(v: pv.Value) -> int:
    if v is None:
        return 0
    if isinstance(v, int):
        return v
    s = v.strip()
    try:
        return int(s, 10)
    except ValueError:
        raise EvalError(f"{v[:30]!r} is not a number") from None


def to_str(v: pv.Value) -> str:
    return "" if v is None else str(v)


def unop_value(op: str, v: pv.Value) -> pv.Value:
    """A unary operator applied to its evaluated operand."""
    if op == "!":
        return 0 if to_int(v) else 1
    if op == "defined" or op == "undefined":
        return int((v is not None) == (op == "defined"))
    if op == "-":
        return -to_int(v)
    if op == "~":
        return ~to_int(v)
    if op == "strlen":
        return len(to_str(v))
    if op == "strempty":
        return 1 if to_str(v) == "" else 0
    if op == "int":
        return to_int(v)
    if op == "str":
        return to_str(v)
    raise EvalError(f"unknown operator {op}")  # pragma: no cover


def _div(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("division by 0")
    return int(a / b)


# the operators on two numbers (both sides converted with to_int)
_INT_OPS: dict[str, Callable[[int, int], int]] = {
    "-": operator.sub, "*": operator.mul, "/": _div, "%": lambda a, b: a - _div(a, b) * b,
    "|": operator.or_, "&": operator.and_, "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift,
    ">": lambda a, b: int(a > b), "<": lambda a, b: int(a < b), ">=": lambda a, b: int(a >= b),
    "<=": lambda a, b: int(a <= b),
}


def binop_value(op: str, left: pv.Value, right: pv.Value) -> pv.Value:
    """A binary operator (not ``||``/``&&``, which may skip their right side) on evaluated sides."""
    if op == "==" or op == "!=":
        if isinstance(left, int) or (left is None and isinstance(right, int)):
            same = to_int(left) == to_int(right)
        else:
            same = to_str(left) == to_str(right)
        return int(same if op == "==" else not same)
    if op == "eq" or op == "ne":
        same = to_str(left) == to_str(right)
        return int(same if op == "eq" else not same)
    if op == "ieq" or op == "ine":
        same = to_int(left) == to_int(right)
        return int(same if op == "ieq" else not same)
    if op == "=~":
        return int(search(to_str(right), to_str(left)))
    if op == "+":
        if isinstance(left, str) or (left is None and isinstance(right, str)):
            return to_str(left) + to_str(right)
        return to_int(left) + to_int(right)
    a, b = to_int(left), to_int(right)
    fn = _INT_OPS.get(op)
    if fn is None:
        raise EvalError(f"unknown operator {op}")  # pragma: no cover
    return fn(a, b)
