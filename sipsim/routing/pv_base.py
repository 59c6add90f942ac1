"""The ground floor of the pseudo-variable modules: what a pseudo-variable is, how its text is
delimited, and the readers several of them share.

The family is split by job — :mod:`~sipsim.routing.pv` (the core variables and ``parse_pv``),
:mod:`~sipsim.routing.pv_more` (more of the ``pv`` module's variables) and
:mod:`~sipsim.routing.pv_format` (format strings) — and each imports what they share from here, so
that none imports another in a circle: ``pv_base`` <- ``pv_more`` <- ``pv`` <- ``pv_format``.

The name of a pseudo-variable runs over letters, digits, ``_``, ``.`` and ``?`` (:data:`NAME_CHARS`,
as Kamailio's ``pv_parse_spec2`` scans it); ``(...)`` and ``{...}`` nest (:func:`close`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sipsim.engine.parser.hf import HdrField, HdrType
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_headers
from sipsim.engine.parser.uri import SipUri

Value = int | str | None


class Env(Protocol):
    """What a pseudo-variable needs: the message, the worker context, its variables, $rc, and the
    router (for the server's settings, such as the receiving socket's advertised address)."""

    msg: SipMsg
    ctx: Any
    vars: dict[str, int | str]
    last_rc: int
    router: Any


class PvError(ValueError):
    """A pseudo-variable that cannot be used (unknown, read-only, needs a parameter ...)."""


@dataclass(frozen=True)
class PvSpec:
    text: str  # as written: $ru, $var(x), $(hdr(Via)[1])
    name: str
    param: str | None
    index: str | None  # "1", "-1", "*", "$var(i)" (then index_pv) or None
    get: Callable[[Env, PvSpec], Value]
    set: Callable[[Env, PvSpec, Value], None] | None
    index_pv: PvSpec | None = None  # $(hdr(Via)[$var(i)]): the variable that gives the index

    @property
    def writable(self) -> bool:
        return self.set is not None


# -- the text of a pseudo-variable ---------------------------------------------------------------
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.?")


def close(s: str, j: int, open_: str, close_: str) -> int:
    """Where the bracket opened at ``s[j]`` is closed, nesting counted: the index after its
    ``close_``, or -1 when it never is."""
    depth = 0
    while j < len(s):
        c = s[j]
        if c == open_:
            depth += 1
        elif c == close_:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def spot(s: str, i: int, j: int) -> str:
    """The text with the faulty part marked: ``"from >>$si.<<"``."""
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
            raise PvError(f"a '$' that starts no pseudo-variable in {spot(s, i, i + 1)}: write $$ for a "
                          "literal '$' (Kamailio refuses a lone '$' at start-up)")
        raise PvError(f"a pseudo-variable without a name in {spot(s, i, j + 1)}")
    if j < n and s[j] == "(":
        j = close(s, j, "(", ")")
        if j < 0:
            raise PvError(f"the parameter's '(' is not closed in {spot(s, i, n)}")
    if not paren:
        return j
    if j < n and s[j] == "[":
        k = s.find("]", j)
        if k < 0:
            raise PvError(f"the index's '[' is not closed in {spot(s, i, n)}")
        j = k + 1
    while j < n and s[j] == "{":
        j = close(s, j, "{", "}")
        if j < 0:
            raise PvError(f"a transformation's '{{' is not closed in {spot(s, i, n)}")
    if j >= n or s[j] != ")":
        raise PvError(f"the '$(' is not closed where it should be in {spot(s, i, min(j + 1, n))}: "
                      "write $(name(param)[index])")
    return j + 1


def split_pv(text: str) -> tuple[str, str | None, str | None]:
    """``$(name(param)[index])`` -> (name, param, index) as written; ``$name(param)`` has no index."""
    body = text[1:]
    paren = body.startswith("(")
    if paren:
        if not body.endswith(")"):
            raise PvError(f"{text}: missing ')'")
        body = body[1:-1]
    k = 0
    while k < len(body) and body[k] in NAME_CHARS:
        k += 1
    if k == 0:
        raise PvError(f"{text}: a pseudo-variable needs a name after '$'")
    name, rest = body[:k], body[k:]
    param = index = None
    if rest.startswith("("):
        j = close(rest, 0, "(", ")")
        if j < 0:
            raise PvError(f"{text}: the parameter's '(' is not closed")
        param, rest = rest[1:j - 1].strip(), rest[j:]
    if paren and rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise PvError(f"{text}: the index's '[' is not closed")
        index, rest = rest[1:end], rest[end + 1:]
    if paren and rest.startswith("{"):
        raise PvError(f"{text}: transformations ({{...}}) are not modeled by sipsim")
    if rest:
        raise PvError(f"{text}: unexpected {rest!r} after the name")
    return name, param, index


# -- what several variables read -----------------------------------------------------------------
def raw_body(msg: SipMsg, h: HdrField) -> str:
    """A header's value as Kamailio's pseudo-variables give it: from its first character to the
    end of its line, trailing white space included (``hdr->body`` only loses the CR LF; measured
    with ``$ci``), but NULs right before the line end dropped (measured with 5.6.3 and
    ``{s.len}``: ``a\0\0`` is ``a``, ``a \0`` is ``a ``, ``a \0 \0\t`` keeps its NULs). The ser
    profile gives the trimmed value."""
    if msg.profile_ser:
        return h.body
    text, end = msg.text, h.end
    if text[end - 2:end] == "\r\n":
        end -= 2
    elif text[end - 1:end] == "\n":
        end -= 1
    while end > h.body_start and text[end - 1] == "\0":
        end -= 1
    return text[h.body_start:end]


def header_of(env: Env, spec: PvSpec, htype: HdrType, name: str) -> Value:
    """The first header of this kind, parsing only up to it; $null when absent or not reached."""
    h = first_header(env, spec, htype, name)
    return raw_body(env.msg, h) if h is not None else None


def first_header(env: Env, spec: PvSpec, htype: HdrType, name: str) -> HdrField | None:
    """The first header of this kind, parsing only up to it (Kamailio's ``parse_headers(msg,
    HDR_xxx_F)``): a broken header after it harms nothing. None when absent or not reached."""
    msg = env.msg
    parse_headers(msg, 1 << int(htype))
    for h in msg.headers:
        if h.type == htype:
            return h
    note_unparsed(env, spec, name)
    return None


def note_unparsed(env: Env, spec: PvSpec, name: str, every: bool = False) -> None:
    """When a header error stopped the parse before ``name`` was found, say so to an observer:
    the trace then shows why the variable is $null (lesson 6: Kamailio parses lazily)."""
    err = env.msg.hdr_error
    if err is not None and env.msg.eoh is None and getattr(env.ctx, "tracing", False):
        env.msg.extra.setdefault("pv_notes", []).append(
            f"{spec.text} is $null: " + (f"${spec.name} needs every header parsed, and one is broken ({err})" if every
                                         else f"the headers could not be parsed as far as a {name} header ({err})"))


def uri_part(u: SipUri, part: str) -> Value:
    """A part of a parsed URI as the pv module prints it: ``user`` and ``host`` ($null when empty),
    ``port`` (the default when none is written: Kamailio prints it), ``proto`` (the ``transport``
    parameter as written, ``UDP`` when there is none: ``$rP``/``$oP``) or ``transport`` (the same,
    $null when there is none: ``$dP``)."""
    if part == "user":
        return u.user or None
    if part == "host":
        return u.host or None
    if part == "port":
        return u.port if u.port is not None else default_port(u)
    for name, value in u.params:
        if name.lower() == "transport" and value:
            return value
    return "UDP" if part == "proto" else None


def default_port(u: SipUri) -> int:
    """The port Kamailio 5.6 gives a URI without one: 5061 for ;transport=tls (the last transport
    parameter counts), else 5060 -- a sips: URI included (measured)."""
    return 5061 if (u.last_param("transport") or "").lower() == "tls" else 5060
