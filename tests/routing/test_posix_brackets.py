"""POSIX bracket expressions (sipsim.routing.regex) against the real Kamailio 5.6.3.

``cfgs/posix_brackets.cfg``: ``x\\\\[^a]b`` is an escaped backslash followed by a negated list,
which with ``REG_NEWLINE`` (search_body) does not match a line feed but with ``=~`` does;
``[\\d]`` is a backslash or a ``d`` (not a digit), ``[\\]]`` a backslash then ``]``, ``[^\\]``
anything but a backslash.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff
from sipsim.routing.regex import compile_posix

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFGS = Path(__file__).parent / "cfgs"


def _message(user: str, body: str) -> bytes:
    lines = [f"MESSAGE sip:{user}@192.0.2.9 SIP/2.0", f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{user}",
             "Max-Forwards: 70", "To: <sip:bob@biloxi.com>", "From: <sip:alice@atlanta.com>;tag=1",
             f"Call-ID: {user}", "CSeq: 1 MESSAGE", "Content-Type: text/plain", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def test_bracket_expressions_as_in_kamailio(isolated_network: None) -> None:
    need_tool("kamailio")
    path = CFGS / "posix_brackets.cfg"
    data = [(_message("lf", "x\\\nb"), crafted.UA), (_message("c", "x\\cb y\\] zaz z\\\\z"), crafted.UA),
            (_message("q", "y] z\\z"), crafted.UA)]
    seen_k, seen_s = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    bad = [kamdiff.describe(f"message {i}", k, s)
           for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)) if not kamdiff.agree(k, s)]
    assert not bad, "\n".join(bad)
    assert [k.logs for k in seen_k] == [["lf abCdEfg"], ["c AbCdEFG"], ["q abCdEfg"]]


def test_translation() -> None:
    """Without Kamailio: the same cases, and lists the old translation already handled."""
    assert compile_posix(r"x\\[^a]b", True).search("x\\\nb") is None
    assert compile_posix(r"x\\[^a]b", False).search("x\\\nb") is not None
    assert compile_posix(r"q[\d]").search("q\\") and not compile_posix(r"q[\d]").search("q5")
    assert compile_posix(r"^[^]a]+$", True).fullmatch("b]c") is None  # ] is a member of the list
    assert compile_posix(r"^[^]a]+$", True).search("bcd")
    assert compile_posix(r"[[:digit:]]+[[:space:]]", True).search("ab 12 ")
    with pytest.raises(ValueError):
        compile_posix("a[b")
    with pytest.raises(ValueError):
        compile_posix("[[:nope:]]")


def test_escapes_outside_brackets_as_in_kamailio(isolated_network: None) -> None:
    """``cfgs/posix_escapes.cfg``: GNU operators (``\\w \\W \\s \\< \\> \\```), back-references, and
    any other escaped character as itself -- under ``=~``'s REG_ICASE an escaped lower-case letter
    never matches (``a\\d`` is neither a digit nor a ``d``), an upper-case one matches both cases;
    ``\\w`` is ASCII only (``é`` is no word character in Kamailio's C locale)."""
    need_tool("kamailio")
    path = CFGS / "posix_escapes.cfg"
    data = [(_message("e", "x"), crafted.UA)]
    seen_k, seen_s = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    assert [k.logs for k in seen_k] == [["e abCDEFgHiJklmNOPq"]]
    assert [s.logs for s in seen_s] == [k.logs for k in seen_k]


def test_a_dash_as_a_range_end_is_no_python_set_operation() -> None:
    """``[+--]`` is the range ``+`` to ``-`` (glibc matches ``,``); Python would read a bare ``--``
    as a set operation to come and warn (a traceback under ``-W error``)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rx = compile_posix("[+--]", True)
        assert rx.search(",") and rx.search("-") and not rx.search("a")
        assert compile_posix("[a-]").search("-") and compile_posix("[-a]").search("-")
        assert not compile_posix("[-a]").search("b") and compile_posix("x[a-c-]").search("x-")


def test_escapes_without_icase() -> None:
    """textops' subst() without the i flag: glibc reads ``\\d`` as a plain ``d`` (checked with
    regcomp); Python's ``\\d`` (a digit), ``\\A`` and ``\\0`` never leak through."""
    assert compile_posix(r"a\d", icase=False).search("xad") and not compile_posix(r"a\d", icase=False).search("a5")
    assert compile_posix(r"a\Z", icase=False).search("aZ") and not compile_posix(r"a\Z", icase=False).search("az")
    assert compile_posix(r"\0", icase=False).search("0")
    assert compile_posix(r"a\W", True).search("a\n") and compile_posix(r"a\S", True).search("a\n") is None
