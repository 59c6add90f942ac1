"""Live mode in a shared lab, attacked: what one student's crafted datagram or socket may not do.

* A reply whose Vias all name the server came back to it once per Via (2,300 hops, 6.5 s of CPU
  for one 64 KiB datagram); it is now dropped at the first hop, while a short spiral still works.
* A flood of datagrams the server refuses to forward wrote one warning each, at any log level;
  the warnings are now throttled, and the line after a pause says how many were held back.
* Someone else's socket bound at the ``--observe`` path received every message and held every
  worker paused on its ``ready`` (``--step-control``); and a worker obeyed ``step``/``run`` from
  any socket that could write to its control socket. Now: events and waits only for an observer
  of the server's own user, a control socket only its user may write to, commands only from the
  observer's own socket.
"""

from __future__ import annotations

import os
import socket
import stat
import time

import pytest
from live_harness import LiveServer, eventually, options_request, recv_answer, udp_client, wait_all_asleep

from sipsim.real import policy
from sipsim.real.observe import Observer, control_path
from sipsim.real.policy import DestPolicy, error_code, parse_networks

pytestmark = pytest.mark.network


def _reply_through(port: int, client_port: int, ours: int, sep: str) -> bytes:
    """A 200 whose first ``ours`` Via values name the server, the last one the client."""
    vias = sep.join([f"SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{i}" for i in range(ours)])
    return (f"SIP/2.0 200 OK\r\nVia: {vias}\r\nVia: SIP/2.0/UDP 127.0.0.1:{client_port};branch=z9hG4bKc\r\n"
            "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: loop\r\n"
            "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


def test_a_reply_looping_through_its_vias_is_cut_but_a_spiral_still_works(tmp_path, isolated_network):
    with LiveServer(tmp_path, workers=2) as srv, udp_client() as c:
        cport = c.getsockname()[1]
        # a spiral: three of our Vias (the request went through us three times) — delivered
        c.sendto(_reply_through(srv.port, cport, 3, "\r\nVia: "), ("127.0.0.1", srv.port))
        got = recv_answer(c, 2.0)
        assert got is not None and got.startswith(b"SIP/2.0 200 OK")
        assert got.count(b"Via:") == 1  # every one of ours stripped, one hop each
        assert eventually(lambda: srv.stats()["rcv_replies"] == 3)
        # 400 of ours on one line (8 KiB of commas): it looped 400 times; now one hop, one refusal
        c.sendto(_reply_through(srv.port, cport, 400, ","), ("127.0.0.1", srv.port))
        assert eventually(lambda: srv.stats()["send_refused"] == 1, timeout=3.0)
        time.sleep(0.3)  # a loop would still be running: give it the time to show
        st = srv.stats()
        assert st["rcv_replies"] == 4 and st["fwd_replies"] == 3 and st["drop_replies"] == 1
        assert recv_answer(c, 0.2) is None
        assert "400 Via values" in srv.log_text()
        assert ask_ok(srv.port)


def ask_ok(port: int) -> bool:
    with udp_client() as c:
        c.sendto(options_request(port, c.getsockname()[1]), ("127.0.0.1", port))
        got = recv_answer(c, 2.0)
        return got is not None and got.startswith(b"SIP/2.0 200 OK")


def test_refused_sends_do_not_write_one_warning_each(tmp_path, isolated_network):
    with LiveServer(tmp_path, workers=1, log_level="warning") as srv, udp_client() as c:
        def bye(i: int) -> bytes:
            return _in_dialog_bye(srv.port, c.getsockname()[1], i)

        start = time.time()
        if start % 1 > 0.5:  # the burst must fit within one second of the throttle's clock
            time.sleep(1 - start % 1)
        for i in range(60):
            c.sendto(bye(i), ("127.0.0.1", srv.port))
            assert recv_answer(c, 2.0) is not None  # 477: answered every time
        time.sleep(1.1)
        c.sendto(bye(99), ("127.0.0.1", srv.port))
        assert recv_answer(c, 2.0) is not None
        assert eventually(lambda: srv.stats()["send_refused"] == 61)
        lines = [ln for ln in srv.log_text().splitlines() if "not sending request" in ln]
        assert 10 <= len(lines) <= 21, len(lines)  # 10 a second; the burst may straddle two seconds
        assert "more lines like it not logged" in lines[-1]


def test_what_a_flood_held_back_at_its_end_is_said_when_the_worker_leaves(tmp_path, isolated_network):
    """25 refused sends at once: at most 20 logged (10 a second, two seconds at worst), the rest
    counted — and said on the way out, since no later line of that kind came to carry the count."""
    srv = LiveServer(tmp_path, workers=1, log_level="warning")
    with srv, udp_client() as c:
        for i in range(25):
            c.sendto(_in_dialog_bye(srv.port, c.getsockname()[1], i), ("127.0.0.1", srv.port))
            assert recv_answer(c, 2.0) is not None
        assert eventually(lambda: srv.stats()["send_refused"] == 25)
    log = srv.log_text()
    logged = sum("not sending request" in ln for ln in log.splitlines())
    assert logged <= 20 and f"{25 - logged} more warning line(s) about refused sends were not logged" in log, log


def _in_dialog_bye(port: int, client_port: int, i: int) -> bytes:
    """A BYE routed through us to a host outside loopback: refused (477) by the default policy."""
    return (f"BYE sip:bob@10.1.2.3 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{client_port};branch=z9hG4bK{i}\r\n"
            f"Route: <sip:127.0.0.1:{port};lr>\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@10.1.2.3>;tag=2\r\n"
            f"Call-ID: flood{i}\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def test_a_foreign_observer_socket_gets_nothing_and_pauses_nobody(tmp_path, isolated_network):
    """Someone else bound the --observe path first: the server must neither feed it nor wait for it."""
    path = str(tmp_path / "obs.sock")
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    squatter.bind(path)
    os.chown(path, 65534, 65534)  # as if user "nobody" had bound it
    try:
        with LiveServer(tmp_path, workers=1, observe=path, args=["--step-control", "--step-timeout", "30"]) as srv:
            wait_all_asleep(srv.worker_pids())
            assert ask_ok(srv.port)  # not held at the first step for --step-timeout
            squatter.settimeout(0.5)
            with pytest.raises(TimeoutError):
                squatter.recv(65536)
            assert "belongs to uid 65534" in srv.log_text()
    finally:
        squatter.close()


def test_a_link_at_the_observer_path_is_not_followed(tmp_path, isolated_network):
    """A link in place of the observer socket, even one pointing at a socket of the server's own
    user, gets nothing: whoever made the link could point it anywhere between two looks."""
    target = str(tmp_path / "real.sock")
    path = str(tmp_path / "obs.sock")
    ours = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ours.bind(target)
    os.symlink(target, path)
    os.lchown(path, 65534, 65534)  # the link is user "nobody"'s; the socket it points at is ours
    try:
        with LiveServer(tmp_path, workers=1, observe=path) as srv:
            wait_all_asleep(srv.worker_pids())
            assert ask_ok(srv.port)
            ours.settimeout(0.5)
            with pytest.raises(TimeoutError):
                ours.recv(65536)
            assert "is no socket (a link or a file is not followed)" in srv.log_text()
    finally:
        ours.close()


def test_only_the_observer_steers_a_worker_and_only_its_user_may_write(tmp_path, isolated_network):
    with Observer(str(tmp_path / "obs.sock")) as obs, \
            LiveServer(tmp_path, workers=1, observe=obs.path, args=["--step-control"]) as srv:
        (pid,) = srv.worker_pids()
        ctl = control_path(obs.path, pid)
        assert stat.S_IMODE(os.stat(ctl).st_mode) & 0o077 == 0  # nobody else may pause the server
        assert stat.S_IMODE(os.stat(obs.path).st_mode) & 0o077 == 0  # nor feed the observer false events
        assert obs.set_stepping(False, [pid]) == 1  # the observer lets it run freely
        wait_all_asleep([pid])
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as intruder:
            intruder.bind(str(tmp_path / "intruder.sock"))
            intruder.sendto(b"step", ctl)  # not the observer: ignored
        time.sleep(0.2)
        assert ask_ok(srv.port)  # answered with no go-ahead: the worker did not go back to stepping
        assert not obs.waiting



def test_allow_all_hosts_is_not_allow_every_host_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """--allow-dest 0.0.0.0/0 --dns (a proxy for a whole lab): a name a student controls may resolve
    to a multicast group, which the engine's check of literal addresses never sees; one datagram
    would then reach every host that joined it. Only a group allowed by name is sent to."""
    def getaddrinfo(host: str, *a: object) -> list:  # no lookup leaves the machine
        ip = {"group.test": "239.255.255.250", "host.test": "10.1.2.3"}[host]
        return [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", (ip, 0))]

    monkeypatch.setattr(policy.socket, "getaddrinfo", getaddrinfo)
    lab = DestPolicy(parse_networks(["0.0.0.0/0"]), dns=True)
    assert lab.check("host.test") == ("10.1.2.3", "")
    ip, why = lab.check("group.test")
    assert ip is None and error_code(why) == "not-allowed" and "multicast group" in why
    assert lab.check("224.0.0.1")[0] is None
    named = DestPolicy(parse_networks(["0.0.0.0/0", "239.255.255.250/32"]), dns=True)
    assert named.check("group.test") == ("239.255.255.250", "")


def test_a_register_flood_ends_at_the_table_limit_as_usrloc_out_of_memory(tmp_path, isolated_network):
    """New AORs beyond --max-bindings: 500 as Kamailio's registrar answers when usrloc cannot insert;
    refreshing or removing a binding still works, and frees room."""
    with LiveServer(tmp_path, workers=2, args=["--max-bindings", "3"]) as srv, udp_client() as c:
        def register(user: str, expires: int = 4294967295, cseq: int = 1) -> str:
            c.sendto((f"REGISTER sip:127.0.0.1:{srv.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:"
                      f"{c.getsockname()[1]};branch=z9hG4bK{user}{cseq}\r\nFrom: <sip:{user}@127.0.0.1>;tag=1\r\n"
                      f"To: <sip:{user}@127.0.0.1>\r\nCall-ID: reg-{user}\r\nCSeq: {cseq} REGISTER\r\n"
                      f"Contact: <sip:{user}@127.0.0.1:5999>;expires={expires}\r\nMax-Forwards: 70\r\n"
                      "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", srv.port))
            got = recv_answer(c, 2.0)
            assert got is not None
            return got.decode("latin-1")

        assert all(register(u).startswith("SIP/2.0 200") for u in ("u1", "u2", "u3"))
        full = register("u4")
        assert full.startswith("SIP/2.0 500 Server Internal Error")
        assert "P-Registrar-Error: usrloc_record_new failed" in full  # Kamailio 5.6's text for a new AOR
        assert register("u1", 600, cseq=2).startswith("SIP/2.0 200")  # a refresh is never refused
        assert register("u2", 0, cseq=2).startswith("SIP/2.0 200")  # nor a removal, which makes room
        assert register("u4", cseq=2).startswith("SIP/2.0 200")
        assert ask_ok(srv.port)


def test_the_table_limit_lets_a_lapsed_phone_register_again(tmp_path) -> None:
    """At the limit, an AOR whose binding expired (not yet purged) may register again: its new row
    replaces the old one, so the table does not grow — as usrloc reuses the expired contact."""
    from sipsim.engine.location import Binding
    from sipsim.engine.registrar import RegError
    from sipsim.real.location import SQLiteLocation

    loc = SQLiteLocation(str(tmp_path / "loc.sqlite"), max_bindings=2)
    loc.create()
    try:
        loc.update("alice", 0, lambda c: [Binding("alice", "sip:a@h", 100.0)])
        loc.update("bob", 0, lambda c: [Binding("bob", "sip:b@h", 100.0)])
        assert [b.contact for b in loc.update("alice", 200, lambda c: [Binding("alice", "sip:a@h", 300.0)])] == \
            ["sip:a@h"]  # alice's binding lapsed at 100: back at 200
        with pytest.raises(RegError) as full:
            loc.update("carol", 200, lambda c: [Binding("carol", "sip:c@h", 300.0)])
        assert (full.value.code, full.value.text) == (500, "usrloc_record_new failed")
        with pytest.raises(RegError) as more:
            loc.update("alice", 200, lambda c: [*c, Binding("alice", "sip:a2@h", 300.0)])
        assert (more.value.code, more.value.text) == (500, "usrloc_contact_insert failed")
    finally:
        loc.close()
