"""The sans-I/O engine: what a Kamailio-style server does with a datagram after ``recvfrom`` returns.

Nothing in this package touches a socket, a clock or a screen. Workers are generators
(:func:`sipsim.engine.udp_server.udp_rcv_loop`) that *yield* what they want from the kernel
(:class:`~sipsim.engine.events.Recv`, :class:`~sipsim.engine.events.Send`) and one immutable
:class:`~sipsim.engine.events.StepEvent` per step. A driver — the simulated kernel
(``kernel_queue.py``), real forked workers (``sipsim.real``) or the in-memory driver used by
``sipsim trace`` and the tests (``driver.py``) — fulfils the syscalls and records the events.
"""
