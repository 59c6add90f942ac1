"""What a VoIP engineer meets first in a lab: start-up errors, a wildcard listen, a routing script's
own globals, Ctrl-C, and the help and counters the command line prints.

Each test here guards a fault found by using ``sipsim serve`` and the offline commands for real:
a traceback for a huge --rcvbuf, a worker crash loop for an unwritable --pcap, a server on
0.0.0.0 that answered 403 to requests for itself, a script's ``advertised_address`` and
``server_signature`` ignored by live mode only, ``sipsim send --help`` naming the wrong defaults.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from helpers import free_udp_port, stop_pid
from live_harness import LiveServer, eventually, options_request

from sipsim.cli import build_parser, main
from sipsim.cli.common import UsageError, parse_hostport

pytestmark = pytest.mark.network


def _serve(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sipsim", "serve", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _exchange(port: int, data: bytes, *, family: int = socket.AF_INET, host: str = "127.0.0.1",
              listen_on: int | None = None, timeout: float = 2.0) -> tuple[bytes, bytes | None]:
    """Send ``data`` (``{lp}`` = our port) to the proxy; (its answer to us, what reached ``listen_on``)."""
    with socket.socket(family, socket.SOCK_DGRAM) as c, socket.socket(family, socket.SOCK_DGRAM) as far:
        c.bind((host, 0))
        c.settimeout(timeout)
        far.settimeout(timeout)
        if listen_on:
            far.bind((host, listen_on))
        c.sendto(data.replace(b"{lp}", str(c.getsockname()[1]).encode()), (host, port))
        if listen_on:
            return b"", far.recvfrom(65535)[0]
        return c.recvfrom(65535)[0], None


def _forwarded_options(to_port: int, tag: str) -> bytes:
    return (f"OPTIONS sip:someone@127.0.0.1:{to_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{{lp}};branch=z9hG4bK-{tag};rport\r\n"
            f"From: <sip:t@127.0.0.1>;tag={tag}\r\nTo: <sip:someone@127.0.0.1>\r\nCall-ID: {tag}\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def test_startup_mistakes_get_one_line_and_no_worker_crash_loop(tmp_path, isolated_network):
    common = ["--db", str(tmp_path / "l.sqlite"), "--control", str(tmp_path / "c.sock"), "--workers", "2"]
    listen = ["--listen", f"127.0.0.1:{free_udp_port()}"]
    cases = [
        # a value past what SO_RCVBUF takes was a TypeError traceback from setsockopt
        ([*listen, "--rcvbuf", "99999999999"], 2, "too large"),
        # an unwritable capture made every forked worker die at once, 21 times, reason unsaid
        ([*listen, "--pcap", str(tmp_path / "missing" / "x.pcap")], 1, "no such folder"),
        ([*listen, "--pcap", str(tmp_path)], 1, "is a folder"),
        ([*listen, "--route", str(tmp_path)], 1, "is a folder"),
        ([*listen, "--control", str(tmp_path / "missing" / "c.sock")], 1, "missing/c.sock"),
        # a wildcard listen cannot name itself in its Via
        (["--listen", f"0.0.0.0:{free_udp_port()}"], 2, "add --advertise"),  # a usage error, as in tui --live
        (["--listen", "[::1"], 2, "no closing ']'"),
    ]
    for extra, status, needle in cases:
        t0 = time.monotonic()
        res = _serve(*common, *extra)  # the later --control/--listen wins, as argparse does
        lines = res.stderr.strip().splitlines()
        assert res.returncode == status, (extra, res.stderr)
        assert "Traceback" not in res.stderr and "exited with status" not in res.stderr, res.stderr
        assert needle in lines[-1] and lines[-1].startswith(("sipsim: ", "sipsim serve: error:")), (extra, res.stderr)
        assert time.monotonic() - t0 < 5, extra


def test_wildcard_listen_knows_its_addresses_and_advertises_one(tmp_path, isolated_network):
    port, uas = free_udp_port(), free_udp_port()
    # the advertised name is "me" anyway; 127.0.0.1 is "me" only because it is an address of this host
    args = ["--listen", f"0.0.0.0:{port}", "--advertise", "sipsim.lab.test"]
    with LiveServer(tmp_path, workers=2, port=port, args=args) as srv:
        answer, _ = _exchange(port, options_request(port, 0).replace(b"127.0.0.1:0;", b"127.0.0.1:{lp};"))
        assert answer.startswith(b"SIP/2.0 200 OK"), answer  # was 403: 127.0.0.1 was not "myself"
        reg = (f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{{lp}};branch=z9hG4bK-w1\r\n"
               f"From: <sip:someone@127.0.0.1>;tag=w1\r\nTo: <sip:someone@127.0.0.1>\r\nCall-ID: w1\r\n"
               f"CSeq: 1 REGISTER\r\nContact: <sip:someone@127.0.0.1:{uas}>\r\nContent-Length: 0\r\n\r\n").encode()
        answer, _ = _exchange(port, reg)
        assert answer.startswith(b"SIP/2.0 200 OK") and f":{uas}>;expires=".encode() in answer, answer
        _, fwd = _exchange(port, _forwarded_options(port, "w2"), listen_on=uas)
        assert fwd is not None
        top_via = fwd.split(b"\r\n")[1]
        assert top_via.startswith(f"Via: SIP/2.0/UDP sipsim.lab.test:{port};branch=".encode()), fwd  # not 0.0.0.0
        assert "uri == myself also for: 127.0.0.1:" in srv.log_text()


def test_live_server_applies_the_scripts_own_globals(tmp_path, isolated_network):
    """advertised_address and server_signature=no worked in `sipsim trace --route`, not in serve."""
    from sipsim.routing import DEFAULT_CFG

    script = tmp_path / "adv.cfg"
    body = DEFAULT_CFG.read_text().replace("#!KAMAILIO\n", "", 1)
    script.write_text('#!KAMAILIO\nadvertised_address="proxy.lab.test"\nserver_signature=no\n' + body)
    port, far = free_udp_port(), free_udp_port()
    with LiveServer(tmp_path, workers=1, port=port, args=["--route", str(script), "--relay"]):
        answer, _ = _exchange(port, options_request(port, 0).replace(b"127.0.0.1:0;", b"127.0.0.1:{lp};"))
        assert answer.startswith(b"SIP/2.0 200 OK") and b"\r\nServer:" not in answer, answer
        _, fwd = _exchange(port, _forwarded_options(far, "g1"), listen_on=far)
        via = f"Via: SIP/2.0/UDP proxy.lab.test:{port};".encode()
        assert fwd is not None and fwd.split(b"\r\n")[1].startswith(via), fwd


def test_ctrl_c_to_the_process_group_stops_cleanly_and_says_so(tmp_path, isolated_network):
    """A terminal's Ctrl-C signals the attendant and every worker at once."""
    port = free_udp_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "sipsim", "serve", "--listen", f"127.0.0.1:{port}",
                                 "--workers", "3", "--db", str(tmp_path / "l.sqlite"),
                                 "--control", str(tmp_path / "c.sock")],
                                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            assert eventually(lambda: b"listening on" in log.read_bytes(), timeout=10)
            workers = [int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)],
                                                      capture_output=True, text=True).stdout.split()]
            assert len(workers) == 3
            t0 = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
            assert proc.wait(timeout=5) == 0
            assert time.monotonic() - t0 < 2
        finally:
            stop_pid(proc)
    assert not [p for p in workers if os.path.exists(f"/proc/{p}")]
    text = log.read_text()
    assert text.rstrip().endswith("sipsim serve: stopped"), text
    assert "respawned" not in text and "Traceback" not in text, text


