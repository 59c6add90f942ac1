"""Crafted SIP messages for the routing tests: registrations, in-dialog requests with Route
headers (loose, strict, pre-loaded), replies with two Vias, and broken ones."""

from __future__ import annotations

Addr = tuple[str, int]
UA = ("192.0.2.1", 5060)


def request(method: str, ruri: str, *, via: str = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc{n}",
            to: str = "<sip:bob@biloxi.com>", frm: str = "<sip:alice@atlanta.com>;tag=ft1",
            callid: str = "call-{n}@atlanta.com", cseq: str | None = None, extra: tuple[str, ...] = (),
            maxfwd: str | None = "70", body: str = "", n: int = 1) -> bytes:
    lines = [f"{method} {ruri} SIP/2.0", "Via: " + via.format(n=n)]
    if maxfwd is not None:
        lines.append(f"Max-Forwards: {maxfwd}")
    lines += [f"To: {to}", f"From: {frm}", f"Call-ID: {callid.format(n=n)}",
              f"CSeq: {cseq or f'{n} {method}'}"]
    lines += list(extra)
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def reply(code: int, reason: str, *, vias: tuple[str, ...], method: str = "INVITE", extra: tuple[str, ...] = (),
          to_tag: str = "tt1") -> bytes:
    lines = [f"SIP/2.0 {code} {reason}".rstrip()] + [f"Via: {v}" for v in vias]
    lines += [f"To: <sip:bob@biloxi.com>;tag={to_tag}", "From: <sip:alice@atlanta.com>;tag=ft1",
              "Call-ID: call-r@atlanta.com", f"CSeq: 1 {method}"] + list(extra) + ["Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


OURS = "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKours1"
UAC_VIA = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKuac1;rport=5062;received=192.0.2.91"


def dialog_messages() -> list[tuple[str, bytes, Addr]]:
    """Registration, calls and in-dialog requests through a record-routing proxy."""
    return [
        ("register-bob", request("REGISTER", "sip:registrar.biloxi.com", to="<sip:bob@biloxi.com>",
                                 frm="<sip:bob@biloxi.com>;tag=r1",
                                 extra=("Contact: <sip:bob@192.0.2.4:5070>", "Expires: 600"), n=10),
         ("192.0.2.4", 5070)),
        ("invite-bob", request("INVITE", "sip:bob@biloxi.com", extra=("Contact: <sip:alice@192.0.2.1>",), n=11), UA),
        ("invite-elsewhere", request("INVITE", "sip:carol@192.0.2.30:5090", n=12), UA),
        ("bye-loose-route", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                                    extra=("Route: <sip:127.0.0.1;lr;ftag=ft1>, <sip:192.0.2.77:5080;lr>",), n=13), UA),
        ("bye-two-route-headers", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                                          extra=("Route: <sip:127.0.0.1;lr>", "Route: <sip:192.0.2.77:5080;lr>"),
                                          n=14), UA),
        ("bye-strict-next", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                                    extra=("Route: <sip:127.0.0.1;lr>, <sip:192.0.2.88:5090>",
                                           "Route: <sip:192.0.2.89;lr>"), n=15), UA),
        ("bye-after-strict", request("BYE", "sip:127.0.0.1", to="<sip:bob@biloxi.com>;tag=tt1",
                                     extra=("Route: <sip:192.0.2.77:5080;lr>", "Route: <sip:bob@192.0.2.4:5070>"),
                                     n=16), UA),
        ("ack-foreign-route", request("ACK", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                                      extra=("Route: <sip:192.0.2.66:5066;lr>",), n=17), UA),
        ("invite-preloaded", request("INVITE", "sip:bob@192.0.2.4:5070", extra=("Route: <sip:127.0.0.1;lr>",), n=18),
         UA),
        ("bye-maddr", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                              extra=("Route: <sip:127.0.0.1;lr>, <sip:proxy.invalid;lr;maddr=192.0.2.99>",), n=19),
         UA),
        ("bye-no-route", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1", n=20), UA),
        ("options-server", request("OPTIONS", "sip:127.0.0.1", n=21), UA),
        ("maxfwd-zero", request("INVITE", "sip:bob@biloxi.com", maxfwd="0", n=22), UA),
        ("no-maxfwd-rport", request("MESSAGE", "sip:carol@192.0.2.30:5090", maxfwd=None,
                                    via="SIP/2.0/UDP 192.0.2.1:5099;rport;branch=z9hG4bKc{n}", body="hello", n=23),
         ("192.0.2.1", 5061)),
        ("bad-cseq-method", request("INVITE", "sip:bob@biloxi.com", cseq="5 BYE", n=24), UA),
        ("missing-callid", request("INVITE", "sip:bob@biloxi.com", callid="", n=25).replace(b"Call-ID: \r\n", b""), UA),
        ("reply-180", reply(180, "Ringing", vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)),
        ("reply-183", reply(183, "Session Progress", vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)),
        ("reply-181", reply(181, "Call Is Being Forwarded", vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)),
        ("reply-200-two-values", reply(200, "OK", vias=(OURS + ", SIP/2.0/UDP 192.0.2.1:5063;branch=z9hG4bKv2",)),
         ("192.0.2.4", 5070)),
        ("reply-302", reply(302, "Moved", vias=(OURS, "SIP/2.0/UDP 192.0.2.1:5064;branch=z9hG4bKv3")),
         ("192.0.2.4", 5070)),
        ("reply-one-via", reply(200, "OK", vias=(OURS,)), ("192.0.2.4", 5070)),
        ("reply-bye-200", reply(200, "OK", vias=(OURS, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKv4"), method="BYE"),
         ("192.0.2.4", 5070)),
    ]


def control_messages() -> list[tuple[str, bytes, Addr]]:
    """One INVITE per case of tests/routing/cfgs/control.cfg (selected by X-Test), then replies."""
    cases = ["returns", "loop", "ints", "strings", "elems", "pvs", "flags", "rewrite", "fwdhost", "runaway",
             "rcquirks", "recursion", "drop", "zero", "other", "returns"]
    out: list[tuple[str, bytes, Addr]] = []
    for i, case in enumerate(cases):
        extra = (f"X-Test: {case}", "User-Agent: sipsim-test/1", "Contact: <sip:alice@192.0.2.1>",
                 "Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKold")
        name = f"control-{case}" + ("-again" if any(o[0] == f"control-{case}" for o in out) else "")
        out.append((name, request("INVITE", "sip:bob@biloxi.com", extra=extra, n=100 + i), UA))
    for code, reason in ((180, "Ringing"), (183, "Session Progress"), (181, "Forwarded"), (302, "Moved"),
                         (200, "OK")):
        out.append((f"control-reply-{code}", reply(code, reason, vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)))
    return out


def header_messages() -> list[tuple[str, bytes, Addr]]:
    """For tests/routing/cfgs/headers.cfg."""
    secret = ("X-Secret: 1234", "Subject: urgent call")
    return [
        ("register-no-contact", request("REGISTER", "sip:registrar.biloxi.com", to="<sip:bob@biloxi.com>",
                                        frm="<sip:bob@biloxi.com>;tag=r0", n=30), ("192.0.2.4", 5070)),
        ("register-default-expires", request("REGISTER", "sip:registrar.biloxi.com", to="<sip:bob@biloxi.com>",
                                             frm="<sip:bob@biloxi.com>;tag=r1",
                                             extra=("Contact: <sip:bob@192.0.2.4:5070>",), n=31), ("192.0.2.4", 5070)),
        ("register-short-expires", request("REGISTER", "sip:registrar.biloxi.com", to="<sip:carol@biloxi.com>",
                                           frm="<sip:carol@biloxi.com>;tag=r2",
                                           extra=("Contact: <sip:carol@192.0.2.5>;expires=30",), n=32),
         ("192.0.2.5", 5060)),
        ("invite-bob-urgent", request("INVITE", "sip:bob@biloxi.com", extra=secret, maxfwd="70", n=33), UA),
        ("invite-carol", request("INVITE", "sip:carol@biloxi.com", extra=("X-Secret: s",), n=34), UA),
        ("invite-unknown", request("INVITE", "sip:dave@biloxi.com", n=35), UA),
        ("invite-preloaded", request("INVITE", "sip:bob@192.0.2.4:5070", extra=("Route: <sip:127.0.0.1;lr>",),
                                     n=36), UA),
        ("bye-loose", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                              extra=("Route: <sip:127.0.0.1;lr>, <sip:192.0.2.77:5080;lr>", "X-Secret: x"), n=37),
         UA),
        ("bye-strict", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1",
                               extra=("Route: <sip:127.0.0.1;lr>", "Route: <sip:192.0.2.88:5090>"), n=38), UA),
        ("bye-no-route", request("BYE", "sip:bob@192.0.2.4:5070", to="<sip:bob@biloxi.com>;tag=tt1", n=39), UA),
        ("maxfwd-1", request("INVITE", "sip:carol@192.0.2.30", maxfwd="1", n=40), UA),
        ("maxfwd-0", request("INVITE", "sip:carol@192.0.2.30", maxfwd="0", n=41), UA),
        ("reply-180-internal", reply(180, "Ringing", vias=(OURS, UAC_VIA), extra=("X-Internal: a", "X-Internal: b")),
         ("192.0.2.4", 5070)),
        ("reply-200-drop", reply(200, "OK", vias=(OURS, UAC_VIA), extra=("X-Drop: yes",)), ("192.0.2.4", 5070)),
        ("reply-486", reply(486, "Busy Here", vias=(OURS, "SIP/2.0/UDP 192.0.2.1:5065;branch=z9hG4bKb")),
         ("192.0.2.4", 5070)),
    ]


