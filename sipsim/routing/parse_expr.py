"""Expressions of the cfg language (``rvalue.c``): C precedence, casts, ``$x == $null``, core tests.

``uri == myself``, ``method == "INVITE"``, ``src_ip == 10.0.0.0/8``, ``msg:len > 1000`` ... are
:class:`~sipsim.routing.tree.Elem` nodes; everything else is built from constants, pseudo-variables,
operators and function calls (a function used as a value is 1 when it returned > 0, else 0;
assigned alone, its return code: see :func:`_identity_operand`).
"""

from __future__ import annotations

import ipaddress

from sipsim.routing.errors import CfgError
from sipsim.routing.lexer import Token
from sipsim.routing.operators import EvalError, binop_value, wrap32
from sipsim.routing.parse_base import BARE_CMDS, BINARY, ELEMS, EQ_PREC, RET_KINDS, TokenStream, _num
from sipsim.routing.tree import (
    ActionExpr,
    BinOp,
    Const,
    Elem,
    Expr,
    Myself,
    Net,
    PvRef,
    RouteCall,
    UnOp,
)

#: words with a meaning of their own after ``method ==`` (any other identifier there is a method name)
_WORDS = frozenset(("yes", "true", "on", "no", "false", "off", "myself", "strlen", "strempty", "defined", "not",
                    "or", "and", "mod", "eq", "ne", "ieq", "ine", *ELEMS))


def _identity_operand(op: str, left: Expr, right: Expr) -> Expr | None:
    """Kamailio's optimizer drops an identity operation on an action (``f() + 0``, ``0 + f()``,
    ``f() - 0``, ``f() * 1``, ``1 * f()``, ``f() / 1``): the action alone is left, and the whole
    right side of an assignment that is one action assigns its return code (-1 ...), not 0/1
    (measured on 5.6.3). The action, or None when nothing is dropped."""
    if op not in ("+", "-", "*", "/"):
        return None
    unit = 0 if op in ("+", "-") else 1
    for x, c, ok in ((left, right, True), (right, left, op in ("+", "*"))):
        if ok and isinstance(x, ActionExpr) and isinstance(c, Const) and type(c.value) is int and c.value == unit:
            return x
    return None


