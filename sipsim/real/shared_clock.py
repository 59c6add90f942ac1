"""sl's ``sl_timeout`` shared by forked workers, as Kamailio keeps it in shared memory.

One 8-byte float in an anonymous ``MAP_SHARED`` mapping made by the attendant before it forks
(as ``SharedStats``): the worker that sends a stateless reply writes it, the worker that receives
the ACK reads it. An aligned 8-byte store is never seen torn; a race between two replies leaves
one of two times two seconds ahead, which is all the filter needs.
"""

from __future__ import annotations

import mmap
import struct

from sipsim.engine.sl_timeout import SlTimeout

_D = struct.Struct("=d")


class SharedSlTimeout(SlTimeout):
    """The value lives in the mapping, not in the instance (``SlTimeout``'s own field is unused)."""

    def __init__(self) -> None:  # (no super().__init__(): there is no instance field to set)
        self._map = mmap.mmap(-1, _D.size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self.set(float("-inf"))

    def get(self) -> float:
        return _D.unpack_from(self._map, 0)[0]

    def set(self, until: float) -> None:
        _D.pack_into(self._map, 0, until)
