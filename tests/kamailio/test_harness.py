"""The Kamailio harness works: real Kamailio 5.6 in a private namespace, every datagram it sends
captured with its destination, cfg lines attributed to the right message, stopped by PID.

Expected values are computed from the cfg text and the RFC rules, not copied from a run.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from helpers import need_tool

from kamailio.crafted import msg
from kamailio.harness import KamailioError, KamailioProcess

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CFGS = Path(__file__).parent / "cfgs"
DEFAULT_CFG = CFGS / "default.cfg"
RECORDED = Path(__file__).parent.parent / "data" / "kamailio56" / "corpus.json"


@pytest.fixture
def kamailio(isolated_network: None) -> str:
    need_tool("unshare")  # private /etc/hosts and resolv.conf for Kamailio (util-linux)
    return need_tool("kamailio")


def cfg_line(text: str, fragment: str) -> int:
    """1-based line of the only line of ``text`` containing ``fragment``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


def request(method: str, ruri: str, call_id: str, via: str = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKt1",
            *extra: str) -> bytes:
    return msg(f"{method} {ruri} SIP/2.0", f"Via: {via}", "Max-Forwards: 70", f"To: <{ruri}>",
               "From: <sip:alice@atlanta.com>;tag=t1", f"Call-ID: {call_id}", f"CSeq: 1 {method}", *extra)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_default_cfg_answers_forwards_and_is_stopped_by_pid(kamailio: str) -> None:
    text = DEFAULT_CFG.read_text()
    with KamailioProcess(DEFAULT_CFG, children=2) as k:
        assert k.startup_seconds < 10
        tmp = k.tmpdir

        # OPTIONS to the server itself: the default route answers 200 itself, to the source.
        opts = k.send(request("OPTIONS", "sip:127.0.0.1", "harness-options"), src=("192.0.2.1", 5060))
        assert opts.reached == ["request_route"]
        assert [(r.dst, r.status) for r in opts.replies] == [(("192.0.2.1", 5060), 200)]
        ok = opts.replies[0]
        assert ok.headers("Call-ID") == ["harness-options"]
        # sl's To-tag: md5 of its signature and the first listen socket, "." and a Via-derived suffix
        prefix = hashlib.md5(b"KAMAILIO-stateless127.0.0.15060").hexdigest()
        assert re.fullmatch(rf"<sip:127\.0\.0\.1>;tag={prefix}\.[0-9a-f]{{8}}", ok.headers("To")[0])
        reply_line = cfg_line(text, 'sl_send_reply("200", "OK")')
        assert (reply_line, "sl_send_reply") in [(s.line, s.func) for s in opts.steps]
        assert opts.steps[-1].func == "exit" and opts.steps[-1].line == reply_line

        # INVITE to a foreign address: forwarded there, captured with its destination.
        invite = request("INVITE", "sip:bob@192.0.2.77", "harness-invite",
                         "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKt2")
        fwd = k.send(invite, src=("192.0.2.1", 5060))
        assert fwd.replies == [] and len(fwd.requests) == 1
        out = fwd.requests[0]
        assert out.dst == ("192.0.2.77", 5060) and out.src == ("127.0.0.1", 5060)
        assert out.first_line == "INVITE sip:bob@192.0.2.77 SIP/2.0"
        vias = out.headers("Via")
        assert re.fullmatch(r"SIP/2\.0/UDP 127\.0\.0\.1;branch=z9hG4bK[0-9a-f]+\.[0-9a-f]{32}\.0", vias[0])
        # the source IP differs from the Via host: received= goes into the old top Via
        assert vias[1] == "SIP/2.0/UDP pc33.atlanta.com;received=192.0.2.1;branch=z9hG4bKt2"
        assert out.headers("Max-Forwards") == ["69"]
        forward_line = cfg_line(text, "if (!forward())")
        assert (forward_line, "forward") in [(s.line, s.func) for s in fwd.steps]
        assert any("ru=[sip:bob@192.0.2.77]" in line for line in fwd.find_log("DEFAULT forward"))

        # A retransmission is forwarded with the very same branch (stateless proxy, RFC 3261 16.11).
        again = k.send(invite, src=("192.0.2.1", 5060))
        assert again.requests[0].headers("Via")[0] == vias[0]

        # Attribution under many sends, workers alternating: every trace and log line is this message's.
        workers = {w for o in (opts, fwd, again) for w in o.workers}
        for i in range(12):
            obs = k.send(request("MESSAGE", f"sip:u{i}@192.0.2.{10 + i}", f"harness-{i}"))
            assert [s.dst for s in obs.sent] == [(f"192.0.2.{10 + i}", 5060)]
            assert f"Call-ID: harness-{i}\r\n".encode() in obs.sent[0].data
            markers = obs.find_log("DEFAULT forward")
            assert markers == [f"<script>: DEFAULT forward ru=[sip:u{i}@192.0.2.{10 + i}] du=[<null>]"]
            assert obs.lines == fwd.lines
            assert obs.end == "cleaning-up"
            workers.update(obs.workers)
        # both children took messages (Linux wakes the longest-waiting recvfrom sleeper first)
        assert len(workers) == 2

        # A reply with two Vias: the core's forward_reply sends it to the 2nd Via's received/rport.
        reply = msg("SIP/2.0 180 Ringing", "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKours",
                    "Via: SIP/2.0/UDP 192.0.2.1;rport=5099;received=198.51.100.7;branch=z9hG4bKt3",
                    "To: <sip:bob@192.0.2.77>;tag=b1", "From: <sip:alice@atlanta.com>;tag=t1",
                    "Call-ID: harness-reply", "CSeq: 1 INVITE")
        rpl = k.send(reply, src=("192.0.2.77", 5060))
        assert rpl.reached == [] and rpl.steps == []  # no onreply_route in default.cfg
        assert [s.dst for s in rpl.sent] == [("198.51.100.7", 5099)]
        assert rpl.sent[0].headers("Via") == ["SIP/2.0/UDP 192.0.2.1;rport=5099;received=198.51.100.7;branch=z9hG4bKt3"]

        # A CRLF keep-alive never reaches receive_msg.
        ka = k.send(b"\r\n\r\n")
        assert ka.end == "udp-drop" and ka.sent == [] and ka.steps == []

        pids = set(k.pids)
        proc = k.proc
    assert proc is not None and proc.returncode is not None
    assert len(pids) >= 3  # main + 2 workers at least
    assert [p for p in pids if alive(p)] == []
    assert not tmp.exists()


