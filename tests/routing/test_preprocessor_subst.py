"""The cfg preprocessor's ``#!subst``/``#!substdef``/``#!substdefs`` against the real Kamailio 5.6.3.

Kamailio reads their expression with the parser textops' ``subst()`` uses (core ``subst_parser``)
and runs the rules on every string and pseudo-variable token after them -- never on names or
numbers -- so sipsim does the same with one shared parser (sipsim.routing.subst_expr).
``cfgs/pp_subst.cfg`` holds the cases: a ``\\1`` group, another separator, escaped separators,
the ``g``, ``i`` and ``s`` flags, ``&`` (ordinary) and ``\\u`` in a replacement, ``^`` after a
line feed, a rule's own string rewritten by an earlier rule, a pseudo-variable renamed, a route
name and a number left alone, substdef's raw define value against its rule, adjacent strings
joined before the rules run. Load-time refusals are compared too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool

from routing import crafted, kamdiff
from sipsim.engine.config import Profile, ServerConfig
from sipsim.routing import load_route
from sipsim.routing.errors import CfgError
from sipsim.routing.lexer import Lexer

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFGS = Path(__file__).parent / "cfgs"
HEAD = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\n'
BODY = 'request_route {\n\tsl_send_reply("200", "OK");\n}\n'

#: what 5.6.3 logs for cfgs/pp_subst.cfg (pinned, so that a change of both sides is seen)
EXPECTED = ["1 [bb] abbbc", "2 X_Y X_Y", "3 HI World EARTH", "4 <&> sip:you@kamailio.org", "5 slash/ok cd",
            "6 n\nl SL", "7 qq\nQq\rqq", "8 qq foo", "9 v v", "in route x", "10 n is 77",
            "11 a/b c/d c\\/d 421", "12 at a/b", "13 X_Y [b] HI\\n", "14 [b]"]


def test_subst_directives_as_in_kamailio(isolated_network: None) -> None:
    need_tool("kamailio")
    path = CFGS / "pp_subst.cfg"
    data = [(crafted.request("OPTIONS", "sip:bob@192.0.2.9", n=1), crafted.UA)]
    (k,), (s,) = kamdiff.kamailio_run(path.read_text(), data), kamdiff.sipsim_run(path, data)
    assert kamdiff.agree(k, s), kamdiff.describe("pp_subst.cfg", k, s)
    assert k.logs == EXPECTED


#: name -> (lines before request_route, refused?, words of Kamailio's refusal)
LOAD_CASES: dict[str, tuple[str, bool, str]] = {
    "unknown-flag": ('#!subst "/a/b/x"\n', True, "unknown flag x"),
    "escaped-backslash-before-separator": ('#!subst "/a\\\\\\\\/x/"\n', True, "String too short"),
    "backslash-separator": ('#!subst "\\\\a\\\\b\\\\"\n', True, "invalid separator char"),
    "too-short": ('#!subst "/a"\n', True, "expression is too short"),
    "bad-regex": ('#!subst "/a(/b/"\n', True, "bad regular expression"),
    "unquoted": ("#!subst /a/b/\n", True, "parse error"),
    "empty-define-name": ('#!substdef "//x/"\n', True, "define name too short"),
    "substdef-redefines": ("#!define HX 1\n" + '#!substdef "/HX/x/"\n', True, "already defined: HX"),
    "substdef-regex-name": ('#!substdef "/a.b/x/"\n', False, ""),
    "empty-regex": ('#!subst "//x/"\n', False, ""),
    "single-quotes": ("#!subst '/a/b/'\n", False, ""),
    "inside-a-block": ("", True, "parse error"),
}


@pytest.mark.parametrize("name", list(LOAD_CASES))
def test_load_refusals_as_in_kamailio(name: str, tmp_path: Path, isolated_network: None) -> None:
    need_tool("kamailio")
    pre, refused, words = LOAD_CASES[name]
    script = HEAD + pre + BODY
    if name == "inside-a-block":
        script = HEAD + 'request_route {\n#!subst "/a/b/"\n\tsl_send_reply("200", "OK");\n}\n'
    k_error, s_error = kamdiff.load_errors(script, tmp_path)
    assert bool(k_error) == refused, k_error or "Kamailio started"
    assert words in k_error
    assert (s_error is not None) == refused, str(s_error)


def test_a_pseudo_variable_in_a_rule_is_refused(tmp_path: Path, isolated_network: None) -> None:
    """A known difference (KAMAILIO_DIFFERENCES.md): Kamailio reads ``$rm`` in a preprocessor
    replacement once, at start-up, from the OPTIONS it makes up (``[OPTIONS]``); sipsim refuses
    the rule at load and says why, rather than give another value."""
    need_tool("kamailio")
    script = (HEAD + '#!subst "/RM/[$rm]/"\nrequest_route {\n\txlog("L_INFO", "RM\\n");\n'
              '\tsl_send_reply("200", "OK");\n}\n')
    data = [(crafted.request("OPTIONS", "sip:bob@192.0.2.9", n=1), crafted.UA)]
    (k,) = kamdiff.kamailio_run(script, data)
    assert k.logs == ["[OPTIONS]"]
    path = tmp_path / "pv.cfg"
    path.write_text(script)
    with pytest.raises(CfgError, match="pseudo-variable in the replacement is not modelled"):
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))


def _strings(text: str) -> list[str]:
    return [t.value for t in Lexer().lex_text(text) if t.kind in ("STR", "PVAR")]


def test_the_rules_run_on_strings_and_variables_only() -> None:
    """Without Kamailio: what each kind of token gets (the differential test above is the proof)."""
    toks = Lexer().lex_text('#!subst "/foo/bar/g"\nroute(foo); $var(foo) = "foo" \'foo\' + 0x10;\n')
    assert [(t.kind, t.value) for t in toks if t.kind != "OP"] == [
        ("ID", "route"), ("ID", "foo"), ("PVAR", "$var(bar)"), ("STR", "barbar"), ("NUM", "0x10"), ("EOF", "")]
    # a comment (or a directive) ends a string: the next one is not joined to it
    assert _strings('$var(a) = "x" # c\n"y";\n') == ["$var(a)", "x", "y"]
    # "\1" is not an octal escape (two or three digits are): the rule keeps its back-reference
    assert _strings('#!subst "/(b)/<\\1>/"\n$var(x) = "abc" "\\101";\n') == ["$var(x)", "a<b>cA"]


def test_preprocessor_and_subst_read_an_expression_alike() -> None:
    """The same expression through #!subst and through textops' parser: one function."""
    from sipsim.routing.modules import textops_subst
    from sipsim.routing.subst_expr import parse_subst

    assert textops_subst.parse_subst is parse_subst
    lexed = _strings('#!subst "|(x)\\|(y)|\\2\\|\\1|gi"\n$var(s) = "X|Y x|y";\n')
    assert lexed == ["$var(s)", "Y|X y|x"]


def test_caret_matches_again_after_a_match_ending_in_a_line_feed() -> None:
    """With the ``s`` flag (no REG_NEWLINE) ``^`` still matches where the last match ended with a CR
    or LF: Kamailio 5.6.3 turns ``a\\naz`` into ``XX`` with ``/^a.?/X/gs`` (the next search starts
    after the LF)."""
    from sipsim.routing.subst_expr import build_replacement, find_matches, parse_subst

    se = parse_subst("/^a.?/X/gs")
    text = "a\naz"
    out, pos = [], 0
    for base, m in find_matches(se, text):
        out += [text[pos:base + m.start()], build_replacement(se, m, "")]
        pos = base + m.end()
    assert "".join(out) + text[pos:] == "XX"
