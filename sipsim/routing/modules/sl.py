"""The sl module: ``sl_send_reply(code, reason)``, ``send_reply`` and ``sl_reply_error()``.

The code is a number or a *single* pseudo-variable (``"$var(code)"``; Kamailio's int-or-PV fixup
refuses ``"4$var(x)"`` at start-up). A variable must hold a number: Kamailio 5.6 converts no text
there ("Could not convert PV to int"), so ``"$hdr(X-Code)"``, ``"$rU"``, ``"$cs"`` or a ``$var``
assigned ``"404"`` make sl answer its default **500** (with the given reason), and so does
``$null``. A reason that is a single variable holding ``$null`` becomes sl's default ``Internal
Server Error``. Measured on 5.6.3 (tests/routing/test_sl_params.py). Simplified: Kamailio sends a
variable's out-of-range code as its last three digits (``1`` as ``001``, ``5060`` as ``060``);
sipsim refuses it and sends nothing.

``sl_reply_error()`` answers with the internal error of the action *before* it: every action
starts by resetting ``ser_error`` and keeping the previous value (``prev_ser_error``), which is
what sl uses — so ``if (!forward()) { sl_reply_error(); }`` answers 478/477 after a failed send.
"""

from __future__ import annotations

from sipsim.engine import sl as engine_sl
from sipsim.routing import pv
from sipsim.routing.functions import FAILURE_ROUTE, REQUEST_ROUTE, FixupError, Param, export, int_const
from sipsim.routing.interp import Run, Steps

#: what sl answers when its parameters cannot be read (the module's ``default_code``/``default_reason``)
DEFAULT_CODE = 500
DEFAULT_REASON = "Internal Server Error"


def _check_code(params: list[Param]) -> None:
    if params[0].is_const:
        code = int_const(params[0], "the reply code")
        if not 100 <= code <= 699:
            raise FixupError(f"reply code {code} is not between 100 and 699")
    elif params[0].parts is not None and len(params[0].parts) != 1:
        raise FixupError(f"the reply code {params[0].expr.value!r} must be a number or one pseudo-variable "  # type: ignore[union-attr]
                         "alone (Kamailio: \"PV, AVP, SELECT, and int conversions failed\")")


def _single_pv(run: Run, param: Param) -> tuple[pv.PvSpec, pv.Value] | None:
    """(variable, value) when the parameter is one pseudo-variable alone (Kamailio's ``FPARAM_PVS``:
    its value is taken as it is, not printed into text); the value is None when its read fails."""
    parts = param.parts
    if parts is None or len(parts) != 1 or isinstance(parts[0], str):
        return None
    spec = parts[0]
    return spec, None if pv.read_fails(run, spec) else pv.get(run, spec)


def _code_and_reason(run: Run, params: list[Param], name: str) -> Steps:
    """The code and reason as sl's ``get_int_fparam``/``get_str_fparam`` give them; what cannot be
    read becomes sl's default, with a step saying so (Kamailio logs an ERROR)."""
    code = params[0].int(run)
    one = _single_pv(run, params[0])
    if one is not None:
        spec, v = one
        if isinstance(v, int):
            code = v
        else:
            code = DEFAULT_CODE
            yield run.event(name, f"{name}(): {spec.text} is {pv.to_text(v)!r}, not a number: Kamailio converts "
                            "no text here (\"Could not convert PV to int\") and sl answers its default "
                            f"{DEFAULT_CODE}", detail={"warning": "Could not convert PV to int"})
    reason = params[1].str(run)
    one = _single_pv(run, params[1])
    if one is not None and one[1] is None:
        reason = DEFAULT_REASON
        yield run.event(name, f"{name}(): the reason {one[0].text} is $null: sl uses its default "
                        f"{DEFAULT_REASON!r}", detail={"warning": "Could not convert PV to string"})
    return code, reason


def _reply(run: Run, params: list[Param], name: str) -> Steps:
    msg = run.msg
    if not msg.is_request:
        yield run.event(name, f"{name}() on a reply: nothing to answer")
        return -1
    code, reason = yield from _code_and_reason(run, params, name)
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
