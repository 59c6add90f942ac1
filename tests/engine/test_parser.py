"""The lazy parser: what parse_msg parses, what it leaves, and the grammar corners of RFC 4475/5118."""

from __future__ import annotations

import pytest
from helpers import DATA

from sipsim.engine.parser import HdrFlag, parse_headers, parse_msg
from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import F_CALLID, F_CONTACT, F_EOH, F_VIA2, HdrType
from sipsim.engine.parser.msg import ReceiveInfo, SipMsg
from sipsim.engine.parser.msg_parser import parse_hdr_body
from sipsim.engine.parser.to_from import parse_to, parse_to_general
from sipsim.engine.parser.uri import parse_uri, unescape
from sipsim.engine.parser.via import parse_via, parse_via_general

RI = ReceiveInfo(("192.0.2.1", 5060), ("127.0.0.1", 5060))


def sipmsg(data: bytes, *, kamailio: bool = False) -> SipMsg:
    """A message parsed by the RFC grammar (ser profile), or by Kamailio 5.6's parser."""
    return SipMsg(data, RI, ser=not kamailio)


def corpus_msg(folder: str, name: str, *, kamailio: bool = False) -> SipMsg:
    return sipmsg((DATA / folder / name).read_bytes(), kamailio=kamailio)


def test_parse_msg_stops_just_past_the_first_via() -> None:
    m = corpus_msg("rfc3261", "s24_2_F3_INVITE.dat")
    assert parse_msg(m) == 0
    assert m.via1 is not None and m.h_via1 is not None
    assert m.unparsed == m.h_via1.end  # lazy for real
    assert [h.type for h in m.headers] == [HdrType.HDR_VIA_T]
    assert m.parsed_flag == HdrFlag.HDR_VIA1_F
    assert m.callid is None and m.via2 is None and m.eoh is None
    # asking for Call-ID resumes from unparsed and goes exactly as far as needed
    assert parse_headers(m, F_CALLID) == 0
    assert m.callid is not None and m.callid.body == "a84b4c76e66710"
    assert m.unparsed == m.callid.end and m.eoh is None
    assert m.via2 is not None  # the second Via line was passed on the way
    assert parse_headers(m, F_EOH) == 0 and m.eoh is not None and m.parsed_flag == HdrFlag.HDR_EOH_F


def test_a_broken_header_further_down_is_noticed_only_when_asked() -> None:
    data = (DATA / "rfc3261" / "s24_2_F1_INVITE.dat").read_bytes()
    broken = data.replace(b"To: Bob <sip:bob@biloxi.com>", b'To: "Bob <sip:bob@biloxi.com>')
    m = sipmsg(broken)
    assert parse_msg(m) == 0, "parse_msg does not look past the first Via"
    assert parse_headers(m, F_EOH) == -1
    assert "unterminated quoted string" in m.hdr_error.reason
    assert parse_headers(m, F_CONTACT) == -1, "the error is remembered"


def test_compact_forms_case_and_folding() -> None:
    m = corpus_msg("rfc4475", "wsinv.dat")
    assert parse_msg(m) == 0 and parse_headers(m, F_EOH) == 0
    assert m.to is not None and m.to.name == "TO" and m.to.parsed.param("tag") == "1918181833n"
    assert m.from_.parsed.param("tag") == "98asjd8"
    assert m.from_.parsed.display == 'J Rosenberg \\\\\\"'
    assert m.cseq.parsed.number == "0009" and m.cseq.parsed.method == "INVITE"
    assert parse_hdr_body(m.maxforwards) == 68
    assert m.content_length.name == "Content-Length" and m.content_length.parsed == 150
    vias = [v for h in m.headers if h.type is HdrType.HDR_VIA_T for v in h.parsed]
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    v_line = next(h for h in m.headers if h.name == "v")
    assert len(v_line.parsed) == 2, "several Via values on one (folded) line"
    (contact,) = parse_hdr_body(m.contact).contacts
    assert contact.display == 'Quoted string \\"\\"' and contact.param("q") == "0.33"
    assert m.header("NewFangledHeader").value == "newfangled value continued newfangled value"


