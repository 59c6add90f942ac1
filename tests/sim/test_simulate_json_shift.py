"""``sipsim simulate`` says when a ``wait_for_workers`` scenario started its datagrams late (the
text's "arrivals" line, --json's ``arrival_shift``), and --json's floats are rounded to
nanoseconds in one place, for every float of the object (trace and selection included), its
shape unchanged."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sipsim.cli import build_parser, main
from sipsim.cli.simulate import build_scenario, result_json
from sipsim.cli.simulate_report import JSON_DIGITS, trace_record
from sipsim.engine.scenario import load_router
from sipsim.engine.simulation import run_scenario


def simulate(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["simulate", *argv]) == 0
    out = capsys.readouterr()
    assert not out.err, out.err
    return out.out


def raw_json(*argv: str) -> dict[str, Any]:
    """What --json held before rounding: the same run, its object built without json_rounded."""
    sc = build_scenario(build_parser().parse_args(["simulate", *argv]))
    records: list[dict[str, Any]] = []
    result = run_scenario(sc, trace=lambda ev, t: records.append(trace_record(ev, t)),
                          router=load_router(sc, sc.server_config()))
    return result_json(result, records)


def pairs(rounded: Any, raw: Any, where: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf of the two objects side by side; asserts they have the same shape and types."""
    if isinstance(raw, dict):
        assert isinstance(rounded, dict) and list(rounded) == [str(k) for k in raw], where
        return [p for k, v in raw.items() for p in pairs(rounded[str(k)], v, f"{where}.{k}")]
    if isinstance(raw, (list, tuple)):
        assert isinstance(rounded, list) and len(rounded) == len(raw), where
        return [p for i, (a, b) in enumerate(zip(rounded, raw, strict=True)) for p in pairs(a, b, f"{where}[{i}]")]
    assert type(rounded) is type(raw) or (type(raw) is float and type(rounded) is int and raw == rounded), where
    return [(where, rounded, raw)]


def test_a_scenario_that_waited_for_its_workers_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    text = simulate(capsys, "herd", "--workers", "32")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("arrivals"))
    assert "the streams start 5.502 ms later than written" in line and "wait_for_workers" in line
    d = json.loads(simulate(capsys, "herd", "--workers", "32", "--json"))
    assert d["arrival_shift"] == 0.0055022 and d["schema"] == 3
    # the 4 shipped workers are asleep before the first OPTIONS: no shift, no line
    assert "arrivals " not in simulate(capsys, "herd")
    assert json.loads(simulate(capsys, "herd", "--json"))["arrival_shift"] == 0.0


def test_every_json_float_is_rounded_to_nanoseconds_and_nothing_else_changes(
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("herd", "--workers", "32", "--trace", "--json")
    out = simulate(capsys, *argv)
    assert out == simulate(capsys, *argv)  # rounding keeps a run byte-for-byte reproducible
    leaves = pairs(json.loads(out), raw_json(*argv))
    floats = [(w, a, b) for w, a, b in leaves if type(b) is float]
    assert len(floats) > 1000  # times of the trace, metrics, series, vruntimes
    for where, rounded, raw in floats:
        assert rounded == round(raw, JSON_DIGITS), where
        assert abs(rounded - raw) <= 0.5e-9 * max(1.0, abs(raw)), where
    noisy = [w for w, a, b in floats if a != b]
    assert noisy, "no float carried binary noise: the test would prove nothing"
    assert all(a == b for w, a, b in leaves if type(b) is not float)  # ints, texts, bools, nulls untouched
    decimals = re.findall(r"\d\.(\d+)(?![\de])", out)  # the numbers as printed (not 4.7e-06)
    assert decimals and max(map(len, decimals)) <= JSON_DIGITS
