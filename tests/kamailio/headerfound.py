"""Messages found by a header-level differential fuzz of the ``kamailio`` profile (second round).

The first round (tests/routing/fuzz_kamailio.py, tests/routing/fuzzfound.py) mutated the corpus
header by header; this one went after what a receive path meets below the grammar: several Via
values with empty ones between commas, ``rport`` values beyond 16 bits, Content-Length at the edge
of an int, NUL bytes in every header and at every place of one (Kamailio 5.6 reads most of its
buffer by length, but its resolver, its From parser and its line-end look-ahead read C strings),
folding inside an IPv6 reference. Each message made sipsim send, answer or drop differently from
Kamailio 5.6.3 until the engine was fixed; test_header_fuzz.py runs them through both with
cfgs/relay.cfg. Names say what each one exercises.
"""

from __future__ import annotations

from routing.crafted import OURS, UAC_VIA, reply, request

Addr = tuple[str, int]
Msg = tuple[str, bytes, Addr]
UA: Addr = ("192.0.2.1", 5060)
PHONE: Addr = ("192.0.2.4", 5070)
Z = "\x00"
V1 = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKh{n}"
V2 = "SIP/2.0/UDP 192.0.2.9:5077;branch=z9hG4bKv2"
VB = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc{n}"


def _req(name: str, n: int, ruri: str = "sip:carol@192.0.2.30", **kw: object) -> Msg:
    return (name, request("OPTIONS", ruri, n=n, **kw), UA)  # type: ignore[arg-type]


def _rep(name: str, n: int, vias: tuple[str, ...] = (OURS, UAC_VIA), code: int = 180) -> Msg:
    data = reply(code, "Ringing" if code == 180 else "OK", vias=vias)
    return (name, data.replace(b"call-r@atlanta.com", f"hf-r{n}@atlanta.com".encode()), PHONE)


def _late_to(name: str, n: int, to: str) -> Msg:
    """A request whose To is the last header receive_msg needs: a To that ends early (the next
    header starting at its NUL) is then no obstacle to forwarding, one that fails is."""
    text = ("OPTIONS sip:carol@192.0.2.30 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKt" + str(n) +
            "\r\nMax-Forwards: 70\r\nFrom: <sip:alice@atlanta.com>;tag=ft1\r\n"
            f"Call-ID: hf-{n}@atlanta.com\r\nCSeq: 1 OPTIONS\r\nTo: {to}\r\nContent-Length: 0\r\n\r\n")
    return (name, text.encode("latin-1"), UA)


def _late_via(name: str, n: int, via: str, after: str = "") -> Msg:
    """A request whose Via comes after the headers receive_msg needs: what the Via parser makes of
    its value decides alone whether the request is forwarded."""
    text = ("OPTIONS sip:carol@192.0.2.30 SIP/2.0\r\nMax-Forwards: 70\r\nTo: <sip:bob@biloxi.com>\r\n"
            f"From: <sip:alice@atlanta.com>;tag=ft1\r\nCall-ID: hf-{n}@atlanta.com\r\nCSeq: 1 OPTIONS\r\n"
            f"Via: {via}\r\n{after}Content-Length: 0\r\n\r\n")
    return (name, text.encode("latin-1"), UA)


def _edit(msg: Msg, old: str, new: str) -> Msg:
    name, data, src = msg
    assert old.encode("latin-1") in data, (old, data)
    return (name, data.replace(old.encode("latin-1"), new.encode("latin-1"), 1), src)


def vias() -> list[Msg]:
    """Empty values between commas are skipped; none may lead or trail (parse_via)."""
    out = [_req(name, n, via=via) for n, (name, via) in enumerate([
        ("via-empty-value-between-commas", V1 + ", , " + V2),
        ("via-two-commas", V1 + ",," + V2),
        ("via-empty-value-across-a-fold", V1 + ",\r\n ," + V2),
        ("via-trailing-comma-is-an-error", V1 + ","),
        ("via-leading-comma-is-an-error", ", " + V1),
    ], start=700)]
    out.append(_rep("reply-top-via-then-empty-value", 705, vias=(OURS + ", , " + V2, UAC_VIA)))
    out.append(_req("via-ipv6-folded-inside-brackets", 706,
                    via="SIP/2.0/UDP [2001:db8::9\r\n\t:1];branch=z9hG4bKc{n}"))
    out.append(_req("via-ipv6-space-inside-brackets-is-an-error", 707,
                    via="SIP/2.0/UDP [2001:db8::9 :1];branch=z9hG4bKc{n}"))
    out.append(_req("via-rport-without-value-reaches-over-a-fold", 708,
                    via="SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKc{n};rport\r\n ,SIP/2.0/UDP 192.0.2.8"))
    out.append(_req("via-space-around-port-colon-received-placed-early", 709, via="SIP/2.0/UDP 192.0.2.9 : 5060"))
    out.append(_req("via-tab-after-port-colon-received-placed-early", 719, via="SIP/2.0/UDP 192.0.2.9:\t5060"))
    return out