def blocklist_messages() -> list[tuple[str, bytes, Addr]]:
    """For sipsim/routing/scripts/registrar-blocklist.cfg."""
    def reg(user: str, n: int, *extra: str) -> bytes:
        return request("REGISTER", "sip:registrar.biloxi.com", to=f"<sip:{user}@biloxi.com>",
                       frm=f"<sip:{user}@biloxi.com>;tag=b{n}", extra=(f"Contact: <sip:{user}@192.0.2.40:5060>",
                                                                      *extra), n=n)

    return [
        ("register-blocked-net", reg("bob", 50), ("192.0.2.200", 5060)),
        ("register-scanner", reg("bob", 51, "User-Agent: friendly-scanner"), ("192.0.2.41", 5060)),
        ("register-mallory", reg("mallory", 52), ("192.0.2.42", 5060)),
        ("register-eve", reg("eve", 53), ("192.0.2.43", 5060)),
        ("register-bob", reg("bob", 54), ("192.0.2.40", 5060)),
        ("register-foreign", request("REGISTER", "sip:example.com", to="<sip:bob@example.com>",
                                     frm="<sip:bob@example.com>;tag=f", extra=("Contact: <sip:bob@192.0.2.40>",), n=55),
         ("192.0.2.40", 5060)),
        ("options-server", request("OPTIONS", "sip:biloxi.com", n=56), UA),
        ("invite-bob", request("INVITE", "sip:bob@biloxi.com", n=57), UA),
        ("invite-unknown", request("INVITE", "sip:zoe@biloxi.com", n=58), UA),
        ("ack-unknown", request("ACK", "sip:zoe@biloxi.com", n=59), UA),
        ("invite-foreign", request("INVITE", "sip:bob@example.com", n=60), UA),
        ("unregister-bob", reg("bob", 61, "Expires: 0"), ("192.0.2.40", 5060)),
        ("invite-bob-gone", request("INVITE", "sip:bob@biloxi.com", n=62), UA),
        ("register-mallory-again", reg("mallory", 63), ("192.0.2.42", 5060)),
    ]


