"""The strip over the network: the task's title, a one-line summary (loss, architecture, cell,
sizes) and the zoom, fit and rolled buttons."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from rnnviz.app.state.session import Session
from rnnviz.app.style.appearance import icon
from rnnviz.app.views.numbers import format_loss


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it has less room than its text (a plain QLabel
    that is allowed to shrink cuts its text off mid-letter).  The whole text stays the tooltip."""

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignVCenter), text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """A few letters wide: the label gives way (eliding) before the window grows wider than
        the screen (a long title in presentation mode made a 1280-pixel window 1367 wide)."""
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("Mmmm…")), hint.height())


class Header(QFrame):
    """Title, summary and the view's buttons; the buttons are wired by the main window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 8, 6)
        row.setSpacing(4)
        self.title_label = ElidedLabel(self)
        self.title_label.setObjectName("title")
        self.subtitle_label = ElidedLabel(self)
        self.subtitle_label.setObjectName("muted")
        # the labels may shrink (clip) rather than push the side panels off the window
        self.subtitle_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        row.addWidget(self.title_label)
        row.addSpacing(12)
        row.addWidget(self.subtitle_label, 1)

        def tool(text: str, name: str, tip: str) -> QToolButton:
            b = QToolButton(self)
            b.setText(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.NoFocus)
            row.addWidget(b)
            return b

        self.zoom_out_button = tool("−", "zoomOut", "Zoom out (Ctrl+−)")
        self.zoom_in_button = tool("+", "zoomIn", "Zoom in (Ctrl++)")
        self.fit_button = tool("Fit", "fit", "Fit the network to the window (Ctrl+0)")
        row.addSpacing(8)
        self.rolled_button = tool("Rolled", "rolled", "Show the network rolled up (one cell with a loop) or unrolled in time (R)")
        self.rolled_button.setCheckable(True)

    def show_network(self, session: Session) -> str:
        """Show the session's network (the summary only when there is a trace); returns the
        title, which the window also puts in its title bar."""
        s = session
        label = s.source_label or (s.task.title if s.task else "")
        self.title_label.setText(label)
        self.title_label.setToolTip(label)
        m, tr = s.model, s.trace
        if m is not None and tr is not None:
            # the loss first: when the header is narrow the tail is clipped, not the number. It is
            # the loss of the sequence shown, at the weights shown; the status bar says the
            # training loss (the batch's, at the iteration's weights before its update)
            loss = f"sequence loss {format_loss(tr.loss)} · " if tr.targets is not None else ""
            cell = m.cell
            kind = m.activation if cell == "rnn" else cell.upper()
            text = f"{loss}{m.architecture} · {kind} · H = {m.hidden_size} · T = {tr.T}"
            self.subtitle_label.setText(text)
            self.subtitle_label.setToolTip(text)
        return label

    def show_appearance(self, text_color: str, icon_side: int, presenting: bool) -> None:
        """The fit icon in the theme's text colour at `icon_side` pixels; no summary while
        presenting."""
        self.subtitle_label.setVisible(not presenting)
        self.fit_button.setIcon(icon("fit", text_color))
        self.fit_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.fit_button.setIconSize(QSize(icon_side, icon_side))
