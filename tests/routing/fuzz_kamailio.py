"""Differential fuzz: mutated SIP messages through the real Kamailio 5.6 and through sipsim.

    .venv/bin/python tests/routing/fuzz_kamailio.py                    # both scripts, seed 1, ~3 min
    .venv/bin/python tests/routing/fuzz_kamailio.py --seed 7 --count 3000 --scripts forwarder
    .venv/bin/python tests/routing/fuzz_kamailio.py --seed 5151 --extra-mutations   # + sipmutate_more.py
    .venv/bin/python tests/routing/fuzz_kamailio.py --replay /tmp/sipsim-fuzz-1/forwarder-0001.dat

The hand-picked differential tests (test_differential.py) compare a few hundred messages; this
tool builds thousands by *structured* mutation (tests/routing/sipmutate.py) of the corpus
(tests/data) and of tests/routing/crafted.py, runs each through one Kamailio per script and
through sipsim's ``kamailio`` profile with the same script (``forwarder`` and ``default`` of
test_differential.CASES, with their aliases and hosts), and compares them with kamdiff's
normalisation (datagrams sent, cfg lines executed, xlog output). A seeded RNG makes a run
reproducible: the same ``--seed`` and ``--count`` give the same messages. Kamailio handles 300
to 650 messages a second here (one at a time, each followed to the end of its processing).

Each difference is written to ``--out`` (``<script>-NNNN.dat``, the message, and a ``.txt``
with both sides, a diff and Kamailio's notable log lines). Differences are grouped by a coarse
signature (what each side sent, which parts differ); those with a known cause (:data:`KNOWN_CAUSES`:
documented differences, fixes waiting in files another helper owns) are counted apart; the smallest
message of every other group is minimised by removing headers while the signature holds. The exit
status is 2 when a difference of no known cause remains.

Stateful scripts (a location table) get a fresh Kamailio and sipsim after each difference, so one
cause is not reported again by every later lookup; both servers see the same whole second of the
wall clock (usrloc's time), and a message that straddles a second is flagged.

Bounded and local: the process moves into a private network namespace with only loopback
(sipsim.sandbox), Kamailio runs in a nested one (tests/kamailio/harness.py) and is stopped by its
PID. A message sipsim would send to itself (127.0.0.1:5060) is skipped before Kamailio sees it; one
only Kamailio sends to itself is compared, then its echoes are let die out.
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sipsim.sandbox import enter_private_netns  # noqa: E402

Addr = tuple[str, int]
SELF: Addr = ("127.0.0.1", 5060)
# scripts that keep state (a location table, a counter): both servers restart after a difference,
# or one difference would make every later message differ
STATEFUL = ("default", "registrar", "blocklist", "headers", "cseq", "control", "fuzzfound-default")


@dataclass
class Diff:
    script: str
    no: int
    base: str
    mutations: list[str]
    data: bytes
    src: Addr
    signature: str
    text: str
    minimal: bytes | None = None


@dataclass
class Stats:
    sent: int = 0
    skipped_loop: int = 0
    unparsable_base: int = 0
    quiet: int = 0
    diffs: list[Diff] = field(default_factory=list)


def bases() -> list[tuple[str, bytes, Addr]]:
    """The seed messages: the corpus (with the bodies RFC 3261 §24 omits) and every crafted one."""
    from helpers import corpus, with_body

    from routing import crafted

    out = [(e.id, with_body(e), ("192.0.2.1", 5060)) for e in corpus()]
    for fn in (crafted.dialog_messages, crafted.registrar_messages, crafted.header_messages,
               crafted.blocklist_messages, crafted.control_messages, crafted.value_messages, crafted.cseq_messages):
        out += [(f"{fn.__name__}:{name}", data, src) for name, data, src in fn()]
    return out


def unique_callid(data: bytes, n: int) -> bytes:
    """Give the message its own Call-ID, so the registrar's CSeq rule does not tie fuzz messages."""
    from routing import sipmutate

    msg = sipmutate.parse(data)
    if msg is None:
        return data
    for i in msg.named("call-id"):
        msg.headers[i].value = f"{msg.headers[i].value.rstrip()}.f{n}"
    return msg.render()