def registrar_messages() -> list[tuple[str, bytes, Addr]]:
    """REGISTERs that exercise usrloc's rules: the CSeq rule, q and the order of contacts, the
    registrar's errors (P-Registrar-Error) and all-or-nothing updates; INVITEs show which contact
    lookup() picks. For default.cfg, after an empty location table."""
    phone = ("192.0.2.4", 5070)

    def reg(n: int, cseq: int, *extra: str, callid: str = "reg-a@x") -> bytes:
        return request("REGISTER", "sip:registrar.biloxi.com", to="<sip:carol@biloxi.com>",
                       frm="<sip:carol@biloxi.com>;tag=r1", callid=callid, cseq=f"{cseq} REGISTER", extra=extra, n=n)

    def invite(n: int) -> bytes:
        return request("INVITE", "sip:carol@biloxi.com", n=n)

    c = "Contact: <sip:carol@192.0.2.{}:5070>{}"
    return [
        ("reg-a", reg(70, 5, c.format(4, ""), "Expires: 500"), phone),
        ("reg-a-lower-cseq", reg(71, 3, c.format(4, ""), "Expires: 300"), phone),
        ("reg-a-same-cseq", reg(72, 5, c.format(4, ""), "Expires: 400"), phone),
        ("reg-b-other-callid", reg(73, 1, c.format(5, ""), "Expires: 400", callid="reg-b@x"), phone),
        ("reg-a-refresh", reg(74, 6, c.format(4, ""), "Expires: 450"), phone),
        ("invite-first-contact", invite(75), UA),
        ("reg-c-q0", reg(76, 1, c.format(6, ";q=0"), "Expires: 600", callid="reg-c@x"), phone),
        ("reg-d-q1", reg(77, 1, c.format(7, ";q=1.0"), "Expires: 600", callid="reg-d@x"), phone),
        ("invite-highest-q", invite(78), UA),
        ("reg-a-q-changes", reg(79, 7, c.format(4, ";q=0.7"), "Expires: 300"), phone),
        ("invite-after-q-change", invite(80), UA),
        ("reg-q-decimals", reg(81, 1, c.format(8, ";q=0.1255"), "Expires: 100", callid="reg-e@x"), phone),
        ("reg-q-bad", reg(82, 1, c.format(9, ";q=0."), "Expires: 100", callid="reg-f@x"), phone),
        ("reg-q-above-one", reg(83, 1, c.format(9, ";q=1.5"), "Expires: 100", callid="reg-g@x"), phone),
        ("reg-two-one-stale", reg(84, 2, f"{c.format(10, '')}, <sip:carol@192.0.2.4:5070>", "Expires: 100"),
         phone),
        ("reg-expires-param-bad", reg(85, 1, c.format(11, ";expires=abc"), "Expires: 100", callid="reg-h@x"), phone),
        ("reg-expires-small", reg(86, 1, c.format(12, ""), "Expires: 5", callid="reg-i@x"), phone),
        ("unreg-a-lower-cseq", reg(87, 2, c.format(4, ""), "Expires: 0"), phone),
        ("star-without-expires", reg(88, 9, "Contact: *"), phone),
        ("star-expires-300", reg(89, 10, "Contact: *", "Expires: 300"), phone),
        # parameters with an empty value: Kamailio's parse_params() accepts one only at the end of
        # the header body; the registrar reads an empty q as no q and an empty expires as no
        # expires parameter; quotes are taken off a value ('q="0.5"')
        ("reg-q-empty", reg(93, 1, c.format(13, ";q="), "Expires: 120", callid="reg-j@x"), phone),
        ("reg-q-no-value", reg(94, 1, c.format(14, ";q;foo"), "Expires: 130", callid="reg-k@x"), phone),
        ("reg-q-empty-quoted", reg(95, 1, c.format(15, ';q="";expires=""'), "Expires: 140", callid="reg-l@x"), phone),
        ("reg-expires-empty", reg(96, 1, c.format(16, ";q=0.5;expires= "), "Expires: 150", callid="reg-m@x"), phone),
        ("reg-empty-not-last", reg(97, 1, c.format(17, ";expires=;q=0.5"), "Expires: 150", callid="reg-n@x"), phone),
        ("reg-q-quoted", reg(98, 1, c.format(18, ";q='0.25'"), "Expires: 160", callid="reg-o@x"), phone),
        # one header's contacts reach the registrar last first (parse_contact() prepends): with
        # equal q, 20 is older than 19 in usrloc's list
        ("reg-two-in-one-header", reg(99, 1, c.format(19, ", <sip:carol@192.0.2.20:5070>;q="), "Expires: 170",
                                      callid="reg-p@x"), phone),
        # Kamailio's registrar does not read Require: this binds (the ser profile answers 420 here,
        # as a UAS must: tests/routing/test_uas_require.py)
        ("reg-require-path", reg(100, 1, c.format(21, ""), "Expires: 180", "Require: path", callid="reg-q@x"), phone),
        ("query", reg(90, 11), phone),
        ("star-unregister-all", reg(91, 12, "Contact: *", "Expires: 0"), phone),
        ("invite-nobody-left", invite(92), UA),
    ]


