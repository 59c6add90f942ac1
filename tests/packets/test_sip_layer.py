"""The Scapy SIP layer: byte-exact round trips on the whole corpus, edits that touch only what they
name, a show() a learner can read, and rdpcap decoding SIP from a pcap sipsim wrote."""

from __future__ import annotations

import io

import pytest
from helpers import corpus
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipsim.packets.layer import SIP, SIPRequest, SIPResponse, bind_sip_port, layer_tree, sip_packet
from sipsim.packets.message import SipMessage
from sipsim.packets.pcapwriter import PcapWriter

ENTRIES = corpus()
A = ("192.0.2.10", 5060)
B = ("192.0.2.20", 5060)


def data_of(name: str) -> bytes:
    return next(e for e in ENTRIES if e.file == name).path.read_bytes()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_corpus_file_round_trips_byte_exact(entry) -> None:  # noqa: ANN001
    data = entry.path.read_bytes()
    layer = SIP(data)
    assert bytes(layer) == data
    # also as the payload of IP/UDP built from scratch (Scapy clones layers while building) and
    # after a copy, and through the v6 stack
    assert bytes(sip_packet(data, A, B)[SIP]) == data
    assert bytes(layer.copy()) == data
    assert bytes(sip_packet(data, ("2001:db8::1", 5060), ("2001:db8::2", 5060))[SIP]) == data
    # the layer's fields say what the first line says
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0]
    if isinstance(layer, SIPResponse):
        assert first.startswith(layer.version.encode()) and str(layer.status).encode() in first
    else:
        assert first.startswith(layer.method.encode() + b" ")


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


def test_set_header_changes_that_header_and_nothing_else() -> None:
    # odd casing, spacing and folding around the edited header stay as sent
    wsinv = data_of("wsinv.dat")
    pkt = sip_packet(wsinv, A, B)
    pkt[SIP].set_header("Max-Forwards", "69")
    assert bytes(pkt[SIP]) == replace_once(wsinv, b"MaX-fOrWaRdS: 0068\r\n", b"MaX-fOrWaRdS: 69\r\n")

    # a compact name is found by its long name and keeps its compact spelling
    layer = SIP(wsinv)
    assert layer.get_header("Contact").startswith('"Quoted string')
    layer.set_header("Subject", "hello")  # wsinv has "s :" with an empty value
    assert bytes(layer) == replace_once(wsinv, b"\r\ns :\r\n", b"\r\ns :hello\r\n")

    # a folded value is replaced as a whole, its neighbours untouched
    layer = SIP(wsinv)
    layer.set_header("CSeq", "10 INVITE")
    assert bytes(layer) == replace_once(wsinv, b"cseq: 0009\r\n  INVITE\r\n", b"cseq: 10 INVITE\r\n")

    # the second Via line (index 1) of a multi-Via message
    longreq = data_of("longreq.dat")
    layer = SIP(longreq)
    vias = layer.get_headers("Via")
    assert len(vias) > 2
    layer.set_header("Via", "SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKnew", index=1)
    assert layer.get_headers("Via") == [vias[0], "SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKnew", *vias[2:]]
    changed = bytes(layer)
    assert len(changed.split(b"\r\n")) == len(longreq.split(b"\r\n"))
    assert changed.replace(b"SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKnew", vias[1].encode(), 1) == longreq


def test_setting_the_body_updates_content_length_only() -> None:
    wsinv = data_of("wsinv.dat")
    head = wsinv[:wsinv.index(b"\r\n\r\n") + 4]
    layer = SIP(wsinv)
    layer.body = b"v=0\r\n"
    assert bytes(layer) == replace_once(head, b"Content-Length   : 150", b"Content-Length   : 5") + b"v=0\r\n"

    # compact "l:" and a message without the blank line (baddn.dat): the blank line appears
    baddn = data_of("baddn.dat")
    layer = SIP(baddn)
    assert bytes(layer) == baddn and not baddn.endswith(b"\r\n\r\n")
    layer.set_body(b"hello", content_type="text/plain")
    assert bytes(layer) == replace_once(baddn, b"l: 0\r\n", b"Content-Type: text/plain\r\nl: 5\r\n") \
        + b"\r\nhello"

    # octets after Content-Length (dblreq.dat) stay trailing when the body is set
    dblreq = data_of("dblreq.dat")
    layer = SIP(dblreq)
    trailing = layer.trailing
    assert trailing.startswith(b"\r\nINVITE sip:joe@example.com")
    layer.body = b"xyz"
    assert bytes(layer) == replace_once(dblreq, b"Content-Length: 0\r\n\r\n", b"Content-Length: 3\r\n\r\nxyz")

    # binary bodies with NULs are kept as bytes, and a deliberately wrong length can be kept
    mpart = data_of("mpart01.dat")
    layer = SIP(mpart)
    assert b"\x00" in layer.body and bytes(layer) == mpart
    layer.set_body(b"\x00\x01", update_length=False)
    assert bytes(layer).endswith(b"Content-Length: 553\r\n\r\n\x00\x01")


