"""The transport bar: play/pause, stepping, the forward/backward switch, the timeline, speed and
loop. Every control calls the session; every label is redrawn from the session's signals.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QFrame, QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QWidget,
)

from rnnviz.app.state import playback
from rnnviz.app.state.session import Session
from rnnviz.app.style.appearance import BASE_POINT_SIZE, icon
from rnnviz.app.style.theme import font_scale, theme_for


def speed_text(speed: float) -> str:
    """3.0 -> "3 steps/s", 1.0 -> "1 step/s", 0.5 -> "0.5 steps/s"."""
    n = f"{speed:g}"
    return f"{n} step/s" if speed == 1 else f"{n} steps/s"


def position_text(session: Session, short: bool = False) -> str:
    """Where the timeline is, in words: "Forward · step 5 of 25" / "Backward · dL/dh_12";
    `short` (presentation mode, where the checked Forward / Backward button says the pass)
    leaves the pass out: "step 5 of 25" / "dL/dh_12"."""
    T = session.T
    f = session.frame
    if T == 0:
        return "No sequence"
    if f.mode == "forward":
        if short:
            return f"step {f.active} of {T}"
        return f"Forward · h_0, step 0 of {T}" if f.active == 0 else f"Forward · step {f.active} of {T}"
    return f"dL/dh_{f.active}" if short else f"Backward · dL/dh_{f.active}"


class TransportBar(QFrame):
    """Bottom bar of the main window."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transport")
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)

        def tool(name: str, tip: str, slot) -> QToolButton:
            b = QToolButton(self)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.setAutoRaise(False)
            b.setFocusPolicy(Qt.NoFocus)  # the keyboard belongs to the window's shortcuts
            b.clicked.connect(slot)
            layout.addWidget(b)
            return b

        self.to_start_button = tool("toStart", "To the start (Home)", session.to_start)
        self.step_back_button = tool("stepBack", "Step back (Left)", session.step_back)
        self.play_button = tool("play", "Play / pause (Space)", session.toggle_play)
        self.step_forward_button = tool("stepForward", "Step forward (Right)", session.step_forward)
        self.to_end_button = tool("toEnd", "To the end (End)", session.to_end)
        layout.addSpacing(10)

        self.forward_button = QToolButton(self)
        self.forward_button.setText("Forward")
        self.forward_button.setObjectName("forwardMode")
        self.backward_button = QToolButton(self)
        self.backward_button.setText("Backward")
        self.backward_button.setObjectName("backwardMode")
        self.forward_button.setToolTip("Show the forward pass: h_t step by step (B toggles)")
        self.backward_button.setToolTip("Show backpropagation through time: dL/dh_t from the last step back (B toggles)")
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        for b in (self.forward_button, self.backward_button):
            b.setCheckable(True)
            b.setFocusPolicy(Qt.NoFocus)
            self.mode_group.addButton(b)
            layout.addWidget(b)
        self.forward_button.clicked.connect(lambda: self._choose_mode("forward"))
        self.backward_button.clicked.connect(lambda: self._choose_mode("backward"))
        layout.addSpacing(10)

        self.slider = QSlider(Qt.Horizontal, self)
        self.slider.setObjectName("timeline")
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.slider.setMinimumWidth(120)
        self.slider.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.slider.setToolTip("Scrub through the forward pass (left half) and the backward pass (right half)")
        self.slider.valueChanged.connect(self._scrubbed)
        layout.addWidget(self.slider, 1)

        self.position_label = QLabel(self)
        self.position_label.setObjectName("position")
        self.position_label.setAlignment(Qt.AlignVCenter | Qt.AlignLeft)
        layout.addWidget(self.position_label)
        layout.addSpacing(10)

        self.speed_combo = QComboBox(self)
        self.speed_combo.setObjectName("speed")
        self.speed_combo.setFocusPolicy(Qt.NoFocus)
        self.speed_combo.setToolTip("Playback speed (+ / −)")
        for s in playback.SPEEDS:
            self.speed_combo.addItem(speed_text(s), s)
        self.speed_combo.currentIndexChanged.connect(self._speed_chosen)
        layout.addWidget(self.speed_combo)

        self.loop_button = QToolButton(self)
        self.loop_button.setObjectName("loop")
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setFocusPolicy(Qt.NoFocus)
        self.loop_button.setToolTip("Start again after the last step (L)")
        self.loop_button.toggled.connect(session.set_loop)
        layout.addWidget(self.loop_button)

        session.networkChanged.connect(self._network_changed)
        session.positionChanged.connect(self._position_changed)
        session.playingChanged.connect(self._playing_changed)
        session.speedChanged.connect(self._speed_changed)
        session.loopChanged.connect(self._loop_changed)
        session.appearanceChanged.connect(self.refresh_icons)
        self.refresh_icons()
        self._network_changed()
        self._speed_changed(session.speed)
        self._loop_changed(session.loop)

    # session -> widgets --------------------------------------------------------------------------
    def refresh_icons(self) -> None:
        t = theme_for(self.session.theme, self.session.presentation)
        self.to_start_button.setIcon(icon("to_start", t.text))
        self.step_back_button.setIcon(icon("step_back", t.text))
        self.step_forward_button.setIcon(icon("step_forward", t.text))
        self.to_end_button.setIcon(icon("to_end", t.text))
        self._playing_changed(self.session.playing)
        font = QFont(self.font())
        font.setPointSizeF(BASE_POINT_SIZE * font_scale(self.session.presentation))
        # presentation mode: the icons grow less than the text, so the bar fits a 1280-pixel screen
        side = round(QFontMetrics(font).height() * (0.85 if self.session.presentation else 1.2))
        for b in (self.to_start_button, self.step_back_button, self.play_button,
                  self.step_forward_button, self.to_end_button):
            b.setIconSize(b.iconSize().scaled(side, side, Qt.IgnoreAspectRatio))
        self._fix_label_width()

    def _fix_label_width(self) -> None:
        # wide enough for the longest text, so the bar does not jump while playing; measured in
        # the font the label gets (bold, presentation size: the style sheet may not be applied yet)
        presenting = self.session.presentation
        font = QFont(self.position_label.font())
        font.setPointSizeF(BASE_POINT_SIZE * font_scale(presenting))
        font.setBold(True)
        fm = QFontMetrics(font)
        T = max(self.session.T, 1)
        texts = ((f"step {T} of {T}", f"dL/dh_{T}") if presenting else
                 (f"Forward · step {T} of {T}", f"Forward · h_0, step 0 of {T}", f"Backward · dL/dh_{T}"))
        longest = max(texts, key=fm.horizontalAdvance)
        self.position_label.setMinimumWidth(fm.horizontalAdvance(longest + "  "))
        self.slider.setMinimumWidth(48 if presenting else 120)
        self._position_changed(self.session.position)

    def _network_changed(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(self.session.frame_count - 1, 0))
        self.slider.setPageStep(max(1, self.session.T // 5))
        self.slider.blockSignals(False)
        self._fix_label_width()
        self._position_changed(self.session.position)

    def _position_changed(self, position: int) -> None:
        if self.slider.value() != position:
            self.slider.blockSignals(True)
            self.slider.setValue(position)
            self.slider.blockSignals(False)
        self.position_label.setText(position_text(self.session, short=self.session.presentation))
        mode = self.session.mode
        self.forward_button.setChecked(mode == "forward")
        self.backward_button.setChecked(mode == "backward")
        last = self.session.frame_count - 1
        self.step_back_button.setEnabled(position > 0)
        self.to_start_button.setEnabled(position > 0)
        self.step_forward_button.setEnabled(position < last)
        self.to_end_button.setEnabled(position < last)

    def _playing_changed(self, playing: bool) -> None:
        t = theme_for(self.session.theme, self.session.presentation)
        self.play_button.setIcon(icon("pause" if playing else "play", t.text))
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def _speed_changed(self, speed: float) -> None:
        i = min(range(len(playback.SPEEDS)), key=lambda k: abs(playback.SPEEDS[k] - speed))
        if abs(playback.SPEEDS[i] - speed) > 1e-9:  # a speed between the presets: show it too
            self.speed_combo.blockSignals(True)
            idx = self.speed_combo.findData(speed)
            if idx < 0:
                self.speed_combo.addItem(speed_text(speed), speed)
                idx = self.speed_combo.count() - 1
            self.speed_combo.setCurrentIndex(idx)
            self.speed_combo.blockSignals(False)
            return
        if self.speed_combo.currentIndex() != i:
            self.speed_combo.blockSignals(True)
            self.speed_combo.setCurrentIndex(i)
            self.speed_combo.blockSignals(False)

    def _loop_changed(self, loop: bool) -> None:
        if self.loop_button.isChecked() != loop:
            self.loop_button.setChecked(loop)

    # widgets -> session --------------------------------------------------------------------------
    def _scrubbed(self, value: int) -> None:
        self.session.set_position(value)

    def _choose_mode(self, mode: str) -> None:
        if self.session.mode != mode:
            self.session.set_mode(mode)
        else:  # clicking the mode already shown keeps it checked
            self._position_changed(self.session.position)

    def _speed_chosen(self, index: int) -> None:
        speed = self.speed_combo.itemData(index)
        if speed is not None:
            self.session.set_speed(float(speed))
