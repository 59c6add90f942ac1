"""Scenario files (shipped and broken ones) and the ``sipsim simulate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from simkit import options

from sipsim.cli import main
from sipsim.engine.scenario import ScenarioError, list_scenarios, load_scenario
from sipsim.engine.simulation import run_scenario

SHIPPED = {"basic-call", "burst", "overload", "bad-input", "fifo-spaced", "reorder", "paused-proxy", "herd",
           "reuseport"}


def test_every_shipped_scenario_loads_and_runs() -> None:
    names = {n for n, _ in list_scenarios()}
    assert SHIPPED <= names
    for name in sorted(names):
        sc = load_scenario(name)
        if sc.arrivals and sum(a.total for a in sc.arrivals) > 200:
            sc = sc.with_overrides(count=200)
        r = run_scenario(sc)
        assert r.finished and r.metrics.handled > 0, name
        assert r.metrics.time > 0 and all(w["handled"] >= 0 for w in r.metrics.workers())


def test_bad_input_scenario_outcomes() -> None:
    r = run_scenario(load_scenario("bad-input"))
    assert r.metrics.outcomes() == {"forwarded": 0, "replied": 7, "dropped": 5}
    assert r.core_stats["err_requests"] == 1  # the request without a Via


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,message", [
    ('workers = 2\nwrokers = 3\n', "unknown key wrokers"),
    ('policy = "random"\n', "policy must be one of fifo, wake-all, reuseport, lifo"),
    ('workers = "four"\n', "workers: expected an integer"),
    ('start_order = [0, 0]\nworkers = 2\n', "start_order must list each worker"),
    ('[[arrivals]]\nfile = "no/such.dat"\n', "file 'no/such.dat' not found"),
    ('[[arrivals]]\ntime = 0.1\n', "give the datagram as text, file, files or glob"),
    ('[[arrivals]]\ntext = "x"\npoisson = true\n', "poisson arrivals need a rate"),
    ('[[peers]]\ntype = "uac"\naddress = "127.0.0.2"\n', "option 'call' is required"),
    ('[[peers]]\ntype = "uas"\naddress = "127.0.0.3"\naor = "bob"\nrign = 1\n', "unknown option rign"),
    ('[[peers]]\ntype = "robot"\n', "must be one of uac, uas, ua"),
    ('[[pauses]]\nstart = 2\nend = 1\n', "end must come after start"),
    ('workers = [\n', "TOML error"),
    ('[proxy]\nlisten = "127.0.0.1:99999"\n', "bad address"),
])
def test_broken_scenarios_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_scenario(write(tmp_path, text))


def test_text_files_globs_and_numbering(tmp_path: Path) -> None:
    (tmp_path / "one.dat").write_bytes(options(1))
    sc = load_scenario(write(tmp_path, '''
seed = 4
[[arrivals]]
file = "one.dat"
[[arrivals]]
glob = "rfc3261/s24_2_F1[0-3]_*.dat"
[[arrivals]]
text = """
OPTIONS sip:127.0.0.1 SIP/2.0
Call-ID: n{n}
"""
count = 3
rate = 100
poisson = true
'''))
    got = sc.expand_arrivals()
    assert got[0].data == options(1)
    # the glob's files in name order (F10 200, F11 200, F12 ACK, F13 BYE), one datagram each
    assert [a.data.split(b"\r\n")[0] for a in got[1:5]] == [b"SIP/2.0 200 OK", b"SIP/2.0 200 OK",
                                                            b"ACK sip:bob@192.0.2.4 SIP/2.0",
                                                            b"BYE sip:alice@pc33.atlanta.com SIP/2.0"]
    texts = [a.data for a in got[5:]]
    assert texts == [b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nCall-ID: n%d\r\n" % i for i in (1, 2, 3)]
    assert [a.time for a in sc.expand_arrivals()] == [a.time for a in got]  # seeded Poisson
    assert [a.time for a in sc.with_overrides(seed=5).expand_arrivals()] != [a.time for a in got]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["simulate", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_json_is_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(capsys, "fifo-spaced", "--json")
    assert rc == 0 and not err
    d = json.loads(out)
    assert d["handled_by"] == [0, 1, 2, 3] * 6
    assert (d["drops"], d["pipeline_drops"], d["wasted_wakeups"]) == (0, 0, 0)
    assert d["metrics"]["outcomes"] == {"forwarded": 0, "replied": 24, "dropped": 0}
    assert [w["id"] for w in d["metrics"]["workers"]] == [1, 0, 2, 3]
    for key in ("latency", "socket_queue", "wait_queue", "handled", "arrived"):
        assert key in d["metrics"]
    assert d["rcvbuf"] == 212992 and d["finished"] and "trace" not in d
    # with reuseport each socket has its own queue and buffer: the summary names the fullest one
    rc, out, _ = run_cli(capsys, "reuseport")
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("socket"))
    assert rc == 0 and "sockets, the fullest at most" in line, line
    rc, out, _ = run_cli(capsys, "reuseport", "--json")
    socks = json.loads(out)["metrics"]["socket_queue"]["sockets"]
    assert len(socks) > 1 and max(k["max_bytes"] for k in socks) <= 212992


def test_cli_overrides_trace_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(capsys, "fifo-spaced", "--policy", "lifo", "--workers", "3", "--count", "6", "--json")
    d = json.loads(out)
    assert rc == 0 and d["policy"] == "lifo" and d["workers"] == 3 and len(d["handled_by"]) == 6
    assert len(set(d["handled_by"])) == 1
    rc, out, _ = run_cli(capsys, "basic-call", "--trace")
    lines = [ln for ln in out.splitlines() if " ms  " in ln]
    assert rc == 0 and len(lines) > 100 and "worker_sleeps" in lines[1] and "peers" in out
    rc, out, _ = run_cli(capsys, "basic-call", "--trace", "--json", "--until", "0.02")
    d = json.loads(out)
    assert not d["finished"] and len(d["trace"]) == d["events"] and d["trace"][0]["type"] == "kernel"
    rc, out, _ = run_cli(capsys, "--rate", "50000", "--count", "400", "--rcvbuf", "4096", "--workers", "1", "--json")
    d = json.loads(out)
    # every datagram the stream and the call's peers sent arrived (the buffer then dropped some)
    sent_by_peers = sum(p["sent"] for p in d["peers"])
    assert d["rcvbuf"] == 8192 and d["drops"] > 0 and d["metrics"]["arrived"] == 400 + sent_by_peers
    for argv, msg in ((["nope"], "no scenario file or shipped scenario named 'nope'"),
                      (["--workers", "0"], "workers must be at least 1"),
                      (["--pcap", "/nonexistent.pcap"], "nonexistent.pcap"),
                      (["--route", "/nonexistent.cfg"], "nonexistent.cfg")):
        rc, out, err = run_cli(capsys, *argv)
        assert rc in (1, 2) and msg in err and "Traceback" not in err and not out


def test_cli_pcap_and_route(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sipsim.packets.pcap import SipDatagram
    from sipsim.packets.pcapwriter import write_pcap

    recs = [SipDatagram(0.01 * i, ("192.0.2.50", 5060), ("127.0.0.1", 5060), options(i)) for i in range(5)]
    write_pcap(tmp_path / "c.pcap", recs)
    cfg = tmp_path / "deny.cfg"
    cfg.write_text('loadmodule "sl.so"\nrequest_route {\n\tsl_send_reply("403", "Not Today");\n\texit;\n}\n')
    rc, out, err = run_cli(capsys, "--pcap", str(tmp_path / "c.pcap"), "--route", str(cfg), "--json", "--trace")
    assert rc == 0, err
    d = json.loads(out)
    assert d["metrics"]["arrived"] == 5 and d["metrics"]["outcomes"]["replied"] == 5
    statuses = [t["status"] for t in d["trace"] if t["type"] == "step" and t.get("status")]
    assert statuses == [403] * 5
    cfg.write_text("request_route {\n\tthis is not cfg\n")
    rc, out, err = run_cli(capsys, "--pcap", str(tmp_path / "c.pcap"), "--route", str(cfg))
    # a script that does not load is no usage error: 1, as trace, serve and check (cli.common.EXIT_STATUS)
    assert rc == 1 and "deny.cfg:2" in err and "Traceback" not in err


def test_the_documented_example_is_a_working_scenario(tmp_path: Path) -> None:
    import textwrap

    import sipsim.engine.scenario as mod

    doc = mod.__doc__ or ""
    block = doc[doc.index("::\n") + 3: doc.index("File names are looked up")]
    text = textwrap.dedent(block).replace('route = "my.cfg"', "# route: a file of yours")
    sc = load_scenario(write(tmp_path, text))
    assert (sc.workers, sc.cpus, sc.policy, sc.start_order) == (4, 2, "fifo", (1, 0, 2, 3))
    assert [p.name for p in sc.peers] == ["bob", "alice"] and sc.pauses[0].workers == (0, 1)
    r = run_scenario(sc)
    assert r.metrics.arrived >= 24 and r.peers[1]["calls_started"] == 1


def test_a_scenarios_bad_alias_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As serve --alias: a [proxy] alias that Kamailio's alias= would refuse stops simulate (exit 2,
    one line) instead of silently naming nothing; the forms it takes run."""
    for alias, why in [("sip.example:abc", "the port must be a number"), ("[2001:db8::1", "an IPv6 reference"),
                       ("sip.example:0", "1 to 65535")]:
        sc = write(tmp_path, f'[proxy]\naliases = ["sipsim.test", "{alias}"]\n')
        rc, out, err = run_cli(capsys, str(sc))
        assert (rc, out) == (2, ""), err
        assert err.startswith(f"sipsim: proxy.aliases: bad alias {alias!r}: ") and why in err
        assert err.count("\n") == 1, err
    good = write(tmp_path, '[proxy]\naliases = ["sipsim.test", "udp:Voip.Example:5060", "[2001:db8::1]:5070"]\n')
    rc, out, err = run_cli(capsys, str(good), "--count", "3", "--json")
    assert rc == 0 and json.loads(out)["metrics"]["outcomes"]["replied"] == 3, err


