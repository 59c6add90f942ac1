"""Snapshot tests (pytest-textual-snapshot, pinned Textual, fixed size and theme, no clock on screen).

Update after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and
look at the report before committing the new SVGs.
"""

from __future__ import annotations

from moments import invite_maxfwd, position
from textual.widgets import TextArea
from tuikit import settle

from sipsim.tui.app import SipsimApp

STEP = position(invite_maxfwd)  # basic-call: W1 decrements Max-Forwards of the INVITE inside default.cfg


def main_at(step: int):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        pilot.app.goto(step)
        await settle(pilot)
    return run_before


def test_main_screen_80x24(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(SipsimApp(), terminal_size=(80, 24), run_before=main_at(STEP))


def test_main_screen_160x45(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(SipsimApp(), terminal_size=(160, 45), run_before=main_at(STEP))


def test_inject_dialog(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        pilot.app.goto(8)
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        pilot.app.screen.query_one(TextArea).cursor_blink = False
        await pilot.pause()
    assert snap_compare(SipsimApp(), terminal_size=(120, 36), run_before=run_before)


def test_help_screen(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        pilot.app.goto(STEP)
        await settle(pilot)
        await pilot.press("3", "f1")
        await settle(pilot)
    assert snap_compare(SipsimApp(), terminal_size=(120, 36), run_before=run_before)
