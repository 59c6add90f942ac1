"""``receive_msg``: what the server does with one datagram (``src/core/receive.c``).

Open this file beside Kamailio's ``receive.c``: the steps are the same, in the same order, under
the same names. Two profiles (see ``config.py``):

``ser`` — the seed document's order::

    receive_msg (sip_msg allocated; buf + orig copy) -> parse_msg (first line + first Via)
    -> exec_pre_script_cb -> request: receive_msg.sanity (first Via present and parsed)
                                      -> request_route (the routing engine)
                           reply:    forward_reply ("simply forwarded")
    -> exec_post_script_cb -> free_sip_msg

``kamailio`` — Kamailio 5.6::

    receive_msg (no orig; buf is never written) -> parse_msg -> parse_headers(From|To|Call-ID|CSeq)
    -> request: receive_msg.sanity (SIP/2.0, Via1, From/To/Call-ID/CSeq present; silent drop)
                -> exec_pre_script_cb (0 = drop) -> request_route -> exec_post_script_cb
       reply:   receive_msg.sanity -> exec_pre_script_cb -> onreply_route (if the script has one;
                drop stops forwarding) -> forward_reply -> exec_post_script_cb
    -> free_sip_msg

A message Kamailio cannot parse is dropped silently (``core parsing of SIP message failed``).
sipsim's ``ser`` profile answers such a *request* with 400 when the datagram still shows its Via,
as RFC 4475 asks of a proxy — SER itself dropped it like Kamailio; lessons point this out. The
top Via line is then parsed on its own (``parse_msg`` failed before or at it), so the 400 goes
where any reply goes (RFC 3261 §18.2.2: the source IP, the Via's port or 5060, the source port
with ``rport``) and its Via carries ``received=`` (§18.2.1); only when that line does not parse
either does the 400 go back to the datagram's source address and port, and the step says so.

``receive_msg`` never raises: every datagram ends in a forwarded, replied or dropped event.
"""

from __future__ import annotations

from sipsim.engine.config import SIP_PORT
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.events import DROPPED, Datagram
from sipsim.engine.forward import forward_reply
from sipsim.engine.parser.hf import F_CALLID, F_CSEQ, F_FROM, F_TO, HdrField, flag_names
from sipsim.engine.parser.msg import FL_FORWARDED, FL_REPLIED, ReceiveInfo, SipMsg
from sipsim.engine.parser.msg_parser import parse_headers, parse_msg
from sipsim.engine.sanity import missing_quadruple
from sipsim.engine.script_cb import ONREPLY_CB, REQUEST_CB
from sipsim.engine.sl import sl_send_reply


def receive_msg(ctx: WorkerContext, dgram: Datagram) -> Steps:
    """Handle one datagram. A generator of step events and syscalls; returns 0 or -1."""
    ctx.msg_no += 1
    msg = SipMsg(dgram.data, ReceiveInfo(dgram.src, dgram.dst), id=dgram.id, msg_no=ctx.msg_no,
                 ser=ctx.ser, time=dgram.time)
    try:
        return (yield from _receive_msg(ctx, msg))
    except Exception as exc:  # a bug must never kill a worker: drop the message, say why
        yield ctx.event("receive_msg", msg, f"internal error while handling the message: {exc!r}; dropped",
                        outcome=DROPPED, reason=f"internal error: {type(exc).__name__}: {exc}")
        yield from _free(ctx, msg)
        return -1


