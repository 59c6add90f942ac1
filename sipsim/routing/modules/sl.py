"""The sl module: ``sl_send_reply(code, reason)``, ``send_reply`` and ``sl_reply_error()``.

``sl_reply_error()`` answers with the internal error of the action *before* it: every action
starts by resetting ``ser_error`` and keeping the previous value (``prev_ser_error``), which is
what sl uses — so ``if (!forward()) { sl_reply_error(); }`` answers 478/477 after a failed send.
"""

from __future__ import annotations

from sipsim.engine import sl as engine_sl
from sipsim.routing.functions import FAILURE_ROUTE, REQUEST_ROUTE, FixupError, Param, export, int_const
from sipsim.routing.interp import Run, Steps


def _check_code(params: list[Param]) -> None:
    if params[0].is_const:
        code = int_const(params[0], "the reply code")
        if not 100 <= code <= 699:
            raise FixupError(f"reply code {code} is not between 100 and 699")


def _reply(run: Run, params: list[Param], name: str) -> Steps:
    msg = run.msg
    code = params[0].int(run)
    reason = params[1].str(run)
    if not msg.is_request:
        yield run.event(name, f"{name}() on a reply: nothing to answer")
        return -1
    if code is None or not 100 <= code <= 699:
        yield run.event(name, f"{name}(): invalid reply code {params[0].value(run)!r}", reason="bad code")
        return -1
    why = f"{name}() in {run.label or 'the script'}"
    return (yield from engine_sl.sl_send_reply(run.ctx, msg, code, reason, why=why))


@export("sl_send_reply", "sl", (2,), route_types=REQUEST_ROUTE | FAILURE_ROUTE, fixup=_check_code)
def sl_send_reply(run: Run, params: list[Param]) -> Steps:
    """sl_send_reply(code, reason): answer the request statelessly."""
    return (yield from _reply(run, params, "sl_send_reply"))


@export("send_reply", "sl", (2,), route_types=REQUEST_ROUTE | FAILURE_ROUTE, fixup=_check_code)
def send_reply(run: Run, params: list[Param]) -> Steps:
    """send_reply(code, reason): without tm, the same as sl_send_reply."""
    return (yield from _reply(run, params, "send_reply"))


@export("sl_reply_error", "sl", (0,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def sl_reply_error(run: Run, params: list[Param]) -> Steps:
    """sl_reply_error(): answer with the code of the previous action's internal error."""
    if not run.msg.is_request:
        yield run.event("sl_reply_error", "sl_reply_error() on a reply: nothing to answer")
        return -1
    run.msg.extra["ser_error"] = run.prev_ser_error
    return (yield from engine_sl.sl_reply_error(run.ctx, run.msg))