class Pair:
    """One script in the real Kamailio and in sipsim, fed the same messages in the same order."""

    def __init__(self, name: str) -> None:
        from kamailio.harness import KamailioProcess

        from routing.test_differential import CASES, HOSTS
        from sipsim.engine.config import Profile, ServerConfig
        from sipsim.engine.driver import MemoryDriver
        from sipsim.routing import load_route

        case = CASES[name]
        self.hosts = HOSTS
        text = case.prefix + case.script.read_text()
        self._dir = tempfile.mkdtemp(prefix=f"sipsim-fuzz-{name}-")  # one per run: runs side by side
        self.tmp = Path(self._dir) / "script.cfg"
        self.tmp.write_text(text)
        config = ServerConfig(profile=Profile.KAMAILIO, listen=SELF)
        router = load_route(self.tmp, config)
        self.driver = MemoryDriver(router.config, router=router,
                                   send_policy=lambda send: self._resolvable(send.to[0]))
        self.kam = KamailioProcess(text, hosts=HOSTS, script_name="script.cfg")
        self.kam.start()
        self._text, self._config, self._router = text, config, router
        self.crossed = False

    def reset(self) -> None:
        """A fresh Kamailio and a fresh sipsim (empty location tables): a difference in state
        would otherwise show up again on every later message that depends on it."""
        from kamailio.harness import KamailioProcess

        from sipsim.engine.driver import MemoryDriver
        from sipsim.routing import load_route

        self.kam.stop()
        self.kam = KamailioProcess(self._text, hosts=self.hosts, script_name="script.cfg")
        self.kam.start()
        router = load_route(self.tmp, self._config)
        self.driver = MemoryDriver(router.config, router=router,
                                   send_policy=lambda send: self._resolvable(send.to[0]))

    def close(self) -> None:
        self.kam.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _resolvable(self, host: str) -> str | None:
        from routing.kamdiff import _resolvable

        return _resolvable(host, self.hosts)

    def sipsim(self, data: bytes, src: Addr, now: float):  # -> kamdiff.Seen
        from routing.kamdiff import Seen, normalise

        res = self.driver.feed(data, src, time=now)
        s = Seen()
        s.sent = [((self.hosts.get(x.to[0].lower(), x.to[0]), x.to[1]), normalise(x.data)) for x in res.sent
                  if self._resolvable(x.to[0]) is None]
        s.lines = [(ev.detail["kline"], ev.detail["action"]) for ev in res.events
                   if ev.step.startswith("route:") and "action" in ev.detail and "kline" in ev.detail
                   and ev.step != "route:cond"]
        s.logs = [ev.detail["message"].rstrip("\n") for ev in res.events if ev.step in ("xlog", "log")]
        return s

    def kamailio(self, data: bytes, src: Addr):  # -> (kamdiff.Seen, Observation)
        from routing.kamdiff import Seen, normalise

        obs = self.kam.send(data, src=src)
        k = Seen()
        k.sent = [(x.dst, normalise(x.data)) for x in obs.sent]
        k.lines = [(st.line, st.func) for st in obs.steps if st.line != 0]
        k.logs = [r.text[len("<script>: "):].rstrip("\n") for r in obs.log if r.text.startswith("<script>: ")]
        return k, obs

    def run(self, data: bytes, src: Addr):
        """(kamailio Seen, sipsim Seen, Observation), or None when a server would talk to itself."""
        now = wall_second()
        s = self.sipsim(data, src, now)
        if any(dst == SELF for dst, _ in s.sent):
            return None
        k, obs = self.kamailio(data, src)
        # did the wall clock's second change while the two servers handled it? (usrloc times)
        self.crossed = float(int(time.clock_gettime(CLOCK_REALTIME_COARSE))) != now
        if any(dst == SELF for dst, _ in k.sent):
            # Kamailio talks to itself where sipsim did not: a difference, but its echoes would be
            # taken for the next message's -- let them die out first
            time.sleep(0.6)
        return k, s, obs


CLOCK_REALTIME_COARSE = 5  # Linux: what time(2) reads through the vDSO


