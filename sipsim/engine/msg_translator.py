"""Building outgoing buffers (``src/core/msg_translator.c``).

* ``build_req_buf_from_sip_req`` — a forwarded request: our Via inserted above the received top
  Via, ``;received=``/``;rport=`` added to that Via when needed (RFC 3261 §18.2.1, RFC 3581 §4),
  the new R-URI written in, every lump applied, and the message framed by Content-Length.
* ``build_res_buf_from_sip_res`` — a forwarded reply: the top Via value removed (only the first
  value when a line holds several).
* ``build_res_buf_from_sip_req`` — a local reply (sl): the request's Vias, From, To (with a tag),
  Call-ID, CSeq, then our own headers and ``Content-Length: 0`` (RFC 3261 §8.2.6). The kamailio
  profile's status line starts with the request's version as written (``sip/2.0 483 ...``).
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
    §18.2.1's examples; the ser profile), except that Kamailio 5.6 writes them right before the
    first parameter's ``;`` in the requests it forwards, and received= at the very end of the Via
    line (after its other values) in its sl replies (measured). An rport the Via already
    had is filled in place; so is a received= in a forwarded request (the old value is deleted).
    """
    v = msg.via1
    edits: list[lumps.Lump] = []
    done: list[str] = []
    if v is None:
        return edits, done
    src_ip, src_port = msg.rcv.src
    received_add: tuple[int, int] | None = None  # (offset, index in edits) of received= in a forwarded request
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
        if old is not None:  # replaced where it stood
            end = old.end
            if not msg.profile_ser and not old.value:
                # Kamailio 5.6: a parameter without a value reaches over the white space after it,
                # up to the next ';' or ',' or the end of the line (";rport  ," -> ";rport=5060,"),
                # line folds included (";rport CRLF SP ," -> ";rport=5060,": measured)
                buf = msg.text
                while end < len(buf):
                    if buf[end] in " \t":
                        end += 1
                    elif buf.startswith("\r\n", end) and buf[end + 2:end + 3] in (" ", "\t"):
                        end += 3
                    elif buf[end] == "\n" and buf[end + 1:end + 2] in (" ", "\t"):
                        end += 2
                    else:
                        break
            edits.append(lumps.Lump(lumps.DEL, old.start, end - old.start, "", f"replace {name}", True))
            if name == "received" and after_sent_by:
                received_add = (old.start, len(edits))
            edits.append(lumps.Lump(lumps.ADD, old.start, 0, text, why, True))
        elif after_sent_by and received_add is not None:
            # Kamailio 5.6 anchors a forced rport= where it put received= (in place of an old one,
            # or before the first parameter), and before it: ";rport=P;received=IP" (measured)
            at, k = received_add
            edits.insert(k, lumps.Lump(lumps.ADD, at, 0, text, why, True))
        else:
            # Kamailio 5.6 forwarding: just before the ';' of the first parameter (after any white
            # space that follows the sent-by), or after the sent-by when there is no parameter;
            # its sl replies append received= at the end of the Via header line (after every value
            # of the line and any trailing white space)
            if after_sent_by:  # (a port 0 counts as none: right after the host)
                at = v.params[0].start if v.params else (v.host_end if v.port == 0 else v.sent_by_end)
                if name == "received":
                    received_add = (at, len(edits))
            elif name == "received" and not msg.profile_ser and msg.h_via1 is not None:
                at = _line_end(msg.text, msg.h_via1.end)
            else:
                at = v.params_end
            edits.append(lumps.Lump(lumps.ADD, at, 0, text, why, True))
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
    # Kamailio 5.6 starts the reply with the request's own version token ("sip/2.0", "SIP/2.01"
    # — measured); the ser profile writes SIP/2.0
    fl = msg.first_line
    version = fl.version if fl is not None and fl.version and not msg.profile_ser else "SIP/2.0"
    parts = [f"{version} {code} {reason}\r\n"]
    parsed_ok = parse_headers(msg, F_EOH) == 0
    if parsed_ok:
        lines = [(h.type, h.name, h.start, h.body_end, h.end) for h in msg.headers]
    else:
        lines = raw_header_lines(msg)
    kamailio = not msg.profile_ser
    # Kamailio 5.6 also copies Record-Route into 180-299 replies, ends every Via line with CRLF
    # (the other lines keep their own ending, a bare LF included) and writes the To-tag after any
    # white space that ends the To line (measured)
    copied = REPLY_COPIED + ((HdrType.HDR_RECORDROUTE_T,) if kamailio and 180 <= code < 300 else ())
    seen: set[HdrType] = set()
    first_via_done = False
    for htype, _name, start, body_end, end in lines:
        if htype not in copied:
            continue
        if htype is not HdrType.HDR_VIA_T and htype is not HdrType.HDR_RECORDROUTE_T:
            if htype in seen:
                continue
            seen.add(htype)
        line = text[start:end]
        if not line.endswith("\n"):
            line += "\r\n"
        if htype is HdrType.HDR_VIA_T:
            if not first_via_done:
                first_via_done = True
                line = _top_via_for_reply(msg, start, end)
            if kamailio:
                line = _without_eol(line) + "\r\n"
        elif htype is HdrType.HDR_TO_T and to_tag is not None:
            at = start + len(_without_eol(line)) if kamailio else body_end
            line = text[start:at] + f";tag={to_tag}" + text[at:end]
        parts.append(line)
    for h in headers:
        parts.append(h.rstrip("\r\n") + "\r\n")
    if cfg.server_header:
        parts.append(cfg.server_header + "\r\n")
    parts.append("Content-Length: 0\r\n\r\n")
    return "".join(parts).encode("latin-1")


def _line_end(text: str, end: int) -> int:
    """The offset of the line ending (CRLF or LF) of a header that ends at ``end``."""
    if text[end - 2:end] == "\r\n":
        return end - 2
    return end - 1 if text[end - 1:end] == "\n" else end


def _without_eol(line: str) -> str:
    """A header line without its line ending (CRLF or a bare LF), trailing white space kept."""
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


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
