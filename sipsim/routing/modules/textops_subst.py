"""textops' sed-like substitutions: ``subst('/re/repl/flags')`` on the message after its first line,
``subst_body`` on the body and ``subst_uri('/re/repl/flags')`` on the Request-URI.

The expression is read as Kamailio's ``subst_parser`` (core ``re.c``) reads it: its first
character is the separator; the expression ends at the next separator not preceded by a
backslash; the replacement may hold ``\\0``..``\\9`` (the whole match, a group), ``\\u`` (the
current R-URI), ``\\n``, ``\\r``, ``\\t``, ``\\\\``, ``\\$`` and pseudo-variables (read at each match);
flags are ``i`` (ignore case: without it the expression is case-sensitive), ``g`` (every match)
and ``s`` (``.`` matches a line feed too: no ``REG_NEWLINE``). A match of nothing is an error and
nothing is replaced.

Simplified: Kamailio builds one replacement in a 1024-byte buffer (a longer one is an error);
sipsim has no such limit. POSIX's longest alternative (see textops_re) applies here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipsim.routing import pv, pv_format
from sipsim.routing.functions import (
    BRANCH_ROUTE,
    FAILURE_ROUTE,
    ONREPLY_ROUTE,
    REQUEST_ROUTE,
    FixupError,
    Param,
    export,
)
from sipsim.routing.interp import Run, Steps
from sipsim.routing.modules.textops_re import adjust_clen, swap, where_text
from sipsim.routing.pv_base import scan_pv
from sipsim.routing.regex import c_string, compile_posix
from sipsim.routing.uri_edit import set_ruri

_CHARS = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


@dataclass(frozen=True)
class SubstExpr:
    """A parsed ``/re/repl/flags``: the compiled expression and the replacement's pieces (text,
    a group number, ``"uri"`` or the parts of a pseudo-variable)."""

    regex: re.Pattern[str]
    pieces: tuple
    replace_all: bool


def parse_subst(text: str) -> SubstExpr:
    """``subst_parser``. Raises ValueError with the reason Kamailio would log."""
    if len(text) < 3:
        raise ValueError("expression is too short")
    sep = text[0]
    if sep == "\\":
        raise ValueError("invalid separator char '\\'")
    i = 1
    while i < len(text) and not (text[i] == sep and text[i - 1] != "\\"):
        i += 1
    if i >= len(text):
        raise ValueError("no separator found")
    regex_text = text[1:i]
    if len(text) < i + 2:
        raise ValueError("string too short")
    pieces: list = []
    j = i + 1
    while True:
        if j >= len(text):
            raise ValueError("missing separator after the replacement")
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            e = text[j + 1]
            pieces.append(int(e) if e.isdigit() else "uri" if e == "u" else ("lit", _CHARS.get(e, e)))
            j += 2
        elif c == "$":
            try:
                end = scan_pv(text, j)
                pieces.append(("pv", pv_format.parse_format(text[j:end])))
            except pv.PvError as exc:
                raise ValueError(f"bad specifier in the replacement: {exc}") from None
            j = end
        elif c == sep:
            break
        else:
            pieces.append(("lit", c))
            j += 1
    flags = text[j + 1:]
    bad = next((f for f in flags if f not in "igs"), None)
    if bad is not None:
        raise ValueError(f"unknown flag {bad!r}")
    regex = compile_posix(regex_text, "s" not in flags, "i" in flags)
    return SubstExpr(regex, tuple(pieces), "g" in flags)


def _check_subst(params: list[Param]) -> None:
    if params[0].is_const:
        try:
            parse_subst(str(params[0].const))
        except ValueError as exc:
            raise FixupError(f"bad subst. re {params[0].const!r}: {exc}") from None
    else:
        raise FixupError("the /re/replacement/flags expression must be a constant string")


def _parsed(expr: str) -> SubstExpr | None:
    """The expression of a KEMI call, parsed at run time (a cfg's was checked at load)."""
    try:
        return parse_subst(expr)
    except ValueError:
        return None


def _build(run: Run, se: SubstExpr, m: re.Match[str]) -> str:
    """``replace_build``: the replacement for one match."""
    out: list[str] = []
    for p in se.pieces:
        if isinstance(p, int):
            if p <= se.regex.groups and m.group(p) is not None:
                out.append(m.group(p))
        elif p == "uri":
            if run.msg.is_request:
                out.append(run.msg.ruri)
        elif p[0] == "lit":
            out.append(p[1])
        else:
            out.append(pv_format.expand(run, p[1]))
    return "".join(out)


def subst_run(run: Run, se: SubstExpr, text: str) -> list[tuple[int, int, str]] | None:
    """``subst_run``: (offset, length, replacement) of each match; None for a match of nothing."""
    found: list[tuple[int, int, str]] = []
    pos = 0
    while True:
        if pos == 0 or text[pos - 1] == "\r":  # ^ may match where this search starts
            m = se.regex.search(text[pos:])
            base = pos
        else:
            m, base = se.regex.search(text, pos), 0
        if m is None:
            return found
        if m.start() == m.end():
            return None
        found.append((base + m.start(), m.end() - m.start(), _build(run, se, m)))
        pos = base + m.end()
        if not se.replace_all:
            return found


def _subst(run: Run, name: str, params: list[Param], body: bool) -> Steps:
    expr = params[0].str(run)
    se = _parsed(expr)
    if se is None:
        yield run.event(name, f"bad subst. re {expr!r}: false", reason="bad regex")
        return -1
    where = where_text(run, body)
    if where is None:
        yield run.event(name, f"{expr}: no body, nothing replaced", detail={"replaced": 0})
        return -1
    begin, text = where
    done = subst_run(run, se, text)
    if not done:
        why = "matched an empty string: error, nothing replaced" if done is None else "does not match"
        yield run.event(name, f"{expr}: {why}", detail={"replaced": 0})
        return -1
    if any([swap(run, begin + off, size, new, name) for off, size, new in done]):
        adjust_clen(run)
    shown = ", ".join(f"{text[o:o + n]!r} -> {r!r}" for o, n, r in done[:4])
    yield run.event(name, f"{expr}: {len(done)} replacement(s) {shown} (lumps)", detail={"replaced": len(done)})
    return 1


@export("subst", "textops", (1,), fixup=_check_subst, fmt=False)
def subst(run: Run, params: list[Param]) -> Steps:
    """subst('/re/repl/flags'): sed-like replacement in the headers and body (after the first
    line) -- as lumps, so the script still reads the received message."""
    return (yield from _subst(run, "subst", params, False))


@export("subst_body", "textops", (1,), fixup=_check_subst, fmt=False)
def subst_body(run: Run, params: list[Param]) -> Steps:
    """subst_body('/re/repl/flags'): the same in the body only (false when there is none)."""
    return (yield from _subst(run, "subst_body", params, True))


@export("subst_uri", "textops", (1,), fixup=_check_subst, fmt=False,
        route_types=REQUEST_ROUTE | ONREPLY_ROUTE | FAILURE_ROUTE | BRANCH_ROUTE)
def subst_uri(run: Run, params: list[Param]) -> Steps:
    """subst_uri('/re/repl/flags'): the same on the current Request-URI, which becomes the result
    (as ``$ru = ...``)."""
    expr = params[0].str(run)
    msg = run.msg
    se = _parsed(expr)
    if se is None:
        yield run.event("subst_uri", f"bad subst. re {expr!r}: false", reason="bad regex")
        return -1
    old = c_string(msg.ruri)
    done = subst_run(run, se, old)
    if not done:
        why = "matched an empty string: error" if done is None else "does not match"
        yield run.event("subst_uri", f"{expr}: {why}: R-URI {old} unchanged", detail={"replaced": 0})
        return -1
    out, pos = [], 0
    for off, size, new in done:
        out += [old[pos:off], new]
        pos = off + size
    uri = "".join(out) + old[pos:]
    set_ruri(msg, uri)
    yield run.event("subst_uri", f"{expr}: R-URI {old} becomes {uri}", detail={"uri": uri})
    return 1
