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
        assert set(r) == {"file", "outcome", "status", "reason", "sent", "steps", "src", "dst", "frame", "time"}
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


INVITE6 = (b"INVITE sip:bob@[2001:db8::1]:5070 SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK-v6\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:alice@[2001:db8::9]>;tag=1\r\nTo: <sip:bob@[2001:db8::1]:5070>\r\n"
           b"Call-ID: v6-alias\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")


def test_ipv6_listen_from_and_alias(tmp_path) -> None:  # noqa: ANN001
    """IPv6 everywhere: --listen/--from as [v6]:port, an alias [v6]:port that makes the Request-URI
    "myself" (then: not registered, 404 back to the source), and without it the request goes on."""
    dat = tmp_path / "invite6.dat"
    dat.write_bytes(INVITE6)
    where = ("--listen", "[2001:db8::5]:5060", "--from", "[2001:db8::9]:5070")
    mine = json.loads(trace(str(dat), "--json", *where, "--alias", "[2001:db8::1]:5070").stdout)
    assert (mine["outcome"], mine["status"], mine["sent"][0]["to"]) == ("replied", 404, "[2001:db8::9]:5070")
    other_port = json.loads(trace(str(dat), "--json", *where, "--alias", "[2001:db8::1]:5071").stdout)
    on = json.loads(trace(str(dat), "--json", *where).stdout)
    for row in (other_port, on):
        assert (row["outcome"], row["sent"][0]["to"]) == ("forwarded", "[2001:db8::1]:5070")
        assert "Via: SIP/2.0/UDP [2001:db8::5];branch=" in row["sent"][0]["data"]
    text = trace(str(dat), *where, "--alias", "[2001:db8::1]:5070").stdout
    assert "bytes from [2001:db8::9]:5070" in text and "sent to [2001:db8::9]:5070 (reply)" in text


def test_an_ipv6_capture_keeps_its_proxy_as_listen_address_or_alias(tmp_path) -> None:  # noqa: ANN001
    """trace --pcap on an IPv6 capture: without --listen the proxy stands at the captured
    [v6]:port; with --listen elsewhere that address is an alias, so a REGISTER for it is ours."""
    from sipsim.packets import PcapWriter

    register = INVITE6.replace(b"INVITE sip:bob@[2001:db8::1]:5070", b"REGISTER sip:[2001:db8::5]:5062") \
        .replace(b"CSeq: 1 INVITE", b"CSeq: 1 REGISTER\r\nContact: <sip:bob@[2001:db8::9]:5070>") \
        .replace(b"bob@[2001:db8::1]:5070>", b"bob@[2001:db8::5]>")
    cap = tmp_path / "v6.pcap"
    with PcapWriter(str(cap)) as w:
        w.write(0.0, ("2001:db8::9", 5070), ("2001:db8::5", 5062), register)
        w.write(0.1, ("2001:db8::9", 5070), ("2001:db8::5", 5062), INVITE6)
    rows = [json.loads(line) for line in trace("--pcap", str(cap), "--json").stdout.splitlines()]
    assert [(r["outcome"], r["status"]) for r in rows] == [("replied", 200), ("forwarded", None)], rows
    assert "Via: SIP/2.0/UDP [2001:db8::5]:5062;branch=" in rows[1]["sent"][0]["data"]
    moved = trace("--pcap", str(cap), "--json", "--listen", "[2001:db8::7]:5060")
    rows = [json.loads(line) for line in moved.stdout.splitlines()]
    assert (rows[0]["outcome"], rows[0]["status"]) == ("replied", 200), rows[0]["reason"]
    assert "Via: SIP/2.0/UDP [2001:db8::7];branch=" in rows[1]["sent"][0]["data"]


def test_a_bad_alias_is_refused_in_one_line_as_serve_does() -> None:
    wsinv = str(DATA / "rfc4475" / "wsinv.dat")
    for alias, why in [("sip.example:abc", "the port must be a number"), ("[2001:db8::1", "an IPv6 reference"),
                       ("[2001:db8::1]x", "only ':port' may follow"), (":5060", "no host"),
                       ("sip.example:70000", "1 to 65535")]:
        out = trace(wsinv, "--alias", "sip.example", "--alias", alias)
        assert out.returncode == 2 and not out.stdout, (alias, out.stdout)
        assert out.stderr.startswith(f"sipsim: --alias: bad alias {alias!r}: "), out.stderr
        assert why in out.stderr and out.stderr.count("\n") == 1, out.stderr
    for alias in ("sip.example", "sip.example:5070", "[2001:db8::1]:5070", "udp:sip.example:5070", "2001:db8::1"):
        assert trace(wsinv, "--alias", alias).returncode == 0, alias