def test_the_simulated_name_service_reads_aliases_as_kamailio_does(tmp_path: Path) -> None:
    """The proxy's names resolve to its address: an alias's host without proto:, :port, the
    brackets of [v6]:port, case or a trailing dot (``n.split(":")[0]`` made ``udp:voip.example:5060``
    the name "udp" and ``[2001:db8::1]:5070`` the name "[2001")."""
    from sipsim.engine.network import VirtualNetwork
    from sipsim.engine.simulation import Runner

    sc = load_scenario(write(tmp_path, '[proxy]\nlisten = "10.0.0.5:5060"\nadvertise = "Edge.Example."\n'
                                       'aliases = ["sipsim.test", "udp:Voip.Example:5070", "[2001:db8::1]:5070", '
                                       '"tcp:[2001:db8::2]", "alt.example:5062"]\n'))
    net = Runner(sc).net
    for name in ("voip.example", "VOIP.example.", "sipsim.test", "edge.example", "alt.example"):
        assert net.resolve(name) == "10.0.0.5", name
    for name in ("udp", "tcp", "[2001", "alt.example:5062", "other.example"):
        assert net.resolve(name) is None, name
    assert net.resolve("[2001:db8::1]") == "2001:db8::1"  # an IP literal is itself, not renamed
    # an alias a cfg script brought that cannot be read names nothing (as check_self), no crash
    odd = VirtualNetwork(("10.0.0.5", 5060), ("[2001:db8::1", "ok.example:x", "fine.example"), {}, [])
    assert (odd.resolve("fine.example"), odd.resolve("ok.example"), odd.resolve("[2001")) == ("10.0.0.5", None, None)


def test_the_scenario_loader_refuses_a_bad_alias_and_peers_use_its_host_port(tmp_path: Path) -> None:
    """The check lives in the loader, so the TUI and the lessons refuse a bad alias as simulate does;
    the peers' domain is the first alias's host[:port], never its transport prefix."""
    from sipsim.engine.peers import proxy_domain

    with pytest.raises(ScenarioError, match=r"^proxy\.aliases: bad alias 'sip\.example:abc'"):
        load_scenario(write(tmp_path, '[proxy]\naliases = ["sip.example:abc"]\n'))
    for alias, domain in [("udp:Voip.Example:5070", "voip.example:5070"), ("[2001:db8::1]:5070", "[2001:db8::1]:5070"),
                          ("tcp:[2001:db8::2]", "[2001:db8::2]"), ("sipsim.test", "sipsim.test")]:
        sc = load_scenario(write(tmp_path, f'[proxy]\naliases = ["{alias}"]\n'))
        assert proxy_domain(sc) == domain, alias
