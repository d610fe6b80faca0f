"""The look of the whole window: a QPalette and a small style sheet per theme, fonts scaled for
presentation mode, and vector icons that follow the theme's text colour at any pixel ratio.

Sizes are in points or in multiples of the font height, never in fixed pixels, so the window
looks the same at 1× and 2× device pixel ratios.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QIconEngine, QPainter, QPainterPath, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication, QWidget

from rnnviz.app.style.theme import Theme

BASE_POINT_SIZE = 10.0  # the window's base font; presentation mode multiplies it


def _mix(a: str, b: str, t: float) -> QColor:
    ca, cb = QColor(a), QColor(b)
    return QColor(
        round(ca.red() + (cb.red() - ca.red()) * t),
        round(ca.green() + (cb.green() - ca.green()) * t),
        round(ca.blue() + (cb.blue() - ca.blue()) * t),
    )


def palette_for(theme: Theme) -> QPalette:
    p = QPalette()
    bg, panel, text, muted = QColor(theme.background), QColor(theme.panel), QColor(theme.text), QColor(theme.muted)
    window = panel
    button = _mix(theme.panel, theme.text, 0.06)
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, bg)
    p.setColor(QPalette.AlternateBase, panel)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, button)
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.ToolTipBase, bg)
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.PlaceholderText, muted)
    p.setColor(QPalette.BrightText, QColor(theme.backward))
    p.setColor(QPalette.Highlight, QColor(theme.forward))
    p.setColor(QPalette.HighlightedText, QColor("#ffffff") if theme.name == "light" else QColor(theme.background))
    p.setColor(QPalette.Link, QColor(theme.forward))
    p.setColor(QPalette.Mid, _mix(theme.panel, theme.text, 0.25))
    p.setColor(QPalette.Midlight, _mix(theme.panel, theme.text, 0.12))
    p.setColor(QPalette.Dark, _mix(theme.panel, theme.text, 0.45))
    p.setColor(QPalette.Light, _mix(theme.panel, theme.background, 0.5))
    p.setColor(QPalette.Shadow, QColor("#000000"))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, _mix(theme.panel, theme.muted, 0.7))
    return p


def style_sheet(theme: Theme, scale: float) -> str:
    """Only what the palette cannot say: frames, the checked state of toggle buttons, the
    header line. Lengths in em/pt so they follow the font size."""
    border = _mix(theme.panel, theme.text, 0.22).name()
    button = _mix(theme.panel, theme.text, 0.06).name()
    hover = _mix(theme.panel, theme.text, 0.14).name()
    width = max(1, round(scale))
    pt = f"{BASE_POINT_SIZE * scale:.1f}pt"
    return f"""
QDockWidget, QDockWidget QWidget, QMenuBar, QStatusBar, QToolBar QWidget {{ font-size: {pt}; }}
QMainWindow, QDockWidget {{ background: {theme.panel}; color: {theme.text}; }}
QDockWidget::title {{ padding: 0.3em 0.5em; font-weight: bold; background: {theme.panel}; }}
QStatusBar {{ color: {theme.muted}; border-top: {width}px solid {border}; }}
QStatusBar QLabel#statusError {{ color: {theme.backward}; font-weight: bold; }}
QToolButton, QPushButton {{
    background: {button}; color: {theme.text}; border: {width}px solid {border};
    border-radius: 0.25em; padding: 0.2em 0.55em; }}
QToolButton:hover, QPushButton:hover {{ background: {hover}; }}
QToolButton:checked, QPushButton:checked {{ background: {theme.forward}; color: {theme.background}; border-color: {theme.forward}; }}
QToolButton#backwardMode:checked {{ background: {theme.backward}; border-color: {theme.backward}; }}
QToolButton:disabled, QPushButton:disabled {{ color: {theme.muted}; }}
QFrame#header {{ border-bottom: {width}px solid {border}; }}
QToolBar#transportBar {{ border: none; border-top: {width}px solid {border}; background: {theme.panel}; spacing: 0; padding: 0; }}
QLabel#title {{ font-weight: bold; }}
QLabel#dockTitle {{ font-weight: bold; padding: 0.35em 0.6em 0.2em 0.6em; }}
QLabel#muted, QLabel#description {{ color: {theme.muted}; }}
QLabel#position {{ font-weight: bold; }}
QTextBrowser {{ background: {theme.background}; color: {theme.text}; border: {width}px solid {border}; }}
QComboBox, QSpinBox {{ padding: 0.1em 0.3em; }}
QCheckBox::indicator {{ width: 0.85em; height: 0.85em; border: {width}px solid {border}; border-radius: 0.15em;
    background: {theme.background}; }}
