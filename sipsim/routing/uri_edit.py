"""Request-URI rewriting: what ``$ru``/``$rU``/``$rd``/``$rp`` assignments and the core actions
``seturi``, ``sethost``, ``setuser``, ``setport``, ``strip``, ``prefix`` do (``action.c``).

The received first line is never touched: a new R-URI is kept in ``msg.new_uri`` (Kamailio's
``msg->new_uri``) and written into the outgoing request when a buffer is built.
"""

from __future__ import annotations

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.uri import SipUri, kamailio_user_phone

KEEP = object()


def build_uri(u: SipUri, *, user: object = KEEP, host: object = KEEP, port: object = KEEP,
              kamailio: bool = True) -> str:
    """The URI text with some parts replaced (``None`` removes the user or the port), as Kamailio's
    ``do_action()`` writes it back (measured on 5.6.3). What its parser cut off a ``;user=phone``
    user at the first ``;`` (``sip:+1201;ext=12@h;user=phone``) stays after the user, even a new
    or empty one; the ``@`` comes only with a user and a host. A ``tel:`` URI (kamailio profile)
    is rewritten the same way: its parameters are that part after the number (``tel:+1201;ext=12``
    with user ``carol`` is ``tel:carol;ext=12``); it has no host, so a port alone changes nothing,
    and once it gets a host it becomes ``sip:NUMBER;PARAMS@HOST;user=phone``. ``kamailio`` False
    (the ``ser`` profile): a ``sips:`` URI stays ``sips:`` whatever its ``user`` parameter."""
    scheme, user_param, params, headers = u.scheme, u.phone_params, u.params, u.headers
    if kamailio and scheme == "sips" and kamailio_user_phone(params):
        scheme = "sip"  # Kamailio's parser made it a tels: URI (phone2tel); it is written back as sip:
    if scheme == "tel":
        body, q, rest = (u.opaque or "").partition("?")
        user_param, headers = body.partition(";")[2] or None, rest if q else None
        params = []
    new_user = u.user if user is KEEP else user
    new_host = u.host if host is KEEP else host
    new_port = (_port_text(u) or u.port) if port is KEEP else port
    if scheme == "tel" and new_host:
        scheme, params = "sip", [("user", "phone")]
    out = [scheme, ":"]
    if new_user:
        out.append(str(new_user))
        if u.password is not None:
            out.append(":" + u.password)
    if user_param:
        out.append(";" + user_param)  # (after a password: such a URI does not parse again)
    if new_user and new_host:
        out.append("@")
    out.append(str(new_host or ""))
    if new_port not in (None, "") and new_host:
        out.append(f":{new_port}")
    for k, v in params:
        out.append(f";{k}" if v is None else f";{k}={v}")
    if headers is not None:
        out.append("?" + headers)
    return "".join(out)


def _port_text(u: SipUri) -> str | None:
    """The port as the URI writes it (``05060`` stays ``05060`` when another part is rewritten)."""
    if u.port is None or not u.host:
        return None
    at = u.raw.find(u.host + ":", u.raw.find("@") + 1)
    if at < 0:
        return None
    start = at + len(u.host) + 1
    end = start
    while end < len(u.raw) and u.raw[end].isdigit():
        end += 1
    text = u.raw[start:end]
    return text if text and int(text) == u.port else None


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
    if not (u.is_sip or (u.scheme == "tel" and not msg.profile_ser)):
        return False
    if u.scheme == "tel" and set(parts) == {"port"}:
        return True  # a tel: URI has no host to put a port after: Kamailio leaves it as it is
    set_ruri(msg, build_uri(u, **parts, kamailio=not msg.profile_ser))  # type: ignore[arg-type]
    return True