def rports() -> list[Msg]:
    """A reply goes to the second Via's rport read by str2s(); 0 or an error means the Via's port."""
    via = "SIP/2.0/UDP 192.0.2.9:5077;branch=z9hG4bKv2;rport="
    return [_rep(f"reply-rport-{value}", 710 + i, vias=(OURS, via + value))
            for i, value in enumerate(("70000", "65536", "0", "123456", "000005", "5a"))]


def numbers() -> list[Msg]:
    """CSeq's method is any run up to white space; Content-Length stops at 2147483640."""
    out = [_req("cseq-method-with-semicolon", 720, cseq="720 OPTIONS;x"),
           _req("cseq-method-with-nul", 721, cseq=f"721 OPT{Z}IONS"),
           _req("cseq-method-utf8", 722, cseq="722 \xc3\xa9")]
    for i, cl in enumerate(("2147483639", "2147483640")):  # Max-Forwards 0: sl must parse every header
        out.append(_edit(_req(f"content-length-{cl}-483-needs-all-headers", 723 + i, maxfwd="0"),
                         "Content-Length: 0", f"Content-Length: {cl}"))
    return out


def nuls() -> list[Msg]:
    """NUL bytes: which parser reads a C string, which a length, which looks past the line end."""
    out = [
        _req("to-nul-in-uri-is-an-error", 730, to=f"<sip:bob@{Z}biloxi.com>"),
        _req("to-nul-in-tag-is-an-error", 731, to=f"<sip:bob@biloxi.com>;tag=a{Z}"),
        _req("to-escaped-nul-in-quotes-passes", 732, to=f'"NUL:\\{Z}" <sip:bob@biloxi.com>'),
        _req("from-nul-in-uri-fails-forward", 733, frm=f"<sip:alice@atl{Z}anta.com>;tag=ft1"),
        _req("from-read-up-to-its-nul-tag-a", 734, frm=f"<sip:alice@atlanta.com>;tag=a{Z}b"),
        _req("from-nul-before-tag-leaves-none", 735, frm=f"<sip:alice@atlanta.com>;x=1{Z};tag=ft1"),
        _req("via-nul-in-param-value-is-an-error", 736, via=VB + f"{Z};x=y"),
        _req("via-nul-in-param-name-passes", 737, via=VB + f";x{Z}=y"),
        _req("via-nul-starting-param-name-is-an-error", 738, via=VB + f";{Z}x"),
        _req("via-nul-in-quoted-value-is-an-error", 739, via=VB + f';q="a{Z}"'),
        _req("via-transport-with-nul-is-unknown", 740, via=f"SIP/2.0/UDP{Z} 192.0.2.1:5060;branch=z9hG4bKc{{n}}"),
        _rep("reply-via2-transport-with-nul-dropped", 741,
             vias=(OURS, f"SIP/2.0/U{Z}DP 192.0.2.9:5077;branch=z9hG4bKv2")),
        _req("maxfwd-nul-kept-after-rewrite", 742, maxfwd=f"70{Z}"),
        _req("ruri-bare-host-read-up-to-nul", 743, ruri=f"sip:192.0.2.30{Z}x"),
        _req("ruri-bare-name-up-to-nul-unresolvable", 744, ruri=f"sip:biloxi.c{Z}om"),
        _req("ruri-nul-after-user-at-is-479", 745, ruri=f"sip:carol@192.0.2.30{Z}x"),
        _late_via("via-then-nul-line-is-end-of-header", 746, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa", f"{Z}X: y\r\n"),
        _late_via("via-then-fold-of-nul-ends-it", 747, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa", f" {Z}\r\n"),
        _req("maxfwd-then-fold-of-nul", 748, maxfwd=f"70\r\n {Z}"),
        _req("maxfwd-digits-rewritten-nuls-kept", 751, maxfwd=f"70 {Z} {Z}"),
        _late_via("via-nul-after-host-empties-it", 758, f"SIP/2.0/UDP 192.0.2.9{Z};branch=z9hG4bKa"),
        _late_via("via-nul-in-host-empties-it", 759, f"SIP/2.0/UDP 192.0.{Z}2.9"),
        _late_via("via-nul-after-port-ends-it", 761, f"SIP/2.0/UDP 192.0.2.9:5060{Z}"),
        _late_via("via-nul-after-ipv6-ends-it", 762, f"SIP/2.0/UDP [2001:db8::1]{Z}"),
        _late_to("to-ends-at-nul-after-uri", 752, f"<sip:bob@biloxi.com>{Z};tag=x"),
        _late_to("to-ends-at-nul-in-unquoted-name", 753, f"Bo{Z}b <sip:bob@biloxi.com>"),
        _late_to("to-ends-at-nul-in-tag-next-header-fails", 754, f"<sip:bob@biloxi.com>;tag=a{Z}b"),
        _late_to("to-nul-inside-brackets-is-an-error", 755, f"<sip:bob@bi{Z}loxi.com>"),
        _late_to("to-nul-after-semicolon-is-an-error", 756, f"<sip:bob@biloxi.com>;{Z}"),
        _edit(_rep("reply-to-tag-nul-no-second-via-after-it", 757), "tag=tt1\r\n", f"tag=tt1{Z}\r\n"),
    ]
    # the first Via ends at its NUL: parse_msg is content, Max-Forwards after it cannot be reached
    first_via = _edit(_req("first-via-ends-at-nul-maxfwd-unreachable", 763),
                      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc763\r\nMax-Forwards: 70\r\n"
                      "To: <sip:bob@biloxi.com>\r\nFrom: <sip:alice@atlanta.com>;tag=ft1\r\n"
                      "Call-ID: call-763@atlanta.com\r\nCSeq: 763 OPTIONS\r\n",
                      "To: <sip:bob@biloxi.com>\r\nFrom: <sip:alice@atlanta.com>;tag=ft1\r\n"
                      f"Call-ID: call-763@atlanta.com\r\nCSeq: 763 OPTIONS\r\nVia: SIP/2.0/UDP 192.0.2.1{Z}\r\n"
                      "Max-Forwards: 70\r\n")
    out.append(first_via)
    to_then_nul = _req("to-then-nul-line-is-end-of-header", 749, extra=("X-A: 1",))
    to_then_nul = _edit(to_then_nul, "To: <sip:bob@biloxi.com>\r\n", f"To: <sip:bob@biloxi.com>\r\n{Z}Y: 1\r\n")
    to_fold_nul = _edit(_req("to-then-fold-of-nul-ends-it", 750), "To: <sip:bob@biloxi.com>\r\n",
                        f"To: <sip:bob@biloxi.com>\r\n {Z}\r\n")
    return out + [to_then_nul, to_fold_nul]


def routes() -> list[Msg]:
    """Route values: NULs before a value are skipped, an empty last parameter value passes."""
    bye = {"to": "<sip:bob@biloxi.com>;tag=tt1"}
    return [(name, request("BYE", "sip:bob@192.0.2.4:5070", n=n, extra=(f"Route: {route}",), **bye), UA)
            for n, (name, route) in enumerate([
                ("route-nul-before-value", f"{Z}<sip:192.0.2.77:5080;lr>"),
                ("route-nul-after-comma-kept", f"<sip:127.0.0.1;lr>,{Z}<sip:192.0.2.77:5080;lr>"),
                ("route-empty-last-param-value", "<sip:192.0.2.77:5080;lr>;x="),
                ("route-empty-param-value-before-another-is-an-error", "<sip:192.0.2.77:5080;lr>;x=;y=1"),
                ("route-space-nul-space-at-the-end-is-an-error", f"<sip:192.0.2.77:5080;lr> {Z} "),
            ], start=760)]


def messages() -> list[Msg]:
    return vias() + rports() + numbers() + nuls() + routes()


def registrar_messages() -> list[Msg]:
    """For sipsim/routing/scripts/default.cfg: usrloc keeps 255 bytes of Call-ID; a longer one is
    ``400 Callid too long`` when a binding would be stored, checked before the contact's q."""
    def reg(n: int, callid_len: int, contact: str | None = "<sip:carol@192.0.2.4:5070>", expires: str = "600") -> Msg:
        extra = ((f"Contact: {contact}",) if contact else ()) + (f"Expires: {expires}",)
        data = request("REGISTER", "sip:biloxi.com", to=f"<sip:u{n}@biloxi.com>", frm=f"<sip:u{n}@biloxi.com>;tag=r1",
                       callid=f"{n}" + "k" * (callid_len - len(str(n))), extra=extra, n=n)
        return (f"register-callid-{callid_len}" + ("" if contact else "-query") + ("-remove" if expires == "0" else "")
                + (";q=2" if contact and "q=2" in contact else ""), data, PHONE)
    return [reg(781, 255), reg(782, 256), reg(783, 256, None), reg(784, 256, expires="0"),
            reg(785, 256, "<sip:carol@192.0.2.4:5070>;q=2")]