def test_second_via_found_on_the_same_line() -> None:
    data = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP us.example.com;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.7:5070"
            b";branch=z9hG4bK2;rport=5071;received=192.0.2.8\r\nCall-ID: x\r\n\r\n")
    m = sipmsg(data)
    assert parse_msg(m) == 0
    assert m.parsed_flag & HdrFlag.HDR_VIA2_F and m.via2 is not None and m.h_via2 is m.h_via1
    assert (m.via2.host, m.via2.port, m.via2.rport, m.via2.received) == ("192.0.2.7", 5070, "5071", "192.0.2.8")
    assert parse_headers(m, F_VIA2) == 0 and m.callid is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("badinv01.dat", "Via parameter"),
        ("quotbal.dat", "unterminated quoted string"),
        ("lwsstart.dat", "more than one space"),
        ("bigcode.dat", "not three digits"),
    ],
)
def test_parse_msg_errors_say_what_is_wrong(name: str, reason: str) -> None:
    m = corpus_msg("rfc4475", name)
    assert parse_msg(m) == -1
    assert reason in m.parse_error.reason


def test_strict_duplicates_and_content_length() -> None:
    multi = corpus_msg("rfc4475", "multi01.dat")
    assert parse_msg(multi) == 0 and parse_headers(multi, F_EOH) == -1
    assert "a second" in multi.hdr_error.reason
    ncl = corpus_msg("rfc4475", "ncl.dat")
    assert parse_msg(ncl) == 0 and parse_headers(ncl, F_EOH) == -1
    assert "Content-Length" in ncl.hdr_error.reason


def test_framing_by_content_length_ignores_trailing_octets() -> None:
    m = corpus_msg("rfc4475", "dblreq.dat")
    assert parse_msg(m) == 0 and parse_headers(m, F_EOH) == 0
    assert m.content_length.parsed == 0 and m.body() == b""
    mp = corpus_msg("rfc4475", "mpart01.dat")
    assert parse_msg(mp) == 0 and parse_headers(mp, F_EOH) == 0
    assert len(mp.body()) == mp.content_length.parsed and b"\x00" in mp.body()


def test_empty_reason_phrase_and_ipv6() -> None:
    m = corpus_msg("rfc4475", "noreason.dat")
    assert parse_msg(m) == 0 and m.first_line.status == 100 and m.first_line.reason == ""
    v6 = corpus_msg("rfc5118", "ipv6-good.dat")
    assert parse_msg(v6) == 0
    assert v6.via1.host == "[2001:db8::9:1]" and v6.via1.host_bare == "2001:db8::9:1"
    assert v6.parsed_ruri().host == "[2001:db8::10]"
    rcv = corpus_msg("rfc5118", "via-received-param-with-delim.dat")
    assert parse_msg(rcv) == 0 and rcv.via1.received == "[2001:db8::9:255]"
    bad = corpus_msg("rfc5118", "ipv6-bad.dat")
    assert parse_msg(bad) == 0
    with pytest.raises(ParseError):
        bad.parsed_ruri()
    port = corpus_msg("rfc5118", "port-unambiguous.dat")
    assert parse_msg(port) == 0 and port.parsed_ruri().port == 5070


def test_uri_escapes_are_decoded_once() -> None:
    uri = parse_uri("sip:sips%3Auser%40example.com@example.net")
    assert uri.user == "sips%3Auser%40example.com" and uri.host == "example.net"
    assert unescape(uri.user) == "sips:user@example.com"
    assert unescape("%2541") == "%41", "unescaping is not recursive"
    assert unescape("user%00") == "user\x00"
    with pytest.raises(ParseError):
        parse_uri("sip:user%zz@example.com")
    with pytest.raises(ParseError):
        parse_uri("<sip:user@example.com>")
    assert parse_uri("isbn:2983792873").scheme == "isbn"
    assert parse_uri("sip:user@example.com?Route=%3Csip:example.com%3E").headers == "Route=%3Csip:example.com%3E"


