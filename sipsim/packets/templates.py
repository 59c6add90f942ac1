"""Named message templates: what ``sipsim craft``/``send`` and the TUI's inject dialog offer.

All the call templates are messages of **one call, alice → proxy → bob**, crafted with
:class:`~sipsim.packets.dialog.Dialog`. ``src`` is alice's address (the caller, ``--from``),
``dst`` the proxy's (``--to``); bob, the callee, is on alice's host, port 5080 (see
:func:`callee_for`). With the same ``src``, ``dst`` and ``seed`` every template belongs to the same
dialog (Call-ID, tags, CSeq numbers, branches, route set), so they can be sent one after the other:

* requests (invite, ack, bye, cancel, register, options, message) are what alice sends to the
  proxy; ACK (for the 200) and BYE are in-dialog requests: Request-URI bob's Contact, ``Route``
  the proxy's Record-Route, each a new transaction (new branch, RFC 3261 §8.1.1.7, §13.2.2.4);
  CSeq: ACK has the INVITE's number, BYE the next one;
* replies (100, 180, 200, 404, 486) are what bob sends to the proxy in answer to the INVITE *as
  the proxy forwarded it* (§8.2.6.2, §16.7): the proxy's Via on top — with the branch sipsim's
  engine gives that INVITE, so a crafted 180/200 answers what ``sipsim serve`` really forwarded —
  and alice's below it (with the received/rport the proxy added), the Record-Route, From/To/
  Call-ID/CSeq as in the INVITE, bob's To-tag and Contact. The proxy forwards such a reply to
  alice (its second Via), instead of dropping it. See :mod:`sipsim.packets.proxy_hop`.

The *broken* templates are deliberately bad in one way each, to watch how the receive path treats
them (Kamailio's sanity checks, parse_msg errors, 483 for Max-Forwards 0, 505 for a wrong version).

``template_names()`` lists (name, one-line description); :func:`craft` returns the Scapy packet
``IP/UDP/SIP`` (``IPv6`` for IPv6 addresses) from its real sender — alice for a request, bob for a
reply — to the proxy; :func:`craft_message`/:func:`craft_bytes` give the SIP message alone without
importing Scapy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipsim.packets.addr import Address, as_address
from sipsim.packets.dialog import Crafted, Dialog
from sipsim.packets.errors import PacketsError, TemplateError
from sipsim.packets.message import SipMessage

if TYPE_CHECKING:
    from scapy.packet import Packet

DEFAULT_DST: Address = ("127.0.0.1", 5060)
DEFAULT_SRC: Address = ("127.0.0.1", 5070)
DEFAULT_SRC6: Address = ("::1", 5070)


CALLEE_PORT = 5080  # bob's port on alice's host (alice's default is 5070, the proxy's 5060)

Builder = Callable[[Address, Address, int | None], Crafted]  # (alice, proxy, seed) -> message


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    build: Builder
    broken: bool = False


def callee_for(caller: Address, proxy: Address) -> Address:
    """bob's address for a call from ``caller`` through ``proxy``: on the caller's host, port 5080
    (or the next even port that is neither the caller's nor the proxy's)."""
    port = CALLEE_PORT
    while (caller[0], port) in (caller, proxy):
        port += 2
    return caller[0], port


def call(src: Address, dst: Address, seed: int | None) -> Dialog:
    """The call every call template belongs to: alice at ``src``, the proxy at ``dst``, bob at
    :func:`callee_for` (``src``, ``dst``)."""
    return Dialog(src, callee_for(src, dst), proxy=dst, seed=seed)


def _request(method: str) -> Builder:
    def build(src: Address, dst: Address, seed: int | None) -> Crafted:
        d = call(src, dst, seed)
        if method == "register":
            return d._build_register()
        if method == "message":
            return d._build_message()
        if method == "options":
            return d._build_options()
        # the dialog is played up to the wanted request, so identifiers drawn on the way (the
        # INVITE's branch, the ACK's) are the ones the earlier templates of this call used
        invite = d._build_invite()
        if method == "invite":
            return invite
        if method == "cancel":
            return d._build_cancel()
        ack = d._build_ack(200)
        return ack if method == "ack" else d._build_bye()

    return build


def _reply(status: int) -> Builder:
    def build(src: Address, dst: Address, seed: int | None) -> Crafted:
        d = call(src, dst, seed)
        d._build_invite()
        return Crafted(d._build_reply(d.received_invite(), status), d.callee, dst)

    return build


def _broken(edit: Callable[[SipMessage], None], base: str = "options") -> Builder:
    def build(src: Address, dst: Address, seed: int | None) -> Crafted:
        crafted = _request(base)(src, dst, seed)
        edit(crafted.msg)
        return crafted

    return build


def _no_via(m: SipMessage) -> None:
    m.remove_header("Via")


def _no_cseq(m: SipMessage) -> None:
    m.remove_header("CSeq")


def _mf0(m: SipMessage) -> None:
    m.set_header("Max-Forwards", "0")


def _bad_cl(m: SipMessage) -> None:
    m.set_header("Content-Length", str(len(m.body) + 20))  # claims 20 octets the datagram lacks


def _bad_version(m: SipMessage) -> None:
    m.version = "SIP/3.0"


_TEMPLATES: list[Template] = [
    Template("register", "REGISTER alice's contact at the registrar (Expires 3600)", _request("register")),
    Template("invite", "INVITE bob with an SDP offer, alice (--from) -> proxy (--to): starts the call",
             _request("invite")),
    Template("ack", "ACK for the 200 OK, alice -> proxy: to bob's Contact, Route via the proxy, new branch",
             _request("ack")),
    Template("bye", "BYE ending the call, alice -> proxy: to bob's Contact, Route, CSeq 2, new branch",
             _request("bye")),
    Template("cancel", "CANCEL of the pending INVITE (same branch and CSeq number)", _request("cancel")),
    Template("options", "OPTIONS to the server itself, no user in the URI (the SIP 'ping')", _request("options")),
    Template("message", "MESSAGE with a text/plain body (instant message, RFC 3428)", _request("message")),
    Template("100", "100 Trying (no To-tag), bob -> proxy: the proxy's Via over alice's", _reply(100)),
    Template("180", "180 Ringing, bob -> proxy: proxy's Via over alice's, bob's To-tag and Contact", _reply(180)),
    Template("200", "200 OK + SDP answer, bob -> proxy: proxy's Via over alice's, To-tag, Contact, Record-Route",
             _reply(200)),
    Template("404", "404 Not Found, bob -> proxy: the proxy's Via over alice's", _reply(404)),
    Template("486", "486 Busy Here, bob -> proxy: the proxy's Via over alice's", _reply(486)),
    Template("no-via", "broken: OPTIONS without any Via header", _broken(_no_via), True),
    Template("no-cseq", "broken: OPTIONS without a CSeq header", _broken(_no_cseq), True),
    Template("max-forwards-0", "broken: OPTIONS with Max-Forwards 0 (a proxy answers 483)", _broken(_mf0), True),
    Template("bad-content-length", "broken: MESSAGE whose Content-Length claims 20 bytes too many",
             _broken(_bad_cl, "message"), True),
    Template("wrong-version", "broken: OPTIONS with SIP/3.0 in the request line (505)", _broken(_bad_version), True),
]
TEMPLATES: dict[str, Template] = {t.name: t for t in _TEMPLATES}


def template_names() -> list[tuple[str, str]]:
    """(name, one-line description) of every template, in a stable order (requests, replies, broken).

    The call templates are one call: alice at --from, the proxy at --to, bob at alice's host, port
    5080; the same --from/--to/--seed gives the same dialog (see the module docstring)."""
    return [(t.name, t.description) for t in _TEMPLATES]


def _template(name: str) -> Template:
    key = name.strip().lower()
    if key not in TEMPLATES:
        raise TemplateError(f"unknown template {name!r}; templates: {', '.join(TEMPLATES)}")
    return TEMPLATES[key]


def default_src(dst: Address) -> Address:
    return DEFAULT_SRC6 if ":" in dst[0] else DEFAULT_SRC


def craft_crafted(name: str, *, src: Address | str | None = None, dst: Address | str | None = None,
                  seed: int | None = None, sets: Iterable[tuple[str, str]] = ()) -> Crafted:
    """Template ``name`` of the call alice (``src``) → proxy (``dst``) → bob, with header values
    from ``sets`` applied. Its ``src`` is the real sender: alice for a request, bob for a reply."""
    template = _template(name)
    dst_a = as_address(dst) if dst is not None else DEFAULT_DST
    src_a = as_address(src) if src is not None else default_src(dst_a)
    if (":" in src_a[0]) != (":" in dst_a[0]):
        raise PacketsError(f"--from {src_a[0]} and --to {dst_a[0]} must both be IPv4 or both IPv6")
    crafted = template.build(src_a, dst_a, seed)
    for header, value in sets:
        crafted.msg.set_header(header, value)
    return crafted


def craft_message(name: str, *, src: Address | str | None = None, dst: Address | str | None = None,
                  seed: int | None = None, sets: Iterable[tuple[str, str]] = ()) -> SipMessage:
    """The SIP message of template ``name`` (pure Python; same arguments as :func:`craft`)."""
    return craft_crafted(name, src=src, dst=dst, seed=seed, sets=sets).msg


def craft_bytes(name: str, *, src: Address | str | None = None, dst: Address | str | None = None,
                seed: int | None = None, sets: Iterable[tuple[str, str]] = ()) -> bytes:
    """The bytes of template ``name``, without building IP/UDP (no Scapy import)."""
    return craft_message(name, src=src, dst=dst, seed=seed, sets=sets).to_bytes()


def craft(name: str, *, src: Address | str | None = None, dst: Address | str | None = None,
          seed: int | None = None, sets: Iterable[tuple[str, str]] = ()) -> Packet:
    """Template ``name`` as a Scapy packet ``IP/UDP/SIP`` (``IPv6/UDP/SIP`` for IPv6 addresses)."""
    return craft_crafted(name, src=src, dst=dst, seed=seed, sets=sets).packet()
