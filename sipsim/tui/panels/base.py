"""What every panel shares: a number key, a title, an F1 help text, and windowed drawing.

A panel draws one :class:`~sipsim.tui.view.View`. It builds its lines (Rich ``Text``) and shows the
window of them that fits, scrolled so that the line that matters now (the current step, the
current event) is in sight; ``up``/``down``/``pgup``/``pgdn`` move the window until the cursor
moves again. Only the visible lines are drawn, so a panel costs the same at step 5 and at step
50,000.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from sipsim.tui.view import View


class PanelInfo:
    """What the app knows of every panel: its number key, title and F1 help."""

    NUMBER: ClassVar[int] = 0
    TITLE: ClassVar[str] = ""
    HELP: ClassVar[str] = ""  # Markdown: what it shows, its keys, the Kamailio source it models

    @classmethod
    def panel_id(cls) -> str:
        return cls.TITLE.lower().split()[0]


class Panel(PanelInfo, Widget, can_focus=True):
    """A focusable panel that renders :meth:`lines` for the current view."""

    ALLOW_MAXIMIZE = True
    SELF_WINDOWED: ClassVar[bool] = False  # lines() returns exactly the visible window
    AUTO_HEIGHT: ClassVar[bool] = False  # as tall as its lines (CSS height: auto)
    FIXED_TOP: ClassVar[int] = 0  # lines that stay at the top while the rest scrolls (a title, tabs)
    BINDINGS: ClassVar = [
        Binding("up", "scroll_lines(-1)", "Scroll", show=False),
        Binding("down", "scroll_lines(1)", "Scroll", show=False),
        Binding("pageup", "scroll_lines(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(10)", "Page down", show=False),
    ]

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(id=self.panel_id())
        self.ui = ui if ui is not None else {}  # UI choices kept by the app (a new layout keeps them)
        self.view: View | None = None
        self.scroll_top = 0  # first visible line
        self._auto_lines = -1
        self._auto_total = 0  # lines the last window was cut from (AUTO_HEIGHT: the height it asks for)
        self._lines: list[Text] | None = None  # the window painted last
        self._strips: dict[tuple[Any, ...], Strip] = {}
        self.manual_scroll = False
        self.set_title()

    def set_title(self, extra: str = "") -> None:
        """``3 Pipeline — extra``: plain text (a filter or a datagram's first line is never markup)."""
        self.border_title = Content(f"{self.NUMBER} {self.TITLE}" + (f" — {extra}" if extra else ""))

    def show(self, view: View) -> None:
        """Draw ``view`` (the cursor moved: the window follows the current line again)."""
        self.view = view
        self.manual_scroll = False
        self.after_show(view)
        self.redraw_panel()

    def redraw_panel(self) -> None:
        """Recompute the visible window; repaint only if it changed (most panels do not change
        at most steps, and painting is what costs)."""
        lines = self._window()
        if self.AUTO_HEIGHT and self._auto_total != self._auto_lines:
            self._auto_lines = self._auto_total
            self._lines = lines
            self.refresh(layout=True)
            return
        old = self._lines
        if lines == old:
            return
        self._lines = lines
        if old is not None and len(old) == len(lines):
            # repaint only the lines that changed (the pipeline moves its ▶, the workers one state)
            width = self.size.width
            self.refresh(*[Region(0, y, width, 1) for y, (a, b) in enumerate(zip(old, lines, strict=True))
                           if a != b])
        else:
            self.refresh()

    def on_resize(self) -> None:
        self._lines = None
        self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.view is None:
            return 1
        n = max(1, len(self.lines(max(10, width))[0]))
        if self.AUTO_HEIGHT:
            # the height the layout really used: redraw_panel asks for a new layout when the lines
            # differ from *this*, not from what it asked for last (asked before the first layout,
            # at no width, or for a view older than the one laid out, the panel stayed a line
            # short and scrolled a worker out of sight)
            self._auto_lines = n
        return n

    def after_show(self, view: View) -> None:
        """Hook for panels that keep state derived from the view (titles, widgets)."""

    def lines(self, width: int) -> tuple[list[Text], int]:
        """All lines for the current view, and the index of the line to keep in sight."""
        return [Text("")], 0

    def _window(self) -> list[Text]:
        width = max(10, self.content_size.width)
        height = max(1, self.content_size.height)
        if self.view is None:
            return []
        lines, anchor = self.lines(width)
        self._auto_total = len(lines)
        if self.AUTO_HEIGHT and len(lines) <= height:
            window = lines  # as tall as its lines; when its max-height clips it, it scrolls like the others
        elif self.SELF_WINDOWED:
            window = lines[:height]
        else:
            top = min(self.FIXED_TOP, len(lines), height - 1)
            head, lines, anchor, height = lines[:top], lines[top:], max(0, anchor - top), height - top
            if not self.manual_scroll:
                # a pure function of the anchor (never of the scroll before): the same position
                # always draws the same window, however the cursor got there
                keep = max(1, (height * 2) // 3)
                self.scroll_top = 0 if anchor < keep else anchor - keep + 1
            self.scroll_top = max(0, min(self.scroll_top, max(0, len(lines) - height)))
            window = head + lines[self.scroll_top:self.scroll_top + height]
        for line in window:
            line.truncate(width, overflow="ellipsis")
        return window

    def plain(self) -> str:
        """What the panel shows now, as plain text (for tests and screen readers of the source)."""
        if self._lines is None:
            self._lines = self._window()
        return "\n".join(line.plain for line in self._lines)

    def render_line(self, y: int) -> Strip:
        """Textual's line API: each visible line becomes a Strip once and is reused while it
        does not change (stepping repaints a panel, but most of its lines stay the same)."""
        if self._lines is None:
            self._lines = self._window()
        width = self.size.width
        style = self.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, style)
        line = self._lines[y]
        key = (line.plain, tuple(line.spans), str(line.style), width, style)
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) > 4000:
                self._strips.clear()
            strip = Strip(line.render(self.app.console), line.cell_len)
            strip = self._strips[key] = strip.crop_extend(0, width, style).apply_style(style)
        return strip

    def action_scroll_lines(self, n: int) -> None:
        self.manual_scroll = True
        self.scroll_top = max(0, self.scroll_top + n)
        self.redraw_panel()

    def on_focus(self) -> None:
        self.redraw_panel()

    def on_blur(self) -> None:
        self.redraw_panel()


