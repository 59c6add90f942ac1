"""Which address of a capture is its proxy, when --pcap-proxy does not say.

The guess used to be the address in the most datagrams. A capture taken at a phone that talks
to two servers has the phone in every datagram: it was taken for the proxy, and ``trace --pcap``
then traced the servers' answers to it (or nothing at all). These captures are written with
sipsim's PcapWriter, their messages as real phones and a stateless proxy send them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipsim.cli import main
from sipsim.packets.guess import ANSWERS, FORWARDED, RECEIVES, SERVER, guess
from sipsim.packets.pcap import SipDatagram
from sipsim.packets.pcapwriter import PcapWriter
from sipsim.packets.replay import BETWEEN_OTHERS, plan_replay

PHONE, SERVER_1, SERVER_2 = ("192.0.2.10", 5070), ("192.0.2.1", 5060), ("192.0.2.2", 5060)
CALLER, PROXY, CALLEE, OTHER = ("192.0.2.20", 5062), ("192.0.2.5", 5060), ("192.0.2.30", 5064), ("192.0.2.40", 5060)


def hp(a: tuple[str, int]) -> str:
    return f"{a[0]}:{a[1]}"


def request(method: str, uri: str, vias: list[str], call_id: str) -> bytes:
    lines = [f"{method} {uri} SIP/2.0", *(f"Via: SIP/2.0/UDP {v}" for v in vias), "Max-Forwards: 70",
             "From: <sip:alice@example.com>;tag=f1", f"To: <{uri}>", f"Call-ID: {call_id}", f"CSeq: 1 {method}",
             "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def reply(status: str, vias: list[str], call_id: str, method: str) -> bytes:
    lines = [f"SIP/2.0 {status}", *(f"Via: SIP/2.0/UDP {v}" for v in vias), "From: <sip:alice@example.com>;tag=f1",
             "To: <sip:bob@example.com>;tag=t1", f"Call-ID: {call_id}", f"CSeq: 1 {method}", "Content-Length: 0",
             "", ""]
    return "\r\n".join(lines).encode()


Flow = list[tuple[float, tuple[str, int], tuple[str, int], bytes]]


def phone_to_two_servers(answered: bool = True) -> Flow:
    """Captured at the phone: OPTIONS to one server, then to another, each answered (or not)."""
    flow: Flow = []
    for n, (t, server) in enumerate(((0.0, SERVER_1), (0.5, SERVER_2)), 1):
        via = [f"{hp(PHONE)};branch=z9hG4bK-o{n};rport"]
        flow.append((t, PHONE, server, request("OPTIONS", f"sip:{server[0]}", via, f"o{n}@phone")))
        if answered:
            flow.append((t + 0.01, server, PHONE, reply("200 OK", via, f"o{n}@phone", "OPTIONS")))
    return flow


def datagrams(flow: Flow) -> list[SipDatagram]:
    return [SipDatagram(t, src, dst, data, frame=n) for n, (t, src, dst, data) in enumerate(flow, 1)]


def write(path: Path, flow: Flow) -> str:
    with PcapWriter(path, epoch=1_790_000_000.0) as w:
        for t, src, dst, data in flow:
            w.write(t, src, dst, data)
    return str(path)


def trace(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    rc = main(["trace", "--json", *argv])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


@pytest.mark.parametrize("answered", [True, False])
def test_a_phone_sending_to_two_servers_is_not_the_proxy_and_the_tie_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], answered: bool) -> None:
    """The phone takes part in every datagram but receives no request: one of the servers is the
    proxy. They fit equally well: the first request's destination is taken, and stderr says so
    with the option that takes the other. Before, the phone was the proxy: the trace showed the
    two 200s dropped ("no 2nd via"), or, with no answers captured, refused to run at all."""
    flow = phone_to_two_servers(answered)
    g = guess(datagrams(flow))
    assert (g.address, g.rivals, g.tie_break) == (SERVER_1, (SERVER_2,), "the first request's destination")
    assert g.grounds == (ANSWERS if answered else RECEIVES)

    rc, rows, err = trace(capsys, "--pcap", write(tmp_path / "phone.pcap", flow))
    assert rc == 0, err
    # the OPTIONS that reached the proxy, answered by the traced proxy as "myself" (it stands where 192.0.2.1 did)
    assert [(r["frame"], r["src"], r["dst"], r["outcome"], r["status"]) for r in rows] == \
        [(1, hp(PHONE), hp(SERVER_1), "replied", 200)]
    assert f"the capture's proxy is {hp(SERVER_1)} (guessed: {g.grounds};" in err
    uncertain = [line for line in err.splitlines() if "the guess is uncertain" in line]
    assert len(uncertain) == 1, err
    assert f"{hp(SERVER_2)} fits as well" in uncertain[0] and f"{hp(SERVER_1)} was taken" in uncertain[0]
    assert f"give --pcap-proxy {hp(SERVER_2)}" in uncertain[0]
    assert f"--pcap-proxy {hp(SERVER_1)} --pcap-proxy {hp(SERVER_2)}" in uncertain[0]

    # the option the note gives does what it says: the other server's OPTIONS is traced, no note
    rc, rows, err = trace(capsys, "--pcap", str(tmp_path / "phone.pcap"), "--pcap-proxy", hp(SERVER_2))
    assert rc == 0 and [(r["frame"], r["dst"]) for r in rows] == [(3 if answered else 2, hp(SERVER_2))], err
    assert "uncertain" not in err


def test_the_server_that_takes_more_requests_wins_without_a_note(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    """Two OPTIONS to one server and one to another: the busier server, no tie to report; the
    third address is named among the datagrams left out, with the options to add it."""
    flow = phone_to_two_servers()
    via = [f"{hp(PHONE)};branch=z9hG4bK-o3;rport"]
    flow += [(1.0, PHONE, SERVER_2, request("OPTIONS", f"sip:{SERVER_2[0]}", via, "o3@phone")),
             (1.01, SERVER_2, PHONE, reply("200 OK", via, "o3@phone", "OPTIONS"))]
    plan = plan_replay(datagrams(flow))
    assert (plan.proxy, plan.rivals) == (SERVER_2, ())
    assert plan.left_out[BETWEEN_OTHERS] == [1, 2]
    rc, rows, err = trace(capsys, "--pcap", write(tmp_path / "busier.pcap", flow))
    assert rc == 0 and [r["frame"] for r in rows] == [3, 5] and "uncertain" not in err, err
    assert f"requests to {hp(SERVER_1)}, on the proxy's port and never from it" in err


def test_a_proxy_that_forwards_wins_over_a_busier_host_and_a_proxys_capture_still_finds_it() -> None:
    """A capture on a mirror port: the proxy forwards one INVITE (from the address it received it
    on), while the callee exchanges a dozen OPTIONS with another host. Counting datagrams took the
    callee; only the proxy forwarded something. A capture taken on the proxy (it is in every
    datagram, it receives and sends) finds it too, without a note."""
    uac = f"{hp(CALLER)};branch=z9hG4bK-c1"
    prx = f"{hp(PROXY)};branch=z9hG4bK-p1"
    call: Flow = [(0.0, CALLER, PROXY, request("INVITE", "sip:bob@example.com", [uac], "call@caller")),
                  (0.001, PROXY, CALLEE, request("INVITE", f"sip:bob@{hp(CALLEE)}", [prx, uac], "call@caller")),
                  (0.05, CALLEE, PROXY, reply("180 Ringing", [prx, uac], "call@caller", "INVITE")),
                  (0.051, PROXY, CALLER, reply("180 Ringing", [uac], "call@caller", "INVITE"))]
    chatter: Flow = []
    for n in range(6):
        via = [f"{hp(CALLEE)};branch=z9hG4bK-k{n}"]
        chatter += [(1.0 + n, CALLEE, OTHER, request("OPTIONS", f"sip:{OTHER[0]}", via, f"k{n}@callee")),
                    (1.01 + n, OTHER, CALLEE, reply("200 OK", via, f"k{n}@callee", "OPTIONS"))]
    mirrored = guess(datagrams(call + chatter))
    assert (mirrored.address, mirrored.grounds, mirrored.rivals) == (PROXY, FORWARDED, ())
    plan = plan_replay(datagrams(call + chatter))
    assert [d.frame for d in plan.arrivals] == [1, 3] and plan.rivals == ()
    assert not any("uncertain" in note for note in plan.notes())

    # without the caller's side (a capture at the callee): the Vias under the proxy's own show it forwarded
    at_callee = guess(datagrams(call[1:3] + chatter))
    assert (at_callee.address, at_callee.grounds) == (PROXY, SERVER)

    # a registrar's capture: it is in every datagram; a REGISTER goes only to a server
    reg = [f"{hp(CALLEE)};branch=z9hG4bK-r{n}" for n in range(2)]
    registrar: Flow = [(0.0, CALLEE, PROXY, request("REGISTER", f"sip:{PROXY[0]}", reg[:1], "r@callee")),
                       (0.01, PROXY, CALLEE, reply("200 OK", reg[:1], "r@callee", "REGISTER")),
                       (0.5, PROXY, CALLEE, request("OPTIONS", f"sip:{CALLEE[0]}", reg[1:], "k@proxy")),
                       (0.51, CALLEE, PROXY, reply("200 OK", reg[1:], "k@proxy", "OPTIONS"))]
    g = guess(datagrams(registrar))
    assert (g.address, g.grounds, g.rivals) == (PROXY, SERVER, ())
    # an OPTIONS each way instead of the REGISTER: both ends receive a request and answer it, both
    # in every datagram — nothing tells them apart, and the guess says it is unsure
    ping = [f"{hp(CALLEE)};branch=z9hG4bK-q"]
    both_ways = [(0.0, CALLEE, PROXY, request("OPTIONS", f"sip:{PROXY[0]}", ping, "q@callee")),
                 (0.01, PROXY, CALLEE, reply("200 OK", ping, "q@callee", "OPTIONS")), *registrar[2:]]
    g = guess(datagrams(both_ways))
    assert (g.address, g.grounds, g.rivals) == (PROXY, ANSWERS, (CALLEE,))
