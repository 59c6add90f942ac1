"""``CfgRouter``: a parsed cfg script as the engine's ``Router`` (``request_route``/``onreply_route``).

The engine calls ``request_route(ctx, msg)`` for a request and, when the script has an
``onreply_route``, ``onreply_route(ctx, msg)`` for a reply. Both are generators (see
:mod:`sipsim.routing.interp`). For a reply, Kamailio forwards only when the route ended with a
positive result and without ``drop``: ``drop``, ``return 0`` and a negative result ("error while
trying onreply script") all keep the reply — the router then sets ``msg.extra["drop"]`` and
returns 0, which tells the engine not to forward.

Script globals that describe the server (``alias``, ``advertised_address``, ``check_via``,
``server_signature``/``server_header``) are folded into :attr:`CfgRouter.config`, which drivers
should use as the worker's ``ServerConfig``; ``uri == myself`` honours the script's aliases in any
case. ``$var(x)`` values live per worker context, as per Kamailio process.
"""

from __future__ import annotations

import weakref
from typing import Any

from sipsim.engine.config import ServerConfig
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.parser.msg import SipMsg
from sipsim.routing.interp import DROP_R_F, Run, run_top
from sipsim.routing.tree import (
    Action,
    ActionExpr,
    BinOp,
    Call,
    Const,
    Expr,
    If,
    RouteBlock,
    Script,
    Switch,
    UnOp,
    While,
)


class CfgRouter:
    """A cfg script, ready to route messages."""

    def __init__(self, script: Script, config: ServerConfig, *, defines: tuple[str, ...] = ()) -> None:
        self.script = script
        fix_actions(script)
        self.name = script.file.rsplit("/", 1)[-1]
        self.modules = tuple(script.modules)  # in load order, which orders kex's and sl's callbacks
        self.defines = defines
        self.base_config = config
        self.config = self._fold_globals(config)
        self._effective: dict[ServerConfig, ServerConfig] = {}
        self._vars: dict[int, tuple[weakref.ref[Any], dict[str, int | str]]] = {}

    # -- configuration -------------------------------------------------------------------------
    def global_value(self, name: str, default: Any) -> Any:
        values = self.script.globals.get(name)
        return values[-1] if values else default

    def _fold_globals(self, config: ServerConfig) -> ServerConfig:
        g = self.script.globals
        changes: dict[str, Any] = {}
        aliases = [str(a) for a in g.get("alias", [])]
        if aliases:
            changes["aliases"] = tuple(config.aliases) + tuple(a for a in aliases if a not in config.aliases)
        if "advertised_address" in g:
            changes["advertise"] = str(g["advertised_address"][-1])
        if "check_via" in g:
            changes["check_via"] = bool(g["check_via"][-1])
        if "server_header" in g:
            changes["server_header"] = str(g["server_header"][-1])
        if "server_signature" in g and not g["server_signature"][-1]:
            changes["server_header"] = ""
        return config.with_(**changes) if changes else config

    def effective_config(self, config: ServerConfig) -> ServerConfig:
        """The driver's config plus the script's aliases (so ``uri == myself`` knows them)."""
        if config is self.config:
            return config
        eff = self._effective.get(config)
        if eff is None:
            aliases = [str(a) for a in self.script.globals.get("alias", [])]
            extra = tuple(a for a in aliases if a not in config.aliases)
            eff = config.with_(aliases=tuple(config.aliases) + extra) if extra else config
            if len(self._effective) > 8:
                self._effective.clear()
            self._effective[config] = eff
        return eff

    def vars_for(self, ctx: WorkerContext) -> dict[str, int | str]:
        """The worker's ``$var`` table (one per worker, kept between messages)."""
        key = id(ctx)
        entry = self._vars.get(key)
        if entry is None or entry[0]() is not ctx:
            entry = (weakref.ref(ctx), {})
            self._vars[key] = entry
        return entry[1]

    # -- the Router protocol -------------------------------------------------------------------
    def has_onreply_route(self) -> bool:
        return self.script.onreply is not None

    def request_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps:
        block = self.script.request
        assert block is not None
        run = Run(self, ctx, msg, "request", self.vars_for(ctx))
        ret = yield from self._run(run, block)
        if ret < 0:
            yield ctx.event("request_route", msg, f"error while trying script (the route returned {ret})",
                            detail={"rc": ret})
        return ret

    def onreply_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps:
        block = self.script.onreply
        assert block is not None
        run = Run(self, ctx, msg, "onreply", self.vars_for(ctx))
        ret = yield from self._run(run, block)
        if run.flags & DROP_R_F or ret <= 0:
            msg.extra["drop"] = True
            if ret < 0 and not run.flags & DROP_R_F:
                yield ctx.event("onreply_route", msg, f"error while trying onreply script (returned {ret}): "
                                "Kamailio does not forward the reply", detail={"rc": ret})
            return 0
        return ret

    def _run(self, run: Run, block: RouteBlock) -> Steps:
        ret = yield from run_top(run, block.actions, block.label)
        why, action = run.end
        where = f" at line {action.line}" if action is not None else ""
        if run.ctx.tracing:
            yield run.event("route:end", f"{block.label} ends: {why}{where} (result {ret})",
                            detail={"route": block.label, "rc": ret, "why": why,
                                    "line": action.line if action is not None else None,
                                    "drop": bool(run.flags & DROP_R_F)})
        return ret


