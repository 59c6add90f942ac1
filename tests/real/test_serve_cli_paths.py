"""``sipsim serve``'s paths and names, checked before anything starts: a --db or --control in a
folder that does not exist is refused as --pcap's is (it used to be created in silence, a typo
leaving a tree of folders and a database nobody looks for), and --advertise must be a SIP host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_udp_port, stop_pid
from live_harness import LiveServer

from sipsim.real.control import ControlServer
from sipsim.real.location import SQLiteLocation, default_db_path

pytestmark = pytest.mark.network


def _serve_exit(*args: str, timeout: float = 15) -> tuple[int | None, str]:
    """serve's exit status and stderr; None if it was still running after ``timeout`` (stopped by PID)."""
    proc = subprocess.Popen([sys.executable, "-m", "sipsim", "serve", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        stop_pid(proc)
        return None, proc.communicate()[1]


@pytest.mark.parametrize("option", ["--db", "--control", "--observe"])
def test_a_file_in_a_missing_folder_is_refused_and_nothing_is_created(tmp_path: Path, option: str,
                                                                     isolated_network: None) -> None:
    missing = tmp_path / "no" / "such"
    name = "x.sqlite" if option == "--db" else "x.sock"
    others = {"--db": str(tmp_path / "loc.sqlite"), "--control": str(tmp_path / "ctl.sock")}
    others.pop(option, None)
    rc, err = _serve_exit("--listen", f"127.0.0.1:{free_udp_port()}", option, str(missing / name),
                          *[x for pair in others.items() for x in pair])
    assert rc == 1, err
    assert f"{option} {missing / name}: no such folder {missing}" in err and "Traceback" not in err
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(("advertise", "said"), [
    ("bad name!", "--advertise 'bad name!': not a SIP host"),
    ("proxy.example:5080", "without a port"),
    ("[2001:db8::zz]", "no IPv6 address inside the brackets"),
])
def test_advertise_must_be_a_sip_host(tmp_path: Path, advertise: str, said: str, isolated_network: None) -> None:
    rc, err = _serve_exit("--listen", f"127.0.0.1:{free_udp_port()}", "--advertise", advertise,
                          "--db", str(tmp_path / "loc.sqlite"), "--control", str(tmp_path / "ctl.sock"))
    assert rc == 2 and said in err and len(err.strip().splitlines()) == 1, err


def test_only_the_default_places_are_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = SQLiteLocation(tmp_path / "typo" / "loc.sqlite")
    with pytest.raises(OSError, match="no such folder"):
        given.create()
    assert not (tmp_path / "typo").exists()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    default = SQLiteLocation(default_db_path())
    default.create()  # the default folder is made, as before
    default.close()
    assert (tmp_path / "state" / "sipsim" / "location.sqlite").is_file()
    with pytest.raises(OSError, match="no such folder"):
        ControlServer(str(tmp_path / "typo" / "ctl.sock"), lambda cmd: {})
    assert not (tmp_path / "typo").exists()


def test_tui_live_refuses_a_bad_advertise_as_serve_before_textual_starts(capsys: pytest.CaptureFixture[str]) -> None:
    from sipsim.cli import main

    assert main(["tui", "--live", "127.0.0.1:5999", "--advertise", "bad name!"]) == 2
    assert "--advertise 'bad name!': not a SIP host" in capsys.readouterr().err


def test_two_servers_keep_their_own_default_location_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            isolated_network: None) -> None:
    """Two servers started with their defaults (a lab chaining two proxies) do not share bindings:
    each listen address has its own table, which ``sipsim location --listen`` finds; ``--aor``
    takes ``sip:user@domain`` as usrloc does without use_domain. And ``sipsim send`` makes a new
    Call-ID each run, so a second REGISTER from the same --from with Expires 0 is no
    retransmission: it removes the binding."""
    import shutil
    import tempfile

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    run_dir = tempfile.mkdtemp(prefix="sipsim-rt-")  # short: a Unix socket path has at most 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", run_dir)
    try:
        _two_servers(tmp_path)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _two_servers(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sipsim", *args], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    with LiveServer(tmp_path, workers=1, default_paths=True) as a, LiveServer(tmp_path, workers=1,
                                                                              default_paths=True) as b:
        phone = f"127.0.0.1:{free_udp_port()}"
        res = cli("send", "register", "--to", f"127.0.0.1:{a.port}", "--from", phone)
        assert res.returncode == 0 and "SIP/2.0 200 OK" in res.stdout, res.stdout + res.stderr
        assert a.db != b.db and a.db.is_file() and b.db.is_file()
        assert a.db == tmp_path / "state" / "sipsim" / f"location-127.0.0.1-{a.port}.sqlite"
        shown = cli("location", "--listen", f"127.0.0.1:{a.port}", "--aor", f"sip:alice@127.0.0.1:{a.port}")
        assert shown.returncode == 0 and "AOR:: alice" in shown.stdout, shown.stdout
        assert f"Contact:: sip:alice@{phone} " in shown.stdout, shown.stdout
        other = cli("location", "--listen", f"127.0.0.1:{b.port}")
        assert other.returncode == 0 and "(no bindings)" in other.stdout, other.stdout

        res = cli("send", "register", "--to", f"127.0.0.1:{a.port}", "--from", phone, "--set", "Expires=0")
        assert res.returncode == 0 and "SIP/2.0 200 OK" in res.stdout, res.stdout + res.stderr
        gone = cli("location", "--listen", f"127.0.0.1:{a.port}")
        assert "(no bindings)" in gone.stdout, gone.stdout
    missing = cli("location", "--listen", "127.0.0.1:9")
    assert missing.returncode == 1 and "--listen 127.0.0.1:9" in missing.stderr


def test_tui_live_on_a_port_in_use_exits_as_serve_before_textual_starts(capsys: pytest.CaptureFixture[str],
                                                                       isolated_network: None) -> None:
    import socket

    from sipsim.cli import main

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        assert main(["tui", "--live", f"127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert f"--live: cannot listen on udp:127.0.0.1:{port}: the port is already in use" in err, err
    assert main(["tui", "--live", "192.0.2.7:5060"]) == 1  # no address of this machine
    assert "192.0.2.7 is not an address of this machine" in capsys.readouterr().err