@pytest.mark.parametrize(
    "body",
    [
        "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8",
        "SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1;received=10.0.0.1",
        "SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2",
        "SIP/2.0/UDP host_1.example.com;x",
        "SIP/2.0/UDP a..b;branch=1",
        "SIP/2.0/UDP h:99999;branch=1",
    ],
)
def test_fast_and_general_via_parsers_agree(body: str) -> None:
    def result(fn):  # noqa: ANN001, ANN202
        try:
            return [(v.transport, v.host, v.port, [(p.name, p.value, p.start, p.end) for p in v.params],
                     v.start, v.end) for v in fn(body, 100)]
        except ParseError as exc:
            return ("error", type(exc))
    assert result(parse_via) == result(parse_via_general)


@pytest.mark.parametrize(
    "body",
    ["Bob <sip:bob@biloxi.com>;tag=a6c85cf", '"A B" <sip:a@b>', "sip:caller@example.net;tag=134161461246",
     "Watson, Thomas <sip:t.watson@example.org>", "<sip:x@y>;tag=1;tag=2", "tel:+1555;tag=x"],
)
def test_fast_and_general_to_parsers_agree(body: str) -> None:
    def result(fn):  # noqa: ANN001, ANN202
        try:
            na = fn(body, 10)
            return (na.display, na.uri, na.uri_start, na.uri_end, na.bracketed, na.params)
        except ParseError as exc:
            return ("error", type(exc))
    assert result(parse_to) == result(parse_to_general)


def test_kamailio_56_parser_quirks() -> None:
    """Where Kamailio 5.6's parser differs from the RFC grammar (measured against the binary)."""
    wsinv = corpus_msg("rfc4475", "wsinv.dat", kamailio=True)  # CSeq folded over two lines
    assert parse_msg(wsinv) == -1 and "CSeq is folded" in wsinv.parse_error.reason
    badvers = corpus_msg("rfc4475", "badvers.dat", kamailio=True)  # Via: SIP/7.0/UDP
    assert parse_msg(badvers) == -1 and "SIP/7.0" in badvers.parse_error.reason
    assert parse_msg(corpus_msg("rfc4475", "badvers.dat")) == 0, "the RFC grammar accepts it; a 505 follows"
    intmeth = corpus_msg("rfc4475", "intmeth.dat", kamailio=True)  # header name with ! % * ` '
    assert parse_msg(intmeth) == 0 and parse_headers(intmeth, F_EOH) == -1
    assert "bad header name" in intmeth.hdr_error.reason
    baddn = corpus_msg("rfc4475", "baddn.dat", kamailio=True)  # unquoted "Bell, Alexander", no empty line
    assert parse_msg(baddn) == 0 and parse_headers(baddn, F_EOH) == 0
    assert baddn.from_.parsed.display == "Bell, Alexander" and baddn.extra.get("no_body")
    rfc_baddn = corpus_msg("rfc4475", "baddn.dat")
    assert parse_msg(rfc_baddn) == 0 and parse_headers(rfc_baddn, F_EOH) == -1


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ("<sip:a@b>;q=", [[("q", "")]]),  # an empty value is kept at the end of the header ...
        ("<sip:a@b>;expires= \t", [[("expires", "")]]),  # ... after which only white space may come
        ("sip:a@b;q=", [[("q", "")]]),
        ("<sip:a@b>;q;lr", [[("q", None), ("lr", None)]]),
        ("<sip:a@b>, <sip:c@d>;q=", [[], [("q", "")]]),
        ("<sip:a@b>;q=;expires=60", None),  # ... and nowhere else (Kamailio 5.6's parse_params)
        ("<sip:a@b>;q=, <sip:c@d>", None),
    ],
)
def test_contact_parameter_with_an_empty_value(body: str, params: list | None) -> None:
    """As Kamailio 5.6's parse_params(); what the registrar makes of it is in the differential
    case ``registrar`` (tests/routing/test_differential.py)."""
    from sipsim.engine.parser.contact import parse_contact

    if params is None:
        with pytest.raises(ParseError, match="no value after '='"):
            parse_contact(body, 0)
    else:
        assert [na.params for na in parse_contact(body, 0).contacts] == params


