"""The eight panels of the main screen, one module each; each draws one immutable view.

Numbered as their focus keys: 1 workers, 2 socket, 3 pipeline, 4 message, 5 layers, 6 ladder,
7 event log, 8 lesson.
"""

from __future__ import annotations

from sipsim.tui.panels.base import Panel, PanelInfo
from sipsim.tui.panels.ladder import LadderPanel
from sipsim.tui.panels.layers import LayersPanel
from sipsim.tui.panels.lesson import LessonPanel
from sipsim.tui.panels.log import LogPanel
from sipsim.tui.panels.message import MessagePanel
from sipsim.tui.panels.pipeline import PipelinePanel
from sipsim.tui.panels.socket_panel import SocketPanel
from sipsim.tui.panels.workers import WorkersPanel

PANELS: tuple[type[PanelInfo], ...] = (WorkersPanel, SocketPanel, PipelinePanel, MessagePanel, LayersPanel,
                                       LadderPanel, LogPanel, LessonPanel)
BY_NUMBER = {p.NUMBER: p for p in PANELS}

__all__ = ["BY_NUMBER", "PANELS", "LadderPanel", "LayersPanel", "LessonPanel", "LogPanel", "MessagePanel", "Panel",
           "PanelInfo", "PipelinePanel", "SocketPanel", "WorkersPanel"]
