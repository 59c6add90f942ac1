"""Differential fuzz of the registrar: random REGISTER sequences through default.cfg, Kamailio 5.6 and sipsim.

    .venv/bin/python tests/routing/fuzz_registrar.py [--seed 1] [--chunks 30] [--per-chunk 25]

fuzz_kamailio.py mutates single messages; a registrar's answers depend on what came before, so
this tool builds *sequences*: each chunk is a fresh Kamailio and a fresh sipsim given the same
REGISTERs for two AORs, from two Call-IDs each, with CSeqs that go up, repeat and go back, one to
three contacts per header from a small pool of URIs, and random mixes of ``q``, ``expires``,
``+sip.instance``, ``reg-id``, ``received`` and unknown parameters (plus ``Contact: *`` and
queries). The first difference in a chunk is printed with the AOR's history in the chunk (as
``Call-ID|CSeq|headers`` lines), and the rest of the chunk skipped: what follows would only
repeat it. Bounded and local like fuzz_kamailio.py (a private network namespace, Kamailio
stopped by its PID); a seed gives the same sequences.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for path in (TESTS, TESTS.parent, TESTS / "routing"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from crafted import request  # noqa: E402

from sipsim.sandbox import enter_private_netns  # noqa: E402

PHONE = ("192.0.2.4", 5070)
URIS = ("<sip:{u}@192.0.2.71:5070>", "<sip:{u}@192.0.2.72>", "<sip:{u}@192.0.2.73:5080;transport=tcp>",
        "sip:{u}@192.0.2.74", "<sip:{u}@[2001:db8::9]:5070>", "<sip:other@192.0.2.75>")
PARAMS = (";q=0.5", ";q=1", ";q=0", ";q=0.25", ";q=0.75", ";expires=0", ";expires=60", ";expires=120",
          ";expires=30", ';+sip.instance="<urn:uuid:A>"', ';+sip.instance="<urn:uuid:B>";reg-id=1', ";reg-id=2",
          ';received="sip:192.0.2.99:6000"', ";q=.5", ";expires=3601", ";x=y", ';methods="INVITE"')


def _register(rng: random.Random, n: int, user: str, callid: str, cseq: int) -> bytes:
    extra: list[str] = []
    r = rng.random()
    if r < 0.08:
        extra += ["Contact: *", "Expires: 0"]
    elif r >= 0.15:  # else a query
        for _ in range(rng.choice((1, 1, 1, 2))):
            contacts = (rng.choice(URIS).format(u=user) + "".join(rng.choice(PARAMS) for _ in range(rng.randrange(4)))
                        for _ in range(rng.choice((1, 1, 2, 3))))
            extra.append("Contact: " + ", ".join(contacts))
        if rng.random() < 0.4:
            extra.append("Expires: " + rng.choice(("0", "60", "300", "3600", "90")))
    return request("REGISTER", "sip:registrar.biloxi.com", to=f"<sip:{user}@biloxi.com>",
                   frm=f"<sip:{user}@biloxi.com>;tag=r{n}", callid=callid, cseq=f"{cseq} REGISTER",
                   extra=tuple(extra), n=n)


def _history(msgs: list[tuple[bytes, tuple[str, int]]], i: int) -> list[str]:
    """The chunk's REGISTERs for the AOR of message ``i``, up to it, as ``Call-ID|CSeq|headers``."""
    def field(head: list[str], name: str) -> str:
        return next(line for line in head if line.startswith(name + ":")).split(":", 1)[1].strip()

    user = msgs[i][0].decode().split("To: <sip:", 1)[1].split("@", 1)[0]
    out = []
    for data, _ in msgs[: i + 1]:
        head = data.decode().split("\r\n")
        if field(head, "To").startswith(f"<sip:{user}@"):
            hdrs = "||".join(line for line in head if line.startswith(("Contact:", "Expires:")))
            out.append(f"{field(head, 'Call-ID')}|{field(head, 'CSeq').split()[0]}|{hdrs}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunks", type=int, default=30)
    ap.add_argument("--per-chunk", type=int, default=25)
    args = ap.parse_args()
    enter_private_netns()
    from routing import kamdiff
    from routing.test_differential import CASES, HOSTS

    case = CASES["default"]
    text = case.prefix + case.script.read_text()
    rng = random.Random(args.seed)
    differ, n = 0, 9000
    for c in range(args.chunks):
        users = (f"u{c}a", f"u{c}b")
        cseqs: dict[str, int] = {}
        msgs = []
        for _ in range(args.per_chunk):
            user = rng.choice(users)
            callid = rng.choice((f"cid-{user}-1@x", f"cid-{user}-2@x"))
            cseqs[callid] = max(1, cseqs.get(callid, 1) + rng.choice((1, 1, 1, 2, 0, -1)))
            n += 1
            msgs.append((_register(rng, n, user, callid, cseqs[callid]), PHONE))
        seen_k, seen_s = kamdiff.run_both(text, msgs, hosts=HOSTS, name=case.script.name)
        for i, (k, s) in enumerate(zip(seen_k, seen_s, strict=True)):
            if kamdiff.agree(k, s):
                continue
            differ += 1
            print(f"== chunk {c}, REGISTER {i}; the AOR's history in the chunk:")
            for line in _history(msgs, i):
                print("   ", repr(line))
            for side, seen in (("kamailio", k), ("sipsim", s)):
                for _, data in seen.sent:
                    keep = [ln for ln in data.split("\r\n") if ln.startswith(("SIP/", "Contact", "P-Registrar"))]
                    print(f"   {side}: " + " | ".join(keep))
            break
    print(f"{differ} of {args.chunks} chunks differ (seed {args.seed})")
    return 2 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
