"""The cfg functions sipsim models, one file per Kamailio module (plus the core's commands).

Importing this package registers every function in :data:`sipsim.routing.functions.REGISTRY`.
Each handler is a generator: it yields the engine's events (``yield from sl_send_reply(...)``) or
one event of its own saying what it did, and returns the function's return code with Kamailio's
meaning (> 0 true, < 0 false, 0 stops the script).
"""

from sipsim.routing.modules import (  # noqa: F401
    checks,  # noqa: F401
    core,
    registrar,
    rr,
    sl,
    textops,
    xlog,
)
