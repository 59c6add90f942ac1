"""Hand-made datagrams that probe what the RFC corpus does not: registration then lookup,
retransmissions and CANCEL/ACK (branch equality), replies with two Vias, Max-Forwards edge cases,
received/rport rules, local replies to myself, datagrams the core refuses.

Order matters: they are meant to be sent in sequence to one Kamailio (the INVITE to alice finds
the contact the REGISTER before it stored). Each has a unique Call-ID unless it belongs to the
same transaction as an earlier one (retransmission, CANCEL, ACK), which is the point.
"""

from __future__ import annotations

from dataclasses import dataclass

Addr = tuple[str, int]
CLIENT: Addr = ("192.0.2.1", 5060)
ALICE_PHONE: Addr = ("192.0.2.101", 5060)


@dataclass(frozen=True)
class Crafted:
    name: str
    description: str
    data: bytes
    src: Addr = CLIENT


def msg(*lines: str, body: str = "") -> bytes:
    """Join header lines with CRLF, add Content-Length (unless one is given) and the body."""
    head = list(lines)
    if not any(h.lower().startswith(("content-length:", "l:")) for h in head[1:]):
        head.append(f"Content-Length: {len(body.encode('latin-1'))}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode("latin-1")


INVITE_FOREIGN = msg(
    "INVITE sip:carol@example.org SIP/2.0",
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKcr-inv-foreign",
    "Max-Forwards: 70",
    "To: Carol <sip:carol@example.org>",
    "From: Alice <sip:alice@atlanta.com>;tag=cr1",
    "Call-ID: crafted-foreign@pc33.atlanta.com",
    "CSeq: 1 INVITE",
    "Contact: <sip:alice@pc33.atlanta.com>",
)

SDP = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


def crafted() -> list[Crafted]:
    """The crafted sequence, in the order it must be sent."""
    return [
        Crafted("register-alice", "REGISTER alice@biloxi.com (an alias with WITH_ALIASES) from her phone; "
                "Contact on port 5062", msg(
                    "REGISTER sip:biloxi.com SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKcr-reg-1",
                    "Max-Forwards: 70",
                    "To: Alice <sip:alice@biloxi.com>",
                    "From: Alice <sip:alice@biloxi.com>;tag=reg1",
                    "Call-ID: crafted-register@192.0.2.101",
                    "CSeq: 1 REGISTER",
                    "Contact: <sip:alice@192.0.2.101:5062>",
                    "Expires: 3600",
                ), ALICE_PHONE),
        Crafted("invite-registered", "INVITE to the registered AOR: lookup rewrites the R-URI to the contact",
                msg(
                    "INVITE sip:alice@biloxi.com SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-inv-reg",
                    "Max-Forwards: 70",
                    "To: Alice <sip:alice@biloxi.com>",
                    "From: Bob <sip:bob@atlanta.com>;tag=cr2",
                    "Call-ID: crafted-registered@192.0.2.1",
                    "CSeq: 7 INVITE",
                    "Contact: <sip:bob@192.0.2.1>",
                    "Content-Type: application/sdp",
                    body=SDP,
                )),
        Crafted("cancel-registered", "CANCEL of invite-registered (same top Via branch): lookup again",
                msg(
                    "CANCEL sip:alice@biloxi.com SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-inv-reg",
                    "Max-Forwards: 70",
                    "To: Alice <sip:alice@biloxi.com>",
                    "From: Bob <sip:bob@atlanta.com>;tag=cr2",
                    "Call-ID: crafted-registered@192.0.2.1",
                    "CSeq: 7 CANCEL",
                )),
        Crafted("invite-foreign", "INVITE to a foreign domain (example.org); Via host is a name, so "
                "received= is added", INVITE_FOREIGN),
        Crafted("invite-foreign-retransmission", "The same bytes again: same branch expected",
                INVITE_FOREIGN),
        Crafted("cancel-foreign", "CANCEL of invite-foreign: same R-URI, Call-ID, CSeq number, top Via",
                msg(
                    "CANCEL sip:carol@example.org SIP/2.0",
                    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKcr-inv-foreign",
                    "Max-Forwards: 70",
                    "To: Carol <sip:carol@example.org>",
                    "From: Alice <sip:alice@atlanta.com>;tag=cr1",
                    "Call-ID: crafted-foreign@pc33.atlanta.com",
                    "CSeq: 1 CANCEL",
                )),
        Crafted("ack-foreign-non2xx", "ACK for a non-2xx answer to invite-foreign (same branch, To-tag)",
                msg(
                    "ACK sip:carol@example.org SIP/2.0",
                    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKcr-inv-foreign",
                    "Max-Forwards: 70",
                    "To: Carol <sip:carol@example.org>;tag=486tag",
                    "From: Alice <sip:alice@atlanta.com>;tag=cr1",
                    "Call-ID: crafted-foreign@pc33.atlanta.com",
                    "CSeq: 1 ACK",
                )),
        Crafted("ack-myself-unregistered", "ACK to an unregistered user at myself: lookup fails, no 404 "
                "(never reply to an ACK)", msg(
                    "ACK sip:nobody@127.0.0.1 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-ack-me",
                    "Max-Forwards: 70",
                    "To: <sip:nobody@127.0.0.1>;tag=x1",
                    "From: <sip:bob@atlanta.com>;tag=cr3",
                    "Call-ID: crafted-ack-me@192.0.2.1",
                    "CSeq: 1 ACK",
                )),
        Crafted("invite-myself-unregistered", "INVITE to an unregistered user at myself (by IP): 404",
                msg(
                    "INVITE sip:nobody@127.0.0.1 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-inv-me",
                    "Max-Forwards: 70",
                    "To: <sip:nobody@127.0.0.1>",
                    "From: <sip:bob@atlanta.com>;tag=cr4",
                    "Call-ID: crafted-inv-me@192.0.2.1",
                    "CSeq: 1 INVITE",
                )),
        Crafted("invite-myself-with-totag", "In-dialog INVITE (To has a tag) to an unregistered user at "
                "myself: does the 404 keep the tag?", msg(
                    "INVITE sip:nobody@127.0.0.1 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-inv-me-2",
                    "Max-Forwards: 70",
                    "To: <sip:nobody@127.0.0.1>;tag=existing-tag",
                    "From: <sip:bob@atlanta.com>;tag=cr4b",
                    "Call-ID: crafted-inv-me-2@192.0.2.1",
                    "CSeq: 2 INVITE",
                )),
        Crafted("options-myself", "OPTIONS to the server itself (no user part): 200 OK; Via has rport, "
                "sent from port 5999", msg(
                    "OPTIONS sip:127.0.0.1 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKcr-opt-1",
                    "Max-Forwards: 70",
                    "To: <sip:127.0.0.1>",
                    "From: <sip:bob@atlanta.com>;tag=cr5",
                    "Call-ID: crafted-options-1@192.0.2.1",
                    "CSeq: 1 OPTIONS",
                    "Accept: application/sdp",
                ), ("192.0.2.1", 5999)),
        Crafted("options-myself-via-port", "OPTIONS to myself, Via port 5070 without rport, sent from "
                "port 5999: where does the 200 go?", msg(
                    "OPTIONS sip:127.0.0.1 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKcr-opt-2",
                    "Max-Forwards: 70",
                    "To: <sip:127.0.0.1>",
                    "From: <sip:bob@atlanta.com>;tag=cr6",
                    "Call-ID: crafted-options-2@192.0.2.1",
                    "CSeq: 1 OPTIONS",
                ), ("192.0.2.1", 5999)),
        Crafted("options-user-myself", "OPTIONS with a user part to myself: lookup, 404", msg(
            "OPTIONS sip:bob@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-opt-3",
            "Max-Forwards: 70",
            "To: <sip:bob@127.0.0.1>",
            "From: <sip:bob@atlanta.com>;tag=cr7",
            "Call-ID: crafted-options-3@192.0.2.1",
            "CSeq: 1 OPTIONS",
        )),
        Crafted("via-matches-source", "Via sent-by equals the source address: no received=", msg(
            "MESSAGE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-src-ok",
            "Max-Forwards: 70",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr8",
            "Call-ID: crafted-src-ok@192.0.2.1",
            "CSeq: 1 MESSAGE",
            "Content-Type: text/plain",
            body="hello",
        )),
        Crafted("via-rport-request", "Via with empty rport, sent from port 5999: received= and rport=5999",
                msg(
                    "MESSAGE sip:carol@192.0.2.9 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKcr-rport",
                    "Max-Forwards: 70",
                    "To: <sip:carol@192.0.2.9>",
                    "From: <sip:bob@atlanta.com>;tag=cr9",
                    "Call-ID: crafted-rport@192.0.2.1",
                    "CSeq: 1 MESSAGE",
                ), ("192.0.2.1", 5999)),
        Crafted("via-rport-last", "Empty rport after the branch, sent from port 5999: filled in place?",
                msg(
                    "MESSAGE sip:carol@192.0.2.9 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-rport-last;rport",
                    "Max-Forwards: 70",
                    "To: <sip:carol@192.0.2.9>",
                    "From: <sip:bob@atlanta.com>;tag=cr9b",
                    "Call-ID: crafted-rport-last@192.0.2.1",
                    "CSeq: 1 MESSAGE",
                ), ("192.0.2.1", 5999)),
        Crafted("via-received-stale", "Via already has received= (wrong) and rport=1234: both replaced",
                msg(
                    "MESSAGE sip:carol@192.0.2.9 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;received=10.0.0.1;rport=1234;branch=z9hG4bKcr-stale",
                    "Max-Forwards: 70",
                    "To: <sip:carol@192.0.2.9>",
                    "From: <sip:bob@atlanta.com>;tag=cr10",
                    "Call-ID: crafted-stale@192.0.2.1",
                    "CSeq: 1 MESSAGE",
                ), ("192.0.2.1", 5999)),
        Crafted("via-two-values-one-line", "Two Via values on one header line", msg(
            "MESSAGE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.77;branch=z9hG4bKcr-two-a, SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKcr-two-b",
            "Max-Forwards: 70",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr11",
            "Call-ID: crafted-two-vias@192.0.2.1",
            "CSeq: 1 MESSAGE",
        )),
        Crafted("maxfwd-missing", "No Max-Forwards: mf_process_maxfwd_header(\"10\") adds one", msg(
            "INVITE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-mf-none",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr12",
            "Call-ID: crafted-mf-none@192.0.2.1",
            "CSeq: 1 INVITE",
        )),
        Crafted("maxfwd-one", "Max-Forwards: 1 is decremented to 0 and still forwarded", msg(
            "INVITE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-mf-one",
            "Max-Forwards: 1",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr13",
            "Call-ID: crafted-mf-one@192.0.2.1",
            "CSeq: 1 INVITE",
        )),
        Crafted("maxfwd-above-limit", "Max-Forwards: 255 (maxfwd's max_limit is 70)", msg(
            "INVITE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-mf-255",
            "Max-Forwards: 255",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr14",
            "Call-ID: crafted-mf-255@192.0.2.1",
            "CSeq: 1 INVITE",
        )),
        Crafted("maxfwd-ten", "Max-Forwards: 10 (two digits become one?)", msg(
            "INVITE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-mf-10",
            "Max-Forwards: 10",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr14b",
            "Call-ID: crafted-mf-10@192.0.2.1",
            "CSeq: 1 INVITE",
        )),
        Crafted("maxfwd-leading-zeros", "Max-Forwards: 0070", msg(
            "INVITE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-mf-0070",
            "Max-Forwards: 0070",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr14c",
            "Call-ID: crafted-mf-0070@192.0.2.1",
            "CSeq: 1 INVITE",
        )),
        Crafted("ruri-with-port", "R-URI with an explicit port: forwarded to that port", msg(
            "BYE sip:carol@192.0.2.9:5080 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-port",
            "Max-Forwards: 70",
            "To: <sip:carol@192.0.2.9>;tag=t1",
            "From: <sip:bob@atlanta.com>;tag=cr15",
            "Call-ID: crafted-port@192.0.2.1",
            "CSeq: 2 BYE",
        )),
        Crafted("route-header-followed", "in-dialog Route set: loose_route() makes the top Route the next hop", msg(
            "BYE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-route",
            "Route: <sip:192.0.2.77;lr>",
            "Max-Forwards: 70",
            "To: <sip:carol@192.0.2.9>;tag=t2",
            "From: <sip:bob@atlanta.com>;tag=cr16",
            "Call-ID: crafted-route@192.0.2.1",
            "CSeq: 3 BYE",
        )),
        Crafted("sanity-expires", "Expires: abc (sanity check 256)", msg(
            "REGISTER sip:127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-exp",
            "Max-Forwards: 70",
            "To: <sip:bob@127.0.0.1>",
            "From: <sip:bob@127.0.0.1>;tag=cr17",
            "Call-ID: crafted-expires@192.0.2.1",
            "CSeq: 1 REGISTER",
            "Contact: <sip:bob@192.0.2.1>",
            "Expires: abc",
        )),
        Crafted("sanity-digest", "Authorization without nonce (sanity check 2048)", msg(
            "INVITE sip:carol@192.0.2.9 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-auth",
            "Max-Forwards: 70",
            "To: <sip:carol@192.0.2.9>",
            "From: <sip:bob@atlanta.com>;tag=cr18",
            "Call-ID: crafted-auth@192.0.2.1",
            "CSeq: 1 INVITE",
            'Authorization: Digest username="bob", realm="atlanta.com", uri="sip:carol@192.0.2.9", '
            'response="0123456789abcdef0123456789abcdef"',
        )),
        Crafted("reply-two-vias-rport-received", "180 whose 2nd Via has received= and rport=: sent there",
                msg(
                    "SIP/2.0 180 Ringing",
                    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKcr-ours-1",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;rport=5099;received=198.51.100.7;branch=z9hG4bKcr-up-1",
                    "To: <sip:carol@192.0.2.9>;tag=rt1",
                    "From: <sip:bob@atlanta.com>;tag=cr19",
                    "Call-ID: crafted-reply-1@192.0.2.1",
                    "CSeq: 1 INVITE",
                ), ("192.0.2.9", 5060)),
        Crafted("reply-via2-received-port", "200 whose 2nd Via is name:5070;received=IP (no rport)", msg(
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKcr-ours-2",
            "Via: SIP/2.0/UDP pc33.atlanta.com:5070;received=192.0.2.1;branch=z9hG4bKcr-up-2",
            "To: <sip:carol@192.0.2.9>;tag=rt2",
            "From: <sip:bob@atlanta.com>;tag=cr20",
            "Call-ID: crafted-reply-2@192.0.2.1",
            "CSeq: 1 INVITE",
        ), ("192.0.2.9", 5060)),
        Crafted("reply-via2-hostname", "200 whose 2nd Via is a bare host name: resolved (or not)", msg(
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKcr-ours-3",
            "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKcr-up-3",
            "To: <sip:carol@192.0.2.9>;tag=rt3",
            "From: <sip:bob@atlanta.com>;tag=cr21",
            "Call-ID: crafted-reply-3@192.0.2.1",
            "CSeq: 1 INVITE",
        ), ("192.0.2.9", 5060)),
        Crafted("reply-via1-not-ours", "Reply whose top Via is someone else (check_via=0: no check)", msg(
            "SIP/2.0 486 Busy Here",
            "Via: SIP/2.0/UDP 192.0.2.200;branch=z9hG4bKcr-other",
            "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcr-up-4",
            "To: <sip:carol@192.0.2.9>;tag=rt4",
            "From: <sip:bob@atlanta.com>;tag=cr22",
            "Call-ID: crafted-reply-4@192.0.2.1",
            "CSeq: 1 INVITE",
        ), ("192.0.2.9", 5060)),
        Crafted("reply-two-vias-one-line", "Reply with both Via values on one line: only the first is removed",
                msg(
                    "SIP/2.0 200 OK",
                    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKcr-ours-5, "
                    "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKcr-up-5",
                    "To: <sip:carol@192.0.2.9>;tag=rt5",
                    "From: <sip:bob@atlanta.com>;tag=cr23",
                    "Call-ID: crafted-reply-5@192.0.2.1",
                    "CSeq: 1 INVITE",
                ), ("192.0.2.9", 5060)),
        Crafted("reply-single-via", "Reply with only one Via: nowhere to send it", msg(
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKcr-ours-6",
            "To: <sip:carol@192.0.2.9>;tag=rt6",
            "From: <sip:bob@atlanta.com>;tag=cr24",
            "Call-ID: crafted-reply-6@192.0.2.1",
            "CSeq: 1 INVITE",
        ), ("192.0.2.9", 5060)),
        Crafted("keepalive-crlf", "CRLFCRLF keep-alive (4 bytes)", b"\r\n\r\n"),
        Crafted("short-31-bytes", "31 bytes of a request line: below MIN_UDP_PACKET",
                b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"),
        Crafted("garbage-32-bytes", "32 bytes that are not SIP: reaches the parser", b"x" * 30 + b"\r\n"),
        Crafted("big-datagram", "A 40000-byte MESSAGE (reference: msg_recv_max_size 32767 in newer "
                "Kamailio)", msg(
                    "MESSAGE sip:carol@192.0.2.9 SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcr-big",
                    "Max-Forwards: 70",
                    "To: <sip:carol@192.0.2.9>",
                    "From: <sip:bob@atlanta.com>;tag=cr25",
                    "Call-ID: crafted-big@192.0.2.1",
                    "CSeq: 1 MESSAGE",
                    "Content-Type: text/plain",
                    body="x" * (40000 - 260),
                )),
    ]
