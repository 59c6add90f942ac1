"""The location database after ``sipsim serve`` stops: one file, intact, whatever the workers did.

A review saw ``loc.sqlite-wal`` and ``loc.sqlite-shm`` left beside ``loc.sqlite`` after a clean
SIGTERM in some sipp runs. SQLite deletes them only when the *last* connection closes and wins an
exclusive lock at once; on SIGTERM every worker closed at the same instant, each saw the others
still open, and none of them folded the WAL back in (a race: about one stop in three). The
attendant now closes the database last, alone (:meth:`SQLiteLocation.close_last`).

* a clean stop (SIGTERM, SIGINT), four times over on one database, with every worker holding a
  connection: no ``-wal``/``-shm``, every binding of every run listed by ``sipsim location``;
* a worker killed with SIGKILL while REGISTERs pour in (respawned), and one frozen at the stop
  (killed by the attendant after KILL_AFTER — the race made certain: the other workers close
  while it holds the file): every binding that got its 200 OK is there, the file passes
  ``integrity_check``, the stop leaves one file;
* a writer killed between its writes and its COMMIT: its change is not there, the rows before it
  are, the lock it held is free, and the last close leaves one file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from live_harness import LiveServer, eventually, wait_all_asleep

from sipsim.engine.location import Binding
from sipsim.real.location import SQLiteLocation, wal_files

pytestmark = pytest.mark.network


def _register(port: int, local: int, user: str, *, cseq: int = 1) -> bytes:
    return (f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-{user}-{cseq}\r\n"
            f"From: <sip:{user}@127.0.0.1>;tag=f{cseq}\r\nTo: <sip:{user}@127.0.0.1>\r\n"
            f"Call-ID: reg-{user}\r\nCSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:{user}@127.0.0.1:{local}>\r\nExpires: 600\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def _client() -> socket.socket:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    c.settimeout(3.0)
    return c


def _has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds ``path`` open (its SQLite connection), read from /proc."""
    folder, want = f"/proc/{pid}/fd", os.path.realpath(path)
    try:
        fds = os.listdir(folder)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"{folder}/{fd}") == want:
                return True
        except OSError:
            pass
    return False


