"""Addresses and aliases refused at the command line, in one clear answer, before anything starts.

``sipsim tui --live ADDR`` used to open the TUI and only then show that the server it started had
exited ("bad listen address"); now it refuses ADDR as ``sipsim serve`` refuses a bad --listen.
``sipsim check`` refuses a script's ``alias=`` that ``kamailio -c`` refuses, at its line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_udp_port, need_tool

SIPSIM = [sys.executable, "-m", "sipsim"]


def _tui_without_textual(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``sipsim tui`` with a ``textual`` package that cannot be imported first on the path: a
    command line refused before the TUI starts never meets it; one that gets further says
    "the TUI needs Textual". A timeout guards against a TUI that starts anyway."""
    poison = tmp_path / "poison" / "textual"
    poison.mkdir(parents=True, exist_ok=True)
    (poison / "__init__.py").write_text('raise ImportError("poisoned by the test: Textual must not start")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(poison.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*SIPSIM, "tui", *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, env=env)


@pytest.mark.parametrize(("addr", "why"), [
    ("1.2.3", "bad listen address '1.2.3': give an IPv4 or IPv6 address (names are not resolved)"),
    ("pbx.example:5060", "bad listen address 'pbx.example'"),
    ("[fe80::1]:5060", "cannot listen on [fe80::1]:5060: a link-local address needs a scope, the interface it "
                       "is on: --live '[fe80::1%"),
    ("[::1%lo]:5060", "a scope (%lo) belongs only to a link-local address (fe80::/10); leave it out"),
    ("[fe80::1%nosuch0]:5060", "this machine has no interface 'nosuch0'"),
    ("127.0.0.1:70000", "the port must be 1 to 65535"),
    ("0.0.0.0:5060", "receives on every address of this machine, but the server must name one in its own Via: "
                     "add --advertise ADDRESS"),
    ("[::]:5060", "add --advertise ADDRESS"),
])
def test_tui_live_refuses_a_bad_address_before_textual_starts(tmp_path: Path, addr: str, why: str) -> None:
    out = _tui_without_textual(tmp_path, "--live", addr)
    assert (out.returncode, out.stdout) == (2, ""), out.stderr
    assert out.stderr.startswith("sipsim: --live: ") and why in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1 and "Textual" not in out.stderr, out.stderr


def test_tui_live_takes_a_good_address_to_the_tui(tmp_path: Path, isolated_network: None) -> None:
    """The control: a good address gets as far as importing Textual — so the refusals above really
    happen before it. A well-formed scoped link-local address that this machine does not have is
    refused there too, as serve refuses it (the port is tried before the TUI starts)."""
    out = _tui_without_textual(tmp_path, "--live", f"127.0.0.1:{free_udp_port()}")
    assert out.returncode == 1 and "the TUI needs Textual: poisoned by the test" in out.stderr, out.stderr
    out = _tui_without_textual(tmp_path, "--live", "[fe80::1%lo]:5060")
    assert out.returncode == 1 and "fe80::1 is not an address of this machine on lo" in out.stderr, out.stderr
    assert "Textual" not in out.stderr
    out = _tui_without_textual(tmp_path, "--live", f"0.0.0.0:{free_udp_port()}", "--advertise", "127.0.0.1")
    assert out.returncode == 1 and "the TUI needs Textual: poisoned by the test" in out.stderr, out.stderr


def test_tui_refuses_a_scenarios_bad_alias_before_textual_starts(tmp_path: Path) -> None:
    sc = tmp_path / "s.toml"
    sc.write_text('[proxy]\naliases = ["sipsim.test", "[2001:db8::1]x"]\n')
    out = _tui_without_textual(tmp_path, str(sc))
    assert out.returncode == 2, out.stderr
    assert out.stderr == "sipsim: proxy.aliases: bad alias '[2001:db8::1]x': after ']' only ':port' may follow\n"


GOOD = ["sip.example", "sip.example:5070", "[2001:db8::1]:5070", "udp:sip.example:5070", "tcp:[2001:db8::1]:5070",
        "2001:db8::1", "192.0.2.7:5062", '"sip.example"']
BAD = ["sip.example:abc", "sip.example:", ":5060", "[2001:db8::1", "udp:[2001:db8::1"]


def _check(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SIPSIM, "check", str(path), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("alias", GOOD + BAD)
def test_check_takes_and_refuses_aliases_as_kamailio_c_does(tmp_path: Path, alias: str) -> None:
    """Each alias= value through ``kamailio -c`` (Kamailio 5.6's own grammar) and ``sipsim check``:
    both accept it or both refuse it; sipsim's refusal names the file, line and column."""
    kamailio = need_tool("kamailio")
    cfg = tmp_path / "alias.cfg"
    cfg.write_text(f"# the proxy's names\nalias=proxy.example\nalias={alias}\nrequest_route {{\n\tdrop;\n}}\n")
    theirs = subprocess.run([kamailio, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30,
                            stdin=subprocess.DEVNULL)
    ours = _check(cfg, "--profile", "kamailio")
    assert (ours.returncode == 0) == (theirs.returncode == 0) == (alias in GOOD), (ours.stderr, theirs.stderr)
    if alias in BAD:
        first, src, caret = ours.stderr.splitlines()
        assert first.startswith(f"sipsim: {cfg}:3:7: bad alias {alias!r}: "), first
        assert "(expected alias=host, host:port or [v6]:port" in first
        assert src.endswith(f"3 | alias={alias}") and caret.endswith("|       ^")
    else:
        assert "ok" in ours.stdout and not ours.stderr


def test_check_finds_a_bad_alias_in_an_included_file_and_warns_of_a_quoted_one(tmp_path: Path) -> None:
    """The place is the included file's; a quoted value is one name to Kamailio (never refused),
    so one sipsim cannot read is a warning: it names no URI host."""
    inc = tmp_path / "names.cfg"
    main = tmp_path / "main.cfg"
    main.write_text('#!ifdef SIPSIM_SER\nalias=ser.example\n#!endif\ninclude_file "names.cfg"\n'
                    "request_route {\n\tdrop;\n}\n")
    inc.write_text("\n  alias = voip.example:x5060\n")
    out = _check(main)
    assert out.returncode == 1 and out.stderr.startswith(f"sipsim: {inc}:2:11: bad alias 'voip.example:x5060'")
    inc.write_text('alias="voip.example:x5060"\n')
    out = _check(main)
    assert out.returncode == 0, out.stderr
    assert out.stderr == (f'warning: {inc}:1: alias "voip.example:x5060" names nothing: Kamailio reads a quoted '
                          "alias as one name, and sipsim cannot read it as host[:port]\n")