def _receive_msg(ctx: WorkerContext, msg: SipMsg) -> Steps:
    if ctx.tracing:
        if ctx.ser:
            text = (f"allocates sip_msg #{msg.msg_no}: buf holds the {msg.len} bytes and a second copy is kept in "
                    "orig; changes will be made to buf")
        else:
            # (how it changes the message anyway is lesson 5's question, asked at this step: the
            # mf_process_maxfwd_header and forward_request steps show the lumps)
            text = (f"allocates sip_msg #{msg.msg_no}: buf points at the {msg.len} received bytes and is never "
                    "written")
        yield ctx.event("receive_msg", msg, text, detail={"msg_no": msg.msg_no, "len": msg.len})

    # parse_msg: first line + headers up to the first Via
    if parse_msg(msg) < 0:
        return (yield from _parse_failed(ctx, msg))
    if ctx.tracing:
        yield ctx.event("parse_msg", msg, _parse_msg_text(msg), parsed=flag_names(msg._pf), unparsed=msg.unparsed,
                        detail={"first_line": msg.summary()})

    if not ctx.ser:
        before = msg._pf
        rc = parse_headers(msg, F_FROM | F_TO | F_CALLID | F_CSEQ)
        new = flag_names(msg._pf & ~before) if ctx.tracing else ()
        if rc < 0:
            reason = msg.hdr_error.reason if msg.hdr_error else "parse error"
            if ctx.tracing:
                yield ctx.event("parse_headers", msg, f"From/To/Call-ID/CSeq: {reason} (logged; the checks decide)",
                                parsed=new, unparsed=msg.unparsed, reason=reason)
        else:
            if ctx.tracing:
                yield ctx.event("parse_headers", msg,
                                f"From, To, Call-ID, CSeq asked: parsed up to offset {msg.unparsed}",
                                parsed=new, unparsed=msg.unparsed)

    if msg.is_request:
        return (yield from _request(ctx, msg))
    return (yield from _reply(ctx, msg))


def _parse_msg_text(msg: SipMsg) -> str:
    names = ", ".join(h.name for h in msg.headers)
    return f"first line '{msg.summary()}'; headers up to the first Via: {names or '(none)'}; unparsed at {msg.unparsed}"


def _parse_failed(ctx: WorkerContext, msg: SipMsg) -> Steps:
    err = msg.parse_error
    reason = err.reason if err else "parse error"
    head = msg.text.lstrip(" \t\r\n\0")[:4]
    # a reply is never answered, nor an ACK (methods are case-sensitive; "SIP/" is not)
    looks_like_request = not head.upper().startswith("SIP/") and head != "ACK "
    via_line = _first_via_line(msg) if ctx.ser and looks_like_request else None
    if via_line is not None:
        # parse_msg stopped before (or at) the first Via; the ser profile still answers 400, so the
        # top Via is parsed on its own, from its raw line: where the reply goes and what it carries
        # (received=, rport=) follow from it (RFC 3261 §18.2.1, §18.2.2), as for any other reply
        via_error = _parse_via_alone(msg, via_line)
        if via_error is None:
            v = msg.via1
            assert v is not None
            port = "the source port (rport)" if v.rport is not None else f"port {v.port or SIP_PORT}"
            where = (f"the top Via line parses on its own (sent-by {v.sent_by()}): the reply goes to the source "
                     f"address, {port}")
            why = "RFC 4475 asks for 400; SER and Kamailio drop silently; sent per the top Via (RFC 3261 §18.2.2)"
        else:
            where = f"the top Via does not parse either ({via_error})"
            why = ("RFC 4475 asks for 400; SER and Kamailio drop silently; the top Via does not parse, so the "
                   "reply goes back to the datagram's source address and port")
        if ctx.tracing:
            yield ctx.event("parse_msg", msg, f"parse_msg failed: {reason}; {where}", reason=reason,
                            unparsed=msg.unparsed)
        msg.extra["cause"] = reason[:120]  # what the Warning tells the peer (the live log line says it)
        yield from sl_send_reply(ctx, msg, 400, "Bad Request",
                                 (f'Warning: 399 sipsim "{reason[:120]}"',),
                                 why=f"sipsim ser profile: {why}")
    else:
        yield ctx.event("parse_msg", msg, f"core parsing of SIP message failed: {reason}; dropped",
                        outcome=DROPPED, reason=f"parse error: {reason}", unparsed=msg.unparsed)
    yield from _free(ctx, msg)
    return -1


