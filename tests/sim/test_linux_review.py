"""What a reviewer measured on Linux 6.18 (2 vCPUs) and the simulated kernel now agrees with:
poll()-style waiters join the head of the wait-queue and a wake-all starts there; SO_RCVBUF is
capped at net.core.rmem_max; `sipsim simulate` names workers and says when the seed is idle."""

from __future__ import annotations

import json

import pytest
from simkit import first_sleep_order, kinds, scenario, stream, takers

from sipsim.cli import main
from sipsim.engine.scenario import ScenarioError, from_dict, load_scenario
from sipsim.engine.stepping import Simulation


def herd(workers: int, cpus: int) -> Simulation:
    sim = Simulation(scenario(workers=workers, cpus=cpus, policy="wake-all", start_order=tuple(range(workers)),
                              arrivals=(stream(24, spacing=0.02),)))
    sim.run()
    return sim


@pytest.mark.parametrize("workers,cpus", [(4, 2), (4, 4), (2, 2), (8, 4)])
def test_with_an_idle_cpu_the_most_recent_sleeper_wins_every_time(workers: int, cpus: int) -> None:
    # Linux, poll, 4 workers on 2 CPUs, 24 datagrams 20 ms apart: takers 333333333333333333333333
    sim = herd(workers, cpus)
    order = first_sleep_order(sim.events)
    assert takers(sim.events) == [order[-1]] * 24
    assert all(ev.detail["at"] == "head" for ev in kinds(sim.events, "worker_sleeps"))
    # each herd is woken head first: the wait-queue, newest sleeper first
    first_wakes = [ev.worker for ev in kinds(sim.events, "worker_wakeup")[:workers]]
    assert first_wakes == order[::-1]
    assert len(kinds(sim.events, "wasted_wakeup")) == (workers - 1) * 24  # N-1 per datagram, as measured


def test_on_one_cpu_the_scheduler_picks_and_the_winner_rotates() -> None:
    # Linux, the same probe pinned to one CPU (taskset -c 0): takers 012301230123012301230123
    sim = herd(4, 1)
    order = first_sleep_order(sim.events)
    assert takers(sim.events) == [order[k % 4] for k in range(24)]
    assert len(kinds(sim.events, "wasted_wakeup")) == 72


def test_exclusive_policies_are_unchanged() -> None:
    fifo = Simulation(scenario(start_order=(1, 0, 2, 3), arrivals=(stream(8, spacing=0.02),)))
    fifo.run()
    assert takers(fifo.events) == [1, 0, 2, 3] * 2  # tail insertion, first sleeper woken
    lifo = Simulation(scenario(policy="lifo", start_order=(1, 0, 2, 3), arrivals=(stream(8, spacing=0.02),)))
    lifo.run()
    assert takers(lifo.events) == [3] * 8 and not kinds(lifo.events, "wasted_wakeup")


def test_rmem_max_caps_so_rcvbuf_and_a_scenario_or_the_cli_raises_it(capsys: pytest.CaptureFixture[str]) -> None:
    # measured with rmem_max 4194304: asking 10,000,000 or 4,194,305 reads back 8,388,608
    sc = from_dict({"rcvbuf": 10_000_000, "rmem_max": 4_194_304})
    assert sc.rmem_max == 4_194_304
    assert Simulation(sc).runner.rcvbuf == 8_388_608
    assert Simulation(load_scenario("burst").with_overrides(rcvbuf=10_000_000)).runner.rcvbuf == 425_984
    with pytest.raises(ScenarioError, match="rmem_max: must be at least 0"):
        from_dict({"rmem_max": -1})
    with pytest.raises(ScenarioError, match="rmem_max must be between 0 and 2147483647"):
        load_scenario("burst").with_overrides(rmem_max=2**31)
    assert main(["simulate", "burst", "--rcvbuf", "10000000", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["rcvbuf"], d["rmem_max"]) == (425_984, 212_992)
    assert main(["simulate", "burst", "--rcvbuf", "10000000", "--rmem-max", "4194304"]) == 0
    out = capsys.readouterr().out
    assert "rcvbuf 8388608 bytes" in out and "capped at net.core.rmem_max 4194304 (doubled: 8388608)" in out
    assert main(["simulate", "burst", "--rcvbuf", "4194304", "--rmem-max", "4194304"]) == 0
    assert "capped" not in capsys.readouterr().out
    assert main(["simulate", "burst", "--rcvbuf", "10000000"]) == 0
    assert "SO_RCVBUF 10000000 was capped at net.core.rmem_max 212992 (doubled: 425984)" in capsys.readouterr().out


def test_summary_names_the_workers_and_says_when_the_seed_is_idle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "fifo-spaced", "--count", "8", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == 3 and d["handled_by"] == [0, 1, 2, 3] * 2
    assert d["handled_by_names"] == ["W1", "W0", "W2", "W3"] * 2  # fifo-spaced starts W1 W0 W2 W3
    assert main(["simulate", "fifo-spaced", "--count", "8", "--seed", "9"]) == 0
    out = capsys.readouterr().out
    assert "handled by (in arrival order): W1 W0 W2 W3 W1 W0 W2 W3" in out
    assert "seed 9 changes nothing here" in out
    assert main(["simulate", "basic-call"]) == 0  # no start_order: the seed shuffles the workers
    assert "changes nothing" not in capsys.readouterr().out
