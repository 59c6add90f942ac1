"""The observer channel: live workers report every step, and may wait for a go-ahead before each.

Two halves live here (the wire format is in ``OBSERVER.md`` beside this file):

* :class:`ObserverLink` — the worker's side. It batches JSON-lines events and sends them to the
  observer's Unix datagram socket **without ever blocking**: when the observer's queue is full
  the batch waits (bounded) for the next flush, beyond the bound events are dropped and counted
  (a ``lost`` record tells the observer how many); when no observer is bound at the path the link
  stays silent and re-checks once a second, so a server with no observer pays nothing but that
  check. With ``--step-control`` the link also owns the worker's own control socket
  (``PATH.<pid>``) and makes the worker wait for ``go`` after each step — but never for ever: the
  observer vanishing, ``run``, SIGTERM or ``step_timeout`` seconds without an answer all release it.
* :class:`Observer` — the client the TUI and the tests use: it binds the path, yields events,
  and sends ``go``/``step``/``run`` to workers.

Why batching: Linux queues at most ``net.unix.max_dgram_qlen`` datagrams (often 10) on a Unix
datagram socket. One datagram per event would overflow it at once; one datagram per message
(flushed just before the worker goes back to ``recvfrom``, and before each pause) does not.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import socket
import stat
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sipsim.engine.events import KernelEvent, StepEvent

WIRE_VERSION = 1
MAX_BATCH = 60_000  # bytes per datagram (well under the default unix SO_SNDBUF of ~208 KiB)
MAX_PENDING = 150_000  # bytes kept while the observer lags; beyond this, events are lost (counted)
RECHECK = 1.0  # seconds between checks for an absent observer; heartbeat period while paused
_ABSENT = (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTDIR, errno.EACCES)
_FULL = (errno.EAGAIN, errno.ENOBUFS)
UNIX_PATH_MAX = 107


def control_path(observe_path: str, pid: int) -> str:
    """The Unix datagram socket on which worker ``pid`` listens for go/step/run."""
    return f"{observe_path}.{pid}"


class ObserverStop(Exception):
    """Raised by the worker's signal handler to leave a blocking wait (shutdown)."""