def test_bad_script_is_a_clear_error_and_leaves_nothing(kamailio: str) -> None:
    k = KamailioProcess('loadmodule "xlog.so"\nrequest_route {\n\txlog("L_INFO", "x"\n}\n')
    with pytest.raises(KamailioError, match=r"parse error in config file .*script\.cfg, line 4"):
        with k:
            pass
    assert k.proc is not None and k.proc.returncode is not None
    assert [p for p in k.pids if alive(p)] == []


def test_names_resolve_only_through_the_private_hosts_file(kamailio: str) -> None:
    script = 'loadmodule "sl.so"\nrequest_route {\n\tif (!forward()) { sl_reply_error(); }\n}\n'
    invite = request("INVITE", "sip:carol@example.org", "harness-names")
    with KamailioProcess(script, hosts={"example.org": "198.51.100.20"}) as k:
        obs = k.send(invite)
        assert [s.dst for s in obs.sent] == [("198.51.100.20", 5060)]
        assert obs.sent[0].first_line == "INVITE sip:carol@example.org SIP/2.0"
    with KamailioProcess(script) as k:
        obs = k.send(invite)
        assert [(s.dst, s.status) for s in obs.sent] == [(("192.0.2.1", 5060), 478)]
        # it did try DNS, inside the namespace, to the private resolv.conf's server
        assert obs.other and {s.dst for s in obs.other} == {("127.0.0.1", 53)}


def _same_but_a_tick(now: object, recorded: object) -> bool:
    """Equal, or equal but for the registrar's remaining times: Kamailio writes a binding's expiry
    minus its clock when it builds the 200, one second less when a second boundary fell between
    saving and answering (``expires=3599`` for 3600)."""
    if now == recorded:
        return True
    pattern = re.compile(r"(expires=)(\d+)")
    a, b = json.dumps(now, sort_keys=True), json.dumps(recorded, sort_keys=True)
    if pattern.sub(r"\1N", a) != pattern.sub(r"\1N", b):
        return False
    pairs = zip(pattern.finditer(a), pattern.finditer(b), strict=True)
    return all(int(x.group(2)) in (int(y.group(2)), int(y.group(2)) - 1) for x, y in pairs)


def test_recorded_ground_truth_is_what_kamailio_does_now(kamailio: str) -> None:
    """tests/data/kamailio56/corpus.json is reproducible: the same Kamailio gives the same bytes."""
    from kamailio import record_ground_truth as rgt

    doc = json.loads(RECORDED.read_text())
    version = rgt.kamailio_version()
    if version != doc["kamailio"]:
        pytest.fail(f"installed {version}, recorded {doc['kamailio']}: re-run record_ground_truth.py")
    inputs = rgt.all_inputs()
    recorded = list(doc["corpus"]) + [f"crafted/{name}" for name in doc["crafted"]]
    assert [key for key, _, _ in inputs] == recorded, "inputs changed: re-run record_ground_truth.py"
    for variant in ("probe", "default"):
        results, _ = rgt.run_variant(variant, rgt.VARIANTS[variant], inputs, doc["hosts"])
        for key, obs in results.items():
            section, name = ("crafted", key.split("/", 1)[1]) if key.startswith("crafted/") else ("corpus", key)
            assert _same_but_a_tick(obs, doc[section][name][variant]), f"{key} [{variant}] differs from the recording"
