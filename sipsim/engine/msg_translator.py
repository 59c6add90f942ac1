"""Building outgoing buffers (``src/core/msg_translator.c``).

* ``build_req_buf_from_sip_req`` — a forwarded request: our Via inserted above the received top
  Via, ``;received=``/``;rport=`` added to that Via when needed (RFC 3261 §18.2.1, RFC 3581 §4),
  the new R-URI written in, every lump applied, and the message framed by Content-Length.
* ``build_res_buf_from_sip_res`` — a forwarded reply: the top Via value removed (only the first
  value when a line holds several).
* ``build_res_buf_from_sip_req`` — a local reply (sl): the request's Vias, From, To (with a tag),
  Call-ID, CSeq, then our own headers and ``Content-Length: 0`` (RFC 3261 §8.2.6).
"""

from __future__ import annotations

import ipaddress
import re

from sipsim.engine import lumps
from sipsim.engine.config import SIP_PORT, ServerConfig
from sipsim.engine.parser.hf import F_EOH, NAME_TO_TYPE, HdrType
from sipsim.engine.parser.msg import FL_FORCE_RPORT, SipMsg
from sipsim.engine.parser.msg_parser import parse_headers

_RAW_HNAME = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:")


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def same_ip(a: str, b: str) -> bool:
    a, b = a.strip("[]"), b.strip("[]")
    if a == b:
        return True
    if ":" not in a and ":" not in b:
        return False  # two different IPv4 texts or a hostname: no DNS, so not the same address
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def via_builder(cfg: ServerConfig, branch: str) -> str:
    host = bracket(cfg.advertised_host)
    port = cfg.listen[1]
    hostport = host if port == SIP_PORT else f"{host}:{port}"
    rport = ";rport" if cfg.add_local_rport else ""
    return f"Via: SIP/2.0/UDP {hostport};branch={branch}{rport}\r\n"


def frame_end(msg: SipMsg) -> int:
    """Where the forwarded message ends.

    ser profile: the body is framed by Content-Length and trailing octets are not sent (RFC 3261
    §18.3). Kamailio 5.6 sends the whole datagram as received (measured: a trailing second message,
    or a body shorter than Content-Length, is forwarded as is).
    """
    if not msg.profile_ser:
        return msg.len
    if parse_headers(msg, F_EOH) < 0 or msg.eoh is None:
        return msg.len
    cl = msg.content_length
    if cl is not None and isinstance(cl.parsed, int):
        return min(msg.len, msg.eoh + cl.parsed)
    return msg.len


def received_test(msg: SipMsg) -> bool:
    """``received_test``: add received= when the Via asked (received/rport) or its host is not the source."""
    v = msg.via1
    if v is None:
        return False
    if v.received is not None or v.rport is not None:
        return True
    return not same_ip(v.host, msg.rcv.src[0])


def rport_test(msg: SipMsg) -> bool:
    v = msg.via1
    return v is not None and (v.rport is not None or bool(msg.msg_flags & FL_FORCE_RPORT))


def via_param_edits(msg: SipMsg, *, forwarding: bool = False) -> tuple[list[lumps.Lump], list[str]]:  # noqa: C901
    """The lumps that add received=/rport= to the received top Via, and what they say.

    Where received= (and a forced rport=) go: at the end of the Via's parameters (RFC 3261
    §18.2.1's examples; sl replies in both profiles), except in requests forwarded by Kamailio 5.6,
    which writes them right after the sent-by, before the other parameters (measured). An rport the
    Via already had is filled in place.
    """
    v = msg.via1
    edits: list[lumps.Lump] = []
    done: list[str] = []
    if v is None:
        return edits, done
    src_ip, src_port = msg.rcv.src
    for name, wanted, value, why in (
        ("received", received_test(msg), src_ip, "received= (RFC 3261 §18.2.1)"),
        ("rport", rport_test(msg), str(src_port), "rport= (RFC 3581 §4)"),
    ):
        if not wanted:
            continue
        text = f";{name}={value}"
        old = v.param(name)
        after_sent_by = forwarding and not msg.profile_ser
        if old is not None and name == "received" and not forwarding and not msg.profile_ser:
            old = None  # Kamailio 5.6's sl replies append a second received= and keep the old one
        if old is not None:
            edits.append(lumps.Lump(lumps.DEL, old.start, old.end - old.start, "", f"replace {name}", True))
            at = v.sent_by_end if after_sent_by and name == "received" else old.start
            edits.append(lumps.Lump(lumps.ADD, at, 0, text, why, True))
        else:
            edits.append(lumps.Lump(lumps.ADD, v.sent_by_end if after_sent_by else v.params_end, 0, text, why, True))
        done.append(text[1:])
    return edits, done


