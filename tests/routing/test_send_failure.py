"""A forward that the kernel refuses, against the real Kamailio 5.6.3.

A request that fits one UDP datagram when it arrives can be too long to forward: the proxy's Via
adds some 80 bytes, and ``sendto()`` fails with EMSGSIZE past 65,507 bytes of IPv4 payload.
Kamailio's ``forward()`` then fails with ``ser_error`` left at E_UNSPEC, so ``sl_reply_error()``
answers ``500 ... (1/SL)`` (measured). sipsim's in-memory driver refuses such a send as the kernel
does (``events.oversize_error``); the simulated kernel too (checked here without Kamailio)."""

from __future__ import annotations

import pytest
from helpers import need_tool
from kamailio.crafted import msg

from routing import kamdiff
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.events import Send, oversize_error

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

SCRIPT = '''loadmodule "sl.so"
loadmodule "xlog.so"

request_route {
	if (!forward("127.0.0.1", 5090)) {
		xlog("L_NOTICE", "forward failed\\n");
		sl_reply_error();
	}
}
'''


def _invite(body: int) -> bytes:
    return msg("INVITE sip:bob@127.0.0.1:5090 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbig",
               "Max-Forwards: 70", "To: <sip:bob@127.0.0.1>", "From: <sip:a@127.0.0.1>;tag=1", "Call-ID: big@x",
               "CSeq: 1 INVITE", "Content-Type: text/plain", body="x" * body)


def test_a_request_too_long_to_forward_is_answered_500_as_kamailio_does(isolated_network: None) -> None:
    need_tool("kamailio")
    fits, too_long = _invite(65000), _invite(65250)  # both arrive; the second cannot leave with our Via
    assert len(too_long) <= 65507 < len(too_long) + 80
    seen_k, seen_s = kamdiff.run_both(SCRIPT, [(fits, ("127.0.0.1", 5070)), (too_long, ("127.0.0.1", 5070))])
    assert seen_k == seen_s, "\n".join(kamdiff.describe(f"#{i}", k, s) for i, (k, s) in
                                       enumerate(zip(seen_k, seen_s, strict=True)) if k != s)
    assert [d for d, _ in seen_k[0].sent] == [("127.0.0.1", 5090)]
    assert [d for d, _ in seen_k[1].sent] == [("127.0.0.1", 5070)] and seen_k[1].logs == ["forward failed"]


def test_the_in_memory_driver_and_the_simulated_kernel_refuse_it_too(tmp_path, capsys) -> None:  # noqa: ANN001
    """trace's driver and a replay in the simulator: the forward fails, the caller gets the 500."""
    import json

    from sipsim.cli import main
    from sipsim.engine.driver import MemoryDriver
    from sipsim.packets import PcapWriter

    big = Send(("127.0.0.1", 5090), b"x" * 65508, ("127.0.0.1", 5060), "request")
    assert "EMSGSIZE" in (oversize_error(big) or "") and oversize_error(
        Send(("::1", 5090), b"x" * 65508, ("::1", 5060), "request")) is None  # IPv6 carries 20 more
    driver = MemoryDriver(ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060)))
    res = driver.feed(_invite(65250), ("127.0.0.1", 5070))
    assert [s.to for s in res.sent] == [("127.0.0.1", 5070)] and res.sent[0].data.startswith(b"SIP/2.0 500 ")

    with PcapWriter(tmp_path / "big.pcap") as w:
        w.write(0.0, ("127.0.0.1", 5070), ("127.0.0.1", 5060), _invite(65250))
    assert main(["simulate", "--pcap", str(tmp_path / "big.pcap"), "--profile", "kamailio", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["core_stats"]["fwd_requests"] == 0 and out["sl_stats"]["500_replies"] == 1