def wall_second() -> float:
    """The whole second of the wall clock both servers will see for the next message.

    usrloc counts whole seconds of time(2), a coarse clock: near a second's end Kamailio and
    sipsim could read different seconds (an Expires off by one in a 200). Wait out the last
    20 ms of a second instead.
    """
    now = time.clock_gettime(CLOCK_REALTIME_COARSE)
    if now % 1.0 > 0.98:
        time.sleep(1.0 - now % 1.0 + 0.005)
        now = time.clock_gettime(CLOCK_REALTIME_COARSE)
    return float(int(now))


def _what(seen) -> str:
    out = []
    for dst, text in seen.sent:
        first = text.split("\r\n", 1)[0]
        out.append(first.split(" ", 2)[1] if first.startswith("SIP/2.0 ") and " " in first
                   else f"{first.split(' ', 1)[0]}->{dst[0]}")
    return ",".join(out) or "nothing"


def _parse_any(data: bytes):  # -> sipmutate.Message | None
    """The message split into headers, bare-LF line ends read as CRLF."""
    from routing import sipmutate

    return sipmutate.parse(re.sub(rb"(?<!\r)\n", b"\r\n", data))


def _secure_name(data: bytes) -> bool:
    """A next hop over TLS/TCP/... named by a host name that does not resolve (sipsim cannot tell)."""
    from routing.test_differential import HOSTS

    first = data.split(b"\r\n", 1)[0].decode("latin-1")
    m = re.match(r"\S+ (sips?):(?:[^@\s]*@)?([^;:?\s>]+)([^\s]*)", first, re.I)
    if not m or re.fullmatch(r"[\d.]+|\[.*\]", m.group(2)) or m.group(2).lower() in HOSTS:
        return False
    return m.group(1).lower() == "sips" or bool(re.search(r";transport=(tcp|tls|sctp|ws)\b", m.group(3), re.I))


def _uris(data: bytes) -> list[str]:
    """The Request-URI and the To URI of a request."""
    data = data.lstrip(b"\r\n")
    msg = _parse_any(data)
    if msg is None or data[:4] == b"SIP/":
        return []
    parts = msg.first.split()
    out = [parts[1]] if len(parts) >= 3 else []
    for i in msg.named("to"):
        m = re.search(r"<([^>]*)>", msg.headers[i].value)
        out.append(m.group(1) if m else msg.headers[i].value.split(";")[0].strip())
    return out


def _register_to_unparsable(data: bytes) -> bool:
    """A REGISTER whose To URI Kamailio's parse_uri() refuses: its save() answers with the error of
    the *previous* REGISTER (a stale rerrno; 200 when there was none), sipsim with ``Error while
    parsing AOR`` (documented)."""
    from sipsim.engine.parser.errors import ParseError
    from sipsim.engine.parser.uri import parse_uri

    if data.lstrip(b"\r\n")[:9].upper() != b"REGISTER ":  # (empty lines before the first line are allowed)
        return False
    for uri in _uris(data)[1:]:
        try:
            parse_uri(uri, kamailio=True)
        except ParseError:
            return True
    return False


def _from_broken_unresolvable(data: bytes) -> bool:
    """A request whose From does not parse, to a host name that does not resolve: Kamailio's
    forward() resolves first (478), sipsim's fails on the missing From-tag first (500, 1/SL): its
    engine resolves no name, the driver does when it sends (documented)."""
    from routing.test_differential import HOSTS
    from sipsim.engine.parser.errors import ParseError
    from sipsim.engine.parser.to_from import parse_to

    msg = _parse_any(data.lstrip(b"\r\n"))
    if msg is None or data.lstrip(b"\r\n")[:4] == b"SIP/":
        return False
    m = re.match(r"\S+ \S+:(?:[^@\s]*@)?([^;:?\s>]+)", msg.first)
    if not m or re.fullmatch(r"[\d.]+|\[.*\]", m.group(1)) or m.group(1).lower() in HOSTS:
        return False
    for i in msg.named("from"):
        try:
            parse_to(msg.headers[i].value.strip(), 0, "From", lenient=True)
        except ParseError:
            return True
    return not msg.named("from")


