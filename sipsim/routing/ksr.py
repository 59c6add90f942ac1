"""``KSR``: the KEMI functions sipsim models, after Kamailio's app_python3 (see :mod:`sipsim.routing.kemi`).

Every function is a thin wrapper: it checks its arguments in the script's thread, then hands a
generator to the route (``session.call``) — usually the very handler the cfg interpreter uses for
the same function (``KSR.sl.sl_send_reply`` runs the handler of ``sl_send_reply()``), so a KEMI
script and a cfg script behave alike. Differences from cfg, as in Kamailio's KEMI: nothing
returns 0 to stop the script (``KSR.x.exit()`` does), ``KSR.sanity.sanity_check`` returns -1 on
failure, ``KSR.is_method*`` and ``KSR.is_<METHOD>()`` return booleans. Anything not listed here
raises an AttributeError naming what is available; ``KSR.tm``/``KSR.tmx``/... raise: sipsim models
the stateless core. Only the logging functions work while the script loads (``mod_init()``, the
object's ``__init__``): there is no message yet, so they go to the router's load log.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any, Protocol

from sipsim.engine.context import Steps
from sipsim.engine.parser.fline import KAMAILIO_METHODS, METHOD_OTHER
from sipsim.engine.sanity import DEFAULT_CHECKS, DEFAULT_URI_CHECKS, sanity_check
from sipsim.routing import (
    modules,  # noqa: F401 - registers the handlers
    pv,
)
from sipsim.routing.functions import REGISTRY, Param
from sipsim.routing.interp import DROP_R_F, EXIT_R_F, Run
from sipsim.routing.tree import Const

STATEFUL_SUBMODULES = ("tm", "tmx", "dialog", "dispatcher", "uac")

_local = threading.local()


class _Cancelled(BaseException):  # noqa: N818 - unwinds the script thread, not for user code
    pass


class KemiCallError(RuntimeError):
    """A KSR call that cannot work (bad argument, stateful function, no message being routed)."""



class Session(Protocol):
    """What a KSR function needs from the message being routed (kemi._Session)."""

    run: Run

    def call(self, name: str, factory: Callable[[], Steps], args: tuple[Any, ...]) -> Any: ...


def _session() -> Session:
    s = getattr(_local, "session", None)
    if s is None:
        raise KemiCallError("KSR functions can only be called while sipsim runs ksr_request_route/ksr_reply_route")
    return s


def to_engine(value: Any) -> Any:
    """A Python str as the engine holds text: its UTF-8 bytes, one latin-1 character per byte."""
    return value.encode("utf-8").decode("latin-1") if isinstance(value, str) else value


def to_python(value: Any) -> Any:
    """Engine text (bytes as latin-1) back to a Python str, as app_python3 decodes UTF-8."""
    return value.encode("latin-1").decode("utf-8", "replace") if isinstance(value, str) else value


def _params(*values: Any) -> list[Param]:
    return [Param(Const("<kemi>", 0, 0, to_engine(v)), fmt=False) for v in values]


def _handler(name: str, module: str | None) -> Callable[..., Steps]:
    for spec in REGISTRY.candidates(name):
        if spec.module == module:
            return spec.handler
    raise KeyError(name)  # pragma: no cover - every handler used below is registered


def _fn(path: str, name: str, module: str | None, *, kinds: tuple[type, ...] = (), to_bool: bool = False
        ) -> Callable[..., Any]:
    """A KSR function calling the cfg handler ``name`` of ``module`` with the given arguments."""
    handler = _handler(name, module)

    def ksr_function(*args: Any) -> Any:
        s = _session()
        for a, k in zip(args, kinds, strict=False):
            if not isinstance(a, k):
                raise KemiCallError(f"KSR.{path}: argument {a!r} should be {k.__name__}")
        result = s.call(path, lambda: handler(s.run, _params(*args)), args)
        return result > 0 if to_bool else result

    ksr_function.__name__ = path.rsplit(".", 1)[-1]
    ksr_function.__doc__ = f"KSR.{path}: the cfg function {name}()."
    return ksr_function


def _custom(path: str, body: Callable[..., Steps]) -> Callable[..., Any]:
    def ksr_function(*args: Any) -> Any:
        s = _session()
        return s.call(path, lambda: body(s.run, *args), args)

    ksr_function.__name__ = path.rsplit(".", 1)[-1]
    return ksr_function


def _event_only(step: str, text: Callable[..., str], value: Callable[..., Any]) -> Callable[..., Steps]:
    def body(run: Run, *args: Any) -> Steps:
        v = value(run, *args)
        yield run.event(step, text(run, v, *args))
        return v

    return body


# -- KSR.pv ----------------------------------------------------------------------------------------
def _spec(name: str) -> pv.PvSpec:
    try:
        return pv.parse_pv(name)
    except pv.PvError as exc:
        raise KemiCallError(str(exc)) from None


def _pv_get(run: Run, name: str) -> Any:
    return to_python(pv.get(run, _spec(name)))


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _pv_set(run: Run, name: str, value: Any, kind: type) -> Steps:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KemiCallError(f"KSR.pv.set{'i' if kind is int else 's'}({name!r}, {value!r}): "
                            f"the value must be {'an int' if kind is int else 'a str'}")
    try:
        pv.assign(run, _spec(name), to_engine(value))
    except (pv.PvError, ValueError) as exc:
        raise KemiCallError(str(exc)) from None
    yield run.event("pv", f"{name} = {value!r}")
    return 1


def _pv_unset(run: Run, name: str) -> Steps:
    try:
        pv.assign(run, _spec(name), None)
    except (pv.PvError, ValueError) as exc:
        raise KemiCallError(str(exc)) from None
    yield run.event("pv", f"{name} unset")
    return 1


# -- KSR core --------------------------------------------------------------------------------------
_METHOD_LETTERS = {"I": "INVITE", "A": "ACK", "B": "BYE", "C": "CANCEL", "M": "MESSAGE", "R": "REGISTER",
                   "E": "PRACK", "P": "PUBLISH", "S": "SUBSCRIBE", "N": "NOTIFY", "O": "OPTIONS", "F": "REFER",
                   "G": "GET", "U": "UPDATE", "K": "KDMQ", "D": "DELETE", "T": "POST", "V": "PUT"}


def _method(run: Run) -> str:
    return str(pv.get(run, pv.parse_pv("$rm")) or "")


def _method_bit(run: Run, method: str) -> int:
    """The method's bit as Kamailio tests it: a request's parsed ``method_value`` (so the profile's
    first-line parser decides, as in Kamailio), a reply's CSeq method looked up in any case
    (Kamailio's CSeq parser knows the same methods as its 5.6 first-line parser)."""
    fl = run.msg.first_line
    if run.msg.is_request and fl is not None:
        return fl.method_value
    return KAMAILIO_METHODS.get(method.upper(), METHOD_OTHER)


def _is_method_in(run: Run, letters: str) -> Steps:
    """``KSR.is_method_in("IRB")``: one letter per known method, in any case (``K`` KDMQ, ``G`` GET,
    ``T`` POST, ``V`` PUT, ``D`` DELETE among them), tested against the method's *bit*, so
    ``invite`` is an INVITE (in the kamailio profile) and a method the parser does not know
    (``METHOD_OTHER``) is in no list. Kamailio 5.6's ``sr_kemi_core_is_method_in()``."""
    method = _method(run)
    bit = _method_bit(run, method)
    names = {_METHOD_LETTERS[c.upper()] for c in letters if c.upper() in _METHOD_LETTERS}
    hit = bit != METHOD_OTHER and any(KAMAILIO_METHODS[name] == bit for name in names)
    yield run.event("is_method_in", f"method {method} {'is' if hit else 'is not'} in {letters!r}")
    return hit


def _log_body(run: Run, level: str, message: Any) -> Steps:
    yield run.event("xlog", f"[{level}] {str(message).rstrip()}", detail={"level": level, "message": message})
    return None


def _logged_at_load(level: str, message: Any) -> bool:
    """A log call while the script loads (``mod_init()``, the object's ``__init__``): there is no
    message, so it goes to the load log (:func:`load_log`) — Kamailio writes it to its log at
    start-up, as the official kamailio-basic-kemi-python example does. True when it was taken."""
    log = getattr(_local, "load_log", None)
    if getattr(_local, "session", None) is not None or log is None:
        return False
    log.append((level, str(message)))
    return True


def _log(level: str) -> Callable[..., Any]:
    routed = _custom(level.lower()[2:], lambda run, message: _log_body(run, level, message))

    def ksr_function(message: Any) -> Any:
        return None if _logged_at_load(level, message) else routed(message)

    ksr_function.__name__ = level.lower()[2:]
    return ksr_function


#: KSR.log(level, message): the level by name, in any case; any other name logs at L_ERR
_LOG_NAMES = {"dbg": "L_DBG", "info": "L_INFO", "notice": "L_NOTICE", "warn": "L_WARN", "err": "L_ERR",
              "crit": "L_CRIT"}


def _log_any(level_name: Any, message: Any) -> Any:
    level = _LOG_NAMES.get(str(level_name).lower(), "L_ERR")
    if _logged_at_load(level, message):
        return None
    return _custom("log", lambda run, lv, msg: _log_body(run, level, msg))(level_name, message)


class load_log:  # noqa: N801 - used as a context manager around the script's loading
    """Collects the KSR log calls made while the script loads (see :func:`_logged_at_load`)."""

    def __enter__(self) -> list[tuple[str, str]]:
        _local.load_log = []
        return _local.load_log

    def __exit__(self, *exc: object) -> None:
        _local.load_log = None


# -- KSR.is_<METHOD>() and the other core tests ----------------------------------------------------
#: the methods Kamailio 5.6's KEMI core has an ``is_<METHOD>()`` for (``sr_kemi_core_is_method_*``)
KEMI_IS_METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "SUBSCRIBE", "PUBLISH", "NOTIFY",
                   "REFER", "INFO", "UPDATE", "PRACK", "MESSAGE", "KDMQ", "GET", "POST", "PUT", "DELETE")


