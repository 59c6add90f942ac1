"""Stateless replies (the sl module: ``src/modules/sl/sl_funcs.c``).

``sl_send_reply`` answers a request without keeping any state: it builds the reply from the
request (``build_res_buf_from_sip_req``) and sends it to the packet's source IP — to the source port
when the Via asked for ``rport`` (or ``force_rport()`` was called), else the Via's port or 5060. It
never answers an ACK. Replies above 100 get a To-tag (RFC 3261 §8.2.6.2; Kamailio's sl adds it from
180 up) so the UAC can match the ACK, and sl recognises that tag again when the ACK arrives
(``sl:filter_ACK`` pre-script callback).

Every reply is counted in the worker's statistics under Kamailio 5.6's ``sl`` group
(``sipsim.engine.stats.SL_STATS``): a sent reply in its one code counter and ``sent_replies``; a
reply asked for but not sent (to an ACK, unbuildable, or sendto failed) in ``failures``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import zlib
from functools import lru_cache

from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.errors import err2reason, ser_error_cause
from sipsim.engine.events import DROPPED, REPLIED, Send, format_addr
from sipsim.engine.msg_translator import build_res_buf_from_sip_req, raw_header_lines, reply_dest
from sipsim.engine.parser.hf import F_CALLID, F_EOH, F_FROM, F_TO, HdrField, HdrType
from sipsim.engine.parser.msg import FL_REPLIED, SipMsg
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.via import ViaBody
from sipsim.engine.stats import sl_reply_stat

#: sl's signature, the first string of the MD5 that makes the fixed part of its To-tags: Kamailio
#: 5.6's ``sl.so`` carries "KAMAILIO-stateless" (read from the binary, and the prefix it sends
#: matches); SER's sl_funcs.c, the seed era, passed "SER-stateless" to the same ``init_tags()``.
_SIGNATURE = {False: "KAMAILIO-stateless", True: "SER-stateless"}


def _ccitt_table() -> tuple[int, ...]:
    """The CRC-16 CCITT table, bit-reversed (polynomial 0x8408), one entry per byte value."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CCITT = _ccitt_table()


