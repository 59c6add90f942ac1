"""The simulated kernel side of a UDP socket: a receive queue bounded in bytes and a wait-queue.

This is not Kamailio code at all: it is what Linux does underneath ``udp_rcv_loop`` when several
processes block in ``recvfrom`` on one socket (the seed's "Main Loop" page describes exactly this
list of sleepers). The simulator (``simulation.py``) owns the clock and the CPUs; this module owns
the socket state and the rules: who gets woken, what fits in the buffer, who takes what.

Receive queue and byte accounting (``net/ipv4/udp.c``, ``__udp_enqueue_schedule_skb``)
    Every datagram is queued as an skb and charged its *truesize*, not its payload: the skb head
    allocation (a power-of-two kmalloc bucket, or the 576-byte small-head cache) plus the
    ``struct sk_buff`` itself. :func:`skb_truesize` reproduces what we measured with
    ``getsockopt(SO_MEMINFO)`` on Linux 6.18 over loopback (``bench/simulate.py --calibrate``
    repeats the measurement): 0-197 bytes cost 832, 198-645 cost 1280, 646-1669 cost 2304 …
    and from 16,005 bytes the payload goes into page fragments (truesize = payload + 832).
    A datagram is accepted when it fits (charged + truesize <= sk_rcvbuf) or when the queue is
    empty (the kernel always lets one datagram in); otherwise it is dropped and counted in
    ``RcvbufErrors`` (``netstat -su``: "receive buffer errors"). Measured on the same machine:
    with ``SO_RCVBUF`` 8192, 12 datagrams of 500 bytes fit; with the default buffer, 166 — the
    simulator gives the same numbers.
    ``sk_rcvbuf`` starts at ``net.core.rmem_default`` (212,992 bytes). ``setsockopt(SO_RCVBUF, x)``
    (``sk_setsockopt``, ``net/core/sock.c``) first caps the request at ``net.core.rmem_max``
    (stock value 212,992; the scenario key ``rmem_max`` / ``sipsim simulate --rmem-max`` plays
    ``sysctl -w net.core.rmem_max=…``), then ``__sock_set_rcvbuf`` caps it at ``INT_MAX / 2``, so
    that the doubled value stays an ``int``, and stores ``max(val * 2, SOCK_MIN_RCVBUF)`` — the
    kernel doubles the value to leave room for its own overhead. So on a stock kernel
    ``SO_RCVBUF`` 10,000,000 gives 425,984, not 20,000,000; only root's ``SO_RCVBUFFORCE`` skips
    ``rmem_max``. Measured on Linux 6.18 with ``rmem_max`` 4,194,304: asking 4,194,305 or
    10,000,000 reads back 8,388,608. ``include/net/sock.h`` defines
    ``TCP_SKB_MIN_TRUESIZE`` as ``2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff))`` — room for one
    small frame and its ``sk_buff`` — with ``SOCK_MIN_RCVBUF`` equal to it and ``SOCK_MIN_SNDBUF``
    twice it (the send side wants two skbs in flight). On x86-64 that is 2048 + 256 = 2,304 bytes
    for receiving (4,608 is the *send* floor). Measured on Linux 6.18: ``setsockopt(SO_RCVBUF, 1)``
    then ``getsockopt`` reads 2304, asking 1152 still gives 2304, asking 1153 gives 2306, asking
    2000 gives 4000; live mode logs the same ``rcvbuf 2304 bytes``.
    These truesize figures are loopback's: a datagram from a NIC is charged what its driver
    allocated for the frame (often a 2 KiB or 4 KiB buffer, or a page fragment), usually more.

Releasing the space: batched (``udp_rmem_release``)
    Reading a datagram does not give its bytes back to the buffer at once. UDP keeps two queues:
    the softirq appends to ``sk_receive_queue``; a reader that finds its private ``reader_queue``
    empty moves everything queued so far into it in one go (a *splice*) and reads from there.
    The bytes of each datagram read are added to a running total (``forward_deficit``) and
    ``sk_rmem_alloc`` is lowered only when that total reaches a quarter of the buffer
    (``forward_threshold`` = ``sk_rcvbuf >> 2``) or the reader's queue is empty. Measured on
    Linux 6.18 (``SO_RCVBUF`` 8192, 12 datagrams of 240 bytes queued, 1280 each): reading 1, 2 or
    3 of them frees nothing (``rmem_alloc`` stays 15,360 and new datagrams are still dropped);
    the 4th read gives back 5,120 bytes (4 datagrams' worth) at once, the 8th another 5,120.
    :class:`SimSocket` models exactly that: ``rmem`` is ``sk_rmem_alloc`` (queued bytes plus the
    ``held`` ones not yet given back), ``reader`` is how many datagrams the reader's queue holds.
    So under load the buffer looks fuller than its queue, and a burst is dropped a little earlier.
    Simplifications: no global ``udp_mem`` pressure, and nothing of ``sk_forward_alloc`` (the
    page-granular memory reserve, which does not change what fits).

Wait-queue and wake-up policies
    ``fifo`` (the default; what a blocking ``recvfrom`` gets on Linux): a sleeping reader is
    added at the *tail* of the socket's wait-queue as an exclusive waiter
    (``prepare_to_wait_exclusive``); each arriving datagram wakes the *first* one
    (``sock_def_readable`` → ``__wake_up_common`` with one exclusive wake-up). A woken worker
    leaves the list and dequeues the datagram only when it actually runs, so a worker that comes
    back to ``recvfrom`` while datagrams are queued takes one at once without sleeping — and may
    take the very datagram whose arrival woke someone else, who then finds nothing and sleeps
    again at the tail (a spurious wake-up; we count it with the wasted ones). With spaced
    datagrams this is strict round-robin in the order the workers first went to sleep; under a
    burst the order breaks (``linux-wake-order.md`` in the reference notes shows both).
    ``wake-all``: the thundering herd of non-exclusive waiters (``poll``/``select``, or ``epoll``
    without ``EPOLLEXCLUSIVE``, on a shared socket; old kernels): every sleeper wakes, the first
    to run takes the datagram and the others find the queue empty — one wasted wake-up each — and
    go back to sleep. A non-exclusive waiter is added at the *head* of the wait-queue
    (``add_wait_queue``; exclusive ones go to the tail), and ``__wake_up_common`` walks the list
    from the head: the most recent sleeper is woken *first*. The last winner, back in ``poll``
    after its work, is the most recent sleeper, so it is woken first again and — if it finds an
    idle CPU — runs first and wins again (the simulator gives the first woken workers the idle
    CPUs, ``simulation.py``). Measured with ``poll`` on Linux 6.18 (4 workers, 2 CPUs, a datagram
    every 20 ms): ``333333…`` — the last worker to go to sleep takes all 24 (other runs: a couple
    of different winners at first, then one for good); pinned to one CPU the scheduler chooses
    instead, and the winner rotates ``0123…``. The wasted wake-ups are 3 per datagram either way.
    ``reuseport``: ``SO_REUSEPORT`` — one socket per worker (bound in the order the workers
    started), each with its own buffer; the kernel picks the socket from a hash of the source
    address and port (Linux: a keyed ``jhash`` of the 4-tuple scaled with ``reciprocal_scale``;
    we use CRC-32 keyed with the seed). One source always lands on the same worker, so a busy
    worker's queue grows while others idle. Kamailio does not use it for UDP.
    ``lifo``: one sleeper per datagram, the most recent first — the wrong model of the seed's
    text (one worker ends up doing all the work while the others sleep); lessons use it as the
    wrong answer a check must catch. Real epoll is not quite this. With ``EPOLLEXCLUSIVE`` and one
    epoll instance per worker, each instance's wait entry is an exclusive one at the socket's
    tail, in registration order, and an idle worker's entry is still there: the
    *first-registered* idle worker takes everything (measured: ``000000…`` with 4 workers).
    Several workers in ``epoll_wait`` on one shared epoll fd wait on that fd's own queue, where a
    returning worker goes to the head: LIFO-like, two workers alternating (measured ``3232…``).
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass

from sipsim.engine.events import Addr, Datagram

FIFO = "fifo"
WAKE_ALL = "wake-all"
REUSEPORT = "reuseport"
LIFO = "lifo"
POLICIES = (FIFO, WAKE_ALL, REUSEPORT, LIFO)

RMEM_DEFAULT = 212_992  # net.core.rmem_default: sk_rcvbuf of a socket nobody tuned
RMEM_MAX = 212_992  # net.core.rmem_max, stock value: the largest SO_RCVBUF request honoured (root's too)
SO_RCVBUF_CAP = (2**31 - 1) // 2  # INT_MAX / 2: the largest request __sock_set_rcvbuf doubles
SKB_STRUCT = 256  # SKB_DATA_ALIGN(sizeof(struct sk_buff)) on x86-64
SOCK_MIN_RCVBUF = 2048 + SKB_STRUCT  # TCP_SKB_MIN_TRUESIZE = 2,304: the smallest sk_rcvbuf
SKB_HEAD_OVERHEAD = 379  # headroom + IP/UDP headers + skb_shared_info, as measured
SKB_SMALL_HEAD = 576  # the small-head cache (Linux >= 6.3)
SKB_PAGED_FROM = 16_384  # heads at least this big go to page fragments instead
SKB_PAGED_OVERHEAD = 832  # linear part of a paged skb

def skb_truesize(payload: int) -> int:
    """Bytes a UDP datagram of ``payload`` bytes is charged in the receive buffer (see above)."""
    need = payload + SKB_HEAD_OVERHEAD
    if need <= SKB_SMALL_HEAD:
        return SKB_SMALL_HEAD + SKB_STRUCT
    if need < SKB_PAGED_FROM:
        return (1 << (need - 1).bit_length()) + SKB_STRUCT
    return payload + SKB_PAGED_OVERHEAD


def effective_rcvbuf(so_rcvbuf: int | None, rmem_max: int = RMEM_MAX) -> int:
    """``sk_rcvbuf`` for a ``SO_RCVBUF`` request (None: never set → ``rmem_default``), on a
    kernel whose ``net.core.rmem_max`` is ``rmem_max``."""
    if so_rcvbuf is None:
        return RMEM_DEFAULT
    if so_rcvbuf < 0 or rmem_max < 0:
        raise ValueError("rcvbuf and rmem_max must not be negative")
    return max(2 * min(so_rcvbuf, rmem_max, SO_RCVBUF_CAP), SOCK_MIN_RCVBUF)


def reuseport_index(src: Addr, sockets: int, seed: int = 0) -> int:
    """Which socket of a reuseport group takes datagrams from ``src`` (stable for a seed)."""
    h = zlib.crc32(f"{src[0]}|{src[1]}".encode("latin-1"), seed & 0xFFFFFFFF)
    return (h * sockets) >> 32


def first_line(data: bytes, limit: int = 80) -> str:
    """The datagram's first line, for logs and panels (no parsing, never fails)."""
    end = data.find(b"\r\n")
    if end < 0 or end > limit:
        end = min(len(data), limit)
    text = data[:end].decode("latin-1")
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")[:limit]


