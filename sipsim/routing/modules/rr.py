"""The rr module: ``record_route()`` and ``loose_route()`` (RFC 3261 §16.4, §16.6, §16.12).

``record_route([params])`` inserts ``Record-Route: <sip:OUR-ADDRESS;lr;ftag=FROM-TAG>`` before the
first header, as a lump (Kamailio fills the address at send time with a substitution lump; with
one UDP socket that is our advertised address, with the port only when it is not 5060). A second
call for the same message fails ("double attempt to record-route").

``loose_route()`` processes the Route set the way ``rr/loose.c`` does:

* no Route header: -1 (false);
* the R-URI is ours (the previous hop was a *strict* router): the first Route is the next hop
  (``$du`` if it is a loose router), the *last* Route is the real target: it goes into the R-URI
  and is removed;
* otherwise, when the top Route is ours it is removed; the next Route decides: a loose router
  (``;lr``) becomes ``$du``, a strict router is put in the R-URI and the old R-URI is appended as
  the last Route (RFC 3261 §16.6 step 6);
* returns 1 when the route set decided the next hop, -3 when the only Route was ours and the
  request has no To-tag (a pre-loaded route: the script routes it as an initial request).

Simplifications: no outbound flow tokens, no ``add_username``; ``record_route()`` writes one Record-Route
(one socket), though ``loose_route()`` removes the second of a double one (``;r2``) as Kamailio does.
"""

from __future__ import annotations

from sipsim.engine import lumps
from sipsim.engine.parser import lex
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_EOH, F_FROM, F_TO, HdrField, HdrType
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers
from sipsim.engine.parser.nameaddr import NameAddr
from sipsim.engine.parser.uri import SipUri, kamailio_user_phone, parse_uri
from sipsim.routing import uri_edit
from sipsim.routing.functions import BRANCH_ROUTE, FAILURE_ROUTE, REQUEST_ROUTE, Param, export
from sipsim.routing.interp import Run, Steps, uri_is_myself

RR_DRIVEN = 1
RR_ERROR = -1
RR_NOT_DRIVEN = -1
RR_PRELOADED = -3


def _our_hostport(run: Run) -> str:
    cfg = run.config
    host = cfg.advertised_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = cfg.listen[1]
    return host if port == 5060 else f"{host}:{port}"


def _tag(msg: SipMsg, hdr: HdrField | None) -> str:
    if hdr is None or hdr.parsed is None:
        return ""
    return hdr.parsed.param("tag") or ""


@export("record_route", "rr", (0, 1), route_types=REQUEST_ROUTE | BRANCH_ROUTE | FAILURE_ROUTE)
def record_route(run: Run, params: list[Param]) -> Steps:
    """record_route([";params"]): add a Record-Route with our address and ;lr (a lump)."""
    msg = run.msg
    if msg.extra.get("rr_added"):
        yield run.event("record_route", "double attempt to record-route: refused", reason="already added")
        return -1
    ftag = ""
    if int(run.script.modparam("rr", "append_fromtag", 1)):
        upstream = _is_upstream(run, msg)
        parse_headers(msg, F_FROM | F_TO)
        hdr = msg.to if upstream else msg.from_
        if hdr is None or hdr.parsed is None:
            yield run.event("record_route", "From/To parsing failed", reason="parse error")
            return -1
        ftag = _tag(msg, hdr)
    if not msg.headers:
        yield run.event("record_route", "no header to insert before", reason="parse error")
        return -1
    lr = ";lr=on" if int(run.script.modparam("rr", "enable_full_lr", 0)) else ";lr"
    extra = params[0].str(run) if params else ""
    uri = f"{_rr_scheme(msg)}:{_our_hostport(run)}{lr}" + (f";ftag={ftag}" if ftag else "") + extra
    text = f"Record-Route: <{uri}>\r\n"
    lumps.insert(msg, msg.headers[0].start, text, "record_route")
    msg.extra["rr_added"] = True
    yield run.event("record_route", f"adds '{text.rstrip()}' before the first header {lumps.how(run.ctx.ser)}",
                    detail={"record_route": uri})
    return 1


