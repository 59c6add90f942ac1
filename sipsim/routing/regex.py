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


#: a negated bracket list's opening, not escaped: ``[^`` (``[^]`` keeps its ``]`` as a member)
_NEGATED = re.compile(r"(?<!\\)\[\^(\]?)")


@lru_cache(maxsize=256)
def compile_posix(pattern: str, newline: bool = False, icase: bool = True) -> re.Pattern[str]:
    """Compile a POSIX ERE (case-insensitive unless ``icase`` is False). Raises ValueError for a
    bad pattern.

    ``newline``: Kamailio's ``REG_NEWLINE``, which textops' ``search``, ``replace``, ``subst``...
    compile with: ``.`` and a negated list ``[^...]`` never match a line feed, ``^`` and ``$``
    match at every line's start and end. Without it (``=~``) they match anything and only at the
    string's ends."""
    flags = re.IGNORECASE if icase else 0
    text = _translate(pattern)
    if newline:
        text = _NEGATED.sub(lambda m: "[^\\n" + ("\\]" if m.group(1) else ""), text)
        flags |= re.MULTILINE
    else:
        flags |= re.DOTALL
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise ValueError(str(exc)) from None
    except (OverflowError, RecursionError) as exc:  # a{4294967296}, or thousands of nested groups
        raise ValueError(f"the expression is too large for the matcher ({type(exc).__name__})") from None


def c_string(text: str) -> str:
    """The text as C's ``regexec`` sees it: up to its first NUL."""
    nul = text.find("\0")
    return text if nul < 0 else text[:nul]


def search(pattern: str, text: str) -> bool:
    """``=~``: regexec reads the left side as a C string, up to its first NUL (measured with 5.6.3:
    a Call-ID ``ca\0 `` matches ``^ca$``)."""
    return compile_posix(pattern).search(c_string(text)) is not None