# -- fix_actions: load-time preparation ----------------------------------------------------------
def fix_actions(script: Script) -> None:
    """Stamp every expression of the script with ``pure`` (no function call inside) and ``kconst``.

    Kamailio prepares its action tree once, when it loads the script (``fix_actions``,
    ``fix_expr`` in ``route.c``), so that running it per message does as little as possible.
    sipsim does the same for two things. A *pure* expression (``uri == myself``, ``$rU == $null``)
    cannot yield any event or syscall, so the interpreter evaluates it with plain function calls
    (:func:`~sipsim.routing.interp.eval_pure`) instead of a stack of generators; only expressions
    that call a function (``!sanity_check()``) go the generator way. And a side of ``||``/``&&``
    made of constants only (``kconst``) is folded away, as Kamailio's optimizer does; which side is
    known here, once. Function parameters given as expressions are stamped too. Running it twice is
    harmless; a tree it never saw is still run right (through the generators, without folding).
    """
    blocks = [b for b in (script.request, script.onreply) if b] + list(script.routes.values()) + script.other
    for block in blocks:
        _fix_block(block.actions)


def _fix_block(actions: list[Action]) -> None:
    for a in actions:
        for e in (getattr(a, "cond", None), getattr(a, "expr", None)):  # If/While, Switch/Assign/Ret
            if e is not None:
                _fix_expr(e)
        if isinstance(a, Call):
            _fix_params(a)
        if isinstance(a, If):
            _fix_block(a.then)
            _fix_block(a.orelse or [])
        elif isinstance(a, While):
            _fix_block(a.body)
        elif isinstance(a, Switch):
            for case in a.cases:
                _fix_block(case.actions)


def _fix_params(a: Call) -> None:
    """A function's parameters given as expressions are evaluated by ``eval_pure``: stamp them too."""
    for p in a.params:
        e = getattr(p, "expr", None)
        if e is not None:
            _fix_expr(e)


def _fix_expr(e: Expr) -> bool:
    """Stamp ``e.pure`` and ``e.kconst`` on ``e`` and its sub-expressions; returns ``pure``.

    ``kconst`` (made of constants only) is what Kamailio's optimizer folds away at load time; the
    interpreter's ``||``/``&&`` read it instead of walking the tree for every message."""
    if isinstance(e, BinOp):
        pure = _fix_expr(e.left) & _fix_expr(e.right)
        kconst = e.left.kconst and e.right.kconst
    elif isinstance(e, UnOp):
        pure = _fix_expr(e.operand)
        kconst = e.operand.kconst
    elif isinstance(e, ActionExpr):
        pure = kconst = False  # a function call (its parameters are pure: calls there are refused at load)
        if isinstance(e.action, Call):
            _fix_params(e.action)
    else:  # Const, PvRef, Myself, Net, and Elem, whose right side is a constant or a variable
        pure, kconst = True, isinstance(e, Const)
    e.pure = pure  # type: ignore[union-attr]
    e.kconst = kconst  # type: ignore[union-attr]
    return pure
