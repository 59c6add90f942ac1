"""More of the ``pv`` module's variables: the original R-URI (``$ou``, ``$oU`` ...), the transport
of the R-URI and destination URI, the body (``$cT``, ``$cl``, ``$bs``), the source as a URI
(``$su``), the advertised address (``$RAi``) and the flags (``$mf``, ``$sf``).

Values are those of Kamailio 5.6.3, measured (tests/routing/test_pv_kamailio56.py): ``$op`` and
``$dp`` give 5060 when the URI names no port, ``$rP``/``$oP`` give ``UDP`` when it names no
transport and the ``transport`` parameter as written otherwise, ``$cl`` is 0 without a
Content-Length header.

Each header variable parses the headers only as far as its header (Kamailio's
``parse_headers(msg, HDR_xxx_F)``): ``$cT`` is read even when a later header is broken.

:data:`NOT_MODELED` names the variables that exist in Kamailio but that sipsim cannot give
honestly — a script that uses one is refused at load with the reason, never a made-up value.
"""

from __future__ import annotations

from collections.abc import Callable

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_EOH, HdrType
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import parse_uri
from sipsim.routing.pv import Env, PvSpec, Value, raw_body


def _orig_uri(env: Env):  # type: ignore[no-untyped-def]
    """The R-URI as received (the first line's, whatever the script did to ``$ru``)."""
    if not env.msg.is_request or env.msg.first_line is None:
        return None
    try:
        return parse_uri(env.msg.first_line.uri, kamailio=True)
    except ParseError:
        return None


def _ou(env: Env, spec: PvSpec) -> Value:
    if not env.msg.is_request or env.msg.first_line is None:
        return None
    return env.msg.first_line.uri if _orig_uri(env) is not None else None


def _orig_part(part: str) -> Callable[[Env, PvSpec], Value]:
    def get(env: Env, spec: PvSpec) -> Value:
        u = _orig_uri(env)
        if u is None:
            return None
        if part == "user":
            return u.user or None
        if part == "host":
            return u.host or None
        if part == "port":
            return u.port if u.port is not None else default_port(u)
        return _transport(u, upper_default=True)

    return get


def default_port(u) -> int:  # type: ignore[no-untyped-def]
    """The port Kamailio 5.6 gives a URI without one: 5061 for ;transport=tls, else 5060 -- a
    sips: URI included (measured)."""
    tls = any(n.lower() == "transport" and (v or "").lower() == "tls" for n, v in u.params)
    return 5061 if tls else 5060


def _transport(u, upper_default: bool) -> Value:  # type: ignore[no-untyped-def]
    """A URI's ``transport`` parameter as written, or ``UDP`` when it has none (Kamailio)."""
    for name, value in u.params:
        if name.lower() == "transport" and value:
            return value
    return "UDP" if upper_default else None


def _rproto(env: Env, spec: PvSpec) -> Value:
    if not env.msg.is_request:
        return None
    try:
        u = env.msg.parsed_ruri()
    except ParseError:
        return None
    return _transport(u, upper_default=True)


def _du_part(part: str) -> Callable[[Env, PvSpec], Value]:
    def get(env: Env, spec: PvSpec) -> Value:
        du = env.msg.dst_uri
        if not du:
            return None
        try:
            u = parse_uri(du, kamailio=True)
        except ParseError:
            return None
        if part == "host":
            return u.host or None
        if part == "port":
            return u.port if u.port is not None else default_port(u)
        return _transport(u, upper_default=False)

    return get


def header_of(env: Env, spec: PvSpec, htype: HdrType, name: str) -> Value:
    """The first header of this kind, parsing only up to it; $null when absent or not reached."""
    msg = env.msg
    parse_headers(msg, 1 << int(htype))
    for h in msg.headers:
        if h.type == htype:
            return raw_body(msg, h)
    note_unparsed(env, spec, name)
    return None


def _header_of(htype: HdrType, name: str) -> Callable[[Env, PvSpec], Value]:
    return lambda env, spec: header_of(env, spec, htype, name)


def note_unparsed(env: Env, spec: PvSpec, name: str, every: bool = False) -> None:
    """When a header error stopped the parse before ``name`` was found, say so to an observer:
    the trace then shows why the variable is $null (lesson 6: Kamailio parses lazily)."""
    err = env.msg.hdr_error
    if err is not None and env.msg.eoh is None and getattr(env.ctx, "tracing", False):
        env.msg.extra.setdefault("pv_notes", []).append(
            f"{spec.text} is $null: " + (f"${spec.name} needs every header parsed, and one is broken ({err})" if every
                                         else f"the headers could not be parsed as far as a {name} header ({err})"))


