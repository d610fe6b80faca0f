"""The status bar's permanent parts: the last error (clipped, whole in its tooltip) and the
training run's budget as a progress bar, with the messages training and the session send."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from rnnviz.app.views.numbers import format_loss


class StatusLine:
    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.error_label = QLabel(bar)
        self.error_label.setObjectName("statusError")
        bar.addPermanentWidget(self.error_label)
        self.progress = QProgressBar(bar)  # training's iteration budget
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.progress.hide()
        bar.addPermanentWidget(self.progress)

    def show_training(self, iteration: int, loss: float, rate: float, budget: float | None) -> None:
        """Where training is: the budget used (None: no budget) and the latest loss and speed."""
        self.progress.setVisible(budget is not None)
        if budget is not None:
            self.progress.setValue(round(1000 * budget))
            self.progress.setFormat(f"{budget:.0%}")
        if iteration == 0:  # after a reset: nothing trained, no loss to report yet
            self.bar.showMessage("not trained yet: press Train or Step")
            return
        self.bar.showMessage(f"iteration {iteration:,} · training loss {format_loss(loss)} · {rate:,.0f} it/s")

    def show_message(self, text: str) -> None:
        """A passing message (ten seconds); it clears the last error."""
        self.error_label.clear()
        self.bar.showMessage(text, 10000)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text if len(text) < 140 else text[:137] + "…")
        self.error_label.setToolTip(text)

    def clear_error(self) -> None:
        self.error_label.clear()
