"""Logging for the live server: one line per record on stderr, written with a single ``write``.

Forked workers share the attendant's stderr. A line written with one ``write(2)`` call of less
than ``PIPE_BUF`` bytes is never interleaved with another process's line, so each record is
built completely and written at once (the ``logging`` module would work too, but costs several
times more per message, and the per-message line is on the hot path).

Format: ``2026-11-27T10:00:00.123 INFO [pid] text`` — time, level, the process id (as Kamailio's
log prefix has it), text. Control characters from the network are replaced before they reach a
terminal (see :func:`printable`).
"""

from __future__ import annotations

import os
import time

DEBUG, INFO, NOTICE, WARNING, ERROR = 10, 20, 25, 30, 40
LEVELS = {"debug": DEBUG, "info": INFO, "notice": NOTICE, "warning": WARNING, "error": ERROR}
_NAMES = {DEBUG: "DEBUG", INFO: "INFO", NOTICE: "NOTICE", WARNING: "WARNING", ERROR: "ERROR"}

# bytes 0x20-0x7e stay, everything else becomes '?': a crafted datagram cannot move the cursor
_PRINTABLE = bytes(b if 0x20 <= b < 0x7F else 0x3F for b in range(256))


def printable(data: bytes, limit: int = 100) -> str:
    return data[:limit].translate(_PRINTABLE).decode("ascii")


# the same for text that may carry bytes from the network (a step's narration quotes the message)
_CONTROLS = {c: "?" for c in [*range(0x20), 0x7F]}


def printable_text(text: str, limit: int = 300) -> str:
    return text[:limit].translate(_CONTROLS)


class Log:
    """A level threshold and a writer; one per process (re-created after fork for the pid)."""

    def __init__(self, level: int = INFO, fd: int = 2) -> None:
        self.level = level
        self.fd = fd
        self.pid = os.getpid()
        self._sec = -1
        self._stamp = ""

    def enabled(self, level: int) -> bool:
        return level >= self.level

    def __call__(self, level: int, text: str) -> None:
        if level < self.level:
            return
        now = time.time()
        sec = int(now)
        if sec != self._sec:
            self._sec = sec
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(sec))
        line = f"{self._stamp}.{int((now - sec) * 1000):03d} {_NAMES.get(level, level)} [{self.pid}] {text}\n"
        data = line.encode("utf-8", "replace")
        try:
            os.write(self.fd, data)
        except (BlockingIOError, BrokenPipeError, InterruptedError, OSError):
            pass  # a stalled or closed stderr must not stop the server

    def info(self, text: str) -> None:
        self(INFO, text)

    def notice(self, text: str) -> None:
        self(NOTICE, text)

    def warning(self, text: str) -> None:
        self(WARNING, text)

    def error(self, text: str) -> None:
        self(ERROR, text)

    def debug(self, text: str) -> None:
        self(DEBUG, text)
