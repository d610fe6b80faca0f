"""The inspector dock: what the selected node or arrow holds, and the formula that produced it with
the numbers of that step filled in (the pages come from `pages.page_for`), and for a weight its
heat maps (the matrix, its gradient) and each step's contribution to that gradient.

The numbers of the last rendering are kept in `Inspector.numbers` (name -> float) so tests can
compare them with the trace.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session
from rnnviz.app.style import colors
from rnnviz.app.style.theme import Theme, font_scale, theme_for
from rnnviz.app.views.inspector.html import Page
from rnnviz.app.views.inspector.live_text import LiveText
from rnnviz.app.views.inspector.pages import page_for
from rnnviz.app.views.axes import integer_ticks


# the widget --------------------------------------------------------------------------------------
class Inspector(QWidget):
    """Dock panel: follows the selection, or the playback's active h_t when nothing is selected."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.numbers: dict[str, float] = {}
        self.current: Selection | None = None  # what is shown (the selection or the active h_t)
        self.page: Page | None = None
        self._columns_shown = 0
        self._doc_style: tuple[QFont, str] | None = None  # the text's font and style sheet last set
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.setObjectName("inspectorText")
        layout.addWidget(self.text, 1)
        self.live = LiveText(self.text)  # sets the page, in place when only its numbers changed
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setObjectName("inspectorPlots")
        self.plots.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.plots.setMinimumHeight(self.fontMetrics().height() * 14)
        layout.addWidget(self.plots, 1)
        self._build_plots()
        self.plots.hide()
        for sig in (session.networkChanged, session.traceChanged, session.appearanceChanged):
            sig.connect(self.refresh)
        session.selectionChanged.connect(lambda _s: self.refresh())
        session.positionChanged.connect(lambda _p: self.refresh())
        self.refresh()

    def _build_plots(self) -> None:
        self.weight_label = self.plots.addLabel("", row=0, col=0)
        self.grad_label = self.plots.addLabel("", row=0, col=1)
        self.weight_box = self.plots.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.grad_box = self.plots.addViewBox(row=1, col=1, lockAspect=True, invertY=True, enableMouse=False)
        self.weight_image = pg.ImageItem(axisOrder="row-major")
        self.grad_image = pg.ImageItem(axisOrder="row-major")
        for img in (self.weight_image, self.grad_image):
            img.setLookupTable(colors.LUT)
        self.weight_box.addItem(self.weight_image)
        self.grad_box.addItem(self.grad_image)
        self.steps_plot = self.plots.addPlot(row=2, col=0, colspan=2)
        self.steps_plot.setMouseEnabled(False, False)
        self.steps_plot.hideButtons()
        self.steps_plot.setMenuEnabled(False)
        self.steps_plot.setLabel("bottom", "step t")
        self.steps_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.steps_active = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.steps_plot.addItem(self.steps_bars)
        self.steps_plot.addItem(self.steps_active)
        self.plots.ci.layout.setRowStretchFactor(1, 3)
        self.plots.ci.layout.setRowStretchFactor(2, 2)

    # drawing -----------------------------------------------------------------------------------
    def shown_selection(self) -> Selection | None:
        s = self.session
        if s.trace is None:
            return None
        if s.selection is not None:
            return s.selection
        return Selection("h", s.frame.active)  # follow the playback

    def refresh(self) -> None:
        s = self.session
        theme = theme_for(s.theme, s.presentation)
        sel = self.shown_selection()
        self.current = sel
        columns = self._strip_columns()
        if sel is None or s.trace is None:
            self.page = Page("<p>No network.</p>")
        else:
            vocab = s.task.vocab if (s.task is not None and s.source == "task") else None
            self.page = page_for(s.trace, sel, s.frame, theme, vocab, columns)
            if s.selection is None:
                self.page.html = (f'<p style="color:{theme.muted};font-size:small;">Following the playback. '
                                  "Click a node or an arrow to inspect it.</p>" + self.page.html)
        self.numbers = self.page.numbers
        self._columns_shown = columns
        font, sheet = QFont(self.font()), f"body {{ color: {theme.text}; }}"
        if (font, sheet) != self._doc_style:  # each costs a relayout: only on change
            self._doc_style = (font, sheet)
            self.text.document().setDefaultFont(font)
            self.text.document().setDefaultStyleSheet(sheet)
            self.live.invalidate()
        self.live.show(self.page.html)  # a step of playback: the numbers are edited in place
        self._draw_weight(self.page.weight, sel, theme)

    def _strip_columns(self) -> int:
        mono = QFont(self.font())
        mono.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "Courier New"])
        cell = QFontMetrics(mono).horizontalAdvance("−0.000") + round(QFontMetrics(mono).height() * 0.75)
        width = self.text.viewport().width() - self.fontMetrics().height() * 2
        return max(3, min(12, width // max(cell, 1)))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.page is not None and self._columns_shown != self._strip_columns():
            self.refresh()

    def _draw_weight(self, kind: str | None, sel: Selection | None, theme: Theme) -> None:
        tr = self.session.trace
        layout = self.layout()
        if kind is None or tr is None or sel is None:
            self.plots.hide()
            layout.setStretch(0, 1)
            return
        layout.setStretch(0, 2)
        layout.setStretch(1, 3)
        self.plots.show()
        self.plots.setBackground(theme.background)
        scale = font_scale(self.session.presentation)
        size = f"{round(10 * scale)}pt"
        name = kind  # W_xh / W_hh / W_hy, or a gated cell's own matrix (W_hg, W_xn, ...)
        Wm = tr.params[kind]
        lim = colors.nice_limit(colors.symmetric_limit(Wm))
        self.weight_label.setText(f"{name}   (±{lim:g})", color=theme.text, size=size)
        self.weight_image.setImage(Wm, levels=(-lim, lim), autoLevels=False)
        g = tr.grads[f"grad_{kind}"] if tr.targets is not None else np.zeros_like(Wm)
        glim = colors.nice_limit(colors.symmetric_limit(g))
        self.grad_label.setText(f"dL/d{name}   (±{glim:.2g})", color=theme.text, size=size)
        self.grad_image.setImage(g, levels=(-glim, glim), autoLevels=False)
        for box in (self.weight_box, self.grad_box):
            box.autoRange(padding=0.02)
        per_step = tr.step_grad_norms[kind] if tr.targets is not None else np.zeros(tr.T)
        steps = np.arange(1, tr.T + 1)
        t = max(1, min(sel.t, tr.T))
        others = per_step.copy()
        others[t - 1] = 0
        self.steps_bars.setOpts(x=steps, height=others, width=0.8, brush=theme.muted, pen=None)
        self.steps_active.setOpts(x=[t], height=[per_step[t - 1]], width=0.8, brush=theme.highlight, pen=None)
        self.steps_plot.setTitle(f"‖contribution of each step to dL/d{name}‖", color=theme.text, size=size)
        font = QFont(self.font())
        for ax in ("left", "bottom"):
            axis = self.steps_plot.getAxis(ax)
            axis.setPen(theme.muted)
            axis.setTextPen(theme.text)
            axis.setStyle(tickFont=font)
        self.steps_plot.setXRange(0.4, tr.T + 0.6, padding=0)
        integer_ticks(self.steps_plot, tr.T)  # steps are whole numbers: no tick at t = 1.5
        self.steps_plot.setYRange(0, max(float(per_step.max(initial=0)), 1e-12) * 1.05, padding=0)
