"""The local control socket of a live server (Kamailio's ``ctl`` module + ``kamcmd``, in small).

The attendant listens on a Unix *stream* socket. A client connects, writes one command line and
reads one JSON document back; the server then closes the connection. Commands:

* ``stats`` — ``{"core": {name: total}, "sipsim": {name: total}, "workers": [{"slot", "pid",
  "stats"}], "socket": {...}, "server": pid, "uptime": seconds}``: Kamailio's core group summed
  over workers (as ``kamcmd stats.get_statistics core:``), sipsim's own live counters, each
  worker's own row, and the receive socket's buffer size and kernel drop counter;
* ``ps`` — the process table (as ``kamcmd core.ps``): ``{"processes": [{"pid", "desc"}]}``.

An unknown command gets ``{"error": "..."}``. The default path is derived from the listen
address, so ``sipsim stats --listen 127.0.0.1:5060`` finds the server without more options.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sipsim.engine.events import Addr
from sipsim.real.netinfo import listen_slug

Handler = Callable[[str], dict[str, Any]]


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/sipsim`` or ``/tmp/sipsim-<uid>`` (created 0700)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base) / "sipsim" if base else Path(tempfile.gettempdir()) / f"sipsim-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def default_control_path(listen: Addr) -> str:
    return str(runtime_dir() / f"ctl-{listen_slug(listen)}.sock")


class ControlServer:
    """The attendant's end: a non-blocking listening socket served from its main loop."""

    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        if len(path.encode()) > 107:
            raise OSError(f"control socket path too long: {path}")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):  # only runtime_dir() makes folders: the default place
            raise OSError(f"control socket {path}: no such folder {folder}")
        self._refuse_if_live(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o600)
        self.sock.listen(8)
        self.sock.setblocking(False)

    @staticmethod
    def _refuse_if_live(path: str) -> None:
        """A stale socket file (server killed) is removed; a live one means another server owns it."""
        if not os.path.exists(path):
            return
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)
            return
        finally:
            probe.close()
        raise OSError(f"control socket {path} is in use by another running server")

    def fileno(self) -> int:
        return self.sock.fileno()

    def serve_one(self) -> None:
        """Answer one pending connection (called when the socket is readable)."""
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        with conn:
            conn.settimeout(0.5)
            try:
                data = b""
                while b"\n" not in data and len(data) < 256:
                    chunk = conn.recv(256)
                    if not chunk:
                        break
                    data += chunk
                cmd = data.decode("ascii", "replace").strip()
                try:
                    answer = self.handler(cmd)
                except Exception as exc:  # the attendant must survive a bad request
                    answer = {"error": f"{type(exc).__name__}: {exc}"}
                conn.sendall(json.dumps(answer).encode() + b"\n")
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def query(path: str, command: str, timeout: float = 2.0) -> dict[str, Any]:
    """Ask a running server. Raises OSError (no server there) or ValueError (bad answer)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(command.encode("ascii") + b"\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)
