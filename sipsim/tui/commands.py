"""The command palette (``ctrl+p``): scenario, profile, policy, workers, theme, live mode.

Every command changes the *simulation* the screen shows (a new run of the chosen scenario with the
overrides; the cursor keeps its step, so a change can be compared at the same point); the theme
changes the look. In live mode the simulation commands apply when you come back to it (``L``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

WORKER_CHOICES = (1, 2, 3, 4, 6, 8, 16)


def palette_commands(app) -> list[tuple[str, str, Callable[[], object]]]:  # noqa: ANN001
    """(name, help, callback) for every command, in the order the palette lists them."""
    from sipsim.engine.kernel_queue import POLICIES
    from sipsim.engine.scenario import list_scenarios

    out: list[tuple[str, str, Callable[[], object]]] = []
    for name, desc in list_scenarios():
        out.append((f"scenario: {name}", desc, partial(app.switch_scenario, name)))
    for profile, desc in (("ser", "the seed document's receive path: buf and orig, changes made to buf"),
                          ("kamailio", "Kamailio 5.6: buf never written, lumps, From/To/Call-ID/CSeq parsed first")):
        out.append((f"profile: {profile}", desc, partial(app.override, profile=profile)))
    for policy in POLICIES:
        out.append((f"policy: {policy}", f"the kernel wakes sleepers with the {policy} policy",
                    partial(app.override, policy=policy)))
    for n in WORKER_CHOICES:
        out.append((f"workers: {n}", f"{n} worker process{'es' if n > 1 else ''} in recvfrom",
                    partial(app.override, workers=n)))
    for theme in sorted(app.available_themes):
        out.append((f"theme: {theme}", "change the colours", partial(setattr, app, "theme", theme)))
    out.append(("live mode: on/off", "run sipsim serve on a real port and watch its workers (same as L)",
                app.action_live))
    return out


class SipsimCommands(Provider):
    """Scenario, profile, policy, workers, theme — fuzzy-matched like Textual's own commands."""

    async def discover(self) -> Hits:
        for name, help_text, callback in palette_commands(self.app):
            if not name.startswith("theme:"):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in palette_commands(self.app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