def _content_length(env: Env, spec: PvSpec) -> Value:
    value = _header_of(HdrType.HDR_CONTENTLENGTH_T, "Content-Length")(env, spec)
    if value is None:
        return 0
    text = str(value).strip()
    return int(text) if text.isdigit() else 0


def _body_size(env: Env, spec: PvSpec) -> Value:
    if parse_headers(env.msg, F_EOH) < 0:
        return 0
    return len(env.msg.body())


def _su(env: Env, spec: PvSpec) -> Value:
    ip, port = env.msg.rcv.src
    ip = f"[{ip}]" if ":" in ip and not ip.startswith("[") else ip
    proto = env.msg.rcv.proto.lower()
    return f"sip:{ip}:{port}" + ("" if proto == "udp" else f";transport={proto}")


def _rcv_adv_ip(env: Env, spec: PvSpec) -> Value:
    return env.msg.rcv.dst[0]  # no advertised address is modeled: the receiving socket's own


def _rcv_adv_port(env: Env, spec: PvSpec) -> Value:
    return int(env.msg.rcv.dst[1])


def _msg_flags(env: Env, spec: PvSpec) -> Value:
    return int(getattr(env.msg, "flags", 0) or 0)


def _script_flags(env: Env, spec: PvSpec) -> Value:
    """``$sf``: the script flags, which only ``setsflag()`` sets -- refused as not modeled, so 0.
    (``setflag()`` sets the *message* flags, ``$mf``.)"""
    return 0


def _forced_socket(env: Env, spec: PvSpec) -> Value:
    return None  # force_send_socket() is refused as not modeled: no message has a forced socket


TABLE: dict[str, tuple[Callable[[Env, PvSpec], Value], None, str]] = {
    "ou": (_ou, None, "none"),
    "oU": (_orig_part("user"), None, "none"),
    "od": (_orig_part("host"), None, "none"),
    "op": (_orig_part("port"), None, "none"),
    "oP": (_orig_part("proto"), None, "none"),
    "rP": (_rproto, None, "none"),
    "dd": (_du_part("host"), None, "none"),
    "dp": (_du_part("port"), None, "none"),
    "dP": (_du_part("proto"), None, "none"),
    "cT": (_header_of(HdrType.HDR_CONTENTTYPE_T, "Content-Type"), None, "none"),
    "cl": (_content_length, None, "none"),
    "bs": (_body_size, None, "none"),
    "su": (_su, None, "none"),
    "RAi": (_rcv_adv_ip, None, "none"),
    "RAp": (_rcv_adv_port, None, "none"),
    "mf": (_msg_flags, None, "none"),
    "sf": (_script_flags, None, "none"),
    "fs": (_forced_socket, None, "none"),
}

_CLOCK = "it reads the clock, and sipsim's routing engine has none: $Ts gives the message's receive time"
NOT_MODELED: dict[str, str] = {
    "pp": "the worker's process id is not passed to the routing engine",
    "TF": _CLOCK, "Tf": _CLOCK, "TS": _CLOCK, "time": _CLOCK, "utime": _CLOCK, "timef": _CLOCK,
    "sid": "server_id is not modeled", "ruid": "usrloc record ids are not modeled",
    "au": "authentication (auth module) is not modeled", "ai": "P-Asserted-Identity is not modeled",
    "ar": "authentication (auth module) is not modeled", "ad": "authentication (auth module) is not modeled",
    "di": "Diversion header parsing is not modeled", "cnt": "$cnt is not modeled",
    "stat": "statistics variables are not modeled", "fUl": "$fUl is not modeled", "tUl": "$tUl is not modeled",
    "bf": "branch flags are not modeled", "bF": "branch flags are not modeled",
    "br": "branches are not modeled", "bR": "branches are not modeled", "branch": "branches are not modeled",
    "mF": "$mF is not modeled", "sF": "$sF is not modeled", "re": "Remote-Party-ID is not modeled",
    "pd": "P-Preferred-Identity is not modeled", "pU": "P-Preferred-Identity is not modeled",
    "pu": "P-Preferred-Identity is not modeled", "rt": "$rt is not modeled", "tP": "$tP is not modeled",
    "gid": "$gid is not modeled", "msrp": "MSRP is not modeled", "cfg": "$cfg is not modeled",
    "env": "environment variables are not modeled", "def": "$def is not modeled", "defn": "$defn is not modeled",
    "RAu": "$RAu is not modeled", "RAut": "$RAut is not modeled", "Ru": "$Ru is not modeled",
    "Rut": "$Rut is not modeled", "conid": "TCP connections are not modeled",
    "snd": "the send socket ($snd) exists only in onsend_route, which is not modeled",
    "sndto": "onsend_route is not modeled", "sndfrom": "onsend_route is not modeled",
    "nh": "$nh is not modeled", "sas": "$sas is not modeled", "af": "$af is not modeled",
}