def _first_via_line(msg: SipMsg) -> int | None:
    """Where the first raw Via header line starts (found by its name only), or None."""
    from sipsim.engine.msg_translator import raw_header_lines
    from sipsim.engine.parser.hf import HdrType

    return next((start for t, _n, start, *_ in raw_header_lines(msg) if t is HdrType.HDR_VIA_T), None)


def _parse_via_alone(msg: SipMsg, start: int) -> str | None:
    """Parse the Via header line at ``start`` by itself and make it the message's first Via
    (``msg.via1``) — which ``sl_send_reply`` then answers by. Returns None, or why it does not parse.

    Simplification: Kamailio never does this (it drops a message that fails ``parse_msg``); the
    line goes through the same ``get_hdr_field`` as in ``parse_headers``.
    """
    from sipsim.engine.parser.errors import ParseError
    from sipsim.engine.parser.hf import HdrType
    from sipsim.engine.parser.msg_parser import get_hdr_field

    try:
        hdr = get_hdr_field(msg.text, start, msg.mode)
    except ParseError as exc:
        return exc.reason
    if isinstance(hdr, HdrField) and hdr.type is HdrType.HDR_VIA_T and hdr.parsed:
        msg.h_via1, msg.via1 = hdr, hdr.parsed[0]
        return None
    return "not a Via header line"


def _core_checks(ctx: WorkerContext, msg: SipMsg) -> tuple[str, bool] | None:
    """The inline checks of receive.c. Returns why the message must be dropped and whether the drop
    counts as an error (``err_requests``/``err_replies``; receive.c leaves the drop of a non-SIP
    request uncounted: the nonsip hooks' exit skips ``STATS_BAD_MSG``), or None."""
    if not ctx.ser and msg.is_request and msg.first_line is not None and not msg.first_line.is_sip:
        return f"not SIP/2.0 ({msg.first_line.version}) and no module takes non-SIP messages", False
    if msg.via1 is None:
        return "no Via found", True
    if not ctx.ser:
        missing = missing_quadruple(msg)
        if missing:
            return "required headers not found: " + ", ".join(missing), True
    return None


def _request(ctx: WorkerContext, msg: SipMsg) -> Steps:
    if ctx.ser:
        # the seed: pre-script callbacks first, then "make sure there is the first Via"
        if not (yield from exec_pre_script_cb(ctx, msg, REQUEST_CB)):
            ctx.stats["drop_requests"] += 1
            return (yield from _free(ctx, msg))
    check = _core_checks(ctx, msg)
    if check:
        why, counted = check
        if counted:
            ctx.stats["err_requests"] += 1
        yield ctx.event("receive_msg.sanity", msg, f"{why}: dropped silently (no reply)", outcome=DROPPED,
                        reason=why)
        return (yield from _free(ctx, msg))
    if ctx.tracing:
        yield ctx.event("receive_msg.sanity", msg,
                        "first Via present and parsed" + ("" if ctx.ser else "; From, To, Call-ID, CSeq present"))
    if not ctx.ser:
        if not (yield from exec_pre_script_cb(ctx, msg, REQUEST_CB)):
            ctx.stats["drop_requests"] += 1
            return (yield from _free(ctx, msg))
    router = ctx.router
    assert router is not None
    if ctx.tracing:
        yield ctx.event("request_route", msg, f"runs the routing script ({router.name}) for {msg.summary()}")
    yield from router.request_route(ctx, msg)
    if not msg.msg_flags & (FL_FORWARDED | FL_REPLIED) and not msg.extra.get("outcome_set"):
        yield ctx.event("request_route", msg, "the script neither forwarded nor replied: the request is forgotten",
                        outcome=DROPPED, reason="not forwarded or replied by the script")
    yield from exec_post_script_cb(ctx, msg, REQUEST_CB)
    return (yield from _free(ctx, msg))


