"""POSIX extended regular expressions, as Kamailio compiles them for ``=~`` (``regcomp`` with
``REG_EXTENDED|REG_NOSUB|REG_ICASE``), run with Python's ``re``.

Only the truth of a match matters in a script (``REG_NOSUB``), so POSIX's leftmost-longest rule
and Python's leftmost-first rule agree. Bracket classes such as ``[[:digit:]]`` are translated.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\r\n\v\f", "blank": r" \t", "xdigit": "0-9A-Fa-f", "punct": r"!-/:-@\[-`{-~",
    "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e",
}


def _translate(pattern: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in _CLASSES:
            raise ValueError(f"unknown character class [:{name}:]")
        return _CLASSES[name]

    return re.sub(r"\[:([a-z]+):\]", repl, pattern)


@lru_cache(maxsize=256)
def compile_posix(pattern: str) -> re.Pattern[str]:
    """Compile a POSIX ERE, case-insensitive. Raises ValueError for a bad pattern."""
    try:
        return re.compile(_translate(pattern), re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise ValueError(str(exc)) from None


def search(pattern: str, text: str) -> bool:
    return compile_posix(pattern).search(text) is not None
