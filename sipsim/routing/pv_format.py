"""Format strings (Kamailio's ``pv_parse_format``): the text of ``xlog``, ``sl_send_reply``'s reason,
``append_hf`` ... with pseudo-variables in it, split once at load time.

The rules are Kamailio 5.6's, measured against the binary (tests/routing/test_pv_format.py):

* ``$$`` is a literal ``$`` (``"[$$rU]"`` prints ``[$rU]``);
* any other ``$`` starts a pseudo-variable, and a ``$`` that starts none (``"$ alone"``, ``"a$"``)
  is an error that stops Kamailio at start-up — there is no "literal ``$``" by accident;
* the name after ``$`` runs over every letter, digit, ``_``, ``.`` and ``?``: ``"$si."``,
  ``"$sia"``, ``"$si_"`` name the unknown variables ``si.``, ``sia``, ``si_`` (an error); any other
  character ends it (``"$si:"``, ``"$ru;x"``, ``"$si-"`` are fine). To put one of those right
  after a short name, write the long form ``$(si).``;
* ``(`` right after the name opens its parameter (``$si(x)`` is an error: ``$si`` takes none);
  ``$(...)`` holds the name, its parameter, an index ``[n]``, ``[*]`` or ``[$var(i)]`` and
  transformations ``{...}``; after ``$(...)``, ``$var(x)`` or ``$hdr(X)`` anything may follow.
"""

from __future__ import annotations

from sipsim.routing import pv
from sipsim.routing.pv import PvError, PvSpec

Part = str | PvSpec

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.?")


def _spot(s: str, i: int, j: int) -> str:
    """The format string with the faulty part marked: ``"from >>$si.<<"``."""
    return repr(s[:i] + ">>" + s[i:j] + "<<" + s[j:])


def scan_pv(s: str, i: int) -> int:
    """Where the pseudo-variable that starts at ``s[i] == "$"`` ends (Kamailio's ``pv_parse_spec2``
    scan). Raises PvError when no pseudo-variable can start or end there."""
    n = len(s)
    j = i + 1
    paren = j < n and s[j] == "("
    if paren:
        j += 1
    start = j
    while j < n and s[j] in NAME_CHARS:
        j += 1
    if j == start:
        if not paren:
            raise PvError(f"a '$' that starts no pseudo-variable in {_spot(s, i, i + 1)}: write $$ for a "
                          "literal '$' (Kamailio refuses a lone '$' at start-up)")
        raise PvError(f"a pseudo-variable without a name in {_spot(s, i, j + 1)}")
    if j < n and s[j] == "(":
        j = _close(s, j, "(", ")")
        if j < 0:
            raise PvError(f"the parameter's '(' is not closed in {_spot(s, i, n)}")
    if not paren:
        return j
    if j < n and s[j] == "[":
        k = s.find("]", j)
        if k < 0:
            raise PvError(f"the index's '[' is not closed in {_spot(s, i, n)}")
        j = k + 1
    while j < n and s[j] == "{":
        j = _close(s, j, "{", "}")
        if j < 0:
            raise PvError(f"a transformation's '{{' is not closed in {_spot(s, i, n)}")
    if j >= n or s[j] != ")":
        raise PvError(f"the '$(' is not closed where it should be in {_spot(s, i, min(j + 1, n))}: "
                      "write $(name(param)[index])")
    return j + 1


def _close(s: str, j: int, open_: str, close: str) -> int:
    depth = 0
    while j < len(s):
        if s[j] == open_:
            depth += 1
        elif s[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _resolve(s: str, i: int, j: int) -> PvSpec:
    """parse_pv on ``s[i:j]``; a short name glued to letters, digits, ``_``, ``.`` or ``?`` gets a
    hint: the known name it starts with and the ``$(name)`` form that ends it."""
    text = s[i:j]
    try:
        return pv.parse_pv(text)
    except PvError as exc:
        if text.startswith("$(") or "(" in text:
            raise PvError(f"{exc} (in {_spot(s, i, j)})") from None
        name = text[1:]
        for k in range(len(name) - 1, 0, -1):
            if name[:k] in pv.known_names_set():
                raise PvError(
                    f"{text!r} in {_spot(s, i, j)} is not ${name[:k]} followed by {name[k:]!r}: Kamailio reads "
                    f"letters, digits, '_', '.' and '?' after '$' as part of the name, finds no "
                    f"pseudo-variable {text} and refuses to start; write $({name[:k]}){name[k:]}") from None
        raise PvError(f"{exc} (in {_spot(s, i, j)})") from None


def parse_format(s: str) -> list[Part]:
    """Split ``"ru=$ru from $si"`` into literal text and pseudo-variables. Raises PvError."""
    parts: list[Part] = []
    buf: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c != "$":
            k = s.find("$", i)
            k = n if k < 0 else k
            buf.append(s[i:k])
            i = k
            continue
        if i + 1 < n and s[i + 1] == "$":  # "$$": a literal "$"
            buf.append("$")
            i += 2
            continue
        j = scan_pv(s, i)
        spec = _resolve(s, i, j)
        if buf:
            parts.append("".join(buf))
            buf = []
        parts.append(spec)
        i = j
    if buf:
        parts.append("".join(buf))
    return parts


def expand(env: pv.Env, parts: list[Part]) -> str:
    """The text of a format string for one message. A variable whose read fails (an index that is
    not a number) prints nothing, as in Kamailio; ``$null`` prints ``<null>``."""
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        else:
            if p.index_pv is None or not pv.read_fails(env, p):
                out.append(pv.to_text(p.get(env, p)))
    return "".join(out)
