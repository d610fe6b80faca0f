"""The weights as they train: W_xh, W_hh, W_hy as heatmaps (one symmetric colour range), and
the eigenvalues of W_hh in the complex plane against the unit circle.

A gated cell (LSTM, GRU) has one input and one recurrent matrix per gate and no W_hh: a combo
chooses the gate (the candidate g / n by default); its W_x•, W_h• take the W_xh, W_hh places
(keys of `plotted` stay the slots "W_xh", "W_hh", "W_hy"; `shown` maps them to the real names)
and the eigenvalues are those of that W_h•, labelled so."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QComboBox, QLabel

from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.axes import set_unit_ticks
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import RatchetLevels, image_item, place_image
from rnnviz.engine.analysis import eigenvalues, largest_modulus
from rnnviz.app.views.plots.symbols import symbol_brush, symbol_pen

MATRICES = ("W_xh", "W_hh", "W_hy")
ROW_COL = {"W_xh": ("x", "h"), "W_hh": ("h", "h"), "W_hy": ("h", "y")}

# The eigenvalue plot's frame: the unit circle always in view and never smaller than a third of
# it; the frame follows most eigenvalues (this quantile of |λ|), not the few that run away.
EIGEN_MIN_RADIUS = 1.1
EIGEN_MAX_RADIUS = 3.0
EIGEN_QUANTILE = 0.8  # taken as the nearest |λ| below ("lower"): 2 runaways of 8 do not move it


def eigen_frame(ev: np.ndarray) -> tuple[float, np.ndarray]:
    """(R, outside) for eigenvalues ev (n,) complex: the half-width R of the square view around 0
    (≥ 1.1 so the unit circle shows whole, ≤ 3 so it stays readable, else 1.15 × the 0.8 quantile
    of |λ|), and the mask (n,) of the eigenvalues outside it, which are drawn at its edge."""
    mod = np.abs(ev)  # (n,)
    mod = mod[np.isfinite(mod)]
    q = float(np.quantile(mod, EIGEN_QUANTILE, method="lower")) if mod.size else 0.0
    R = float(np.clip(1.15 * q, EIGEN_MIN_RADIUS, EIGEN_MAX_RADIUS))
    return R, ~(np.abs(ev) <= R)


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
        # eigenvalues beyond the frame, drawn on its edge in their direction as open diamonds
        self.eig_outside = pg.ScatterPlotItem(size=11, symbol="d")
        self.eig_plot.addItem(self.eig_outside)
        self.outside_note = self.overlay_text(self.eig_plot)
        self.outside_note.setAnchor((0, 1))  # bottom-left: the ρ note is top-left
        self.eig_plot.getViewBox().sigResized.connect(lambda _vb: self._place_outside_note())
        self.eig_radius = 0.0  # the frame's half-width R (see eigen_frame)
        self.levels = RatchetLevels()
        self.plotted: dict[str, np.ndarray] = {}  # name -> the matrix drawn (rows as in the model)
        self.eigenvalues = np.zeros(0, dtype=complex)
        self.spectral_radius = 0.0
        self.shown = {n: n for n in MATRICES}  # slot -> the model's parameter drawn there
        self.gate_label = QLabel("Gate")
        self.gate_combo = QComboBox()
        self.gate_combo.setToolTip("A gated cell has one input and one recurrent matrix per gate: which gate's to show")
        self.gate_combo.currentIndexChanged.connect(lambda _i: self._gate_chosen())
        self.controls.addWidget(self.gate_label)
        self.controls.addWidget(self.gate_combo)
        self.controls.addStretch(1)
        self.finish_init()

    _GATE_TEXT = {"i": "i (input gate)", "f": "f (forget gate)", "g": "g (candidate)", "o": "o (output gate)",
                  "r": "r (reset gate)", "z": "z (update gate)", "n": "n (candidate)"}

    def _sync_gates(self) -> None:
        """Fill the gate combo for the model's cell (hidden for the vanilla cell)."""
        cell = self.session.model.cell
        gates = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}.get(cell, ())
        have = tuple(self.gate_combo.itemData(i) for i in range(self.gate_combo.count()))
        if have != gates:
            self.gate_combo.blockSignals(True)
            self.gate_combo.clear()
            for g in gates:
                self.gate_combo.addItem(self._GATE_TEXT[g], g)
            if gates:
                self.gate_combo.setCurrentIndex(gates.index("g" if cell == "lstm" else "n"))
            self.gate_combo.blockSignals(False)
        self.gate_label.setVisible(bool(gates))
        self.gate_combo.setVisible(bool(gates))
        g = self.gate_combo.currentData() if gates else None
        self.shown = {"W_xh": f"W_x{g}", "W_hh": f"W_h{g}", "W_hy": "W_hy"} if g else {n: n for n in MATRICES}

    def _gate_chosen(self) -> None:
        self._sync_gates()
        self.draw_safely(self.draw_trace)

    def rebuild(self) -> None:
        m = self.session.model
        self._sync_gates()
        sizes = {"x": m.input_size, "h": m.hidden_size, "y": m.output_size}
        self.levels.reset()
        for name, p in self.mats.items():
            r, c = ROW_COL[name]
            set_unit_ticks(p.getAxis("left"), sizes[r], r)
            set_unit_ticks(p.getAxis("bottom"), sizes[c], c)
        lay = self.canvas.ci.layout
        lay.setRowStretchFactor(0, 3)  # W_hh and its eigenvalues get the room
        lay.setRowStretchFactor(1, 2)

    def apply_theme(self) -> None:
        t = self.theme
        self.circle.setPen(pg.mkPen(t.muted, width=1.2, style=Qt.PenStyle.DashLine))
        for ln in self.axes_lines:
            ln.setPen(pg.mkPen(t.grid, width=1))
        self.eig.setBrush(symbol_brush(t.forward))  # shared pens and brushes: see symbols.py
        self.eig.setPen(symbol_pen(t.text, 0.8))
        self.eig_outside.setBrush(pg.mkBrush(None))
        self.eig_outside.setPen(pg.mkPen(t.backward, width=1.6))

    def draw_trace(self) -> None:
        # the session's model holds the weights being shown (training pushes them there)
        params = self.session.model.params()
        if self.shown["W_hh"] not in params:  # the cell changed under us
            self._sync_gates()
        shown = self.shown
        lim = self.levels.update(*(params[shown[n]] for n in MATRICES))
        for name in MATRICES:
            W = params[shown[name]].copy()  # (rows, cols)
            self.plotted[name] = W
            self.images[name].setImage(W.T, autoLevels=False, levels=(-lim, lim))  # image[x=col, y=row]
            place_image(self.images[name], QRectF(-0.5, -0.5, W.shape[1], W.shape[0]))  # cell (r, c) centred on (c, r)
            self.set_title(self.mats[name], f"{shown[name]} {W.shape[0]}×{W.shape[1]}")
        rec = shown["W_hh"]
        self.set_title(self.eig_plot, f"eigenvalues of {rec}")
        W_hh = params[rec]
        ev = eigenvalues(W_hh)
        self.eigenvalues = ev
        self.spectral_radius = largest_modulus(ev)
        self._draw_eigenvalues(ev)
        self.rho_note.setText(f"spectral radius ρ = {self.spectral_radius:.3f}")
        self.set_title(self.mats["W_hh"], f"{rec} {W_hh.shape[0]}×{W_hh.shape[1]} (colour ±{lim:g})")

    def _draw_eigenvalues(self, ev: np.ndarray) -> None:
        """The eigenvalues inside the frame as dots; those outside it on its edge, in their
        direction, as open diamonds with a note of how many and how far."""
        R, out = eigen_frame(ev)
        inside = ev[~out]
        self.eig.setData(inside.real, inside.imag)
        far = ev[out & np.isfinite(ev)]
        edge = far / np.abs(far) * R * 0.94  # (k,) on the edge, a little inside so they show whole
        self.eig_outside.setData(edge.real, edge.imag)
        if far.size:
            n = far.size
            self.outside_note.setText(f"◇ {n} eigenvalue{'s' if n > 1 else ''} outside (|λ| up to {np.abs(far).max():.3g})")
        else:
            self.outside_note.setText("")
        self._place_outside_note()
        if R != self.eig_radius:  # a new range redraws the axes: only when the frame changes
            self.eig_radius = R
            self.eig_plot.enableAutoRange(False)
            self.eig_plot.setRange(xRange=(-R, R), yRange=(-R, R), padding=0)

    def _place_outside_note(self) -> None:
        self.outside_note.setPos(4, self.eig_plot.getViewBox().height() - 2)
