"""`sipsim send`: craft one SIP message, send it over a plain UDP socket, print the answers.

Sends one SIP message — a TEMPLATE (see --list) or a FILE holding a raw message — to --to over
UDP and prints every answer. No raw socket and no root: an ordinary UDP socket is bound first (to
--from, or to an ephemeral port on the address the kernel would use to reach --to), so the
message's Via and Contact can carry the real local address and port and the answers come back to
it. A raw message FILE is sent as it is, except that its top Via's sent-by is pointed at that
address (--keep-via to send it untouched). Then it waits, at most --wait seconds, and stops
earlier once a final response has come and the line has been quiet for a moment. Exit 0 when an
answer arrived; 1 when none came, or the machine refused (--from's port in use, nothing listening
at --to); 2 for a usage error. For example:

    sipsim send register --to 127.0.0.1:5060
"""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any

from sipsim.cli.craft import add_message_options, fail, print_templates

QUIET_AFTER_FINAL = 0.3  # seconds of silence after a final response before we stop listening
IP_RECVERR = 11  # <linux/in.h>: report ICMP errors (port unreachable) on an unconnected socket
IPV6_RECVERR = 25


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "send", help="send one crafted SIP message over UDP and print the answers",
        description=(__doc__ or "").split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    add_message_options(p, sending=True)
    p.add_argument("--wait", type=float, default=2.0, metavar="SECONDS",
                   help="how long to wait for answers at most (default 2)")
    p.add_argument("--keep-via", action="store_true",
                   help="send a FILE exactly as it is (its answers go wherever its Via says)")
    p.add_argument("--show", action="store_true", help="print each answer as Scapy's IP/UDP/SIP tree")


def _resolve_to(text: str) -> tuple[Any, tuple[str, int]]:
    """--to → (family, (ip, port)). IP literals need no lookup; a name is resolved (not in tests)."""
    import socket

    from sipsim.packets.addr import parse_ip, split_hostport
    from sipsim.packets.errors import AddressError

    host, port = split_hostport(text)
    try:
        ip = parse_ip(host)
    except AddressError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError) as exc:
            raise AddressError(f"--to {text!r}: cannot resolve {host!r} ({exc})") from None
        ip = infos[0][4][0]
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    return fam, (ip, port)


def _parse_from(text: str) -> tuple[str, int]:
    """--from HOST[:PORT]: an IP literal; no port (or 0) means an ephemeral one."""
    from sipsim.packets.addr import parse_ip, parse_port, split_hostport

    host, port = split_hostport(text, default_port=0)
    return parse_ip(host), (parse_port(port, "--from port") if port else 0)


def _open_socket(fam: Any, dst: tuple[str, int], src: tuple[str, int] | None) -> Any:
    import socket

    sock = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        if src is None:
            with socket.socket(fam, socket.SOCK_DGRAM) as probe:  # connect() on UDP sends nothing
                probe.connect(dst)
                src = (probe.getsockname()[0], 0)
        sock.bind(src)
        if fam == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    except OSError:
        sock.close()
        raise
    return sock


