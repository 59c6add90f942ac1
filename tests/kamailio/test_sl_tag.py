"""sl's To-tag: sipsim's ``kamailio`` profile writes the very tag Kamailio 5.6.3 writes.

The same cfg (every request answered ``sl_send_reply("404", ...)``) runs in the real Kamailio,
listening on 127.0.0.1:5060 in a private network namespace (tests/kamailio/harness.py), and in
sipsim's in-memory driver with the same listen address. Each request varies what the tag is made
of (the top Via's host, port as written, branch, and the Call-ID): no port, no branch, neither, a
port with a leading zero, a repeated branch, an IPv6 reference, white space around ``:`` and ``=``,
two values on the top Via line. The tags must be identical, byte for byte, unmasked.
And the tag's fixed part for an IPv6 listen address, written long-hand: Kamailio hashes the
address in its shortest form, without brackets (a Kamailio of its own on [::1], outside the harness).

Then an INVITE answered 404 and its ACK: Kamailio's ``sl_filter_ACK`` recognises its own tag (the
ACK never reaches the route), and so must sipsim; an ACK carrying someone else's tag does reach it.

The ser profile has no binary to compare with: its tag is checked against SER's ``tags.h``
(signature "SER-stateless", the first CRC only, four hex digits), with a CRC computed here bit by
bit rather than by sipsim's table.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from helpers import need_tool

from kamailio.crafted import msg
from kamailio.harness import KamailioProcess
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.sl import crcitt_hex
from sipsim.routing import load_route

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFG = """\
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"

request_route {
    xlog("L_INFO", "route $rm\\n");
    sl_send_reply("404", "Not here");
    exit;
}
"""
SRC = ("192.0.2.1", 5060)
LISTEN = ("127.0.0.1", 5060)
TAG_RE = re.compile(r";tag=([^;\r\n>]*)")

#: (name, top Via value(s), Call-ID header value)
VIAS = [
    ("port-and-branch", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl1", "sl-tag-1"),
    ("no-port", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsl1", "sl-tag-2"),
    ("no-branch", "SIP/2.0/UDP 192.0.2.1:5060", "sl-tag-3"),
    ("no-port-no-branch", "SIP/2.0/UDP 192.0.2.1", "sl-tag-4"),
    ("leading-zero-port", "SIP/2.0/UDP 192.0.2.1:05060;branch=z9hG4bKsl1", "sl-tag-5"),
    ("other-port", "SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bKsl1", "sl-tag-6"),
    ("port-zero", "SIP/2.0/UDP 192.0.2.1:0;BRANCH=z9hG4bKsl1", "sl-tag-6"),
    ("hostname-repeated-branch", "SIP/2.0/UDP Pc33.Atlanta.COM:5060;branch=z9hG4bKa;branch=z9hG4bKb", "sl-tag-7"),
    ("ipv6", "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKsl6", "sl-tag-8"),
    ("ipv6-no-port", "SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKsl6", "sl-tag-9"),
    ("white-space", "SIP/2.0/UDP 192.0.2.1 : 5060 ;branch = z9hG4bKsl1", "sl-tag-10"),
    ("two-values", "SIP/2.0/UDP a.example.com:5061;branch=z9hG4bKa, SIP/2.0/UDP b.example.com;branch=z9hG4bKb",
     "sl-tag-11"),
    ("call-id-spaced", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl1", "  sl-tag-12@192.0.2.1  "),
    ("call-id-tab", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl1", "\tsl-tag-13\t"),
    ("call-id-folded", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl1", " sl-tag-14\r\n  folded "),
    ("retransmission", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl1", "sl-tag-1"),
]


def request(method: str, via: str, call_id: str, to_tag: str = "", cseq: str = "") -> bytes:
    to = "To: <sip:bob@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    return msg(f"{method} sip:bob@127.0.0.1 SIP/2.0", f"Via: {via}", "Max-Forwards: 70", to,
               "From: <sip:alice@atlanta.com>;tag=sl-from", f"Call-ID:{call_id}", f"CSeq: {cseq or '1 ' + method}")


def replies_to_tags(sent: list[tuple[tuple[str, int], bytes]]) -> list[str]:
    """The To-tag of each datagram sent (every one is a reply here), "" when it has none."""
    out = []
    for _dst, data in sent:
        to = next(ln for ln in data.decode("latin-1").split("\r\n") if ln.lower().startswith("to:"))
        m = TAG_RE.search(to)
        out.append(m.group(1) if m else "")
    return out


def run_kamailio(messages: list[bytes]) -> list[tuple[list[str], list[str]]]:
    """(To-tags of what was sent, route lines logged) for each message, from the real Kamailio."""
    out = []
    with KamailioProcess(CFG, port=LISTEN[1]) as k:
        for data in messages:
            obs = k.send(data, src=SRC)
            logs = [r.text.removeprefix("<script>: ").rstrip("\n") for r in obs.log if r.text.startswith("<script>: ")]
            out.append((replies_to_tags([(s.dst, s.data) for s in obs.sent]), logs))
    return out


def run_sipsim(messages: list[bytes], tmp_path: Path) -> list[tuple[list[str], list[str]]]:
    """The same, from sipsim's kamailio profile in memory."""
    path = tmp_path / "sl_tag.cfg"
    path.write_text(CFG)
    router = load_route(path, ServerConfig(profile=Profile.KAMAILIO, listen=LISTEN))
    driver = MemoryDriver(router.config, router=router)
    out = []
    for data in messages:
        res = driver.feed(data, SRC)
        logs = [ev.detail["message"].rstrip("\n") for ev in res.events if ev.step == "xlog"]
        out.append((replies_to_tags([(s.to, s.data) for s in res.sent]), logs))
    return out


