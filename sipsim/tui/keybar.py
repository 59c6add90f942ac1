"""The footer: the keys that do something now, on one line.

Textual's own ``Footer`` rebuilds a widget per key each time the bindings change — on every focus
change — which costs a few hundred milliseconds on this screen. This bar draws the same thing as
one line of text: the bindings of the focused panel and of the app that are shown and enabled
(``check_action`` hides the others: no ``b`` at step 0; the app's ``key_shown`` hides keys worth
their room only in some states: ``}/{`` while no call is chosen), then ``^p palette``. A key whose
meaning depends on the state says what it does now (the app's ``key_label``: ``p pause`` while running).

When every key fits with two spaces between keys (160 columns; 120 while no panel has the focus),
the bar shows them all, the focused panel's first. When they do not, the bar goes compact: one space
between keys, each ``key words`` a reversed block of its own, a panel's long words
shortened (``⏎ jump`` for ``⏎ go there``), and if that is still too long, keys leave **by rank**,
the least needed first (:data:`RANK`), whole, never cut in the middle. On 100 columns ``?``,
``n``, ``b``, ``p``, the tools ``g x X i s f`` and the focused panel's ``enter`` stay, while ``L``,
``[``, a panel's second keys and then ``]`` give way (``?`` lists them all). ``quit`` always
stays, last, beside the palette. A click on a key runs its action.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

# How long a key keeps its place on a narrow bar: 0 is never left out, the highest goes first (and
# of one rank, the one further right). The app's keys (also when a panel binds one for the app, as
# the pipeline's x) rank as listed, APP_OTHER if not; a screen's own keys (a dialog's escape,
# f restore) SCREEN; the focused panel's first key PANEL_FIRST, its others PANEL_OTHER — the first
# is what the panel is for (enter jumps, pins, answers), the others are in its F1 help. The tools
# g x X i s f outrank ] and [: n and b step as well, and a class is shown the tools.
RANK = {
    "quit": 0, "help": 0,
    "step": 1, "back": 1, "run": 1, "hint": 1,
    "goto": 2, "breakpoint": 2, "cond_break": 2, "inject": 2, "save_pcap": 2, "maximize": 2,
    "next_in_call": 3,  # (only while a call is chosen on purpose)
    "next_msg": 4,
    "prev_msg": 5,
    "live": 6,  # (the palette has it too)
}
APP_OTHER = 5
SCREEN = 0
PANEL_FIRST = 1
PANEL_OTHER = 5
# the compact bar's words for a panel key whose own are long (the app's keys keep theirs: a key
# means what its words say, in the F1 help too)
SHORT_WORDS = {"go there": "jump", "its steps": "steps"}
WIDE_GAP, NARROW_GAP = "  ", " "
WIDE_TAIL, NARROW_TAIL = " ^p palette ", " ^p palette"


@dataclass
class _Key:
    """One key on the bar: what it shows (``key words``), what a click runs, and its rank."""

    key: str
    words: str
    action: str
    node: object
    rank: int

    def label(self, compact: bool) -> Text:
        """``key words``, reversed. Wide, the two spaces after it are part of the block (the bar
        reads as one strip of keys); compact, the single space between two blocks is not, so
        that each key stands apart."""
        if compact:
            return Text(f"{self.key} {SHORT_WORDS.get(self.words, self.words)}", style="bold reverse")
        return Text(f"{self.key} {self.words}{WIDE_GAP}", style="bold reverse")


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

    def _keys(self, screen: Screen) -> list[_Key]:
        """The keys to offer now, in order (the focused panel's first, quit last), with their ranks."""
        keys: list[_Key] = []
        seen: set[str] = set()
        app = self.app
        palette = app.COMMAND_PALETTE_BINDING
        label_of = getattr(app, "key_label", None)
        wanted = getattr(app, "key_shown", None)  # keys worth their room only in some states
        shown = [(key, a) for key, a in screen.active_bindings.items()
                 if a.binding.show and a.enabled and key != palette
                 and (wanted is None or wanted(a.binding.action.removeprefix("app.")))]
        shown.sort(key=lambda item: _is_quit(item[1].binding.action))  # quit last: it is not for stepping
        first_of_widget = True
        for _key, active in shown:
            binding = active.binding
            if binding.action in seen:
                continue
            seen.add(binding.action)
            action = binding.action.removeprefix("app.")
            words = (label_of(action) if label_of is not None else None) or binding.description
            node = active.node
            if _is_quit(binding.action):
                rank = 0
            elif isinstance(node, App) or binding.action.startswith("app."):
                rank = RANK.get(action.split("(")[0], APP_OTHER)
            elif isinstance(node, Screen):
                rank = SCREEN
            else:
                rank, first_of_widget = (PANEL_FIRST if first_of_widget else PANEL_OTHER), False
            keys.append(_Key(app.get_key_display(binding), words, binding.action, node, rank))
        return keys

    def _changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys = self._keys(screen)
        width = self.size.width
        compact = _length(keys, False) > max(0, width - len(WIDE_TAIL))
        tail = NARROW_TAIL if compact else WIDE_TAIL
        room = max(0, width - len(tail))
        if compact:
            keys = _fit(keys, room)
        text = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str, object]] = []
        for k in keys:
            start = len(text)
            text.append_text(k.label(compact))
            spans.append((start, len(text), k.action, k.node))
            if compact:
                text.append(NARROW_GAP)
        text.truncate(room)  # (only a bar too narrow for quit itself cuts anything)
        text.append(" " * max(0, room - len(text)))
        text.append_text(Text(tail, style="dim"))
        self._text, self._spans = text, spans
        self.actions = [k.action.removeprefix("app.") for k in keys]
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


def _length(keys: list[_Key], compact: bool) -> int:
    """Cells the keys take: wide, each with its gap; compact, with one space between two (the
    tail starts with a space)."""
    if not compact:
        return sum(len(k.label(False)) for k in keys)
    return sum(len(k.label(True)) + len(NARROW_GAP) for k in keys) - (len(NARROW_GAP) if keys else 0)


def _fit(keys: list[_Key], room: int) -> list[_Key]:
    """The keys that fit ``room``: the highest rank leaves first, of one rank the rightmost. Rank 0
    stays (quit, help, a dialog's escape); on a bar too narrow even for those, the end is cut."""
    kept = list(keys)
    while _length(kept, True) > room:
        droppable = [i for i, k in enumerate(kept) if k.rank > 0]
        if not droppable:
            break
        worst = max(droppable, key=lambda i: (kept[i].rank, i))
        del kept[worst]
    return kept


def _is_quit(action: str) -> bool:
    """quit, bound by the app (``quit``) or by a screen on the app's behalf (``app.quit``)."""
    return action.removeprefix("app.") == "quit"
