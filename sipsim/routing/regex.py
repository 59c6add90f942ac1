"""POSIX extended regular expressions, as Kamailio compiles them for ``=~`` (``regcomp`` with
``REG_EXTENDED|REG_NOSUB|REG_ICASE``), run with Python's ``re``.

Only the truth of a match matters in a script (``REG_NOSUB``), so POSIX's leftmost-longest rule
and Python's leftmost-first rule agree. Bracket expressions are rewritten for Python, as POSIX
reads them (measured with 5.6.3): a backslash inside one is an ordinary character (``[\\d]`` is
a backslash or a ``d``, ``[^\\]`` anything but a backslash), a ``]`` first in the list is a
member, ``[[:digit:]]`` and the other classes are spelled out. Outside brackets an escape is read
as glibc reads it (``_escape``: GNU operators such as ``\\w``, back-references, else the character
itself), so ``\\\\[^a]`` is an escaped backslash followed by a list and ``\\d`` is no digit.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\r\n\v\f", "blank": r" \t", "xdigit": "0-9A-Fa-f", "punct": r"!-/:-@\[-`{-~",
    "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e",
}


def _literal(c: str) -> str:
    return c if c.isalnum() else "\\" + c


def _bracket(pattern: str, i: int, newline: bool) -> tuple[str, int]:
    """The POSIX bracket expression at ``pattern[i] == '['`` as a Python class, and the index past
    it. With ``REG_NEWLINE`` a negated list never matches a line feed."""
    j = i + 1
    negated = j < len(pattern) and pattern[j] == "^"
    j += negated
    items: list[str] = []
    first = True
    single = False  # the last item is one character, so a "-" after it may make a range
    while True:
        if j >= len(pattern):
            raise ValueError("unmatched [ or [^ (the bracket expression is not closed)")
        c = pattern[j]
        if c == "]" and not first:
            j += 1
            break
        if c == "[" and j + 1 < len(pattern) and pattern[j + 1] in ":=.":
            kind = pattern[j + 1]
            end = pattern.find(kind + "]", j + 2)
            if end < 0:
                raise ValueError(f"unterminated [{kind} in a bracket expression")
            name = pattern[j + 2:end]
            if kind == ":":
                if name not in _CLASSES:
                    raise ValueError(f"unknown character class [:{name}:]")
                items.append(_CLASSES[name])
            else:  # [=c=] and [.c.]: one character here
                items.append(re.escape(name))
            j = end + 2
            single = False
        elif c == "-" and single and j + 1 < len(pattern) and pattern[j + 1] != "]":
            # a range from the last character to the next one (which may be "-" itself: [+--]);
            # only the range's own "-" stays bare, so Python never sees "--" (a set operation to come)
            items.append("-" + _literal(pattern[j + 1]))
            j += 2
            single = False
        else:  # a "-" first or last in the list is itself
            items.append(_literal(c))
            j += 1
            single = True
        first = False
    return "[" + ("^" if negated else "") + "".join(items) + ("\\n" if negated and newline else "") + "]", j


_WORD = "_a-zA-Z0-9"  # glibc's word characters in the C locale (Python's \w would take é too)
_GNU_OPS = {
    "w": f"[{_WORD}]", "W": f"[^{_WORD}]", "s": "[ \\t\\n\\r\\f\\v]", "S": "[^ \\t\\n\\r\\f\\v]",
    "<": f"(?<![{_WORD}])(?=[{_WORD}])", ">": f"(?<=[{_WORD}])(?![{_WORD}])",
    "b": f"(?:(?<![{_WORD}])(?=[{_WORD}])|(?<=[{_WORD}])(?![{_WORD}]))",
    "B": f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))", "`": r"\A", "'": r"\Z",
}


def _escape(c: str, icase: bool) -> str:
    """``\\c`` outside a bracket expression, as glibc's ``regcomp`` reads it in an extended
    expression (measured with 5.6.3 and with regcomp itself): ``\\w \\W \\s \\S \\b \\B \\< \\>``
    and the buffer anchors ``\\` \\'`` are GNU operators, ``\\1``-``\\9`` back-references; any other
    character is itself (``\\d`` is a ``d``, ``\\x41`` an ``x`` then ``41``, ``\\A`` an ``A``). With
    ``REG_ICASE`` (every ``=~``) an escaped lower-case letter never matches (``a\\d`` matches neither
    ``ad`` nor ``aD``) and an escaped upper-case one matches both cases (glibc keeps the escaped
    byte as written but compares it with the case-folded input) — a quirk kept here, since a script
    copied from a Perl-style example meets it."""
    if c in _GNU_OPS:  # (\\W matches a line feed even under REG_NEWLINE: measured with regcomp)
        return _GNU_OPS[c]
    if c in "123456789":
        return "\\" + c
    if icase and "a" <= c <= "z":
        return "(?!)"
    return re.escape(c)


def _translate(pattern: str, newline: bool, icase: bool = True) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(_escape(pattern[i + 1], icase))
            i += 2
        elif c == "[":
            text, i = _bracket(pattern, i, newline)
            out.append(text)
        else:
            out.append(c)
            i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_posix(pattern: str, newline: bool = False, icase: bool = True) -> re.Pattern[str]:
    """Compile a POSIX ERE (case-insensitive unless ``icase`` is False). Raises ValueError for a
    bad pattern.

    ``newline``: Kamailio's ``REG_NEWLINE``, which textops' ``search``, ``replace``, ``subst``...
    compile with: ``.`` and a negated list ``[^...]`` never match a line feed, ``^`` and ``$``
    match at every line's start and end. Without it (``=~``) they match anything and only at the
    string's ends."""
    flags = re.IGNORECASE if icase else 0
    flags |= re.MULTILINE if newline else re.DOTALL
    try:
        return re.compile(_translate(pattern, newline, icase), flags)
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
