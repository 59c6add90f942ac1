"""Record Kamailio 5.6's ground truth on the corpus and the crafted set.

    .venv/bin/python tests/kamailio/record_ground_truth.py [--out tests/data/kamailio56]

Runs every corpus file (tests/data/rfc4475, rfc5118, rfc3261; the RFC 3261 messages whose SDP the
RFC leaves out get a body of their Content-Length, tests/helpers.with_body) and then the crafted
sequence (tests/kamailio/crafted.py) through the real Kamailio, once per variant:

* ``probe``         cfgs/probe.cfg: core behaviour only (what the core drops, what forward_reply does)
* ``default``       cfgs/default.cfg -A WITH_ALIASES (biloxi.com, registrar.biloxi.com are "myself")
* ``default-plain`` cfgs/default.cfg, no aliases and no name resolution at all
* ``default-port5070`` as ``default`` but listening on port 5070 (two crafted messages only)
* ``lines``         cfgs/lines.cfg: how cfgtrace numbers the lines of each statement kind (one INVITE)

``probe`` and ``default`` resolve every host name found in the messages to an address of
203.0.113.0/24 through a private /etc/hosts (see harness.py), so forwards to names can be seen;
``default-plain`` shows what 5.6 does when a name cannot be resolved.

One Kamailio per variant (children=1) takes the whole corpus, then the crafted sequence, in this
order: the REGISTERs are remembered by usrloc, as they would be in a real server. Every datagram comes
from 192.0.2.1:5060 unless the crafted entry says otherwise. Kamailio listens on 127.0.0.1:5060.

Writes ``corpus.json`` (all observations) and ``SUMMARY.md`` (tables and the formatting facts,
regenerated from the data) into --out. Output is deterministic: running it twice gives the same
files (no PIDs, times or temp paths are recorded).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent))

from helpers import corpus, with_body  # noqa: E402

from kamailio import summary  # noqa: E402
from kamailio.crafted import crafted  # noqa: E402
from kamailio.harness import KamailioProcess, find_kamailio  # noqa: E402

CFGS = Path(__file__).resolve().parent / "cfgs"
DEFAULT_OUT = TESTS / "data" / "kamailio56"
SRC = ("192.0.2.1", 5060)

VARIANTS = {
    "probe": {"cfg": "probe.cfg", "defines": [], "resolve_names": True},
    "default": {"cfg": "default.cfg", "defines": ["WITH_ALIASES"], "resolve_names": True},
    "default-plain": {"cfg": "default.cfg", "defines": [], "resolve_names": False},
    # Side variants on a few crafted messages only:
    "default-port5070": {"cfg": "default.cfg", "defines": ["WITH_ALIASES"], "resolve_names": True,
                         "port": 5070, "only": ["crafted/invite-foreign", "crafted/options-myself"]},
    "lines": {"cfg": "lines.cfg", "defines": [], "resolve_names": False, "only": ["crafted/invite-foreign"]},
}

NAME_RE = re.compile(
    rb"(?:sips?:(?:[^@\s;>]*@)?|SIP\s*/\s*2\.0\s*/\s*\w+\s+)([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+)", re.I
)


def host_names(datagrams: list[bytes]) -> dict[str, str]:
    """Every host name in a SIP URI or Via sent-by of the datagrams -> 203.0.113.N (sorted order)."""
    names = sorted({m.group(1).decode().lower() for d in datagrams for m in NAME_RE.finditer(d)})
    names = [n for n in names if not n.replace(".", "").isdigit()]
    if len(names) > 250:
        raise SystemExit("too many host names for 203.0.113.0/24")
    return {name: f"203.0.113.{i}" for i, name in enumerate(names, start=1)}


def shorten(obs: dict, limit: int = 4000) -> dict:
    """Keep huge datagrams (the 40000-byte crafted one) out of the JSON: length + head only."""
    for sent in obs["sent"]:
        if len(sent["data"]) > limit:
            sent["data"] = f"<{len(sent['data'])} bytes> " + sent["data"][:600]
    return obs


def kamailio_version() -> str:
    binary = find_kamailio()
    if binary is None:
        raise SystemExit("kamailio is not installed")
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].removeprefix("version: ").strip() if out else "unknown"


def all_inputs() -> list[tuple[str, bytes, tuple[str, int]]]:
    """(key, datagram, source) for the corpus then the crafted sequence, in sending order."""
    inputs = [(e.id, with_body(e), SRC) for e in corpus()]
    return inputs + [(f"crafted/{c.name}", c.data, c.src) for c in crafted()]


def run_variant(name: str, spec: dict, inputs: list[tuple[str, bytes, tuple[str, int]]],
                hosts: dict[str, str]) -> tuple[dict, float]:
    t0 = time.monotonic()
    if "only" in spec:
        inputs = [i for i in inputs if i[0] in spec["only"]]
    with KamailioProcess(
        CFGS / spec["cfg"], defines=spec["defines"], hosts=hosts if spec["resolve_names"] else None,
        port=spec.get("port", 5060),
    ) as k:
        startup = k.startup_seconds
        results = {}
        for key, data, src in inputs:
            obs = k.send(data, src=src)
            results[key] = shorten(obs.to_json())
    print(f"{name:14s} start-up {startup * 1000:5.0f} ms, {len(inputs)} datagrams in "
          f"{time.monotonic() - t0:5.2f} s", file=sys.stderr)
    return results, startup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    from sipsim.sandbox import enter_private_netns

    if not enter_private_netns():
        print("cannot create a private network namespace (unshare)", file=sys.stderr)
        return 1
    entries = corpus()
    extra = crafted()
    inputs = all_inputs()
    hosts = host_names([d for _, d, _ in inputs])

    observed: dict[str, dict] = {}
    for name, spec in VARIANTS.items():
        results, _ = run_variant(name, spec, inputs, hosts)
        for key, obs in results.items():
            observed.setdefault(key, {})[name] = obs

    doc = {
        "kamailio": kamailio_version(),
        "generated_by": "tests/kamailio/record_ground_truth.py",
        "listen": "127.0.0.1:5060",
        "default_source": f"{SRC[0]}:{SRC[1]}",
        "variants": {
            k: {"cfg": f"tests/kamailio/cfgs/{v['cfg']}", "defines": v["defines"],
                "names_resolved_via_hosts": v["resolve_names"], "port": v.get("port", 5060),
                "only": v.get("only")}
            for k, v in VARIANTS.items()
        },
        "hosts": hosts,
        "corpus": {
            e.id: {
                "first_line": e.path.read_bytes().split(b"\r\n", 1)[0].decode("latin-1"),
                "body_appended": e.body_omitted,
                **observed[e.id],
            }
            for e in entries
        },
        "crafted": {
            c.name: {
                "description": c.description,
                "src": f"{c.src[0]}:{c.src[1]}",
                "data": c.data.decode("latin-1") if len(c.data) < 2000 else
                f"<{len(c.data)} bytes, see tests/kamailio/crafted.py>",
                **observed[f"crafted/{c.name}"],
            }
            for c in extra
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "corpus.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    (args.out / "SUMMARY.md").write_text(summary.render(doc))
    print(f"wrote {args.out / 'corpus.json'} and {args.out / 'SUMMARY.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
