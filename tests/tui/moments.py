"""Naming moments of a scenario by what happens there, and reading what is really on screen.

Tests used to go to fixed step numbers (``goto 58``); an edit of the routing script (a call more
or less) moved every later step and silently changed what they looked at. ``position`` finds the
moment instead. ``screen_text`` is the terminal's characters after clipping and scrolling: what a
learner can read, not what a panel would draw if it had the room.
"""

from __future__ import annotations

from sipsim.engine.events import StepEvent
from sipsim.engine.scenario import Scenario, load_scenario


def position(match, scenario: Scenario | str = "basic-call") -> int:  # noqa: ANN001
    """The first position where ``match(event)`` holds in a fresh simulation of ``scenario``."""
    from sipsim.tui.sources import SimSource

    src = SimSource(scenario if isinstance(scenario, Scenario) else load_scenario(scenario))
    pos = src.find(match)
    assert pos is not None, "that never happens in the scenario"
    return pos


def invite_maxfwd(ev) -> bool:  # noqa: ANN001
    """basic-call: W1 decrements Max-Forwards of alice's INVITE inside default.cfg."""
    return isinstance(ev, StepEvent) and ev.step == "mf_process_maxfwd_header" and ev.msg == 2


def screen_text(app) -> str:  # noqa: ANN001
    """The characters on the terminal now, line by line (Textual is pinned: its compositor's
    strips are a stable way to read them)."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())
