"""The built-in call flow: RFC 3261 §24 as seen by the biloxi.com proxy (server10.biloxi.com).

Bob registers (§24.1 F1), Alice's INVITE arrives from the atlanta.com proxy (§24.2 F3) and is sent
to Bob's registered contact (F5), Bob's 180 and 200 come back (F6, F9) and are forwarded by their
Vias (F7, F10). The messages are the RFC's own bytes; the RFC leaves out the SDP of the INVITE and
the 200, so a body of the announced length is put back.
"""

from __future__ import annotations

from importlib import resources

from sipsim.engine.config import ServerConfig
from sipsim.engine.driver import MemoryDriver

DEMO_CONFIG = ServerConfig(advertise="server10.biloxi.com", aliases=("biloxi.com", "registrar.biloxi.com"))

FLOW = (
    ("s24_1_F1_REGISTER.dat", ("192.0.2.4", 5060)),
    ("s24_2_F3_INVITE.dat", ("192.0.2.2", 5060)),
    ("s24_2_F6_180.dat", ("192.0.2.4", 5060)),
    ("s24_2_F9_200.dat", ("192.0.2.4", 5060)),
)


def rfc3261_message(name: str) -> bytes:
    data = resources.files("sipsim").joinpath("data", "rfc3261", name).read_bytes()
    head, sep, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.strip().lower() in (b"content-length", b"l"):
            length = int(v.strip())
    if len(body) < length:
        sdp = b"v=0\r\no=bob 2890844527 2890844527 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n"
        body = (sdp + b"a=" + b"x" * length)[: length - 2] + b"\r\n"
    return head + sep + body


def demo_flow() -> tuple[MemoryDriver, list[tuple[str, bytes, tuple[str, int]]]]:
    driver = MemoryDriver(DEMO_CONFIG)
    return driver, [(name, rfc3261_message(name), src) for name, src in FLOW]
