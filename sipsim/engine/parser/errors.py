"""Parse errors carry a reason a learner can read and the offset where parsing stopped."""

from __future__ import annotations


class ParseError(ValueError):
    """A grammar element could not be parsed. ``offset`` is a byte offset into ``buf`` (or -1)."""

    def __init__(self, reason: str, offset: int = -1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