def _rr_scheme(msg: SipMsg) -> str:
    """``sips`` when the Request-URI is a sips: URI (RFC 3261 §16.6; measured on 5.6.3: ``INVITE
    sips:bob@...`` over UDP gets ``Record-Route: <sips:127.0.0.1;lr>``), else ``sip``. Kamailio
    takes a ``sips:...;user=phone`` URI for a tel: one (``phone2tel``): ``sip`` then."""
    try:
        uri = msg.parsed_ruri()
    except ParseError:
        return "sip"
    if uri.scheme != "sips" or (not msg.profile_ser and kamailio_user_phone(uri.params)):
        return "sip"
    return "sips"


def _is_upstream(run: Run, msg: SipMsg) -> bool:
    """rr's ``is_direction()``: after ``loose_route()``, what it found; before it, the ftag of the
    first Route header *the parser has already met* (``redo_route_params``: it does not parse
    further) when that Route names us -- a tag other than the From-tag means upstream, and then
    record_route() takes the To-tag (measured: a pre-loaded ``Route: <sip:US;lr;ftag=x>`` written
    before CSeq changes the ftag of the Record-Route; written after it, it does not)."""
    if "rr_upstream" in msg.extra:
        return bool(msg.extra["rr_upstream"])
    if not msg.is_request or msg.route is None:
        return False
    try:
        first = parse_hdr_body(msg.route, kamailio=not run.ctx.ser)[0]  # type: ignore[index]
        puri = parse_uri(first.uri, kamailio=not run.ctx.ser)
    except (ParseError, IndexError):
        return False
    if not (puri.is_sip and uri_is_myself(run.config, first.uri)):
        return False
    ftag = _ftag(puri)
    parse_headers(msg, F_FROM)
    tag = _tag(msg, msg.from_)
    return bool(ftag) and bool(tag) and ftag != tag


def _ftag(puri: SipUri) -> str | None:
    """The Route URI's ``ftag`` as rr reads it with ``parse_params()``: white space around the
    name and the value is skipped (``;ftag= <TAB>ft1`` is ``ft1``), one pair of quotes, ``"`` or
    ``'``, is removed (``;ftag='ft1'`` is ``ft1``), and the name is matched in lower case only
    (``;Ftag=x`` is no ftag: the request goes downstream; measured on 5.6.3)."""
    for name, value in puri.params:
        if name.strip(" \t\r\n") == "ftag":
            return lex.unquote((value or "").strip(" \t\r\n"))
    return None


def _routes(msg: SipMsg) -> list[HdrField]:
    parse_headers(msg, F_EOH)
    if msg.route is None:
        return []  # msg.route is the first Route header parsed: there is none (most initial requests)
    return [h for h in msg.headers if h.type is HdrType.HDR_ROUTE_T]


def _maddr_uri(uri: str, puri: SipUri) -> str:
    maddr = puri.param("maddr")
    if not maddr:
        return uri
    return f"sip:{maddr}" + (f":{puri.port}" if puri.port else "")


def _is_strict(puri: SipUri, kamailio: bool = False) -> bool:
    """rr's ``is_strict()``: no ``lr`` parameter (white space around the name is skipped: ``; lr``).

    Kamailio (``phone2tel``) reads a URI with ``;user=phone`` as a tel: URI whose parameters are
    those of its user part (the part its parse_uri() cut off, :attr:`SipUri.phone_params`):
    ``<sip:host;lr;user=phone>`` is then a strict router (measured)."""
    params = puri.params
    if kamailio and kamailio_user_phone(puri.params):  # (the last user parameter counts)
        params = [(chunk.partition("=")[0], None) for chunk in (puri.phone_params or "").split(";") if chunk]
    return not any(name.strip(" \t\r\n").lower() == "lr" for name, _ in params)


def _is_2rr(puri: SipUri) -> bool:
    """rr's ``is_2rr()``: an ``r2`` parameter (any value, any case, white space around the name)."""
    return any(name.strip(" \t\r\n").lower() == "r2" for name, _ in puri.params)


def _del(msg: SipMsg, start: int, end: int, why: str) -> None:
    lumps.delete(msg, start, end - start, why)


class _Fail(Exception):
    pass


def _parse(h: HdrField, kamailio: bool) -> list[NameAddr]:
    try:
        return parse_hdr_body(h, kamailio)  # type: ignore[return-value]
    except ParseError:
        raise _Fail(f"bad {h.canonical_name} header") from None


def _puri(na: NameAddr, kamailio: bool = True) -> SipUri:
    try:
        return parse_uri(na.uri, kamailio=kamailio)
    except ParseError:
        raise _Fail(f"bad Route URI {na.uri!r}") from None


