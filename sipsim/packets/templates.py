"""Named message templates: what ``sipsim craft``/``send`` and the TUI's inject dialog offer.

Each template builds one message from a sender and a receiver address (``src`` sends it to
``dst``) with :class:`~sipsim.packets.dialog.Dialog`, so its Call-ID, tags, CSeq and branch are
consistent and deterministic. Requests are sent by a caller at ``src`` to a callee (or proxy) at
``dst``; replies answer an INVITE that ``dst`` sent to ``src``.

The *broken* templates are deliberately bad in one way each, to watch how the receive path treats
them (Kamailio's sanity checks, parse_msg errors, 483 for Max-Forwards 0, 505 for a wrong version).

``template_names()`` lists (name, one-line description); :func:`craft` returns the Scapy packet
``IP/UDP/SIP`` (``IPv6`` for IPv6 addresses); :func:`craft_message`/:func:`craft_bytes` give the SIP
message alone without importing Scapy.
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


Builder = Callable[[Address, Address, int | None], Crafted]  # (src, dst, seed) -> message


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    build: Builder
    broken: bool = False


def _request(method: str) -> Builder:
    def build(src: Address, dst: Address, seed: int | None) -> Crafted:
        d = Dialog(src, dst, seed=seed)
        if method == "register":
            return d._build_register()
        if method == "invite":
            return d._build_invite()
        if method in ("ack", "bye", "cancel"):
            d._build_invite()
            if method == "ack":
                return d._build_ack(200)
            return d._build_bye() if method == "bye" else d._build_cancel()
        if method == "message":
            return d._build_message()
        return d._build_options()

    return build


def _reply(status: int) -> Builder:
    def build(src: Address, dst: Address, seed: int | None) -> Crafted:
        d = Dialog(dst, src, seed=seed)  # the INVITE came from dst to src; src answers it
        invite = d._build_invite()
        return Crafted(d._build_reply(invite.msg, status), src, dst)

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
    Template("invite", "INVITE bob with an SDP audio offer (starts a call)", _request("invite")),
    Template("ack", "ACK for a 200 OK to INVITE (in the dialog, new branch)", _request("ack")),
    Template("bye", "BYE ending the call (in the dialog, CSeq 2)", _request("bye")),
    Template("cancel", "CANCEL of a pending INVITE (same branch and CSeq number)", _request("cancel")),
    Template("options", "OPTIONS to the server itself, no user in the URI (the SIP 'ping')", _request("options")),
    Template("message", "MESSAGE with a text/plain body (instant message, RFC 3428)", _request("message")),
    Template("100", "100 Trying to an INVITE (no To-tag, as RFC 3261 allows)", _reply(100)),
    Template("180", "180 Ringing to an INVITE (To-tag, Contact)", _reply(180)),
    Template("200", "200 OK to an INVITE (To-tag, Contact, SDP answer)", _reply(200)),
    Template("404", "404 Not Found to an INVITE", _reply(404)),
    Template("486", "486 Busy Here to an INVITE", _reply(486)),
    Template("no-via", "broken: OPTIONS without any Via header", _broken(_no_via), True),
    Template("no-cseq", "broken: OPTIONS without a CSeq header", _broken(_no_cseq), True),
    Template("max-forwards-0", "broken: OPTIONS with Max-Forwards 0 (a proxy answers 483)", _broken(_mf0), True),
    Template("bad-content-length", "broken: MESSAGE whose Content-Length claims 20 octets too many",
             _broken(_bad_cl, "message"), True),
    Template("wrong-version", "broken: OPTIONS with SIP/3.0 in the request line (505)", _broken(_bad_version), True),
]
TEMPLATES: dict[str, Template] = {t.name: t for t in _TEMPLATES}


def template_names() -> list[tuple[str, str]]:
    """(name, one-line description) of every template, in a stable order (requests, replies, broken)."""
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
    """Template ``name`` from ``src`` to ``dst`` with header values from ``sets`` applied."""
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
