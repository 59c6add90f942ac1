"""The interpreter: runs an action tree one action at a time (Kamailio's ``action.c``).

It is a generator, like every step of the engine. When someone watches (``ctx.tracing``; live
mode without an observer does not), for each action it first yields one
:class:`~sipsim.engine.events.StepEvent` with ``step="route:<name>"`` (``route:if``,
``route:sl_send_reply``, ``route:assign`` ...) and ``detail`` = ``{"file", "line", "column",
"kline", "route", "action", "src"}`` — the TUI highlights ``line``; ``kline`` is the line Kamailio's
``cfgtrace`` prints for the same action — then runs it. A function that calls into the engine
(``sl_send_reply``, ``forward``, ``save`` ...) does ``yield from`` the engine function, so the
engine's own events and ``Send`` syscalls come next, in order, and a ``Send``'s answer reaches
the function that sent it. Two other events help a learner and are not actions:
``route:cond`` (what an ``if``/``while``/``switch`` decided) and ``route:end`` (how the script
ended: exit, drop, return, a function that returned 0, or the end of the block).

Control flow follows ``run_actions``/``do_action`` exactly, with the same run flags:

* a module function's return value is ``$rc``; **0 stops the script** (``EXIT_R_F``), > 0 is true,
  < 0 is false;
* ``exit`` stops the script with 1, ``drop`` with 0 and the drop flag, ``return [v]`` leaves the
  current block with ``v`` (default 1) and ``return 0`` stops the script; ``break`` leaves a
  ``switch`` or ``while``;
* ``route(X)`` stores the block's result in ``$rc`` and absorbs its ``return``;
* a function called inside an expression counts as 1 when it returned > 0, else 0
  (``run_actions_safe``; assigned alone, ``$var(x) = f();``, it gives its return code); a core
  action there (``forward()``) leaves ``$rc`` at 0, as in Kamailio;
* ``while`` stops after ``max_while_loops`` (100) turns with an error, nesting is limited to
  ``max_recursive_level`` (256);
* every action starts with ``ser_error`` reset (so ``sl_reply_error()`` answers with the error of
  the action just before it).

It runs for every live request, so it keeps its own cost low without changing what it does: an
expression without a function call is evaluated by plain calls (:func:`eval_pure`, see
:func:`~sipsim.routing.router.fix_actions`), and no generator exists only to pass events through.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.context import WorkerContext
from sipsim.engine.errors import E_UNSPEC
from sipsim.engine.events import StepEvent
from sipsim.engine.forward import check_self
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_CSEQ
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import parse_uri
from sipsim.routing import pv
from sipsim.routing.operators import EvalError, binop_value, to_int, to_str, unop_value
from sipsim.routing.regex import search
from sipsim.routing.tree import (
    Action,
    ActionExpr,
    Assign,
    BinOp,
    Call,
    Const,
    Elem,
    Expr,
    If,
    Myself,
    Net,
    PvRef,
    Ret,
    RouteCall,
    Script,
    Switch,
    UnOp,
    While,
)

if TYPE_CHECKING:
    from sipsim.routing.router import CfgRouter

EXIT_R_F = 1
RETURN_R_F = 2
BREAK_R_F = 4
DROP_R_F = 8

MAX_RECURSIVE_LEVEL = 256
MAX_WHILE_LOOPS = 100

Steps = Generator[Any, Any, Any]


class _Exit(Exception):  # noqa: N818 - Kamailio's longjmp out of run_actions
    def __init__(self, rc: int) -> None:
        super().__init__(rc)
        self.rc = rc


class Run:
    """One run of a route block for one message (Kamailio's ``run_act_ctx`` + the message)."""

    def __init__(self, router: CfgRouter, ctx: WorkerContext, msg: SipMsg, route_type: str,
                 vars: dict[str, int | str]) -> None:
        self.router = router
        self.script: Script = router.script
        self.ctx = ctx
        self.msg = msg
        self.extra = msg.extra  # read and written by every action (ser_error): one lookup saved each time
        self.tracing = ctx.tracing  # read once: drivers switch it between messages, never inside one
        self.route_type = route_type  # "request" | "onreply"
        self.vars = vars
        self.flags = 0
        self.last_rc = 0
        self.depth = 0
        self.label = ""
        self.prev_ser_error: int = E_UNSPEC
        self.config: ServerConfig = router.effective_config(ctx.config)
        self.end: tuple[str, Action | None] = ("the end of the block", None)
        # conversion warnings not shown yet (see _warnings); None when nobody watches: none kept
        self.warnings: list[str] | None = [] if self.tracing else None

    def event(self, step: str, text: str, **fields: Any) -> StepEvent:
        return self.ctx.event(step, self.msg, text, **fields)

    def eval_pure(self, expr: Expr) -> pv.Value:
        """Evaluate an expression that calls no function (parameters): no events can come out."""
        return eval_pure(self, expr)


# -- run_actions / do_action ---------------------------------------------------------------------
def run_top(run: Run, actions: list[Action], label: str) -> Steps:
    """``run_top_route``: run a block; returns its result (the ``exit`` value when it exits)."""
    try:
        ret = yield from run_actions(run, actions, label)
    except _Exit as e:
        ret = e.rc
    return ret


def run_actions(run: Run, actions: list[Action], label: str) -> Steps:
    run.depth += 1
    if run.depth > MAX_RECURSIVE_LEVEL:
        yield run.event("route:error", f"too many recursive routing table lookups ({run.depth}): giving up",
                        reason="max_recursive_level")
        run.depth -= 1
        return -1
    ret = 1
    outer, run.label = run.label, label
    for a in actions:
        ret = yield from do_action(run, a, label)
        flags = run.flags
        if flags & (BREAK_R_F | RETURN_R_F | EXIT_R_F):
            if flags & EXIT_R_F:
                run.last_rc = ret
                raise _Exit(ret)
            break
    run.depth -= 1
    run.label = outer
    return ret


def action_event(run: Run, a: Action, label: str) -> StepEvent:
    src = a.src if len(a.src) <= 100 else a.src[:97] + "..."  # (ctx.event direct: one per action, one call less)
    return run.ctx.event(f"route:{a.name}", run.msg, f"{label} line {a.line}: {src}",
                         detail={"file": a.file, "line": a.line, "column": a.col, "kline": a.kline,
                                 "route": label, "action": a.name, "src": a.src})


def do_action(run: Run, a: Action, label: str) -> Steps:
    """Start one action: the bookkeeping every action does, then the generator that runs it.

    Unlike the other steps, ``do_action`` is a plain function that *returns* a generator; the
    caller runs it with ``yield from do_action(...)``. The bookkeeping (``ser_error`` reset) still
    happens right before the action runs, but no generator is created just to pass the action's
    events and result through — there is one per action, per nesting level, per message.
    """
    extra = run.extra  # every action starts with no internal error; sl_reply_error() answers the last one
    run.prev_ser_error = extra.get("ser_error", E_UNSPEC)
    extra["ser_error"] = E_UNSPEC
    steps = _ACTION_STEPS[type(a)](run, a, label)
    if run.tracing:
        return _traced(run, a, label, steps)
    return steps  # nobody watching (live, no observer): no narration per action


def _traced(run: Run, a: Action, label: str, steps: Steps) -> Steps:
    yield action_event(run, a, label)
    ret = yield from steps
    if run.warnings or "pv_notes" in run.extra:  # what no earlier step of the action showed (parameters ...)
        yield from _warnings(run, a)
    return ret


def call(run: Run, a: Call, label: str) -> Steps:
    """A function call: its handler's return value is the action's (and, for a module's, ``$rc``)."""
    return call_done(run, a, (yield from a.func.handler(run, a.params)))  # type: ignore[union-attr]


def call_done(run: Run, a: Call, ret: int) -> int:
    """What the core does with a function's return value."""
    ret = int(ret)
    spec = a.func
    assert spec is not None
    if spec.module is not None:  # MODF_HANDLE_RETCODE: 0 stops the script
        if ret == 0:
            run.flags |= EXIT_R_F
            run.end = (f"{spec.name}() returned 0, which stops the script", a)
        run.last_rc = ret
    return ret


def route_call(run: Run, a: RouteCall, label: str) -> Steps:
    block = run.script.routes[a.target]
    ret = yield from run_actions(run, block.actions, block.label)
    run.last_rc = ret
    run.flags &= ~(RETURN_R_F | BREAK_R_F)
    run.end = ("the end of the block", None)
    return ret


def _cond(run: Run, a: If | While | Switch, value: int, text: str) -> StepEvent:
    return run.ctx.event("route:cond", run.msg, text, detail={"file": a.file, "line": a.line, "statement": a.name,
                                                             "value": value})


def _warnings(run: Run, a: Action) -> Steps:
    """Kamailio's WARNING for a text it could not turn into a number (it went on with 0), as a
    ``route:warning`` step of the action that evaluated it, once each. They wait in ``run.warnings``,
    this message's own list: another worker, run between two steps of this one, has its own, and a
    function called in an expression gets a fresh one (:func:`call_in_expr`). ``if``/``while``/
    ``switch`` show theirs before the block they choose, :func:`_traced` the rest as the action ends.
    The notes on variables that are $null because a header did not parse go the same way."""
    texts = run.warnings or []
    shown = texts[:]
    texts.clear()  # in place: an evaluation still under way may hold the list
    for text in shown:
        yield run.event("route:warning", f"line {a.line}: {text}",
                        detail={"file": a.file, "line": a.line, "kline": a.kline, "warning": text})
    # and why a variable the action read is $null (a header that did not parse: lesson 6), with it
    for note in dict.fromkeys(run.extra.pop("pv_notes", ())):
        yield run.event("route:pv-null", note, detail={"file": a.file, "line": a.line})


# Each evaluation below reads ``eval_pure(run, e) if e.pure else (yield from _STEPS[type(e)](run, e))``:
# a pure expression is a plain call, one that calls a function goes through its generator.
def _if(run: Run, a: If, label: str) -> Steps:
    c: Any = a.cond
    try:
        if c.pure:
            v = eval_pure(run, c)
        elif type(c) is UnOp and c.op == "!" and type(c.operand) is ActionExpr:
            # if (!f()): the most common test of a script, answered as _unop would, one generator less
            v = 0 if (yield from call_in_expr(run, c.operand)) else 1
        else:
            v = yield from _STEPS[type(c)](run, c)
        if type(v) is not int:  # mostly it is (a test, a function call): no conversion call then
            v = to_int(v, run.warnings)
    except EvalError as exc:
        yield run.event("route:error", f"if expression evaluation failed at line {a.line}: {exc}; taken as false")
        v = 0
    if run.warnings or "pv_notes" in run.extra:
        yield from _warnings(run, a)
    if run.flags & EXIT_R_F:
        return 0
    run.flags &= ~(RETURN_R_F | BREAK_R_F)
    if run.tracing:
        branch = "the if block" if v > 0 else ("the else block" if a.orelse is not None else "nothing (no else)")
        yield _cond(run, a, v, f"condition at line {a.line} is {'true' if v > 0 else 'false'}: runs {branch}")
    ret = 1
    if v > 0:
        if a.then:
            ret = yield from run_actions(run, a.then, label)
    elif a.orelse:
        ret = yield from run_actions(run, a.orelse, label)
    return ret


def _while(run: Run, a: While, label: str) -> Steps:
    turns = 0
    flags = 0
    ret = 1
    c: Any = a.cond
    max_while = int(run.router.global_value("max_while_loops", MAX_WHILE_LOOPS))  # read only when needed
    while not flags & (BREAK_R_F | RETURN_R_F | EXIT_R_F):
        try:
            v = to_int(eval_pure(run, c) if c.pure else (yield from _STEPS[type(c)](run, c)), run.warnings)
        except EvalError:
            v = 0
        if run.warnings or "pv_notes" in run.extra:
            yield from _warnings(run, a)
        if run.tracing:
            yield _cond(run, a, v, f"while condition at line {a.line} is {'true' if v else 'false'}")
        if not v:
            break
        turns += 1
        if turns > max_while:
            yield run.event("route:error", f"runaway while at line {a.line}: more than {max_while} loops",
                            reason="max_while_loops")
            return -1
        if a.body:
            ret = yield from run_actions(run, a.body, label)
            flags |= run.flags
            run.flags &= ~BREAK_R_F
    return ret


def _switch(run: Run, a: Switch, label: str) -> Steps:
    e: Any = a.expr
    try:
        value = eval_pure(run, e) if e.pure else (yield from _STEPS[type(e)](run, e))
        err = False
    except EvalError:
        value, err = None, True
    if run.flags & EXIT_R_F:
        return 0
    run.flags &= ~(RETURN_R_F | BREAK_R_F)
    flat: list[Action] = []
    starts: list[tuple[Any, int]] = []
    for case in a.cases:
        starts.append((case, len(flat)))
        flat.extend(case.actions)
    start = None
    if not err:
        key = to_str(value) if a.strings else to_int(value, run.warnings)  # converted once, as Kamailio does
        for case, at in starts:
            if case.values is not None and key in case.values:
                start = at
                break
    if run.warnings or "pv_notes" in run.extra:
        yield from _warnings(run, a)
    if start is None:
        start = next((at for case, at in starts if case.values is None), None)
    if start is None:
        where = "no case matches"
    else:
        where = f"runs from line {flat[start].line if start < len(flat) else a.line}"
    if run.tracing:
        yield _cond(run, a, 0 if start is None else 1, f"switch at line {a.line} on {pv.to_text(value)!r}: {where}")
    ret = 1
    if start is not None and start < len(flat):
        ret = yield from run_actions(run, flat[start:], label)
        run.flags &= ~BREAK_R_F
    return ret


def _assign(run: Run, a: Assign, label: str) -> Steps:
    e: Any = a.expr
    try:  # a right side that is one action assigns its return code itself (-1, 2 ...: measured on 5.6.3)
        value = (eval_pure(run, e) if e.pure else (yield from call_in_expr(run, e, raw=True)) if type(e) is ActionExpr
                 else (yield from _STEPS[type(e)](run, e)))
        pv.assign(run, a.target.spec, value)  # type: ignore[union-attr]
    except (EvalError, pv.PvError, ValueError) as exc:
        if run.warnings:  # before the error they may explain (the rest: _traced)
            yield from _warnings(run, a)
        yield run.event("route:error", f"assignment at line {a.line} failed: {exc}", reason=str(exc))
        return -1
    return 1


def _ret(run: Run, a: Ret, label: str) -> Steps:
    e: Any = a.expr
    if a.kind == "drop":
        value = 0
        if e is not None:
            value = to_int(eval_pure(run, e) if e.pure else (yield from _STEPS[type(e)](run, e)), run.warnings)
        run.flags |= DROP_R_F | EXIT_R_F
        run.end = ("drop", a)
        return value
    if a.kind == "break":
        run.flags |= BREAK_R_F
        return 0
    value = 1
    if e is not None:
        try:
            value = to_int(eval_pure(run, e) if e.pure else (yield from _STEPS[type(e)](run, e)), run.warnings)
        except EvalError:
            value = 1
    if a.kind == "exit":
        run.flags |= EXIT_R_F
        run.end = ("exit", a)
    else:
        run.flags |= RETURN_R_F
        if value == 0:  # "return 0" ends the script, as exit does
            run.flags |= EXIT_R_F
            run.end = ("return 0, which stops the script", a)
        else:
            run.end = (f"return {value}", a)
    return value


# do_action's switch on the action's type (Kamailio switches on ``a->type``)
_ACTION_STEPS: dict[type, Callable[[Run, Any, str], Steps]] = {
    Call: call, If: _if, Assign: _assign, Ret: _ret, RouteCall: route_call, Switch: _switch, While: _while,
}


# -- expressions ---------------------------------------------------------------------------------
def eval_pure(run: Run, e: Expr) -> pv.Value:
    """Evaluate an expression that calls no function: plain calls, no generator, no event."""
    kind = type(e)
    if kind is Const:
        return e.value  # type: ignore[union-attr]
    if kind is PvRef:
        spec = e.spec  # type: ignore[union-attr]
        return spec.get(run, spec)
    if kind is BinOp:
        op = e.op  # type: ignore[union-attr]
        if op == "||" or op == "&&":
            return _logic(run, e)  # type: ignore[arg-type]
        return binop_value(op, eval_pure(run, e.left), eval_pure(run, e.right), run.warnings)  # type: ignore[union-attr]
    if kind is UnOp:
        return unop_value(e.op, eval_pure(run, e.operand), run.warnings)  # type: ignore[union-attr]
    if kind is Elem:
        return _elem(run, e)  # type: ignore[arg-type]
    raise EvalError(f"cannot evaluate {kind.__name__} here")


def _failed(x: Any, v: Any) -> bool:
    """``v`` is the error of a core test (``uri == myself`` on an R-URI that does not parse: -1),
    possibly carried through a folded ``||``/``&&``."""
    return type(v) is int and v < 0 and (type(x) is Elem or (type(x) is BinOp and x.op in ("||", "&&")))


def _logic(run: Run, e: BinOp) -> pv.Value:
    """``||`` and ``&&`` as Kamailio 5.6 evaluates them (measured, tests/routing/test_pv_kamailio56.py).

    A core test that fails (``uri == myself`` when the R-URI does not parse) gives an error, -1:
    alone in an ``if`` it is false, ``!`` makes it false too, but next to another test it counts
    as *not 0*: ``uri == myself || $var(x) == 1`` is true. A side made of constants only is folded
    away first: ``uri == myself || 0`` is just ``uri == myself`` (false), ``X || 1`` is 1,
    ``X && 0`` is 0, ``X && 1`` is X. Which side is made of constants was found when the script
    was loaded (``kconst``, stamped by :func:`~sipsim.routing.router.fix_actions`).
    """
    op, left, right = e.op, e.left, e.right
    notes = run.warnings
    rc = right.kconst
    if rc or left.kconst:
        c_expr, x = (right, left) if rc else (left, right)
        c = bool(to_int(eval_pure(run, c_expr), notes))
        if (op == "||") == c:
            return 1 if c else 0
        v = eval_pure(run, x)
        return v if _failed(x, v) else (1 if to_int(v, notes) else 0)  # type: ignore[return-value]
    if op == "||":
        return 1 if to_int(eval_pure(run, left), notes) or to_int(eval_pure(run, right), notes) else 0
    return 1 if to_int(eval_pure(run, left), notes) and to_int(eval_pure(run, right), notes) else 0


def call_in_expr(run: Run, e: ActionExpr, raw: bool = False) -> Steps:
    """``run_actions_safe``: a fresh run of one action; its flags replace ours; value = (ret > 0),
    or ``ret`` itself when ``raw`` (the whole right side of an assignment).

    The fresh run starts with ``$rc`` at 0: a module function sets it, a core action (``forward()``)
    leaves it at 0, as in Kamailio. This is ``run_actions`` on a one-action list, inlined.
    """
    a: Call | RouteCall = e.action
    depth, label, warnings = run.depth, run.label, run.warnings
    if warnings is not None:  # the called action's warnings are its own; the outer ones wait for their action
        run.warnings = []
    run.flags = 0
    run.last_rc = 0
    try:
        if depth >= MAX_RECURSIVE_LEVEL:  # run_actions reports it
            ret = yield from run_actions(run, [a], label)
        else:
            run.depth = depth + 1
            if type(a) is Call and not run.tracing:  # do_action + call, one generator less
                extra = run.extra
                run.prev_ser_error = extra.get("ser_error", E_UNSPEC)
                extra["ser_error"] = E_UNSPEC
                ret = call_done(run, a, (yield from a.func.handler(run, a.params)))  # type: ignore[union-attr]
            else:
                ret = yield from do_action(run, a, label)
            if run.flags & EXIT_R_F:
                run.last_rc = ret
    except _Exit as exc:
        ret = exc.rc
    run.depth, run.label, run.warnings = depth, label, warnings
    return ret if raw else 1 if ret > 0 else 0


def _unop(run: Run, e: UnOp) -> Steps:
    x: Any = e.operand
    v = eval_pure(run, x) if x.pure else (yield from _STEPS[type(x)](run, x))
    if e.op == "!" and type(v) is int:  # if (!f()): the common case, answered here
        return 0 if v else 1
    return unop_value(e.op, v, run.warnings)


def _binop(run: Run, e: BinOp) -> Steps:
    op = e.op
    x: Any = e.left
    left = eval_pure(run, x) if x.pure else (yield from _STEPS[type(x)](run, x))
    if op == "||" or op == "&&":
        lv = to_int(left, run.warnings)  # converted once (and warned once), used twice for ||
        if op == "||" and lv and not _failed(x, left):  # a failed test does not end a ||: see _logic
            return 1
        if op == "&&" and not lv:
            return 0
        x = e.right
        right = eval_pure(run, x) if x.pure else (yield from _STEPS[type(x)](run, x))
        return 1 if (op == "||" and lv) or to_int(right, run.warnings) else 0
    x = e.right
    right = eval_pure(run, x) if x.pure else (yield from _STEPS[type(x)](run, x))
    return binop_value(op, left, right, run.warnings)


# the generator of an expression that calls a function, by its type
def _leaf(run: Run, e: Expr) -> Steps:
    """A constant, variable or test as a (trivial) generator: for a tree fix_actions has not stamped."""
    return eval_pure(run, e)
    yield  # pragma: no cover - makes this a generator


_STEPS: dict[type, Callable[[Run, Any], Steps]] = {BinOp: _binop, UnOp: _unop, ActionExpr: call_in_expr,
                                                   Const: _leaf, PvRef: _leaf, Myself: _leaf, Net: _leaf, Elem: _leaf}


def _elem(run: Run, e: Elem) -> int:
    """Kamailio's ``eval_elem``: core tests on parts of the message."""
    msg = run.msg
    what, op, right = e.what, e.op, e.right
    neg = op in ("!=", "ne")
    if what in ("uri", "from_uri", "to_uri"):
        if what == "uri":
            value = msg.ruri if msg.is_request else None
        else:
            value = pv.get(run, pv.parse_pv("$fu" if what == "from_uri" else "$tu"))
        if value is None:
            return 0
        if isinstance(right, Myself):
            if what == "uri" and not pv.is_uri_ok(msg):
                return -1  # Kamailio: the test fails with an error -- neither == nor != is true
            res = uri_is_myself(run.config, str(value), msg if what == "uri" else None)
        elif op == "=~":
            return int(search(to_str(run.eval_pure(right)), str(value)))  # type: ignore[arg-type]
        else:
            res = str(value).lower() == to_str(run.eval_pure(right)).lower()  # type: ignore[arg-type]
        return int(res != neg)
    if what == "status":  # a reply's status code, as text; a request has none
        if msg.is_request or msg.first_line is None:
            return 0
        code = str(msg.first_line.status)
        if op == "=~":
            return int(search(to_str(run.eval_pure(right)), code))  # type: ignore[arg-type]
        return int((code == to_str(run.eval_pure(right))) != neg)  # type: ignore[arg-type]
    if what == "method":
        m = msg.first_line.method if msg.is_request and msg.first_line else _cseq_method(msg)
        if op == "=~":
            return int(search(to_str(run.eval_pure(right)), m))  # type: ignore[arg-type]
        res = m.upper() == to_str(run.eval_pure(right)).upper()  # type: ignore[arg-type]
        return int(res != neg)
    if what in ("src_ip", "dst_ip"):
        ip = msg.rcv.src[0] if what == "src_ip" else msg.rcv.dst[0]
        if isinstance(right, Myself):
            res = check_self(run.config, ip, run.config.listen[1])
        elif isinstance(right, Net):
            try:
                res = ipaddress.ip_address(ip.strip("[]")) in ipaddress.ip_network(right.text, strict=False)
            except ValueError:
                res = False
        elif op == "=~":
            return int(search(to_str(run.eval_pure(right)), ip))
        else:
            res = _same_ip(ip, to_str(run.eval_pure(right)))
        return int(res != neg)
    if what == "proto":
        res = msg.rcv.proto.lower() == to_str(run.eval_pure(right)).lower()  # type: ignore[arg-type]
        return int(res != neg)
    if what == "af":
        af = "INET6" if ":" in msg.rcv.src[0] else "INET"
        res = af == to_str(run.eval_pure(right)).upper()  # type: ignore[arg-type]
        return int(res != neg)
    value_i = {"src_port": msg.rcv.src[1], "dst_port": msg.rcv.dst[1], "msg_len": msg.len}[what]
    other = to_int(run.eval_pure(right), run.warnings)  # type: ignore[arg-type]
    return int({"==": value_i == other, "!=": value_i != other, ">": value_i > other, "<": value_i < other,
                ">=": value_i >= other, "<=": value_i <= other}[op])


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.strip("[]")) == ipaddress.ip_address(b.strip("[]"))
    except ValueError:
        return a == b


def _cseq_method(msg: SipMsg) -> str:
    parse_headers(msg, F_CSEQ)
    return msg.cseq.parsed.method if msg.cseq is not None and msg.cseq.parsed is not None else ""


def uri_is_myself(config: ServerConfig, uri: str, msg: SipMsg | None = None) -> bool:
    """``check_self`` on a URI's host and port (Kamailio's ``uri == myself``). When ``uri`` is the
    R-URI of ``msg``, the message's cached parse serves (Kamailio's ``parse_sip_msg_uri``)."""
    try:
        u = msg.parsed_ruri() if msg is not None else parse_uri(uri, kamailio=config.profile is Profile.KAMAILIO)
    except ParseError:
        return False
    return u.is_sip and check_self(config, u.host, u.port)