class _Caller:
    """What the loose-routing code reads of a script run: the worker and the effective config."""

    def __init__(self, ctx, config) -> None:  # noqa: ANN001 - WorkerContext, ServerConfig
        self.ctx, self.config = ctx, config


def follow_route_set(ctx, msg: SipMsg) -> tuple[int, str]:  # noqa: ANN001 - WorkerContext
    """``loose_route()`` for Python callers (the built-in default route, default.cfg's twin): the
    same processing, with the worker's own config; returns (rc, what was done)."""
    notes: list[str] = []
    try:
        rc = _loose_route(_Caller(ctx, ctx.config), msg, notes)
    except _Fail as exc:
        rc = RR_ERROR
        notes.append(str(exc))
    return rc, "; ".join(notes) or "done"


@export("loose_route", "rr", (0,), route_types=REQUEST_ROUTE)
def loose_route(run: Run, params: list[Param]) -> Steps:
    """loose_route(): follow the Route set (RFC 3261 loose routing); true when it chose the next hop."""
    msg = run.msg
    notes: list[str] = []
    try:
        rc = _loose_route(run, msg, notes)
    except _Fail as exc:
        rc = RR_ERROR
        notes.append(str(exc))
    text = "; ".join(notes) or "done"
    yield run.event("loose_route", f"{text} -> {rc}", detail={"rc": rc, "ruri": msg.ruri, "du": msg.dst_uri})
    return rc


def _loose_route(run: Run, msg: SipMsg, notes: list[str]) -> int:
    if not msg.is_request:
        notes.append("not a request")
        return RR_NOT_DRIVEN
    routes = _routes(msg)
    if not routes:
        notes.append("no Route header")
        return RR_NOT_DRIVEN
    _parse(routes[0], not run.ctx.ser)
    try:
        msg.parsed_ruri()
    except ParseError:
        notes.append("bad Request-URI")
        return RR_ERROR
    parse_headers(msg, F_TO)
    if msg.to is None or msg.to.parsed is None:
        notes.append("no To header")
        return RR_ERROR
    preloaded = not msg.to.parsed.param("tag")
    if preloaded:
        notes.append("no To-tag: a pre-loaded route set")
        return _after_loose(run, msg, routes, True, notes)
    if uri_is_myself(run.config, msg.ruri):
        notes.append("the R-URI is ours: the previous hop was a strict router")
        return _after_strict(run, msg, routes, notes)
    return _after_loose(run, msg, routes, False, notes)


def _after_loose(run: Run, msg: SipMsg, routes: list[HdrField], preloaded: bool, notes: list[str]) -> int:
    hi = 0
    hdr = routes[hi]
    rts = _parse(hdr, not run.ctx.ser)
    ri = 0
    puri = _puri(rts[ri], not run.ctx.ser)
    if uri_is_myself(run.config, rts[ri].uri):
        _record_direction(msg, puri)
        notes.append(f"top Route <{rts[ri].uri}> is us: removed")
        # with ;r2 (a double Record-Route: one entry per socket) the next Route is our other one,
        # removed too whatever it names (rr's enable_double_rr, on by default)
        for double in (False, True) if _is_2rr(puri) else (False,):
            if double:
                notes.append(f"our Route has r2: the next one <{rts[ri].uri}> is our second: removed too")
            if ri + 1 >= len(rts):
                _del(msg, hdr.start, hdr.end, "loose_route: our Route")
                hi += 1
                if hi >= len(routes):
                    if msg.eoh is None:
                        # find_next_route(): the headers after ours do not parse, so whether another
                        # Route follows cannot be known -- an error, not "no more Route"
                        notes.append("looking for the next Route: the headers do not parse")
                        return RR_ERROR
                    notes.append("no more Route")
                    return RR_PRELOADED if preloaded else RR_DRIVEN
                hdr = routes[hi]
                rts = _parse(hdr, not run.ctx.ser)
                ri = 0
            else:
                ri += 1
            puri = _puri(rts[ri], not run.ctx.ser)
    else:
        notes.append(f"top Route <{rts[ri].uri}> is not us")
    uri = rts[ri].uri
    if _is_strict(puri, not run.ctx.ser):
        if not _handle_sr(msg, hdr, rts, ri, puri):
            notes.append(f"next hop <{uri}> is a strict router, but the headers do not parse to their end: "
                         "the R-URI cannot be saved (rr: failed to parse message)")
            return RR_ERROR
        notes.append(f"next hop <{uri}> is a strict router: it becomes the R-URI, the R-URI goes last in Route")
    else:
        msg.dst_uri = _maddr_uri(uri, puri)
        notes.append(f"next hop <{uri}> is a loose router: $du = {msg.dst_uri}")
        if ri != 0:
            _del(msg, hdr.body_start, rts[ri].start, "loose_route: our Route value")
    return RR_DRIVEN