def _is_named_method(name: str) -> Callable[..., Any]:
    """``KSR.is_INVITE()`` ...: the method's bit against ``name``'s (a request's parsed method, a
    reply's CSeq method), as ``is_method_in`` tests it; so ``invite`` is an INVITE."""
    want = KAMAILIO_METHODS[name]

    def body(run: Run) -> Steps:
        method = _method(run)
        hit = _method_bit(run, method) == want
        yield run.event("is_method", f"method {method} {'is' if hit else 'is not'} {name}")
        return hit

    return _custom(f"is_{name}", body)


def _is_myself_of(what: str, value: Callable[[Run], Any]) -> Callable[..., Steps]:
    def body(run: Run) -> Steps:
        from sipsim.routing.interp import uri_is_myself

        v = value(run)
        mine = v is not None and (srcip_is_myself(run.config, str(v)) if what == "source IP"
                                  else uri_is_myself(run.config, str(v)))
        yield run.event("is_myself", f"{what} {pv.to_text(v)} {'is' if mine else 'is not'} this server")
        return mine

    return body


def srcip_is_myself(config: Any, ip: str) -> bool:
    """``KSR.is_myself_srcip()``: Kamailio 5.6's ``sr_kemi_core_is_myself_srcip()`` prints the source
    IP and asks ``check_self(ip, 0, 0)`` -- port 0 and proto 0 mean *any*, so the address alone
    decides: one of ours (listen or advertised) or an alias, whatever port either names. sipsim's
    ``check_self`` takes a port (none means 5060), so it is asked with each port that could match."""
    from sipsim.engine.forward import check_self, split_alias

    ports = {config.listen[1]}
    for alias in config.aliases:
        try:
            port = split_alias(alias)[1]
        except ValueError:
            continue
        if port is not None:
            ports.add(port)
    return any(check_self(config, ip, port) for port in sorted(ports))


