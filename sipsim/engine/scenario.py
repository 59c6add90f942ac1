'''Scenarios: what the simulated server is, who talks to it, and what arrives when (TOML).

One scenario file drives ``sipsim simulate``, the TUI and the lessons alike; the shipped ones live
in ``sipsim/scenarios/`` (``list_scenarios()``), and any ``.toml`` file works too. Files are read
with ``tomllib``; every key is checked, so a typo is an error with the key's name, never ignored.
A commented example with every key (all are optional)::

    name = "my-scenario"
    description = "one line for the scenario list"
    workers = 4                 # udp_rcv_loop processes (Kamailio's `children`)
    profile = "ser"             # "ser" (the seed's era) or "kamailio" (5.6)
    policy = "fifo"             # fifo | wake-all | reuseport | lifo (see kernel_queue.py)
    rcvbuf = 65536              # SO_RCVBUF in bytes; the kernel caps it at rmem_max, then doubles
                                # it. Omit: rmem_default (212992)
    rmem_max = 4194304          # net.core.rmem_max, the cap on SO_RCVBUF (default: stock 212992)
    cpus = 2                    # CPUs of the machine (default: one per worker)
    seed = 7                    # seeds start order, jitter and Poisson arrivals
    jitter = 0.1                # each step cost is scaled by uniform(1-j, 1+j)
    timeslice = 0.0015          # CPU slice when workers wait for a CPU (default: Linux's
                                # sched_base_slice, 0.75 ms * (1 + floor(log2(min(cpus, 8)))))
    start_order = [1, 0, 2, 3]  # the order workers start and first sleep (default: seeded shuffle)
    start_gap = 0.0005          # seconds between two worker starts (fork)
    wait_for_workers = true     # the arrival streams wait until every worker has slept once: if
                                # the last one sleeps after the first `time`, every stream moves
                                # later by the difference (e.g. --workers 32: 31 starts take 15.5 ms)
    latency = 0.0001            # one-way network delay between the peers and the proxy
    until = 10.0                # stop the simulation at this virtual time (default: when idle)
    speeds = [1, 1, 1, 20]      # per-worker slowness factor (or a table: [speeds] 3 = 20)

    [costs]                     # virtual seconds per step; see simulation.DEFAULT_COSTS
    parse_msg = 30e-6
    try_to_wake_up = 60e-6      # the kernel side has costs too: sys_recvfrom, sys_sendto,
                                #   context_switch, sys_recvfrom_empty (a wasted wake-up)

    [proxy]
    listen = "127.0.0.1:5060"
    advertise = "proxy.example"     # name in our Via (optional)
    aliases = ["sipsim.test"]       # other names of this proxy (R-URI "myself" checks)
    relay = true                    # forward requests for other domains (default route)
    route = "my.cfg"                # a routing script instead of the default route
    check_via = false
    add_local_rport = false

    [hosts]                         # the virtual network's DNS (names otherwise do not resolve)
    "biloxi.example" = "192.0.2.4"

    [[peers]]                       # a UAS that registers bob, then answers calls
    type = "uas"                    # uas | uac | ua (registers only); options: peers.py
    name = "bob"
    address = "127.0.0.3:5060"
    aor = "bob"

    [[peers]]
    type = "uac"
    name = "alice"
    address = "127.0.0.2:5060"
    call = "bob"
    start = 0.05

    [[arrivals]]                    # datagrams from nowhere in particular (no peer behind them)
    label = "pings"                 # shown in the events' detail ("stream")
    time = 0.02                     # first arrival
    src = ["192.0.2.10:5060", "192.0.2.11:5070"]   # cycled
    text = """
    OPTIONS sip:127.0.0.1 SIP/2.0
    Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-{n}
    ...
    """                             # lone LF become CRLF; {n} is the datagram's number (1-based),
                                    # {src_ip} and {src_port} the address it is sent from
    # file = "rfc3261/s24_2_F1_INVITE.dat"  or  files = [...]  or  glob = "rfc4475/*.dat"
    count = 24                      # datagrams (messages are cycled); default: one per message
    spacing = 0.02                  # seconds between them (0: all at once — a burst)
    # rate = 5000                   # ... or datagrams per second
    # poisson = true                # with rate: exponential gaps (seeded)
    raw = false                     # true: keep the text's line ends as written

    [[pauses]]                      # SIGSTOP the workers for a while (the proxy stops answering)
    start = 0.1
    end = 2.5
    workers = [0, 1]                # default: all

File names are looked up relative to the scenario file, then the package data (``sipsim/data``),
then the repository's ``tests/data`` (in a checkout), then the current directory.

The code is in two modules, one job each — ``scenario_model.py`` (the frozen ``Scenario`` and its
parts: checks, overrides, arrival streams) and ``scenario_load.py`` (TOML → ``Scenario``, file
look-up, the shipped list) — with their names importable from here, as they always were.
'''

from __future__ import annotations

from sipsim.engine.scenario_check import ScenarioError, parse_addr
from sipsim.engine.scenario_load import (
    PEER_TYPES,
    data_roots,
    from_dict,
    list_scenarios,
    load_router,
    load_scenario,
    normalise_text,
)
from sipsim.engine.scenario_model import DEFAULT_SRC, Arrival, ArrivalSpec, Pause, PeerSpec, ProxySpec, Scenario

__all__ = ["DEFAULT_SRC", "PEER_TYPES", "Arrival", "ArrivalSpec", "Pause", "PeerSpec", "ProxySpec", "Scenario",
           "ScenarioError", "data_roots", "from_dict", "list_scenarios", "load_router", "load_scenario",
           "normalise_text", "parse_addr"]
