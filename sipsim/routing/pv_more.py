"""More of the ``pv`` module's variables: the original R-URI (``$ou``, ``$oU`` ...), the transport
of the R-URI and destination URI, the body (``$cT``, ``$cl``, ``$bs``), the source as a URI
(``$su``), the receiving socket's advertised address (``$RAi``) and the flags (``$mf``, ``$sf``).

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

from sipsim.engine.events import format_addr
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_EOH, HdrType
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import SipUri, parse_uri
from sipsim.routing.pv_base import Env, PvSpec, Value, first_header, header_of, uri_part


def _orig_uri(env: Env) -> SipUri | None:
    """The R-URI as received (the first line's, whatever the script did to ``$ru``), read as the
    profile reads URIs. Until the script changes the R-URI it is the message's own cached parse
    (``parsed_ruri``); after, the first line's text is parsed on its own."""
    msg = env.msg
    if not msg.is_request or msg.first_line is None:
        return None
    try:
        if msg.new_uri is None:
            return msg.parsed_ruri()
        return parse_uri(msg.first_line.uri, msg.first_line.uri_start, kamailio=msg.mode.uri_kamailio)
    except ParseError:
        return None


def _ou(env: Env, spec: PvSpec) -> Value:
    if not env.msg.is_request or env.msg.first_line is None:
        return None
    return env.msg.first_line.uri if _orig_uri(env) is not None else None


def _orig_part(part: str) -> Callable[[Env, PvSpec], Value]:
    def get(env: Env, spec: PvSpec) -> Value:
        u = _orig_uri(env)
        return None if u is None else uri_part(u, part)

    return get


def _rproto(env: Env, spec: PvSpec) -> Value:
    if not env.msg.is_request:
        return None
    try:
        u = env.msg.parsed_ruri()
    except ParseError:
        return None
    return uri_part(u, "proto")


def _du_part(part: str) -> Callable[[Env, PvSpec], Value]:
    def get(env: Env, spec: PvSpec) -> Value:
        du = env.msg.dst_uri
        if not du:
            return None
        try:
            return uri_part(parse_uri(du, kamailio=env.msg.mode.uri_kamailio), part)
        except ParseError:
            return None

    return get


def _header_of(htype: HdrType, name: str) -> Callable[[Env, PvSpec], Value]:
    return lambda env, spec: header_of(env, spec, htype, name)


def _content_length(env: Env, spec: PvSpec) -> Value:
    """``$cl``: the Content-Length the parser read (it parses the number when it meets the header);
    0 without one."""
    h = first_header(env, spec, HdrType.HDR_CONTENTLENGTH_T, "Content-Length")
    return h.parsed if h is not None and type(h.parsed) is int else 0


def _body_size(env: Env, spec: PvSpec) -> Value:
    if parse_headers(env.msg, F_EOH) < 0:
        return 0
    return len(env.msg.body())


def _su(env: Env, spec: PvSpec) -> Value:
    proto = env.msg.rcv.proto.lower()
    return f"sip:{format_addr(env.msg.rcv.src)}" + ("" if proto == "udp" else f";transport={proto}")


def _rcv_adv_ip(env: Env, spec: PvSpec) -> Value:
    """``$RAi``: the address the receiving socket advertises (``listen=... advertise NAME``; in
    sipsim ``--advertise``, the scenario's ``advertise``), else the socket's own IP, as ``$Ri``.

    The script's ``advertised_address`` global does not change it: in Kamailio that one only says
    what goes into the Via and Record-Route of a message (``set_global_address``), the socket keeps
    its own. sipsim folds it into the server's ``advertise`` (``CfgRouter.config``), so the
    socket's is the one the router was loaded with (``base_config``)."""
    return env.router.base_config.advertise or env.msg.rcv.dst[0]


def _rcv_adv_port(env: Env, spec: PvSpec) -> Value:
    """``$RAp``: the advertised port, else the receiving one; sipsim advertises a name only (the
    Via keeps the listening port), so it is always the receiving socket's port."""
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
    "dP": (_du_part("transport"), None, "none"),
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
