"""Core statistics, named as Kamailio's kex module names them (``src/modules/kex/core_stats.c``).

``rcv_requests``/``rcv_replies`` are counted by a pre-script callback (so a message dropped before
the callbacks is never counted as received — as in Kamailio); the others by the core where the
message is forwarded, dropped or found broken.
"""

from __future__ import annotations

from collections import Counter

CORE_STATS = (
    "rcv_requests",
    "rcv_replies",
    "fwd_requests",
    "fwd_replies",
    "drop_requests",
    "drop_replies",
    "err_requests",
    "err_replies",
    "bad_URIs_rcvd",
    "bad_msg_hdr",
    "unsupported_methods",
)


class CoreStats(Counter):
    """A Counter of the core statistics (plus per-method/per-class extras such as rcv_requests_invite)."""

    def snapshot(self) -> dict[str, int]:
        out = {name: self.get(name, 0) for name in CORE_STATS}
        out.update({k: v for k, v in self.items() if k not in out})
        return out