def _reply(ctx: WorkerContext, msg: SipMsg) -> Steps:
    if ctx.ser:
        if not (yield from exec_pre_script_cb(ctx, msg, ONREPLY_CB)):
            ctx.stats["drop_replies"] += 1
            return (yield from _free(ctx, msg))
    check = _core_checks(ctx, msg)
    if check:
        why, counted = check
        if counted:
            ctx.stats["err_replies"] += 1
        yield ctx.event("receive_msg.sanity", msg, f"{why}: reply dropped", outcome=DROPPED, reason=why)
        return (yield from _free(ctx, msg))
    if ctx.tracing:
        yield ctx.event("receive_msg.sanity", msg,
                        "a reply with its first Via" + ("" if ctx.ser else " and From, To, Call-ID, CSeq"))
    if not ctx.ser:
        if not (yield from exec_pre_script_cb(ctx, msg, ONREPLY_CB)):
            ctx.stats["drop_replies"] += 1
            return (yield from _free(ctx, msg))
        router = ctx.router
        assert router is not None
        if router.has_onreply_route():
            if ctx.tracing:
                yield ctx.event("onreply_route", msg, f"runs the script's onreply_route for {msg.summary()}")
            rc = yield from router.onreply_route(ctx, msg)
            if rc == 0 or msg.extra.get("drop"):
                ctx.stats["drop_replies"] += 1
                yield ctx.event("onreply_route", msg, "drop in onreply_route: the reply is not forwarded",
                                outcome=DROPPED, reason="dropped by onreply_route")
                yield from exec_post_script_cb(ctx, msg, ONREPLY_CB)
                return (yield from _free(ctx, msg))
    yield from forward_reply(ctx, msg)
    yield from exec_post_script_cb(ctx, msg, ONREPLY_CB)
    return (yield from _free(ctx, msg))


def exec_pre_script_cb(ctx: WorkerContext, msg: SipMsg, cb_type: int) -> Steps:
    """Run pre-script callbacks newest first; the first returning 0 drops the message. True = go on."""
    cbs = ctx.callbacks.for_type(True, cb_type)
    if not cbs:
        if ctx.tracing:
            yield ctx.event("exec_pre_script_cb", msg, "no pre-script callbacks registered")
        return True
    for cb in cbs:
        rc = cb.fn(msg, ctx)
        if rc == 0:
            yield ctx.event("exec_pre_script_cb", msg, f"callback {cb.name} returned 0: the message is dropped",
                            outcome=DROPPED, reason=f"dropped by pre-script callback {cb.name}",
                            detail={"callback": cb.name, "rc": rc})
            return False
        if ctx.tracing:
            yield ctx.event("exec_pre_script_cb", msg, f"callback {cb.name} returned {rc}",
                            detail={"callback": cb.name, "rc": rc})
    return True


def exec_post_script_cb(ctx: WorkerContext, msg: SipMsg, cb_type: int) -> Steps:
    cbs = ctx.callbacks.for_type(False, cb_type)
    for cb in cbs:
        rc = cb.fn(msg, ctx)
        if ctx.tracing:
            yield ctx.event("exec_post_script_cb", msg, f"callback {cb.name} returned {rc}",
                            detail={"callback": cb.name, "rc": rc})
    if not cbs:
        if ctx.tracing:
            yield ctx.event("exec_post_script_cb", msg, "no post-script callbacks registered")
    return True


def _free(ctx: WorkerContext, msg: SipMsg) -> Steps:
    # Kamailio counts bad_msg_hdr inside parse_headers, on every call that fails, whoever asked
    # (core, module or script); the parser counts on the message and the count lands here
    if msg.hdr_errors:
        ctx.stats["bad_msg_hdr"] += msg.hdr_errors
    n = len(msg.headers)
    lumps = len(msg.add_rm)
    if ctx.tracing:
        yield ctx.event("free_sip_msg", msg, f"frees sip_msg #{msg.msg_no} ({n} parsed headers, {lumps} lumps)",
                        detail={"headers": n, "lumps": lumps})
    return 0
