"""Request-URI rewriting: what ``$ru``/``$rU``/``$rd``/``$rp`` assignments and the core actions
``seturi``, ``sethost``, ``setuser``, ``setport``, ``strip``, ``prefix`` do (``action.c``).

The received first line is never touched: a new R-URI is kept in ``msg.new_uri`` (Kamailio's
``msg->new_uri``) and written into the outgoing request when a buffer is built.
"""

from __future__ import annotations

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.uri import SipUri

KEEP = object()


def build_uri(u: SipUri, *, user: object = KEEP, host: object = KEEP, port: object = KEEP) -> str:
    """The URI text with some parts replaced (``None`` removes the user or the port)."""
    new_user = u.user if user is KEEP else user
    new_host = u.host if host is KEEP else host
    new_port = u.port if port is KEEP else port
    out = [u.scheme, ":"]
    if new_user:
        out.append(str(new_user))
        if u.password is not None:
            out.append(":" + u.password)
        out.append("@")
    out.append(str(new_host))
    if new_port not in (None, ""):
        out.append(f":{new_port}")
    for k, v in u.params:
        out.append(f";{k}" if v is None else f";{k}={v}")
    if u.headers is not None:
        out.append("?" + u.headers)
    return "".join(out)


def set_ruri(msg: SipMsg, uri: str | None) -> None:
    """Kamailio's ``rewrite_uri``/``SET_URI_T``: a new R-URI (None reverts to the received one)."""
    msg.new_uri = uri
    msg.changed()


def rewrite_ruri(msg: SipMsg, **parts: object) -> bool:
    """Replace parts of the current R-URI; False when it cannot be parsed or is not a SIP URI."""
    try:
        u = msg.parsed_ruri()
    except ParseError:
        return False
    if not u.is_sip:
        return False
    set_ruri(msg, build_uri(u, **parts))
    return True