def _dst_uri(run: Run, uri: Any) -> Steps:
    """``KSR.setdsturi(uri)`` / ``KSR.resetdsturi()`` (uri None): ``$du``, as the cfg assignment sets it."""
    pv.assign(run, _spec("$du"), None if uri is None else to_engine(str(uri)))
    yield run.event("pv", "$du is now " + ("unset" if uri is None else repr(uri)))
    return True


def _exit(run: Run) -> Steps:
    run.flags |= EXIT_R_F
    yield run.event("KSR.x.exit", "KSR.x.exit(): the script stops here")
    return None


def _drop(run: Run) -> Steps:
    run.flags |= EXIT_R_F | DROP_R_F
    yield run.event("KSR.x.drop", "KSR.x.drop(): the script stops and the message is dropped")
    return None


def _set_drop(run: Run) -> Steps:
    run.flags |= DROP_R_F
    yield run.event("KSR.set_drop", "KSR.set_drop(): the message will be dropped")
    return None


def _sanity(run: Run, mflags: int = DEFAULT_CHECKS, uflags: int = DEFAULT_URI_CHECKS) -> Steps:
    return (yield from sanity_check(run.ctx, run.msg, int(mflags), int(uflags), kemi=True))


def _flag_op(op: str) -> Callable[..., Steps]:
    def body(run: Run, n: int) -> Steps:
        if not isinstance(n, int) or not 0 <= n <= 31:
            raise KemiCallError(f"KSR.{op}({n!r}): a flag is an int from 0 to 31")
        rc = yield from _handler(op, None)(run, _params(n))
        return rc > 0

    return body


