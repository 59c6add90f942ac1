"""The registrar's share of the fuzz-found messages (see fuzzfound.py): ``save()`` and ``lookup()``
of Kamailio 5.6's registrar behind default.cfg's ``sanity_check()`` -- CSeq and Expires edge
cases, outbound phones (``+sip.instance``, ``reg-id``), one URI bound twice, a bad contact
half-way through a REGISTER, what the first contact read passes on, and the rest of what the
random REGISTER-sequence fuzz (fuzz_registrar.py) found."""

from __future__ import annotations

from routing.crafted import request

Addr = tuple[str, int]
UA: Addr = ("192.0.2.1", 5060)
PHONE: Addr = ("192.0.2.4", 5070)


def registrar_default_messages() -> list[tuple[str, bytes, Addr]]:
    """save() and lookup() of Kamailio 5.6's registrar, behind default.cfg's sanity_check()."""
    def reg(name: str, n: int, user: str, *extra: str, to: str | None = None, cseq: str | None = None,
            callid: str | None = None) -> tuple[str, bytes, Addr]:
        return (name, request("REGISTER", "sip:registrar.biloxi.com", to=to or f"<sip:{user}@biloxi.com>",
                              frm=f"<sip:{user}@biloxi.com>;tag=r{n}", callid=callid or f"fuzz-r{n}@x",
                              cseq=cseq, extra=extra, n=n), PHONE)

    def invite(name: str, n: int, ruri: str) -> tuple[str, bytes, Addr]:
        return (name, request("INVITE", ruri, n=n), UA)

    def outbound(name: str, n: int, port: int, instance: str, reg_id: int, cseq: int,
                 tail: str = "") -> tuple[str, bytes, Addr]:
        return reg(name, n, "dan", f'Contact: <sip:dan@192.0.2.61:{port}>;+sip.instance="{instance}";reg-id={reg_id}'
                   + tail, callid="fuzz-dan@x", cseq=f"{cseq} REGISTER")

    # an outbound phone (RFC 5626) is matched by +sip.instance and reg-id, whatever its URI:
    # registering again from a new port replaces its binding; the stored instance stays as written
    instance_flow = [
        outbound("register-instance-first", 459, 5070, "<urn:uuid:A>", 1, 1),
        outbound("register-instance-new-port-replaces", 460, 5072, "<urn:uuid:A>", 1, 2),
        invite("invite-instance-goes-to-new-port", 461, "sip:dan@biloxi.com"),
        outbound("register-instance-other-reg-id-adds", 462, 5076, "<urn:uuid:A>", 2, 3),
        outbound("register-instance-without-brackets-matches", 463, 5078, "urn:uuid:A", 2, 4),
        outbound("register-instance-removed-by-instance", 464, 5099, "<urn:uuid:A>", 1, 5, ";expires=0"),
    ]

    def eve(name: str, n: int, cseq: int, contact: str) -> tuple[str, bytes, Addr]:
        return reg(name, n, "eve", f"Contact: {contact}", callid="fuzz-eve@x", cseq=f"{cseq} REGISTER")

    # usrloc matches a contact with an instance by instance only: one URI can be bound twice,
    # once without an instance and once with one (and a contact without one finds the first)
    plain, flow = "<sip:eve@192.0.2.72:5070>", '<sip:eve@192.0.2.72:{}>;+sip.instance="<urn:uuid:E>";reg-id=1'
    same_uri_flow = [
        eve("register-uri-without-instance", 470, 1, plain),
        eve("register-same-uri-with-instance-adds", 471, 2, flow.format(5070)),
        eve("register-same-uri-without-instance-refreshes-first", 472, 3, plain + ";q=0.5"),
        invite("invite-same-uri-twice-first-wins", 473, "sip:eve@biloxi.com"),
        eve("register-instance-moves-to-other-port", 474, 4, flow.format(5072)),
        eve("register-instance-moves-back-to-bound-uri", 475, 5, flow.format(5070) + ";q=0.9"),
        eve("register-same-uri-removed-by-uri", 476, 6, plain + ";expires=0"),
        eve("register-same-uri-removed-again", 477, 7, plain + ";expires=0"),
        eve("register-same-uri-remove-absent-refresh-instance", 478, 8, plain + ";expires=0, " + flow.format(5070)),
    ]

    def ivy(name: str, n: int, cseq: int, contacts: str) -> tuple[str, bytes, Addr]:
        return reg(name, n, "ivy", f"Contact: {contacts}", callid="fuzz-ivy@x", cseq=f"{cseq} REGISTER")

    # update_contacts() changes usrloc contact by contact (last first): an error half-way keeps what
    # the contacts before it did, and the error answer lists it (a new AOR keeps nothing)
    partial_flow = [
        ivy("register-partial-new-aor-bad-q-keeps-nothing", 480, 1, "<sip:ivy@192.0.2.73>;q=0., <sip:ivy@192.0.2.74>"),
        ivy("register-partial-first", 481, 2, "<sip:ivy@192.0.2.73>"),
        ivy("register-partial-bad-q-keeps-the-insert", 482, 3, "<sip:ivy@192.0.2.75>;q=1., <sip:ivy@192.0.2.76>"),
        ivy("register-partial-bad-q-keeps-the-removal", 483, 4,
            "<sip:ivy@192.0.2.77>;q=2, <sip:ivy@192.0.2.76>;expires=0"),
        ivy("register-partial-old-cseq-keeps-the-insert", 484, 1, "<sip:ivy@192.0.2.73>, <sip:ivy@192.0.2.78>"),
        ivy("register-partial-query", 485, 9, "<sip:ivy@192.0.2.79>;expires=0"),
    ]
    def kit(name: str, n: int, *contacts: str) -> tuple[str, bytes, Addr]:
        user = f"kit{n}"  # a new AOR each
        return reg(name, n, user, *(f"Contact: {c}".replace("USER", user) for c in contacts), callid=f"fuzz-kit{n}@x")

    # insert_contacts() packs the first contact it stores with what the *first* contact of the list
    # says (pack_ci() reads the message's first contact; a header's contacts are read last first):
    # when that one was skipped (expires=0), its q, received and instance go to the contact stored
    head_flow = [
        kit("register-new-aor-skipped-head-no-q", 486, "<sip:USER@192.0.2.80>;q=0.7, <sip:USER@192.0.2.81>;expires=0"),
        kit("register-new-aor-skipped-head-q", 487,
            "<sip:USER@192.0.2.80>;q=0.7, <sip:USER@192.0.2.81>;expires=0;q=0.2"),
        kit("register-new-aor-skipped-head-bad-q", 488, "<sip:USER@192.0.2.80>, <sip:USER@192.0.2.81>;expires=0;q=x"),
        kit("register-new-aor-only-skipped-bad-q", 489, "<sip:USER@192.0.2.81>;expires=0;q=x"),
        kit("register-new-aor-skipped-head-instance", 490,
            '<sip:USER@192.0.2.80>, <sip:USER@192.0.2.81>;expires=0;+sip.instance="<urn:uuid:K>";reg-id=1'),
        kit("register-new-aor-skipped-head-received", 491,
            '<sip:USER@192.0.2.80>, <sip:USER@192.0.2.81>;expires=0;received="sip:192.0.2.99:5999"'),
        kit("register-new-aor-skipped-head-two-headers", 492, "<sip:USER@192.0.2.81>;expires=0;q=0.9",
            "<sip:USER@192.0.2.80>;q=0.3, <sip:USER@192.0.2.82>;q=0.4"),
        kit("register-new-aor-head-first-header-stored", 493, "<sip:USER@192.0.2.80>;q=0.3",
            "<sip:USER@192.0.2.81>;expires=0;q=0.9, <sip:USER@192.0.2.82>"),
        kit("register-new-aor-two-skipped", 494,
            "<sip:USER@192.0.2.80>;q=0.6, <sip:USER@192.0.2.81>;expires=0, <sip:USER@192.0.2.82>;expires=0;q=0.1"),
    ]
    def lou(name: str, n: int, cseq: int, contacts: str) -> tuple[str, bytes, Addr]:
        return reg(name, n, "lou", f"Contact: {contacts}", callid="fuzz-lou@x", cseq=f"{cseq} REGISTER")

    # a contact with an instance is found by it without the CSeq rule (get_ucontact_by_instance());
    # pack_ci()'s reg-id stays from the last contact that had one beside an instance
    b, d = '+sip.instance="<urn:uuid:B>";reg-id=1', '+sip.instance="<urn:uuid:D>"'
    regid_flow = [
        lou("register-instance-cseq-5", 528, 5, f"<sip:lou@192.0.2.72>;{b}"),
        lou("register-instance-lower-cseq-still-updates", 529, 3, f"<sip:lou@192.0.2.73>;{b}"),
        lou("register-instance-same-cseq-still-updates", 530, 3, f"<sip:lou@192.0.2.74>;{b};q=0.5"),
        lou("register-reg-id-passes-to-the-next-contact", 531, 6,
            f"<sip:lou@192.0.2.31>, <sip:lou@192.0.2.32>;{d};reg-id=2"),
        lou("register-reg-id-starts-from-0-each-register", 532, 7,
            f"<sip:lou@192.0.2.31>;expires=0, <sip:lou@192.0.2.33>;{d}"),
    ]
    def mia(name: str, n: int, callid: str, cseq: int, contacts: str) -> tuple[str, bytes, Addr]:
        return reg(name, n, "mia", f"Contact: {contacts}", callid=callid, cseq=f"{cseq} REGISTER")

    # a contact that refreshes an instance bound under another Call-ID is the last one read; a new
    # AOR's first stored contact takes received from the first contact too
    stop_flow = [
        mia("register-mia-plain", 535, "fuzz-mia-1@x", 1, "<sip:mia@192.0.2.9>"),
        mia("register-mia-instance", 536, "fuzz-mia-1@x", 2, f"<sip:mia@192.0.2.72>;{b}"),
        mia("register-instance-other-call-id-reads-no-further", 537, "fuzz-mia-2@x", 1,
            f"<sip:mia@192.0.2.33>;q=0.5, <sip:mia@192.0.2.34>, <sip:mia@192.0.2.72>;{b}"),
        mia("register-instance-same-call-id-reads-on", 538, "fuzz-mia-2@x", 2,
            f"<sip:mia@192.0.2.35>;q=0.5, <sip:mia@192.0.2.72>;{b}"),
        # a restarted phone (a new Call-ID for its instance) loses its other bindings of that instance
        mia("register-mia-second-flow", 550, "fuzz-mia-1@x", 3, '<sip:mia@192.0.2.62>;+sip.instance="<urn:uuid:B>"'),
        mia("register-mia-third-flow", 551, "fuzz-mia-3@x", 1,
            '<sip:mia@192.0.2.67>;+sip.instance="<urn:uuid:B>";reg-id=3'),
        mia("register-instance-new-call-id-removes-its-other-flows", 552, "fuzz-mia-4@x", 1,
            '<sip:mia@192.0.2.65>;+sip.instance="<urn:uuid:B>"'),
        kit("register-new-aor-skipped-head-no-received", 539, '<sip:USER@192.0.2.80>;received="sip:192.0.2.99:6000", '
            "<sip:USER@192.0.2.81>;expires=0"),
    ]
    return [
        reg("register-cseq-2-pow-32-new-aor", 420, "erin", "Contact: <sip:erin@192.0.2.70>",
            cseq="4294967296 REGISTER"),
        reg("register-cseq-2-pow-32-expires-0", 421, "erin", "Contact: <sip:erin@192.0.2.70>;expires=0",
            cseq="4294967296 REGISTER"),
        reg("register-erin", 422, "erin", "Contact: <sip:erin@192.0.2.70>", callid="fuzz-erin@x"),
        reg("register-cseq-2-pow-32-known-aor-listed", 423, "erin", "Contact: <sip:erin@192.0.2.71>;expires=0",
            cseq="4294967296 REGISTER", callid="fuzz-erin@x"),
        reg("register-contact-twice-known-aor-first-counts", 424, "erin",
            "Contact: <sip:erin@192.0.2.72>;q=0.5, <sip:erin@192.0.2.72>;q=0.7"),
        reg("register-contact-twice-new-aor-last-counts", 425, "fay",
            "Contact: <sip:fay@192.0.2.73>;q=0.5, <sip:fay@192.0.2.73>;q=0.7"),
        reg("register-contact-twice-expires", 426, "gus",
            "Contact: <sip:gus@192.0.2.74>;expires=100, <sip:gus@192.0.2.74>;expires=200"),
        reg("register-last-q-counts", 427, "gus", "Contact: <sip:gus@192.0.2.75>;q=0.5;q=1"),
        reg("register-star-expires-2-pow-32", 428, "gus", "Contact: *", "Expires: 4294967296"),
        reg("register-two-stars", 429, "fay", "Contact: *", "Contact: *", "Expires: 0"),
        reg("register-star-after-a-contact", 430, "fay", "Contact: <sip:fay@192.0.2.73>", "Contact: *", "Expires: 5"),
        reg("register-star-then-text", 431, "fay", "Contact: *, <sip:fay@192.0.2.76>", "Expires: 60"),
        reg("register-expires-first-word", 432, "hal", "Contact: <sip:hal@192.0.2.77>", "Expires: 120 x"),
        reg("register-expires-2-pow-31-default", 433, "hal", "Contact: <sip:hal@192.0.2.78>", "Expires: 2147483648"),
        reg("register-to-escapes-nul", 434, "ida", "Contact: <sip:ida@192.0.2.79>",
            to="<sip:null-%00-null@biloxi.com>"),
        reg("register-to-tel-aor-is-the-number", 435, "ida", "Contact: <sip:ida@192.0.2.80>", to="<tel:+12015550123>"),
        invite("invite-tel-aor-found", 436, "sip:+12015550123@biloxi.com"),
        reg("register-to-urn-aor-is-service", 437, "ida", "Contact: <sip:ida@192.0.2.81>", to="<urn:service:sos>"),
        invite("invite-urn-aor-found", 438, "sip:service@biloxi.com"),
        reg("register-to-uri-with-empty-headers", 439, "jo", "Contact: <sip:jo@192.0.2.82>", to="<sip:jo@biloxi.com?>"),
        reg("register-aor-case-insensitive", 440, "Kim", "Contact: <sip:kim@192.0.2.83>"),
        invite("invite-aor-case-insensitive", 441, "sip:KIM@biloxi.com"),
        reg("register-contact-escaped-backslash-name", 442, "lou", 'Contact: "\\\\" <sip:lou@192.0.2.84>'),
        reg("register-contact-name-before-bare-uri", 443, "lou", "Contact: Lou sip:lou@192.0.2.85"),
        reg("register-contact-space-in-brackets", 444, "lou", "Contact: <sip:lou@192.0.2.86; x=1>"),
        reg("register-contact-empty-element", 445, "lou", "Contact: , <sip:lou@192.0.2.87>"),
        reg("register-contact-name-without-quotes", 446, "lou", "Contact: x, <sip:lou@192.0.2.88>"),
        # ;user=phone: parse_uri() cuts the user at its first ';' (the AOR is the number)
        reg("register-to-user-phone-aor-cut", 447, "nan", "Contact: <sip:nan@192.0.2.89>",
            to="<sip:7042;phone-context=x@biloxi.com;user=phone>"),
        invite("invite-user-phone-aor-found", 448, "sip:7042@biloxi.com"),
        invite("invite-user-phone-ruri-user-cut", 449, "sip:7042;phone-context=y@biloxi.com;user=phone"),
        invite("invite-user-phone-value-is-case-sensitive", 450, "sip:7042;x@biloxi.com;user=Phone"),
        # a preloaded Route to another host: loose_route() sets $du to it, lookup() finding a
        # contact resets $du, forward() sends to the contact
        ("invite-found-foreign-route-du-reset", request("INVITE", "sip:kim@biloxi.com", n=451,
                                                        extra=("Route: <sip:192.0.2.55;lr>",)), UA),
        ("invite-found-ipv6-route-du-reset", request("INVITE", "sip:kim@biloxi.com", n=452,
                                                     extra=("Route: <sip:[2001:db8::7];lr>",)), UA),
        reg("register-q-leading-dot", 454, "pat", "Contact: <sip:pat@192.0.2.91>;q=.5"),
        reg("register-q-leading-zeros", 455, "pat", "Contact: <sip:pat@192.0.2.92>;q=00.50"),
        reg("register-q-zeros-then-one", 456, "pat", "Contact: <sip:pat@192.0.2.93>;q=001.0"),
        reg("register-q-two-zeros", 457, "pat", "Contact: <sip:pat@192.0.2.94>;q=00"),
        reg("register-q-one-point-fails", 458, "pat", "Contact: <sip:pat@192.0.2.95>;q=1."),
        ("invite-found-named-route-du-reset", request("INVITE", "sip:kim@biloxi.com", n=453,
                                                      extra=("Route: <sip:proxy.example.net;lr>",)), UA),
    ] + instance_flow + same_uri_flow + partial_flow + head_flow + regid_flow + stop_flow