QCheckBox::indicator:checked {{ background: {theme.forward}; border-color: {theme.forward}; }}
QCheckBox::indicator:disabled {{ background: {button}; }}
QGroupBox {{ font-weight: bold; border: {width}px solid {border}; border-radius: 0.3em; margin-top: 0.8em; padding-top: 0.4em; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 0.6em; padding: 0 0.2em; }}
"""


def apply_appearance(window: QWidget, theme: Theme, scale: float) -> None:
    """Palette, style sheet and font size for `window` and everything inside it."""
    app = QApplication.instance()
    palette = palette_for(theme)
    if app is not None:
        app.setPalette(palette)  # menus, dialogs and tooltips are separate windows
    window.setPalette(palette)
    font = QFont(window.font())
    font.setPointSizeF(BASE_POINT_SIZE * scale)
    window.setFont(font)
    if app is not None:
        app_font = QFont(app.font())
        app_font.setPointSizeF(BASE_POINT_SIZE * scale)
        app.setFont(app_font)
    window.setStyleSheet(style_sheet(theme, scale))


# icons -----------------------------------------------------------------------------------------
def _tri(p: QPainter, pts: list[tuple[float, float]]) -> None:
    p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in pts]))


def _play(p: QPainter) -> None:
    _tri(p, [(7, 4.5), (19.5, 12), (7, 19.5)])


def _pause(p: QPainter) -> None:
    p.drawRect(QRectF(6.5, 5, 4, 14))
    p.drawRect(QRectF(13.5, 5, 4, 14))


def _step(p: QPainter) -> None:  # ▶|
    _tri(p, [(5.5, 5), (15.5, 12), (5.5, 19)])
    p.drawRect(QRectF(16, 5, 3, 14))


def _to_end(p: QPainter) -> None:  # ▶▶|
    _tri(p, [(2.5, 5), (10.5, 12), (2.5, 19)])
    _tri(p, [(10, 5), (18, 12), (10, 19)])
    p.drawRect(QRectF(18.5, 5, 3, 14))


def _mirrored(draw: Callable[[QPainter], None]) -> Callable[[QPainter], None]:
    def paint(p: QPainter) -> None:
        p.translate(24, 0)
        p.scale(-1, 1)
        draw(p)

    return paint


def _fit(p: QPainter) -> None:
    path = QPainterPath()
    for (x, y, dx, dy) in ((4, 4, 1, 1), (20, 4, -1, 1), (4, 20, 1, -1), (20, 20, -1, -1)):
        path.moveTo(x, y + 6 * dy)
        path.lineTo(x, y)
        path.lineTo(x + 6 * dx, y)
    p.setBrush(Qt.NoBrush)
    pen = p.pen()
    pen.setWidthF(2.2)
    p.setPen(pen)
    p.drawPath(path)


SHAPES: dict[str, Callable[[QPainter], None]] = {
    "play": _play,
    "pause": _pause,
    "step_forward": _step,
    "step_back": _mirrored(_step),
    "to_end": _to_end,
    "to_start": _mirrored(_to_end),
    "fit": _fit,
}


class _ShapeEngine(QIconEngine):
    """Draws one shape on a 24×24 grid, scaled to whatever size and pixel ratio is asked."""

    def __init__(self, draw: Callable[[QPainter], None], color: QColor) -> None:
        super().__init__()
        self._draw, self._color = draw, QColor(color)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        color = QColor(self._color)
        if mode == QIcon.Disabled:
            color.setAlphaF(0.35)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        side = min(rect.width(), rect.height())
        painter.translate(rect.x() + (rect.width() - side) / 2, rect.y() + (rect.height() - side) / 2)
        painter.scale(side / 24.0, side / 24.0)
        painter.setPen(color)
        painter.setBrush(color)
        self._draw(painter)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        pm = QPixmap(size * scale)
        pm.fill(Qt.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRect(0, 0, pm.width(), pm.height()), mode, state)
        painter.end()
        pm.setDevicePixelRatio(scale)
        return pm

    def clone(self) -> QIconEngine:
        return _ShapeEngine(self._draw, self._color)


def icon(name: str, color: str) -> QIcon:
    return QIcon(_ShapeEngine(SHAPES[name], QColor(color)))
