"""The parser's token cursor and the vocabulary shared by its parts (see :mod:`sipsim.routing.parser`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipsim.routing import functions as fn
from sipsim.routing import pv
from sipsim.routing.errors import CfgError
from sipsim.routing.lexer import Token, script_lines
from sipsim.routing.operators import wrap32
from sipsim.routing.tree import RouteCall, Script

if TYPE_CHECKING:
    from sipsim.routing.tree import Call

BINARY: dict[str, tuple[str, int]] = {
    "||": ("||", 1), "or": ("||", 1),
    "&&": ("&&", 2), "and": ("&&", 2),
    "|": ("|", 3), "&": ("&", 4), "^": ("^", 5), "<<": ("<<", 6), ">>": (">>", 7),
    "==": ("==", 8), "!=": ("!=", 8), "=~": ("=~", 8), "eq": ("eq", 8), "ne": ("ne", 8),
    "ieq": ("ieq", 8), "ine": ("ine", 8),
    ">": (">", 9), "<": ("<", 9), ">=": (">=", 9), "<=": ("<=", 9),
    "+": ("+", 10), "-": ("-", 10),
    "*": ("*", 11), "/": ("/", 11), "mod": ("%", 11),
}
EQ_PREC = 8
ELEMS = {"method": "method", "uri": "uri", "from_uri": "from_uri", "to_uri": "to_uri", "src_ip": "src_ip",
         "src_port": "src_port", "dst_ip": "dst_ip", "dst_port": "dst_port", "proto": "proto", "af": "af",
         "status": "status"}
URI_CMDS = {
    "rewriteuri": "seturi", "seturi": "seturi",
    "rewritehost": "sethost", "sethost": "sethost", "seth": "sethost",
    "rewritehostport": "sethostport", "sethostport": "sethostport", "sethp": "sethostport",
    "rewriteuser": "setuser", "setuser": "setuser", "setu": "setuser",
    "rewriteport": "setport", "setport": "setport", "setp": "setport",
    "prefix": "prefix", "strip": "strip", "strip_tail": "strip_tail",
}
BARE_CMDS = {"force_rport": "force_rport", "add_rport": "force_rport", "revert_uri": "reverturi"}
FLAG_CMDS = ("setflag", "resetflag", "isflagset")
RET_KINDS = ("return", "exit", "drop", "break")

class TokenStream:
    """A cursor over the tokens, with the error helper every part of the parser uses."""

    def __init__(self, tokens: list[Token], script: Script) -> None:
        self.toks = tokens
        self.i = 0
        self.script = script
        self.route_type = fn.REQUEST_ROUTE
        self._route_calls: list[RouteCall] = []
        self._lines: dict[str, list[str]] = {}

    # -- token helpers ------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        j = min(self.i + k, len(self.toks) - 1)
        return self.toks[j]

    def next(self) -> Token:
        t = self.toks[self.i]
        if self.i < len(self.toks) - 1:
            self.i += 1
        return t

    def error(self, message: str, tok: Token, expected: str | None = None) -> CfgError:
        return CfgError(message, tok.file, tok.line, tok.col, expected=expected)

    def expect_op(self, op: str, expected: str | None = None) -> Token:
        t = self.peek()
        if not t.is_op(op):
            raise self.error(f"unexpected {t.describe()}", t, expected or f"'{op}'")
        return self.next()

    def source(self, tok: Token) -> str:
        lines = self._lines.get(tok.file)
        if lines is None:
            try:
                lines = script_lines(tok.file)
            except OSError:
                lines = self.script.lines
            self._lines[tok.file] = lines
        if 0 < tok.line <= len(lines):
            return lines[tok.line - 1].strip()
        return ""

    # -- top level ----------------------------------------------------------------------------
    def pvar(self, t: Token) -> pv.PvSpec:
        try:
            spec = pv.parse_pv(t.value)
        except pv.PvError as exc:
            raise self.error(str(exc), t) from None
        self._need_pv_module(spec, t)
        return spec

    def _need_pv_module(self, spec: pv.PvSpec, t: Token) -> None:
        owner = pv.MODULE_NAMES.get(spec.name)
        if owner is not None:
            if owner not in self.script.modules:
                raise self.error(f"{spec.text} is provided by the {owner} module, which is not loaded", t,
                                 f'loadmodule "{owner}.so" before the routes')
            return
        if spec.name not in pv.CORE_NAMES and "pv" not in self.script.modules:
            raise self.error(f"{spec.text} is provided by the pv module, which is not loaded", t,
                             'loadmodule "pv.so" before the routes')

    # -- commands -----------------------------------------------------------------------------
    def _base(self, t: Token) -> dict:
        return {"file": t.file, "line": t.line, "col": t.col, "src": self.source(t)}

    def cmd(self) -> Call | RouteCall:  # provided by parse_cmd.CmdParser
        raise NotImplementedError


def _num(t: Token) -> int:
    """A NUM token as Kamailio's lexer reads it: ``strtol`` in base 16 (``0x``), 8 (a leading 0:
    ``010`` is 8) or 10, into a C ``long`` (64 bits: larger values stop at its maximum), then cut to
    the ``int`` the cfg language computes with (measured with 5.6.3: ``4294967295`` is -1,
    ``99999999999`` is 1215752191). ``09`` is not a number in Kamailio (a syntax error)."""
    v = t.value
    if v[:2].lower() == "0x":
        n = int(v[2:], 16)
    elif v[:1] == "0" and len(v) > 1:
        if not set(v) <= set("01234567"):
            raise CfgError(f"syntax error: {v} is not a number (a leading 0 makes it octal, digits 0-7 only)",
                           t.file, t.line, t.col)
        n = int(v, 8)
    else:
        n = int(v, 10)
    return wrap32(min(n, (1 << 63) - 1))