def run(args: argparse.Namespace) -> int:
    import socket

    from sipsim.packets.addr import hostport
    from sipsim.packets.compose import compose, is_template, parse_sets, rewrite_top_via
    from sipsim.packets.errors import PacketsError

    if args.list:
        print_templates()
        return 0
    if not args.template:
        return fail("send: which message? give a TEMPLATE or a FILE (sipsim send --list shows the templates)")
    if not args.to:
        return fail("send: --to HOST:PORT is required (where should the message go?)")
    if not 0 < args.wait <= 3600:
        return fail(f"--wait {args.wait}: expected a number of seconds above 0 (at most 3600)")
    try:
        sets = parse_sets(args.sets)
        fam, dst = _resolve_to(args.to)
        src = _parse_from(args.src) if args.src else None
        if src is not None and (":" in src[0]) != (fam == socket.AF_INET6):
            return fail(f"--from {src[0]} and --to {dst[0]} must both be IPv4 or both IPv6")
        if not is_template(args.template):  # fail on a bad FILE before touching the network
            compose(args.template, src=dst, dst=dst, sets=sets)
    except PacketsError as exc:
        return fail(str(exc))
    try:
        sock = _open_socket(fam, dst, src)
    except OSError as exc:
        where = f"--from {hostport(src)}" if src else f"a local address to reach {hostport(dst)}"
        # the port in use, an address this machine does not have: the machine refuses, as for serve (1)
        return fail(f"cannot bind {where}: {exc.strerror or exc}", 1)
    with sock:
        local = sock.getsockname()[:2]
        try:
            # a new seed each run unless given: the same --from would otherwise give the same
            # Call-ID, CSeq and branch every time (a retransmission to a registrar, which changes nothing)
            seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
            composed = compose(args.template, src=local, dst=dst, sets=sets, seed=seed)
        except PacketsError as exc:
            return fail(str(exc))
        msg = composed.msg
        if composed.source == "file" and not args.keep_via:
            old = rewrite_top_via(msg, local)
            if old is not None and old != hostport(local):
                print(f"note: top Via sent-by {old} -> {hostport(local)} so the answer comes back "
                      "(--keep-via sends the file untouched)", file=sys.stderr)
            elif old is None:
                print("note: the message has no usable Via; a server cannot route an answer back",
                      file=sys.stderr)
        data = msg.to_bytes()
        try:
            sock.sendto(data, dst)
        except OSError as exc:
            return fail(f"cannot send to {hostport(dst)}: {exc.strerror or exc}", 1)
        print(f"sent {msg.summary()} ({len(data)} bytes) {hostport(local)} -> {hostport(dst)}",
              file=sys.stderr)
        return _collect(sock, msg, local, dst, args)


def _collect(sock: Any, sent: Any, local: tuple[str, int], dst: tuple[str, int],
             args: argparse.Namespace) -> int:
    """Print answers until --wait runs out, or until quiet after a final response."""
    import time

    from sipsim.packets.addr import hostport
    from sipsim.packets.message import SipMessage

    start = time.monotonic()
    deadline = start + args.wait
    answers = 0
    acked_note = False
    call_id, cseq = sent.get_header("Call-ID"), sent.get_header("CSeq")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, peer = sock.recvfrom(65535)
        except TimeoutError:
            break
        except ConnectionRefusedError:
            print(f"sipsim: {hostport(dst)} refused the datagram (ICMP port unreachable): "
                  "nothing listens there", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"sipsim: receive failed: {exc.strerror or exc}", file=sys.stderr)
            return 1
        answers += 1
        elapsed = (time.monotonic() - start) * 1000
        got = SipMessage.parse(data)
        print(f"--- answer {answers} from {hostport(peer[:2])} after {elapsed:.1f} ms "
              f"({len(data)} bytes): {got.summary()} ---", flush=True)
        if args.show:
            from sipsim.packets.layer import sip_packet

            print(sip_packet(data, peer[:2], local).show2(dump=True), end="", flush=True)
        else:
            sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
            sys.stdout.buffer.flush()
        final = got.is_response and (got.status or 0) >= 200
        if final and got.get_header("Call-ID") == call_id and got.get_header("CSeq") == cseq:
            deadline = min(deadline, time.monotonic() + QUIET_AFTER_FINAL)
            if sent.method.upper() == "INVITE" and not acked_note:
                acked_note = True
                print(f"note: {no_ack_note(got)}", file=sys.stderr)
    if not answers:
        print(f"sipsim: no answer within {args.wait:g} s", file=sys.stderr)
        return 1
    return 0


def no_ack_note(final: Any) -> str:
    """What becomes of a final response to an INVITE that sipsim send never ACKs. Only a
    transaction retransmits it — a UAS (a 2xx until the ACK, RFC 3261 §13.3.1.4) or a stateful
    proxy or UAS server transaction (3xx-6xx, §17.2.1) — never a stateless proxy's own reply
    (Kamailio's sl_send_reply): it is sent once. sipsim serve is stateless: its replies carry
    ``Server: sipsim``, which tells them apart; any other answer may be either."""
    server = (final.get_header("Server") or "").strip().lower()
    if server.startswith("sipsim"):
        return ("sipsim send sends one message and does not ACK; this answer is sipsim serve's own stateless "
                "reply (sl_send_reply), sent once: nothing retransmits it")
    return ("sipsim send sends one message and does not ACK. If a UAS or a stateful proxy (a transaction) "
            "sent this answer, it retransmits it for a while, waiting for the ACK (RFC 3261 §13.3.1.4 for a 2xx, "
            "§17.2.1 for 3xx-6xx); a stateless proxy's own reply (Kamailio's sl_send_reply) is sent once")