def _listed(db: Path) -> set[str]:
    """The AORs ``sipsim location --db`` lists (its JSON form), after checking it succeeded."""
    out = subprocess.run([sys.executable, "-m", "sipsim", "location", "--db", str(db), "--json"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return {json.loads(line)["aor"] for line in out.stdout.splitlines()}


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        result = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    conn.close()
    return result


def _stop(srv: LiveServer, sig: int) -> int:
    """Stop the attendant by its PID with ``sig`` (SIGINT is Ctrl-C's); its exit status."""
    assert srv.proc is not None
    os.kill(srv.pid, sig)
    return srv.proc.wait(timeout=10)


def test_a_clean_stop_leaves_one_file_with_every_binding(tmp_path, isolated_network):
    db = None
    registered: set[str] = set()
    # the race lost about one stop in three: four stops, each with all four workers connected
    for run, sig in enumerate((signal.SIGTERM, signal.SIGINT, signal.SIGTERM, signal.SIGINT)):
        srv = LiveServer(tmp_path, workers=4)
        if db is not None:  # every run on the same database: each one starts from what the last left
            srv.db = db
            srv.cmd[srv.cmd.index("--db") + 1] = str(db)
        db = srv.db
        with srv, _client() as c:
            pids = srv.worker_pids()
            local = c.getsockname()[1]
            for n in range(4):
                # all asleep in recvfrom before each REGISTER: the kernel hands them out in turn,
                # so each of the four workers takes one and opens its own connection
                wait_all_asleep(pids)
                user = f"r{run}u{n}"
                c.sendto(_register(srv.port, local, user), ("127.0.0.1", srv.port))
                assert c.recvfrom(65535)[0].startswith(b"SIP/2.0 200 OK"), srv.log_text()
                registered.add(user)
            assert all(_has_open(p, db) for p in pids), \
                {p: _has_open(p, db) for p in pids}
            assert _stop(srv, sig) == 0, srv.log_text()
        assert wal_files(db) == [], (signal.Signals(sig).name, run, srv.log_text())
        assert sorted(p.name for p in tmp_path.glob(f"{db.name}*")) == [db.name]
        assert _listed(db) == registered, srv.log_text()
        assert "sipsim serve: stopped" in srv.log_text()
    assert db is not None and _integrity(db) == "ok"


def test_workers_killed_with_sigkill_lose_no_answered_binding_and_leave_one_file(tmp_path, isolated_network):
    with LiveServer(tmp_path, workers=4) as srv, _client() as c:
        local = c.getsockname()[1]
        users = [f"k{n}" for n in range(60)]
        victim = srv.worker_pids()[0]
        for user in users[:30]:  # a burst, not waiting for answers: the workers are all busy writing
            c.sendto(_register(srv.port, local, user), ("127.0.0.1", srv.port))
        os.kill(victim, signal.SIGKILL)  # mid-message, most likely mid-transaction
        for user in users[30:]:
            c.sendto(_register(srv.port, local, user), ("127.0.0.1", srv.port))
        answered: set[str] = set()
        c.settimeout(1.5)
        try:
            while True:
                reply = c.recvfrom(65535)[0]
                if reply.startswith(b"SIP/2.0 200 OK"):
                    callid = next(x for x in reply.split(b"\r\n") if x.startswith(b"Call-ID:"))
                    answered.add(callid.split(b"reg-", 1)[1].decode())
        except TimeoutError:
            pass
        assert eventually(lambda: "was killed by signal 9 (SIGKILL); respawned as" in srv.log_text(), 5.0), \
            srv.log_text()
        assert eventually(lambda: len(srv.worker_pids()) == 4 and victim not in srv.worker_pids(), 5.0)
        # the database still takes writes from every worker, the respawned one included
        pids = srv.worker_pids()
        c.settimeout(3.0)
        for n in range(4):
            wait_all_asleep(pids)
            c.sendto(_register(srv.port, local, f"after{n}"), ("127.0.0.1", srv.port))
            assert c.recvfrom(65535)[0].startswith(b"SIP/2.0 200 OK"), srv.log_text()
            answered.add(f"after{n}")
        # and one that will not leave at the stop (frozen, its connection open): the three others
        # close while it still holds the file, so none of them may fold the WAL in; the attendant
        # kills it after KILL_AFTER and closes last. This one lost the race every time.
        frozen = pids[0]
        assert _has_open(frozen, srv.db)
        os.kill(frozen, signal.SIGSTOP)
        assert _stop(srv, signal.SIGTERM) == 0, srv.log_text()
    assert f"worker {frozen} did not leave within" in srv.log_text(), srv.log_text()
    # the victim held one REGISTER at most: the three others (and its successor) answered the rest
    assert len(answered) >= 63, sorted(set(users) - answered)
    assert wal_files(srv.db) == [], srv.log_text()
    assert _integrity(srv.db) == "ok"
    listed = _listed(srv.db)
    assert answered <= listed, sorted(answered - listed)  # a 200 OK is sent after the COMMIT


# the writer: one REGISTER's rewrite of alice, stopped by its trace callback just before COMMIT
WRITER = """
import sys, time
from sipsim.engine.location import Binding
from sipsim.real.location import SQLiteLocation

store = SQLiteLocation(sys.argv[1])
now = time.time()

def hold(statement):
    if statement == "COMMIT":
        print("before commit", flush=True)
        time.sleep(60)

store._db().set_trace_callback(hold)
store.update("alice", now, lambda cur: [Binding("alice", f"sip:new{i}@192.0.2.9", now + 600, callid="new")
                                        for i in range(400)])
"""


def test_a_writer_killed_before_its_commit_leaves_the_last_committed_state(tmp_path):
    db = tmp_path / "loc.sqlite"
    store = SQLiteLocation(db)
    store.create()
    now = time.time()
    old = [Binding("alice", "sip:alice@192.0.2.1", now + 600, callid="old"),
           Binding("bob", "sip:bob@192.0.2.2", now + 600, callid="old")]
    for b in old:
        store.update(b.aor, now, lambda cur, b=b: [b])
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "before commit\n"
        # the writer has deleted alice's row and written 400 in its open transaction: the
        # pages it wrote do not count without a commit record
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=5)
    finally:
        if writer.poll() is None:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=5)
    later = time.time()
    assert [b.contact for b in store.lookup("alice", later)] == ["sip:alice@192.0.2.1"]
    assert store.integrity_check() == "ok"
    # the dead writer's lock is gone: a write goes through at once
    store.busy_timeout_ms = 100
    store.close()
    carol = Binding("carol", "sip:carol@192.0.2.3", later + 600)
    store.update("carol", later, lambda cur: [carol])
    assert [b.aor for b in store.all(later)] == ["alice", "bob", "carol"]
    # another user of the file (a `sipsim location` at that moment): the WAL is its to fold in
    reader = SQLiteLocation(db)
    assert len(reader.all(later)) == 3
    assert not store.close_last() and wal_files(db)
    reader.close()
    assert wal_files(db) == []
    assert store.close_last()
    assert wal_files(db) == []
    assert _integrity(db) == "ok"
