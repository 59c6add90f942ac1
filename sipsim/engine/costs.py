"""What every step of the simulated worker costs in virtual time: the simulator's defaults.

Pipeline costs are the engine's own, measured on the development machine (Python 3.11, 2 shared
cores) by ``bench/simulate.py --calibrate``: it drives ``udp_rcv_loop`` over the RFC 3261 §24 flow
(REGISTER, INVITE, 180, 200) 3,000 times per profile and takes, for each step name, the median wall
time from the previous yield to the one producing that step's event — the work done for that step.
Medians in µs (ser / kamailio): recvfrom 3.2 / 3.0, udp_rcv_loop 1.5 / 1.4, receive_msg 4.5 / 4.0,
parse_msg 25.0 / 23.1, parse_headers – / 47.1, exec_pre_script_cb 4.7 / 4.1, receive_msg.sanity
1.8 / 3.1, request_route 1.8 / 2.0, mf_process_maxfwd_header 27.5 / 8.9, rfc_checks 73.1 / –,
sanity_check – / 33.3, check_self 7.5 / 6.5, save 19.6 / 24.7, lookup 8.0 / 6.8, forward_request
44.6 / 35.5, sl_send_reply 33.5 / 28.0, forward_reply 82.3 / 12.4, exec_post_script_cb 3.3 / 2.9,
free_sip_msg 2.4 / 2.3 — 171 / 148 µs per datagram (``DEFAULT_COSTS``). The same script measured the
kernel side in a private network namespace over loopback: ``sendto`` of 500 bytes 3.9-4.5 µs,
``recvfrom`` of a queued datagram 2.1-2.4 µs, and a datagram sent to a process blocked in
``recvfrom`` wakes it 36-65 µs later (medians of two runs on a loaded machine; p10 24 µs, p90
123 µs): we charge ``try_to_wake_up`` 45 µs. Steps not in the table (e.g. a routing script's own) cost
``DEFAULT_STEP_COST`` (5 µs).

A woken worker that finds the queue empty (a loser of a ``wake-all`` herd, or a spurious FIFO
wake-up) spends a ``context_switch`` onto its CPU and an empty pass of ``recvfrom`` before it
sleeps again. Both measured by ``bench/ctxswitch.c`` (``bench/simulate.py --calibrate`` runs it;
9 runs of 20,000, medians, two runs, Linux 6.18, 2 shared cores, a private network namespace):
two processes pinned to one CPU passing a byte back and forth over two pipes take 5.10-5.19 µs a
round trip, of which the four ``write``/``read`` calls take 1.40 µs (timed alone, without a
switch) — 1.86-1.89 µs per context switch, lmbench's ``lat_ctx`` method; ``recvfrom(MSG_DONTWAIT)``
on an empty UDP socket returns ``EAGAIN`` in 0.29 µs. We charge ``context_switch`` 1.9 µs and
``sys_recvfrom_empty`` 0.3 µs: 2.2 µs of CPU per wasted wake-up, taken from whoever else wanted
that CPU.

A scenario overrides any of them by name (``[costs]``, kernel ones included); ``simulation.Runner``
multiplies the pipeline's by the worker's speed factor, and every cost by the jitter.
"""

from __future__ import annotations

_US = 1e-6
DEFAULT_STEP_COST = 5 * _US
KERNEL_COSTS = {"try_to_wake_up": 45 * _US, "sys_recvfrom": 2.2 * _US, "sys_sendto": 4.2 * _US,
                "context_switch": 1.9 * _US, "sys_recvfrom_empty": 0.3 * _US}
_SER_US = {"recvfrom": 3.2, "udp_rcv_loop": 1.5, "receive_msg": 4.5, "parse_msg": 25.0, "exec_pre_script_cb": 4.7,
           "receive_msg.sanity": 1.8, "request_route": 1.8, "mf_process_maxfwd_header": 27.5, "rfc_checks": 73.1,
           "check_self": 7.5, "save": 19.6, "lookup": 8.0, "forward_request": 44.6, "sl_send_reply": 33.5,
           "forward_reply": 82.3, "exec_post_script_cb": 3.3, "free_sip_msg": 2.4,
           "parse_headers": 47.1, "sanity_check": 33.3}  # (the last two: kamailio's, for cfg scripts)
_KAMAILIO_US = {"recvfrom": 3.0, "udp_rcv_loop": 1.4, "receive_msg": 4.0, "parse_msg": 23.1, "parse_headers": 47.1,
                "receive_msg.sanity": 3.1, "exec_pre_script_cb": 4.1, "request_route": 2.0,
                "mf_process_maxfwd_header": 8.9, "sanity_check": 33.3, "check_self": 6.5, "save": 24.7,
                "lookup": 6.8, "forward_request": 35.5, "sl_send_reply": 28.0, "forward_reply": 12.4,
                "exec_post_script_cb": 2.9, "free_sip_msg": 2.3, "rfc_checks": 73.1}
DEFAULT_COSTS: dict[str, dict[str, float]] = {
    "ser": {k: v * _US for k, v in _SER_US.items()} | KERNEL_COSTS,
    "kamailio": {k: v * _US for k, v in _KAMAILIO_US.items()} | KERNEL_COSTS,
}