#: Differences whose cause is known, by a test on the message: counted apart, not reported as
#: new -- sipsim's documented differences (KAMAILIO_DIFFERENCES.md) and the ones that wait for a
#: change in files another helper owns.
KNOWN_CAUSES: list[tuple[str, Callable[[bytes], bool]]] = [
    ("TLS/TCP next hop with an unresolvable name: 500 here, 478 in Kamailio (documented)", _secure_name),
    ("REGISTER whose To URI Kamailio cannot parse: its registrar repeats a stale error (documented)",
     _register_to_unparsable),
    ("broken From, unresolvable next hop: Kamailio answers 478 before 500 (documented)",
     _from_broken_unresolvable),
]


def known_cause(data: bytes) -> str | None:
    return next((why for why, test in KNOWN_CAUSES if test(data)), None)


def signature(k, s) -> str:
    """A coarse class of a difference: what each side sent and which parts differ."""
    parts = [p for p, a, b in (("sent", k.sent, s.sent), ("lines", k.lines, s.lines), ("logs", k.logs, s.logs))
             if a != b]
    if _what(k) == _what(s) and "sent" in parts:
        return f"same-kind {_what(k)}: bytes differ" + (" +" + "+".join(p for p in parts if p != "sent")
                                                           if len(parts) > 1 else "")
    return f"kamailio {_what(k)} / sipsim {_what(s)} [{'+'.join(parts)}]"


def short_diff(k, s) -> str:
    """The lines that differ, when both sent as many datagrams (a unified diff of each pair)."""
    if len(k.sent) != len(s.sent) or k.sent == s.sent:
        return ""
    out = []
    for (kd, kt), (sd, st) in zip(k.sent, s.sent, strict=True):
        if kd != sd:
            out.append(f"   destination: kamailio {kd} / sipsim {sd}")
        out += ["   " + ln for ln in difflib.unified_diff(kt.split("\r\n"), st.split("\r\n"), "kamailio", "sipsim",
                                                           n=0, lineterm="")]
    return "\n".join(out) + "\n"


def minimise(pair: Pair, data: bytes, src: Addr, sig: str, stateful: bool = False) -> bytes:
    """Remove header lines one at a time while the difference keeps its signature (with fresh
    servers for every try of a stateful script: earlier tries must not leave bindings behind)."""
    from routing import sipmutate

    msg = sipmutate.parse(data)
    if msg is None:
        return data
    changed = True
    while changed:
        changed = False
        for i in range(len(msg.headers) - 1, -1, -1):
            trial = msg.copy()
            trial.headers.pop(i)
            if stateful:
                pair.reset()
            got = pair.run(trial.render(), src)
            if got is not None and got[0].key() != got[1].key() and signature(got[0], got[1]) == sig:
                msg, changed = trial, True
    return msg.render()


def fuzz(name: str, count: int, seed: int, max_mut: int, out: Path, stats: Stats, do_min: bool,
         extra: bool = False) -> None:
    from routing import kamdiff, sipmutate, sipmutate_more

    table = {**sipmutate.MUTATIONS, **sipmutate_more.EXTRA} if extra else sipmutate.MUTATIONS

    rng = random.Random(f"{seed}:{name}")
    seeds = bases()
    pair = Pair(name)
    try:
        for n in range(count):
            base_id, base, src = rng.choice(seeds)
            base = unique_callid(base, n)
            got = sipmutate.mutate(rng, base, rng.randint(1, max_mut), table)
            if got is None:
                stats.unparsable_base += 1
                data, names = base, ["(as is)"]
            else:
                data, names = got
            res = pair.run(data, src)
            if res is None:
                stats.skipped_loop += 1
                continue
            k, s, obs = res
            stats.sent += 1
            stats.quiet += obs.end == "quiet"
            if k.key() == s.key():
                continue
            sig = signature(k, s)
            why = known_cause(data)
            if why is None and pair.crossed:
                why = "a second boundary passed while the servers handled it (usrloc's clock)"
            if why is not None:
                sig = f"known: {why}"
            notable = "\n".join("   kamailio log: " + r for r in obs.notable())
            text = (f"# {name} #{n} base={base_id} mutations={names} src={src}\n# {sig}\n"
                    + short_diff(k, s) + kamdiff.describe(f"{name}-{n:04d}", k, s) + "\n" + notable)
            stats.diffs.append(Diff(name, n, base_id, names, data, src, sig, text))
            (out / f"{name}-{n:04d}.dat").write_bytes(data)
            (out / f"{name}-{n:04d}.txt").write_text(text)
            if name in STATEFUL:
                pair.reset()
        if do_min:
            groups: dict[str, list[Diff]] = defaultdict(list)
            for d in stats.diffs:
                if d.script == name:
                    groups[d.signature].append(d)
            for sig, ds in groups.items():
                if sig.startswith("known: "):
                    continue
                d = min(ds, key=lambda d: len(d.data))
                d.minimal = minimise(pair, d.data, d.src, sig, name in STATEFUL)
                (out / f"{name}-{d.no:04d}.min.dat").write_bytes(d.minimal)
    finally:
        pair.close()


