"""textops' sed-like substitutions: ``subst('/re/repl/flags')`` on the message after its first line,
``subst_body`` on the body and ``subst_uri('/re/repl/flags')`` on the Request-URI.

The expression is read as Kamailio's ``subst_parser`` (core ``re.c``) reads it, by the parser
the cfg preprocessor's ``#!subst`` uses too (sipsim.routing.subst_expr): its first character is
the separator; the replacement may hold ``\\0``..``\\9``, ``\\u`` (the current R-URI) and
pseudo-variables (read at each match); flags ``i``, ``g``, ``s``. A match of nothing is an error
and nothing is replaced.

Simplified: Kamailio builds one replacement in a 1024-byte buffer (a longer one is an error);
sipsim has no such limit. POSIX's longest alternative (see textops_re) applies here too.
"""

from __future__ import annotations

import re

from sipsim.routing import pv_format
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
from sipsim.routing.regex import c_string
from sipsim.routing.subst_expr import EmptyMatch, SubstExpr, build_replacement, find_matches, parse_subst
from sipsim.routing.uri_edit import set_ruri

__all__ = ["SubstExpr", "parse_subst", "subst_run"]  # parse_subst: the one parser, shared with #!subst


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
    """``replace_build``: the replacement for one match (``\\u``: the R-URI of a request)."""
    return build_replacement(se, m, run.msg.ruri if run.msg.is_request else "", lambda t: pv_format.expand(run, t))


def subst_run(run: Run, se: SubstExpr, text: str) -> list[tuple[int, int, str]] | None:
    """``subst_run``: (offset, length, replacement) of each match; None for a match of nothing."""
    try:
        return [(base + m.start(), m.end() - m.start(), _build(run, se, m)) for base, m in find_matches(se, text)]
    except EmptyMatch:
        return None


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