def value_messages() -> list[tuple[str, bytes, Addr]]:
    """For cfgs/values.cfg: AVPs, $hdr indexes, folded constants, run-time parameters, `status`."""
    vias = ("Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKv1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKv2",
            "Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKv3")
    return [
        ("values-invite", request("INVITE", "sip:bob@192.0.2.30:5070", extra=vias + ("X-Drop: 1", "X-Keep: yes"),
                                  n=101), UA),
        ("values-maxfwd", request("OPTIONS", "sip:carol@192.0.2.30", maxfwd="0", n=102), UA),
        ("values-answer", request("MESSAGE", "sip:answer@192.0.2.30", extra=("X-Keep: no",), n=103), UA),
        ("values-180", reply(180, "Ringing", vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)),
        ("values-503", reply(503, "Service Unavailable", vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)),
        ("values-200", reply(200, "OK", vias=(OURS, UAC_VIA)), ("192.0.2.4", 5070)),
    ]


def cseq_messages() -> list[tuple[str, bytes, Addr]]:
    """CSeq numbers that are not numbers: Kamailio's core lets them through to the script (for
    tests/routing/cfgs/cseq.cfg); a CSeq without a number or a method is dropped by the core."""
    out: list[tuple[str, bytes, Addr]] = []
    for n, (name, cseq) in enumerate((("cseq-letters", "x OPTIONS"), ("cseq-digits-letters", "12a OPTIONS"),
                                      ("cseq-negative", "-1 OPTIONS"), ("cseq-no-number", "OPTIONS"),
                                      ("cseq-no-method", "1"), ("cseq-too-big", "99999999999 OPTIONS"),
                                      ("cseq-fine", "1 OPTIONS")), start=100):
        out.append((name, request("OPTIONS", "sip:127.0.0.1", cseq=cseq, n=n), UA))
    for n, cseq in ((110, "x REGISTER"), (111, "-2 REGISTER")):
        out.append((f"register-cseq-{cseq.split()[0]}", request(
            "REGISTER", "sip:127.0.0.1", to="<sip:bob@127.0.0.1>", frm="<sip:bob@127.0.0.1>;tag=1", cseq=cseq,
            extra=("Contact: <sip:bob@192.0.2.4>",), n=n), ("192.0.2.4", 5060)))
    return out


def alias_messages() -> list[tuple[str, bytes, Addr]]:
    """For tests/routing/cfgs/aliases.cfg: one OPTIONS per Request-URI, myself or not."""
    ruris = {
        "alias-v6-port": "sip:a@[2001:db8::1]:5070", "alias-v6-other-port": "sip:a@[2001:db8::1]:5071",
        "alias-v6-no-port": "sip:a@[2001:db8::1]", "alias-v6-upper-case": "sip:a@[2001:DB8::1]:5070",
        "alias-v6-other-spelling": "sip:a@[2001:db8:0::1]:5070", "alias-v6-any-port": "sip:a@[2001:db8::2]:7000",
        "alias-v6-bare": "sip:a@[2001:db8::4]:5090", "alias-proto-port": "sip:a@example.org:5080",
        "alias-proto-no-port": "sip:a@example.org", "alias-tcp-on-udp": "sip:a@example.com:5090",
        "alias-v4-port": "sip:a@10.0.0.9:5090", "alias-v4-default-port": "sip:a@10.0.0.9",
        "alias-name-any-port": "sip:a@biloxi.com:5099",
    }
    return [(name, request("OPTIONS", ruri, n=n), UA) for n, (name, ruri) in enumerate(ruris.items(), start=120)]

