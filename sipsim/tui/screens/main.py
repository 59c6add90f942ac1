"""The main screen: a top bar, the eight panels laid out for the terminal's size, the footer.

Three layouts, chosen by size and rebuilt when the terminal crosses a threshold (panels keep their
UI choices in the app, so nothing is lost):

* **wide** (≥ 150×40): three columns — workers, socket and pipeline; message and layers; ladder,
  event log (and the lesson);
* **medium** (≥ 110×30): workers, socket and pipeline on the left; the others as tabs;
* **narrow** (80×24 and up): workers and socket side by side on top; everything else as tabs.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from sipsim.tui.keybar import KeyBar
from sipsim.tui.panels import (
    PANELS,
    LadderPanel,
    LayersPanel,
    LessonPanel,
    LogPanel,
    MessagePanel,
    PanelInfo,
    PipelinePanel,
    SocketPanel,
    WorkersPanel,
)

TABBED = {
    "wide": (),
    "medium": (MessagePanel, LayersPanel, LadderPanel, LogPanel, LessonPanel),
    "narrow": (PipelinePanel, MessagePanel, LayersPanel, LadderPanel, LogPanel, LessonPanel),
}


def layout_mode(size: Size) -> str:
    if size.width >= 150 and size.height >= 40:
        return "wide"
    if size.width >= 110 and size.height >= 30:
        return "medium"
    return "narrow"


class TopBar(Static):
    """SIM/LIVE badge, what runs, where the cursor is, the run state — no clock (snapshots stay stable)."""


class MainScreen(Screen[None]):
    AUTO_FOCUS = ""  # no panel is focused at first: the footer shows the app's keys
    # f (maximize) keeps the top bar and the keys: without them a class saw one panel, no step,
    # no run state and no hint of how to get back (f or escape)
    ALLOW_IN_MAXIMIZED_VIEW = "TopBar, KeyBar"
    # ... and says how to get back, first after the panel's own keys (the app's f is one of those
    # a narrow footer leaves out)
    BINDINGS: ClassVar = [Binding("f", "restore", "restore")]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.mode = ""
        self.panels: dict[type, PanelInfo] = {}

    def compose(self) -> ComposeResult:
        app = self.app
        self.mode = mode = layout_mode(app.size)
        ui = app.ui  # type: ignore[attr-defined]
        with_lesson = app.lesson is not None  # type: ignore[attr-defined]
        p = self.panels = {cls: cls(ui) for cls in PANELS if with_lesson or cls is not LessonPanel}
        self.set_class(mode == "wide", "-wide")
        self.set_class(mode == "medium", "-medium")
        self.set_class(mode == "narrow", "-narrow")
        yield TopBar(id="topbar")
        tabbed = [cls for cls in TABBED[mode] if cls in p]
        if mode == "narrow":
            with Vertical(id="body"):
                with Horizontal(id="top"):
                    yield p[WorkersPanel]  # type: ignore[misc]
                    yield p[SocketPanel]  # type: ignore[misc]
                yield from self._tabs(tabbed)
        else:
            with Horizontal(id="body"):
                with Vertical(id="left"):
                    yield p[WorkersPanel]  # type: ignore[misc]
                    yield p[SocketPanel]  # type: ignore[misc]
                    yield p[PipelinePanel]  # type: ignore[misc]
                if mode == "medium":
                    yield from self._tabs(tabbed)
                else:
                    with Vertical(id="mid"):
                        yield p[MessagePanel]  # type: ignore[misc]
                        yield p[LayersPanel]  # type: ignore[misc]
                    with Vertical(id="right"):
                        yield p[LadderPanel]  # type: ignore[misc]
                        yield p[LogPanel]  # type: ignore[misc]
                        if LessonPanel in p:
                            yield p[LessonPanel]  # type: ignore[misc]
        yield KeyBar()

    def _tabs(self, tabbed: list[type]) -> ComposeResult:
        ui = self.app.ui  # type: ignore[attr-defined]
        ids = [f"tab-{cls.panel_id()}" for cls in tabbed]  # type: ignore[attr-defined]
        # the tab the learner was on (a resize rebuilds the screen); with a lesson open, the lesson
        # first: `sipsim lesson N` on a small terminal must open on what the lesson says
        initial = ui.get("tabs.active")
        if initial not in ids:
            initial = "tab-lesson" if "tab-lesson" in ids else ids[0] if ids else ""
        with TabbedContent(id="tabs", initial=initial):
            for cls in tabbed:
                with TabPane(f"{cls.NUMBER} {cls.TITLE}", id=f"tab-{cls.panel_id()}"):  # type: ignore[attr-defined]
                    yield self.panels[cls]  # type: ignore[misc]

    def on_mount(self) -> None:
        self.app.redraw()  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":  # this screen's f: only while a panel is maximized (else the app's f)
            return self.maximized is not None
        return True

    def action_restore(self) -> None:
        self.minimize()

    def watch_maximized(self) -> None:
        self.refresh_bindings()

    def panel(self, cls: type) -> PanelInfo | None:
        return self.panels.get(cls)

    def reveal(self, panel: PanelInfo) -> None:
        """Bring a panel's tab to the front (tabbed layouts)."""
        if type(panel) in TABBED[self.mode]:
            tabs = self.query_one("#tabs", TabbedContent)
            tabs.active = f"tab-{panel.panel_id()}"

    def _focused_panel_type(self) -> type | None:
        """The panel holding this screen's focus (even while a dialog is on top)."""
        node = self.focused
        while node is not None and not isinstance(node, PanelInfo):
            node = node.parent  # type: ignore[assignment]
        return type(node) if node is not None else None

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self.app.ui["tabs.active"] = event.pane.id  # type: ignore[attr-defined]

    async def on_resize(self, event: Resize) -> None:
        if self.mode and layout_mode(event.size) == self.mode:
            self.query_one("#topbar", TopBar).update(self.app.top_line())  # type: ignore[attr-defined]
        if self.mode and layout_mode(event.size) != self.mode:
            # the new layout gets new widgets: keep which panel had the focus, and whether it was
            # maximized (the tab in front is kept by _tabs)
            focused = self._focused_panel_type()
            maximized = type(self.maximized) if self.maximized is not None else None
            if maximized is not None:
                self.minimize()
            await self.recompose()
            self.app.redraw()  # type: ignore[attr-defined]
            panel = self.panels.get(focused) if focused is not None else None
            if panel is not None:
                self.reveal(panel)
                panel.focus()  # type: ignore[attr-defined]
                if maximized is focused:
                    self.maximize(panel, container=False)  # type: ignore[arg-type]