def replay(name: str, path: Path, src: Addr) -> int:
    from routing import kamdiff

    pair = Pair(name)
    try:
        data = path.read_bytes()
        got = pair.run(data, src)
        if got is None:
            print("skipped: a server would send to itself")
            return 1
        k, s, obs = got
        if k.key() == s.key():
            print("same")
            return 0
        print(kamdiff.describe(path.name, k, s))
        for r in obs.notable():
            print("   kamailio log:", r)
        return 2
    finally:
        pair.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20000,
                    help="messages per script (default 20000: about three minutes for both scripts)")
    ap.add_argument("--scripts", default="forwarder,default", help="cases of test_differential.CASES")
    ap.add_argument("--max-mutations", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="where differences go (default /tmp/sipsim-fuzz-SEED)")
    ap.add_argument("--no-minimise", action="store_true")
    ap.add_argument("--extra-mutations", action="store_true",
                    help="add tests/routing/sipmutate_more.py's mutations (quoted parameter values, ...)")
    ap.add_argument("--replay", type=Path, help="run one message file through --scripts' first script")
    ap.add_argument("--src", default="192.0.2.1:5060", help="source address for --replay")
    args = ap.parse_args(argv)
    if not enter_private_netns():
        print("error: cannot create a private network namespace (unshare)", file=sys.stderr)
        return 1
    names = [n.strip() for n in args.scripts.split(",") if n.strip()]
    if args.replay:
        host, _, port = args.src.rpartition(":")
        return replay(names[0], args.replay, (host, int(port)))
    out = args.out or Path(f"/tmp/sipsim-fuzz-{args.seed}")
    out.mkdir(parents=True, exist_ok=True)
    total = Stats()
    for name in names:
        stats = Stats()
        t0 = time.monotonic()
        fuzz(name, args.count, args.seed, args.max_mutations, out, stats, not args.no_minimise, args.extra_mutations)
        dt = time.monotonic() - t0
        print(f"{name}: {stats.sent} messages compared in {dt:.1f} s ({stats.sent / dt:.0f}/s), "
              f"{stats.skipped_loop} skipped (self-loop), {stats.unparsable_base} sent unmutated, "
              f"{stats.quiet} ended by silence, {len(stats.diffs)} differ")
        by_sig = Counter(d.signature for d in stats.diffs)
        for sig, cnt in by_sig.most_common():
            ex = min((d for d in stats.diffs if d.signature == sig), key=lambda d: len(d.data))
            extra = f" minimal: {name}-{ex.no:04d}.min.dat" if ex.minimal is not None else ""
            print(f"  {cnt:5d}  {sig}   e.g. {name}-{ex.no:04d}.dat ({ex.base}, {ex.mutations}){extra}")
        total.sent += stats.sent
        total.diffs += stats.diffs
    new = [d for d in total.diffs if not d.signature.startswith("known: ")]
    print(f"total: {total.sent} messages, {len(total.diffs)} differences ({len(new)} of no known cause); "
          f"details in {out}")
    return 2 if new else 0


if __name__ == "__main__":
    sys.exit(main())
