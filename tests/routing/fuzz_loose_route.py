"""Differential fuzz of in-dialog routing: random Route sets through forwarder.cfg's loose_route().

    .venv/bin/python tests/routing/fuzz_loose_route.py [--seed 1] [--count 2000] [--script forwarder]

Each message is an in-dialog request (a To-tag) with one or two Route headers of one to three
entries: our own addresses (127.0.0.1 with and without the port, the aliases biloxi.com and
atlanta.com, [::1]) or foreign ones, sip: or sips:, with or without a user, and random mixes of
``lr``, ``lr=on``, ``LR``, ``ftag``, ``maddr``, ``transport``, ``r2`` and unknown parameters; its
Request-URI is a phone, one of our addresses with ``;lr`` (the previous hop was a strict
router) or a URI with ``maddr``. What Kamailio 5.6 and sipsim send is compared; messages either
side sends to itself (127.0.0.1:5060) and sips: ones (a TLS next hop neither has) are counted
apart. ``r2`` (double record-routing) is not modelled: sipsim records one route, so it never
writes it (sipsim/routing/KAMAILIO_DIFFERENCES.md). Bounded and local like fuzz_kamailio.py.
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

SELF = ("127.0.0.1", 5060)
OURS = ("127.0.0.1", "127.0.0.1:5060", "biloxi.com", "atlanta.com", "127.0.0.1:5080", "[::1]")
THEIRS = ("192.0.2.77", "192.0.2.78:5090", "proxy.example.net", "[2001:db8::5]", "192.0.2.79;transport=tcp")
PARAMS = ("lr", "lr", "lr=on", "LR", "ftag=ft1", "ftag=zz", "maddr=192.0.2.88", "transport=udp", "r2=on", "did=x",
          "nat=yes", "lr=", "foo")
RURIS = ("sip:bob@192.0.2.4:5070", "sip:bob@192.0.2.4:5070;transport=udp", "sip:127.0.0.1;lr",
         "sip:127.0.0.1:5060;lr;ftag=ft1", "sip:biloxi.com;lr", "sip:bob@biloxi.com",
         "sip:192.0.2.90:5070;maddr=192.0.2.91")


def _entry(rng: random.Random) -> str:
    host = rng.choice(OURS) if rng.random() < 0.5 else rng.choice(THEIRS)
    params = "".join(";" + rng.choice(PARAMS) for _ in range(rng.randrange(4)))
    return f"<{rng.choice(('sip:', 'sip:', 'sips:'))}{rng.choice(('', '', 'u@', 'bob@'))}{host}{params}>"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--script", default="forwarder", help="a case of test_differential.CASES")
    args = ap.parse_args()
    enter_private_netns()
    from routing import kamdiff
    from routing.test_differential import CASES, HOSTS

    rng = random.Random(args.seed)
    case = CASES[args.script]
    text = case.prefix + case.script.read_text()
    cases, msgs = [], []
    for i in range(args.count):
        headers = rng.choice((1, 1, 1, 2))
        routes = [", ".join(_entry(rng) for _ in range(rng.choice((1, 1, 2, 3)))) for _ in range(headers)]
        method, ruri = rng.choice(("BYE", "ACK", "INVITE", "INFO")), rng.choice(RURIS)
        cases.append((method, ruri, routes))
        msgs.append((request(method, ruri, to="<sip:bob@biloxi.com>;tag=tt1", n=20000 + i,
                             extra=tuple("Route: " + r for r in routes)), ("192.0.2.1", 5060)))
    seen_k, seen_s = kamdiff.run_both(text, msgs, hosts=HOSTS, name=case.script.name)
    differ = apart = 0
    for (method, ruri, routes), k, s in zip(cases, seen_k, seen_s, strict=True):
        if kamdiff.agree(k, s):
            continue
        if any(dst == SELF for dst, _ in k.sent + s.sent) or "sips:" in ruri + "".join(routes):
            apart += 1
            continue
        differ += 1
        if differ <= 10:
            print(f"== {method} {ruri}; Route: {' | '.join(routes)}")
            for side, seen in (("kamailio", k), ("sipsim", s)):
                sent = [(dst, data.split("\r\n", 1)[0]) for dst, data in seen.sent]
                print(f"   {side}: {sent} {seen.logs}")
    print(f"{differ} of {args.count} differ; {apart} apart (sent to itself, or sips:) (seed {args.seed})")
    return 2 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
