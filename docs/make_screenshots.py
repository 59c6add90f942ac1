#!/usr/bin/env python3
"""Regenerate the README's screenshots: SVGs saved by the TUI itself (``App.save_screenshot``).

    .venv/bin/python docs/make_screenshots.py [--live]

Each shot runs the app headless at a fixed size and the default theme, moves to a moment worth
showing, and saves ``docs/screenshots/NAME.svg``. ``--live`` adds a live-mode shot: it enters a
private network namespace, starts ``sipsim serve`` through the TUI on a free loopback port, sends two
OPTIONS and saves the screen with both real workers held by live-step (the server is stopped by
its PID afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


async def settle(pilot) -> None:  # noqa: ANN001
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def shot(name: str, size: tuple[int, int], setup: Callable[..., Awaitable[None]], **app_args: object) -> None:
    from sipsim.tui.app import SipsimApp

    app = SipsimApp(**app_args)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await setup(app, pilot)
        await settle(pilot)
        app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"docs/screenshots/{name}.svg")


def first(app, match) -> int:  # noqa: ANN001
    pos = app.source.find(match)
    if pos is None:
        raise SystemExit("the moment to show was not found: has the scenario changed?")
    return pos


def invite_maxfwd(app) -> int:  # noqa: ANN001
    """basic-call: W1 decrements the INVITE's Max-Forwards inside default.cfg."""
    from sipsim.engine.events import StepEvent

    return first(app, lambda e: isinstance(e, StepEvent) and e.step == "mf_process_maxfwd_header" and e.msg == 2)


async def routing(app, pilot) -> None:  # noqa: ANN001
    app.goto(invite_maxfwd(app))


async def reordered(app, pilot) -> None:  # noqa: ANN001
    from sipsim.engine.events import KernelEvent

    app.goto(first(app, lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_sent"
                   and e.detail.get("first_line", "").endswith("180 Ringing")))
    await pilot.press("6")


async def overload(app, pilot) -> None:  # noqa: ANN001
    from sipsim.engine.events import KernelEvent

    app.goto(first(app, lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_dropped") + 40)


async def help_screen(app, pilot) -> None:  # noqa: ANN001
    app.goto(invite_maxfwd(app))
    await pilot.press("3", "f1")


async def inject(app, pilot) -> None:  # noqa: ANN001
    from textual.widgets import TextArea

    app.goto(8)
    await pilot.press("i")
    await settle(pilot)
    app.screen.query_one(TextArea).cursor_blink = False


async def live(app, pilot) -> None:  # noqa: ANN001
    from textual.widgets import Input

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await pilot.press("L")
    await pilot.pause()
    app.screen.query_one(Input).value = f"127.0.0.1:{port} 3"
    await pilot.press("enter")
    deadline = time.monotonic() + 10
    while not (app.source.live and len(app.source.pids) == 3):
        if time.monotonic() > deadline:
            raise SystemExit("live mode did not start")
        await pilot.pause(0.05)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.bind(("127.0.0.2", 5070))
        for cid in ("alice-1", "alice-1"):  # the second: alice retransmits, nobody has answered
            msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-{cid}\r\n"
                   f"From: <sip:alice@127.0.0.2>;tag={cid}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: {cid}\r\n"
                   "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            c.sendto(msg.encode(), ("127.0.0.1", port))
            await pilot.pause(0.3)
        deadline = time.monotonic() + 5
        while len(app.source.waiting) < 2 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.press("n")
        await pilot.pause(0.3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--live", action="store_true", help="also the live-mode shot (private network namespace)")
    args = ap.parse_args()
    if args.live:
        from sipsim.sandbox import enter_private_netns

        if not enter_private_netns():
            raise SystemExit("--live needs a private network namespace (unshare)")
    OUT.mkdir(parents=True, exist_ok=True)
    shots = [
        ("main-160x45", (160, 45), routing, {}),
        ("main-80x24", (80, 24), routing, {}),
        ("reorder-ladder", (160, 45), reordered, {"scenario": "reorder"}),
        ("overload-socket", (160, 45), overload, {"scenario": "overload"}),
        ("help-pipeline", (120, 36), help_screen, {}),
        ("inject-dialog", (120, 36), inject, {}),
    ]
    if args.live:
        shots.append(("live-step", (160, 45), live, {}))
    for name, size, setup, kw in shots:
        asyncio.run(shot(name, size, setup, **kw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
