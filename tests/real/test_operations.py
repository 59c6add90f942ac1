"""Operating a live server: clear start-up errors, IPv6, the receive buffer and its drop counter,
the destination policy, and the SQLite location table shared across fork()."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import free_udp_port
from live_harness import LiveServer, eventually, options_request, wait_all_asleep

from sipsim.engine.location import Binding, insert_contact
from sipsim.real.location import SQLiteLocation
from sipsim.real.observe import Observer
from sipsim.real.policy import DestPolicy, parse_networks


def _save(store: SQLiteLocation, b: Binding) -> None:
    """Add one binding the way the registrar adds a new contact (usrloc's insert)."""
    store.update(b.aor, 0.0, lambda current: insert_contact(current, b))

pytestmark = pytest.mark.network


def _serve(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sipsim", "serve", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_startup_errors_are_one_clear_line(tmp_path, isolated_network):
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    common = ["--db", str(tmp_path / "l.sqlite"), "--control", str(tmp_path / "c.sock")]
    cases = {
        f"127.0.0.1:{port}": "the port is already in use",
        "192.0.2.1:5060": "192.0.2.1 is not an address of this machine",
        "example.com:5060": "give an IPv4 or IPv6 address",
        "127.0.0.1:99999": "bad address",
    }
    # another server that set SO_REUSEADDR (Kamailio's udp_init, sipsim): Linux would let a second
    # such socket bind the same port and take its datagrams — refused all the same
    shared = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    shared.bind(("127.0.0.1", 0))
    cases[f"127.0.0.1:{shared.getsockname()[1]}"] = "the port is already in use"
    for listen, needle in cases.items():
        res = _serve("--listen", listen, *common)
        assert res.returncode != 0, listen
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.stderr, res.stderr
    busy.close()
    shared.close()
    res = _serve("--listen", f"127.0.0.1:{free_udp_port()}", "--route", str(tmp_path / "nope.cfg"), *common)
    assert res.returncode == 1 and res.stderr.strip().splitlines() == [f"sipsim: --route {tmp_path}/nope.cfg: "
                                                                       "no such file"]
    res = _serve("--step-control", *common)
    assert res.returncode == 2 and "--step-control needs --observe" in res.stderr


def test_ipv6_listen_answers_and_refuses_foreign_destinations(tmp_path, isolated_network):
    port = free_udp_port("::1")
    with LiveServer(tmp_path, workers=2, port=port, args=["--listen", f"[::1]:{port}", "--relay"]) as srv:
        c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        c.bind(("::1", 0))
        c.settimeout(2)
        lp = c.getsockname()[1]
        opt = (f"OPTIONS sip:[::1]:{port} SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:{lp};branch=z9hG4bK6;rport\r\n"
               f"From: <sip:a@[::1]>;tag=1\r\nTo: <sip:[::1]:{port}>\r\nCall-ID: v6\r\nCSeq: 1 OPTIONS\r\n"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
        c.sendto(opt, ("::1", port))
        assert c.recvfrom(65535)[0].startswith(b"SIP/2.0 200 OK")
        # relayed to a foreign IPv6 address: the destination policy refuses, the pipeline answers 477
        fwd = opt.replace(f"OPTIONS sip:[::1]:{port}".encode(), b"OPTIONS sip:u@[2001:db8::1]:5060")
        c.sendto(fwd, ("::1", port))
        answer = c.recvfrom(65535)[0]
        assert answer.startswith(b"SIP/2.0 477"), answer[:60]
        assert eventually(lambda: srv.stats()["send_refused"] == 1), srv.stats()
        assert "2001:db8::1 is outside 127.0.0.0/8, ::1/128" in srv.log_text()
        c.close()


def test_rcvbuf_beyond_rmem_max_is_capped_as_for_kamailio_and_the_start_line_says_why(tmp_path, isolated_network):
    """SO_RCVBUF, never root's SO_RCVBUFFORCE: the kernel caps the request at net.core.rmem_max (then
    doubles it), as it does for Kamailio, and the start-up line names the sysctl that raises the cap."""
    cap = int(Path("/proc/sys/net/core/rmem_max").read_text())
    with LiveServer(tmp_path, workers=1, args=["--rcvbuf", str(cap + 4096)]) as srv:
        sock = srv.query("stats")["socket"]
        assert sock["rcvbuf"] == 2 * cap, sock
        assert f"caps it at net.core.rmem_max = {cap}" in srv.log_text()


def test_rcvbuf_is_reported_and_kernel_drops_are_counted(tmp_path, isolated_network):
    obs = Observer(str(tmp_path / "o.sock"))
    with LiveServer(tmp_path, workers=1, observe=obs.path, args=["--step-control", "--rcvbuf", "4096"]) as srv:
        sock = srv.query("stats")["socket"]
        assert sock["rcvbuf_requested"] == 4096 and sock["rcvbuf"] == 8192  # Linux doubles it
        wait_all_asleep(srv.worker_pids())
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind(("127.0.0.1", 0))
        msg = options_request(srv.port, c.getsockname()[1])
        c.sendto(msg, ("127.0.0.1", srv.port))
        while (ev := obs.next(2.0)) is not None and ev["type"] != "ready":
            pass
        assert ev is not None, "the only worker is held by step control"
        for _ in range(100):  # nobody reads: the 8 KiB buffer overflows
            c.sendto(msg, ("127.0.0.1", srv.port))
        drops = srv.query("stats")["socket"]["drops"]
        assert 50 < drops < 100, drops
        obs.set_stepping(False)
        deadline = time.monotonic() + 5
        while srv.stats()["rcv_datagrams"] < 101 - drops:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        obs.close()
        c.close()
        # the attendant looks at the counter twice a second, so a burst may be logged in more than one
        # line (38, then 56 more): its running total must reach every drop (bounded wait)
        said = eventually(lambda: f"datagram(s) (total {drops}); raise --rcvbuf" in srv.log_text(), timeout=5.0)
        assert said, srv.log_text()[-2000:]


def test_destination_policy():
    p = DestPolicy()
    assert p.check("127.0.0.1") == ("127.0.0.1", "")
    assert p.check("127.1.2.3")[0] == "127.1.2.3"
    assert p.check("192.0.2.1")[1].startswith("not-allowed")
    assert p.check("example.com")[1].startswith("unresolvable")
    assert p.check("::1")[1].startswith("send-failed"), "an IPv4 socket cannot reach ::1"
    wide = DestPolicy(parse_networks(["192.0.2.0/24"]))
    assert wide.check("192.0.2.77") == ("192.0.2.77", "") and wide.check("198.51.100.1")[0] is None
    v6 = DestPolicy(family=socket.AF_INET6)
    assert v6.check("[::1]") == ("::1", "") and v6.check("127.0.0.1")[1].startswith("send-failed")
    with pytest.raises(ValueError, match="bad --allow-dest"):
        parse_networks(["10.0.0.0/33"])


def test_sqlite_location_is_shared_across_fork_and_forgets_expired(tmp_path):
    store = SQLiteLocation(tmp_path / "loc.sqlite")
    store.create()
    now = time.time()
    _save(store, Binding("alice", "sip:alice@127.0.0.1:5070", now + 60, callid="c1", cseq=1))
    _save(store, Binding("alice", "sip:alice@127.0.0.1:5071", now - 1))  # already expired
    pid = os.fork()
    if pid == 0:  # a "worker": its own connection, written through to the parent
        try:
            _save(store, Binding("bob", "sip:bob@127.0.0.1:5080", time.time() + 60, q=0.5))
            ok = [b.contact for b in store.lookup("alice", time.time())] == ["sip:alice@127.0.0.1:5070"]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [b.aor for b in store.all(time.time())] == ["alice", "bob"]
    assert store.lookup("bob", time.time())[0].q == 0.5
    assert store.purge(time.time()) == 1
    assert store.integrity_check() == "ok"
    store.close()


def test_sqlite_location_cache_sees_every_writer_at_once(tmp_path):
    """Each worker caches lookups; a change by any connection must show in the very next lookup."""
    path = tmp_path / "loc.sqlite"
    reader, writer = SQLiteLocation(path), SQLiteLocation(path)  # two connections, as two workers have
    reader.create()
    now = time.time()
    assert reader.lookup("carol", now) == []
    _save(writer, Binding("carol", "sip:carol@127.0.0.1:5090", now + 60))
    assert [b.contact for b in reader.lookup("carol", now)] == ["sip:carol@127.0.0.1:5090"]
    _save(writer, Binding("carol", "sip:carol@127.0.0.1:5091", now + 30))
    # usrloc order: equal q (none given), so the older contact first
    assert [b.contact for b in reader.lookup("carol", now)] == ["sip:carol@127.0.0.1:5090", "sip:carol@127.0.0.1:5091"]
    assert [b.contact for b in reader.lookup("carol", now + 45)] == ["sip:carol@127.0.0.1:5090"]  # 5091 expired
    writer.update("carol", now, lambda cur: [b for b in cur if b.contact != "sip:carol@127.0.0.1:5090"])
    assert [b.contact for b in reader.lookup("carol", now)] == ["sip:carol@127.0.0.1:5091"]
    reader.update("carol", now, lambda cur: [])  # the reader's own write
    assert reader.lookup("carol", now) == [] and writer.lookup("carol", now) == []
    _save(reader, Binding("carol", "sip:carol@127.0.0.1:5092", now + 60))
    assert [b.contact for b in reader.lookup("carol", now)] == ["sip:carol@127.0.0.1:5092"]
    reader.close()
    writer.close()


def test_location_table_of_an_older_sipsim_is_upgraded(tmp_path):
    """A table written before contacts were kept in usrloc's order gains its new columns at start,
    keeps its bindings, and `sipsim location` reads it even before that."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE location (aor TEXT NOT NULL, contact TEXT NOT NULL, expires REAL NOT NULL, q REAL, "
                 "callid TEXT NOT NULL DEFAULT '', cseq INTEGER NOT NULL DEFAULT 0, received TEXT, "
                 "user_agent TEXT NOT NULL DEFAULT '', PRIMARY KEY (aor, contact))")
    conn.execute("INSERT INTO location VALUES ('dave', 'sip:dave@127.0.0.1:5070', ?, NULL, 'c', 1, NULL, 'ua')",
                 (time.time() + 600,))
    conn.commit()
    conn.close()
    listed = subprocess.run([sys.executable, "-m", "sipsim", "location", "--db", str(path)], capture_output=True,
                            text=True, timeout=30)
    assert listed.returncode == 0 and "sip:dave@127.0.0.1:5070 Q=-1" in listed.stdout, listed
    store = SQLiteLocation(path)
    store.create()
    now = time.time()
    assert [b.contact for b in store.lookup("dave", now)] == ["sip:dave@127.0.0.1:5070"]
    _save(store, Binding("dave", "sip:dave@127.0.0.1:5071", now + 60, q=0.5))
    assert [b.contact for b in store.lookup("dave", now)] == ["sip:dave@127.0.0.1:5071", "sip:dave@127.0.0.1:5070"]
    store.close()
