"""The built-in default route: a stateless proxy and registrar, in Python.

It is the Python twin of ``default.cfg`` (the routing engine runs that file the same way):

    request_route {
        if (!mf_process_maxfwd_header("10")) {
            if (!rfc_checks()) { exit; }      # ser profile only: a header that does not parse is a 400
            sl_send_reply("483", "Too Many Hops"); exit;
        }
        if (!sanity_check()) { exit; }        # ser profile: sipsim's rfc_checks instead
        if (has_totag() && !(uri == myself) && is_myself("$route_uri")) {   # in a dialog through us
            loose_route(); if (!forward()) { sl_reply_error(); } exit;       # whatever the relay policy
        }
        if (!has_totag() || !(uri == myself)) { loose_route(); }   # RFC 3261 16.4: our Route goes
        if (uri == myself) {
            if (is_method("REGISTER")) { save("location"); exit; }   # save() answers by itself
            if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "OK"); exit; }
            if (!lookup("location")) { if (!is_method("ACK")) { sl_send_reply("404", "Not Found"); } exit; }
        } else if (!relay) { sl_send_reply("403", "Relaying Forbidden"); exit; }
        if (!forward()) { sl_reply_error(); }
    }

Replies have no onreply_route: the core forwards them by their Vias. Every function called
yields its own step events, so a learner sees each decision.
"""

from __future__ import annotations

from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.forward import forward_request, ruri_is_myself
from sipsim.engine.maxfwd import mf_process_maxfwd_header
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_TO
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.registrar import lookup, save
from sipsim.engine.sanity import rfc_checks, sanity_check
from sipsim.engine.sl import sl_reply_error, sl_send_reply


def _has_totag(msg: SipMsg) -> bool:
    parse_headers(msg, F_TO)
    return bool(msg.to is not None and msg.to.parsed is not None and msg.to.parsed.param("tag"))


def _route_names_us(ctx: WorkerContext, msg: SipMsg) -> bool:
    """``is_myself("$route_uri")``: the first Route entry is this proxy."""
    from sipsim.routing.interp import uri_is_myself as names_us  # (the routing engine imports the engine)
    from sipsim.routing.pv import route_uri

    uri = route_uri(msg)
    try:
        return uri is not None and names_us(ctx.config, uri)
    except ParseError:
        return False


def _loose_route(ctx: WorkerContext, msg: SipMsg) -> Steps:
    """``loose_route()``: RFC 3261 16.4 — our own Route is removed, the next one becomes $du."""
    from sipsim.routing.modules.rr import follow_route_set  # the rr module's own code

    rc, done = follow_route_set(ctx, msg)
    if ctx.tracing:
        yield ctx.event("loose_route", msg, f"{done} -> {rc}", detail={"rc": rc, "ruri": msg.ruri, "du": msg.dst_uri})
    return rc


class DefaultRoute:
    """Stateless proxy + registrar (see the module docstring for its cfg form)."""

    name = "built-in default route"
    # default.cfg's loadmodule lines, in their order (it decides the pre-script callbacks' order)
    modules = ("kex", "sl", "maxfwd", "sanity", "textops", "pv", "usrloc", "registrar", "rr", "siputils")

    def has_onreply_route(self) -> bool:
        return False

    def onreply_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps:  # pragma: no cover - never called
        return 1
        yield

    def request_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps:
        method = msg.first_line.method if msg.first_line else ""
        mf = yield from mf_process_maxfwd_header(ctx, msg, 10)
        if mf < 0:
            # false: 0 hops left (-1), or a header up to Max-Forwards, or its value, does not
            # parse (-2); Kamailio's script answers 483 to both, the careful proxy names a broken
            # header with its RFC checks' 400 first
            if ctx.ser and not (yield from rfc_checks(ctx, msg)):
                return 0
            why = "Max-Forwards reached 0" if mf == -1 else "Max-Forwards could not be read"
            yield from sl_send_reply(ctx, msg, 483, "Too Many Hops", why=why)
            return 0
        if ctx.ser:
            if not (yield from rfc_checks(ctx, msg)):
                return 0
        elif not (yield from sanity_check(ctx, msg)):
            return 0
        mine = ruri_is_myself(ctx.config, msg)
        in_dialog = _has_totag(msg)
        if in_dialog and not mine and _route_names_us(ctx, msg):
            # inside a dialog whose route set names us: it decides, whatever the relay policy
            yield from _loose_route(ctx, msg)
            if (yield from forward_request(ctx, msg)) < 0:
                yield from sl_reply_error(ctx, msg)
            return 1
        if not in_dialog or not mine:  # (an ACK for a non-2xx keeps the INVITE's R-URI and Route)
            yield from _loose_route(ctx, msg)
            mine = ruri_is_myself(ctx.config, msg)
        if ctx.tracing:
            yield ctx.event("check_self", msg, f"uri == myself: {'yes' if mine else 'no'} ({msg.ruri})",
                            detail={"myself": mine})
        if mine:
            if method == "REGISTER":
                yield from save(ctx, msg)  # it answers by itself, 200 or the error
                return 0
            if method == "OPTIONS" and not msg.parsed_ruri().user:
                yield from sl_send_reply(ctx, msg, 200, "OK", why="OPTIONS addressed to the server itself")
                return 0
            if (yield from lookup(ctx, msg)) < 0:
                if method != "ACK":
                    yield from sl_send_reply(ctx, msg, 404, "Not Found", why="lookup found no binding")
                return 0
        elif not ctx.config.relay:
            yield from sl_send_reply(ctx, msg, 403, "Relaying Forbidden", why="not our domain and relaying is off")
            return 0
        if (yield from forward_request(ctx, msg)) < 0:
            yield from sl_reply_error(ctx, msg)
        return 1
