"""Live mode without an observer (``ctx.tracing`` False) takes the interpreter's quiet paths.

With nobody watching, the interpreter skips its narration and evaluates expressions without a
function call by plain calls (``fix_actions``/``eval_pure``). None of that may change what the
server does: the same datagrams go out, to the same places, with the same outcome per message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import SCRIPTS, load_route

CFGS = Path(__file__).parent / "cfgs"
CASES = {
    "default.cfg": (SCRIPTS / "default.cfg", crafted.dialog_messages),
    "control.cfg": (CFGS / "control.cfg", crafted.control_messages),
    "headers.cfg": (CFGS / "headers.cfg", crafted.header_messages),
}


def _run(path: Path, config: ServerConfig, messages: list, tracing: bool) -> list:
    router = load_route(path, config)
    driver = MemoryDriver(router.config, router=router)
    driver.ctx.tracing = tracing
    out = []
    for name, data, src in messages:
        result = driver.feed(data, src)
        if not tracing:
            assert not [ev.step for ev in result.events if ev.step.startswith("route:") and ev.step != "route:error"]
        outcomes = [(ev.step, ev.outcome, ev.reason) for ev in result.events if ev.outcome is not None]
        out.append((name, outcomes, [(s.kind, s.to, s.data) for s in result.sent]))
    return out


@pytest.mark.parametrize("profile", [Profile.SER, Profile.KAMAILIO])
@pytest.mark.parametrize("script", sorted(CASES))
def test_quiet_run_sends_and_decides_as_the_traced_run(script: str, profile: Profile) -> None:
    path, messages = CASES[script]
    config = ServerConfig(profile=profile, aliases=("example.org",))
    traced = _run(path, config, messages(), tracing=True)
    quiet = _run(path, config, messages(), tracing=False)
    assert any(sent for _, _, sent in traced)
    assert quiet == traced


@pytest.mark.parametrize("tracing", [True, False])
def test_a_tree_fix_actions_never_saw_runs_the_same(tracing: bool, tmp_path: Path, monkeypatch) -> None:
    """``pure`` is only a shortcut: an expression tree nobody stamped (another loader, a test
    building a Script by hand) is evaluated the general way, with the same result."""
    config = ServerConfig(profile=Profile.SER, aliases=("example.org",))
    stamped = _run(SCRIPTS / "default.cfg", config, crafted.dialog_messages(), tracing)
    copy = tmp_path / "default.cfg"  # another file: not the parse cache's stamped tree
    copy.write_bytes((SCRIPTS / "default.cfg").read_bytes())
    monkeypatch.setattr("sipsim.routing.router.fix_actions", lambda script: None)
    assert _run(copy, config, crafted.dialog_messages(), tracing) == stamped
