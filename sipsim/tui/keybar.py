"""The footer: the keys that do something now, on one line.

Textual's own ``Footer`` rebuilds a widget per key each time the bindings change — on every focus
change — which costs a few hundred milliseconds on this screen. This bar draws the same thing as
one line of text: the bindings of the focused panel and of the app that are shown and enabled
(``check_action`` hides the others: no ``b`` at step 0), then ``^p palette``. A click on a key runs
its action.
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
        text = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str, object]] = []
        actions: list[str] = []
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        shown = [(key, a) for key, a in screen.active_bindings.items()
                 if a.binding.show and a.enabled and key != palette]
        shown.sort(key=lambda item: item[1].binding.action == "quit")  # quit last: it is not for stepping
        for _key, active in shown:
            binding = active.binding
            if binding.action in seen:
                continue
            seen.add(binding.action)
            start = len(text)
            text.append(f"{self.app.get_key_display(binding)}", style="bold reverse")
            text.append(f" {binding.description}  ")
            spans.append((start, len(text), binding.action, active.node))
            actions.append(binding.action.removeprefix("app."))
        tail = Text(" ^p palette ", style="dim")
        room = max(0, self.size.width - len(tail))
        if len(text) > room:
            text.truncate(room)
        text.append(" " * max(0, room - len(text)))
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