def wrap_parts(parts: list[Text], width: int, *, sep: str = " · ", indent: str = "  ", style: str = "") -> list[Text]:
    """``parts`` joined by ``sep`` on as few lines as ``width`` allows, broken only between parts
    (a narrow panel shows every figure rather than cutting the last ones off). ``style`` is the
    separators' and the indent's."""
    out: list[Text] = []
    line: Text | None = None
    for part in parts:
        if line is None:
            line = part.copy()
        elif len(line) + len(sep) + len(part) <= width:
            line.append(sep, style=style)
            line.append_text(part)
        else:
            out.append(line)
            line = Text(indent, style=style)
            line.append_text(part)
    if line is not None:
        out.append(line)
    return out


def wrap_line(line: Text, width: int, *, indent: str = "  ") -> list[Text]:
    """``line`` broken between words into lines of at most ``width`` cells, the later ones indented:
    for a sentence that says what happened (a note, a live caveat), cut with ``…`` it no longer
    says it. A word longer than a line is cut there (the panel's ellipsis then shows it)."""
    plain = line.plain
    if len(plain) <= width or width <= len(indent) + 8:
        return [line]
    out: list[Text] = []
    start, room = 0, width
    while len(plain) - start > room:
        cut = plain.rfind(" ", start, start + room + 1)
        if cut <= start:
            cut = start + room
        piece = line[start:cut]
        out.append(piece if not out else Text(indent, style=line.style) + piece)
        start = cut + 1 if cut < len(plain) and plain[cut] == " " else cut
        room = width - len(indent)
    rest = line[start:]
    out.append(rest if not out else Text(indent, style=line.style) + rest)
    return out


def mark_style(mark: str) -> str:
    """Colour for a mark; the mark itself always carries the meaning."""
    return {"✓": "green", "▶": "bold yellow", "·": "dim", "✗": "bold red", "–": "dim", "▸": "bold cyan",
            "✎": "magenta", "+": "magenta", "=": "dim", "−": "red strike"}.get(mark, "")
