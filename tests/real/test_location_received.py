"""A Contact's own ``;received=`` parameter in live mode: stored in the SQLite location table, listed
by ``sipsim location`` (``Received::``, JSON ``received``), echoed in the 200, and used by
``lookup()`` as the next hop -- the INVITE goes to the received address, not to the Contact.

(The rule itself -- which contacts get the value, how it is written -- is measured against
Kamailio 5.6.3 in tests/routing/test_registrar_received.py; here: that live mode keeps it.)
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from live_harness import LiveServer

from sipsim.engine.location import Binding
from sipsim.real.location import SQLiteLocation

pytestmark = pytest.mark.network


def _register(port: int, local: int, user: str, contact: str, *, cseq: int = 1) -> bytes:
    return (f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-rcv-{user}-{cseq}\r\n"
            f"From: <sip:{user}@127.0.0.1:{port}>;tag=r{cseq}\r\nTo: <sip:{user}@127.0.0.1:{port}>\r\n"
            f"Call-ID: reg-rcv-{user}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\nExpires: 600\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def _invite(port: int, local: int, user: str) -> bytes:
    return (f"INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-inv-{user}\r\n"
            f"From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:{user}@127.0.0.1:{port}>\r\n"
            f"Call-ID: inv-rcv-{user}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{local}>\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def _udp(timeout: float = 3.0) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    return s


def _location(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sipsim", "location", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=30)


def test_live_registrar_keeps_the_received_and_lookup_sends_there(tmp_path: Path, isolated_network: None) -> None:
    with LiveServer(tmp_path, workers=2) as srv, _udp() as phone, _udp() as nat, _udp() as plain:
        local, behind = phone.getsockname()[1], nat.getsockname()[1]
        received = f"sip:127.0.0.1:{behind}"
        # the Contact names the phone's own port; received= the address its NAT really uses
        phone.sendto(_register(srv.port, local, "carol", f'<sip:carol@127.0.0.1:{local}>;received="{received}"'),
                     ("127.0.0.1", srv.port))
        ok = phone.recvfrom(65535)[0].decode("latin-1")
        plain_port = plain.getsockname()[1]
        phone.sendto(_register(srv.port, local, "dave", f"<sip:dave@127.0.0.1:{plain_port}>"), ("127.0.0.1", srv.port))
        ok_plain = phone.recvfrom(65535)[0].decode("latin-1")
        phone.sendto(_invite(srv.port, local, "carol"), ("127.0.0.1", srv.port))
        forwarded = nat.recvfrom(65535)[0].decode("latin-1")  # not to the Contact's port
        phone.sendto(_invite(srv.port, local, "dave"), ("127.0.0.1", srv.port))
        forwarded_plain = plain.recvfrom(65535)[0].decode("latin-1")
        text = _location(srv.db)
        js = _location(srv.db, "--json", "--aor", "carol")
    assert ok.startswith("SIP/2.0 200 OK\r\n"), ok
    assert f'Contact: <sip:carol@127.0.0.1:{local}>;expires=600;received="{received}"\r\n' in ok, ok
    assert f"Contact: <sip:dave@127.0.0.1:{plain_port}>;expires=600\r\n" in ok_plain, ok_plain
    assert forwarded.startswith(f"INVITE sip:carol@127.0.0.1:{local} SIP/2.0\r\n"), forwarded
    assert forwarded_plain.startswith(f"INVITE sip:dave@127.0.0.1:{plain_port} SIP/2.0\r\n"), forwarded_plain
    assert text.returncode == 0, text.stderr
    carol, dave = text.stdout.split("\tAOR:: dave\n")[0], text.stdout.split("\tAOR:: dave\n")[1]
    assert f"\t\t\tReceived:: {received}\n" in carol, text.stdout
    assert f"\t\t\tSource:: 127.0.0.1:{local} (where the REGISTER came from" in carol, text.stdout
    assert "\t\t\tReceived:: [not set]\n" in dave, text.stdout
    (row,) = [json.loads(line) for line in js.stdout.splitlines()]
    assert row["received"] == received and row["source"] == f"127.0.0.1:{local}", row


def test_a_table_from_before_the_column_gets_it(tmp_path: Path) -> None:
    """A database written by an older sipsim (no contact_received column, keyed by (aor, contact)) is
    read by `sipsim location` as it is ([not set]) and gains the column when a server opens it,
    and the key (aor, ord): one URI can then be bound twice (without an instance and with one)."""
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE location (aor TEXT NOT NULL, contact TEXT NOT NULL, expires REAL NOT NULL, q REAL, "
                  "callid TEXT NOT NULL DEFAULT '', cseq INTEGER NOT NULL DEFAULT 0, received TEXT, "
                  "user_agent TEXT NOT NULL DEFAULT '', modified REAL NOT NULL DEFAULT 0, "
                  "ord INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (aor, contact))")
    for contact in ("sip:bob@192.0.2.4", "sip:bob@192.0.2.3"):  # ord 0 both: the first tables had none
        conn.execute("INSERT INTO location (aor, contact, expires, received) VALUES ('bob', ?, ?, '192.0.2.4:5060')",
                     (contact, time.time() + 300))
    conn.commit()
    conn.close()
    before = _location(db)
    assert before.returncode == 0, before.stderr
    assert "\t\t\tReceived:: [not set]\n" in before.stdout, before.stdout
    assert "\t\t\tInstance:: [not set]\n\t\t\tReg-Id:: 0\n" in before.stdout, before.stdout  # no such columns yet
    store = SQLiteLocation(db)
    store.create()
    now = time.time()
    key = sorted((row[5], row[1]) for row in sqlite3.connect(db).execute("PRAGMA table_info(location)") if row[5])
    assert [name for _, name in key] == ["aor", "ord"]
    assert [b.contact for b in store.lookup("bob", now)] == ["sip:bob@192.0.2.4", "sip:bob@192.0.2.3"]  # order kept
    store.update("bob", now, lambda cur: [*cur, Binding("bob", "sip:bob@192.0.2.4", now + 300,
                                                        contact_received="sip:198.51.100.1:4000",
                                                        instance="<urn:uuid:B>")])
    assert [(b.contact, b.contact_received) for b in store.lookup("bob", now)] == [
        ("sip:bob@192.0.2.4", None), ("sip:bob@192.0.2.3", None), ("sip:bob@192.0.2.4", "sip:198.51.100.1:4000")]
    store.close_last()
    after = _location(db)
    assert after.stdout.count("\t\t\tReceived:: ") == 3 and "Received:: sip:198.51.100.1:4000\n" in after.stdout, \
        after.stdout


def test_location_lists_the_instance_and_reg_id(tmp_path: Path) -> None:
    """An outbound phone's ``+sip.instance`` and ``reg-id`` (stored in the instance and reg_id columns)
    are listed as Kamailio 5.6.3's ``kamctl ul show`` (``kamcmd ul.dump``) lists them: after the
    received value, ``[not set]`` and 0 for a binding without them; in JSON, ``instance`` (null)
    and ``reg_id`` (0)."""
    db = tmp_path / "loc.sqlite"
    store = SQLiteLocation(db)
    store.create()
    now = time.time()
    urn = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"
    store.update("eve", now, lambda cur: [Binding("eve", "sip:eve@192.0.2.17", now + 300, instance=urn, reg_id=1),
                                          Binding("eve", "sip:eve@192.0.2.18", now + 300)])
    store.close_last()
    text = _location(db)
    js = _location(db, "--json")
    assert text.returncode == 0 and js.returncode == 0, text.stderr + js.stderr
    first, second = text.stdout.split("\t\tContact:: ")[1:]
    assert first.startswith("sip:eve@192.0.2.17 Q=-1\n")
    assert f"\t\t\tReceived:: [not set]\n\t\t\tInstance:: {urn}\n\t\t\tReg-Id:: 1\n" in first, first
    assert "\t\t\tReceived:: [not set]\n\t\t\tInstance:: [not set]\n\t\t\tReg-Id:: 0\n" in second, second
    rows = [json.loads(line) for line in js.stdout.splitlines()]
    assert [(r["contact"], r["instance"], r["reg_id"]) for r in rows] == [
        ("sip:eve@192.0.2.17", urn, 1), ("sip:eve@192.0.2.18", None, 0)]
