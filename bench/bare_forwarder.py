#!/usr/bin/env python3
"""The floor for a Python proxy: a bare prefork forwarder, for ``bench/live.py`` to measure beside sipsim.

    bare_forwarder.py PORT UAS_PORT WORKERS

Same process model as ``sipsim serve`` (one UDP socket on 127.0.0.1, WORKERS forked children all
blocking in ``recvfrom``) and the same traffic job in the benchmark's call flow, with none of the
structure: no parser, no checks, no routing, no location lookup, no events. A request gets a Via
line spliced in (MD5 branch, ``received``/``rport`` on the sender's Via) and goes to the UAS; a reply
loses its top Via value and goes back to the next one. It is what the issue calls "a bare Python
prefork forwarder (no real parsing)": whatever sipsim costs beyond it is the engine's own work,
not Python's start-up, ``fork`` or the system calls. Loopback only; stopped by the benchmark (PID).
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys


def serve(sock: socket.socket, uas: tuple[str, int], me: bytes) -> None:
    while True:
        data, src = sock.recvfrom(65535)
        head, sep, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        vias = [k for k, line in enumerate(lines) if line[:4].lower() == b"via:"]
        if not vias:
            continue
        i = vias[0]
        if data.startswith(b"SIP/2.0 "):
            _, comma, rest = lines[i].partition(b",")  # sipp puts every Via value on one line
            if comma:
                nxt = rest.strip()
                lines[i] = b"Via: " + nxt
            elif len(vias) > 1:
                nxt = lines[vias[1]][4:].strip().split(b",")[0]
                del lines[i]
            else:
                continue
            host, _, port = nxt.split(b" ", 1)[-1].split(b";")[0].partition(b":")
            rport = [p[6:] for p in nxt.split(b";") if p.startswith(b"rport=")]
            dst = (host.decode(), int(rport[0] if rport else port or b"5060"))
        else:
            lines[i] += b";received=%s;rport=%d" % (src[0].encode(), src[1])
            lines.insert(i, me + hashlib.md5(lines[i]).hexdigest().encode())
            dst = uas
        sock.sendto(b"\r\n".join(lines) + sep + body, dst)


def main() -> int:
    port, uas_port, workers = (int(a) for a in sys.argv[1:4])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    me = b"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK" % port
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                serve(sock, ("127.0.0.1", uas_port), me)
            finally:
                os._exit(0)
        children.append(pid)
    try:
        os.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