@pytest.mark.parametrize(
    ("body", "tag"),
    [
        ("<sip:b@x>;tag=", ""),  # an empty value is kept (an empty tag is no tag) ...
        ("<sip:b@x>;x=;tag=5", "5"),  # ... anywhere, not only last
        ("<sip:b@x>;tag = ;x=1", ""),
        ("sip:b@x;tag= ", ""),
        ("<sip:b@x>;tag;tag=t9", "t9"),  # the last tag counts ...
        ("<sip:b@x>;tag=t9;tag", ""),  # ... even without a value
        ("<sip:b@x>;TAG=;tag=5", "5"),
        ("<sip:b@x>;x=,;tag=5", None),  # still errors: a ',' for a value,
        ("<sip:b@x>;;tag=5", None),  # an empty parameter,
        ("<sip:b@x>;tag=5;", None),  # a ';' at the end,
        ("<sip:b @x>;tag=5", None),  # white space inside <...> (To and From only)
    ],
)
def test_kamailio_to_from_parameters(body: str, tag: str | None) -> None:
    """Kamailio 5.6's parse_to() (the kamailio profile), measured with $tt and has_totag()."""
    if tag is None:
        with pytest.raises(ParseError):
            parse_to(body, 0, "To", lenient=True)
        return
    assert parse_to(body, 0, "To", lenient=True).param("tag") == tag
    if "=;" in body or body.rstrip().endswith("="):
        with pytest.raises(ParseError, match="no value after '='"):
            parse_to(body, 0, "To")  # the RFC grammar (ser profile) has no empty values


def test_a_list_uri_is_everything_between_the_brackets() -> None:
    """parse_nameaddr(): Route, Record-Route and Contact take any text up to the '>' outside quotes."""
    from sipsim.engine.parser.rr import parse_rr

    route = parse_rr("<sip:127.0.0.1; lr>, <sip:b@h;x=\"a>b\">", 7)
    assert [na.uri for na in route] == ["sip:127.0.0.1; lr", 'sip:b@h;x="a>b"']
    assert route[0].uri_start == 8 and route[0].uri_end == 8 + len("sip:127.0.0.1; lr")
    assert route[0].uri_as(True).host == "127.0.0.1"
    with pytest.raises(ParseError, match="empty URI"):
        parse_rr("< >", 0)


def test_uri_as_each_reading() -> None:
    """The same To URI read by the RFC grammar and by Kamailio's parse_uri() (the registrar's AOR)."""
    for body, user in (("<tel:+12015550123>", "+12015550123"), ("<urn:service:sos>", "service"),
                       ("<sip:c@h?>", "c")):
        na = parse_to(body, 0, "To", lenient=True)
        assert na.uri_as(True).user == user
        assert na.uri_as(True) is na.uri_as(True), "each reading is cached"
    na = parse_to("<tel:+1>", 0)
    assert na.uri_as(False).user is None and na.parsed_uri is na.uri_as(False), "without the flag: the RFC"
    with pytest.raises(ParseError):
        parse_to("<sip:c@h?>", 0).uri_as(False)


