"""What the simulated peers read and write: a tolerant SIP line splitter and message builders.

Peers are test equipment, not the subject: they read what they receive with a forgiving splitter
(compact forms understood) rather than the engine's parser, and build their requests and answers
from lines (RFC 3261 §8.1.1, §8.2.6; responses go where §18.2.2 says).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipsim.engine.events import Addr

_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
            "c": "content-type"}


@dataclass
class PeerMsg:
    is_request: bool
    method: str
    uri: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def get(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def lines(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def cseq(self) -> tuple[int, str]:
        num, _, method = (self.get("cseq") or "0 ?").strip().partition(" ")
        return (int(num) if (num.isascii() and num.isdigit()) else 0), method.strip().upper()

    @property
    def call_id(self) -> str:
        return (self.get("call-id") or "").strip()


def read_msg(data: bytes) -> PeerMsg | None:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2:
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        headers.append((_COMPACT.get(key, key), value.strip()))
    if parts[0].startswith("SIP/"):
        if not parts[1].isdigit():
            return None
        msg = PeerMsg(False, "", "", int(parts[1]), headers, body)
        msg.method = msg.cseq[1]
        return msg
    if len(parts) < 3:
        return None
    return PeerMsg(True, parts[0].upper(), parts[1], 0, headers, body)


def via_params(via: str) -> tuple[str, int, dict[str, str]]:
    """First value of a Via line → (host, port, params)."""
    value = via.split(",")[0].strip()
    _, _, rest = value.partition(" ")
    sent_by, *params = rest.strip().split(";")
    sent_by = sent_by.strip()
    if sent_by.startswith("["):
        host, _, p = sent_by[1:].partition("]")
        port_s = p[1:]
    else:
        host, _, port_s = sent_by.partition(":")
    out = {}
    for p in params:
        k, _, v = p.strip().partition("=")
        out[k.lower()] = v
    return host, int(port_s) if (port_s.isascii() and port_s.isdigit()) else 5060, out


def response_dest(msg: PeerMsg, src: Addr) -> Addr:
    """RFC 3261 §18.2.2 / RFC 3581: received + rport if given, else the sent-by."""
    host, port, params = via_params(msg.lines("via")[0] if msg.lines("via") else "SIP/2.0/UDP " + src[0])
    if "received" in params and params["received"]:
        host = params["received"]
    if params.get("rport", "").isdigit():
        port = int(params["rport"])
    return host, port


def tag_of(value: str | None) -> str:
    for p in (value or "").split(";")[1:]:
        k, _, v = p.strip().partition("=")
        if k.lower() == "tag":
            return v
    return ""


def uri_in(value: str | None) -> str:
    v = (value or "").strip()
    if "<" in v:
        return v[v.index("<") + 1 : v.index(">")] if ">" in v else v[v.index("<") + 1 :]
    return v.split(";")[0]


def sdp(user: str, ip: str, sess: int) -> bytes:
    return (f"v=0\r\no={user} {sess} {sess} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {10000 + 2 * (sess % 5000)} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n").encode()


def build(first: str, headers: list[str], body: bytes = b"", ctype: str = "application/sdp") -> bytes:
    hs = list(headers)
    if body:
        hs.append(f"Content-Type: {ctype}")
    hs.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([first, *hs]) + "\r\n\r\n").encode("latin-1") + body


# -- transactions -------------------------------------------------------------------------------


def header_value(data: bytes, name: str) -> str:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode("latin-1")
    return ""