def test_sigterm_during_startup_prints_no_half_banner(tmp_path, isolated_network):
    """A stop asked while the workers are being forked: no 'listening' line naming pid 0."""
    code = f"""
import os, signal, sys
from sipsim.real.server import Server, ServeOptions
from pathlib import Path
opts = ServeOptions(listen=("127.0.0.1", {free_udp_port()}), workers=4, db=Path({str(tmp_path / 'l.sqlite')!r}),
                    control={str(tmp_path / 'c.sock')!r})
srv = Server(opts)
fork = srv._fork_worker
def fork_then_stop(slot):
    fork(slot)
    if slot.index == 1:
        os.kill(os.getpid(), signal.SIGTERM)   # as if the user pressed Ctrl-C now
srv._fork_worker = fork_then_stop
sys.exit(srv.run())
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    assert "listening on" not in res.stderr and res.stderr.rstrip().endswith("sipsim serve: stopped"), res.stderr


def test_the_attendant_parses_the_default_route_once_before_forking(tmp_path, isolated_network):
    """As Kamailio parses its cfg in the main process: the workers inherit the parsed default.cfg
    (each used to import the routing engine and parse it again after fork, ~60 ms of CPU), and a
    broken script is one startup error, not one per worker."""
    broken = tmp_path / "broken.cfg"
    broken.write_text("request_route {\n  forward(\n}\n")
    code = f"""