@dataclass(slots=True)
class Skb:
    """One queued datagram, what it is charged, and its first line (for events)."""

    dgram: Datagram
    charge: int
    summary: str = ""


class SimSocket:
    """A UDP socket's receive queue (bounded in bytes) and its wait-queue of sleeping workers.

    ``waiters`` is kept in wake-up order: the worker that the next datagram wakes comes first.
    ``rmem`` is ``sk_rmem_alloc``: the queued datagrams' charges plus ``held``, the bytes of
    datagrams already read that ``udp_rmem_release`` has not given back yet (see above).
    """

    __slots__ = ("index", "rcvbuf", "queue", "rmem", "held", "reader", "drops", "waiters", "head", "owner")

    def __init__(self, index: int, rcvbuf: int, *, head: bool = False) -> None:
        self.index = index
        self.rcvbuf = rcvbuf
        self.queue: deque[Skb] = deque()
        self.rmem = 0  # sk_rmem_alloc: bytes charged for the queued skbs, plus the held ones
        self.held = 0  # forward_deficit: bytes read but not released yet
        self.reader = 0  # datagrams in the reader's queue (the front of ``queue``)
        self.drops = 0  # RcvbufErrors
        self.waiters: deque[int] = deque()
        self.head = head  # sleepers join the head of the wait-queue (non-exclusive waiters, lifo)
        self.owner: int | None = None  # reuseport: the worker that bound this socket

    @property
    def threshold(self) -> int:
        """``forward_threshold``: freed bytes are given back in batches of at least this many."""
        return self.rcvbuf >> 2

    @property
    def queued_bytes(self) -> int:
        return self.rmem - self.held

    def fits(self, charge: int) -> bool:
        return self.rmem + charge <= self.rcvbuf or not self.queue

    def enqueue(self, skb: Skb) -> bool:
        """Queue a datagram, or count a drop when it does not fit. Returns whether it was queued."""
        if self.rmem + skb.charge <= self.rcvbuf or not self.queue:
            self.queue.append(skb)
            self.rmem += skb.charge
            return True
        self.drops += 1
        return False

    def dequeue(self) -> Skb | None:
        """A reader takes the first datagram; its bytes join ``held``, given back (``rmem``
        lowered) once they reach ``threshold`` or the reader's queue is empty."""
        if not self.queue:
            return None
        if not self.reader:  # the reader's queue is empty: splice in all that is queued
            self.reader = len(self.queue)
        skb = self.queue.popleft()
        self.reader -= 1
        self.held += skb.charge
        if self.held >= self.threshold or not self.reader:
            self.rmem -= self.held
            self.held = 0
        return skb

    def add_waiter(self, worker: int) -> str:
        """A worker blocks. Returns where it joined: "tail" (exclusive) or "head"."""
        if self.head:
            self.waiters.appendleft(worker)
            return "head"
        self.waiters.append(worker)
        return "tail"

    def remove_waiter(self, worker: int) -> bool:
        try:
            self.waiters.remove(worker)
        except ValueError:
            return False
        return True