@pytest.mark.parametrize(
    ("uri", "user", "host", "phone_params"),
    [
        # ;user=phone (the value exactly "phone", the name in any case): the user ends at its first ';'
        ("sip:7042;phone-context=x@h;user=phone", "7042", "h", "phone-context=x"),
        ("sips:7042;a;b@h:5070;USER=phone;lr", "7042", "h", "a;b"),
        ("sip:7042@h;user=phone", "7042", "h", None),
        ("sip:7042;a@h;user=Phone", "7042;a", "h", None),
        ("sip:7042;a@h;user=phone2", "7042;a", "h", None),
        # no '@': the host is everything up to ':', ';' or '?' (a Route's "127.0.0.1 " is not us)
        ("sip:127.0.0.1 ;lr", None, "127.0.0.1 ", None),
        ("sip:127.0.0.1 x:5060;lr", None, "127.0.0.1 x", None),
        ("sip:b_c", None, "b_c", None),
        ("sip:u@b_c", ParseError, None, None),
        ("sip:a@127.0.0.1 ;lr", ParseError, None, None),
        ("sip:127.0.0.1 :50x;lr", ParseError, None, None),
    ],
)
def test_kamailio_parse_uri_user_phone_and_bare_host(uri: str, user: object, host: str | None,
                                                     phone_params: str | None) -> None:
    """Kamailio 5.6's parse_uri(), measured with $rU/$rd and loose_route() against the binary."""
    if user is ParseError:
        with pytest.raises(ParseError):
            parse_uri(uri, kamailio=True)
        return
    got = parse_uri(uri, kamailio=True)
    assert (got.user, got.host, got.phone_params) == (user, host, phone_params)
    if "@" in uri:
        assert parse_uri(uri).user == uri[uri.index(":") + 1:uri.index("@")], "the RFC reading keeps the user"


def test_kamailio_profile_marks_to_contact_and_route() -> None:
    """The kamailio profile's To/From/Contact/Route values are read by Kamailio's parse_uri() (the
    fast path and the general one alike); the RFC profile keeps the RFC's reading."""
    for body in ("<tel:+1201>", '"A" <tel:+1201>;tag=1', "tel:+1201;tag=1", "<tel:+1201> ;tag=1"):
        assert parse_to(body, 0, "To", lenient=True).parsed_uri.user == "+1201", body
        assert parse_to(body, 0, "To").parsed_uri.user is None, body
    hdr_msg = sipmsg(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContact: <sip:c@h?>\r\n"
                     b"Route: <sip:c@h?>\r\n\r\n")  # (a ";" after "?" is an error in both readings)
    assert parse_msg(hdr_msg) == 0 and parse_headers(hdr_msg, F_EOH) == 0
    for kamailio in (True, False):
        for name in ("Contact", "Route"):
            h = hdr_msg.headers_named(name)[0]
            h.parsed = None
            got = parse_hdr_body(h, kamailio)
            na = got.contacts[0] if name == "Contact" else got[0]
            if kamailio:
                assert na.parsed_uri.user == "c"
            else:
                with pytest.raises(ParseError):
                    _ = na.parsed_uri


@pytest.mark.parametrize(
    ("body", "uris"),
    [
        ("*", "*"), ("*, <sip:a@b>", "*"), (" *x", "*"),  # a body starting with '*' is a star
        ('"\\\\" <sip:a@b>', None),  # a quote after a backslash never closes the name
        ('"a\\"" <sip:a@b>;q=1', ["sip:a@b"]),
        ('"a\\\\b" <sip:a@b>', ["sip:a@b"]),
        ("<sip:a b@c>, <sip:x@h; lr>", ["sip:a b@c", "sip:x@h; lr"]),
        ("x, <sip:a@b>", ["sip:a@b"]),  # "x, " is a display name: one contact
        (", <sip:a@b>, , <sip:c@d>", ["sip:a@b", "sip:c@d"]),  # empty elements are names too
        ("<sip:a@b>,", None),  # but nothing after the last ','
        ("Bob sip:x@h", ["sip:x@"]),  # skip_name()'s off-by-one
        ("<sip:a@b> x", ["<sip:a@b> x"]),
        ("x;q=1", ["x"]), ("x", None), ("<>", None),
        ("<sip:a@b;x=<y>", None), ('<sip:"a@b>', None), ("<sip:a@b>>", None),
        ("<sip:a@b>;x=;q=0.5", None), ("sip:a@b;q=0.5 x", None),
    ],
)
def test_kamailio_contact_scanner(body: str, uris: str | list[str] | None) -> None:
    """Kamailio 5.6's parse_contacts() (the registrar of the kamailio profile), measured by what its
    registrar saved or refused (Contact parse error)."""
    from sipsim.engine.parser.contact import parse_contact

    if uris is None:
        with pytest.raises(ParseError):
            parse_contact(body, 0, kamailio=True)
        return
    got = parse_contact(body, 0, kamailio=True)
    assert (got.star and uris == "*") or [na.uri for na in got.contacts] == uris
    assert all(na.kamailio for na in got.contacts)
    if body.startswith('"\\\\"'):
        assert parse_contact(body, 0).contacts[0].display == "\\\\", "the RFC reads an escaped backslash"


