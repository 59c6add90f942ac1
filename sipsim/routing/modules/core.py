"""Core commands (``action.c``): ``forward``, flags, R-URI rewrites, ``force_rport``, ``log``,
and sipsim's own ``rfc_checks()``.

``rfc_checks()`` exists only in sipsim: it runs the ``ser`` profile's RFC 3261/4475 checks
(:func:`sipsim.engine.sanity.rfc_checks`) — the answers a careful proxy gives where Kamailio's
``sanity_check()`` stays silent. ``default.cfg`` calls it under ``#!ifdef SIPSIM_SER``, a define
sipsim sets in the ser profile and real Kamailio never has.
"""

from __future__ import annotations

from sipsim.engine.forward import forward_request, next_hop
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.lex import is_digits
from sipsim.engine.parser.msg import FL_FORCE_RPORT
from sipsim.engine.sanity import rfc_checks as engine_rfc_checks
from sipsim.routing import uri_edit
from sipsim.routing.functions import ANY_ROUTE, FAILURE_ROUTE, ONREPLY_ROUTE, REQUEST_ROUTE, Param, export
from sipsim.routing.interp import Run, Steps

LOG_LEVELS = {-5: "L_ALERT", -4: "L_BUG", -3: "L_CRIT", -2: "L_CRIT", -1: "L_ERR", 0: "L_WARN", 1: "L_NOTICE",
              2: "L_INFO", 3: "L_DBG"}


@export("forward", None, (2,), route_types=REQUEST_ROUTE | FAILURE_ROUTE | ONREPLY_ROUTE)
def forward(run: Run, params: list[Param]) -> Steps:
    """forward() / forward(host[, port]): stateless relay to $du, the R-URI, or the given host."""
    msg = run.msg
    if not msg.is_request:
        yield run.event("forward", "forward() on a reply does nothing in sipsim (the core forwards replies)")
        return -1
    host = params[0].str(run)
    port = params[1].int(run) or 0
    dst = None
    if host:
        dst = (host.strip("[]"), port or 5060)
    elif port:
        try:
            dst = (next_hop(msg)[0], port)
        except ParseError:
            dst = None
    return (yield from forward_request(run.ctx, msg, dst))


def _flag(params: list[Param], run: Run) -> int:
    return int(params[0].int(run) or 0)


@export("setflag", None, (1,))
def setflag(run: Run, params: list[Param]) -> Steps:
    """setflag(n): set script flag n of this message."""
    n = _flag(params, run)
    run.msg.flags |= 1 << n
    yield run.event("setflag", f"flag {n} set (flags now {run.msg.flags:#x})", detail={"flag": n})
    return 1


@export("resetflag", None, (1,))
def resetflag(run: Run, params: list[Param]) -> Steps:
    """resetflag(n): clear script flag n."""
    n = _flag(params, run)
    run.msg.flags &= ~(1 << n)
    yield run.event("resetflag", f"flag {n} cleared (flags now {run.msg.flags:#x})", detail={"flag": n})
    return 1


@export("isflagset", None, (1,))
def isflagset(run: Run, params: list[Param]) -> Steps:
    """isflagset(n): true when script flag n is set."""
    n = _flag(params, run)
    on = bool(run.msg.flags & (1 << n))
    yield run.event("isflagset", f"flag {n} is {'set' if on else 'not set'}", detail={"flag": n, "set": on})
    return 1 if on else -1


def _rewrite(run: Run, what: str, ok: bool) -> Steps:
    if ok:
        yield run.event(what, f"R-URI is now {run.msg.ruri}", detail={"ruri": run.msg.ruri})
        return 1
    yield run.event(what, f"cannot rewrite the R-URI {run.msg.ruri!r} (not a SIP URI)", reason="bad uri")
    return -1