@pytest.fixture
def kamailio(isolated_network: None) -> str:
    need_tool("unshare")
    return need_tool("kamailio")


def test_sl_tags_are_kamailios(kamailio: str, tmp_path: Path) -> None:
    invite_via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl-inv"
    messages = [request("OPTIONS", via, cid) for _name, via, cid in VIAS]
    messages.append(request("INVITE", invite_via, "sl-tag-invite"))
    inv_tag = run_kamailio(messages[-1:])[0][0][0]  # Kamailio's own tag for the INVITE, to ACK it
    acks = [request("ACK", invite_via, "sl-tag-invite", inv_tag, "1 ACK"),  # ours: filtered
            request("ACK", invite_via, "sl-tag-invite", "someone-else", "1 ACK")]  # reaches the route
    k_seen = run_kamailio(messages + acks)
    s_seen = run_sipsim(messages + acks, tmp_path)
    names = [name for name, _via, _cid in VIAS] + ["invite", "ack-our-tag", "ack-other-tag"]
    for name, k, s in zip(names, k_seen, s_seen, strict=True):
        assert s == k, f"{name}: kamailio {k}, sipsim {s}"

    # what the comparison covered: every OPTIONS and the INVITE answered with a tag, ...
    prefix = hashlib.md5(b"KAMAILIO-stateless127.0.0.15060").hexdigest()
    tags = [seen[0][0] for seen in k_seen[:len(VIAS) + 1]]
    assert all(re.fullmatch(rf"{prefix}\.[0-9a-f]{{8}}", t) for t in tags), tags
    by_name = dict(zip(names, tags, strict=False))
    assert by_name["retransmission"] == by_name["port-and-branch"]
    # ... different requests getting different tags, but the branch changing nothing without a port
    assert len({by_name[n] for n in ("port-and-branch", "no-branch", "leading-zero-port", "other-port")}) == 4
    assert by_name["no-port"][-4:] == "0000" and by_name["no-port"] == by_name["no-port-no-branch"]
    # ... and the ACK of our own reply filtered before the route, the other one not
    assert k_seen[-2] == ([], []) and k_seen[-1] == ([], ["route ACK"])


