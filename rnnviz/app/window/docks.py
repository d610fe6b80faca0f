"""Docks as the main window makes them: a plain title label (its font follows presentation
mode), closable, movable and floatable; and a scroll area so a panel's minimum height does not
set the window's."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QLabel, QMainWindow, QScrollArea, QWidget


def scrollable(widget: QWidget) -> QScrollArea:
    """The widget in a frameless scroll area, so that a panel's minimum height does not set the
    window's: on a 768-pixel laptop or a 1080p projector every panel still fits, scrolling."""
    area = QScrollArea()
    area.setFrameShape(QFrame.NoFrame)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


def add_dock(window: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
    """A dock titled `title` (object name `name`) holding `widget`, added to `window` in `area`."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    title_label = QLabel(title, dock)  # a plain label: its font follows presentation mode
    title_label.setObjectName("dockTitle")
    dock.setTitleBarWidget(title_label)
    dock.setFeatures(QDockWidget.DockWidgetClosable | QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
    window.addDockWidget(area, dock)
    return dock
