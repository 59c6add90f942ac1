"""Text that comes from the user or the wire is shown as typed, never read as markup.

A goto typed as ``[bold``, a log filter ``[/]``, a pcap path with brackets, a datagram whose status
line says ``[/]``: each used to go through Textual's markup parser — a style swallowed, or a
MarkupError and a traceback instead of the screen. And what the workers panel says when a worker
goes to sleep for the first time (it has nothing to rejoin).
"""

from __future__ import annotations

from pathlib import Path

from moments import position
from textual.widgets import Input, TextArea
from tuikit import panel_text, settle

from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LogPanel, PipelinePanel, WorkersPanel

SIZE = (120, 36)


async def submit(pilot, key: str, value: str) -> None:  # noqa: ANN001
    await pilot.press(key)
    await pilot.pause()
    pilot.app.screen.query_one(Input).value = value
    await pilot.press("enter")
    await settle(pilot)


async def test_brackets_typed_or_received_are_shown_as_they_are(tmp_path: Path) -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await submit(pilot, "g", "[bold")  # not a step: the hint says why, with the text as typed
        assert "not a step number: '[bold'" in str(app.screen.query_one("#goto-hint").render())
        await pilot.press("escape")
        await pilot.press("L")  # the live prompt's hint names its optional field in brackets
        await pilot.pause()
        assert "IP:PORT [workers]" in str(app.screen.query_one("#live-hint").render())
        await pilot.press("escape")
        await pilot.press("7")
        await submit(pilot, "slash", "[/]")
        assert "filter: [/]" in app.main.panel(LogPanel).border_title.replace("\\[", "[")
        assert "no event matches" in panel_text(app, LogPanel)
        bad = tmp_path / "[/]" / "x.pcap"  # a directory that does not exist: the error names the path
        await submit(pilot, "s", str(bad))
        assert any(f"cannot save {bad}" in n.message for n in app._notifications)
        # a reply whose reason phrase is "[/]" reaches a worker: the pipeline's title carries it
        await pilot.press("i")
        await pilot.pause()
        reply = ("SIP/2.0 200 [/]\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-x\nVia: SIP/2.0/UDP 192.0.2.99:5060"
                 ";branch=z9hG4bK-y\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: brackets\n"
                 "CSeq: 1 OPTIONS\nContent-Length: 0\n\n")
        app.screen.query_one(TextArea).load_text(reply)
        await pilot.press("ctrl+s")
        await settle(pilot)
        src = app.source
        queued = src.find(lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_queued"
                          and bool(e.detail.get("injected")))
        mid = src.event_at(queued).msg
        app.goto(src.find(lambda e: isinstance(e, StepEvent) and e.step == "recvfrom" and e.msg == mid))
        await settle(pilot)
        assert "200 [/]" in app.main.panel(PipelinePanel).border_title.replace("\\[", "[")
        assert "▶ recvfrom" in panel_text(app, PipelinePanel)


async def test_a_first_sleep_is_not_a_return_to_the_queue() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        last_first_sleep = position(lambda e: isinstance(e, KernelEvent) and e.kind == "worker_sleeps"
                                    and len(e.detail.get("wait_queue", ())) == 4)
        app.goto(last_first_sleep)
        await settle(pilot)
        workers = panel_text(app, WorkersPanel)
        who = app.source.event_at(last_first_sleep).worker
        assert f"z W{who} sleeps in recvfrom for the first time" in workers
        assert "done" not in workers and "rejoins" not in workers  # it has handled nothing yet
