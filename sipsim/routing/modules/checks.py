"""The maxfwd and sanity modules: ``mf_process_maxfwd_header(limit)`` and ``sanity_check([m[, u]])``.

Module parameters honoured: maxfwd ``max_limit`` (70), sanity ``default_checks`` (3047),
``uri_checks`` (7) and ``autodrop`` (1: a failed check returns 0, which stops the script; 0: it
returns -1 and the script goes on).
"""

from __future__ import annotations

from sipsim.engine.maxfwd import MAX_LIMIT, mf_process_maxfwd_header
from sipsim.engine.sanity import DEFAULT_CHECKS, DEFAULT_URI_CHECKS, sanity_check
from sipsim.routing.functions import ONREPLY_ROUTE, REQUEST_ROUTE, FixupError, Param, export, int_const
from sipsim.routing.interp import Run, Steps


def _check_limit(params: list[Param]) -> None:
    if params[0].is_const:
        limit = int_const(params[0], "the Max-Forwards limit")
        if not 0 <= limit <= 255:
            raise FixupError(f"limit {limit} is not between 0 and 255")


@export("mf_process_maxfwd_header", "maxfwd", (1,), route_types=REQUEST_ROUTE, fixup=_check_limit,
        rve=True)
def process_maxfwd(run: Run, params: list[Param]) -> Steps:
    """mf_process_maxfwd_header(limit): add or decrement Max-Forwards; false when it reached 0."""
    limit = params[0].int(run)
    if limit is None:
        yield run.event("mf_process_maxfwd_header", f"invalid limit {params[0].value(run)!r}")
        return -2
    max_limit = int(run.script.modparam("maxfwd", "max_limit", MAX_LIMIT))
    return (yield from mf_process_maxfwd_header(run.ctx, run.msg, limit, max_limit))


def _check_masks(params: list[Param]) -> None:
    for p, what in zip(params, ("the message checks", "the URI checks"), strict=False):
        if p.is_const:
            int_const(p, what)


@export("sanity_check", "sanity", (0, 1, 2), route_types=REQUEST_ROUTE | ONREPLY_ROUTE, fixup=_check_masks,
        rve=True)
def sanity(run: Run, params: list[Param]) -> Steps:
    """sanity_check([msg_checks[, uri_checks]]): RFC checks; a failure answers and returns 0."""
    script = run.script
    checks = int(script.modparam("sanity", "default_checks", DEFAULT_CHECKS))
    uri_checks = int(script.modparam("sanity", "uri_checks", DEFAULT_URI_CHECKS))
    if len(params) >= 1:
        checks = params[0].int(run) or 0
    if len(params) == 2:
        uri_checks = params[1].int(run) or 0
    autodrop = int(script.modparam("sanity", "autodrop", 1))
    return (yield from sanity_check(run.ctx, run.msg, checks, uri_checks, kemi=not autodrop))
