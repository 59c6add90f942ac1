"""The core statistics against the real Kamailio 5.6.3: the same datagrams, the same script, the
same counters — every name of ``kamcmd stats.get_statistics core:`` and every value.

The script is the smallest one that lets the kex callbacks decide: ``request_route { exit; }``
(nothing forwarded, nothing answered) and ``onreply_route { drop; }`` (nothing forwarded). Kamailio
also loads ``ctl`` so that ``kamcmd`` can ask it; sipsim runs the same script in its routing engine,
kamailio profile. The datagrams probe what kex decides: each known method (in odd case too),
methods the parser knows but kex does not count (KDMQ, GET ...), an unknown one (RFC 4475's
``intmeth``), and replies of each class, of the codes counted on their own, of 18x, outside
100–699, and with each CSeq method that has per-class counters (in odd case too).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import DATA, need_tool
from kamailio.crafted import msg
from kamailio.harness import KamailioProcess, kamcmd_stats

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.stats import CORE_STATS, SL_STATS
from sipsim.routing import load_route

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

SCRIPT = 'loadmodule "kex.so"\n\nrequest_route {\n\texit;\n}\n\nonreply_route {\n\tdrop;\n}\n'

REQUEST_METHODS = ["INVITE", "invite", "ACK", "Ack", "BYE", "CANCEL", "INFO", "REGISTER", "SUBSCRIBE", "NOTIFY",
                   "MESSAGE", "OPTIONS", "options", "PRACK", "UPDATE", "REFER", "PUBLISH",
                   "KDMQ", "GET", "POST", "PUT", "DELETE", "FOO"]
REPLIES = [(100, "INVITE"), (180, "INVITE"), (183, "invite"), (189, "PRACK"), (190, "UPDATE"), (200, "REGISTER"),
           (200, "OPTIONS"), (202, "REFER"), (302, "Cancel"), (401, "REGISTER"), (404, "MESSAGE"),
           (407, "INVITE"), (480, "BYE"), (486, "BYE"), (487, "INVITE"), (503, "SUBSCRIBE"), (603, "refer"),
           (699, "NOTIFY"), (700, "INVITE"), (999, "BYE")]


def request(method: str, n: int) -> bytes:
    return msg(f"{method} sip:bob@example.org SIP/2.0", f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKst{n}",
               "Max-Forwards: 70", "To: <sip:bob@example.org>", "From: <sip:alice@example.org>;tag=a",
               f"Call-ID: st-req-{n}", f"CSeq: {n} {method}")


def reply(status: int, cseq_method: str, n: int) -> bytes:
    return msg(f"SIP/2.0 {status} Whatever", f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsr{n}",
               f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKst{n}", "To: <sip:bob@example.org>;tag=b",
               "From: <sip:alice@example.org>;tag=a", f"Call-ID: st-rpl-{n}", f"CSeq: {n} {cseq_method}")


def datagrams() -> list[bytes]:
    out = [request(m, n) for n, m in enumerate(REQUEST_METHODS, 1)]
    out.append((DATA / "rfc4475" / "intmeth.dat").read_bytes())
    out += [reply(status, m, n) for n, (status, m) in enumerate(REPLIES, 100)]
    return out


def test_core_counters_equal_kamailio_56(tmp_path: Path, isolated_network: None) -> None:
    need_tool("unshare")
    need_tool("kamailio")
    kamcmd = need_tool("kamcmd")
    sock = str(tmp_path / "ctl.sock")
    kam_script = SCRIPT.replace('loadmodule "kex.so"\n',
                                f'loadmodule "kex.so"\nloadmodule "ctl.so"\nmodparam("ctl", "binrpc", "unix:{sock}")\n')
    with KamailioProcess(kam_script) as k:
        before = kamcmd_stats(kamcmd, sock, "core")  # the harness's readiness probes are not SIP: nothing counted
        for data in datagrams():
            obs = k.send(data)
            assert obs.end != "not-received", obs.notable()
        after = kamcmd_stats(kamcmd, sock, "core")
    theirs = {name: after[name] - before.get(name, 0) for name in after}

    (tmp_path / "stats.cfg").write_text(SCRIPT)
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060))
    driver = MemoryDriver(config, router=load_route(tmp_path / "stats.cfg", config))
    for data in datagrams():
        driver.feed(data, ("192.0.2.1", 5060))
    ours = driver.ctx.stats.snapshot()

    assert list(ours) == list(CORE_STATS)
    assert sorted(ours) == sorted(theirs), "the fixed set of names differs from Kamailio 5.6's core group"
    assert ours == theirs
    # and the probe really exercised them: nothing was forwarded, every class was seen
    assert theirs["rcv_requests"] == len(REQUEST_METHODS) + 1 and theirs["unsupported_methods"] == 2
    assert theirs["rcv_replies"] == len(REPLIES) and theirs["rcv_replies_1xx_invite"] == 3
    assert theirs["fwd_requests"] == theirs["fwd_replies"] == 0


# -- the sl group ------------------------------------------------------------------------------------

#: codes the sl probe answers: each one with a counter of its own, others of each class, 1xx, 6xx
SL_CODES = (100, 180, 183, 200, 202, 299, 300, 301, 302, 380, 400, 401, 403, 404, 407, 408, 483, 486,
            500, 503, 600, 603, 699)
SL_SCRIPT = ('loadmodule "kex.so"\nloadmodule "pv.so"\nloadmodule "sl.so"\n\nrequest_route {\n'
             + "".join(f'\tif ($rU == "c{c}") {{\n\t\tsl_send_reply("{c}", "Probe");\n\t\texit;\n\t}}\n'
                       for c in SL_CODES)
             + '\tif ($rU == "err") {\n\t\tsl_reply_error();\n\t\texit;\n\t}\n'
             '\tif (!sl_send_reply("404", "Not Found")) {\n\t\tforward("192.0.2.9");\n\t}\n\texit;\n}\n')


def sl_request(method: str, user: str, n: int, to_tag: str = "") -> bytes:
    return msg(f"{method} sip:{user}@example.org SIP/2.0", f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsl{n}",
               "Max-Forwards: 70", f"To: <sip:bob@example.org>{to_tag}", "From: <sip:alice@example.org>;tag=a",
               f"Call-ID: sl-{n}", f"CSeq: 1 {method}")


def sl_datagrams() -> list[bytes]:
    """One OPTIONS per code, one sl_reply_error(), an INVITE (404), and an ACK sl does not
    recognise (a foreign To-tag): the script asks sl to answer it, which sl refuses (a failure,
    and sl_send_reply() is false: the script forwards the ACK instead)."""
    out = [sl_request("OPTIONS", f"c{c}", n) for n, c in enumerate(SL_CODES, 1)]
    out += [sl_request("OPTIONS", "err", 90), sl_request("INVITE", "bob", 91),
            sl_request("ACK", "bob", 92, ";tag=not-ours")]
    return out


def test_sl_counters_equal_kamailio_56(tmp_path: Path, isolated_network: None) -> None:
    """Every name of ``kamcmd stats.get_statistics sl:`` and every value: which one counter each
    code adds to (a 404 is not in 4xx_replies; 5.6 counts 1xx in xxx_replies), 6xx,
    sl_reply_error() (a 500), an ACK sl refuses to answer (a failure) — and where each datagram's
    answer went, so the refusal's return value (false) is checked too."""
    need_tool("unshare")
    need_tool("kamailio")
    kamcmd = need_tool("kamcmd")
    sock = str(tmp_path / "ctl.sock")
    ctl = f'loadmodule "ctl.so"\nmodparam("ctl", "binrpc", "unix:{sock}")\n'
    kam_script = SL_SCRIPT.replace('loadmodule "kex.so"\n', f'loadmodule "kex.so"\n{ctl}')
    sent = len(SL_CODES) + 2  # every OPTIONS, the error reply and the INVITE's 404; not the ACK
    with KamailioProcess(kam_script) as k:
        their_dsts = []
        for data in sl_datagrams():
            obs = k.send(data)
            assert obs.end != "not-received", obs.notable()
            their_dsts.append([x.dst for x in obs.sent])
        # sl sums its per-process counters at most once per timer tick (1/16 s) and keeps the
        # sum in between: ask again until the last reply shows
        deadline = time.monotonic() + 5
        while (theirs := kamcmd_stats(kamcmd, sock, "sl"))["sent_replies"] < sent and time.monotonic() < deadline:
            time.sleep(0.1)

    (tmp_path / "sl.cfg").write_text(SL_SCRIPT)
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060))
    driver = MemoryDriver(config, router=load_route(tmp_path / "sl.cfg", config))
    our_dsts = [[s.to for s in driver.feed(data, ("192.0.2.1", 5060)).sent] for data in sl_datagrams()]
    ours = driver.ctx.stats.sl_snapshot()

    assert our_dsts == their_dsts and their_dsts[-1] == [("192.0.2.9", 5060)]  # the refused ACK: forwarded

    assert list(ours) == list(SL_STATS)
    assert sorted(ours) == sorted(theirs), "the fixed set of names differs from Kamailio 5.6's sl group"
    assert ours == theirs
    # the probe did exercise them: one code counter per reply, none in two
    assert theirs["sent_replies"] == sent and theirs["failures"] == 1
    assert theirs["404_replies"] == 2 and theirs["4xx_replies"] == 1 and theirs["6xx_replies"] == 3
    assert theirs["500_replies"] == 2 and theirs["xxx_replies"] == 3 and theirs["1xx_replies"] == 0