def crcitt_hex(parts: tuple[str | None, ...], stop_at_missing: bool) -> str:
    """Four hex digits: the CRC-16 CCITT (start 0xFFFF, complemented at the end) of ``parts`` in a
    row, written as Kamailio's ``crcitt_string_array()`` writes it — lowest nibble first, padded
    with '0' to four (0x0f7b is written "b7f0", 0 "0000").

    A part that is None is a string the message does not have (a Via without a port). Kamailio 5.6
    stops the CRC there, leaving out what follows (measured: with no Via port the branch and the
    Call-ID change nothing, and the second half of the tag is the CRC of nothing, "0000"); SER's
    loop just went on (``stop_at_missing=False``).
    """
    crc = 0xFFFF
    for part in parts:
        if part is None:
            if stop_at_missing:
                break
            continue
        for byte in part.encode("latin-1"):
            crc = _CCITT[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFF
    digits = []
    while crc:
        digits.append("0123456789abcdef"[crc & 0xF])
        crc >>= 4
    return "".join(digits).ljust(4, "0")


def _tag_prefix(ctx: WorkerContext) -> str:
    return _prefix_of(_SIGNATURE[ctx.ser], *ctx.config.listen)


@lru_cache(maxsize=16)
def _prefix_of(signature: str, host: str, port: int) -> str:
    """The fixed part of our To-tags: MD5 (32 lowercase hex digits) of the signature, the listening
    address as text and its port as text, one after the other (``init_tags()``, computed once at
    start-up from the first listening socket).

    The address is the socket's, as Kamailio prints it: an IPv6 one without brackets and in its
    shortest form (measured on 5.6.3: ``listen=udp:[0:0:0:0:0:0:0:1]:5060`` hashes "::1")."""
    try:
        host = ipaddress.ip_address(host.strip("[]")).compressed
    except ValueError:
        pass  # a name, kept as given (Kamailio hashes the address it resolved; the engine never resolves)
    return hashlib.md5(f"{signature}{host}{port}".encode("latin-1")).hexdigest()


_PORT_TEXT = re.compile(r"[ \t\r\n]*:[ \t\r\n]*([0-9]+)")


def _via_port_str(msg: SipMsg, via: ViaBody) -> str | None:
    """The top Via's port as written ("05060" stays "05060": Kamailio's ``port_str``), None when the
    Via names no port."""
    if via.port is None:
        return None
    start = via.host_end
    if msg.text[start - len(via.host):start] == via.host:
        m = _PORT_TEXT.match(msg.text, start)
        if m is not None:
            return m.group(1)
    return str(via.port)  # the text moved under us: the number is the best we have


def _callid_body(msg: SipMsg, callid: HdrField) -> str:
    """The Call-ID as Kamailio's ``msg->callid->body`` holds it: from its first character to the end
    of the header with only the line break cut, so white space before the CRLF stays (measured:
    ``Call-ID:  x  `` gives "x  "), and a folded value keeps its inner line breaks."""
    raw = msg.text[callid.body_start:callid.end].rstrip("\r\n")
    return raw if raw.startswith(callid.body) else callid.body


def sl_tag(ctx: WorkerContext, msg: SipMsg) -> str:
    """Our To-tag, as Kamailio's sl makes it (``tags.h``): a fixed per-server part, so sl recognises
    its own replies, then '.' and a per-request part computed from the top Via, so a retransmission
    gets the same tag and another request another one.

    * Kamailio 5.6: eight hex digits, two CRCs (:func:`crcitt_hex`): one of the top Via's host, its
      port as written and its branch (when it has one), one of the port, the host and the Call-ID.
      A Via without a port ends both CRCs early (see :func:`crcitt_hex`). Measured on 5.6.3.
    * ser (the seed era): four hex digits, the first CRC only, a missing port just left out.

    A request whose top Via does not parse (the ser profile answers 400 to a request that does not
    parse; Kamailio drops it before sl could answer) has no Via to compute from: sipsim then takes
    a CRC-32 of the Call-ID, the From-tag and the branch read from the raw header lines, or of the
    datagram when none can be found, cut to the same width. (Kamailio would keep whatever suffix
    its buffer held from the previous reply.)
    """
    via = msg.via1
    if via is not None:
        port = _via_port_str(msg, via)
        first = (via.host, port) + (() if via.branch is None else (via.branch,))
        if ctx.ser:
            return f"{_tag_prefix(ctx)}.{crcitt_hex(first, stop_at_missing=False)}"
        second = (port, via.host) + (() if msg.callid is None else (_callid_body(msg, msg.callid),))
        return f"{_tag_prefix(ctx)}.{crcitt_hex(first, True)}{crcitt_hex(second, True)}"
    callid = ftag = None
    if msg.first_line is not None:  # (with no first line, nothing was parsed: parse_headers would start at 0)
        parse_headers(msg, F_CALLID | F_FROM)
        if msg.callid is not None:
            callid = msg.callid.body
        if msg.from_ is not None and msg.from_.parsed is not None:
            ftag = msg.from_.parsed.param("tag") or ""
    raw = raw_fields(msg)
    callid = raw.get("callid", "") if callid is None else callid
    ftag = raw.get("ftag", "") if ftag is None else ftag
    branch = raw.get("branch", "")
    key = f"{callid}|{ftag}|{branch}".encode("latin-1") if callid or ftag or branch else msg.data
    suffix = f"{zlib.crc32(key):08x}"
    return f"{_tag_prefix(ctx)}.{suffix[:4] if ctx.ser else suffix}"


def _raw_param(body: str, name: str) -> str | None:
    """A header parameter ``;name=value`` in a raw header body (after any ``<...>``), or None."""
    tail = body[body.rfind(">") + 1:] if ">" in body else body
    m = re.search(r";[ \t]*" + name + r"[ \t]*=[ \t]*([^;,\s]+)", tail, re.IGNORECASE)
    return m.group(1) if m else None


def raw_fields(msg: SipMsg) -> dict[str, str]:
    """What a reply needs from a request that does not parse, read from its raw header lines
    (the first of each kind): ``callid``, ``ftag``, ``totag``, ``branch`` — each only if found."""
    text, out = msg.text, {}
    for htype, _name, start, body_end, _end in raw_header_lines(msg):
        body = text[start:body_end].partition(":")[2].strip()
        if htype is HdrType.HDR_CALLID_T:
            out.setdefault("callid", body)
        elif htype is HdrType.HDR_FROM_T and "fseen" not in out:
            out["fseen"] = ""
            tag = _raw_param(body, "tag")
            if tag:
                out["ftag"] = tag
        elif htype is HdrType.HDR_TO_T and "tseen" not in out:
            out["tseen"] = ""
            tag = _raw_param(body, "tag")
            if tag:
                out["totag"] = tag
        elif htype is HdrType.HDR_VIA_T and "vseen" not in out:
            out["vseen"] = ""
            branch = _raw_param(body.split(",")[0], "branch")
            if branch:
                out["branch"] = branch
    return {k: v for k, v in out.items() if not k.endswith("seen")}


def is_our_sl_tag(ctx: WorkerContext, msg: SipMsg, tag: str) -> bool:
    """Is ``tag`` the To-tag sl gave the request this ACK acknowledges? The whole tag is compared,
    its per-request part recomputed from the ACK (the ACK of a non-2xx answer repeats the INVITE's
    top Via and Call-ID, RFC 3261 §17.1.1.3), as Kamailio's ``sl_filter_ACK`` does (``sl_tag``)."""
    return tag.startswith(_tag_prefix(ctx) + ".") and tag == sl_tag(ctx, msg)


def needs_tag(ctx: WorkerContext, msg: SipMsg, code: int) -> bool:
    threshold = 101 if ctx.ser else 180
    if code < threshold:
        return False
    if msg.first_line is not None and parse_headers(msg, F_TO) == 0:
        to = msg.to.parsed if msg.to is not None else None
        return not (to is not None and to.param("tag"))
    return "totag" not in raw_fields(msg)  # the headers do not parse: does the raw To line have a tag?


def add_lump_rpl(msg: SipMsg, header: str) -> None:
    """Add a header line to every reply this request gets (``add_lump_rpl``: a *reply lump*).

    A module that wants a header in the answer (the registrar's Contact list, its
    P-Registrar-Error) does not build the reply: it leaves the line on the request, and whichever
    reply is built next — by ``save()`` itself or by a later ``sl_reply_error()`` — carries it.
    """
    msg.extra.setdefault("reply_lumps", []).append(header)


def sl_send_reply(ctx: WorkerContext, msg: SipMsg, code: int, reason: str,
                  headers: tuple[str, ...] = (), why: str = "") -> Steps:
    """Send a stateless reply. Returns 1 on success, -1 on failure (as the module does).

    Counts as Kamailio's sl does: the reply's code counter and ``sent_replies`` once it is sent,
    ``failures`` when it is not. An ACK is refused on that same error path, so it returns -1 too
    (measured on Kamailio 5.6.3: ``if (!sl_send_reply(...))`` is taken for an ACK).
    """
    stats = ctx.stats
    if msg.first_line is not None and msg.first_line.method_is("ACK"):
        stats["failures"] += 1
        yield ctx.event("sl_send_reply", msg, f"would answer {code} {reason}, but an ACK is never answered",
                        outcome=DROPPED, reason=f"an ACK is never answered (would have been {code})")
        msg.extra["outcome_set"] = True
        return -1
    if not ctx.ser and parse_headers(msg, F_EOH) < 0:
        # build_res_buf_from_sip_req needs every header parsed: Kamailio logs "response building
        # failed" and sends nothing. (The ser profile answers from the raw header lines instead.)
        yield ctx.event("sl_send_reply", msg, f"cannot build the {code} reply: the headers do not parse; nothing sent",
                        outcome=DROPPED, reason=f"reply {code} could not be built: headers do not parse")
        msg.extra["outcome_set"] = True
        stats["failures"] += 1
        return -1
    to_tag = sl_tag(ctx, msg) if needs_tag(ctx, msg, code) else None
    lumps = msg.extra.get("reply_lumps")
    if lumps:
        headers = (*lumps, *headers)
    data = build_res_buf_from_sip_req(msg, ctx.config, code, reason, to_tag=to_tag, headers=headers)
    dst = reply_dest(msg)
    text = f"answers {code} {reason} to {format_addr(dst)}" + (f" ({why})" if why else "")
    detail = {"to": format_addr(dst), "bytes": len(data), "to_tag": to_tag}
    # what failed first: before sl_reply_error, the internal error; before another refusal, what a
    # check or function noted (msg.extra["cause"]: Max-Forwards is 0, which header does not parse)
    cause = ser_error_cause(msg) if why == "sl_reply_error" else msg.extra.get("cause") if code >= 400 else None
    if cause:
        detail["cause"] = cause  # the live log line says it
        text += f": {cause}"
    yield ctx.event("sl_send_reply", msg, text, outcome=REPLIED, status=code, reason=reason, detail=detail)
    err = yield Send(dst, data, ctx.config.listen, "reply", msg.id)
    if err:
        yield ctx.event("sl_send_reply", msg, f"sending the reply failed: {err}", outcome="dropped", reason=str(err))
        stats["failures"] += 1
        return -1
    stats[sl_reply_stat(code)] += 1
    stats["sent_replies"] += 1
    ctx.sl_timeout.replied(msg.time)
    msg.msg_flags |= FL_REPLIED
    return 1


def sl_reply_error(ctx: WorkerContext, msg: SipMsg) -> Steps:
    """Answer with the code of the last internal error (``ser_error``)."""
    code, reason = err2reason(msg.extra.get("ser_error", -1), kamailio=not ctx.ser)
    return (yield from sl_send_reply(ctx, msg, code, reason, why="sl_reply_error"))
