"""The action tree: what the parser builds and the interpreter walks (Kamailio's ``struct action``).

Every node remembers where it was written (``file``, ``line``, ``col``: the first token), so the TUI
can highlight it. Actions also carry ``kline``: the line Kamailio itself attaches to the action.
Kamailio stamps an action with the scanner's *current* line when the grammar rule is reduced
(``set_cfg_pos`` in ``cfg.y``), which is sometimes the line of the token after the construct: an
``if`` without ``else`` gets the line of whatever follows it, an assignment the line of its ``;``,
a bare ``exit`` the line of its ``;``. The debugger module's ``cfgtrace`` prints that line, so
sipsim keeps both: ``line`` to show where the action starts, ``kline`` to compare with Kamailio.

``name`` is the action's name as Kamailio's debugger prints it (``if``, ``assign``, ``return``,
``exit``, ``drop``, ``route``, ``switch``, ``case`` for a switch on strings, ``while``, ``seturi``,
``forward``, or the module function's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sipsim.routing.functions import FuncSpec
    from sipsim.routing.pv import PvSpec


@dataclass(eq=False)
class Node:
    file: str
    line: int
    col: int

    # An expression node's ``pure`` (no function call inside) is stamped by
    # ``router.fix_actions`` when the script is loaded; until then every expression is evaluated
    # the general way (through generators), which is always right, only slower.
    pure: ClassVar[bool] = False
    # ``kconst``: made of constants only (``1 == 0``, ``!1``), which Kamailio's optimizer folds at
    # load time; ``||``/``&&`` read it (interp._logic). Stamped by ``fix_actions`` too.
    kconst: ClassVar[bool] = False


# -- expressions ---------------------------------------------------------------------------------
@dataclass(eq=False)
class Const(Node):
    value: int | str


@dataclass(eq=False)
class PvRef(Node):
    spec: PvSpec


@dataclass(eq=False)
class UnOp(Node):
    op: str  # "!", "-", "~", "defined", "strlen", "strempty", "int", "str"
    operand: Expr


@dataclass(eq=False)
class BinOp(Node):
    op: str  # "||", "&&", "|", "&", "^", "<<", ">>", "==", "!=", "=~", "eq", "ne", "ieq", "ine",
    # ">", "<", ">=", "<=", "+", "-", "*", "/", "%"
    left: Expr
    right: Expr


@dataclass(eq=False)
class ActionExpr(Node):
    """A function call used as a value: true when it returned > 0 (Kamailio's ``run_actions_safe``)."""

    action: Call


@dataclass(eq=False)
class Myself(Node):
    pass


@dataclass(eq=False)
class Net(Node):
    """An IP address or network written in the script (``src_ip == 10.0.0.0/8``)."""

    text: str


@dataclass(eq=False)
class Elem(Node):
    """A core test on a message part: ``uri == myself``, ``method == "INVITE"``, ``src_ip == 1.2.3.4``."""

    what: str  # uri, from_uri, to_uri, method, status, src_ip, src_port, dst_ip, dst_port, proto, af, msg_len
    op: str
    right: Expr | Myself | Net


Expr = Const | PvRef | UnOp | BinOp | ActionExpr | Elem | Myself | Net


# -- actions -------------------------------------------------------------------------------------
@dataclass(eq=False)
class Action(Node):
    name: str = ""
    kline: int = 0  # the line Kamailio's cfgtrace reports (see the module docstring)
    after: int = 0  # the scanner's line once the action was reduced (for an enclosing if/while)
    src: str = ""  # the source text of the action's first line, for narration


@dataclass(eq=False)
class Call(Action):
    func: FuncSpec | None = None
    args: list[Expr] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)  # fixed-up parameters (functions.Param ...)


@dataclass(eq=False)
class If(Action):
    cond: Expr | None = None
    then: list[Action] = field(default_factory=list)
    orelse: list[Action] | None = None


@dataclass(eq=False)
class Case:
    values: list[int | str] | None  # None: default
    actions: list[Action]
    regex: bool = False
    line: int = 0


@dataclass(eq=False)
class Switch(Action):
    expr: Expr | None = None
    cases: list[Case] = field(default_factory=list)
    strings: bool = False


@dataclass(eq=False)
class While(Action):
    cond: Expr | None = None
    body: list[Action] = field(default_factory=list)


@dataclass(eq=False)
class Assign(Action):
    target: PvRef | None = None
    expr: Expr | None = None


@dataclass(eq=False)
class Ret(Action):
    kind: str = "return"  # return, exit, drop, break
    expr: Expr | None = None


@dataclass(eq=False)
class RouteCall(Action):
    target: str = ""


@dataclass
class RouteBlock:
    """One route block: ``request_route``, ``route[NAME]``, ``onreply_route`` ..."""

    kind: str  # request_route, route, onreply_route, failure_route, branch_route, onsend_route, event_route
    name: str  # "" for the unnamed request_route / onreply_route
    actions: list[Action]
    file: str
    line: int

    @property
    def label(self) -> str:
        return f"{self.kind}[{self.name}]" if self.name else self.kind


@dataclass
class Script:
    """A parsed cfg script."""

    file: str
    request: RouteBlock | None = None
    onreply: RouteBlock | None = None
    routes: dict[str, RouteBlock] = field(default_factory=dict)  # route[NAME]
    other: list[RouteBlock] = field(default_factory=list)  # failure/branch/onsend/event/named onreply
    modules: list[str] = field(default_factory=list)
    modparams: dict[tuple[str, str], int | str] = field(default_factory=dict)
    globals: dict[str, list[Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the main file's text, for narration

    def modparam(self, module: str, name: str, default: Any) -> Any:
        return self.modparams.get((module, name), default)

    def count_actions(self) -> int:
        total = 0
        blocks = [b for b in (self.request, self.onreply) if b] + list(self.routes.values()) + self.other
        for b in blocks:
            total += _count(b.actions)
        return total


def _count(actions: list[Action]) -> int:
    n = 0
    for a in actions:
        n += 1
        if isinstance(a, If):
            n += _count(a.then) + (_count(a.orelse) if a.orelse else 0)
        elif isinstance(a, While):
            n += _count(a.body)
        elif isinstance(a, Switch):
            for c in a.cases:
                n += _count(c.actions)
    return n
