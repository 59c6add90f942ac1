"""Differential fuzz of R-URI rewrites: random sip:, sips: and tel: URIs through cfgs/uri_rewrite.cfg.

    .venv/bin/python tests/routing/fuzz_uri_rewrite.py [--seed 1] [--count 3000] [--zero-ports]

Each message is an INVITE to a generated Request-URI -- users with ``;user=phone`` style
parameters and passwords, host names, IPv4 and IPv6 hosts, ports, ``user``, ``transport``,
``lr``, ``maddr`` parameters and headers, or tel: numbers with visual separators and
parameters -- and an ``X-A`` header naming one rewrite of uri_rewrite.cfg (strip, prefix, $rU,
$rd, $rp, rewritehost[port], setuser, strip_tail, an emptied user, or none). Kamailio 5.6 and
sipsim log ``$ru``, ``$rU``, ``$rd``, ``$rz`` and ``$rp`` afterwards; the differences are counted
by (rewrite, scheme), with one example each. ``--zero-ports`` adds ports written with leading
zeros (their ``$rp`` is a documented difference). Bounded and local like fuzz_kamailio.py.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for path in (TESTS, TESTS.parent, TESTS / "routing"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from crafted import request  # noqa: E402

from sipsim.sandbox import enter_private_netns  # noqa: E402

CFG = TESTS / "routing" / "cfgs" / "uri_rewrite.cfg"
ACTIONS = ("strip", "prefix", "ru", "rd", "rp", "rhp", "rh", "su", "rUnull", "rdru", "stripall", "striptail", "none")
USERS = ("bob", "+12015550123", "+1(201)555-0123", "5550123", "alice.smith", "%41bc", "a-b_c", "x")
USER_PARAMS = (";ext=12", ";phone-context=example.com", ";isub=1;ext=2", ";npdi", ";rn=+1")
HOSTS = ("biloxi.com", "192.0.2.9", "[2001:db8::1]", "Biloxi.COM", "a.b-c.example", "h")
URI_PARAMS = ("user=phone", "user=ip", "transport=tcp", "transport=TLS", "lr", "maddr=192.0.2.7", "x=y")
NUMBERS = ("+12015550123", "+1(201)555-0123", "5550123", "+1.201.555", "*21#")
TEL_PARAMS = ("ext=12", "phone-context=example.com", "isub=7", "npdi", "rn=+1201")


def make_uri(rng: random.Random, zero_ports: bool) -> str:
    if rng.random() < 0.3:
        params = "".join(";" + rng.choice(TEL_PARAMS) for _ in range(rng.randrange(3)))
        headers = "?x=y" if rng.random() < 0.1 else ""
        return rng.choice(("tel:", "tel:", "TEL:")) + rng.choice(NUMBERS) + params + headers
    user = ""
    if rng.random() < 0.85:
        user = rng.choice(USERS)
        if rng.random() < 0.3:
            user += rng.choice(USER_PARAMS)
        if rng.random() < 0.1:
            user += ":" + rng.choice(("pw", "", "p%40w"))
        user += "@"
    ports = ("", "", ":5070", ":5060", ":65535") + ((":05060",) if zero_ports else ())
    params = "".join(";" + rng.choice(URI_PARAMS) for _ in range(rng.randrange(3)))
    return (rng.choice(("sip:", "sip:", "sips:", "SIP:")) + user + rng.choice(HOSTS) + rng.choice(ports) + params
            + ("?subject=x" if rng.random() < 0.1 else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--zero-ports", action="store_true")
    args = ap.parse_args()
    enter_private_netns()
    from routing import kamdiff

    rng = random.Random(args.seed)
    cases = [(make_uri(rng, args.zero_ports), rng.choice(ACTIONS)) for _ in range(args.count)]
    msgs = [(request("INVITE", uri, extra=(f"X-A: {action}",), n=5000 + i), ("192.0.2.1", 5060))
            for i, (uri, action) in enumerate(cases)]
    seen_k, seen_s = kamdiff.run_both(CFG.read_text(), msgs, name=CFG.name)
    bad: Counter[tuple[str, str]] = Counter()
    for (uri, action), k, s in zip(cases, seen_k, seen_s, strict=True):
        if kamdiff.agree(k, s):
            continue
        key = (action, uri.split(":", 1)[0].lower())
        bad[key] += 1
        if bad[key] == 1:
            print(f"== {action} on {uri}\n   kamailio: {k.logs}\n   sipsim:   {s.logs}")
    print(f"{sum(bad.values())} of {args.count} differ (seed {args.seed}): {dict(bad)}")
    return 2 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
