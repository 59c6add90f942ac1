"""Pseudo-variables (Kamailio's ``pv`` module and core): ``$ru``, ``$var(x)``, ``$hdr(Name)`` ...

A pseudo-variable is resolved once, when the script is loaded (:func:`parse_pv` gives a
:class:`PvSpec`, an unknown name is a load error with its line and column), and read or written
per message. Values are ``None`` (Kamailio's ``$null``: not there), an ``int`` or a ``str``; the
numeric ones (``$rs``, ``$sp``, ``$Rp``, ``$ml``, ``$rc`` ...) are ints so that
``$rs == 200`` compares numbers, as in Kamailio; ``$cs`` is text there (``$cs + 1`` appends).

What they read is the message *as received*: after ``remove_hf("X")`` ``$hdr(X)`` is still there,
because the change is only a lump (reference §5). The R-URI pseudo-variables read the *new*
R-URI (``msg.new_uri``) once the script changed it, as Kamailio does.

``$var(x)`` are script variables of the worker process: they keep their value from one message
to the next and start at 0 (Kamailio creates them when the script is loaded). ``$avp(x)`` live
for one message.

An index may be a variable (``$(hdr(Via)[$var(i)])``): it is read per message; a negative one
counts headers from the end (and gives no AVP), one that holds text fails the read as in Kamailio.
More variables live in :mod:`sipsim.routing.pv_more`, format strings in
:mod:`sipsim.routing.pv_format`, what they all share (:class:`PvSpec`, the scanner of a variable's
text, the header readers) in :mod:`sipsim.routing.pv_base`.

Simplifications: no transformations (``{s.len}`` ...), no ``$xavp``/``$shv``/``$sel``, no ``tm``
variables (``$T_*``) — each is refused at load time with a clear message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_CALLID, F_CSEQ, F_EOH, F_FROM, F_TO, HdrType
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body, parse_headers
from sipsim.engine.parser.nameaddr import NameAddr
from sipsim.engine.parser.uri import KNOWN_SCHEMES, kamailio_user_phone, parse_uri
from sipsim.routing import pv_more, uri_edit
from sipsim.routing.pv_base import (
    Env,
    PvError,
    PvSpec,
    Value,
    header_of,
    note_unparsed,
    raw_body,
    scan_pv,
    split_pv,
    uri_part,
)


# -- getters -------------------------------------------------------------------------------------
def _req(env: Env) -> bool:
    return env.msg.is_request


def _ruri(env: Env, spec: PvSpec) -> Value:
    """The (new) R-URI; $null when it cannot be parsed (Kamailio parses it first)."""
    if not _req(env):
        return None
    try:
        u = env.msg.parsed_ruri()
    except ParseError:
        return None
    return env.msg.ruri if u.scheme in KNOWN_SCHEMES else None


def _ruri_part(part: str) -> Callable[[Env, PvSpec], Value]:
    def get(env: Env, spec: PvSpec) -> Value:
        if not _req(env):
            return None
        try:
            u = env.msg.parsed_ruri()
        except ParseError:
            return None
        if part == "scheme":
            # Kamailio's parse_uri() (phone2tel) makes a sip:/sips: URI with ;user=phone a tel: URI
            if env.msg.mode.uri_kamailio and u.scheme in ("sip", "sips") and kamailio_user_phone(u.params):
                return "tel"
            return u.scheme
        return uri_part(u, part)

    return get


def _du(env: Env, spec: PvSpec) -> Value:
    return env.msg.dst_uri or None


def _src_ip(env: Env, spec: PvSpec) -> Value:
    return env.msg.rcv.src[0]


def _src_port(env: Env, spec: PvSpec) -> Value:
    return int(env.msg.rcv.src[1])


def _rcv_ip(env: Env, spec: PvSpec) -> Value:
    return env.msg.rcv.dst[0]


def _rcv_port(env: Env, spec: PvSpec) -> Value:
    return int(env.msg.rcv.dst[1])


def _proto(env: Env, spec: PvSpec) -> Value:
    return env.msg.rcv.proto


def _method(env: Env, spec: PvSpec) -> Value:
    msg = env.msg
    if msg.is_request:
        return msg.first_line.method  # type: ignore[union-attr]
    parse_headers(msg, F_CSEQ)
    return msg.cseq.parsed.method if msg.cseq is not None and msg.cseq.parsed is not None else None


def _status(env: Env, spec: PvSpec) -> Value:
    """``$rs``: the status code. Kamailio keeps it as a number *and* as the three characters of
    the status line; sipsim gives the number, or those characters when they have a leading zero
    (``099``, which Kamailio 5.6 accepts) so that it prints as Kamailio prints it."""
    fl = env.msg.first_line
    if fl is None or not env.msg.is_reply:
        return None
    return fl.status if fl.status >= 100 else f"{fl.status:03d}"


def _reason(env: Env, spec: PvSpec) -> Value:
    fl = env.msg.first_line
    return fl.reason if fl is not None and env.msg.is_reply else None


def _addr_hdr(which: str, part: str) -> Callable[[Env, PvSpec], Value]:
    flag = F_FROM if which == "from" else F_TO

    def get(env: Env, spec: PvSpec) -> Value:
        msg = env.msg
        parse_headers(msg, flag)
        hdr = msg.from_ if which == "from" else msg.to
        if hdr is None or hdr.parsed is None:
            return None
        na = hdr.parsed
        if part == "uri":
            return na.uri
        if part == "tag":
            tag = na.param("tag")
            return tag or None
        if part == "display":
            return na.display if msg.profile_ser else display_as_written(msg, na)
        try:
            u = na.parsed_uri
        except ParseError:
            return None
        return (u.user or None) if part == "user" else (u.host or None)

    return get


def display_as_written(msg: SipMsg, na: NameAddr) -> str | None:
    """``$tn``/``$fn`` as Kamailio 5.6 gives them: the display name exactly as the message writes
    it, from its first character to its last before ``<`` -- a quoted name keeps its quotes and
    escapes (``"A \\"q\\" B"``, ``""``), an unquoted one its inner blanks, tabs and even a line
    fold (``Bob   Smith``); only the white space around it goes (measured against the binary).
    No ``<`` or nothing before it is no name (``<null>``). The ser profile gives the parser's
    RFC reading instead (unquoted, blanks collapsed)."""
    if not na.bracketed:
        return None
    written = msg.text[na.start:na.uri_start - 1].strip(" \t\r\n")
    return written or None


def _callid(env: Env, spec: PvSpec) -> Value:
    parse_headers(env.msg, F_CALLID)
    return raw_body(env.msg, env.msg.callid) if env.msg.callid is not None else None


def _cseq_num(env: Env, spec: PvSpec) -> Value:
    """``$cs``: the CSeq number as *text*, as Kamailio 5.6's ``pv_get_cseq`` gives it (measured:
    ``$cs + 1`` is ``"101"`` for CSeq 10, ``$cs == 10`` is false for ``010``, and
    ``sl_send_reply("$cs", ...)`` answers 500). The ser profile gives a number."""
    parse_headers(env.msg, F_CSEQ)
    c = env.msg.cseq
    if c is None or c.parsed is None:
        return None
    number = c.parsed.number
    if env.msg.profile_ser and c.parsed.is_number:
        return int(number)
    return number  # "x", "12a": the kamailio profile lets them through


def _named_body(htype: HdrType, name: str) -> Callable[[Env, PvSpec], Value]:
    """``$ua``, ``$ct``: the first header of that kind, parsing only as far as it (Kamailio asks
    ``parse_headers`` for that header's flag, not for all: a broken header after it harms nothing)."""
    return lambda env, spec: header_of(env, spec, htype, name)


def _hdr(env: Env, spec: PvSpec) -> Value:
    """``$hdr(Name)``: the first header of that name (compact forms too), ``$(hdr(Name)[n])`` the nth."""
    msg = env.msg
    if parse_headers(msg, F_EOH) < 0:  # $hdr needs every header parsed: one broken header and it is $null
        note_unparsed(env, spec, spec.param or "", every=True)
        return None
    found = msg.headers_named(spec.param or "")
    if not found:
        return None
    i = index_of(env, spec) if spec.index is not None else None
    if i is None:
        return raw_body(msg, found[0])
    if i == "*":
        return ",".join(raw_body(msg, h) for h in found)
    if type(i) is not int or not -len(found) <= i < len(found):
        return None
    return raw_body(msg, found[i])


def _route_uri(env: Env, spec: PvSpec) -> Value:
    """``$route_uri`` (the rr module's): the URI of the first Route header's first entry, or $null."""
    return route_uri(env.msg)


def route_uri(msg: SipMsg) -> str | None:
    """The URI of the first Route entry (``$route_uri``), or None when there is no Route."""
    if parse_headers(msg, F_EOH) < 0:
        return None
    found = msg.headers_named("Route")
    if not found:
        return None
    if not msg.profile_ser:
        try:  # the rr module parses the header first: one it cannot read has no URI (measured on 5.6.3)
            parse_hdr_body(found[0], kamailio=True)
        except ParseError:
            return None
    body = raw_body(msg, found[0]).strip()
    if body.startswith("<") or "<" in body.split(",", 1)[0]:
        start = body.index("<") + 1
        end = body.find(">", start)
        return body[start:end] if end >= 0 else None
    return body.split(",", 1)[0].split(";", 1)[0].strip() or None


def _hdrc(env: Env, spec: PvSpec) -> Value:
    if parse_headers(env.msg, F_EOH) < 0:
        return 0
    return len(env.msg.headers_named(spec.param or ""))


def _var(env: Env, spec: PvSpec) -> Value:
    return env.vars.get(spec.param or "", 0)


def _avp(env: Env, spec: PvSpec) -> Value:
    """``$avp(x)``: the newest value (AVPs are stacks); ``$(avp(x)[n])`` the nth newest, ``[*]`` all
    of them joined with ``", "``. A negative index gives ``<null>`` (Kamailio 5.6 does not count
    AVPs from the oldest, unlike headers)."""
    values = env.msg.extra.get("avps", {}).get(spec.param or "")
    if not values:
        return None
    i = index_of(env, spec) if spec.index is not None else None
    if i is None:
        return values[0]
    if i == "*":
        return ", ".join(str(v) for v in values)
    return values[i] if type(i) is int and 0 <= i < len(values) else None


def _rc(env: Env, spec: PvSpec) -> Value:
    return env.last_rc


def _null(env: Env, spec: PvSpec) -> Value:
    return None


def _ml(env: Env, spec: PvSpec) -> Value:
    return env.msg.len


def _mb(env: Env, spec: PvSpec) -> Value:
    return env.msg.text


def _rb(env: Env, spec: PvSpec) -> Value:
    if parse_headers(env.msg, F_EOH) < 0:
        return None
    return env.msg.body().decode("latin-1")


def _msg_id(env: Env, spec: PvSpec) -> Value:
    return env.msg.id


def _msg_type(env: Env, spec: PvSpec) -> Value:
    return 1 if env.msg.is_request else 2


def _version(env: Env, spec: PvSpec) -> Value:
    fl = env.msg.first_line
    return fl.version if fl is not None else None


def _timestamp(env: Env, spec: PvSpec) -> Value:
    return int(env.msg.time)


# -- setters -------------------------------------------------------------------------------------
def _as_str(value: Value) -> str:
    return "" if value is None else str(value)


def _set_ruri(env: Env, spec: PvSpec, value: Value) -> None:
    if not _req(env):
        raise PvError("$ru can only be set for a request")
    uri_edit.set_ruri(env.msg, None if value is None else _as_str(value))


def _set_ruri_part(part: str) -> Callable[[Env, PvSpec, Value], None]:
    def setter(env: Env, spec: PvSpec, value: Value) -> None:
        if not _req(env):
            raise PvError(f"{spec.text} can only be set for a request")
        if part == "port":
            new: object = None if value in (None, "", 0) else int(value)  # type: ignore[arg-type]
        else:
            new = None if value is None else _as_str(value)
        if part == "host" and not new:
            raise PvError("the R-URI host cannot be empty")
        if not uri_edit.rewrite_ruri(env.msg, **{part: new}):
            raise PvError("the R-URI is not a SIP URI that can be rewritten")

    return setter


def _set_du(env: Env, spec: PvSpec, value: Value) -> None:
    env.msg.dst_uri = None if value in (None, "") else _as_str(value)


def _set_var(env: Env, spec: PvSpec, value: Value) -> None:
    env.vars[spec.param or ""] = 0 if value is None else value


def _set_avp(env: Env, spec: PvSpec, value: Value) -> None:
    """Assigning adds a value on top of the stack; ``$null`` removes the newest one. With ``[*]``
    every value goes first (``$(avp(x)[*]) = $null`` empties it). As in Kamailio 5.6, a numeric
    index does not choose the value replaced: it behaves as no index."""
    avps = env.msg.extra.setdefault("avps", {})
    name = spec.param or ""
    values = avps.setdefault(name, [])
    if spec.index == "*":
        values.clear()
    if value is None:
        if values:
            values.pop(0)
    else:
        values.insert(0, value)


# name -> (getter, setter, parameter: "none" | "required")
_TABLE: dict[str, tuple[Callable[[Env, PvSpec], Value], Callable[[Env, PvSpec, Value], None] | None, str]] = {
    "ru": (_ruri, _set_ruri, "none"),
    "rU": (_ruri_part("user"), _set_ruri_part("user"), "none"),
    "rd": (_ruri_part("host"), _set_ruri_part("host"), "none"),
    "rp": (_ruri_part("port"), _set_ruri_part("port"), "none"),
    "rz": (_ruri_part("scheme"), None, "none"),
    "du": (_du, _set_du, "none"),
    "si": (_src_ip, None, "none"),
    "sp": (_src_port, None, "none"),
    "Ri": (_rcv_ip, None, "none"),
    "Rp": (_rcv_port, None, "none"),
    "pr": (_proto, None, "none"),
    "proto": (_proto, None, "none"),
    "rm": (_method, None, "none"),
    "rs": (_status, None, "none"),
    "rr": (_reason, None, "none"),
    "rv": (_version, None, "none"),
    "fu": (_addr_hdr("from", "uri"), None, "none"),
    "fU": (_addr_hdr("from", "user"), None, "none"),
    "fd": (_addr_hdr("from", "host"), None, "none"),
    "ft": (_addr_hdr("from", "tag"), None, "none"),
    "fn": (_addr_hdr("from", "display"), None, "none"),
    "tu": (_addr_hdr("to", "uri"), None, "none"),
    "tU": (_addr_hdr("to", "user"), None, "none"),
    "td": (_addr_hdr("to", "host"), None, "none"),
    "tt": (_addr_hdr("to", "tag"), None, "none"),
    "tn": (_addr_hdr("to", "display"), None, "none"),
    "ci": (_callid, None, "none"),
    "cs": (_cseq_num, None, "none"),
    "ua": (_named_body(HdrType.HDR_USERAGENT_T, "User-Agent"), None, "none"),
    "ct": (_named_body(HdrType.HDR_CONTACT_T, "Contact"), None, "none"),
    "hdr": (_hdr, None, "required"),
    "hdrc": (_hdrc, None, "required"),
    "route_uri": (_route_uri, None, "none"),
    "var": (_var, _set_var, "required"),
    "avp": (_avp, _set_avp, "required"),
    "rc": (_rc, None, "none"),
    "retcode": (_rc, None, "none"),
    "null": (_null, None, "none"),
    "ml": (_ml, None, "none"),
    "mb": (_mb, None, "none"),
    "rb": (_rb, None, "none"),
    "mi": (_msg_id, None, "none"),
    "mt": (_msg_type, None, "none"),
    "Ts": (_timestamp, None, "none"),
    **pv_more.TABLE,
}

REFUSED = {
    "T_": "tm pseudo-variables ($T_...) need transactions: sipsim models Kamailio's stateless core",
    "xavp": "$xavp is not modeled by sipsim",
    "shv": "$shv (shared variables) is not modeled by sipsim",
    "sel": "select expressions ($sel) are not modeled by sipsim",
}

_INDEX_RE = re.compile(r"-?[0-9]+|\*")
CORE_NAMES = frozenset({"null", "rc", "retcode"})  # the core's own; every other one comes with pv.so
MODULE_NAMES = {"route_uri": "rr"}  # the ones another module exports


KNOWN_NAMES = frozenset(_TABLE)


def known_names() -> list[str]:
    return sorted(_TABLE)


def known_names_set() -> frozenset[str]:
    return KNOWN_NAMES


def parse_pv(text: str) -> PvSpec:
    """Resolve ``$name``, ``$name(param)`` or ``$(name(param)[index])``; the index is a number
    (``-1`` counts from the end), ``*`` or a variable (``[$var(i)]``). Raises PvError."""
    if not text.startswith("$") or len(text) < 2:
        raise PvError(f"{text!r} is not a pseudo-variable")
    name, param, index = split_pv(text)
    for prefix, why in REFUSED.items():
        if name.startswith(prefix) if prefix.endswith("_") else name == prefix:
            raise PvError(f"{text}: {why}")
    entry = _TABLE.get(name)
    if entry is None:
        if name in pv_more.NOT_MODELED:
            raise PvError(f"{text} exists in Kamailio but is not modeled by sipsim ({pv_more.NOT_MODELED[name]})")
        raise PvError(f"unknown pseudo-variable {text} (sipsim knows ${', $'.join(known_names())})")
    getter, setter, need = entry
    if need == "required" and not param:
        raise PvError(f"{text} needs a name in parentheses, e.g. ${name}(x)")
    if need == "none" and param is not None:
        raise PvError(f"{text}: ${name} takes no parameter")
    index_pv = None
    if index is not None:
        if name not in ("hdr", "avp"):
            raise PvError(f"{text}: only $hdr and $avp take an index")
        if index.startswith("$"):
            # as Kamailio: the variable's text is read up to its end, what follows it is ignored
            index_pv = parse_pv(index[:scan_pv(index, 0)])
        elif not _INDEX_RE.fullmatch(index):
            raise PvError(f"{text}: invalid index [{index}]: write a number (-1 is the last), * "
                          "or a variable such as $var(i)")
    if name == "avp" and param and ":" in param:
        param = param.split(":", 1)[1]  # $avp(s:name) -> name
    return PvSpec(text, name, param, index, getter, setter, index_pv)


_BAD_INDEX = object()


def index_of(env: Env, spec: PvSpec) -> object:
    """The index of ``$(hdr(X)[...])``: an int, ``"*"``, None (no index) or ``_BAD_INDEX`` when a
    variable index does not hold a number (Kamailio: "invalid index value", and the read fails)."""
    if spec.index_pv is None:
        return spec.index if spec.index in (None, "*") else int(spec.index)  # type: ignore[arg-type]
    v = spec.index_pv.get(env, spec.index_pv)
    return v if type(v) is int else _BAD_INDEX


def read_fails(env: Env, spec: PvSpec) -> bool:
    """The read of ``spec`` fails in Kamailio (xlog prints nothing rather than ``<null>``)."""
    return spec.index_pv is not None and index_of(env, spec) is _BAD_INDEX


def get(env: Env, spec: PvSpec) -> Value:
    return spec.get(env, spec)


def assign(env: Env, spec: PvSpec, value: Value) -> None:
    if spec.set is None:
        raise PvError(f"{spec.text} is read-only")
    spec.set(env, spec, value)


def to_text(value: Value) -> str:
    """How xlog prints a value: ``<null>`` for $null."""
    return "<null>" if value is None else str(value)


def is_uri_ok(msg: SipMsg) -> bool:
    """The message's (new) R-URI parses (``parse_sip_msg_uri`` succeeds)."""
    try:
        msg.parsed_ruri()
    except ParseError:
        return False
    return True


def is_uri(s: str) -> bool:
    try:
        parse_uri(s)
    except ParseError:
        return False
    return True

