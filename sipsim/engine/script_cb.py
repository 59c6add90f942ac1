"""Pre- and post-script callbacks (``src/core/script_cb.c``).

Modules register callbacks that run just before the routing script (pre) and after it (post), for
requests and/or replies. Kamailio runs them newest-registered first; the first pre-script callback
that returns 0 stops the chain and the message is dropped. Two real ones are installed by default,
as a Kamailio with kex and sl loaded has them (in the order the script loads the two modules, see
:func:`callbacks_for`):

* ``kex:core_stats`` counts ``rcv_requests``/``rcv_replies`` and Kamailio 5.6's fixed per-method,
  per-class and per-code counters (``sipsim.engine.stats``). Kamailio registers three functions
  (``km_cb_req_stats`` for requests; ``km_cb_rpl_stats`` and ``km_cb_rpl_stats_by_method`` for
  replies); we register the request one and one reply callback doing both reply jobs, under the
  one name — a simplification: a reply's trace shows one kex callback, not two;
* ``sl:filter_ACK`` swallows an ACK that answers one of our own stateless replies (its To-tag is
  ours): there is nothing to forward it to (``src/modules/sl/sl_funcs.c``). It tests the parsed
  method (``method_value``), so whatever the first-line parser calls an ACK counts: in the
  kamailio profile that includes ``ack`` in lower case (the ser profile's parser knows only
  ``ACK``, as the RFC: methods are case-sensitive). As Kamailio's, the filter looks only while a
  stateless reply of this server went out less than ``SL_RPL_WAIT_TIME`` (2 s) ago
  (``sipsim.engine.sl_timeout``) — a later ACK goes to the script whatever its tag — and compares
  the whole To-tag, its per-request part recomputed from the ACK (``sl.is_our_sl_tag``).

Your own: ``callbacks.register_pre(fn, name="mine")`` with ``fn(msg, ctx) -> int``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipsim.engine.parser.fline import SIP_VERSION
from sipsim.engine.parser.hf import F_CSEQ, F_TO
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.stats import REPLY_BY_METHOD, REPLY_STATS, REQUEST_STAT

if TYPE_CHECKING:
    from sipsim.engine.context import WorkerContext
    from sipsim.engine.parser.msg import SipMsg

REQUEST_CB = 1
ONREPLY_CB = 2

Callback = Callable[["SipMsg", "WorkerContext"], int]


@dataclass(frozen=True)
class ScriptCallback:
    name: str
    fn: Callback
    types: int


class ScriptCallbacks:
    """The registered callbacks of one server (shared by its workers)."""

    def __init__(self) -> None:
        self.pre: list[ScriptCallback] = []
        self.post: list[ScriptCallback] = []

    def register_pre(self, fn: Callback, *, types: int = REQUEST_CB | ONREPLY_CB, name: str | None = None) -> None:
        self.pre.insert(0, ScriptCallback(name or getattr(fn, "__name__", "callback"), fn, types))

    def register_post(self, fn: Callback, *, types: int = REQUEST_CB | ONREPLY_CB, name: str | None = None) -> None:
        self.post.insert(0, ScriptCallback(name or getattr(fn, "__name__", "callback"), fn, types))

    def for_type(self, pre: bool, cb_type: int) -> list[ScriptCallback]:
        return [cb for cb in (self.pre if pre else self.post) if cb.types & cb_type]


def km_cb_req_stats(msg: SipMsg, ctx: WorkerContext) -> int:
    """kex's request counter: ``rcv_requests``, then the method's own counter (one dict lookup on
    the parsed method bit). A method the parser does not know (``METHOD_OTHER``) is an
    ``unsupported_methods``; one it knows but kex has no counter for (in the kamailio profile KDMQ,
    GET, POST, PUT, DELETE, which Kamailio 5.6's parser gives bits of their own) adds nothing more."""
    fl = msg.first_line
    if fl is None:
        return 1
    stats = ctx.stats
    stats["rcv_requests"] += 1
    if fl.version != SIP_VERSION and not fl.is_sip:
        return 1  # Kamailio: !IS_SIP(msg) counts the request, not its method
    name = REQUEST_STAT.get(fl.method_value)
    if name is not None:
        stats[name] += 1
    return 1


def km_cb_rpl_stats(msg: SipMsg, ctx: WorkerContext) -> int:
    """kex's two reply counters in one: ``rcv_replies`` with its class/18x/code counters
    (``km_cb_rpl_stats``), then the class per CSeq method (``km_cb_rpl_stats_by_method``), which
    parses the CSeq itself if nobody has (a failed parse counts as a ``bad_msg_hdr``, as in Kamailio)."""
    fl = msg.first_line
    if fl is None:
        return 1
    stats = ctx.stats
    stats["rcv_replies"] += 1
    status = fl.status
    for name in REPLY_STATS.get(status, ()):
        stats[name] += 1
    if msg.cseq is None:
        parse_headers(msg, F_CSEQ)
    cseq = msg.cseq.parsed if msg.cseq is not None else None
    if cseq is None:
        return 1
    cls = status // 100
    if 1 <= cls <= 6:
        method = cseq.method
        names = REPLY_BY_METHOD.get(method, False)
        if names is False:
            names = REPLY_BY_METHOD.get(method.upper())
        if names:
            stats[names[cls - 1]] += 1
    return 1


def sl_filter_ack(msg: SipMsg, ctx: WorkerContext) -> int:
    if msg.is_request and msg.first_line is not None and msg.first_line.method_is("ACK"):
        from sipsim.engine.sl import is_our_sl_tag  # sl imports the context, which imports this module

        if not ctx.sl_timeout.expects_ack(msg.time):  # no stateless reply in the last 2 s: "too late"
            return 1
        parse_headers(msg, F_TO)  # the ser profile has not parsed To yet: sl asks for it itself
        to = msg.to.parsed if msg.to is not None else None
        tag = to.param("tag") if to is not None else None
        if tag and is_our_sl_tag(ctx, msg, tag):
            ctx.stats["received_ACKs"] += 1  # sl:received_ACKs — the ACK for one of sl's own replies
            return 0
    return 1


def _register_kex(cbs: ScriptCallbacks) -> None:
    cbs.register_pre(km_cb_req_stats, types=REQUEST_CB, name="kex:core_stats")
    cbs.register_pre(km_cb_rpl_stats, types=ONREPLY_CB, name="kex:core_stats")


def _register_sl(cbs: ScriptCallbacks) -> None:
    cbs.register_pre(sl_filter_ack, types=REQUEST_CB, name="sl:filter_ACK")


#: Kamailio's stock kamailio.cfg loads kex.so before sl.so, and so does sipsim's default.cfg
STOCK_ORDER = ("kex", "sl")


def default_callbacks(modules: Sequence[str] = STOCK_ORDER) -> ScriptCallbacks:
    """kex's and sl's callbacks, registered in the order ``modules`` loads the two.

    Each module registers its callbacks when it initialises, and Kamailio 5.6 initialises the
    modules in the order the script loads them; registering puts a callback at the head of the
    list. So the module loaded *last* runs first (measured on 5.6.3: with ``sl.so`` loaded before
    ``kex.so`` the ACK that sl swallows is counted in ``rcv_requests_ack``; the other way round
    it is not). Simplification: sipsim always counts and always filters, as if both modules were
    loaded; one the script does not load counts as loaded before all the others.
    """
    register = {"kex": _register_kex, "sl": _register_sl}
    loaded = list(modules)
    cbs = ScriptCallbacks()
    for name in sorted(register, key=lambda m: loaded.index(m) if m in loaded else -1):  # (stable: kex, sl)
        register[name](cbs)
    return cbs


def callbacks_for(router: object) -> ScriptCallbacks:
    """The callbacks of a server running ``router``: its script's ``loadmodule`` order when it has
    one (a cfg script, the built-in default route), else the stock order (a KEMI script)."""
    modules = getattr(router, "modules", None)
    return default_callbacks(STOCK_ORDER if modules is None else modules)
