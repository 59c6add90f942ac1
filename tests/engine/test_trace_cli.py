"""``sipsim trace``: the stable JSON interface and the human output, through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import DATA

SIPSIM = [sys.executable, "-m", "sipsim"]


def trace(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(SIPSIM + ["trace", *args], capture_output=True, text=True, timeout=60)


def test_json_shape_for_a_folder_in_name_order() -> None:
    out = trace(str(DATA / "rfc4475"), "--json", "--from", "192.0.2.10:5070")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    names = [r["file"].rsplit("/", 1)[1] for r in rows]
    assert names == sorted(p.name for p in (DATA / "rfc4475").glob("*.dat"))
    for r in rows:
        assert set(r) == {"file", "outcome", "status", "reason", "sent", "steps"}
        assert r["outcome"] in ("forwarded", "replied", "dropped")
        assert r["status"] is None or isinstance(r["status"], int)
        assert all(set(s) == {"to", "data"} for s in r["sent"])
        assert r["steps"][0]["step"] == "recvfrom" and all("step" in s for s in r["steps"])
    zeromf = rows[names.index("zeromf.dat")]
    assert (zeromf["outcome"], zeromf["status"]) == ("replied", 483)
    assert zeromf["sent"][0]["to"] == "192.0.2.10:5070" or zeromf["sent"][0]["to"].startswith("192.0.2.10:")
    assert zeromf["sent"][0]["data"].startswith("SIP/2.0 483 Too Many Hops\r\n")


def test_advertise_alias_listen_and_ipv6_destinations() -> None:
    f1 = DATA / "rfc3261" / "s24_1_F1_REGISTER.dat"
    out = trace(str(f1), "--json", "--alias", "registrar.biloxi.com", "--from", "192.0.2.4:5060")
    row = json.loads(out.stdout)
    assert (row["outcome"], row["status"]) == ("replied", 200), row["reason"]
    fwd = trace(str(f1), "--json", "--advertise", "proxy.example.net", "--listen", "127.0.0.1:5070")
    row = json.loads(fwd.stdout)
    assert row["outcome"] == "forwarded" and row["sent"][0]["to"] == "registrar.biloxi.com:5060"
    assert "Via: SIP/2.0/UDP proxy.example.net:5070;branch=z9hG4bK" in row["sent"][0]["data"]
    port6 = str(DATA / "rfc5118" / "port-unambiguous.dat")
    v6 = json.loads(trace(port6, "--json", "--listen", "[::1]:5060").stdout)
    assert v6["sent"][0]["to"] == "[2001:db8::10]:5070"
    assert "Via: SIP/2.0/UDP [::1];branch=" in v6["sent"][0]["data"]
    # an IPv4-only proxy has no socket to send to an IPv6 address from (Kamailio: 500 ... (7/SL))
    v4 = json.loads(trace(port6, "--json", "--profile", "kamailio").stdout)
    assert (v4["status"], v4["reason"]) == (500, "I'm terribly sorry, server error occurred (7/SL)")


def test_human_output_and_clear_errors() -> None:
    out = trace(str(DATA / "rfc4475" / "badinv01.dat"), "--profile", "kamailio")
    assert out.returncode == 0
    assert "parse_msg" in out.stdout and "dropped" in out.stdout
    missing = trace("/nonexistent.dat")
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad = trace(str(DATA / "rfc4475" / "wsinv.dat"), "--from", "nowhere:port")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr



def test_the_default_source_is_a_client_beside_the_proxy_not_the_proxy_itself(tmp_path) -> None:  # noqa: ANN001
    """Without --from a datagram comes from 127.0.0.1:5070 ([::1]:5070 to an IPv6 proxy), as
    `sipsim craft` assumes, not from the proxy's own 127.0.0.1:5060."""
    zeromf = (DATA / "rfc4475" / "zeromf.dat").read_bytes()  # Max-Forwards: 0 -> 483 to the sender
    with_rport = tmp_path / "zeromf-rport.dat"
    with_rport.write_bytes(zeromf.replace(b"branch=z9hG4bKkdjuw2349i", b"branch=z9hG4bKkdjuw2349i;rport"))
    row = json.loads(trace(str(with_rport), "--json").stdout)
    assert (row["status"], row["sent"][0]["to"]) == (483, "127.0.0.1:5070"), row  # rport: back to the source port
    assert "bytes from 127.0.0.1:5070" in trace(str(with_rport)).stdout
    assert "bytes from [::1]:5070" in trace(str(with_rport), "--listen", "[::1]:5060").stdout
