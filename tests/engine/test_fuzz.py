"""Property: no datagram, however mangled, makes receive_msg raise or end without an outcome.

Mutations of real corpus messages (bytes flipped, inserted, deleted, lines duplicated, dropped or
swapped, truncation, CR/LF and NUL games) go through both profiles. At least 2,000 examples in CI.
"""

from __future__ import annotations

import os

from helpers import corpus, with_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver

SEEDS = [with_body(e) for e in corpus()]
EXAMPLES = 2000 if os.environ.get("CI") else 400
SPECIAL = [b"\r", b"\n", b"\r\n", b" ", b"\t", b"\x00", b":", b";", b",", b"<", b">", b'"', b"\\", b"[", b"]",
           b"%", b"@", b"=", b"\xff", b"\xb2", b"SIP/2.0", b"Via: ", b"v: SIP/2.0/UDP [::1", b"Content-Length: 99999"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.integers(0, 6))
        pos = draw(st.integers(0, max(0, len(data))))
        if kind == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == 1:  # insert something nasty
            data[pos:pos] = draw(st.sampled_from(SPECIAL))
        elif kind == 2:  # delete a run
            del data[pos : pos + draw(st.integers(1, 40))]
        elif kind == 3:  # truncate
            del data[pos:]
        else:  # line games
            lines = bytes(data).split(b"\r\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == 4:
                lines.insert(j, lines[i])
            elif kind == 5:
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


DRIVERS = {p: MemoryDriver(ServerConfig(profile=p, aliases=("example.com",))) for p in Profile}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=mutated(), profile=st.sampled_from(list(Profile)))
def test_mutated_datagrams_never_crash_the_pipeline(data: bytes, profile: Profile) -> None:
    result = DRIVERS[profile].feed(data, ("192.0.2.77", 5060))
    assert result.final is not None
    assert result.outcome in ("forwarded", "replied", "dropped")
    assert not any((ev.reason or "").startswith("internal error") for ev in result.events), result.events[-2:]
    for sent in result.sent:
        assert sent.data and sent.to[1] > 0


@settings(max_examples=EXAMPLES // 4, deadline=None, derandomize=True)
@given(data=st.binary(max_size=600))
def test_random_bytes_never_crash_the_pipeline(data: bytes) -> None:
    for profile in Profile:
        result = DRIVERS[profile].feed(data, ("192.0.2.77", 5060))
        assert result.final is not None
        assert not any((ev.reason or "").startswith("internal error") for ev in result.events)


# Latin-1 has digits of its own: '²' (0xB2), '³' (0xB3), '¹' (0xB9). Python's str.isdigit() says yes
# to them and int() then refuses them; each numeric field must treat them as the non-digits they are
# in SIP -- exactly as it treats another character that is neither a digit nor a token character
# (DEL, 0x7F) at the same place.
_NUMERIC_SPOTS = [
    ("INVITE sip:bob@127.0.0.1:5062 SIP/2.0", "INVITE sip:bob@127.0.0.1:# SIP/2.0"),  # R-URI port
    ("Content-Length: 0", "Content-Length: #"),
    ("CSeq: 1 INVITE", "CSeq: # INVITE"),
    ("Max-Forwards: 70", "Max-Forwards: #"),
    ("Expires: 10", "Expires: #"),
    ("127.0.0.2:5061;branch", "127.0.0.2:#;branch"),  # Via port
    ("<sip:a@127.0.0.2:5061>", "<sip:a@127.0.0.2:#>"),  # Contact port
    ("INVITE sip:bob@127.0.0.1:5062 SIP/2.0", "INVITE sip:bob@127.0.0.1:5062 SIP/#.0"),  # version
]
_REQUEST = ("INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5061;branch=z9hG4bK1;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.2>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: x\r\n"
            "CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.2:5061>\r\nExpires: 10\r\nContent-Length: 0\r\n\r\n")
_REPLY = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
          "Via: SIP/2.0/UDP 127.0.0.2:5061;rport=5061\r\nFrom: <sip:a@127.0.0.2>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\n"
          "Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")


def _latin1_digit_cases() -> list[tuple[str, str]]:
    cases = [(_REQUEST, _REQUEST.replace(a, b)) for a, b in _NUMERIC_SPOTS]
    cases += [(_REPLY, _REPLY.replace("200 OK", "2#0 OK")), (_REPLY, _REPLY.replace("rport=5061", "rport=#")),
              (_REPLY, _REPLY.replace("127.0.0.2:5061", "127.0.0.2:#"))]
    return [(templ, digit) for _, templ in cases for digit in "\u00b2\u00b3\u00b9"]


def test_latin1_digits_are_not_digits() -> None:
    for profile in Profile:
        for templ, digit in _latin1_digit_cases():
            driver = MemoryDriver(ServerConfig(profile=profile))
            odd = driver.feed(templ.replace("#", digit).encode("latin-1"), ("127.0.0.2", 5061))
            plain = MemoryDriver(ServerConfig(profile=profile)).feed(templ.replace("#", "\x7f").encode(),
                                                                     ("127.0.0.2", 5061))
            assert not any((ev.reason or "").startswith("internal error") for ev in odd.events), (profile, templ, digit)
            assert (odd.outcome, odd.status) == (plain.outcome, plain.status), (profile, templ, digit)
            assert [s.data.split(b"\r\n", 1)[0] for s in odd.sent] == [s.data.split(b"\r\n", 1)[0] for s in plain.sent]
