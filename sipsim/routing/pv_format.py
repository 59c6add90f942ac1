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

Where a variable ends is :func:`~sipsim.routing.pv_base.scan_pv`'s answer (``parse_pv`` uses it too,
for a variable given as an index); this module splits the text and resolves each variable.
"""

from __future__ import annotations

from sipsim.routing import pv
from sipsim.routing.pv_base import PvError, PvSpec, scan_pv, spot

Part = str | PvSpec


def _resolve(s: str, i: int, j: int) -> PvSpec:
    """parse_pv on ``s[i:j]``; a short name glued to letters, digits, ``_``, ``.`` or ``?`` gets a
    hint: the known name it starts with and the ``$(name)`` form that ends it."""
    text = s[i:j]
    try:
        return pv.parse_pv(text)
    except PvError as exc:
        if text.startswith("$(") or "(" in text:
            raise PvError(f"{exc} (in {spot(s, i, j)})") from None
        name = text[1:]
        for k in range(len(name) - 1, 0, -1):
            if name[:k] in pv.known_names_set():
                raise PvError(
                    f"{text!r} in {spot(s, i, j)} is not ${name[:k]} followed by {name[k:]!r}: Kamailio reads "
                    f"letters, digits, '_', '.' and '?' after '$' as part of the name, finds no "
                    f"pseudo-variable {text} and refuses to start; write $({name[:k]}){name[k:]}") from None
        raise PvError(f"{exc} (in {spot(s, i, j)})") from None


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
