"""RFC 3261 §16 call flows through `sipsim serve` (4 workers, default route, both profiles), sipp on
both ends: what a stateless proxy must get right beyond the basic INVITE/200/ACK/BYE.

A stateless proxy remembers nothing between two datagrams, so everything that ties a request to
an earlier one — a retransmission, a CANCEL, the ACK of a non-2xx answer — must come out of the
same computation: Kamailio's forward() derives the Via branch from the request's transaction key,
and RFC 3261 §16.11 asks exactly that (same branch for the same request, and the INVITE's for its
CANCEL and non-2xx ACK). Each sipp callee (tests/data/sipp/flows/) checks what it can see of
this itself and fails its call when something differs; the test then reads both phones' message
logs (sipp -trace_msg) for what a sipp scenario cannot compare, and the proxy's counters.

Four workers share the socket, so two datagrams sent back to back may leave the proxy swapped (a
200 before its 180, a 487 before the CANCEL's 200): the scenarios accept either order, as a real
phone does. Where they must not cross (an ACK and the next request) the sender pauses 100 ms.
Kamailio 5.6.3 running sipsim/routing/scripts/default.cfg (children=4, -A SIPSIM_NO_RELAY) gives every
flow the same outcome and delivers the same messages to both phones (but its Server header and sl's
To-tags), so these are the kamailio profile's oracle answers; the ser profile differs only where
received= goes in the caller's Via (KAMAILIO_DIFFERENCES.md, "Via").
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import DATA, free_udp_port, need_tool, stop_pid
from live_harness import LiveServer, register, run_sipp

pytestmark = [pytest.mark.network, pytest.mark.sipp, pytest.mark.timeout(30)]

FLOWS = DATA / "sipp" / "flows"
PROFILES = ["ser", "kamailio"]


@dataclass
class Call:
    """One sipp caller/callee pair: the caller's counters, the callee's exit status, both message logs."""

    uac: dict[str, int]
    uas_rc: int
    uac_log: str
    uas_log: str

    def received(self, who: str) -> list[str]:
        """The datagrams the caller ('uac') or the callee ('uas') received, in order."""
        return _messages(self.uac_log if who == "uac" else self.uas_log, "received")

    def sent(self, who: str) -> list[str]:
        return _messages(self.uac_log if who == "uac" else self.uas_log, "sent")


def _messages(log: str, direction: str) -> list[str]:
    """Split a sipp -trace_msg log into the messages sent or received (their text, CRLF kept)."""
    out = []
    for block in re.split(r"\n(?=-{10,})", log):
        m = re.search(rf"UDP message {direction} \[\d+\] bytes :\n\n(.*)", block, re.S)
        if m:
            out.append(m.group(1).rstrip("\n"))
    return out


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _first_line(msg: str) -> str:
    return msg.split("\n", 1)[0].rstrip("\r")


def _header(msg: str, name: str) -> list[str]:
    return [ln.split(":", 1)[1].strip() for ln in msg.splitlines() if ln.lower().startswith(name.lower() + ":")]


def _branch(msg: str) -> str:
    m = re.search(r"branch=([^;,\s]+)", _header(msg, "Via")[0])
    assert m, msg
    return m.group(1)


def call(sipp: str, tmp: Path, srv: LiveServer, name: str, aor: str, *, uas_port: int | None = None,
         uas_args: tuple[str, ...] = (), users: tuple[str, ...] = ()) -> Call:
    """Start the callee of flow ``name`` on a free port, register it as ``aor`` (and ``users``), let
    the caller call ``aor`` once through ``srv``; both bounded, the callee stopped by PID."""
    port = uas_port or free_udp_port()
    uas_log, uac_log = tmp / f"{name}-{aor}-uas.log", tmp / f"{name}-{aor}-uac.log"
    callee = subprocess.Popen([sipp, "-sf", str(FLOWS / f"uas-{name}.xml"), *uas_args, "-i", "127.0.0.1",
                               "-p", str(port), "-m", "1", "-nostdin", "-timeout", "10", "-trace_msg",
                               "-message_file", str(uas_log)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=tmp)
    try:
        for user in (aor, *users):
            reg = register(sipp, tmp, srv.port, user, f"127.0.0.1:{port}")
            assert reg["rc"] == 0 and reg["SuccessfulCall"] == 1, reg
        res = run_sipp(sipp, tmp, ["-sf", str(FLOWS / f"uac-{name}.xml"), f"127.0.0.1:{srv.port}", "-s", aor,
                                   "-p", str(free_udp_port()), "-m", "1", "-recv_timeout", "4000",
                                   "-timeout", "10", "-trace_msg", "-message_file", str(uac_log)],
                       timeout=15, name=f"uac-{name}-{aor}")
        uas_rc = callee.wait(timeout=5)
    finally:
        stop_pid(callee)
    return Call(res, uas_rc, _read(uac_log), _read(uas_log))  # type: ignore[arg-type]


def ok(c: Call) -> None:
    assert c.uac["rc"] == 0 and c.uac["SuccessfulCall"] == 1 and c.uac["FailedCall"] == 0, (c.uac, c.uac_log)
    assert c.uas_rc == 0, f"the callee's call failed:\n{c.uas_log}"


def server(tmp: Path, profile: str) -> LiveServer:
    return LiveServer(tmp, workers=4, args=["--profile", profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_rejected_invite_486_and_603_each_acked_with_the_invites_branch(tmp_path: Path, isolated_network: None,
                                                                        profile: str) -> None:
    sipp = need_tool("sipp")
    with server(tmp_path, profile) as srv:
        busy = call(sipp, tmp_path, srv, "reject", "bob")
        decline = call(sipp, tmp_path, srv, "reject", "dave", uas_args=("-set", "code", "603"))
        stats = srv.stats()
    for c, status in ((busy, "SIP/2.0 486 Busy Here"), (decline, "SIP/2.0 603 Decline")):
        ok(c)
        finals = [_first_line(m) for m in c.received("uac") if not m.startswith("SIP/2.0 180")]
        assert finals == [status], finals
        invite, ack = c.received("uas")
        assert _first_line(ack).startswith("ACK ") and _branch(ack) == _branch(invite)
        assert _first_line(ack).split()[1] == _first_line(invite).split()[1], "the contact, as for the INVITE"
    assert stats["rcv_replies_486"] == 1 and stats["rcv_replies_6xx_invite"] == 1, stats
    assert stats["rcv_requests_ack"] == 2 and stats["err_requests"] == 0, stats


@pytest.mark.parametrize("profile", PROFILES)
def test_cancel_of_a_ringing_invite_and_the_487s_ack_share_its_branch(tmp_path: Path, isolated_network: None,
                                                                      profile: str) -> None:
    sipp = need_tool("sipp")
    with server(tmp_path, profile) as srv:
        c = call(sipp, tmp_path, srv, "cancel", "bob")
        stats = srv.stats()
    ok(c)
    invite, cancel, ack = c.received("uas")
    assert [_first_line(m).split()[0] for m in (invite, cancel, ack)] == ["INVITE", "CANCEL", "ACK"]
    assert _branch(cancel) == _branch(invite) == _branch(ack)
    # RFC 3261 9.1: the CANCEL's Request-URI, Call-ID, To, From and CSeq number are the INVITE's
    for h in ("Call-ID", "From", "To"):
        assert _header(cancel, h) == _header(invite, h), h
    assert _first_line(cancel).split()[1] == _first_line(invite).split()[1]
    assert sorted(_first_line(m) for m in c.received("uac")) == [
        "SIP/2.0 180 Ringing", "SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]
    assert stats["fwd_requests"] == 3 and stats["fwd_replies"] == 3, stats
    assert stats["rcv_requests_cancel"] == 1 and stats["rcv_replies_2xx_cancel"] == 1, stats
    assert stats["rcv_replies_4xx_invite"] == 1 and stats["err_requests"] == 0, stats


@pytest.mark.parametrize("profile", PROFILES)
def test_reinvite_through_the_outbound_proxy_route(tmp_path: Path, isolated_network: None, profile: str) -> None:
    sipp = need_tool("sipp")
    port = free_udp_port()
    with server(tmp_path, profile) as srv:
        c = call(sipp, tmp_path, srv, "reinvite", "bob", uas_port=port)
        stats = srv.stats()
    ok(c)
    got = c.received("uas")
    assert [_first_line(m) for m in got] == [
        f"INVITE sip:bob@127.0.0.1:{port} SIP/2.0", f"ACK sip:callee@127.0.0.1:{port} SIP/2.0",
        f"INVITE sip:callee@127.0.0.1:{port} SIP/2.0", f"ACK sip:callee@127.0.0.1:{port} SIP/2.0",
        f"BYE sip:callee@127.0.0.1:{port} SIP/2.0"]
    for m in got:  # the proxy's Via on top, the phone's below; its Route entry gone (RFC 3261 16.4)
        vias = _header(m, "Via")
        assert len(vias) == 2 and f"127.0.0.1:{srv.port}" in vias[0] and _header(m, "Route") == [], m
        assert _header(m, "Max-Forwards") == ["69"], m
    assert "a=sendonly" in got[2] and "a=recvonly" in c.received("uac")[-2]
    # a new transaction each: the re-INVITE's branch is not the INVITE's
    assert len({_branch(m) for m in got}) == 5
    assert stats["fwd_requests"] == 5 and stats["err_requests"] == 0 and stats["drop_requests"] == 0, stats


@pytest.mark.parametrize("profile", PROFILES)
def test_302_is_relayed_to_the_caller_who_acks_and_calls_the_new_target(tmp_path: Path, isolated_network: None,
                                                                         profile: str) -> None:
    sipp = need_tool("sipp")
    with server(tmp_path, profile) as srv:
        moved = f"sip:carol@127.0.0.1:{srv.port}"
        c = call(sipp, tmp_path, srv, "redirect", "bob", uas_args=("-key", "moved", moved), users=("carol",))
        stats = srv.stats()
    ok(c)
    got_uac = c.received("uac")
    redirect = got_uac[0]
    assert _first_line(redirect) == "SIP/2.0 302 Moved Temporarily"
    assert _header(redirect, "Contact") == [f"<{moved}>"] and len(_header(redirect, "Via")) == 1
    invite, ack, invite2 = c.received("uas")[:3]
    assert _branch(ack) == _branch(invite) and _branch(invite2) != _branch(invite)
    assert _first_line(invite2).startswith("INVITE sip:carol@127.0.0.1:")
    assert _header(invite2, "CSeq") == ["2 INVITE"] and _header(invite2, "Call-ID") == _header(invite, "Call-ID")
    assert stats["rcv_replies_3xx"] == 1 and stats["err_requests"] == 0, stats


@pytest.mark.parametrize("profile", PROFILES)
def test_options_and_message_to_a_user_an_unknown_user_a_foreign_domain(tmp_path: Path, isolated_network: None,
                                                                         profile: str) -> None:
    sipp = need_tool("sipp")
    with server(tmp_path, profile) as srv:
        c = call(sipp, tmp_path, srv, "requests", "bob")
        stats, log = srv.stats(), srv.log_text()
    ok(c)
    assert [_first_line(m) for m in c.received("uac")] == [
        "SIP/2.0 200 OK", "SIP/2.0 200 OK", "SIP/2.0 404 Not Found", "SIP/2.0 403 Relaying Forbidden",
        "SIP/2.0 200 OK"]
    assert [_first_line(m).split()[0] for m in c.received("uas")] == ["OPTIONS", "MESSAGE"]
    assert stats["fwd_requests"] == 2 and stats["fwd_replies"] == 2, stats
    assert stats["rcv_requests_message"] == 3 and stats["rcv_requests_options"] == 2, stats
    assert "example.com" in log


@pytest.mark.parametrize("profile", PROFILES)
def test_retransmitted_invite_and_bye_are_forwarded_byte_for_byte(tmp_path: Path, isolated_network: None,
                                                                   profile: str) -> None:
    sipp = need_tool("sipp")
    with server(tmp_path, profile) as srv:
        c = call(sipp, tmp_path, srv, "retrans", "bob")
        stats, log = srv.stats(), srv.log_text()
    ok(c)
    got = c.received("uas")
    invites = [m for m in got if m.startswith("INVITE ")]
    byes = [m for m in got if m.startswith("BYE ")]
    assert len(invites) >= 2 and len(set(invites)) == 1, invites
    assert len(byes) >= 2 and len(set(byes)) == 1, byes
    assert _branch(invites[0]) != _branch(byes[0])
    assert stats["rcv_requests_invite"] == len(invites) and stats["rcv_requests_bye"] == len(byes), stats
    # the kernel wakes the workers first-in first-out, and nothing else reaches the proxy between a
    # request and its copy: the copy was forwarded by another process, which shares no state with the first
    for method, copies in (("INVITE", invites), ("BYE", byes)):
        pids = re.findall(rf"\[(\d+)\] #\d+ {method} sip:bob@", log)
        assert len(pids) == len(copies) and len(set(pids[:2])) == 2, (method, pids)
