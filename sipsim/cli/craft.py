"""``sipsim craft``: build a SIP message from a template (or a .dat file) and print it, show its
Scapy layers, or save it as a one-packet pcap. Nothing is sent."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Build one SIP message without sending it. TEMPLATE is a template name (see --list) or a file
holding a raw SIP message (e.g. tests/data/rfc4475/wsinv.dat). Prints the message as it would go
on the wire, or the Scapy IP/UDP/SIP tree with --show, or saves it to a pcap with --pcap OUT.

--pcap OUT *writes* a capture (trace --pcap and simulate --pcap read one): an OUT that exists is
refused unless --force. The packet is stamped with the current time. The capture records the
datagram as a socket sends it: one frame, never IP fragments, even past a 1500-byte MTU (its DF
bit is then clear, as Linux sends a datagram it must fragment)."""


def add_message_options(p: argparse.ArgumentParser, *, sending: bool) -> None:
    """The options craft and send share (``sending``: for ``send``, whose --to is required and whose
    --from defaults to an ephemeral port; ``run`` checks --to itself to say why it is needed)."""
    p.add_argument("template", nargs="?", metavar="TEMPLATE|FILE",
                   help="a template name (see --list) or a file with a raw SIP message")
    p.add_argument("--to", metavar="HOST:PORT",
                   help="where the message goes" + (" (required)" if sending else " (default 127.0.0.1:5060)"))
    p.add_argument("--from", dest="src", metavar="HOST:PORT",
                   help="alice's address, the caller: requests come from it; a reply template is bob's "
                        "answer to alice's INVITE, sent to --to (the proxy)"
                        + (" (default: an ephemeral port on the address the kernel picks for --to)" if sending else
                           " (default 127.0.0.1:5070, or [::1]:5070 for IPv6)"))
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="Header=value",
                   help="set a header (replaces its first occurrence or adds it); repeatable")
    p.add_argument("--seed", type=int, default=None,
                   help="derive tags/branches/Call-ID from this seed (default: "
                        + ("a new one each run, as a phone makes a new Call-ID and branch: sending the same "
                           "REGISTER twice would otherwise be a retransmission to the registrar)" if sending else
                           "from the addresses)"))
    p.add_argument("--list", action="store_true", help="list the templates and exit")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("craft", help="build a SIP message from a template; print, show or save it",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_message_options(p, sending=False)
    p.add_argument("--show", action="store_true", help="print Scapy's layer tree (IP/UDP/SIP) instead")
    p.add_argument("--pcap", metavar="OUT",
                   help="write the message to a new one-packet pcap file OUT (this writes; trace --pcap reads)")
    p.add_argument("--force", action="store_true", help="with --pcap: overwrite OUT if it exists")


def print_templates() -> None:
    from sipsim.packets.templates import template_names

    names = template_names()
    width = max(len(n) for n, _ in names)
    for name, desc in names:
        print(f"  {name:<{width}}  {desc}")


def option_address(option: str, text: str) -> tuple[str, int]:
    """HOST:PORT of an option, HOST an IP literal; the error names the option."""
    from sipsim.packets.addr import parse_address
    from sipsim.packets.errors import AddressError

    try:
        return parse_address(text)
    except AddressError as exc:
        raise AddressError(f"{option} {text!r}: {exc}") from None


def fail(message: str, code: int = 2) -> int:
    print(f"sipsim: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from sipsim.packets.addr import hostport
    from sipsim.packets.compose import compose, parse_sets
    from sipsim.packets.errors import PacketsError, PcapError
    from sipsim.packets.templates import DEFAULT_DST, default_src

    if args.list:
        print_templates()
        return 0
    if not args.template:
        return fail("craft: which message? give a TEMPLATE or a FILE (sipsim craft --list shows the templates)")
    if args.force and not args.pcap:
        return fail("--force goes with --pcap OUT (it allows overwriting OUT)")
    if args.pcap:
        from sipsim.packets.pcapwriter import existing_capture_error

        exists = existing_capture_error(args.pcap, "craft --pcap")
        if exists and not args.force:  # before anything is built: a clobber is refused at once
            return fail(exists)
    try:
        dst = option_address("--to", args.to) if args.to else DEFAULT_DST
        src = option_address("--from", args.src) if args.src else default_src(dst)
        if (":" in src[0]) != (":" in dst[0]):
            return fail(f"--from {src[0]} and --to {dst[0]} must both be IPv4 or both IPv6")
        sets = parse_sets(args.sets)
        composed = compose(args.template, src=src, dst=dst, sets=sets, seed=args.seed)
    except PacketsError as exc:
        return fail(str(exc))
    data = composed.msg.to_bytes()
    # who really sends it: a reply template is bob's answer to the proxy, not a datagram from --from
    src, dst = composed.src or src, composed.dst or dst
    if args.show:
        from sipsim.packets.layer import sip_packet

        print(sip_packet(data, src, dst).show2(dump=True), end="")
    if args.pcap:
        import time

        from sipsim.packets.pcapwriter import PcapWriter

        try:
            with PcapWriter(args.pcap, epoch=time.time()) as w:  # crafted now: not 1970
                w.write(0.0, src, dst, data)
        except PcapError as exc:
            return fail(str(exc), 1)
        except PacketsError as exc:
            return fail(str(exc))
        print(f"saved {composed.msg.summary()} ({len(data)} bytes, {hostport(src)} -> {hostport(dst)}) "
              f"to {args.pcap}", file=sys.stderr)
    if not args.show and not args.pcap:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0
