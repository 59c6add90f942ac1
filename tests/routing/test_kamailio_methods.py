"""The five methods Kamailio 5.6's first-line parser knows beyond the fourteen SIP ones — KDMQ, GET,
POST, PUT, DELETE — against the real Kamailio 5.6.3: the same datagrams, the same script, the same
behaviour and the same core statistics.

Kamailio gives each of them a method bit (``METHOD_KDMQ`` … ``METHOD_DELETE``), in any case. So
kex counts them in ``rcv_requests`` but neither by name (it has no counter for them) nor as
``unsupported_methods`` (that is ``METHOD_OTHER`` only); ``is_method()`` finds them by name in any
case, alone or in a list; ``$rm`` is the method as written. The script answers each request with sl
(any method but ACK is answered) and logs what it saw; Kamailio also loads ``ctl`` so that
``kamcmd`` can give its counters — on a line that is a comment for sipsim, so both number the
script's lines alike and the cfg lines they execute can be compared one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import need_tool
from kamailio.crafted import msg
from kamailio.harness import kamcmd_stats

from routing import kamdiff
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.stats import CORE_STATS
from sipsim.routing import load_route

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

CTL_LINE = "# ctl: loaded here for Kamailio only (kamcmd asks it for the counters)\n"
SCRIPT = (
    'loadmodule "kex.so"\nloadmodule "pv.so"\nloadmodule "sl.so"\nloadmodule "textops.so"\n'
    'loadmodule "xlog.so"\n' + CTL_LINE + "\n"
    "request_route {\n"
    '\txlog("L_INFO", "rm=$rm\\n");\n'
    '\tif (is_method("KDMQ")) {\n\t\txlog("L_INFO", "a KDMQ\\n");\n\t}\n'
    '\tif (is_method("get|Put")) {\n\t\txlog("L_INFO", "GET or PUT\\n");\n\t}\n'
    '\tif (is_method("POST|DELETE|INVITE")) {\n\t\txlog("L_INFO", "POST, DELETE or INVITE\\n");\n\t}\n'
    '\tif (is_method("FOO")) {\n\t\txlog("L_INFO", "a FOO\\n");\n\t}\n'
    '\tsl_send_reply("202", "Seen");\n'
    "\texit;\n}\n"
)
#: the request methods sent (the same in the CSeq): the five, two in odd case, an extension method,
#: and INVITE for comparison
METHODS = ["KDMQ", "GET", "PUT", "POST", "DELETE", "kdmq", "pUt", "FOO", "INVITE"]


def request(method: str, n: int) -> bytes:
    return msg(f"{method} sip:node@192.0.2.7 SIP/2.0", f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkm{n}",
               "Max-Forwards: 70", "To: <sip:node@192.0.2.7>", "From: <sip:peer@192.0.2.1>;tag=km",
               f"Call-ID: kdmq-{n}", f"CSeq: {n} {method}")


def kamailio_side(tmp_path: Path, data: list[bytes]) -> tuple[list[kamdiff.Seen], dict[str, int]]:
    from kamailio.harness import KamailioProcess

    need_tool("unshare")
    need_tool("kamailio")
    kamcmd = need_tool("kamcmd")
    sock = str(tmp_path / "ctl.sock")
    text = SCRIPT.replace(CTL_LINE, f'loadmodule "ctl.so" modparam("ctl", "binrpc", "unix:{sock}")\n')
    assert text.count("\n") == SCRIPT.count("\n")
    seen = []
    with KamailioProcess(text, script_name="script.cfg") as k:
        before = kamcmd_stats(kamcmd, sock, "core")
        for d in data:
            obs = k.send(d)
            assert obs.end != "not-received", obs.notable()
            s = kamdiff.Seen()
            s.sent = [(sent.dst, kamdiff.normalise(sent.data)) for sent in obs.sent]
            s.lines = [(st.line, st.func) for st in obs.steps if st.line != 0]
            s.logs = [r.text[len("<script>: "):].rstrip("\n") for r in obs.log if r.text.startswith("<script>: ")]
            seen.append(s)
        after = kamcmd_stats(kamcmd, sock, "core")
    return seen, {name: after[name] - before.get(name, 0) for name in after}


def sipsim_side(tmp_path: Path, data: list[bytes]) -> tuple[list[kamdiff.Seen], dict[str, int]]:
    path = tmp_path / "script.cfg"
    path.write_text(SCRIPT)
    seen = kamdiff.sipsim_run(path, [(d, ("192.0.2.1", 5060)) for d in data])
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060))
    driver = MemoryDriver(config, router=load_route(path, config))
    for d in data:
        driver.feed(d, ("192.0.2.1", 5060))
    return seen, driver.ctx.stats.snapshot()


def test_kdmq_get_put_and_friends_as_kamailio_56(tmp_path: Path, isolated_network: None) -> None:
    data = [request(m, n) for n, m in enumerate(METHODS, 1)]
    seen_k, theirs = kamailio_side(tmp_path, data)
    seen_s, ours = sipsim_side(tmp_path, data)

    for method, k, s in zip(METHODS, seen_k, seen_s, strict=True):
        assert kamdiff.agree(k, s), kamdiff.describe(method, k, s)
    assert sorted(ours) == sorted(theirs) and list(ours) == list(CORE_STATS)
    assert ours == theirs

    # what Kamailio did, so that the comparison above is known to have probed it
    logs = {m: k.logs for m, k in zip(METHODS, seen_k, strict=True)}
    assert logs["KDMQ"] == ["rm=KDMQ", "a KDMQ"] and logs["kdmq"] == ["rm=kdmq", "a KDMQ"]
    assert logs["GET"] == ["rm=GET", "GET or PUT"] and logs["pUt"] == ["rm=pUt", "GET or PUT"]
    assert logs["DELETE"] == ["rm=DELETE", "POST, DELETE or INVITE"] and logs["FOO"] == ["rm=FOO", "a FOO"]
    assert all(k.sent and k.sent[0][1].startswith("SIP/2.0 202 Seen") for k in seen_k)
    assert theirs["rcv_requests"] == len(METHODS)
    assert theirs["unsupported_methods"] == 1  # FOO only: the five have bits of their own
    by_name = {n: v for n, v in theirs.items() if n.startswith("rcv_requests_") and v}
    assert by_name == {"rcv_requests_invite": 1}  # kex has no counter for the five
