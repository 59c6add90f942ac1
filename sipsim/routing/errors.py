"""Errors of the routing engine: every one names the script file, the line and the column.

A broken script must never end in a Python traceback: the lexer, the parser and the checks raise
:class:`CfgError`, which prints as ``file:line:column: message`` (what ``kamailio -c`` reports as
"parse error in config file FILE, line L, column C: ..."), followed by what was expected when the
parser knows it. KEMI scripts raise :class:`KemiError` with the Python file and line.
"""

from __future__ import annotations


class RouteError(ValueError):
    """Base class: a routing script that cannot be loaded (a ValueError, so CLI handlers print it)."""


class CfgError(RouteError):
    """A cfg script error at ``file:line:column``."""

    def __init__(self, message: str, file: str, line: int, column: int, *, expected: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.expected = expected

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class KemiError(RouteError):
    """A KEMI Python script that cannot be loaded (syntax error, missing ksr_request_route ...)."""

    def __init__(self, message: str, file: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"
