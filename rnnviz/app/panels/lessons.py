"""The lessons dock: pick a lesson, read one short step at a time, Back / Next. Each step sets
the app up (lessons.runner.apply_step, through a LessonHost) and, when it has a check, ticks it
off as soon as the app's state satisfies it."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from rnnviz.app.lessons.format import LESSONS_DIR, Lesson, load_lessons_lenient
from rnnviz.app.lessons.host import LessonHost
from rnnviz.app.lessons.markup import render_inline, render_markup
from rnnviz.app.lessons.runner import apply_step, check_status, describe_check
from rnnviz.app.state.training import TrainingController


class LessonsPanel(QWidget):
    """The lessons, one step at a time, acting on the app through `host`; `controller`'s
    progress re-judges a step's check (e.g. "train for 200 iterations")."""

    def __init__(self, host: LessonHost, controller: TrainingController | None = None,
                 folder: str | Path = LESSONS_DIR, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.session = session = host.session
        self.lessons, self.errors = load_lessons_lenient(folder)
        self.lesson: Lesson | None = None
        self.index = 0
        self.notes: list[str] = []
        self.status: bool | None = None  # the current step's check: True met, False not yet, None none

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        self.lesson_combo = QComboBox(self)
        self.lesson_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.lesson_combo.setMinimumContentsLength(12)
        for lesson in self.lessons:
            self.lesson_combo.addItem(f"{lesson.number}. {lesson.title}")
        lay.addWidget(self.lesson_combo)
        head = QHBoxLayout()
        self.step_title = QLabel(self)
        self.step_title.setObjectName("lessonStepTitle")
        self.step_title.setStyleSheet("font-weight: bold;")
        self.step_title.setWordWrap(True)
        self.progress = QLabel(self)
        self.progress.setObjectName("muted")
        self.progress.setAlignment(Qt.AlignRight | Qt.AlignTop)
        head.addWidget(self.step_title, 1)
        head.addWidget(self.progress)
        lay.addLayout(head)
        self.text = QTextBrowser(self)
        self.text.setObjectName("lessonText")
        self.text.setOpenLinks(False)
        self.text.setFrameShape(QTextBrowser.NoFrame)
        self.text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.text.setMinimumHeight(self.fontMetrics().height() * 5)  # a few lines without scrolling; more when there is room
        lay.addWidget(self.text, 1)
        self.ask_label = QLabel(self)
        self.ask_label.setObjectName("lessonAsk")
        self.ask_label.setWordWrap(True)
        self.ask_label.setTextFormat(Qt.RichText)
        lay.addWidget(self.ask_label)
        self.check_label = QLabel(self)
        self.check_label.setObjectName("lessonCheck")
        self.check_label.setWordWrap(True)
        lay.addWidget(self.check_label)
        self.note_label = QLabel(self)
        self.note_label.setObjectName("muted")
        self.note_label.setWordWrap(True)
        lay.addWidget(self.note_label)
        buttons = QHBoxLayout()
        self.back_button = QPushButton("◀ Back", self)
        self.again_button = QPushButton("Set up again", self)
        self.again_button.setToolTip("Put the app back the way this step set it up")
        self.next_button = QPushButton("Next ▶", self)
        self.next_button.setDefault(True)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        lay.addLayout(buttons)
        self.setMinimumWidth(260)

        self.lesson_combo.currentIndexChanged.connect(lambda i: self.open_lesson(i))
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.again_button.clicked.connect(lambda: self.go(self.index))
        for sig in (session.positionChanged, session.selectionChanged, session.networkChanged,
                    session.traceChanged, session.appearanceChanged):
            sig.connect(self.update_check)
        if controller is not None:
            controller.progressed.connect(self.update_check)
        self._poll = QTimer(self)  # the rolled view has no signal of its own: look twice a second
        self._poll.setInterval(500)
        self._poll.timeout.connect(self.update_check)
        self._show_empty() if not self.lessons else self._show(apply=False)

    # navigation ------------------------------------------------------------------------------
    def open_lesson(self, i: int, apply: bool = True) -> None:
        if not 0 <= i < len(self.lessons):
            return
        if self.lesson_combo.currentIndex() != i:
            self.lesson_combo.blockSignals(True)
            self.lesson_combo.setCurrentIndex(i)
            self.lesson_combo.blockSignals(False)
        self.lesson = self.lessons[i]
        self.index = 0
        self._show(apply)

    def go(self, index: int) -> None:
        if self.lesson is None:
            self.open_lesson(0)
            return
        self.index = max(0, min(index, len(self.lesson.steps) - 1))
        self._show(apply=True)

    def next(self) -> None:
        if self.lesson is not None and self.index == len(self.lesson.steps) - 1:
            i = self.lessons.index(self.lesson)
            if i + 1 < len(self.lessons):
                self.open_lesson(i + 1)  # Next on the last step: the next lesson
            return
        self.go(self.index + 1)

    def back(self) -> None:
        self.go(self.index - 1)

    # showing -----------------------------------------------------------------------------------
    def _show_empty(self) -> None:
        self.step_title.setText("No lessons found")
        self.text.setHtml(render_markup("\n\n".join(self.errors) or f"Put lesson files in {LESSONS_DIR}."))
        for b in (self.back_button, self.next_button, self.again_button):
            b.setEnabled(False)

    def _show(self, apply: bool) -> None:
        if self.lesson is None:
            self.lesson = self.lessons[self.lesson_combo.currentIndex() if self.lesson_combo.currentIndex() >= 0 else 0]
        lesson, step = self.lesson, self.lesson.steps[self.index]
        self.notes = apply_step(lesson, self.index, self.host) if apply else []
        n = len(lesson.steps)
        self.progress.setText(f"step {self.index + 1} of {n}")
        self.step_title.setText(step.title or lesson.title)
        self.text.setHtml(render_markup(step.text))
        self.ask_label.setText(f"<b>Your turn:</b> {render_inline(step.ask)}" if step.ask else "")
        self.ask_label.setVisible(bool(step.ask))
        notes = list(self.notes) + [f"Skipped a lesson file: {e}" for e in self.errors]
        self.note_label.setText("\n".join(notes))
        self.note_label.setVisible(bool(notes))
        self.back_button.setEnabled(self.index > 0)
        last_lesson = self.lessons.index(lesson) == len(self.lessons) - 1
        self.next_button.setEnabled(not (self.index == n - 1 and last_lesson))
        self.next_button.setText("Next lesson ▶" if self.index == n - 1 else "Next ▶")
        self.again_button.setEnabled(True)
        if step.check and "rolled" in step.check:
            self._poll.start()
        else:
            self._poll.stop()
        self.update_check()

    def update_check(self, *_args) -> None:
        if self.lesson is None:
            return
        step = self.lesson.steps[self.index]
        status = check_status(step.check, self.host)
        self.status = status
        if not step.check:
            self.check_label.setText("")
            self.check_label.setVisible(False)
            return
        goal = describe_check(step.check)
        if status is True:
            text = f"✔ Done: {goal}."
        elif status is False:
            text = f"○ Goal: {goal}."
        else:
            text = f"Goal: {goal} (cannot be checked here)."
        self.check_label.setText(text)
        self.check_label.setStyleSheet("color: #009E73; font-weight: bold;" if status else "")
        self.check_label.setVisible(True)

