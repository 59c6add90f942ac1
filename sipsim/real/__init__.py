"""Live mode: the engine's pipeline on a real UDP socket, in real forked workers.

``server`` (the attendant: socket, fork, respawn/shutdown, signals), ``worker`` (the syscall
driver of ``udp_rcv_loop``), ``policy`` (where it may send), ``location`` (SQLite usrloc shared by
the workers), ``observe`` (the observer/step-control channel and its client), ``control`` (the
local control socket behind ``sipsim stats``), ``stats`` (counters in shared memory), ``log``.
"""