@export("seturi", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def seturi(run: Run, params: list[Param]) -> Steps:
    """rewriteuri("sip:...")/seturi: replace the whole R-URI."""
    uri_edit.set_ruri(run.msg, params[0].str(run))
    return (yield from _rewrite(run, "seturi", True))


@export("sethost", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def sethost(run: Run, params: list[Param]) -> Steps:
    """rewritehost("host")/sethost: replace the R-URI host."""
    return (yield from _rewrite(run, "sethost", uri_edit.rewrite_ruri(run.msg, host=params[0].str(run))))


@export("sethostport", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def sethostport(run: Run, params: list[Param]) -> Steps:
    """rewritehostport("host:port")/sethostport: replace host and port."""
    hp = params[0].str(run)
    host, sep, port = hp.rpartition(":") if hp.count(":") == 1 else (hp, "", "")
    ok = uri_edit.rewrite_ruri(run.msg, host=host if sep else hp, port=int(port) if is_digits(port) else None)
    return (yield from _rewrite(run, "sethostport", ok))


@export("setuser", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def setuser(run: Run, params: list[Param]) -> Steps:
    """rewriteuser("user")/setuser: replace the R-URI user."""
    return (yield from _rewrite(run, "setuser", uri_edit.rewrite_ruri(run.msg, user=params[0].str(run) or None)))


@export("setport", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def setport(run: Run, params: list[Param]) -> Steps:
    """rewriteport("port")/setport: replace (or with "" remove) the R-URI port."""
    p = params[0].str(run)
    return (yield from _rewrite(run, "setport", uri_edit.rewrite_ruri(run.msg, port=int(p) if is_digits(p) else None)))


def _user(run: Run) -> str | None:
    try:
        u = run.msg.parsed_ruri()
    except ParseError:
        return None
    return (u.user or "") if u.is_sip or (u.scheme == "tel" and not run.msg.profile_ser) else None


@export("prefix", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def prefix(run: Run, params: list[Param]) -> Steps:
    """prefix("s"): put s in front of the R-URI user."""
    user = _user(run)
    ok = user is not None and uri_edit.rewrite_ruri(run.msg, user=params[0].str(run) + user)
    return (yield from _rewrite(run, "prefix", ok))


@export("strip", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def strip(run: Run, params: list[Param]) -> Steps:
    """strip(n): remove the first n characters of the R-URI user."""
    user = _user(run)
    n = int(params[0].int(run) or 0)
    ok = user is not None and uri_edit.rewrite_ruri(run.msg, user=user[n:] or None)
    return (yield from _rewrite(run, "strip", ok))


@export("strip_tail", None, (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE, trace_name="striptail")
def strip_tail(run: Run, params: list[Param]) -> Steps:
    """strip_tail(n): remove the last n characters of the R-URI user (``striptail`` in Kamailio's
    cfgtrace, the name of its action type)."""
    user = _user(run)
    n = int(params[0].int(run) or 0)
    ok = user is not None and uri_edit.rewrite_ruri(run.msg, user=(user[:-n] if n else user) or None)
    return (yield from _rewrite(run, "strip_tail", ok))


@export("reverturi", None, (0,), route_types=REQUEST_ROUTE | FAILURE_ROUTE)
def reverturi(run: Run, params: list[Param]) -> Steps:
    """revert_uri(): forget the new R-URI, back to the received one."""
    uri_edit.set_ruri(run.msg, None)
    yield run.event("reverturi", f"R-URI back to the received {run.msg.ruri}")
    return 1


@export("force_rport", None, (0,), route_types=ANY_ROUTE)
def force_rport(run: Run, params: list[Param]) -> Steps:
    """force_rport(): act as if the top Via had ;rport (reply to the source port, fill rport=)."""
    run.msg.msg_flags |= FL_FORCE_RPORT
    yield run.event("force_rport", "the top Via will be treated as if it had ;rport (RFC 3581)")
    return 1


@export("log", None, (2,))
def log(run: Run, params: list[Param]) -> Steps:
    """log([level,] "text"): the core's plain log (no pseudo-variables).

    ``log("text")`` logs at level 4, one *above* L_DBG: Kamailio prints it only when ``debug`` is 4
    or more, so with the usual ``debug=2`` or ``3`` it prints nothing (measured with debug=3). The
    step still shows the call, saying so, with ``detail["printed"]`` False."""
    number = int(params[0].int(run) or 0)
    level = LOG_LEVELS.get(number)
    text = params[1].str(run)
    if level is None and number > 3:
        yield run.event("log", f"<script>: {text.rstrip()} -- not printed: level {number} is above L_DBG (3), "
                        f"Kamailio prints it only with debug={number} or more; xlog() logs at a level you name",
                        detail={"level": f"L_DBG+{number - 3}", "message": text, "printed": False})
        return 1
    yield run.event("log", f"<script>: {text.rstrip()}", detail={"level": level or "L_DBG", "message": text})
    return 1


@export("rfc_checks", "sipsim", (0,), route_types=REQUEST_ROUTE)
def rfc_checks(run: Run, params: list[Param]) -> Steps:
    """rfc_checks(): sipsim only — the RFC 3261/4475 answers of a careful proxy (ser profile)."""
    return (yield from engine_rfc_checks(run.ctx, run.msg))
