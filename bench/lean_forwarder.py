"""A floor for ``bench/pipeline.py``: the leanest *structured* request forwarder I could write in CPython.

The issue's naive forwarder splits the header block on CRLF, finds the top Via and splices a Via in.
A proxy that follows RFC 3261 §16.11 must do a little more, whatever its design, and this module
does only that little more, as cheaply as CPython allows:

* read every header line once (name, body, offsets) into one small slotted object per header,
  knowing compact forms and case-insensitive names;
* parse the top Via (transport, host, port, params), To and From (URI + tag), CSeq (number, method);
* compute the branch from the key fields a stateless proxy hashes (From tag, To tag, Call-ID,
  Request-URI, CSeq number, the top Via's branch), so a retransmission gets the same branch;
* insert our Via and add ``received=`` to the sender's Via when the source address differs.

It leaves out everything that makes sipsim a server one can watch and trust: lazy parsing with
flags and an ``unparsed`` offset, folded lines, several Vias on one line, URI parsing of the
Request-URI, Max-Forwards, the RFC checks, duplicate-header rules, lumps, pre/post-script callbacks,
the routing engine, step events and statistics. Its time per message is therefore a lower bound for
any structured pipeline in CPython, measured here so that the ratio ``pipeline / naive`` can be read
beside ``floor / naive``. It is benchmark scaffolding, not part of sipsim.
"""

from __future__ import annotations

import hashlib
import re

_KINDS = {b"via": 1, b"v": 1, b"to": 2, b"t": 2, b"from": 3, b"f": 3, b"call-id": 4, b"i": 4, b"cseq": 5}
_VIA = re.compile(rb"SIP\s*/\s*2\.0\s*/\s*(\w+)\s+([^;:\s,]+)(?::(\d+))?((?:\s*;[^,]*)?)")
_NAME_ADDR = re.compile(rb"[^<]*<([^>]*)>(.*)|([^;]*)(.*)")
_TAG = re.compile(rb";\s*tag\s*=\s*([^;\s]+)", re.I)
_CSEQ = re.compile(rb"\s*(\d+)\s+(\S+)\s*")
_BRANCH = re.compile(rb";\s*branch\s*=\s*([^;\s]+)", re.I)


class Header:
    __slots__ = ("body", "end", "kind", "name", "parsed", "start")

    def __init__(self, name: bytes, kind: int, start: int, end: int, body: bytes) -> None:
        self.name, self.kind, self.start, self.end, self.body, self.parsed = name, kind, start, end, body, None


class Message:
    __slots__ = ("buf", "callid", "cseq", "from_", "headers", "method", "ruri", "to", "via1")


def parse(buf: bytes) -> Message:
    """Every header once; the top Via, To, From and CSeq parsed."""
    m = Message()
    m.buf = buf
    end = buf.find(b"\r\n")
    m.method, m.ruri, _version = buf[:end].split(b" ", 2)
    headers: list[Header] = []
    via1 = to = from_ = callid = cseq = None
    pos = end + 2
    while True:
        end = buf.find(b"\r\n", pos)
        if end == pos or end < 0:
            break
        colon = buf.find(b":", pos, end)
        name = buf[pos:colon].strip()
        kind = _KINDS.get(name.lower(), 0)
        h = Header(name, kind, pos, end, buf[colon + 1:end].strip())
        headers.append(h)
        if kind == 1:
            if via1 is None:
                h.parsed = _VIA.match(h.body)
                via1 = h
        elif kind == 2:
            h.parsed = _NAME_ADDR.match(h.body)
            to = h
        elif kind == 3:
            h.parsed = _NAME_ADDR.match(h.body)
            from_ = h
        elif kind == 4:
            callid = h
        elif kind == 5:
            h.parsed = _CSEQ.fullmatch(h.body)
            cseq = h
        pos = end + 2
    m.headers, m.via1, m.to, m.from_, m.callid, m.cseq = headers, via1, to, from_, callid, cseq
    return m


def _tag(h: Header) -> bytes:
    p = h.parsed
    found = _TAG.search(p.group(2) or p.group(4) or b"")
    return found.group(1) if found else b""


def forward(m: Message, src_ip: bytes, me: bytes = b"127.0.0.1") -> bytes:
    """The outgoing request: our Via on top, ``received=`` on the sender's Via if needed."""
    via = m.via1
    v = via.parsed
    found = _BRANCH.search(v.group(4))
    key = b"|".join((_tag(m.from_), _tag(m.to), m.callid.body, m.ruri, m.cseq.parsed.group(1),
                     found.group(1) if found else b""))
    branch = hashlib.md5(key).hexdigest().encode()
    ours = b"Via: SIP/2.0/UDP " + me + b";branch=z9hG4bK" + branch + b"\r\n"
    received = b";received=" + src_ip if v.group(2) != src_ip else b""
    buf = m.buf
    return b"".join((buf[:via.start], ours, buf[via.start:via.end], received, buf[via.end:]))


def lean_forward(data: bytes, src_ip: bytes = b"192.0.2.1") -> bytes:
    return forward(parse(data), src_ip)