def test_add_and_remove_headers_and_lf_only_messages() -> None:
    lf = b"OPTIONS sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nl: 0\n\n"
    layer = SIP(lf)
    assert bytes(layer) == lf
    layer.add_header("Via", "SIP/2.0/UDP p;branch=z9hG4bK2")  # a Via goes on top, LF kept
    layer.add_header("X-Trace", "1")  # others before the closing Content-Length
    assert bytes(layer) == (b"OPTIONS sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP p;branch=z9hG4bK2\n"
                            b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\nX-Trace: 1\nl: 0\n\n")
    assert layer.remove_header("via", index=0) == 1
    assert layer.remove_header("X-Trace") == 1
    assert bytes(layer) == lf
    assert layer.remove_header("Content-Length") == 1 and layer.get_header("l") is None

    with pytest.raises(ValueError, match="line break"):
        layer.set_header("Subject", "a\r\nInjected: yes")
    with pytest.raises(ValueError, match="bad header name"):
        layer.set_header("Bad Name", "x")


def test_first_line_fields_are_real() -> None:
    lws = data_of("lwsstart.dat")  # two spaces around the Request-URI
    layer = SIP(lws)
    assert (layer.method, layer.uri, layer.version) == ("INVITE", "sip:user@example.com", "SIP/2.0")
    layer.method = "OPTIONS"
    assert bytes(layer) == replace_once(lws, b"INVITE  sip:user@example.com  SIP/2.0",
                                        b"OPTIONS  sip:user@example.com  SIP/2.0")
    big = SIP(data_of("bigcode.dat"))
    assert isinstance(big, SIPResponse) and big.status == 4294967301
    noreason = SIP(data_of("noreason.dat"))
    assert (noreason.status, noreason.reason) == (100, "")
    noreason.reason = "Trying"
    assert bytes(noreason).startswith(b"SIP/2.0 100 Trying\r\nVia:")

    fresh = SIP(status=486)
    assert isinstance(fresh, SIPResponse) and bytes(fresh) == b"SIP/2.0 486 Busy Here\r\n\r\n"
    req = SIP(method="BYE", uri="sip:b@h", headers=["Call-ID: 1@h", ("CSeq", "2 BYE")], body="x")
    assert bytes(req) == b"BYE sip:b@h SIP/2.0\r\nCall-ID: 1@h\r\nCSeq: 2 BYE\r\n\r\nx"


def test_show_is_readable_and_layers_are_found() -> None:
    pkt = sip_packet(data_of("wsinv.dat"), A, B)
    text = pkt.show(dump=True)
    lines = text.splitlines()
    assert "###[ SIP ]###" in text
    for expected in ("method    = INVITE", "version   = SIP/2.0", "MaX-fOrWaRdS: 0068",
                     "Content-Length   : 150", "[compact form of Via]", "[compact form of Contact]",
                     "m=video 3227 RTP/AVP 31"):
        assert any(expected in line for line in lines), expected
    # one line per header, aligned under the first one
    header_lines = [line for line in lines if "compact form" in line or "MaX-fOrWaRdS" in line]
    assert len({len(line) - len(line.lstrip()) for line in header_lines}) == 1
    # folding is visible on the header's own line
    assert any(line.strip().startswith("cseq: 0009↵") for line in lines)
    shown2 = pkt.show2(dump=True)  # built: lengths and checksums filled in, SIP part unchanged
    assert f"len       = {len(bytes(pkt))}" in shown2
    assert shown2[shown2.index("###[ SIP ]###"):] == text[text.index("###[ SIP ]###"):]

    resp = sip_packet(data_of("s24_1_F2_200.dat"), B, A)
    shown = resp.show(dump=True)
    assert "status    = 200" in shown and "reason    = OK" in shown
    assert SIP in resp and SIPResponse in resp and resp[SIP] is resp[SIPResponse]
    assert SIPRequest not in resp
    assert resp.summary().endswith("SIP 200 OK")

    tree = layer_tree(pkt)
    assert [n.name.split()[0] for n in tree] == ["IP", "UDP", "SIP"]
    names = [name for name, _ in tree[2].fields]
    assert ("MaX-fOrWaRdS", "0068") in tree[2].fields and names.count("v") == 1 and "m" in names
    assert names[:3] == ["method", "uri", "version"] and names[-1] == "body"

    # answers(): a response matches its request (same Call-ID, CSeq, Via)
    invite = SIP(data_of("s24_2_F1_INVITE.dat"))
    trying = SIP(data_of("s24_2_F2_100.dat"))
    assert trying.answers(invite) and not invite.answers(trying)


def test_rdpcap_decodes_sip_from_a_sipsim_pcap_and_bound_ports() -> None:
    from scapy.utils import rdpcap

    reg, ok = data_of("s24_1_F1_REGISTER.dat"), data_of("s24_1_F2_200.dat")
    odd = SipMessage.parse(reg)
    odd.set_header("Max-Forwards", "5")
    buf = io.BytesIO()
    with PcapWriter(buf) as w:
        w.write(0.0, A, B, reg)
        w.write(0.5, B, A, ok)
        w.write(1.0, ("2001:db8::1", 5060), ("2001:db8::2", 5060), reg)
        w.write(1.5, ("192.0.2.10", 47011), ("192.0.2.20", 47012), odd.to_bytes())
    capture = buf.getvalue()
    packets = rdpcap(io.BytesIO(capture))
    assert [bytes(p[SIP]) for p in packets[:3]] == [reg, ok, reg]
    assert isinstance(packets[1][SIP], SIPResponse) and packets[2].haslayer("IPv6")
    assert float(packets[1].time) == 0.5
    assert SIP not in packets[3]  # port 47012 is not SIP to Scapy...
    bind_sip_port(47012)
    again = rdpcap(io.BytesIO(capture))[3]
    assert SIP in again and bytes(again[SIP]) == odd.to_bytes()  # ...until it is bound
    assert again[SIP].get_header("Max-Forwards") == "5"


# Pieces that make the parser's decisions: line ends, folding, colons, first-line shapes, framing.
_PIECES = [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b" : ", b"SIP/2.0", b"SIP/2.0 200 OK", b"INVITE",
           b" sip:a@b ", b"Via", b"v", b"Content-Length: ", b"l:", b"3", b"-1", b"0", b"\x00", b"\xff\xfe",
           b"\xc3\xa9", b"\xc2\xb2", b"9" * 50, b"\r\n\r\n", b"abc"]


@st.composite
def sip_like(draw: st.DrawFn) -> bytes:
    """A message-shaped datagram: a first line, header lines (odd names, spacing, folding, either
    line end), maybe a blank line and a body, maybe a Content-Length that lies."""
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    first = draw(st.sampled_from([b"INVITE sip:a@b SIP/2.0", b"SIP/2.0 180 Ringing", b"OPTIONS  sip:x  SIP/2.0",
                                  b"SIP/2.0 100 ", b"FOO bar"]))
    lines = [first]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from([b"Via", b"v", b"TO", b"Content-Length", b"l", b"X-A", b"cseq"]))
        sep = draw(st.sampled_from([b": ", b":", b" :  ", b"\t:\t"]))
        value = draw(st.sampled_from([b"1", b"", b"a b", b"0", b"5", b"x" + eol + b"  folded", b"\xc3\xa9\x00",
                                      b"\xc2\xb2"]))
        lines.append(name + sep + value)
    head = eol.join(lines) + eol
    if draw(st.booleans()):
        head += eol + draw(st.binary(max_size=20))
    return head


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
                 sip_like()))
@example(b"\x00\n Content-Length:\n")  # a new header must not go just above a line that starts with a blank
def test_any_datagram_round_trips_through_the_model_and_the_layer(data: bytes) -> None:
    msg = SipMessage.parse(data)
    assert msg.to_bytes() == data
    if not data:
        return  # SIP(b"") is Scapy's "a new packet with default fields", not an empty datagram
    layer = SIP(data)
    assert bytes(layer) == data
    layer.set_header("X-Probe", "1")  # an edit adds one line and keeps every other octet
    edited = bytes(layer)
    assert b"X-Probe: 1" in edited
    # When the datagram has a first line and whole header lines (not a cut-off fragment), the
    # edited message parses to the same message plus that one header.
    if msg.first_line.strip() and msg.layout.eol and all(not h.malformed and h.eol for h in msg.headers):
        again = SIP(edited)
        assert again.get_header("X-Probe") == "1" and again.remove_header("X-Probe") == 1
        assert (again.headers, again.body, again.trailing) == (msg.headers, msg.body, msg.trailing)