class ObserverLink:
    """A worker's non-blocking line to the observer (and its step-control socket)."""

    def __init__(self, path: str, pid: int, *, step_control: bool = False, step_timeout: float = 120.0,
                 hello: dict[str, Any] | None = None, warn: Callable[[str], None] | None = None) -> None:
        self.path = os.path.abspath(path)  # a relative name would match a socket of that name anywhere
        self._real_path = os.path.realpath(path)
        self._warn = warn
        self._refused_ino: int | None = None  # the untrusted socket file already warned about
        self.pid = pid
        self.step_control = step_control
        self.stepping = step_control  # with --step-control, workers start in step mode
        self.step_timeout = step_timeout
        self.lost = 0  # events dropped because the observer lagged (reported, then kept as a total)
        self._unreported = 0
        self._lines: list[bytes] = []
        self._size = 0
        self._pending = b""  # a batch the observer could not take yet
        self.present = True  # optimistic: the first flush finds out
        self._next_check = 0.0
        self._seq = 0
        self._ino: int | None = None
        self.ctl_path = control_path(path, pid) if step_control else ""
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        if step_control:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.ctl_path)
            # only the server's own user may pause it: the socket is made 0600 (a umask, not a
            # chmod after bind, so it is never writable by others, not even for an instant)
            mask = os.umask(0o177)
            try:
                self._sock.bind(self.ctl_path)
            finally:
                os.umask(mask)
        self._hello = dict(hello or {})
        self._hello.update({"type": "hello", "v": WIRE_VERSION, "worker": pid, "ctl": self.ctl_path,
                            "stepping": self.stepping})
        self.add(self._hello | {"time": time.time()})

    # -- events ------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Worth encoding events? False while no observer is bound (re-checked every RECHECK s)."""
        return self.present or time.monotonic() >= self._next_check

    def add(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        if self._size + len(line) > MAX_BATCH and self._lines:
            self.flush()
        self._lines.append(line)
        self._size += len(line)

    def step(self, ev: StepEvent) -> None:
        if self.active:
            d = ev.to_dict()
            d["type"] = "step"
            d["time"] = time.time()
            self.add(d)

    def kernel(self, ev: KernelEvent) -> None:
        if self.active:
            d = ev.to_dict()
            d["type"] = "kernel"
            self.add(d)

    def flush(self) -> None:
        """Send what is batched. Never blocks; a lagging observer costs events, not time."""
        if not self._lines and not self._pending:
            return
        now = time.monotonic()
        if not self.present and now < self._next_check:
            self._lines.clear()
            self._size = 0
            return
        batch = b"".join(self._lines)
        self._lines.clear()
        self._size = 0
        if not self.present:
            # maybe a new observer: introduce ourselves first (a hello it may not have seen)
            hello = self._hello | {"time": time.time(), "stepping": self.stepping}
            batch = json.dumps(hello, separators=(",", ":")).encode() + b"\n" + batch
        if self._unreported:
            batch = json.dumps({"type": "lost", "worker": self.pid, "count": self._unreported,
                                "total": self.lost}).encode() + b"\n" + batch
        if self._pending:
            if not self._send(self._pending, now):
                if self.present:
                    self._keep(batch)  # still full: queue behind what waits
                return
            self._pending = b""
        if self._send(batch, now):
            self._unreported = 0

    def _owner_ok(self) -> bool:
        """Is the socket at ``path`` bound by this server's user (or root)? A socket of another
        user there — another student who bound the path first, in a folder all may write to — must
        get no events (they quote every message) and must not hold the workers paused on its
        ``ready``: it is treated as no observer at all, and said once in the log.

        ``lstat``, not ``stat``: a symbolic link at the path (owned by whoever made it) is refused
        even when it points at a socket of ours or of root's. Nothing at the path is no observer
        for now (not "try the send"): whoever binds it in between is looked at on the next round.
        What stays open is a swap between this look and the ``sendto`` — only by someone who may
        remove our socket file, which a sticky folder like /tmp forbids."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        if stat.S_ISSOCK(st.st_mode) and st.st_uid in (os.geteuid(), 0):
            return True
        if self._warn is not None and self._refused_ino != st.st_ino:
            what = (f"belongs to uid {st.st_uid}, not to this server's user" if stat.S_ISSOCK(st.st_mode)
                    else "is no socket (a link or a file is not followed)")
            self._warn(f"observer socket {self.path} {what}: no events are sent to it, no step waits for it")
        self._refused_ino = st.st_ino
        return False

    def _send(self, chunk: bytes, now: float) -> bool:
        if not self._owner_ok():
            self.present = False
            self._pending = b""
            self._next_check = now + RECHECK
            return False
        try:
            self._sock.sendto(chunk, self.path)
        except OSError as exc:
            if exc.errno in _FULL:
                if chunk is not self._pending:
                    self._keep(chunk)
                return False
            if exc.errno in _ABSENT:
                self.present = False
                self._pending = b""
                self._next_check = now + RECHECK
                return False
            self._drop(chunk)  # EMSGSIZE & co: this batch cannot go; count it
            return False
        self.present = True
        return True

    def _keep(self, chunk: bytes) -> None:
        if len(self._pending) + len(chunk) <= MAX_PENDING:
            self._pending += chunk
        else:
            self._drop(chunk)

    def _drop(self, chunk: bytes) -> None:
        n = chunk.count(b"\n")
        self.lost += n
        self._unreported += n

    def set_hello(self, **fields: Any) -> None:
        """Update what ``hello`` says (the attendant lists its workers there)."""
        self._hello.update(fields)

    def ping(self) -> None:
        """Say hello to an observer that has just appeared (the attendant calls this twice a second).

        A new observer is a new socket file at the path: its inode changes. One ``stat`` per call.
        """
        try:
            ino: int | None = os.stat(self.path).st_ino
        except OSError:
            ino = None
        if ino == self._ino:
            return
        self._ino = ino
        if ino is not None and not self._lines:
            hello = self._hello | {"time": time.time(), "stepping": self.stepping}
            self._send(json.dumps(hello, separators=(",", ":")).encode() + b"\n", time.monotonic())

    # -- step control ------------------------------------------------------------------------
    def poll_commands(self) -> None:
        """Read step/run commands that arrived while the worker was not waiting (no blocking)."""
        if self.step_control:
            for cmd, _ in self._read_commands():
                self._apply_mode(cmd)

    def _read_commands(self) -> Iterator[tuple[str, int | None]]:
        while True:
            try:
                data, sender = self._sock.recvfrom(512)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if sender != self.path and not (sender.startswith("/") and os.path.realpath(sender) == self._real_path):
                continue  # commands come from the observer bound at PATH (a guard against mistakes:
                #           the 0600 mode is what keeps other users out; a process of our own user
                #           can bind any name, so the name is no proof against it)
            for line in data.decode("ascii", "replace").splitlines():
                parts = line.split()
                if not parts:
                    continue
                seq = int(parts[1]) if len(parts) > 1 and (parts[1].isascii() and parts[1].isdigit()) else None
                yield parts[0].lower(), seq

    def _apply_mode(self, cmd: str) -> None:
        if cmd == "step":
            self.stepping = True
        elif cmd == "run":
            self.stepping = False

    def wait_go(self, ev: StepEvent, stopping: list[bool]) -> str:
        """After step ``ev``: announce ``ready`` and wait for ``go``. Returns why it went on.

        ``stopping`` is the worker's shutdown flag (a one-item list its signal handler sets);
        :class:`ObserverStop` raised by that handler during the wait ends the wait too.
        """
        if not (self.step_control and self.stepping) or stopping[0]:
            return "not stepping"
        self.poll_commands()
        if not self.stepping:
            return "run"
        self._seq += 1
        seq = self._seq
        ready = {"type": "ready", "worker": self.pid, "seq": seq, "msg": ev.msg, "step": ev.step,
                 "time": time.time()}
        self.add(ready)
        self.flush()
        if not self.present:
            return "no observer"
        started = time.monotonic()
        next_beat = started + RECHECK
        try:
            while True:
                now = time.monotonic()
                if now - started >= self.step_timeout:
                    self.stepping = False
                    return "timeout"
                r, _, _ = select.select([self._sock], [], [], max(0.0, min(next_beat, started + self.step_timeout)
                                                                  - now))
                if r:
                    for cmd, cseq in self._read_commands():
                        if cmd == "go" and (cseq is None or cseq == seq):
                            return "go"
                        if cmd == "run":
                            self.stepping = False
                            return "run"
                        self._apply_mode(cmd)
                    continue
                if time.monotonic() >= next_beat:
                    next_beat += RECHECK
                    # heartbeat: the same ready again; a vanished observer shows up as an error
                    self.add(ready | {"repeat": True})
                    self.flush()
                    if not self.present:
                        return "observer gone"
                if stopping[0]:
                    return "shutdown"
        except ObserverStop:
            stopping[0] = True
            return "shutdown"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.flush()
        self._sock.close()
        if self.ctl_path:
            with contextlib.suppress(OSError):
                os.unlink(self.ctl_path)


# -- the observer's side ----------------------------------------------------------------------
class Observer:
    """Bind ``path`` and receive the events of every worker of a ``sipsim serve --observe path``.

    >>> with Observer("/tmp/obs.sock") as obs:                  # doctest: +SKIP
    ...     for ev in obs.events(timeout=1.0):
    ...         if ev["type"] == "ready":
    ...             obs.go(ev["worker"], ev["seq"])

    Events are dicts (see OBSERVER.md); :func:`as_event` turns ``step``/``kernel`` ones into the
    engine's :class:`StepEvent`/:class:`KernelEvent`. A repeated ``ready`` (the heartbeat of a
    paused worker) is yielded only once. ``waiting`` maps the pid of each paused worker to its
    ``ready`` record; ``workers`` maps every pid seen to its ``hello`` (or ``{}``).
    """

    def __init__(self, path: str | os.PathLike[str], *, rcvbuf: int = 4 << 20) -> None:
        self.path = os.path.abspath(os.fspath(path))  # its commands come from this name; workers compare it
        if len(self.path.encode()) > UNIX_PATH_MAX - 8:
            raise ValueError(f"observer path too long for a Unix socket: {self.path}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        mask = os.umask(0o177)  # 0600: only this user (and root) may send events to the observer
        try:
            self.sock.bind(self.path)
        finally:
            os.umask(mask)
        self.workers: dict[int, dict[str, Any]] = {}
        self.waiting: dict[int, dict[str, Any]] = {}
        self._lost_by_worker: dict[int, int] = {}
        self._last_ready: dict[int, int] = {}
        self._buffer: deque[dict[str, Any]] = deque()

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def lost(self) -> int:
        """Events the workers reported dropping because this observer lagged (sum of their totals)."""
        return sum(self._lost_by_worker.values())

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop observing: the socket file goes away, so paused workers resume within a second."""
        self.sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    # -- receiving ---------------------------------------------------------------------------
    def recv(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Every event already received, or those of the next datagram (waits up to ``timeout`` s)."""
        if self._buffer:
            out = list(self._buffer)
            self._buffer.clear()
            return out
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return []
        data = self.sock.recv(1 << 20)
        out = []
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if self._track(ev):
                out.append(ev)
        return out

    def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """One event (waits up to ``timeout`` s; None when nothing came). Never loses the rest of a batch."""
        if not self._buffer:
            self._buffer.extend(self.recv(timeout))
        return self._buffer.popleft() if self._buffer else None

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Yield events until ``timeout`` seconds pass without any (None: for ever).

        Safe to leave early: events not yet yielded stay for the next call.
        """
        while True:
            ev = self.next(timeout)
            if ev is None:
                return
            yield ev

    def _track(self, ev: dict[str, Any]) -> bool:
        kind = ev.get("type")
        pid = ev.get("worker")
        if isinstance(pid, int) and ev.get("role") != "attendant":
            self.workers.setdefault(pid, {})
        if kind == "hello" and isinstance(pid, int):
            if ev.get("role") == "attendant":
                for w in ev.get("workers", []):  # idle workers, known before they send anything
                    self.workers.setdefault(int(w["pid"]), {"role": "worker", **w})
            else:
                self.workers[pid] = ev
        elif kind == "lost" and isinstance(pid, int):
            self._lost_by_worker[pid] = max(self._lost_by_worker.get(pid, 0), int(ev.get("total", 0)))
        elif kind == "ready" and isinstance(pid, int):
            seq = int(ev.get("seq", 0))
            if self._last_ready.get(pid, 0) >= seq:
                return False  # a heartbeat, or a ready we already answered
            self._last_ready[pid] = seq
            self.waiting[pid] = ev
        elif kind == "kernel" and ev.get("kind") == "worker_exited" and isinstance(pid, int):
            self.waiting.pop(pid, None)
        return True

    # -- step control ------------------------------------------------------------------------
    def _send(self, pid: int, text: str) -> bool:
        try:
            self.sock.sendto(text.encode("ascii"), control_path(self.path, pid))
        except OSError:
            return False
        return True

    def go(self, pid: int, seq: int | None = None) -> bool:
        """Let worker ``pid`` take its next step (only the wait ``seq`` if given)."""
        self.waiting.pop(pid, None)
        return self._send(pid, "go" if seq is None else f"go {seq}")

    def go_all(self) -> int:
        """Release every worker that is waiting now; returns how many were told."""
        told = 0
        for pid, ready in list(self.waiting.items()):
            told += self.go(pid, ready.get("seq"))
        return told

    def set_stepping(self, on: bool, pids: Iterable[int] | None = None) -> int:
        """``step`` (wait before each step) or ``run`` (go freely) for the given or all known workers."""
        told = 0
        for pid in list(pids if pids is not None else self.workers):
            told += self._send(pid, "step" if on else "run")
            if not on:
                self.waiting.pop(pid, None)
        return told


def as_event(ev: dict[str, Any]) -> StepEvent | KernelEvent | None:
    """The engine event carried by a ``step`` or ``kernel`` record (None for other types)."""
    kind = ev.get("type")
    if kind == "step":
        return StepEvent.from_dict(ev)
    if kind == "kernel":
        return KernelEvent.from_dict(ev)
    return None
