"""``udp_rcv_loop``: a worker's life (``src/core/udp_server.c``).

Every worker runs this loop forever: call ``recvfrom`` on the shared socket (yield :class:`Recv`;
the driver blocks the worker until a datagram is there), check its size, and hand it to
``receive_msg``. The same generator runs in the simulator (the simulated kernel answers ``Recv``)
and in live mode (a real ``recvfrom`` answers it).

Size checks (Kamailio 5.6): a datagram shorter than ``MIN_UDP_PACKET`` (32 bytes) is a "probing
packet", dropped silently — that is where CRLF keep-alives vanish; a source port of 0 is dropped.
Kamailio tests the size first and the port after it, so a short datagram from port 0 is a
"probing packet".
5.6 has no upper limit but its 65535-byte buffer (newer versions drop at ``msg_recv_max_size``,
32767; set ``ServerConfig.msg_recv_max_size`` to model them). The ``ser`` profile models the seed's
"if configured so, basic sanity checks over the received message": it drops empty datagrams and a
source port 0, and lets ``parse_msg`` judge the rest.

Datagrams too big for UDP. Kamailio calls ``recvfrom`` with a ``BUF_SIZE`` (65,535-byte) buffer
and does not ask for ``MSG_TRUNC``: a longer datagram would be cut to 65,535 bytes without a word.
That never happens, because UDP cannot carry one: at most 65,507 bytes of payload over IPv4 and
65,527 over IPv6 (``config.MAX_UDP_PAYLOAD_V4``/``_V6``; only an IPv6 jumbogram, RFC 2675, could
be longer, and sipsim does not model those). The sender's ``sendto`` fails with EMSGSIZE and the
kernel never queues anything. So sipsim *refuses* such a datagram, in any profile, before
``recvfrom`` returns — it does not pretend to truncate something no network delivers. Only the
in-memory driver (``sipsim trace`` of a large ``.dat`` file) can hand one over; the simulated
kernel refuses it at injection and scenario files are checked when they load.
"""

from __future__ import annotations

from sipsim.engine.config import BUF_SIZE, MAX_UDP_PAYLOAD_V6, max_udp_payload
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.events import DROPPED, Datagram, Recv, format_addr
from sipsim.engine.receive_msg import receive_msg


def udp_rcv_loop(ctx: WorkerContext, sock: int = 0) -> Steps:
    """The worker main loop. The driver sends a Datagram for each Recv, or None to stop."""
    recv = Recv(sock)  # immutable, the same call every turn: made once
    while True:
        dgram = yield recv
        if dgram is None:
            return 0
        yield from handle_datagram(ctx, dgram)


def handle_datagram(ctx: WorkerContext, dgram: Datagram) -> Steps:
    """One turn of the loop after ``recvfrom`` returned."""
    n = len(dgram.data)
    cfg = ctx.config
    limit = max_udp_payload(dgram.src[0])
    if n > limit:
        fam = 6 if limit == MAX_UDP_PAYLOAD_V6 else 4
        why = (f"no UDP datagram carries {n:,} bytes: over IPv{fam} the payload is at most {limit:,} bytes, so a "
               f"sender's sendto fails with EMSGSIZE and recvfrom (into its {BUF_SIZE:,}-byte buffer) never sees it")
        yield ctx.event("recvfrom", dgram.id, f"{why}; nothing is received", outcome=DROPPED,
                        reason=f"impossible UDP datagram: {n:,} bytes > {limit:,}",
                        detail={"src": format_addr(dgram.src), "len": n, "max": limit})
        return -1
    if ctx.tracing:
        yield ctx.event("recvfrom", dgram.id, f"recvfrom returns {n} bytes from {format_addr(dgram.src)}",
                        detail={"src": format_addr(dgram.src), "len": n})
    why = None
    if cfg.msg_recv_max_size is not None and n >= cfg.msg_recv_max_size:
        why = f"{n} bytes is not below msg_recv_max_size {cfg.msg_recv_max_size}"
    elif not ctx.ser and n < cfg.min_udp_packet:  # Kamailio tests the size before the source port
        why = f"probing packet: {n} bytes < MIN_UDP_PACKET {cfg.min_udp_packet}"
    elif dgram.src[1] == 0:
        why = "source port 0"
    elif ctx.ser and n == 0:
        why = "empty datagram"
    if why:
        yield ctx.event("udp_rcv_loop", dgram.id, f"{why}: dropped silently", outcome=DROPPED, reason=why)
        return -1
    checks = "basic sanity checks passed" if ctx.ser else "size checks passed"
    if ctx.tracing:
        yield ctx.event("udp_rcv_loop", dgram.id, f"{checks}; the buffer is zero-terminated; calls receive_msg")
    return (yield from receive_msg(ctx, dgram))
