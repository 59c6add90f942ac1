"""Small captures for the ``simulate --pcap`` tests: SIP requests from two phones to a proxy on
127.0.0.1, written as a pcap, and ``sipsim simulate`` run in-process on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sipsim.cli import main
from sipsim.packets import PcapWriter

PROXY = ("127.0.0.1", 5060)
ALICE = ("127.0.0.1", 5070)
BOB = ("127.0.0.1", 5080)


def request(method: str, ruri: str, call_id: str, src: tuple[str, int], extra: str = "", to: str = "") -> bytes:
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK-{call_id}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <{to or ruri}>\r\nCall-ID: {call_id}\r\n"
            f"CSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n").encode()


def write_capture(path: Path, flow: list[tuple[float, tuple[str, int], bytes]]) -> Path:
    """``flow``: (time, source, datagram), each sent to PROXY."""
    with PcapWriter(path, epoch=1_790_000_000.0) as w:
        for t, src, data in flow:
            w.write(t, src, PROXY, data)
    return path


def simulate(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(["simulate", "--workers", "1", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err
