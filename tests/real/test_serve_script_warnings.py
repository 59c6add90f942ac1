"""sipsim serve says at start-up what `sipsim check` says about a script."""

from __future__ import annotations

from pathlib import Path

from live_harness import LiveServer


def test_serve_logs_the_scripts_warnings_at_start_up(tmp_path: Path, isolated_network) -> None:
    """A script's warnings (what ``sipsim check`` prints: a block that never runs in sipsim ...) are
    logged by ``sipsim serve`` too: the lab user who starts a server with it must not miss them."""
    cfg = tmp_path / "r.cfg"
    cfg.write_text('loadmodule "sl.so"\nrequest_route {\n\tsl_send_reply("200", "OK");\n}\n'
                   "failure_route[MISSED] {\n\tdrop;\n}\n")
    with LiveServer(tmp_path, workers=1, args=["--route", str(cfg)]) as srv:
        text = srv.log_text()
    assert any(" WARNING " in line and "failure_route" in line and "never runs in sipsim" in line
               for line in text.splitlines()), text