@pytest.mark.parametrize(("profile", "swallowed"), [("kamailio", True), ("ser", False)])
def test_sl_filter_ack_takes_the_method_the_parser_read(profile: str, swallowed: bool) -> None:
    """A lower-case ``ack`` to our own stateless reply: Kamailio's first-line parser reads it as an
    ACK (method_value), so sl's filter swallows it; the ser profile's (the RFC: methods are
    case-sensitive) reads an unknown method ``ack``, which the script then handles."""
    from sipsim.engine.config import Profile, ServerConfig
    from sipsim.engine.driver import MemoryDriver

    d = MemoryDriver(ServerConfig(profile=Profile(profile), relay=False))
    invite = ("INVITE sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKa\r\n"
              "From: <sip:a@example.com>;tag=f\r\nTo: <sip:x@example.com>\r\nCall-ID: ack2\r\n"
              "CSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n")
    reply = d.feed(invite.encode(), ("127.0.0.1", 5080)).sent[0].data.decode()
    to_line = next(ln for ln in reply.split("\r\n") if ln.startswith("To:"))
    ack = invite.replace("INVITE sip:", "ack sip:").replace("5 INVITE", "5 ack")
    ack = ack.replace("To: <sip:x@example.com>", to_line)
    result = d.feed(ack.encode(), ("127.0.0.1", 5080))
    assert (result.outcome == "dropped" and "sl:filter_ACK" in result.reason) is swallowed


@pytest.mark.parametrize(
    ("body", "where"),
    [("A\\B <sip:a@h>", 1), ("\\Bob <sip:a@h>", 0), ("<sip:a\\b@h>", 6), ("sip:a\\b@h", 5),
     ("<sip:a@h>;x=a\\b", 13), ('"A\\"q" B\\ <sip:a@h>', 8)],
)
def test_kamailio_to_refuses_a_backslash_outside_quotes(body: str, where: int) -> None:
    """Kamailio 5.6's parse_to() knows a backslash only as a quoted-pair's escape (measured: such a
    To drops the message, such a From makes $fn <null>); the ser profile keeps the RFC grammar."""
    with pytest.raises(ParseError, match="backslash outside a quoted string") as err:
        parse_to(body, 100, "To", lenient=True)
    assert err.value.offset == 100 + where
    if body == "sip:a\\b@h":
        assert parse_to(body, 0, "To").uri == "sip:a\\b@h"  # the RFC reader only delimits the URI
    assert parse_to('"A\\\\B \\"q\\"" <sip:a@h>', 0, "To", lenient=True).uri == "sip:a@h"  # escapes in quotes


@pytest.mark.parametrize(
    "written", ['"A B"', '""', "Bob   Smith", "Bob", '"A \\"q\\" B"', "Bob\r\n Smith", "Bob \t Smith", '"A\tB"'],
)
@pytest.mark.parametrize("sep", ["", " ", "\t ", "\r\n "])
def test_display_as_written_is_the_text_before_the_bracket(written: str, sep: str) -> None:
    """$tn/$fn (routing/pv.py) cut the name out of the message from the NameAddr's start to its
    '<': the offsets must hold on the fast path and on the walk, in both profiles."""
    body = f"{written}{sep}<sip:a@h>;tag=1"
    if "\r\n" in written and sep == "":
        body = body.replace("Bob<", "Bob <")
    buf = "To: " + body
    for lenient in (True, False):
        for fn in (parse_to, parse_to_general):
            na = fn(body, 4, "To", lenient)
            assert buf[na.start:na.uri_start - 1].strip(" \t\r\n") == written.strip()