def build_req_buf_from_sip_req(msg: SipMsg, cfg: ServerConfig, branch: str) -> tuple[bytes, str, list[str]]:
    """Return (outgoing bytes, our Via line, received/rport changes)."""
    lumps.drop_send_time_lumps(msg)
    stop = frame_end(msg)
    via = via_builder(cfg, branch)
    anchor = msg.h_via1.start if msg.h_via1 is not None else (msg.first_line.end if msg.first_line else 0)
    lumps.insert(msg, anchor, via, "our Via (forward_request)", send_time=True)
    edits, changes = via_param_edits(msg, forwarding=True)
    msg.add_rm.extend(edits)
    msg.changed()
    out = lumps.apply_lumps(msg.data, msg.add_rm, msg.new_uri, msg.first_line, stop)
    return out, via.rstrip("\r\n"), changes


def build_res_buf_from_sip_res(msg: SipMsg) -> bytes:
    """The reply to forward: the first Via value deleted (the whole line if it held only that)."""
    lumps.drop_send_time_lumps(msg)
    stop = frame_end(msg)
    v, h = msg.via1, msg.h_via1
    assert v is not None and h is not None
    if v.next_start is None:
        lumps.delete(msg, h.start, h.end - h.start, "remove our Via (forward_reply)", send_time=True)
    else:
        lumps.delete(msg, v.start, v.next_start - v.start, "remove our Via value (forward_reply)", send_time=True)
    return lumps.apply_lumps(msg.data, msg.add_rm, None, None, stop)


def raw_header_lines(msg: SipMsg) -> list[tuple[HdrType, str, int, int, int]]:
    """Header lines found by name only (no body parsing), tolerant of broken values.

    Used to answer a request whose headers could not be parsed (the ser profile's 400): the
    reply still needs the request's Via, From, To, Call-ID and CSeq lines.
    Returns (type, name, start, body_end, end) per line.
    """
    text, out = msg.text, []
    pos = msg.first_line.end if msg.first_line else 0
    n = len(text)
    while pos < n and text[pos] not in "\r\n":
        m = _RAW_HNAME.match(text, pos)
        lf = pos
        while True:
            lf = text.find("\n", lf)
            if lf < 0 or lf + 1 >= n or text[lf + 1] not in " \t":
                break
            lf += 1
        end = n if lf < 0 else lf + 1
        if m:
            body_end = end
            while body_end > m.end() and text[body_end - 1] in " \t\r\n":
                body_end -= 1
            out.append((NAME_TO_TYPE.get(m.group(1).lower(), HdrType.HDR_OTHER_T), m.group(1), pos, body_end, end))
        pos = end
    return out


REPLY_COPIED = (HdrType.HDR_VIA_T, HdrType.HDR_FROM_T, HdrType.HDR_TO_T, HdrType.HDR_CALLID_T, HdrType.HDR_CSEQ_T)


def build_res_buf_from_sip_req(msg: SipMsg, cfg: ServerConfig, code: int, reason: str, *,
                               to_tag: str | None, headers: tuple[str, ...] = ()) -> bytes:
    """A local reply to ``msg`` (RFC 3261 §8.2.6): copied headers, then ours, no body."""
    text = msg.text
    parts = [f"SIP/2.0 {code} {reason}\r\n"]
    parsed_ok = parse_headers(msg, F_EOH) == 0
    if parsed_ok:
        lines = [(h.type, h.name, h.start, h.body_end, h.end) for h in msg.headers]
    else:
        lines = raw_header_lines(msg)
    seen: set[HdrType] = set()
    first_via_done = False
    for htype, _name, start, body_end, end in lines:
        if htype not in REPLY_COPIED:
            continue
        if htype is not HdrType.HDR_VIA_T:
            if htype in seen:
                continue
            seen.add(htype)
        line = text[start:end]
        if not line.endswith("\n"):
            line += "\r\n"
        if htype is HdrType.HDR_VIA_T and not first_via_done:
            first_via_done = True
            line = _top_via_for_reply(msg, start, end)
        elif htype is HdrType.HDR_TO_T and to_tag is not None:
            line = text[start:body_end] + f";tag={to_tag}" + text[body_end:end]
        parts.append(line)
    for h in headers:
        parts.append(h.rstrip("\r\n") + "\r\n")
    if cfg.server_header:
        parts.append(cfg.server_header + "\r\n")
    parts.append("Content-Length: 0\r\n\r\n")
    return "".join(parts).encode("latin-1")


def _top_via_for_reply(msg: SipMsg, start: int, end: int) -> str:
    """The request's top Via line with received=/rport= as the reply carries them (RFC 3261 §18.2.1)."""
    if msg.via1 is None or msg.h_via1 is None or msg.h_via1.start != start:
        return msg.text[start:end]
    edits, _ = via_param_edits(msg)
    return lumps.apply_lumps(msg.data[:end], edits).decode("latin-1")[start:]


def reply_dest(msg: SipMsg) -> tuple[str, int]:
    """Where a local reply goes: the source IP; the source port if rport, else the Via port or 5060."""
    src_ip, src_port = msg.rcv.src
    v = msg.via1
    if v is None or rport_test(msg):
        return src_ip, src_port
    return src_ip, v.port or SIP_PORT
