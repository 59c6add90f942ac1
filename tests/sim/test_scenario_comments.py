"""The comments at the top of a shipped scenario are what a teacher reads before running it: the
figures they quote must be the ones ``sipsim simulate`` gives. Each test reads the figure out of
the comment, so a change in the model that moves it fails here, naming the scenario."""

from __future__ import annotations

import re
from importlib import resources

from sipsim.engine.events import DATAGRAM_DROPPED, WORKER_TAKES, WORKER_WOKEN, KernelEvent
from sipsim.engine.scenario import load_scenario
from sipsim.engine.simulation import Runner


def comment(name: str) -> str:
    text = resources.files("sipsim.scenarios").joinpath(f"{name}.toml").read_text("utf-8")
    return " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))


def test_reuseport_comment_counts_the_drops_of_the_trunks_socket() -> None:
    """One source, one socket: the trunk's buffer overflows, and two phones that hash to the same
    socket lose most of their OPTIONS with it, while a worker gets nothing at all."""
    text = comment("reuseport")
    m = re.search(r"socket \(W(\d+)'s with seed 1\).*drops ([\d,]+) of the trunk's ([\d,]+) — and (\d+) of the "
                  r"(\d+) OPTIONS of the two phones whose hash picks the same socket \((192\.0\.2\.\d+) and \.(\d+)\), "
                  r"while W(\d+) gets nothing at all", text)
    assert m, text
    sc = load_scenario("reuseport")
    drops: dict[str, int] = {}
    takers: dict[int, int] = {}

    def see(ev: object, t: float) -> None:
        if isinstance(ev, KernelEvent) and ev.kind == DATAGRAM_DROPPED:
            ip = str(ev.detail["src"]).rsplit(":", 1)[0]
            drops[ip] = drops.get(ip, 0) + 1
        elif isinstance(ev, KernelEvent) and ev.msg is not None and ev.worker is not None \
                and ev.kind in (WORKER_WOKEN, WORKER_TAKES):
            takers[ev.worker] = takers.get(ev.worker, 0) + 1

    runner = Runner(sc)
    runner.run(see)
    trunk = drops.pop("192.0.2.30")
    assert trunk == int(m.group(2).replace(",", "")) and int(m.group(3).replace(",", "")) == sc.arrivals[0].total
    phone_ips = {m.group(6), m.group(6).rsplit(".", 1)[0] + "." + m.group(7)}
    assert set(drops) == phone_ips and sum(drops.values()) == int(m.group(4))
    phones_per_ip = sc.arrivals[1].total // len(sc.arrivals[1].src)
    assert int(m.group(5)) == phones_per_ip * 2
    busy, idle = int(m.group(1)), int(m.group(8))
    assert max(takers, key=lambda w: takers[w]) == busy and idle not in takers
    assert runner.kernel.sockets[[s.owner for s in runner.kernel.sockets].index(busy)].drops == trunk + sum(
        drops.values())
