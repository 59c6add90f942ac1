"""The footer: the keys that do something now, on one line.

Textual's own ``Footer`` rebuilds a widget per key each time the bindings change — on every focus
change — which costs a few hundred milliseconds on this screen. This bar draws the same thing as
one line of text: the bindings of the focused panel and of the app that are shown and enabled
(``check_action`` hides the others: no ``b`` at step 0; the app's ``key_shown`` hides keys worth
their room only in some states: ``}/{`` while no call is chosen), then ``^p palette``. A key whose
meaning depends on the state says what it does now (the app's ``key_label``: ``p pause`` while running).
On a narrow terminal the keys that do not fit are left out whole (`?` lists them all), never cut in
the middle; ``quit`` always stays. A click on a key runs its action.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar { height: 1; dock: bottom; background: $footer-background; }
    """

    def __init__(self) -> None:
        super().__init__(id="keybar")
        self.actions: list[str] = []  # what the bar offers now, in order (tests read it)
        self._spans: list[tuple[int, int, str, object]] = []
        self._text = Text()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)
        self._changed(self.screen)

    def _changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        entries: list[tuple[Text, str, object]] = []
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        label_of = getattr(self.app, "key_label", None)
        wanted = getattr(self.app, "key_shown", None)  # keys worth their room only in some states
        shown = [(key, a) for key, a in screen.active_bindings.items()
                 if a.binding.show and a.enabled and key != palette
                 and (wanted is None or wanted(a.binding.action.removeprefix("app.")))]
        shown.sort(key=lambda item: _is_quit(item[1].binding.action))  # quit last: it is not for stepping
        for _key, active in shown:
            binding = active.binding
            if binding.action in seen:
                continue
            seen.add(binding.action)
            action = binding.action.removeprefix("app.")
            words = (label_of(action) if label_of is not None else None) or binding.description
            entry = Text(f"{self.app.get_key_display(binding)}", style="bold reverse")
            entry.append(f" {words}  ")
            entries.append((entry, binding.action, active.node))
        # whole entries only, in order, while they fit; quit always stays (beside the palette)
        tail = Text(" ^p palette ", style="dim")
        last = entries.pop() if entries and _is_quit(entries[-1][1]) else None
        room = max(0, self.size.width - len(tail) - (len(last[0]) if last else 0))
        text = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str, object]] = []
        actions: list[str] = []
        for entry, action, node in [*entries, *([last] if last else [])]:
            if not _is_quit(action) and len(text) + len(entry) > room:
                room = 0  # what follows would be out of order: stop here
                continue
            start = len(text)
            text.append_text(entry)
            spans.append((start, len(text), action, node))
            actions.append(action.removeprefix("app."))
        text.truncate(max(0, self.size.width - len(tail)))
        text.append(" " * max(0, self.size.width - len(tail) - len(text)))
        text.append_text(tail)
        self._text, self._spans, self.actions = text, spans, actions
        self.refresh()

    def on_resize(self) -> None:
        self._changed(self.screen)

    def render(self) -> Text:
        return self._text

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._spans:
            if start <= event.x < end:
                await self.app.run_action(action, node)  # type: ignore[arg-type]
                return


def _is_quit(action: str) -> bool:
    """quit, bound by the app (``quit``) or by a screen on the app's behalf (``app.quit``)."""
    return action.removeprefix("app.") == "quit"