import sys
from pathlib import Path
import sipsim.routing
from sipsim.real.server import Server, ServeOptions, ServeError
def server(n):
    return Server(ServeOptions(listen=("127.0.0.1", 0), workers=1, db=Path({str(tmp_path)!r}) / f"l{{n}}.sqlite",
                               control={str(tmp_path)!r} + f"/c{{n}}.sock"))
srv = server(1)
srv.setup()
print(type(srv.router).__name__, Path(srv.router.script.file).name, srv.router.config.listen == srv.config.listen)
srv.sock.close()
sipsim.routing.DEFAULT_CFG = Path({str(broken)!r})
try:
    server(2).setup()
except ServeError as exc:
    print("ServeError:", exc)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    first, second = res.stdout.splitlines()
    assert first == "CfgRouter default.cfg True", res.stdout
    assert second.startswith("ServeError: cannot load the shipped default.cfg:"), res.stdout


def test_stats_keeps_core_names_for_kamailios_counters_and_logs_blank_lines(tmp_path, isolated_network):
    port = free_udp_port()
    with LiveServer(tmp_path, workers=1, port=port) as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.sendto(b"\r\n\r\n" + b" " * 40, ("127.0.0.1", port))
        assert eventually(lambda: srv.stats()["rcv_datagrams"] == 1)
        res = subprocess.run([sys.executable, "-m", "sipsim", "stats", "--control", srv.control],
                             capture_output=True, text=True, timeout=10)
        assert res.returncode == 0, res.stderr
        lines = res.stdout.splitlines()
        assert "core:rcv_requests = 0" in lines and "sipsim:rcv_datagrams = 1" in lines, res.stdout
        assert not [line for line in lines if line.startswith("core:rcv_datagrams")]
        assert eventually(lambda: "(blank first line) from 127.0.0.1:" in srv.log_text()), srv.log_text()
    res = subprocess.run([sys.executable, "-m", "sipsim", "stats", "--listen", f"127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 1 and f"is `sipsim serve --listen 127.0.0.1:{port}` running?" in res.stderr


def test_help_and_argument_checks_of_the_offline_commands(capsys):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    send_help = sub.choices["send"].format_help()
    craft_help = sub.choices["craft"].format_help()
    # send needs --to and binds an ephemeral port; craft has defaults for both
    assert "(required)" in send_help and "ephemeral port" in send_help and "127.0.0.1:5070" not in send_help
    assert "(default 127.0.0.1:5060)" in craft_help and "127.0.0.1:5070" in craft_help
    for argv, needle in ((["simulate", "--until", "-1"], "--until -1.0"),
                         (["simulate", "--rate", "nan"], "--rate nan")):
        assert main(argv) == 2
        assert needle in capsys.readouterr().err
    with pytest.raises(UsageError, match="no closing"):
        parse_hostport("[::1")
    assert parse_hostport("[::1]:5070") == ("::1", 5070)
    # IPv6 in its shortest form, as Kamailio prints its socket (Via, sl's tag): the same address
    assert parse_hostport("[0:0:0:0:0:0:0:1]:5070") == ("::1", 5070)
    assert parse_hostport("2001:DB8:0:0::1") == ("2001:db8::1", 5060)
    # an unbracketed IPv6 address that ends like a port: refused with both bracketed spellings
    with pytest.raises(UsageError, match=r"ambiguous.*\[::1\]:5070 for port 5070.*\[::1:5070\]"):
        parse_hostport("::1:5070")
    with pytest.raises(UsageError, match=r"takes brackets, \[2001:db8::1\]:65535"):
        parse_hostport("2001:db8::1:65535")
    assert parse_hostport("[::1:5070]") == ("::1:5070", 5060)
    for plain in ("::1", "2001:db8::8080", "::5060", "fe80::1%lo"):  # no address before a ':PORT'
        assert parse_hostport(plain) == (plain, 5060)
    assert main(["serve", "--listen", "::1:5070"]) == 2
    assert "ambiguous address '::1:5070'" in capsys.readouterr().err


def test_a_worker_that_cannot_start_says_why(tmp_path, isolated_network):
    """The capture folder vanishes while the server runs: each new worker fails to open its part
    file. The log must say why (it said only 'exited with status 1', twenty times)."""
    import shutil

    cap = tmp_path / "cap"
    cap.mkdir()
    with LiveServer(tmp_path, workers=1, args=["--pcap", str(cap / "x.pcap")]) as srv:
        shutil.rmtree(cap)
        os.kill(srv.worker_pids()[0], signal.SIGKILL)
        assert eventually(lambda: "cannot run:" in srv.log_text(), timeout=5), srv.log_text()
        assert srv.proc is not None
        srv.proc.wait(timeout=10)  # a worker that can never start ends in the crash-loop shutdown
    text = srv.log_text()
    assert "cannot write capture" in text and "giving up, shutting down" in text, text
    assert "Traceback" not in text


def test_the_log_line_of_an_error_reply_says_what_failed(tmp_path, isolated_network):
    """forward() fails (an IPv4 server has no socket for an IPv6 next hop), the script answers with
    sl_reply_error(): the live log line names the failure, not only '500 ... (7/SL)'."""
    port = free_udp_port()
    with LiveServer(tmp_path, workers=1, port=port, args=["--relay"]) as srv:
        invite = (b"INVITE sip:bob@[::1]:5090 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKv6\r\n"
                  b"Max-Forwards: 70\r\nTo: <sip:bob@[::1]>\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nCall-ID: v6@x\r\n"
                  b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(5)
            c.bind(("127.0.0.1", 5999))
            c.sendto(invite, ("127.0.0.1", port))
            answer = c.recv(65535)
        assert answer.startswith(b"SIP/2.0 500 I'm terribly sorry, server error occurred"), answer
        assert eventually(lambda: "(no IPv6 listening socket to send to ::1 from)" in srv.log_text()), srv.log_text()


def test_the_log_line_of_a_message_with_bare_lf_lines_shows_its_first_line(tmp_path, isolated_network):
    """A message whose lines end with a bare LF parses (Kamailio takes it too) and is answered;
    its log line shows the request line alone, not the first 80 bytes run together."""
    port = free_udp_port()
    with LiveServer(tmp_path, workers=1, port=port) as srv:
        options = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bKlf\n"
                   "Max-Forwards: 70\nTo: <sip:127.0.0.1>\nFrom: <sip:a@127.0.0.1>;tag=1\nCall-ID: lf@x\n"
                   "CSeq: 1 OPTIONS\nContent-Length: 0\n\n").encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(5)
            c.bind(("127.0.0.1", 5998))
            c.sendto(options, ("127.0.0.1", port))
            assert c.recv(65535).startswith(b"SIP/2.0 200 OK")
        line = f"OPTIONS sip:127.0.0.1:{port} SIP/2.0 from 127.0.0.1:5998 [Call-ID lf@x]: replied 200 OK"
        assert eventually(lambda: line in srv.log_text()), srv.log_text()