class Kernel:
    """The sockets of one server and the wake-up policy that links them to the workers."""

    def __init__(self, policy: str = FIFO, *, rcvbuf: int = RMEM_DEFAULT, workers: int = 1, seed: int = 0) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown wake-up policy {policy!r} (choose from {', '.join(POLICIES)})")
        self.policy = policy
        self.rcvbuf = rcvbuf
        self.seed = seed
        count = workers if policy == REUSEPORT else 1
        self.sockets = [SimSocket(i, rcvbuf, head=policy in (LIFO, WAKE_ALL)) for i in range(count)]
        self._bound: dict[int, SimSocket] = {}

    def bind(self, worker: int) -> SimSocket:
        """The socket a worker reads: the shared one, or (reuseport) the next unbound one."""
        if self.policy != REUSEPORT:
            return self.sockets[0]
        sock = self.sockets[len(self._bound)]
        sock.owner = worker
        self._bound[worker] = sock
        return sock

    def socket_for(self, src: Addr) -> SimSocket:
        """The socket an arriving datagram from ``src`` lands in."""
        if len(self.sockets) == 1:
            return self.sockets[0]
        return self.sockets[reuseport_index(src, len(self.sockets), self.seed)]

    def to_wake(self, sock: SimSocket) -> list[int]:
        """Take the sleepers a datagram arrival wakes off the wait-queue, head first (wake-all:
        all of them, the most recent sleeper first; the others: the first one)."""
        if not sock.waiters:
            return []
        if self.policy == WAKE_ALL:
            woken = list(sock.waiters)
            sock.waiters.clear()
            return woken
        return [sock.waiters.popleft()]

    @property
    def drops(self) -> int:
        return sum(s.drops for s in self.sockets)