class _Namespace(types.SimpleNamespace):
    _path = ""

    def __getattr__(self, name: str) -> Any:  # only called for missing attributes
        raise AttributeError(f"KSR.{self._path + '.' if self._path else ''}{name} is not modeled by sipsim "
                             f"(available: {', '.join(sorted(k for k in vars(self) if not k.startswith('_')))})")


def _ns(path: str, **members: Any) -> _Namespace:
    ns = _Namespace(**members)
    ns._path = path
    return ns


class _Stateful(_Namespace):
    def __getattr__(self, name: str) -> Any:
        raise KemiCallError(f"KSR.{self._path}.{name} is stateful ({self._path} module): sipsim models Kamailio's "
                            "stateless core — use KSR.forward() and KSR.sl.sl_send_reply()")


def _build_ksr() -> types.ModuleType:
    ksr = types.ModuleType("KSR", "sipsim's KSR: the KEMI functions sipsim models (after app_python3)")
    members: dict[str, Any] = {
        "sl": _ns("sl", sl_send_reply=_fn("sl.sl_send_reply", "sl_send_reply", "sl", kinds=(int, str)),
                  send_reply=_fn("sl.send_reply", "send_reply", "sl", kinds=(int, str)),
                  sl_reply_error=_fn("sl.sl_reply_error", "sl_reply_error", "sl")),
        "pv": _ns("pv",
                  get=_custom("pv.get", _event_only("pv", lambda r, v, n: f"{n} is {pv.to_text(v)}", _pv_get)),
                  gete=_custom("pv.gete", _event_only("pv", lambda r, v, n: f"{n} is {v!r}",
                                                      lambda r, n: "" if _pv_get(r, n) is None else _pv_get(r, n))),
                  getw=_custom("pv.getw", _event_only("pv", lambda r, v, n: f"{n} is {v}",
                                                      lambda r, n: _or(_pv_get(r, n), "<<null>>"))),
                  getvs=_custom("pv.getvs", _event_only("pv", lambda r, v, n, d: f"{n} is {v!r}",
                                                        lambda r, n, d: _or(_pv_get(r, n), d))),
                  getvn=_custom("pv.getvn", _event_only("pv", lambda r, v, n, d: f"{n} is {v!r}",
                                                        lambda r, n, d: _or(_pv_get(r, n), d))),
                  is_null=_custom("pv.is_null", _event_only("pv", lambda r, v, n: f"{n} is{'' if v else ' not'} null",
                                                            lambda r, n: _pv_get(r, n) is None)),
                  sets=_custom("pv.sets", lambda r, n, v: _pv_set(r, n, v, str)),
                  seti=_custom("pv.seti", lambda r, n, v: _pv_set(r, n, v, int)),
                  unset=_custom("pv.unset", _pv_unset)),
        "hdr": _ns("hdr", append=_fn("hdr.append", "append_hf", "textops", kinds=(str,)),
                   insert=_fn("hdr.insert", "insert_hf", "textops", kinds=(str,)),
                   remove=_fn("hdr.remove", "remove_hf", "textops", kinds=(str,)),
                   is_present=_fn("hdr.is_present", "is_present_hf", "textops", kinds=(str,)),
                   append_to_reply=_fn("hdr.append_to_reply", "append_to_reply", "textops", kinds=(str,)),
                   get=_custom("hdr.get", _event_only("hdr", lambda r, v, n: f"{n}: {pv.to_text(v)}",
                                                      lambda r, n: _pv_get(r, f"$hdr({n})")))),
        "registrar": _ns("registrar", save=_custom("registrar.save", lambda r, t="location", f=0: _handler(
                             "save", "registrar")(r, _params(t, int(f)) if f else _params(t))),
                         lookup=_fn("registrar.lookup", "lookup", "registrar", kinds=(str,))),
        "rr": _ns("rr", loose_route=_fn("rr.loose_route", "loose_route", "rr"),
                  record_route=_fn("rr.record_route", "record_route", "rr"),
                  record_route_params=_fn("rr.record_route_params", "record_route", "rr", kinds=(str,))),
        "maxfwd": _ns("maxfwd", process_maxfwd=_fn("maxfwd.process_maxfwd", "mf_process_maxfwd_header", "maxfwd",
                                                    kinds=(int,))),
        "sanity": _ns("sanity", sanity_check=_custom("sanity.sanity_check", _sanity),
                      sanity_check_defaults=_custom("sanity.sanity_check_defaults", _sanity)),
        "siputils": _ns("siputils", has_totag=_fn("siputils.has_totag", "has_totag", "siputils")),
        "textops": _ns("textops", is_present_hf=_fn("textops.is_present_hf", "is_present_hf", "textops"),
                       search=_fn("textops.search", "search", "textops", kinds=(str,)),
                       has_body=_fn("textops.has_body", "has_body", "textops"),
                       has_body_type=_fn("textops.has_body_type", "has_body", "textops", kinds=(str,)),
                       search_body=_fn("textops.search_body", "search_body", "textops", kinds=(str,)),
                       is_present_hf_re=_fn("textops.is_present_hf_re", "is_present_hf_re", "textops", kinds=(str,)),
                       remove_hf=_fn("textops.remove_hf", "remove_hf", "textops", kinds=(str,)),
                       remove_hf_re=_fn("textops.remove_hf_re", "remove_hf_re", "textops", kinds=(str,)),
                       replace=_fn("textops.replace", "replace", "textops", kinds=(str, str)),
                       replace_all=_fn("textops.replace_all", "replace_all", "textops", kinds=(str, str)),
                       subst=_fn("textops.subst", "subst", "textops", kinds=(str,)),
                       subst_uri=_fn("textops.subst_uri", "subst_uri", "textops", kinds=(str,)),
                       subst_body=_fn("textops.subst_body", "subst_body", "textops", kinds=(str,)),
                       replace_body=_fn("textops.replace_body", "replace_body", "textops", kinds=(str, str)),
                       replace_body_all=_fn("textops.replace_body_all", "replace_body_all", "textops",
                                            kinds=(str, str)),
                       search_append=_fn("textops.search_append", "search_append", "textops", kinds=(str, str)),
                       search_append_body=_fn("textops.search_append_body", "search_append_body", "textops",
                                              kinds=(str, str))),
        "x": _ns("x", exit=_custom("x.exit", _exit), drop=_custom("x.drop", _drop)),
        "forward": _custom("forward", lambda r: _handler("forward", None)(r, _params("", 0))),
        "forward_uri": _custom("forward_uri", lambda r, uri: _forward_uri(r, uri)),
        "is_method": _fn("is_method", "is_method", "textops", kinds=(str,), to_bool=True),
        "is_method_in": _custom("is_method_in", _is_method_in),
        "is_myself": _fn("is_myself", "is_myself", "kex", kinds=(str,), to_bool=True),
        "is_myself_ruri": _custom("is_myself_ruri", lambda r: _is_myself_ruri(r)),
        "force_rport": _fn("force_rport", "force_rport", None),
        "setflag": _custom("setflag", _flag_op("setflag")),
        "resetflag": _custom("resetflag", _flag_op("resetflag")),
        "isflagset": _custom("isflagset", _flag_op("isflagset")),
        "set_drop": _custom("set_drop", _set_drop),
        "info": _log("L_INFO"), "err": _log("L_ERR"), "dbg": _log("L_DBG"), "warn": _log("L_WARN"),
        "notice": _log("L_NOTICE"), "crit": _log("L_CRIT"), "log": _log_any,
        "is_myself_furi": _custom("is_myself_furi", _is_myself_of("From URI", lambda r: _pv_get(r, "$fu"))),
        "is_myself_turi": _custom("is_myself_turi", _is_myself_of("To URI", lambda r: _pv_get(r, "$tu"))),
        "is_myself_srcip": _custom("is_myself_srcip", _is_myself_of("source IP", lambda r: r.msg.rcv.src[0])),
        "seturi": _fn("seturi", "seturi", None, kinds=(str,), to_bool=True),
        "setuser": _fn("setuser", "setuser", None, kinds=(str,), to_bool=True),
        "sethost": _fn("sethost", "sethost", None, kinds=(str,), to_bool=True),
        "setdsturi": _custom("setdsturi", lambda r, uri: _dst_uri(r, uri)),
        "resetdsturi": _custom("resetdsturi", lambda r: _dst_uri(r, None)),
        "isdsturiset": _custom("isdsturiset", _event_only("pv", lambda r, v: f"$du is{'' if v else ' not'} set",
                                                          lambda r: bool(r.msg.dst_uri))),
    }
    members.update({f"is_{m}": _is_named_method(m) for m in KEMI_IS_METHODS})
    for name in STATEFUL_SUBMODULES:
        st = _Stateful()
        st._path = name
        members[name] = st
    for k, v in members.items():
        setattr(ksr, k, v)

    modelled = sorted(k for k in members if k not in STATEFUL_SUBMODULES)

    def missing(name: str) -> Any:
        raise AttributeError(f"KSR.{name} is not modeled by sipsim (available: {', '.join(modelled)}; "
                             f"not modelled, stateful: {', '.join(STATEFUL_SUBMODULES)})")

    ksr.__getattr__ = missing  # type: ignore[attr-defined]
    return ksr


def _forward_uri(run: Run, uri: str) -> Steps:
    from sipsim.engine.forward import forward_request, uri_dest
    from sipsim.engine.parser.errors import ParseError
    from sipsim.engine.parser.uri import parse_uri

    try:
        dst = uri_dest(parse_uri(str(uri)))
    except ParseError as exc:
        yield run.event("forward", f"KSR.forward_uri({uri!r}): bad URI: {exc.reason}")
        return -1
    return (yield from forward_request(run.ctx, run.msg, dst))


def _is_myself_ruri(run: Run) -> Steps:
    from sipsim.routing.interp import uri_is_myself

    mine = run.msg.is_request and uri_is_myself(run.config, run.msg.ruri)
    yield run.event("is_myself", f"R-URI {run.msg.ruri} {'is' if mine else 'is not'} this server")
    return mine


KSR = _build_ksr()


