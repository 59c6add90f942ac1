"""The cfg language's operators on values (Kamailio's ``eval_elem``/``rval`` conversions).

A value is what a pseudo-variable or a constant gives: an int, a str or ``None`` ($null). Numbers
and strings convert the way the cfg language converts them (``to_int``/``to_str``); ``==`` compares
as numbers when the left side is one, else as strings. Kept apart from the interpreter
(``interp.py``), which decides *when* expressions are evaluated; this module says what they give.

Numbers are C ``int``s, 32 bits, as in Kamailio 5.6 (measured with 5.6.3): ``2147483647 + 1`` is
-2147483648, ``65536 * 65536`` is 0, a shift counts modulo 32 (``1 << 33`` is 2, as the x86 shift
instruction does) and ``>>`` keeps the sign. Division truncates toward 0.

Text becomes a number as ``rval_get_int`` makes it (:func:`str2int`). When it cannot —
``"7 "``, ``"1_0"``, ``"2147483648"`` — Kamailio logs a WARNING and goes on with **0**; so does
:func:`to_int`, and it appends the warning to the ``notes`` list its caller gives. The operators know
neither the message nor the worker: the interpreter passes the list of the message being run
(``Run.warnings``), so a warning can only ever be shown in the trace of the worker and the action that
converted the text — never in another worker's, which may run between two steps of this one.
"""

from __future__ import annotations

from collections.abc import Callable

from sipsim.engine.parser.lex import digits_value
from sipsim.routing import pv
from sipsim.routing.regex import search

INT_MIN = -(1 << 31)
INT_MAX = (1 << 31) - 1
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


class EvalError(ValueError):
    """An expression that cannot be evaluated (division by 0 ...)."""


def wrap32(n: int) -> int:
    """``n`` as a C ``int`` holds it: the low 32 bits, as a signed number."""
    if INT_MIN <= n <= INT_MAX:
        return n
    return ((n - INT_MIN) & 0xFFFFFFFF) + INT_MIN


def str2int(text: str) -> int | None:
    """Kamailio 5.6's automatic text-to-number conversion (``rval_get_int``); None when it fails.

    Measured on the 5.6.3 binary: an optional ``+``/``-`` and ASCII decimal digits, whose value must
    fit an ``int`` (``2147483648`` fails, ``-2147483648`` does not; leading zeros are decimal); or
    ``0x``/``0X`` and hexadecimal digits, without a sign, kept to their low 32 bits
    (``0xffffffff`` is -1, ``0x100000000`` is 0). Nothing else: no space before or after, no
    ``_``, no ``0b``/``0o``. The empty text and a lone sign give 0 without a warning.
    """
    if text[:2] in ("0x", "0X"):
        digits = text[2:]
        if not digits or not _HEX.issuperset(digits):
            return None
        return wrap32(int(digits, 16))
    sign = text[:1]
    digits = text[1:] if sign in ("+", "-") and sign else text
    if not digits:
        return 0
    if not _DIGITS.issuperset(digits):
        return None
    value = digits_value(digits)  # (None for thousands of digits: far past INT_MAX, and int() refuses them)
    if value is None:
        return None
    n = value
    if sign == "-":
        n = -n
    return n if INT_MIN <= n <= INT_MAX else None


def conversion_warning(text: str) -> str:
    """Kamailio 5.6's WARNING for a text that is no number, in sipsim's words."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    return (f"automatic string to int conversion for {shown!r} failed: 0 is used instead "
            "(Kamailio 5.6 logs this WARNING and goes on with 0 too)")


def to_int(v: pv.Value, notes: list[str] | None = None) -> int:
    """``v`` as a number; a text that is none is 0 and a warning in ``notes`` (None: nobody listens)."""
    if type(v) is int:
        return v
    if v is None:
        return 0
    n = str2int(v)  # type: ignore[arg-type]
    if n is None:
        if notes is not None:
            notes.append(conversion_warning(v))  # type: ignore[arg-type]
        return 0
    return n


def to_str(v: pv.Value) -> str:
    return "" if v is None else str(v)


def unop_value(op: str, v: pv.Value, notes: list[str] | None = None) -> pv.Value:
    """A unary operator applied to its evaluated operand (conversion warnings go to ``notes``)."""
    if op == "!":
        return 0 if to_int(v, notes) else 1
    if op == "defined" or op == "undefined":
        return int((v is not None) == (op == "defined"))
    if op == "-":
        return wrap32(-to_int(v, notes))  # -(-2147483648) is itself, as in C
    if op == "~":
        return ~to_int(v, notes)
    if op == "strlen":
        return len(to_str(v))
    if op == "strempty":
        return 1 if to_str(v) == "" else 0
    if op == "int":
        return to_int(v, notes)
    if op == "str":
        return to_str(v)
    raise EvalError(f"unknown operator {op}")  # pragma: no cover


def _div(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("division by 0")
    q = abs(a) // abs(b)  # C truncates toward 0
    return wrap32(q if (a < 0) == (b < 0) else -q)  # -2147483648 / -1 stays in 32 bits


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("division by 0")
    r = abs(a) % abs(b)
    return -r if a < 0 else r  # C: the remainder has the sign of the dividend


# the operators on two numbers (both sides converted with to_int), with C int arithmetic
_INT_OPS: dict[str, Callable[[int, int], int]] = {
    "-": lambda a, b: wrap32(a - b), "*": lambda a, b: wrap32(a * b), "/": _div, "%": _mod,
    "|": lambda a, b: wrap32(a | b), "&": lambda a, b: wrap32(a & b), "^": lambda a, b: wrap32(a ^ b),
    "<<": lambda a, b: wrap32(a << (b & 31)), ">>": lambda a, b: wrap32(a) >> (b & 31),
    ">": lambda a, b: int(a > b), "<": lambda a, b: int(a < b), ">=": lambda a, b: int(a >= b),
    "<=": lambda a, b: int(a <= b),
}


def binop_value(op: str, left: pv.Value, right: pv.Value, notes: list[str] | None = None) -> pv.Value:
    """A binary operator (not ``||``/``&&``, which may skip their right side) on evaluated sides
    (conversion warnings go to ``notes``)."""
    if op == "==" or op == "!=":
        if isinstance(left, int) or (left is None and isinstance(right, int)):
            same = to_int(left, notes) == to_int(right, notes)
        else:
            same = to_str(left) == to_str(right)
        return int(same if op == "==" else not same)
    if op == "eq" or op == "ne":
        same = to_str(left) == to_str(right)
        return int(same if op == "eq" else not same)
    if op == "ieq" or op == "ine":
        same = to_int(left, notes) == to_int(right, notes)
        return int(same if op == "ieq" else not same)
    if op == "=~":
        return int(search(to_str(right), to_str(left)))
    if op == "+":
        if isinstance(left, str) or (left is None and isinstance(right, str)):
            return to_str(left) + to_str(right)
        return wrap32(to_int(left, notes) + to_int(right, notes))
    a, b = to_int(left, notes), to_int(right, notes)
    fn = _INT_OPS.get(op)
    if fn is None:
        raise EvalError(f"unknown operator {op}")  # pragma: no cover
    return fn(a, b)
