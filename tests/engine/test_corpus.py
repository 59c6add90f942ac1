"""Every corpus file through both profiles; the ser profile answers as the RFCs ask of a proxy.

The MANIFEST's ``proxy_action`` is the oracle for the ``ser`` profile with the default route:
"parse ok" = not rejected for its syntax (forwarded, or answered by routing with anything but 400,
never a parse drop); "reject with 400" / "respond 4xx code: N" = that reply; "must not crash" = any
visible outcome, never a forward to a broadcast address.
"""

from __future__ import annotations

import pytest
from helpers import corpus, with_body

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver

ENTRIES = corpus()
SRC = ("192.0.2.99", 5060)


def run(entry, profile: Profile):  # noqa: ANN001, ANN201
    driver = MemoryDriver(ServerConfig(profile=profile))
    return driver.feed(with_body(entry), SRC)


@pytest.mark.parametrize("profile", list(Profile), ids=lambda p: p.value)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_corpus_file_ends_visibly(entry, profile) -> None:  # noqa: ANN001
    result = run(entry, profile)
    assert result.events, "no step at all"
    assert not any("internal error" in (ev.reason or "") for ev in result.events), result.events[-1]
    assert result.final is not None, "no step decided the message's fate"
    assert result.outcome in ("forwarded", "replied", "dropped")
    assert result.events[-1].step in ("free_sip_msg", "udp_rcv_loop"), result.events[-1]
    # one outcome per datagram: sends are replies xor forwards
    kinds = {s.kind for s in result.sent}
    assert len(result.sent) <= 1 and kinds <= {"reply", "request", "fwd_reply"}
    for s in result.sent:
        assert s.to[0] not in ("255.255.255.255", "0.0.0.0")


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.proxy_action], ids=lambda e: e.id)
def test_ser_profile_answers_as_the_rfc_asks(entry) -> None:  # noqa: ANN001
    result = run(entry, Profile.SER)
    action = entry.proxy_action
    if action == "parse ok":
        assert result.status != 400, result.reason
        assert not result.reason.startswith("parse error"), result.reason
        assert result.outcome in ("forwarded", "replied") or "2nd via" in result.reason, result.reason
    elif action == "reject with 400":
        assert (result.outcome, result.status) == ("replied", 400), result.reason
    elif action.startswith("respond 4xx code:"):
        code = int(action.rsplit(":", 1)[1])
        assert (result.outcome, result.status) == ("replied", code), result.reason
    else:
        assert action == "must not crash"
        if entry.file in ("bigcode.dat", "bcast.dat"):
            assert result.outcome == "dropped" and not result.sent


def test_the_400_names_what_was_wrong() -> None:
    entry = next(e for e in ENTRIES if e.file == "multi01.dat")
    result = run(entry, Profile.SER)
    reply = result.sent[0].data.decode("latin-1")
    assert reply.startswith("SIP/2.0 400 Bad Request\r\n")
    assert 'Warning: 399 sipsim "a second' in reply
    # the reply goes back to the source (no rport: the Via's port)
    assert result.sent[0].to == ("192.0.2.99", 5060) or result.sent[0].to[0] == "192.0.2.99"


# Where the two profiles answer the same datagram differently, and why. A lesson (bad messages)
# shows these; the kamailio column is what the real Kamailio 5.6.3 does (test_kamailio56_recorded).
PROFILE_DIFFERENCES = {
    "rfc4475/wsinv.dat": ("forwarded", "dropped", "5.6's parse_cseq rejects a CSeq folded over two lines"),
    "rfc4475/intmeth.dat": ("forwarded", "dropped", "5.6 rejects a header name with ! % * and cannot build a 400"),
    "rfc4475/dblreq.dat": ("forwarded", "replied 400", "sanity_check: Content-Length 0 but trailing octets"),
    "rfc4475/badinv01.dat": ("replied 400", "dropped", "parse_msg fails on the Via: the core drops silently"),
    "rfc4475/ncl.dat": ("replied 400", "dropped", "negative Content-Length: sanity cannot build its 400"),
    "rfc4475/quotbal.dat": ("replied 400", "dropped", "the To parse fails in the core: silent drop"),
    "rfc4475/lwsstart.dat": ("replied 400", "dropped", "parse_first_line fails: silent drop"),
    "rfc4475/escruri.dat": ("replied 400", "forwarded", "Kamailio forwards an R-URI carrying ?headers"),
    "rfc4475/regbadct.dat": ("replied 400", "forwarded", "sanity's default checks do not parse Contact"),
    "rfc4475/badvers.dat": ("replied 505", "dropped", "5.6's Via parser rejects SIP/7.0 before any 505"),
    "rfc4475/insuf.dat": ("replied 400", "dropped", "no Call-ID/From/To: receive_msg drops before any route"),
    "rfc4475/unkscm.dat": ("replied 416", "replied 400", "Kamailio cannot parse an unknown scheme: 400"),
    "rfc4475/multi01.dat": ("replied 400", "dropped", "duplicate CSeq: the quadruple parse fails in the core"),
    "rfc4475/mcl01.dat": ("replied 400", "dropped", "two Content-Lengths: sanity cannot build its 400"),
    "rfc5118/ipv4-mapped-ipv6.dat": ("forwarded", "replied 400", "sanity_check: Content-Length smaller than the body"),
    "rfc5118/ipv6-correct-abnf-2-colons.dat": ("replied 500", "replied 478", "5.6 reads it as a name"),
}


def _summary(result) -> str:  # noqa: ANN001
    return f"{result.outcome} {result.status}" if result.outcome == "replied" else result.outcome


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_where_the_profiles_differ_the_difference_is_named(entry) -> None:  # noqa: ANN001
    ser, kam = _summary(run(entry, Profile.SER)), _summary(run(entry, Profile.KAMAILIO))
    if entry.id in PROFILE_DIFFERENCES:
        want_ser, want_kam, _why = PROFILE_DIFFERENCES[entry.id]
        assert (ser, kam) == (want_ser, want_kam)
    else:
        assert ser == kam, f"an unnamed difference: ser {ser}, kamailio {kam}"
