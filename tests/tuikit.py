"""Helpers for the TUI tests: reading what a panel shows, a fake lesson, a stable screen dump."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipsim.engine.events import KernelEvent
from sipsim.engine.scenario import load_scenario
from sipsim.lessons.api import CheckResult, Narration, Question


def panel_text(app, cls) -> str:  # noqa: ANN001
    """The plain text a panel paints now (what a learner reads in it)."""
    panel = app.main.panel(cls)
    assert panel is not None, f"no {cls.__name__} on this screen"
    return panel.plain()


def screen_svg(app) -> str:  # noqa: ANN001
    """The whole screen as an SVG, without the random id Rich puts in it."""
    return re.sub(r"terminal-\d+-", "terminal-", app.export_screenshot())


async def settle(pilot) -> None:  # noqa: ANN001
    """Let background work (Scapy's import for the layers panel) finish and the screen repaint."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def save_with_s(pilot, path) -> None:  # noqa: ANN001
    """Press ``s`` (save a pcap), type ``path`` into the dialog and confirm, as a learner does."""
    from textual.widgets import Input

    await pilot.press("s")
    await pilot.pause()
    pilot.app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)


def footer_actions(app) -> set[str]:  # noqa: ANN001
    """The actions whose keys the footer offers now."""
    return set(app.main.query_one("#keybar").actions)


@dataclass
class FakeLesson:
    """A lesson that reads the simulation: which worker takes the first datagram?"""

    number: int = 1
    title: str = "Sleeping in recvfrom"
    scenario: object = field(default_factory=lambda: load_scenario("basic-call"))
    answered: dict[str, str] = field(default_factory=dict)
    attached: int = 0
    free_text: bool = False  # ask without choices (the pane shows an input)

    def attach(self, sim) -> None:  # noqa: ANN001
        self.sim = sim
        self.attached += 1
        sim.run()
        self.woken = next(i + 1 for i, ev in enumerate(sim.events)
                          if isinstance(ev, KernelEvent) and ev.kind == "worker_woken")
        self.taker = sim.events[self.woken - 1].worker
        self.queued = self.woken - 2  # the datagram_queued just before the wake-up
        sim.goto(0)

    def stops(self) -> list[int]:
        return [self.queued]

    def narration(self, position: int) -> Narration | None:
        if position < self.queued:
            return Narration(0, "Workers go to sleep", "Each worker calls **recvfrom** and sleeps.",
                             "src/core/udp_server.c: udp_rcv_loop()")
        return Narration(self.queued, "A datagram arrives", "The kernel must wake one sleeper.",
                         "src/core/udp_server.c: udp_rcv_loop()")

    def question(self, position: int) -> Question | None:
        if position >= self.queued and "who" not in self.answered:
            choices = () if self.free_text else tuple(f"W{i}" for i in range(4))
            return Question("who", self.queued, "Which worker will the kernel wake?", choices, reveal=self.woken)
        return None

    def answer(self, question_id: str, answer: str) -> CheckResult:
        self.answered[question_id] = answer
        right = f"W{self.taker}"
        return CheckResult(question_id, answer.strip().upper() == right,
                           f"the kernel woke {right}, first in the wait-queue", right)

    def checks(self) -> list[CheckResult]:
        return [self.answer("who", self.answered.get("who", ""))]

    def hint(self, position: int) -> str:
        return "look at the wait-queue line of the workers panel: the first one wakes"
