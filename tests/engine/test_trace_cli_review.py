"""``sipsim trace`` as a VoIP engineer's review found it: a relay serve would not be, addresses no
proxy could have, exit codes that disagreed between commands, a datagram shown by its first line
only, and files that are no datagram named "no such file"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DATA

from sipsim.cli import main

FOREIGN = ("OPTIONS sip:carol@chicago.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-f1\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:a@atlanta.com>;tag=1\r\nTo: <sip:carol@chicago.com>\r\n"
           "Call-ID: foreign-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
INVITE = ("INVITE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport\r\n"
          "Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=19283\r\n"
          "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n")


def trace(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["trace", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def foreign(tmp_path: Path) -> str:
    path = tmp_path / "foreign.dat"
    path.write_bytes(FOREIGN.encode())
    return str(path)


def test_the_header_says_trace_relays_and_no_relay_gives_serves_403(capsys, foreign: str) -> None:  # noqa: ANN001
    rc, out, _ = trace(capsys, foreign)
    first = out.splitlines()[0]
    assert rc == 0 and "relay on — serve's default is off; --no-relay to see its 403" in first
    assert "Names are not resolved" in first and "--dns" in first
    assert "= forwarded: forwarded to chicago.com:5060" in out
    # the forward goes to a name: said where it happens, with what serve would do instead
    assert "chicago.com is a name: sipsim does not resolve it; serve without --dns answers 478" in out

    rc, out, _ = trace(capsys, foreign, "--no-relay")
    assert rc == 0 and "relay off, as serve's default" in out.splitlines()[0]
    assert "= replied 403: Relaying Forbidden" in out and "forwarded to" not in out
    rc, out, _ = trace(capsys, foreign, "--no-relay", "--json")
    row = json.loads(out)
    assert set(row) == {"file", "outcome", "status", "reason", "sent", "steps",  # the stable shape, and the
                        "src", "dst", "frame", "time"}  # keys added for captures
    assert (row["outcome"], row["status"], row["sent"][0]["to"]) == ("replied", 403, "127.0.0.1:5070")
    # a script decides for itself: --no-relay defines SIPSIM_NO_RELAY, as serve without --relay
    cfg = Path(__file__).parents[2] / "sipsim" / "routing" / "scripts" / "default.cfg"
    rc, out, _ = trace(capsys, foreign, "--no-relay", "--route", str(cfg))
    assert "SIPSIM_NO_RELAY defined" in out.splitlines()[0] and "= replied 403" in out


@pytest.mark.parametrize(("argv", "said"), [
    (["--from", "foo"], "--from 'foo': give an IPv4 or IPv6 address and a port (names are not resolved)"),
    (["--listen", "0.0.0.0:5060"], "--listen 0.0.0.0:5060 receives on every address of this machine, but the "
                                   "server must name one in its own Via: add --advertise ADDRESS"),
    (["--listen", "[::]:5060"], "--listen [::]:5060 receives on every address"),
    (["--listen", "[::1]:5060", "--from", "127.0.0.1:5070"], "are not of one family"),
    (["--from", "[::1]:5070"], "--from [::1]:5070 and --listen 127.0.0.1:5060 are not of one family"),
    (["--listen", "proxy.example:5060"], "names are not resolved"),
    (["--advertise", "bad name!"], "--advertise 'bad name!': not a SIP host"),
    (["--advertise", "proxy.example:5080"], "without a port"),
    (["--advertise", "0.0.0.0"], "the wildcard is no address a peer can send to"),
    (["--pcap-proxy", "any"], "--pcap-proxy goes with --pcap"),
    (["--pcap", "/nonexistent.pcap"], "give either"),
])
def test_impossible_addresses_and_options_are_refused(capsys, foreign: str, argv: list[str],  # noqa: ANN001
                                                      said: str) -> None:
    rc, out, err = trace(capsys, foreign, *argv)
    assert rc == 2 and not out, out
    assert said in err and len(err.strip().splitlines()) == 1, err


def test_a_wildcard_with_advertise_names_it_and_knows_loopback_as_itself(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "self.dat"
    path.write_bytes(FOREIGN.replace("sip:carol@chicago.com", "sip:127.0.0.1").encode())
    rc, out, err = trace(capsys, str(path), "--listen", "0.0.0.0:5060", "--advertise", "proxy.example.net")
    assert rc == 0, err
    assert "Via proxy.example.net" in out.splitlines()[0]
    assert "= replied 200" in out  # "myself", not an OPTIONS forwarded to itself
    bracketed = trace(capsys, str(path), "--listen", "[::1]:5060", "--from", "[::1]:5070", "--advertise", "[::1]",
                      "--no-relay", "--json")
    assert bracketed[0] == 0 and json.loads(bracketed[1])["sent"][0]["to"] == "[::1]:5070"


def test_exit_status_agrees_between_commands(capsys, foreign: str, tmp_path: Path) -> None:  # noqa: ANN001
    # a script that does not load is no usage error: 1 everywhere (simulate used to say 2)
    for argv in (["trace", foreign, "--route", "/etc/passwd"], ["simulate", "--route", "/etc/passwd"],
                 ["check", "/etc/passwd"], ["simulate", "--route", str(tmp_path / "missing.cfg")]):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 1 and "Traceback" not in err, (argv, err)
    # options that go with --pcap, given without it: refused, not ignored
    for argv, said in ((["simulate", "--pcap-time-scale", "-1"], "--pcap-time-scale goes with --pcap"),
                       (["simulate", "--pcap-proxy", "any"], "--pcap-proxy goes with --pcap"),
                       (["trace", foreign, "--pcap", str(tmp_path / "c.pcap")], "not both"),
                       (["trace", "--pcap", str(tmp_path / "c.pcap"), "--from", "192.0.2.1:5060"],
                        "--from goes with a FILE")):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2 and said in err, (argv, err)
    for cmd in ("trace", "simulate", "serve", "check"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "Exit status: 0 done; 1 a routing script" in " ".join(capsys.readouterr().out.split())


def test_full_prints_each_datagram_sent_marked_against_the_one_received(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "invite.dat"
    path.write_bytes(INVITE.encode())
    rc, out, _ = trace(capsys, str(path), "--from", "192.0.2.1:5062", "--full")
    assert rc == 0
    lines = [line.strip() for line in out.splitlines()]
    assert lines.index("- Max-Forwards: 70") < lines.index("+ Max-Forwards: 69")  # the old line, then the new
    assert any(line.startswith("+ Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK") for line in lines)  # the proxy's
    assert ("+ Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport=5062;received=192.0.2.1"
            in lines)  # the sender's Via, as forwarded
    assert "- Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport" in lines  # as received
    assert "CSeq: 314159 INVITE" in lines  # unchanged lines are shown too, unmarked
    assert "+ Max-Forwards" not in trace(capsys, str(path), "--from", "192.0.2.1:5062")[1]  # only with --full
    # a reply on its way back: the proxy's own Via is taken off
    f6 = DATA / "rfc3261" / "s24_2_F6_180.dat"
    rc, out, _ = trace(capsys, str(f6), "--listen", "192.0.2.3:5060", "--advertise", "server10.biloxi.com", "-v")
    lines = [line.strip() for line in out.splitlines()]
    assert "- Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1" in lines
    assert "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1" in lines


def _trace_process(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    res = subprocess.run([sys.executable, "-m", "sipsim", "trace", *argv], input=stdin, capture_output=True,
                         timeout=60)
    return res.returncode, res.stdout.decode(), res.stderr.decode()


def test_stdin_and_inputs_that_are_no_datagram_file(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    rc, out, err = _trace_process("-", "--no-relay", stdin=FOREIGN.encode())
    assert rc == 0 and f"== <stdin>: {len(FOREIGN)} bytes from 127.0.0.1:5070: OPTIONS" in out, err
    assert "= replied 403" in out
    rc, out, err = _trace_process("-")
    assert rc == 2 and "nothing on stdin" in err and not out
    rc, _, err = trace(capsys, "/dev/null")
    assert rc == 2 and "/dev/null: not a regular file (a character device)" in err
    (tmp_path / "empty.dat").write_bytes(b"")
    rc, _, err = trace(capsys, str(tmp_path / "empty.dat"))
    assert rc == 2 and "empty.dat: empty file: no datagram to trace" in err
    rc, _, err = trace(capsys, str(tmp_path / "missing.dat"))
    assert rc == 2 and "no such file or folder" in err


@pytest.mark.parametrize("command", sorted(__import__("sipsim.cli", fromlist=["COMMANDS"]).COMMANDS))
def test_an_unknown_option_is_refused_with_the_commands_own_usage(capsys, command):
    """``sipsim trace --bogus`` must show trace's usage (its real options), not ``sipsim [-h] COMMAND``."""
    with pytest.raises(SystemExit) as exc:
        main([command, "--no-such-option"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"usage: sipsim {command} " in err
    assert "usage: sipsim [-h] COMMAND" not in err


def test_an_unknown_option_without_a_command_gets_the_top_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--no-such-option"])
    assert exc.value.code == 2
    assert "usage: sipsim [-h] COMMAND" in capsys.readouterr().err


def test_a_link_local_listen_keeps_its_zone_out_of_the_via(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--listen '[fe80::1%lo]:5060': the interface is for bind(); the proxy's Via says [fe80::1]
    (RFC 3261 §25.1: an IPv6reference has no zone), as serve's does."""
    dat = tmp_path / "ll.dat"
    dat.write_bytes(b"OPTIONS sip:[fe80::2]:5080 SIP/2.0\r\nVia: SIP/2.0/UDP [fe80::9]:5070;branch=z9hG4bKll\r\n"
                    b"Max-Forwards: 70\r\nTo: <sip:b@[fe80::2]>\r\nFrom: <sip:a@[fe80::9]>;tag=1\r\nCall-ID: ll@x\r\n"
                    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    rc, out, err = trace(capsys, str(dat), "--listen", "[fe80::1%lo]:5060", "--from", "[fe80::9]:5070", "--json")
    sent = json.loads(out)["sent"]
    assert [s["to"] for s in sent] == ["[fe80::2]:5080"], err
    assert sent[0]["data"].split("\r\n")[1].startswith("Via: SIP/2.0/UDP [fe80::1];branch=z9hG4bK")


@pytest.mark.parametrize("command", ["trace", "simulate"])
def test_a_pcap_that_is_missing_a_folder_a_device_or_empty_is_a_usage_error(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--pcap names an input on the command line: missing, no regular file or empty is exit 2, as
    --help's exit status says (it was 1, as if the machine had refused)."""
    (tmp_path / "empty.pcap").write_bytes(b"")
    for path, said in ((tmp_path / "missing.pcap", "no such file"), (tmp_path, "is a folder"),
                       (Path("/dev/null"), "not a regular file (a character device)"),
                       (tmp_path / "empty.pcap", "empty file")):
        assert main([command, "--pcap", str(path)]) == 2, path
        assert f"--pcap {path}: {said}" in capsys.readouterr().err


def test_json_lines_stay_json_for_a_file_name_that_is_no_utf8_and_for_simulate_list(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    folder = tmp_path / "names"
    folder.mkdir()
    name = os.fsdecode(b"a\xffb.dat")  # a byte no UTF-8 decoder takes: Python keeps it as a surrogate
    (folder / name).write_bytes((DATA / "rfc3261" / "s24_2_F1_INVITE.dat").read_bytes())
    rc, out, _err = trace(capsys, str(folder), "--json")
    line = out.splitlines()[0]
    line.encode("utf-8")  # no lone surrogate: valid UTF-8 text
    assert json.loads(line)["file"].endswith("a\ufffdb.dat")
    assert main(["simulate", "--list", "--json"]) == 0
    listed = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {"name": "basic-call"}.items() <= listed[1].items() and all(set(x) == {"name", "description"}
                                                                       for x in listed)