def _handle_sr(msg: SipMsg, hdr: HdrField, rts: list[NameAddr], ri: int, puri: SipUri) -> bool:
    """Next hop is a strict router: save the R-URI as the last Route, put the route in the R-URI.
    False when the headers cannot be parsed to their end (rr's ``save_ruri()`` fails)."""
    if parse_headers(msg, F_EOH) < 0 or msg.eoh is None or msg.first_line is None:
        return False
    at = msg.headers_end()
    lumps.insert(msg, at, f"Route: <{msg.first_line.uri}>\r\n", "loose_route: R-URI saved for a strict router")
    uri_edit.set_ruri(msg, _maddr_uri(rts[ri].uri, puri))
    if ri + 1 >= len(rts):
        _del(msg, hdr.start, hdr.end, "loose_route: strict router's Route")
    else:
        _del(msg, hdr.body_start, rts[ri + 1].start, "loose_route: strict router's Route")
    return True


def _after_strict(run: Run, msg: SipMsg, routes: list[HdrField], notes: list[str]) -> int:
    hdr = routes[0]
    rts = _parse(hdr, not run.ctx.ser)
    ri = 0
    puri = _puri(rts[0], not run.ctx.ser)
    if _is_2rr(puri) and uri_is_myself(run.config, rts[0].uri):
        # the first Route is the second of our double Record-Route (see _after_loose): skipped
        notes.append(f"top Route <{rts[0].uri}> is our second (r2): removed")
        if len(rts) > 1:
            ri = 1
        else:
            _del(msg, hdr.start, hdr.end, "loose_route: our second Route")
            if len(routes) == 1:
                notes.append("no more Route" if msg.eoh is not None else "the headers do not parse")
                return RR_NOT_DRIVEN if msg.eoh is not None else RR_ERROR
            routes = routes[1:]
            hdr = routes[0]
            rts = _parse(hdr, not run.ctx.ser)
        puri = _puri(rts[ri], not run.ctx.ser)
    rt = rts[ri]
    if _is_strict(puri, not run.ctx.ser):
        uri_edit.set_ruri(msg, _maddr_uri(rt.uri, puri))
        notes.append(f"next hop <{rt.uri}> is strict too: it becomes the R-URI")
        if ri + 1 < len(rts):
            _del(msg, hdr.body_start, rts[ri + 1].start, "loose_route: Route used as R-URI")
        else:
            _del(msg, hdr.start, hdr.end, "loose_route: Route used as R-URI")
        return RR_DRIVEN
    # $du is set first, then find_rem_target() looks for the last Route: a failure there leaves
    # $du set (measured on 5.6.3: loose_route() returns -1 with $du the loose router)
    msg.dst_uri = _maddr_uri(rt.uri, puri)
    notes.append(f"next hop <{rt.uri}> is a loose router: $du = {msg.dst_uri}")
    if msg.eoh is None:
        # find_rem_target(): the last Route cannot be found when the headers do not parse
        notes.append("searching for the last Route: the headers do not parse")
        return RR_ERROR
    last = routes[-1]
    values = _parse(last, not run.ctx.ser)
    target = values[-1]
    tpuri = _puri(target, not run.ctx.ser)
    uri_edit.set_ruri(msg, _maddr_uri(target.uri, tpuri))
    notes.append(f"the last Route <{target.uri}> is the real target: it becomes the R-URI and is removed")
    if len(values) > 1:
        _del(msg, values[-2].end, target.end, "loose_route: last Route moved to the R-URI")
    else:
        _del(msg, last.start, last.end, "loose_route: last Route moved to the R-URI")
    if ri:
        _del(msg, hdr.body_start, rt.start, "loose_route: our second Route")
    return RR_DRIVEN


def _record_direction(msg: SipMsg, puri: SipUri) -> None:
    """Remember whether the request goes upstream (its From-tag is not our Route's ftag)."""
    ftag = _ftag(puri)
    if ftag is None:
        return
    parse_headers(msg, F_FROM)
    msg.extra["rr_upstream"] = ftag != _tag(msg, msg.from_)
