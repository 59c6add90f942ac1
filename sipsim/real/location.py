"""The live location table: SQLite in WAL mode, shared by every forked worker.

Kamailio keeps usrloc in shared memory (and optionally writes it through to a database); a
REGISTER handled by one worker must be seen by the next INVITE, which another worker takes. Our
workers are separate processes, so the shared table is an SQLite file:

* **WAL mode**: readers (``lookup``, one per INVITE/ACK/BYE) never wait for a writer, and a writer
  (``save``) waits for another writer at most ``busy_timeout`` ms.
* **one connection per process, opened after fork**: an SQLite connection must never cross a
  ``fork()`` (its locks and file descriptors would be shared by two processes). The store
  remembers the pid that opened its connection and reopens when it finds itself in a new process,
  so the attendant can create the schema, fork, and every worker gets its own connection.
* **order**: usrloc keeps each AOR's contacts in a list whose order decides where a call goes
  (see :mod:`sipsim.engine.location`); the ``ord`` column keeps that order. A REGISTER rewrites
  its AOR's rows in one ``BEGIN IMMEDIATE`` transaction, so two workers saving the same AOR at
  once cannot lose each other's change.
* **expiry**: a row whose ``expires`` is in the past is ignored by every query and deleted by
  :meth:`purge`, which the attendant runs on a timer (Kamailio's usrloc timer does the same).
  Times are wall-clock seconds (the live driver's ``Datagram.time``).
* **a per-worker read cache**: ``lookup`` runs for every INVITE, ACK and BYE. Kamailio reads
  usrloc from shared memory; we keep each AOR's rows in the worker and ask SQLite only whether
  the database changed (``PRAGMA data_version`` moves when *another* connection commits; this
  connection's own writes clear the cache themselves). A REGISTER taken by any worker is
  therefore seen by the very next lookup in every worker, as before.
* **one file after a clean stop**: SQLite folds the ``-wal`` file back into the database and
  deletes it (with ``-shm``) only when the *last* connection closes — a closing connection tries
  for an exclusive lock on the file once, without waiting, and leaves both files if any other
  connection is still open. On SIGTERM every worker closes at the same moment, each sees the
  others still open, and all of them leave the files behind (strace shows each one's lock
  refused with EAGAIN). So the workers' own closes are only a courtesy: the attendant, once it has
  reaped every worker, opens the file one last time and closes it (:meth:`close_last`), alone.
  A worker killed with SIGKILL cannot corrupt the file (WAL: a transaction without its commit
  record is ignored; the kernel drops a dead process's locks); the attendant's last close folds
  what it committed back in as well.

* **a size limit** (``max_bindings``, ``serve --max-bindings``, 100,000 by default). Kamailio's
  usrloc lives in shared memory, so a flood of REGISTERs for new AORs ends when its ``shm`` pool
  is full: the registrar answers ``500 Server Internal Error`` with ``P-Registrar-Error:
  usrloc_record_new failed`` (a new AOR) or ``usrloc_contact_insert failed`` (one more contact of
  a known AOR) — its error texts name the usrloc call that failed — and the server goes on. A
  file has no such end — 20,000 REGISTERs made 3 MB of table and 15 MB of WAL, and the ser
  profile keeps each for a day — so the table gets the same kind of bound: a REGISTER that would
  grow it beyond ``max_bindings`` rows (expired rows not yet purged count, as expired contacts
  fill shm until usrloc's timer — except the AOR's own, which its new set replaces) is refused
  with that very answer; one that refreshes or removes bindings is never refused. ``0`` means
  no limit.

* **the WAL's size**. SQLite's WAL file grows by every write and is cut back only when the log
  *restarts*, which needs a checkpoint that copied every frame back into the database while no
  reader still used an older snapshot. With several workers writing and reading all the time the
  automatic checkpoints (passive, after a commit past 1000 pages) seldom finished: 40,000
  REGISTERs (registrations and removals of 5,000 AORs, 4 workers) left a 12.3 MB ``-wal`` beside
  a 176 KB table, kept at that size for the rest of the run. Now the workers do not checkpoint
  on their own (``wal_autocheckpoint`` 0); the writer whose commit finds the ``-wal`` past
  ``WAL_CHECKPOINT_AT`` (4 MiB) runs ``wal_checkpoint(TRUNCATE)``: it waits (at most
  ``WAL_CHECKPOINT_WAIT_MS``) for the current writer and the readers of an older snapshot,
  copies the log back and empties the file -- some 10 ms once per 4 MiB of writes, for one
  REGISTER. Another worker checkpointing at that moment makes the attempt fail at once (SQLite
  lets one checkpointer in): that one empties it; a real wait that ran out is tried again by that
  worker's first write ``WAL_CHECKPOINT_BACKOFF`` later, twice as long after each failure in a row
  (up to ``WAL_CHECKPOINT_BACKOFF_MAX``), so a reader that holds a snapshot for long (an
  interactive ``sqlite3`` shell in a transaction) delays the checkpoint, and costs a REGISTER the
  ``WAL_CHECKPOINT_WAIT_MS`` wait less than twice a second per worker. The attendant's purge, every minute,
  empties it whatever its size, so a quiet server's ``-wal`` is small too. Same run: the ``-wal``
  never passed 4.4 MB (sampled every 2 ms), and throughput did not drop. ``journal_size_limit``
  (1 MiB) cuts the file back on any other restart (a ``sipsim location`` closing last, say). Checkpoints are
  SQLite's own locking, so any number of processes may write meanwhile.

* **usrloc's statistics** (``kamcmd stats.get_statistics usrloc:``; see
  :mod:`sipsim.engine.stats`) are read from the file when ``sipsim stats`` asks
  (:meth:`SQLiteLocation.usrloc_counts`): AORs and contacts are counted over every row, expired
  rows not yet purged included — usrloc too keeps an expired contact (and its AOR) until its
  timer removes it. The contacts removed *because they expired* (``location_expires``) are
  counted in the small ``usrloc_stats`` table, in the transaction that deletes them: by
  :meth:`~SQLiteLocation.purge` (the usrloc timer's job) and by a REGISTER that rewrites an AOR
  whose expired contacts it does not name again (:meth:`~SQLiteLocation.update` drops them at
  once; simplified: usrloc would keep them, and count them in ``_contacts``, until its timer
  ran — a minute at most). :meth:`~SQLiteLocation.create` (server start) sets it back to 0, as a
  restarted Kamailio starts from 0.

The AOR is the user part only (``use_domain`` 0), as in the engine's registrar.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from sipsim.engine.location import Binding, Change, run_change
from sipsim.engine.registrar import RegError
from sipsim.real.netinfo import listen_slug

# the WAL's size (see the module docstring): cut back to WAL_SIZE_LIMIT bytes each time it restarts;
# past WAL_CHECKPOINT_AT a writer folds it in and empties it, waiting for the others at most
# WAL_CHECKPOINT_WAIT_MS
WAL_SIZE_LIMIT = 1 << 20
WAL_CHECKPOINT_AT = 4 << 20
WAL_CHECKPOINT_WAIT_MS = 100
# s: a worker whose checkpoint found the database busy lets the others write, twice as long after
# each failure in a row (a reader holding an old snapshot -- an sqlite3 shell in a transaction --
# would otherwise cost that worker's REGISTERs the wait again and again)
WAL_CHECKPOINT_BACKOFF = 0.05
WAL_CHECKPOINT_BACKOFF_MAX = 0.8
MAX_BINDINGS = 100_000  # rows; some 150 bytes each in the table (see "a size limit" above)
# the registrar's answers when usrloc cannot allocate (Kamailio 5.6's rerrno texts R_UL_NEW_R, R_UL_INS_C)
TABLE_FULL_NEW_AOR = (500, "usrloc_record_new failed")
TABLE_FULL = (500, "usrloc_contact_insert failed")

# The key is the AOR and the contact's place in its list, not its URI: usrloc can hold one URI
# twice, once without a +sip.instance and once with one (see sipsim.engine.registrar, _Plan._match).
SCHEMA = """
CREATE TABLE IF NOT EXISTS location (
    aor        TEXT NOT NULL,
    contact    TEXT NOT NULL,
    expires    REAL NOT NULL,
    q          REAL,
    callid     TEXT NOT NULL DEFAULT '',
    cseq       INTEGER NOT NULL DEFAULT 0,
    received   TEXT,
    user_agent TEXT NOT NULL DEFAULT '',
    modified   REAL NOT NULL DEFAULT 0,
    ord        INTEGER NOT NULL DEFAULT 0,
    contact_received TEXT,
    instance   TEXT,
    reg_id     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (aor, ord)
);
CREATE INDEX IF NOT EXISTS location_expires ON location (expires);
CREATE TABLE IF NOT EXISTS usrloc_stats (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0
);
"""
# usrloc's <table>_expires counter, kept in the file because every worker and the attendant add to it
_EXPIRED = "expires"

# in Binding's field order (rows become Bindings positionally). ``received`` is where the REGISTER came
# from (sipsim's own, for people); ``contact_received`` is usrloc's received: the Contact's
# ``;received=`` value, which lookup() makes $du (see sipsim.engine.registrar); ``instance``/``reg_id``
# the RFC 5626 ``+sip.instance``/``reg-id`` the 200 echoes
_COLS = "aor, contact, expires, q, callid, cseq, received, user_agent, modified, contact_received, instance, reg_id"
# columns added since the first release: a database written by an older sipsim gets them at start
_ADDED = {"modified": "REAL NOT NULL DEFAULT 0", "ord": "INTEGER NOT NULL DEFAULT 0", "contact_received": "TEXT",
          "instance": "TEXT", "reg_id": "INTEGER NOT NULL DEFAULT 0"}


def _rekey(db: sqlite3.Connection) -> None:
    """Give a table written by an older sipsim, keyed by (aor, contact), the key (aor, ord): copy
    its rows into a new table in one transaction (``ord`` numbered again in each AOR's order, as
    the first tables had no such column)."""
    key = sorted((row[5], row[1]) for row in db.execute("PRAGMA table_info(location)") if row[5])
    if [name for _, name in key] != ["aor", "contact"]:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE location RENAME TO location_old")
        db.execute("DROP INDEX IF EXISTS location_expires")
        for statement in SCHEMA.split(";"):
            if "location (" in statement:  # the table and its index (usrloc_stats exists already)
                db.execute(statement)
        db.execute(f"INSERT INTO location ({_COLS}, ord) SELECT {_COLS}, "
                   f"ROW_NUMBER() OVER (PARTITION BY aor ORDER BY ord, rowid) - 1 FROM location_old")
        db.execute("DROP TABLE location_old")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


DEFAULT_LISTEN = ("127.0.0.1", 5060)


def default_db_path(listen: tuple[str, int] = DEFAULT_LISTEN) -> Path:
    """``$XDG_STATE_HOME/sipsim/location.sqlite`` (``~/.local/state/sipsim/location.sqlite``) for a
    server on 127.0.0.1:5060, ``location-HOST-PORT.sqlite`` beside it for one listening elsewhere.

    One table per listen address, as each Kamailio has its own usrloc: two servers started with
    their defaults (a lab chaining two proxies) would otherwise share their bindings, and an INVITE
    to the second one reach a phone that registered with the first. Sharing stays possible, on
    purpose, with the same ``--db``.
    """
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    name = "location.sqlite" if (listen[0].strip("[]"), listen[1]) == DEFAULT_LISTEN else \
        f"location-{listen_slug(listen)}.sqlite"
    return Path(base) / "sipsim" / name


def wal_files(path: str | os.PathLike[str]) -> list[Path]:
    """The ``-wal`` and ``-shm`` files beside the database that exist now."""
    return [p for p in (Path(f"{os.fspath(path)}-wal"), Path(f"{os.fspath(path)}-shm")) if p.exists()]


class SQLiteLocation:
    """A :class:`sipsim.engine.location.LocationStore` on an SQLite file, safe across ``fork()``."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 2000,
                 max_bindings: int = MAX_BINDINGS, wal_size_limit: int = WAL_SIZE_LIMIT,
                 wal_checkpoint_at: int = WAL_CHECKPOINT_AT) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.wal_size_limit = wal_size_limit
        self.wal_checkpoint_at = wal_checkpoint_at
        self._ckpt_after = 0.0  # time.monotonic() before which this process does not try again
        self._ckpt_backoff = WAL_CHECKPOINT_BACKOFF  # the next wait after a failed checkpoint
        self.max_bindings = max_bindings
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._cache: dict[str, list[tuple]] = {}  # aor -> its rows, expired ones included, in lookup order
        self._version = -1  # PRAGMA data_version when the cache was filled

    # -- connection management ------------------------------------------------------------
    def create(self) -> None:
        """Create the file and the table (the attendant calls this before forking). The folder is
        created only for the default path (``$XDG_STATE_HOME/sipsim``): a path given with --db
        names a folder that must exist, or a typo would leave a tree of folders and a database
        nobody looks for (OSError, "no such folder")."""
        folder = self.path.parent
        if not folder.is_dir():
            if folder != default_db_path().parent:
                raise OSError(f"no such folder {folder}")
            folder.mkdir(parents=True, exist_ok=True)
        db = self._db()
        db.executescript(SCHEMA)
        have = {row[1] for row in db.execute("PRAGMA table_info(location)")}
        for column, decl in _ADDED.items():
            if column not in have:
                db.execute(f"ALTER TABLE location ADD COLUMN {column} {decl}")
        _rekey(db)
        # a new server counts expired contacts from 0, as a restarted Kamailio does
        db.execute("INSERT OR REPLACE INTO usrloc_stats (name, value) VALUES (?, 0)", (_EXPIRED,))
        self.close()

    def _db(self) -> sqlite3.Connection:
        pid = os.getpid()
        if self._conn is None or self._pid != pid:
            # A connection inherited across fork belongs to the parent: forget it, never close it
            # from here (closing would release the parent's locks).
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.close()
                raise sqlite3.OperationalError(f"{self.path}: cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            # a per-connection setting: whichever worker restarts the WAL truncates it (see "the WAL's size")
            conn.execute(f"PRAGMA journal_size_limit = {int(self.wal_size_limit)}")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._conn, self._pid = conn, pid
            self._cache, self._version = {}, -1
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def close_last(self) -> bool:
        """Close as the server's last connection: the WAL is folded back into the database file
        and ``-wal``/``-shm`` are deleted (the attendant calls this after reaping every worker).

        Opening reads the file, which attaches this connection to the WAL; closing it then finds
        no other connection, takes the exclusive lock, checkpoints and deletes both files. The
        explicit PASSIVE checkpoint first copies every committed change into the database file
        even when that lock cannot be had. Returns False when ``-wal`` or ``-shm`` is still there:
        another process (a second server on the same --db, a ``sipsim location`` at that moment)
        still has the database open, and the last of those to close will fold it in. A database
        file removed while the server ran is not recreated.
        """
        self.close()
        if not self.path.is_file():
            return True
        try:
            self._db().execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            self.close()
        return not wal_files(self.path)

    # -- the LocationStore protocol ---------------------------------------------------------
    def update(self, aor: str, now: float, change: Change) -> list[Binding]:
        """Apply ``change`` to the AOR's contacts in one write transaction (see the module docstring)."""
        db = self._db()
        self._cache.clear()
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = db.execute(f"SELECT {_COLS} FROM location WHERE aor = ? ORDER BY ord", (aor,)).fetchall()
            own = len(rows)  # the AOR's rows, expired ones too
            current = [Binding(*row) for row in rows if row[2] > now]  # row[2]: expires
            new, refused = run_change(change, current)
            if new is None:
                db.execute("COMMIT")
                return current
            if self.max_bindings and len(new) > len(current):
                if len(new) > own:  # the AOR's rows, expired ones too, are replaced: only the rest grows
                    total = db.execute("SELECT COUNT(*) FROM location").fetchone()[0]
                    if total - own + len(new) > self.max_bindings:
                        # rolled back below; answered 500 as usrloc out of shm
                        raise RegError(TABLE_FULL if own else TABLE_FULL_NEW_AOR)
            db.execute("DELETE FROM location WHERE aor = ?", (aor,))
            db.executemany(
                f"INSERT INTO location ({_COLS}, ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(b.aor, b.contact, b.expires, b.q, b.callid, b.cseq, b.received, b.user_agent, b.modified,
                  b.contact_received, b.instance, b.reg_id, i) for i, b in enumerate(new)])
            if own > len(current):  # expired rows dropped by the rewrite: usrloc's timer would count them
                named = {b.contact for b in new}
                expired = sum(1 for row in rows if row[2] <= now and row[1] not in named)
                if expired:
                    self._count_expired(db, expired)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._bound_wal(db)
        if refused is not None:
            raise refused  # what the change kept is written (see ChangeRefused)
        return list(new)

    def lookup(self, aor: str, now: float) -> list[Binding]:
        db = self._db()
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._cache.clear()
            self._version = version
        rows = self._cache.get(aor)
        if rows is None:
            rows = db.execute(f"SELECT {_COLS} FROM location WHERE aor = ? ORDER BY ord", (aor,)).fetchall()
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[aor] = rows
        return [Binding(*row) for row in rows if row[2] > now]  # row[2]: expires

    def all(self, now: float) -> list[Binding]:
        rows = self._db().execute(f"SELECT {_COLS} FROM location WHERE expires > ? ORDER BY aor, ord",
                                  (now,)).fetchall()
        return [Binding(*row) for row in rows]

    def purge(self, now: float) -> int:
        """Delete the expired rows (the usrloc timer's job) and count them in ``location_expires``."""
        self._cache.clear()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            gone = db.execute("DELETE FROM location WHERE expires <= ?", (now,)).rowcount
            if gone > 0:
                self._count_expired(db, gone)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._bound_wal(db, always=True)  # the usrloc timer's minute: empty the WAL of a quiet server too
        return gone

    @staticmethod
    def _count_expired(db: sqlite3.Connection, n: int) -> None:
        """Add ``n`` to usrloc's expired-contacts counter (inside the caller's transaction; a table
        from an older sipsim that has no counter row yet gets one)."""
        db.execute("INSERT INTO usrloc_stats (name, value) VALUES (?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value", (_EXPIRED, n))

    def usrloc_counts(self) -> tuple[int, int, int]:
        """usrloc's statistics of the table, read now: (AORs, contacts, contacts removed because they
        expired). AORs and contacts include the expired rows not purged yet (see the module docstring)."""
        db = self._db()
        users, contacts = db.execute("SELECT COUNT(DISTINCT aor), COUNT(*) FROM location").fetchone()
        row = db.execute("SELECT value FROM usrloc_stats WHERE name = ?", (_EXPIRED,)).fetchone()
        return int(users), int(contacts), int(row[0]) if row else 0

    def _bound_wal(self, db: sqlite3.Connection, always: bool = False) -> bool:
        """After a write: when the ``-wal`` file has grown past ``wal_checkpoint_at`` (the workers do
        not checkpoint automatically), or ``always``, fold it into the database and
        cut it to zero bytes -- ``wal_checkpoint(TRUNCATE)``, which waits for the other writers and
        the readers of older snapshots at most ``WAL_CHECKPOINT_WAIT_MS`` (a busy database: the
        next write tries again). True when it ran and finished. See "the WAL's size" in the module
        docstring."""
        try:
            size = os.stat(f"{self.path}-wal").st_size
        except OSError:
            return False
        if size <= (0 if always else self.wal_checkpoint_at):
            return False
        if not always and time.monotonic() < self._ckpt_after:
            return False
        db.execute(f"PRAGMA busy_timeout = {WAL_CHECKPOINT_WAIT_MS}")
        try:
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            busy = 1  # locked beyond the wait: the next write tries again
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        if busy:
            self._ckpt_after = time.monotonic() + self._ckpt_backoff
            self._ckpt_backoff = min(2 * self._ckpt_backoff, WAL_CHECKPOINT_BACKOFF_MAX)
        else:
            self._ckpt_backoff = WAL_CHECKPOINT_BACKOFF
        return not busy

    # -- operations -------------------------------------------------------------------------
    def integrity_check(self) -> str:
        return str(self._db().execute("PRAGMA integrity_check").fetchone()[0])


def open_existing(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection for ``sipsim location`` that never creates the file.

    Read-write when we may (a WAL database whose ``-wal``/``-shm`` files are gone cannot always
    be opened read-only), read-only otherwise.
    """
    uri = Path(path).resolve().as_uri()
    try:
        return sqlite3.connect(uri + "?mode=rw", uri=True, timeout=2.0)
    except sqlite3.OperationalError:
        return sqlite3.connect(uri + "?mode=ro", uri=True, timeout=2.0)