class ExprParser(TokenStream):
    def expr(self, min_prec: int = 1) -> Expr:
        left = self.unary()
        while True:
            t = self.peek()
            if t.is_op("%"):
                raise self.error("'%' is not an operator in Kamailio's cfg language", t, "'mod' for the remainder")
            key = t.value if t.kind in ("OP", "ID") else None
            if key is None or key not in BINARY or (t.kind == "ID" and key not in
                                                    ("or", "and", "eq", "ne", "ieq", "ine", "mod")):
                return left
            op, prec = BINARY[key]
            if prec < min_prec:
                return left
            self.next()
            right = self.expr(prec + 1)
            left = self._binop(op, left, right, t)

    def _binop(self, op: str, left: Expr, right: Expr, t: Token) -> Expr:
        if isinstance(right, PvRef) and right.spec.name == "null":
            if op in ("==", "eq", "ieq"):
                return UnOp(t.file, t.line, t.col, "undefined", left)
            if op in ("!=", "ne", "ine"):
                return UnOp(t.file, t.line, t.col, "defined", left)
        if op == "=~" and isinstance(right, Const):
            from sipsim.routing.regex import compile_posix

            try:
                compile_posix(str(right.value))
            except ValueError as exc:
                raise self.error(f"bad regular expression {right.value!r}: {exc}", t) from None
        if op in _INT_OPS or (op in ("==", "!=", "+") and static_type(left) == "int"):
            for side in (left, right):
                if static_type(side) == "str":
                    raise self._mismatch(side, op)
        if isinstance(left, Const) and isinstance(right, Const) and op not in ("=~", "||", "&&"):
            # Kamailio folds constant expressions at load time: "$var(x)" + "\n" is one format string
            try:
                # (the type checks above leave no text to turn into a number: no warning to keep)
                return Const(left.file, left.line, left.col, binop_value(op, left.value, right.value, None))
            except EvalError:
                pass  # division by 0 ...: left for run time, where it is reported
        kept = _identity_operand(op, left, right)
        if kept is not None:
            return kept
        return BinOp(t.file, t.line, t.col, op, left, right)

    def _mismatch(self, e: Expr, op: str) -> CfgError:
        """Kamailio's fixup of expressions (``rve_check_type``) refuses a string where a number is
        needed when it can tell at load time: a string literal, or a ``+`` that starts with one."""
        what = "mod" if op == "%" else op
        return CfgError(f"type mismatch: str instead of int (the operator '{what}' needs a number here)",
                        e.file, e.line, e.col)

    def unary(self) -> Expr:
        t = self.peek()
        if t.is_op("!") or t.is_id("not"):
            self.next()
            return UnOp(t.file, t.line, t.col, "!", self._int_operand(self.unary(), "!"))
        if t.is_op("-"):
            self.next()
            operand = self._int_operand(self.unary(), "-")
            if isinstance(operand, Const) and isinstance(operand.value, int):
                return Const(t.file, t.line, t.col, wrap32(-operand.value))
            return UnOp(t.file, t.line, t.col, "-", operand)
        if t.is_op("~"):
            self.next()
            return UnOp(t.file, t.line, t.col, "~", self._int_operand(self.unary(), "~"))
        if t.is_id("defined"):
            self.next()
            return UnOp(t.file, t.line, t.col, "defined", self.unary())
        if t.is_op("(") and self.peek(1).is_id("int", "str") and self.peek(2).is_op(")"):
            self.next()
            kind = self.next().value
            self.next()
            return UnOp(t.file, t.line, t.col, kind, self.unary())
        return self.primary()

    def _int_operand(self, e: Expr, op: str) -> Expr:
        if static_type(e) == "str":
            raise self._mismatch(e, op)
        return e

    def primary(self) -> Expr:
        t = self.peek()
        if t.kind == "NUM":
            self.next()
            return Const(t.file, t.line, t.col, _num(t))
        if t.kind == "STR":
            self.next()
            return Const(t.file, t.line, t.col, t.value)
        if t.kind == "PVAR":
            self.next()
            return PvRef(t.file, t.line, t.col, self.pvar(t))
        if t.is_op("("):
            self.next()
            e = self.expr()
            close = self.peek()
            if not close.is_op(")"):
                if close.is_op("="):
                    # if ($rU = "bob"): Kamailio 5.6 takes it as an assignment whose value is tested
                    # (measured: it assigns and the test is true); a teaching tool says so instead
                    raise self.error("'=' assigns; did you mean '=='? (Kamailio 5.6 would assign here and test "
                                     "the assigned value; sipsim refuses it)", close, "'==' to compare")
                raise self.error(f"unexpected {close.describe()} in the expression", close, "')'")
            self.next()
            return e
        if t.kind == "ID":
            word = t.value
            if word in ("strlen", "strempty") and self.peek(1).is_op("("):
                self.next()
                self.next()
                e = self.expr()
                self.expect_op(")", f"')' to close {word}(")
                return UnOp(t.file, t.line, t.col, word, e)
            if word == "myself":
                self.next()
                op = self.peek()
                if op.is_op("==", "!=") and self.peek(1).kind == "ID" and self.peek(1).value in ELEMS:
                    self.next()
                    what = self.next().value
                    return Elem(t.file, t.line, t.col, ELEMS[what], op.value, Myself(t.file, t.line, t.col))
                raise self.error("'myself' must be compared with uri, from_uri, to_uri, src_ip or dst_ip", t,
                                 "uri == myself")
            if word in ELEMS or (word == "msg" and self.peek(1).is_op(":")):
                return self.elem()
            if word in ("yes", "true", "on"):
                self.next()
                return Const(t.file, t.line, t.col, 1)
            if word in ("no", "false", "off"):
                self.next()
                return Const(t.file, t.line, t.col, 0)
            if word in ("if", "else", "switch", "while") or word in RET_KINDS:
                raise self.error(f"'{word}' cannot be used inside an expression", t)
            if self.peek(1).is_op("(") or word in BARE_CMDS:
                call = self.cmd()
                if isinstance(call, RouteCall):
                    return ActionExpr(t.file, t.line, t.col, call)  # type: ignore[arg-type]
                return ActionExpr(t.file, t.line, t.col, call)
            raise self.error(f"unexpected identifier '{word}' in the expression", t,
                             "a value, a pseudo-variable, a function call or a test such as uri == myself")
        raise self.error(f"unexpected {t.describe()} in the expression", t,
                         "a value, a pseudo-variable or a function call")

    def elem(self) -> Elem:
        t = self.next()
        what = t.value
        if what == "msg":
            self.next()
            ln = self.next()
            if ln.value != "len":
                raise self.error("expected msg:len", ln)
            what = "msg_len"
        else:
            what = ELEMS[what]
        op_tok = self.peek()
        key = op_tok.value if op_tok.kind in ("OP", "ID") else ""
        allowed = ("==", "!=", "=~", "eq", "ne") if what not in ("src_port", "dst_port", "msg_len", "af") else \
            ("==", "!=", ">", "<", ">=", "<=")
        if key not in allowed:
            raise self.error(f"unexpected {op_tok.describe()} after '{t.value}'", op_tok,
                             "one of " + ", ".join(allowed))
        self.next()
        op = BINARY[key][0]
        nxt = self.peek()
        if nxt.is_id("myself"):
            if what not in ("uri", "from_uri", "to_uri", "src_ip", "dst_ip") or op not in ("==", "!="):
                raise self.error(f"'{t.value} {op} myself' is not a valid test", nxt)
            self.next()
            return Elem(t.file, t.line, t.col, what, op, Myself(nxt.file, nxt.line, nxt.col))
        if what in ("src_ip", "dst_ip") and nxt.kind == "NUM":
            return Elem(t.file, t.line, t.col, what, op, self.net())
        if what == "proto" and nxt.kind == "ID":
            self.next()
            return Elem(t.file, t.line, t.col, what, op, Const(nxt.file, nxt.line, nxt.col, nxt.value.lower()))
        if what == "af" and nxt.kind == "ID":
            self.next()
            return Elem(t.file, t.line, t.col, what, op, Const(nxt.file, nxt.line, nxt.col, nxt.value.upper()))
        if what == "method" and nxt.kind == "ID" and not self.peek(1).is_op("(") and nxt.value not in _WORDS:
            self.next()  # Kamailio's `METHOD strop ID`: `method == INVITE` is `method == "INVITE"`
            right: Expr = Const(nxt.file, nxt.line, nxt.col, nxt.value)
        else:
            right = self.expr(EQ_PREC + 1)
            self._no_calls(right, f"the right side of '{t.value} {op}'")
        if op == "=~" and isinstance(right, Const):
            from sipsim.routing.regex import compile_posix

            try:
                compile_posix(str(right.value))
            except ValueError as exc:
                raise self.error(f"bad regular expression {right.value!r}: {exc}", nxt) from None
        return Elem(t.file, t.line, t.col, what, op, right)

    def net(self) -> Net:
        first = self.peek()
        parts = []
        last = first
        while True:
            n = self.peek()
            if parts and (n.line != last.end_line or n.col != last.end_col + 1):
                break
            if n.kind == "NUM" or n.is_op(".", "/"):
                parts.append(n.value)
                last = self.next()
                continue
            break
        text = "".join(parts)
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise self.error(f"bad IP address or network {text!r}", first, "a.b.c.d or a.b.c.d/len") from None
        return Net(first.file, first.line, first.col, text)

    def _no_calls(self, e: Expr, where: str) -> None:
        if _has_call(e):
            raise CfgError(f"a function call cannot be used in {where} in sipsim (call it in an if, or assign "
                           "its result first)", e.file, e.line, e.col)



# operators that work on numbers only; their result is a number
_INT_OPS = frozenset(("||", "&&", "|", "&", "^", "<<", ">>", ">", "<", ">=", "<=", "-", "*", "/", "%", "ieq", "ine"))


def static_type(e: Expr) -> str | None:
    """The type Kamailio can tell at load time: "int", "str", or None (a pseudo-variable, a
    function: known only when the message is there). ``+`` takes the type of its left side."""
    if isinstance(e, Const):
        return "int" if isinstance(e.value, int) else "str"
    if isinstance(e, BinOp):
        return static_type(e.left) if e.op == "+" else "int"
    if isinstance(e, UnOp):
        return "str" if e.op == "str" else "int"
    return None


def _has_call(e: Expr) -> bool:
    if isinstance(e, ActionExpr):
        return True
    if isinstance(e, UnOp):
        return _has_call(e.operand)
    if isinstance(e, BinOp):
        return _has_call(e.left) or _has_call(e.right)
    return False