def test_sl_tag_no_port_drops_branch_and_call_id(kamailio: str, tmp_path: Path) -> None:
    """Without a Via port Kamailio 5.6 stops its CRCs at the missing port: the branch and the
    Call-ID then change nothing, and the second half is "0000"."""
    messages = [request("OPTIONS", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKone", "sl-np-1"),
                request("OPTIONS", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKtwo", "sl-np-2"),
                request("OPTIONS", "SIP/2.0/UDP 192.0.2.1", "sl-np-3")]
    k_seen = run_kamailio(messages)
    assert run_sipsim(messages, tmp_path) == k_seen
    assert len({seen[0][0] for seen in k_seen}) == 1 and k_seen[0][0][0].endswith("0000")


def _crc_x25(data: bytes) -> int:
    """CRC-16 CCITT as SER/Kamailio's crc.c computes it (reflected 0x8408, start and end
    complemented), bit by bit."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def test_crcitt_hex_is_the_ccitt_crc_written_lowest_nibble_first() -> None:
    assert _crc_x25(b"123456789") == 0x906E  # the catalogued check value of this CRC
    assert crcitt_hex(("12345", "6789"), True) == "e609"
    assert crcitt_hex(("12345", None, "6789"), True) == f"{_crc_x25(b'12345'):04x}"[::-1]
    assert crcitt_hex(("12345", None, "6789"), False) == "e609"
    assert crcitt_hex((None, "x"), True) == "0000"  # nothing at all: 0, padded


def test_ser_profile_tag_is_sers(tmp_path: Path) -> None:
    """The ser profile: SER's tags.h, four hex digits of one CRC of host, port and branch."""
    config = ServerConfig(profile=Profile.SER, listen=LISTEN)
    driver = MemoryDriver(config)
    prefix = hashlib.md5(b"SER-stateless127.0.0.15060").hexdigest()
    cases = [("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKser", b"192.0.2.15060z9hG4bKser"),
             ("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKser", b"192.0.2.1z9hG4bKser"),
             ("SIP/2.0/UDP 192.0.2.1:05060", b"192.0.2.105060")]
    for via, crc_input in cases:
        # the default route answers an INVITE for an unknown user of ours 404, stateless
        res = driver.feed(request("INVITE", via, "ser-tag"), SRC)
        tags = [t for t in replies_to_tags([(s.to, s.data) for s in res.sent]) if t]
        suffix = f"{_crc_x25(crc_input):04x}"[::-1]
        assert tags == [f"{prefix}.{suffix}"], (via, [s.data[:200] for s in res.sent])


V6_CFG = """\
debug=2
log_stderror=yes
children=1
dns=no
rev_dns=no
disable_tcp=yes
auto_aliases=no
listen=udp:[{listen}]:{port}
loadmodule "sl.so"
request_route {{ sl_send_reply("404", "Not here"); exit; }}
"""


def test_sl_tag_prefix_of_an_ipv6_listen_address(kamailio: str, tmp_path: Path) -> None:
    """An IPv6 listen address enters the tag's MD5 without brackets and in its shortest form,
    however the listen line writes it (measured: ``[0:0:0:0:0:0:0:1]`` hashes as "::1")."""
    import socket
    import subprocess
    import time

    from helpers import free_udp_port, stop_pid

    port, src_port = free_udp_port("::1"), free_udp_port("::1")
    data = request("OPTIONS", f"SIP/2.0/UDP [::1]:{src_port};branch=z9hG4bKv6", "sl-tag-v6")
    cfg = tmp_path / "v6.cfg"
    cfg.write_text(V6_CFG.format(listen="0:0:0:0:0:0:0:1", port=port))
    (tmp_path / "run").mkdir()
    proc = subprocess.Popen([kamailio, "-f", str(cfg), "-DD", "-E", "-Y", str(tmp_path / "run"),
                             "-P", str(tmp_path / "k.pid")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", src_port))
            sock.settimeout(0.2)
            deadline, answer = time.monotonic() + 10, b""
            while not answer and time.monotonic() < deadline and proc.poll() is None:
                sock.sendto(data, ("::1", port))  # resent until the server is up (same request: same tag)
                try:
                    answer = sock.recv(4096)
                except TimeoutError:
                    pass
    finally:
        stop_pid(proc)
        err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
    assert answer, f"no answer from Kamailio on [::1]:{port}: {err}"
    k_tag = replies_to_tags([(("::1", port), answer)])[0]

    listen = ("0:0:0:0:0:0:0:1", port)
    path = tmp_path / "route.cfg"  # sipsim runs the route part only (the rest is Kamailio's core settings)
    path.write_text('loadmodule "sl.so"\nrequest_route { sl_send_reply("404", "Not here"); exit; }\n')
    router = load_route(path, ServerConfig(profile=Profile.KAMAILIO, listen=listen))
    res = MemoryDriver(router.config, router=router).feed(data, ("::1", src_port))
    s_tag = replies_to_tags([(s.to, s.data) for s in res.sent])[0]
    assert s_tag == k_tag
    assert k_tag.startswith(hashlib.md5(f"KAMAILIO-stateless::1{port}".encode()).hexdigest() + ".")
