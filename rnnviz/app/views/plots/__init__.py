"""Live plots of the session's trace and of the training run, each in a dock that can be
closed, moved or torn off (floated). A new plot: a PlotPanel subclass in a module of its own,
added to PLOTS below.

base.py         PlotPanel: the widget frame, theme, cursor line, and when to draw (off screen, while training)
display.py      unit colours, the colour range that only grows, min–max decimation, heat-map images
loss.py, hidden.py, gradients.py, predictions.py, weights.py: one plot (or two) each
(axis ranges and ticks, shared with the inspector, the lab and the baseline panel: views/axes.py)
"""
from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QWidget

from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.gradients import GradientFlowPlot
from rnnviz.app.views.plots.hidden import HiddenTimePlot, HiddenTrainingPlot
from rnnviz.app.views.plots.loss import LossPlot
from rnnviz.app.views.plots.predictions import PredictionPlot
from rnnviz.app.views.plots.weights import WeightsPlot

PLOTS: tuple[tuple[str, type[PlotPanel]], ...] = (
    ("loss", LossPlot),
    ("hidden-time", HiddenTimePlot),
    ("hidden-training", HiddenTrainingPlot),
    ("gradients", GradientFlowPlot),
    ("predictions", PredictionPlot),
    ("weights", WeightsPlot),
)

__all__ = [
    "PLOTS", "GradientFlowPlot", "HiddenTimePlot", "HiddenTrainingPlot", "LossPlot", "PlotPanel",
    "PredictionPlot", "WeightsPlot", "make_plot_docks",
]


def make_plot_docks(session: Session, controller: TrainingController, parent: QWidget | None = None) -> list[QDockWidget]:
    """One dock per plot (objectName "plot-<key>", for saveState), closable, movable and
    floatable. The plot widget is dock.widget()."""
    docks = []
    for key, cls in PLOTS:
        dock = QDockWidget(cls.title, parent)
        dock.setObjectName(f"plot-{key}")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        plot = cls(session, controller, dock)
        dock.setWidget(plot)
        # a tab brought to the front: draw what was skipped while it was behind
        dock.visibilityChanged.connect(lambda visible, p=plot: visible and p.catch_up())
        docks.append(dock)
    return docks
