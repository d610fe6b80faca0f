"""The weights as they train: W_xh, W_hh, W_hy as heatmaps (one symmetric colour range), and
the eigenvalues of W_hh in the complex plane against the unit circle."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from ..session import Session
from ..training import TrainingController
from .base import PlotPanel, RatchetLevels, image_item, place_image, unit_axis_ticks

MATRICES = ("W_xh", "W_hh", "W_hy")
ROW_COL = {"W_xh": ("x", "h"), "W_hh": ("h", "h"), "W_hy": ("h", "y")}


class WeightsPlot(PlotPanel):
    title = "Weights"

    def __init__(self, session: Session, controller: TrainingController | None = None, parent=None) -> None:
        super().__init__(session, controller, parent)
        self.mats: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        cells = {"W_hh": (0, 0), "W_xh": (1, 0), "W_hy": (1, 1)}
        for name in MATRICES:
            p = self.add_plot(*cells[name], name, "", "")
            p.getViewBox().invertY(True)
            img = image_item()
            p.addItem(img)
            self.mats[name], self.images[name] = p, img
        self.eig_plot = self.add_plot(0, 1, "", "Re λ", "Im λ")
        self.setMinimumHeight(270)
        self.eig_plot.setAspectLocked(True)
        a = np.linspace(0, 2 * np.pi, 181)
        self.circle = self.eig_plot.plot(np.cos(a), np.sin(a))
        self.axes_lines = [pg.InfiniteLine(angle=0, pos=0), pg.InfiniteLine(angle=90, pos=0)]
        for ln in self.axes_lines:
            self.eig_plot.addItem(ln, ignoreBounds=False)
        self.set_title(self.eig_plot, "eigenvalues of W_hh")
        self.rho_note = self.overlay_text(self.eig_plot)
        self.eig = pg.ScatterPlotItem(size=9)
        self.eig_plot.addItem(self.eig)
        self.levels = RatchetLevels()
        self.plotted: dict[str, np.ndarray] = {}  # name -> the matrix drawn (rows as in the model)
        self.eigenvalues = np.zeros(0, dtype=complex)
        self.spectral_radius = 0.0
        self.finish_init()

    def rebuild(self) -> None:
        m = self.session.model
        sizes = {"x": m.input_size, "h": m.hidden_size, "y": m.output_size}
        self.levels.reset()
        for name, p in self.mats.items():
            r, c = ROW_COL[name]
            p.getAxis("left").setTicks(unit_axis_ticks(sizes[r], r))
            p.getAxis("bottom").setTicks(unit_axis_ticks(sizes[c], c))
        lay = self.canvas.ci.layout
        lay.setRowStretchFactor(0, 3)  # W_hh and its eigenvalues get the room
        lay.setRowStretchFactor(1, 2)

    def apply_theme(self) -> None:
        t = self.theme
        self.circle.setPen(pg.mkPen(t.muted, width=1.2, style=Qt.PenStyle.DashLine))
        for ln in self.axes_lines:
            ln.setPen(pg.mkPen(t.grid, width=1))
        self.eig.setBrush(pg.mkBrush(t.forward))
        self.eig.setPen(pg.mkPen(t.text, width=0.8))

    def draw_trace(self) -> None:
        # the session's model holds the weights being shown (training pushes them there)
        params = self.session.model.params()
        lim = self.levels.update(*(params[n] for n in MATRICES))
        for name in MATRICES:
            W = params[name].copy()  # (rows, cols)
            self.plotted[name] = W
            self.images[name].setImage(W.T, autoLevels=False, levels=(-lim, lim))  # image[x=col, y=row]
            place_image(self.images[name], QRectF(0.5, 0.5, W.shape[1], W.shape[0]))  # cell (r, c) centred on (c+1, r+1)
            self.set_title(self.mats[name], f"{name} {W.shape[0]}×{W.shape[1]}")
        W_hh = params["W_hh"]
        with np.errstate(all="ignore"):
            ev = np.linalg.eigvals(W_hh) if np.all(np.isfinite(W_hh)) else np.zeros(0, dtype=complex)
        self.eigenvalues = ev
        self.spectral_radius = float(np.max(np.abs(ev))) if ev.size else float("nan")
        self.eig.setData(ev.real, ev.imag)
        self.rho_note.setText(f"spectral radius ρ = {self.spectral_radius:.3f}")
        self.set_title(self.mats["W_hh"], f"W_hh {W_hh.shape[0]}×{W_hh.shape[1]} (colour ±{lim:g})")
