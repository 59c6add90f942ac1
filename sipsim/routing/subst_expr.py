"""Kamailio's sed-like ``/re/repl/flags`` expressions (core ``re.c``: ``subst_parser``, ``subst_run``),
shared by the cfg preprocessor (``#!subst``, ``#!substdef``, ``#!substdefs``) and textops'
``subst()``, ``subst_body()``, ``subst_uri()`` — Kamailio parses both with the same function, so
sipsim does too, and a learner's expression means the same thing in either place.

How the expression is read:

* its first character is the separator (any but ``\\``);
* the expression ends at the next separator not *preceded* by a backslash (so ``\\/`` is an
  escaped separator, and so is the second character of ``\\\\/``: Kamailio looks one character
  back only). The expression is a POSIX extended one, compiled with ``REG_NEWLINE`` unless the
  ``s`` flag is given, case-sensitive unless the ``i`` flag is given (sipsim.routing.regex);
* the replacement: ``\\0``..``\\9`` (the whole match, a group), ``\\u`` (the R-URI), ``\\n``, ``\\r``,
  ``\\t``, ``\\\\``, ``\\$``; any other ``\\c`` is ``c`` (so ``\\/`` is the separator); ``$...`` is a
  pseudo-variable, read at each match; ``&`` is an ordinary character (not sed's whole match);
* flags: ``g`` (every match), ``i``, ``s``; any other letter is an error.

Running it (:func:`find_matches`): each search starts where the last match ended; ``^`` matches
there only when that match ended with a CR or LF; a match of nothing is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sipsim.routing import pv, pv_format
from sipsim.routing.pv_base import scan_pv
from sipsim.routing.regex import compile_posix

_CHARS = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


@dataclass(frozen=True)
class SubstExpr:
    """A parsed ``/re/repl/flags``: the compiled expression and the replacement's pieces: text
    ``("lit", c)``, a group number, ``"uri"`` or ``("pv", parts)`` (a pseudo-variable)."""

    regex: re.Pattern[str]
    pieces: tuple
    replace_all: bool

    @property
    def has_pv(self) -> bool:
        return any(isinstance(p, tuple) and p[0] == "pv" for p in self.pieces)


def parse_subst(text: str) -> SubstExpr:
    """``subst_parser``. Raises ValueError with the reason Kamailio would log."""
    if len(text) < 3:
        raise ValueError("expression is too short")
    sep = text[0]
    if sep == "\\":
        raise ValueError("invalid separator char '\\'")
    i = 1
    while i < len(text) and not (text[i] == sep and text[i - 1] != "\\"):
        i += 1
    if i >= len(text):
        raise ValueError("no separator found")
    regex_text = text[1:i]
    if len(text) < i + 2:
        raise ValueError("string too short")
    pieces: list = []
    j = i + 1
    while True:
        if j >= len(text):
            raise ValueError("missing separator after the replacement")
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            e = text[j + 1]
            pieces.append(int(e) if e.isdigit() else "uri" if e == "u" else ("lit", _CHARS.get(e, e)))
            j += 2
        elif c == "$":
            try:
                end = scan_pv(text, j)
                pieces.append(("pv", pv_format.parse_format(text[j:end])))
            except pv.PvError as exc:
                raise ValueError(f"bad specifier in the replacement: {exc}") from None
            j = end
        elif c == sep:
            break
        else:
            pieces.append(("lit", c))
            j += 1
    flags = text[j + 1:]
    bad = next((f for f in flags if f not in "igs"), None)
    if bad is not None:
        raise ValueError(f"unknown flag {bad!r}")
    regex = compile_posix(regex_text, "s" not in flags, "i" in flags)
    return SubstExpr(regex, tuple(pieces), "g" in flags)


class EmptyMatch(ValueError):
    """The expression matched an empty string: Kamailio's "Matched string is empty, invalid regexp?"."""


def find_matches(se: SubstExpr, text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """``subst_run``'s loop: (offset of the match's text in ``text``, match) for the first match or,
    with ``g``, each one. ``m.start()``/``m.end()`` are relative to the offset's base (the slice
    searched); raises :class:`EmptyMatch` on a match of nothing (Kamailio then replaces nothing)."""
    pos = 0
    while True:
        if pos == 0 or text[pos - 1] in "\r\n":  # ^ may match where this search starts
            m = se.regex.search(text[pos:])
            base = pos
        else:
            m, base = se.regex.search(text, pos), 0
        if m is None:
            return
        if m.start() == m.end():
            raise EmptyMatch("matched an empty string")
        yield base, m
        pos = base + m.end()
        if not se.replace_all:
            return


def build_replacement(se: SubstExpr, m: re.Match[str], uri: str,
                      expand: Callable[[str], str] | None = None) -> str:
    """``replace_build``: the replacement for one match -- groups, ``uri`` for ``\\u``, and each
    pseudo-variable piece through ``expand`` (the preprocessor, which refuses them, has none)."""
    out: list[str] = []
    for p in se.pieces:
        if isinstance(p, int):
            if p <= se.regex.groups and m.group(p) is not None:
                out.append(m.group(p))
        elif p == "uri":
            out.append(uri)
        elif p[0] == "lit" or expand is None:
            out.append(p[1])
        else:
            out.append(expand(p[1]))
    return "".join(out)