# -- the order of kex's and sl's callbacks ------------------------------------------------------------

ORDER_SCRIPT = ('loadmodule "{first}.so"\nloadmodule "{second}.so"\n\nrequest_route {{\n'
                '\tif (method == "ACK") {{\n\t\texit;\n\t}}\n\tsl_send_reply("404", "Not Found");\n\texit;\n}}\n')


def _ack_for(invite: bytes, reply: bytes) -> bytes:
    """The ACK a UAC sends for a non-2xx final reply (RFC 3261 §17.1.1.3): the INVITE's Via (its
    branch), Call-ID and From, the reply's To (the proxy's own tag), CSeq method ACK."""
    lines = invite.decode("latin-1").split("\r\n")
    to = next(h for h in reply.decode("latin-1").split("\r\n") if h.startswith("To:"))
    keep = [h for h in lines[1:] if h.startswith(("Via:", "From:", "Call-ID:"))]
    return msg("ACK sip:nobody@example.org SIP/2.0", *keep, "Max-Forwards: 70", to, "CSeq: 1 ACK")


@pytest.mark.parametrize("first,second", [("sl", "kex"), ("kex", "sl")])
def test_callback_order_follows_loadmodule(tmp_path: Path, isolated_network: None, first: str, second: str) -> None:
    """The ACK to the proxy's own 404 is swallowed by sl's filter; whether kex counted it first
    depends on which module the script loads last (its callback is the newest, it runs first).
    Measured on Kamailio 5.6.3 for both orders; sipsim must count as it does."""
    need_tool("unshare")
    need_tool("kamailio")
    kamcmd = need_tool("kamcmd")
    script = ORDER_SCRIPT.format(first=first, second=second)
    sock = str(tmp_path / "ctl.sock")
    kam_script = script.replace("\nrequest_route", f'loadmodule "ctl.so"\nmodparam("ctl", "binrpc", "unix:{sock}")\n'
                                "\nrequest_route", 1)
    invites = [sl_request("INVITE", "nobody", 200 + n) for n in range(3)]
    with KamailioProcess(kam_script) as k:
        before = kamcmd_stats(kamcmd, sock, "core")
        for inv in invites:
            obs = k.send(inv)
            assert [x.data[:12] for x in obs.sent] == [b"SIP/2.0 404 "], obs.notable()
            assert k.send(_ack_for(inv, obs.sent[0].data)).sent == []
        after = kamcmd_stats(kamcmd, sock, "core")
        deadline = time.monotonic() + 5
        while (sl := kamcmd_stats(kamcmd, sock, "sl"))["received_ACKs"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)  # (sl sums its per-process counters once per timer tick)
    theirs = {n: after[n] - before.get(n, 0) for n in ("rcv_requests", "rcv_requests_ack", "rcv_requests_invite")}
    theirs["received_ACKs"] = sl["received_ACKs"]

    (tmp_path / "order.cfg").write_text(script)
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060))
    driver = MemoryDriver(config, router=load_route(tmp_path / "order.cfg", config))
    for inv in invites:
        replies = driver.feed(inv, ("192.0.2.1", 5060)).sent
        assert len(replies) == 1 and replies[0].data.startswith(b"SIP/2.0 404 ")
        assert driver.feed(_ack_for(inv, replies[0].data), ("192.0.2.1", 5060)).sent == []
    stats = driver.ctx.stats
    ours = {n: stats.snapshot()[n] for n in ("rcv_requests", "rcv_requests_ack", "rcv_requests_invite")}
    ours["received_ACKs"] = stats.sl_snapshot()["received_ACKs"]

    assert ours == theirs
    counted = first == "sl"  # kex loaded last: its counter runs before sl's filter
    assert theirs == {"rcv_requests": 6 if counted else 3, "rcv_requests_ack": 3 if counted else 0,
                      "rcv_requests_invite": 3, "received_ACKs": 3}
