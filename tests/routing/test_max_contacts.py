"""The registrar's ``max_contacts``: sipsim against the real Kamailio 5.6, message by message.

Two scripts run in both servers: ``cfgs/max_contacts.cfg`` (``max_contacts`` 3, ``save()``'s
return code logged) and the shipped ``default.cfg`` with ``modparam("registrar", "max_contacts",
3)`` appended (its own lines keep their numbers). The messages walk through what the limit counts
(see sipsim/engine/registrar.py): a new AOR's contacts as they are read (a URI listed twice counts
twice, ``expires=0`` does not count), an AOR with bindings (refresh, swap, removal of an unknown
contact, another Call-ID, a retransmission, a CSeq going back), ``Contact: *`` and queries.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from helpers import need_tool

from routing import kamdiff
from routing.crafted import request

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
CFG = Path(__file__).parent / "cfgs" / "max_contacts.cfg"
DEFAULT_CFG = ROOT / "sipsim" / "routing" / "scripts" / "default.cfg"
PHONE = ("192.0.2.4", 5060)


def _register(n: int, user: str, contacts: list[str], *, callid: str = "reg-b", cseq: int = 1,
              expires: str | None = None, host: str = "127.0.0.1") -> bytes:
    extra = [f"Contact: {', '.join(contacts)}"] if contacts else []
    if expires is not None:
        extra.append(f"Expires: {expires}")
    return request("REGISTER", f"sip:{host}", to=f"<sip:{user}@{host}>", frm=f"<sip:{user}@{host}>;tag=r{n}",
                   callid=callid, cseq=f"{cseq} REGISTER", extra=tuple(extra), n=n)


def messages(host: str = "127.0.0.1") -> list[tuple[str, bytes]]:
    """(name, datagram) in order: each step depends on the bindings the earlier ones left."""
    def c(*names: str, params: str = "") -> list[str]:
        return [f"<sip:{x}@192.0.2.4:5070>{params}" for x in names]

    steps = [
        ("new-aor-four", "carol", c("c1", "c2", "c3", "c4"), "reg-c", 1, None),
        ("new-aor-one-uri-four-times", "dave", c("d1", "d1", "d1", "d1"), "reg-d", 1, None),
        ("new-aor-three-and-a-zero", "erin", c("e1", "e2", "e3") + c("e4", params=";expires=0"), "reg-e", 1, None),
        # contact_max_size (512), the longest received=... parameter (255, all of it): each binding is short
        ("contact-uri-512", "lena", c("l" * 493), "reg-l1", 1, None),
        ("contact-uri-513", "lena", c("m" * 494), "reg-l2", 1, None),
        ("received-256", "lena", c("r2", params=';received="' + "x" * 245 + '"'), "reg-l4", 1, None),
        ("long-uri-before-a-star", "lena", c("m" * 494) + ["*"], "reg-l5", 1, None),
        ("bob-three", "bob", c("b1", "b2", "b3"), "reg-b", 1, None),
        ("bob-a-fourth", "bob", c("b4"), "reg-b", 2, None),
        ("bob-query", "bob", [], "reg-q", 1, None),
        ("bob-refresh", "bob", c("b1", "b2", "b3"), "reg-b", 3, None),
        ("bob-swap", "bob", c("b1", params=";expires=0") + c("b4"), "reg-b", 4, None),
        ("bob-unknown-zero-and-new", "bob", c("b9", params=";expires=0") + c("b5"), "reg-b", 5, None),
        ("bob-cseq-back-and-new", "bob", c("b2", "b6"), "reg-b", 1, None),
        ("bob-other-call-id", "bob", c("b7"), "reg-other", 1, None),
        ("bob-star", "bob", ["*"], "reg-b", 6, "0"),
        ("bob-three-again", "bob", c("b1", "b2", "b3"), "reg-b", 7, None),
        ("bob-retransmission", "bob", c("b1", "b2", "b3"), "reg-b", 7, None),
        ("bob-retransmission-and-new", "bob", c("b1", "b2", "b3", "b8"), "reg-b", 7, None),
        ("bob-remove-one-add-two", "bob", c("b1", params=";expires=0") + c("b5", "b6"), "reg-b", 8, None),
        ("bob-query-after", "bob", [], "reg-q", 2, None),
    ]
    return [(name, _register(n, user, contacts, callid=callid, cseq=cseq, expires=expires, host=host))
            for n, (name, user, contacts, callid, cseq, expires) in enumerate(steps, start=300)]


CASES = {
    "max_contacts.cfg": (CFG.read_text(), "127.0.0.1"),
    "default.cfg": ('alias="biloxi.com"\n' + DEFAULT_CFG.read_text() + 'modparam("registrar", "max_contacts", 3)\n',
                    "biloxi.com"),
}
_RESULTS: dict[str, tuple[list[str], list[kamdiff.Seen], list[kamdiff.Seen]]] = {}


def _run(case: str) -> tuple[list[str], list[kamdiff.Seen], list[kamdiff.Seen]]:
    if case not in _RESULTS:
        need_tool("kamailio")
        text, host = CASES[case]
        msgs = messages(host)
        data = [(m, PHONE) for _, m in msgs]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "script.cfg"
            path.write_text(text)
            seen_k = kamdiff.kamailio_run(text, data)
            seen_s = kamdiff.sipsim_run(path, data)
        _RESULTS[case] = ([n for n, _ in msgs], seen_k, seen_s)
    return _RESULTS[case]


@pytest.mark.parametrize("case", list(CASES))
def test_sipsim_counts_contacts_as_kamailio_does(case: str, isolated_network: None) -> None:
    names, seen_k, seen_s = _run(case)
    wrong = [kamdiff.describe(n, k, s) for n, k, s in zip(names, seen_k, seen_s, strict=True)
             if not kamdiff.agree(k, s)]
    assert not wrong, "\n".join(wrong)
    # and the walk really exercised the limit: refusals, acceptances, the -2 of save()
    firsts = [s.sent[0][1].split("\r\n", 1)[0] if s.sent else "" for s in seen_k]
    by_name = dict(zip(names, firsts, strict=True))
    assert by_name["new-aor-four"] == by_name["bob-a-fourth"] == "SIP/2.0 503 Service Unavailable"
    assert by_name["new-aor-one-uri-four-times"] == "SIP/2.0 503 Service Unavailable"
    assert by_name["bob-swap"] == by_name["bob-retransmission"] == "SIP/2.0 200 OK"
    assert by_name["bob-cseq-back-and-new"] == "SIP/2.0 400 Bad Request"
    assert by_name["contact-uri-512"] == "SIP/2.0 200 OK"
    assert by_name["contact-uri-513"] == by_name["received-256"] == "SIP/2.0 400 Bad Request"
    refused = seen_k[names.index("bob-a-fourth")].sent[0][1]
    assert "P-Registrar-Error: Too many registered contacts\r\n" in refused
    assert refused.count("@192.0.2.4:5070>") == 3, "the 503 lists the bindings as they stay"
    if case == "max_contacts.cfg":
        assert seen_k[names.index("bob-a-fourth")].logs == ["save rc=-2"]
        assert seen_k[names.index("bob-cseq-back-and-new")].logs == ["save rc=-1"]
