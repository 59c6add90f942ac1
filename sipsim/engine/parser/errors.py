"""Parse errors carry a reason a learner can read and the offset where parsing stopped."""

from __future__ import annotations


class ParseError(ValueError):
    """A grammar element could not be parsed. ``offset`` is a byte offset into ``buf`` (or -1)."""

    def __init__(self, reason: str, offset: int = -1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class EndsAtNul(Exception):  # noqa: N818 (a signal, not an error)
    """A header whose Kamailio parser stopped at a NUL byte as at the end of the header (To, a
    Via's sent-by), or at a ',' inside a quoted Via parameter value: ``parsed`` is its value,
    ``at`` the offset of the NUL (the ','), where Kamailio then
    starts the *next* header -- a bad header name for whoever parses further (measured on 5.6.3).
    ``parse_headers`` catches it; it never leaves the parser."""

    def __init__(self, parsed: object, at: int) -> None:
        super().__init__(at)
        self.parsed, self.at = parsed, at
