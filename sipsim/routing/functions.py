"""The function registry: which cfg functions exist, in which module, with how many parameters.

Kamailio resolves every function call when it loads the script (``find_export_record`` in
``cfg.y``) and "fixes up" its parameters (pre-compiles them). sipsim does the same: the parser asks
:func:`lookup` for the :class:`FuncSpec`, checks the number of parameters and the route block it
is used in, and turns each parameter into a :class:`Param` (a constant, a format string with
pseudo-variables, or an expression). Any mistake is a load error with the call's line and column,
never a surprise at run time.

The module catalog says what ``loadmodule`` accepts: the modules sipsim models, the management
modules that do nothing here (accepted), ``tm``/``tmx`` (accepted, but every stateful function is
refused), and the rest of Kamailio's modules (refused by name).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sipsim.engine.parser.lex import digits_value
from sipsim.routing import pv, pv_format
from sipsim.routing.tree import Const, Expr, PvRef

if TYPE_CHECKING:
    from sipsim.routing.interp import Run

REQUEST_ROUTE = 1
ONREPLY_ROUTE = 2
FAILURE_ROUTE = 4
BRANCH_ROUTE = 8
ONSEND_ROUTE = 16
EVENT_ROUTE = 32
ANY_ROUTE = 63
ROUTE_TYPE_NAMES = {REQUEST_ROUTE: "request_route", ONREPLY_ROUTE: "onreply_route", FAILURE_ROUTE: "failure_route",
                    BRANCH_ROUTE: "branch_route", ONSEND_ROUTE: "onsend_route", EVENT_ROUTE: "event_route"}

Handler = Callable[["Run", list["Param"]], Generator[Any, Any, int]]


class FixupError(ValueError):
    """A parameter that is wrong at load time (reported with the call's position)."""


class Param:
    """One fixed-up function parameter: a constant, a format string, or an expression."""

    __slots__ = ("expr", "const", "parts", "_str", "_int")

    def __init__(self, expr: Expr, *, fmt: bool = True) -> None:
        self.expr = expr
        self.const: int | str | None = None
        self.parts: list[pv_format.Part] | None = None
        if isinstance(expr, Const):
            if isinstance(expr.value, str) and fmt and "$" in expr.value:
                try:
                    self.parts = pv_format.parse_format(expr.value)
                except pv.PvError as exc:
                    raise FixupError(str(exc)) from None
                if all(isinstance(p, str) for p in self.parts):
                    self.const, self.parts = "".join(self.parts), None  # type: ignore[arg-type]
            else:
                self.const = expr.value
        # a constant's text and number, worked out once here rather than per message
        c = self.const
        self._str = "" if c is None else str(c)
        self._int = c if isinstance(c, int) else (parse_int(str(c)) if c is not None else None)

    @property
    def is_const(self) -> bool:
        return self.const is not None

    def value(self, run: Run) -> int | str | None:
        if self.const is not None:
            return self.const
        if self.parts is not None:
            return pv_format.expand(run, self.parts)
        return run.eval_pure(self.expr)

    def str(self, run: Run) -> str:
        if self.const is not None:
            return self._str
        v = self.value(run)
        return "" if v is None else str(v)

    def int(self, run: Run) -> int | None:
        if self.const is not None:
            return self._int
        v = self.value(run)
        if isinstance(v, int):
            return v
        return parse_int(str(v)) if v is not None else None


def parse_int(text: str) -> int | None:
    """A function's number parameter given as text (``sl_send_reply("300", ...)``), as Kamailio's
    fixup reads it (``str2sint``): one optional sign and ASCII decimal digits, a leading 0 still
    decimal; None for anything else. Measured with 5.6.3: ``"+300"`` and ``"0300"`` are 300,
    ``"0x12c"``, ``" 300"`` and ``"300 "`` stop the start ("int conversions failed"). Stricter than
    the cfg expressions' own conversion (``operators.str2int``), which reads ``0x``."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    value = digits_value(digits)  # (None for thousands of digits: int() refuses them)
    if value is None:
        return None
    return -value if text[:1] == "-" else value


def int_const(param: Param, what: str) -> int:
    """A parameter that must be a whole number written in the script."""
    v = param.const
    if isinstance(v, int):
        return v
    n = parse_int(str(v)) if v is not None else None
    if n is None:
        raise FixupError(f"{what} must be a number, not {_show(param)}")
    return n


def str_const(param: Param, what: str) -> str:
    if param.const is None or param.parts is not None:
        raise FixupError(f"{what} must be a constant string, not {_show(param)}")
    return str(param.const)


def _show(param: Param) -> str:
    e = param.expr
    if isinstance(e, Const):
        return repr(e.value)
    if isinstance(e, PvRef):
        return e.spec.text
    return "an expression"


@dataclass(frozen=True)
class FuncSpec:
    name: str
    module: str | None  # None: core; "sipsim": sipsim's own
    nargs: tuple[int, ...]
    handler: Handler
    route_types: int = ANY_ROUTE
    trace_name: str | None = None  # the name Kamailio's debugger prints, when it differs
    fixup: Callable[[list[Param]], None] | None = None  # load-time checks of constant parameters
    fmt: bool = True  # string parameters may hold pseudo-variables
    doc: str = ""
    rve: bool = False  # parameters may be expressions known only at run time ($var(x), "a" + $rU)

    @property
    def kname(self) -> str:
        return self.trace_name or self.name


@dataclass
class Registry:
    funcs: dict[str, list[FuncSpec]] = field(default_factory=dict)

    def add(self, spec: FuncSpec) -> None:
        self.funcs.setdefault(spec.name, []).append(spec)

    def candidates(self, name: str) -> list[FuncSpec]:
        return self.funcs.get(name, [])


REGISTRY = Registry()


def export(name: str, module: str | None, nargs: tuple[int, ...], *, route_types: int = ANY_ROUTE,
           trace_name: str | None = None, fixup: Callable[[list[Param]], None] | None = None,
           fmt: bool = True, rve: bool = False) -> Callable[[Handler], Handler]:
    """Decorator: register a handler as a cfg function (as a module's ``cmd_export_t`` entry).

    ``rve``: the function takes a parameter computed at run time (a bare ``$var(x)``, ``"a" + $rU``)
    as Kamailio does for the few functions whose fixups accept one (``FIXUP_F_FPARAM_RVE``);
    otherwise such a parameter is refused at load time, as Kamailio's "parameter N is not constant".
    """

    def deco(fn: Handler) -> Handler:
        REGISTRY.add(FuncSpec(name, module, nargs, fn, route_types, trace_name, fixup, fmt,
                              (fn.__doc__ or "").strip().split("\n")[0], rve))
        return fn

    return deco


# -- the module catalog --------------------------------------------------------------------------
MODELED = ("sl", "maxfwd", "sanity", "textops", "siputils", "rr", "registrar", "usrloc", "xlog", "pv", "kex")
ADMIN_NOOP = ("debugger", "ctl", "jsonrpcs", "cfg_rpc", "counters", "mi_fifo", "corex")
STATEFUL = ("tm", "tmx", "dialog", "acc", "uac", "dispatcher")
STATEFUL_FUNCS = {
    "t_relay": "tm", "t_newtran": "tm", "t_check_trans": "tm", "t_reply": "tm", "t_on_reply": "tm",
    "t_on_failure": "tm", "t_on_branch": "tm", "t_set_fr": "tm", "t_forward_nonack": "tm",
    "t_release": "tm", "t_lookup_request": "tm", "t_lookup_cancel": "tm", "t_is_canceled": "tm",
    "t_precheck_trans": "tmx", "t_flush_flags": "tmx", "t_reply_callid": "tmx", "t_continue": "tmx",
}
# functions of the modules sipsim models (and of the core) that sipsim does not model: Kamailio
# knows them, so "unknown function" would mislead; they are refused naming their module.
UNMODELED_FUNCS: dict[str, str] = {
    **dict.fromkeys(("subst_user", "subst_hf", "replace_hdrs", "remove_hf_exp", "search_hf",
                     "append_urihf", "append_body_part", "remove_body_part",
                     "is_audio_on_hold", "cmp_str", "cmp_istr", "starts_with", "ends_with", "str_find",
                     "in_list", "set_body", "set_reply_body", "filter_body", "append_time", "is_privacy",
                     "append_hf_value", "insert_hf_value", "remove_hf_value", "assign_hf_value",
                     "regex_substring", "get_body_part", "set_body_multipart", "fnmatch"), "textops"),
    **dict.fromkeys(("uri_param", "add_uri_param", "del_uri_param", "tel2sip", "is_e164", "is_uri_user_e164",
                     "options_reply", "is_request", "is_reply", "is_user", "cmp_uri", "cmp_aor", "is_gruu",
                     "is_tel_number", "is_numeric", "is_alphanum", "sip_p_charging_vector", "is_first_hop",
                     "is_supported", "is_uri"), "siputils"),
    **dict.fromkeys(("add_rr_param", "check_route_param", "is_direction", "record_route_preset",
                     "record_route_advertised_address", "loose_route_preloaded", "remove_record_route"), "rr"),
    **dict.fromkeys(("setdsturi", "resetdsturi", "isdsturiset", "setbflag", "resetbflag", "isbflagset",
                     "setsflag", "resetsflag", "issflagset", "km_append_branch", "pv_printf"), "kex"),
    **dict.fromkeys(("avp_printf", "pv_unset", "pv_isset", "is_int", "typeof", "not_empty"), "pv"),
    **dict.fromkeys(("set_advertised_address", "set_advertised_port", "error", "force_send_socket",
                     "set_forward_no_connect", "add_local_rport", "udp_mtu_try_proto", "revert_uri_t",
                     "append_branch", "force_tcp_alias", "set_reply_close"), "core"),
    **dict.fromkeys(("save_noreply", "unregister", "reg_fetch_contacts", "reg_free_contacts", "lookup_branches",
                     "add_sock_hdr", "lookup_to_dset"), "registrar"),
    **dict.fromkeys(("send_reply_mode", "sl_forward_reply"), "sl"),
}

ALL_KAMAILIO = (
    "acc", "acc_diameter", "alias_db", "app_jsdt", "app_lua", "app_python3", "app_python3s", "app_ruby",
    "app_sqlang", "async", "auth", "auth_db", "auth_diameter", "auth_ephemeral", "auth_xkeys", "avp", "avpops",
    "benchmark", "blst", "call_control", "call_obj", "carrierroute", "cfgt", "cfgutils", "db_mysql",
    "db_postgres", "db_sqlite", "db_text", "dialog", "dialplan", "dispatcher", "diversion", "dmq", "domain",
    "drouting", "enum", "evrexec", "exec", "group", "htable", "imc", "ipops", "jansson", "keepalive", "kemix",
    "lcr", "log_custom", "mangler", "mqueue", "msilo", "mtree", "nat_traversal", "nathelper", "outbound",
    "path", "pdb", "permissions", "pike", "pipelimit", "presence", "prefix_route", "pua", "qos", "ratelimit",
    "regex", "rtimer", "rtjson", "rtpengine", "rtpproxy", "sca", "sdpops", "secfilter", "sipcapture",
    "sipdump", "siptrace", "sqlops", "sst", "statistics", "stun", "tcpops", "textopsx", "timer", "tls",
    "topoh", "topos", "tsilo", "uac", "uac_redirect", "userblocklist", "websocket", "xhttp", "xhttp_rpc",
)


def module_name(spec: str) -> str:
    """``"sl.so"``, ``"/usr/lib/kamailio/modules/sl.so"`` or ``"sl"`` -> ``"sl"``."""
    base = spec.rsplit("/", 1)[-1]
    return base[:-3] if base.endswith(".so") else base


def check_module(name: str) -> str | None:
    """Why ``loadmodule`` refuses this module, or None when sipsim accepts it."""
    if name in MODELED or name in ADMIN_NOOP or name in ("tm", "tmx"):
        return None
    if name in ("app_python3", "app_python3s", "app_lua", "app_jsdt", "app_ruby", "app_sqlang"):
        return (f"module '{name}' (a KEMI engine) is not loaded from a cfg in sipsim: give the Python script "
                "itself with --route script.py")
    if name in STATEFUL:
        return f"module '{name}' keeps state (transactions, dialogs): sipsim models Kamailio's stateless core"
    if name in ALL_KAMAILIO:
        return (f"module '{name}' is not modeled by sipsim (modeled: {', '.join(MODELED)}; "
                f"accepted and ignored: {', '.join(ADMIN_NOOP)})")
    return f"unknown module '{name}' (sipsim models: {', '.join(MODELED)})"


# modparams sipsim accepts: (module, name) -> (type, honoured?)  "int"/"str"
MODPARAMS: dict[tuple[str, str], str] = {
    ("sanity", "default_checks"): "int",
    ("sanity", "uri_checks"): "int",
    ("sanity", "autodrop"): "int",
    ("sanity", "noreply"): "int",
    ("maxfwd", "max_limit"): "int",
    ("registrar", "default_expires"): "int",
    ("registrar", "min_expires"): "int",
    ("registrar", "max_expires"): "int",
    ("registrar", "max_contacts"): "int",
    ("registrar", "received_param"): "str",
    ("registrar", "method_filtering"): "int",
    ("usrloc", "db_mode"): "int",
    ("usrloc", "use_domain"): "int",
    ("usrloc", "timer_interval"): "int",
    ("usrloc", "nat_bflag"): "int",
    ("rr", "append_fromtag"): "int",
    ("rr", "enable_full_lr"): "int",
    ("rr", "enable_double_rr"): "int",
    ("rr", "add_username"): "int",
    ("sl", "bind_tm"): "int",
    ("xlog", "buf_size"): "int",
    ("xlog", "prefix"): "str",
    ("xlog", "log_colors"): "str",
    ("tm", "fr_timer"): "int",
    ("tm", "fr_inv_timer"): "int",
    ("kex", "*"): "any",
    ("debugger", "*"): "any",
    ("ctl", "*"): "any",
    ("jsonrpcs", "*"): "any",
    ("corex", "*"): "any",
    ("tmx", "*"): "any",
    ("tm", "*"): "any",
}

# module parameters whose non-default values sipsim cannot honour: refused rather than ignored
MODPARAM_LIMITS: dict[tuple[str, str], tuple[Any, str]] = {
    ("sanity", "noreply"): (0, "sipsim's sanity_check always answers a failed request"),
    ("usrloc", "use_domain"): (0, "sipsim's location table keys contacts by user part only"),
    ("rr", "add_username"): (0, "not modeled"),
    ("registrar", "method_filtering"): (0, "not modeled"),
}
