"""The parser's fast paths give exactly what its careful readers give.

The kamailio profile reads the first line, Via values and sip: URIs as Kamailio 5.6 does, with a
character-level walk that mirrors Kamailio's C. Each also has a fast path — one regular expression
for the ordinary shape — so that the common message does not pay for the walk. These tests build
thousands of lines from pieces (ordinary and odd: case, tabs, doubled spaces, bare LF, missing
parts, Latin-1 digits, ports out of range, ...) and require the fast path's answer, result or
error, to be the walk's, and the fast path to answer a fair share of them (so the test cannot pass
by never taking it).
"""

from __future__ import annotations

import itertools

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.fline import _FAST_REPLY, _FAST_REQUEST, _first_line_walk, parse_first_line_kamailio
from sipsim.engine.parser.uri import _KAM_FAST_HEAD, _kamailio_head_walk, parse_sip_uri_kamailio
from sipsim.engine.parser.via import fast_vias, parse_via, parse_via_general


def _outcome(fn, *args):  # noqa: ANN001, ANN002, ANN202
    try:
        return repr(fn(*args))
    except ParseError as exc:
        return ("error", exc.reason, exc.offset)


def test_first_line_fast_path_agrees_with_the_walk() -> None:
    sp = [" ", "  ", "\t", ""]
    ends = ["\r\n", "\n", "\r", "\r\r\n"]
    follow = ["Via: SIP/2.0/UDP h\r\n\r\n", ""]
    lines = [f"{m}{s1}{u}{s2}{v}{e}{f}" for m, s1, u, s2, v, e, f in itertools.product(
        ["INVITE", "invite", "Foo", "FOO1", "SIP/2.0", "A"], sp[:3],
        ["sip:bob@biloxi.com", "", "<sip:x>", "sip:\xe9@h"], sp,
        ["SIP/2.0", "sip/2.0", "SIP/2.01", "SIP/2.0 ", "SIP/2.0\t", "S"], ends, follow)]
    lines += [f"{v}{s1}{c}{s2}{r}{e}{f}" for v, s1, c, s2, r, e, f in itertools.product(
        ["SIP/2.0", "sip/2.0", "SIP/2.0\t"], sp[:3], ["200", "099", "20", "2000", "\xb2\xb2\xb2"], sp,
        ["OK", "", " OK", "\tOK", "O K ", "OK\r"], ends, follow)]
    fast = 0
    for text in lines:
        if len(text) <= 16:
            continue  # refused before either reader runs
        fast += bool(_FAST_REQUEST.match(text) or _FAST_REPLY.match(text))
        assert _outcome(parse_first_line_kamailio, text, 0) == _outcome(_first_line_walk, text, 0, len(text)), text
    assert fast >= 30, fast  # the ordinary lines among them


def test_kamailio_uri_fast_head_agrees_with_the_walk() -> None:
    fast = 0
    for scheme, user, host, port, tail in itertools.product(
            ["sip:", "sips:", "SIP:"], ["", "bob@", "a;b@", "a?b@", "a:pw@", "[x]@", "@", "a@b@", "a b@", "7;p=x@"],
            ["biloxi.com", "192.0.2.4", "[::1]", "a_b", "-a", "a..b", "", "1", "h ", "h\tx"],
            ["", ":5060", ":", ":99999", ":65536", ":0", ":123456", ":5060x", ":\xb2"],
            ["", ";transport=tcp", ";lr", ";maddr", ";ma", "?h=v", ";x@y", "?", ";;x", "@x", ";user=phone"]):
        s = scheme + user + host + port + tail
        name = "sips" if scheme.lower() == "sips:" else "sip"
        if len(s) < 5 or len(s) <= len(name) + 1:
            continue  # "too short": refused before either reader runs
        fast += _KAM_FAST_HEAD.match(s, len(name) + 1) is not None
        assert _outcome(parse_sip_uri_kamailio, s, 7) == _outcome(_kamailio_head_walk, s, name, len(name) + 1, 7), s
    assert fast > 1000, fast


def test_via_fast_path_agrees_with_the_general_parser() -> None:
    params = ["", ";branch=z9hG4bK1", ";branch", ";BRANCH", ";rport", ";rport=", ";alias", ";alias=1", ";hidden=x",
              ";received=1.2.3.4;received=5.6.7.8", ";i", ";Branch=1;rport;x", ";branch=a;branch=b"]
    fast = 0
    for proto, host, port, p1, p2, more in itertools.product(
            ["SIP/2.0/UDP ", "SIP/2.0/tcp ", "SIP/3.0/UDP "], ["h.example.com", "[2001:db8::1]", "a_b", "[x]"],
            ["", ":5060", ":99999", ":0"], params, params[:6], ["", ",", ", SIP/2.0/UDP x", ",SIP/2.0/UDP y;branch"]):
        body = proto + host + port + p1 + p2 + more
        for strict, kamailio in ((False, False), (True, True)):
            fast += fast_vias(body, 100, kamailio) is not None

            def general(b: str, base: int, s: bool = strict, k: bool = kamailio) -> list:
                vias = parse_via_general(b, base, s, k)
                for via in vias:
                    via.last_wins = k  # (parse_via marks the kamailio profile's values)
                return vias

            assert _outcome(parse_via, body, 100, strict, kamailio) == _outcome(general, body, 100), (body, kamailio)
    assert fast > 1000, fast
