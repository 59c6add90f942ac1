"""Commands: module functions (resolved in the registry), ``route(NAME)``, ``forward(...)`` and the
core commands with a grammar of their own (flags, URI rewrites, ``log``, ``force_rport``)."""

from __future__ import annotations

from sipsim.routing import functions as fn
from sipsim.routing import pv
from sipsim.routing.errors import CfgError
from sipsim.routing.lexer import Token
from sipsim.routing.parse_base import BARE_CMDS, FLAG_CMDS, URI_CMDS, _num
from sipsim.routing.parse_expr import ExprParser
from sipsim.routing.tree import Call, Const, Expr, RouteCall


class CmdParser(ExprParser):
    """Function calls: each is resolved and its parameters fixed up when the script is loaded."""

    def cmd(self) -> Call | RouteCall:
        t = self.next()
        word = t.value
        base = self._base(t)
        if word in BARE_CMDS and not self.peek().is_op("("):
            return Call(**base, name=BARE_CMDS[word], kline=self.peek().line,
                        func=_core(BARE_CMDS[word]), args=[], params=[])
        if not self.peek().is_op("("):
            raise self.error(f"unexpected '{word}'", t, "'(' (a function call) or an assignment")
        self.next()
        if word == "route":
            return self.route_call(t, base)
        if word in ("forward", "forward_udp"):
            return self.forward_call(t, base)
        if word in URI_CMDS or word in FLAG_CMDS or word == "log" or word in BARE_CMDS:
            return self.core_call(t, base)
        if word in fn.STATEFUL_FUNCS:
            module = fn.STATEFUL_FUNCS[word]
            raise self.error(f"{word}() ({module} module) is stateful: sipsim models Kamailio's stateless core "
                             "— use forward() to relay and sl_send_reply() to answer", t)
        args: list[Expr] = []
        if not self.peek().is_op(")"):
            while True:
                e = self.expr()
                self._no_calls(e, f"a parameter of {word}()")
                args.append(e)
                if self.peek().is_op(","):
                    self.next()
                    continue
                break
        close = self.peek()
        if not close.is_op(")"):
            raise self.error(f"unexpected {close.describe()} in the call of {word}()", close, "',' or ')'")
        self.next()
        spec = self.resolve(t, word, len(args))
        if not spec.rve:
            for i, a in enumerate(args, 1):
                if not isinstance(a, Const):
                    raise CfgError(f"{word}(): parameter {i} is not constant — {word}() takes a value written in "
                                   "the script (Kamailio: 'parameter is not constant')", a.file, a.line, a.col,
                                   expected='a quoted string; pseudo-variables go inside it, e.g. "$var(x)"')
        try:
            params = [fn.Param(a, fmt=spec.fmt) for a in args]
            if spec.fixup is not None:
                spec.fixup(params)
        except fn.FixupError as exc:
            raise self.error(f"{word}(): {exc}", t) from None
        for prm in params:
            for part in prm.parts or ():
                if isinstance(part, pv.PvSpec):
                    self._need_pv_module(part, t)
        return Call(**base, name=spec.kname, kline=close.line, func=spec, args=args, params=params)

    def resolve(self, t: Token, word: str, nargs: int) -> fn.FuncSpec:
        cands = fn.REGISTRY.candidates(word)
        if not cands and word in fn.UNMODELED_FUNCS:
            module = fn.UNMODELED_FUNCS[word]
            modeled = sorted(n for n, specs in fn.REGISTRY.funcs.items() if any(
                (s.module or "core") == module for s in specs))
            owner = "the core" if module == "core" else f"module {module}"
            raise self.error(f"{word}() ({owner}) exists in Kamailio but is not modeled by sipsim; the {module} "
                             f"functions sipsim models: {', '.join(modeled) or 'none'}", t)
        if not cands:
            raise self.error(f"unknown function {word}() — no module sipsim models exports it "
                             "(Kamailio would say: unknown command, missing loadmodule?)", t)
        fitting = [c for c in cands if nargs in c.nargs]
        if not fitting:
            counts = sorted({n for c in cands for n in c.nargs})
            raise self.error(f"{word}() takes {' or '.join(map(str, counts))} parameter(s), not {nargs}", t)
        loaded = [c for c in fitting if c.module in (None, "sipsim") or c.module in self.script.modules]
        if not loaded:
            mod = fitting[0].module
            raise self.error(f"{word}() is exported by module '{mod}', which is not loaded", t,
                             f'loadmodule "{mod}.so"')
        spec = loaded[0]
        if not spec.route_types & self.route_type:
            where = fn.ROUTE_TYPE_NAMES.get(self.route_type, "this route")
            raise self.error(f"{word}() cannot be used in {where} (Kamailio: command cannot be used in the block)",
                             t)
        return spec

    def route_call(self, t: Token, base: dict) -> RouteCall:
        n = self.next()
        if n.kind not in ("ID", "STR", "NUM"):
            raise self.error(f"route() needs a route name, not {n.describe()}", n, "route(NAME)")
        parts = [n.value]
        while not self.peek().is_op(")"):
            p = self.next()
            if p.kind == "EOF" or p.is_op(";"):
                raise self.error("route( is not closed", p, "')'")
            parts.append(p.value)
        close = self.next()
        node = RouteCall(**base, name="route", kline=close.line, target="".join(parts))
        self._route_calls.append(node)
        return node

    def forward_call(self, t: Token, base: dict) -> Call:
        host: str | None = None
        port: int | None = None
        if not self.peek().is_op(")"):
            if self.peek().is_id("uri") and self.peek(1).is_op(":"):
                self.next()
                self.next()
                if not self.next().value == "host":
                    raise self.error("expected uri:host", t)
                if self.peek().is_op(","):
                    self.next()
                    if self.peek().is_id("uri"):
                        self.next()
                        self.next()
                        self.next()
                    else:
                        port = _num(self.next())
            else:
                host = self.host_arg()
                if self.peek().is_op(","):
                    self.next()
                    p = self.next()
                    if p.kind != "NUM":
                        raise self.error(f"forward(): the port must be a number, not {p.describe()}", p)
                    port = _num(p)
        close = self.peek()
        if not close.is_op(")"):
            raise self.error(f"unexpected {close.describe()} in forward()", close,
                             "forward(), forward(host) or forward(host, port)")
        self.next()
        spec = _core("forward")
        params = [fn.Param(Const(t.file, t.line, t.col, host if host is not None else "")),
                  fn.Param(Const(t.file, t.line, t.col, port if port is not None else 0))]
        return Call(**base, name=t.value, kline=close.line, func=spec, args=[], params=params)

    def host_arg(self) -> str:
        t = self.peek()
        if t.kind == "STR":
            self.next()
            return t.value
        parts = []
        prev: Token | None = None
        while True:
            n = self.peek()
            if n.kind in ("ID", "NUM") or n.is_op(".", "-", "[", "]", ":") and prev is not None:
                if n.is_op(":") and not any(p == "[" for p in parts):
                    break
                parts.append(n.value)
                prev = self.next()
                continue
            break
        if not parts:
            raise self.error(f"unexpected {t.describe()}: a host is missing", t, "a host name, an IP or a string")
        return "".join(parts)

    def core_call(self, t: Token, base: dict) -> Call:
        word = t.value
        args: list[Token] = []
        while not self.peek().is_op(")"):
            a = self.next()
            if a.kind == "EOF" or a.is_op(";"):
                raise self.error(f"{word}( is not closed", a, "')'")
            if a.is_op(","):
                continue
            if a.is_op("-") and self.peek().kind == "NUM":
                n = self.next()
                a = Token("NUM", "-" + n.value, a.file, a.line, a.col, n.end_line, n.end_col)
            args.append(a)
        close = self.next()
        if word in BARE_CMDS:
            if args:
                raise self.error(f"{word}() takes no parameter", t)
            kname = BARE_CMDS[word]
            return Call(**base, name=kname, kline=close.line, func=_core(kname), args=[], params=[])
        if word in FLAG_CMDS:
            if len(args) != 1 or args[0].kind != "NUM":
                raise self.error(f"{word}() needs one flag number (0-31)", t, f"{word}(N)")
            flag = _num(args[0])
            if not 0 <= flag <= 31:
                raise self.error(f"{word}({flag}): bad flag value (0-31)", args[0])
            params = [fn.Param(Const(t.file, t.line, t.col, flag))]
            return Call(**base, name=word, kline=close.line, func=_core(word), args=[], params=params)
        if word == "log":
            if len(args) == 1 and args[0].kind == "STR":
                level, text = 4, args[0].value
            elif len(args) == 2 and args[0].kind == "NUM" and args[1].kind == "STR":
                level, text = _num(args[0]), args[1].value
            else:
                raise self.error("log() needs a string, or a level and a string", t, 'log("text") or log(1, "text")')
            params = [fn.Param(Const(t.file, t.line, t.col, level)), fn.Param(Const(t.file, t.line, t.col, text),
                                                                                fmt=False)]
            return Call(**base, name="log", kline=close.line, func=_core("log"), args=[], params=params)
        kname = URI_CMDS[word]
        if kname in ("strip", "strip_tail"):
            if len(args) != 1 or args[0].kind != "NUM":
                raise self.error(f"{word}() needs a number", t, f"{word}(N)")
            if args[0].value.startswith("-"):  # the grammar wants a plain NUMBER (Kamailio: syntax error)
                raise self.error(f"{word}() needs a number of characters, not {args[0].value}", args[0],
                                 "bad argument, number expected")
            value: int | str = _num(args[0])
        else:
            if len(args) != 1 or args[0].kind != "STR":
                raise self.error(f"{word}() needs a quoted string", t, f'{word}("...")')
            value = args[0].value
        params = [fn.Param(Const(t.file, t.line, t.col, value), fmt=False)]
        spec = _core(kname)
        return Call(**base, name=spec.kname, kline=close.line, func=spec, args=[], params=params)

    # -- expressions --------------------------------------------------------------------------

def _core(name: str) -> fn.FuncSpec:
    for spec in fn.REGISTRY.candidates(name):
        if spec.module is None:
            return spec
    raise KeyError(name)  # pragma: no cover - every core command is registered

