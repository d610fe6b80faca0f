"""A missing X11 library for Qt's xcb plugin ends in the apt-get line that fixes it, not in
Qt's abort with a message about its plugin."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from rnnviz.app import qt_platform

MISSING_CURSOR = ("libxcb-cursor.so.0: cannot open shared object file: No such file or directory")


def refuse(complaint: str):
    def load(path: str) -> object:
        raise OSError(complaint)
    return load


@pytest.mark.parametrize("env, expected", [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb:foo"}, True),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, False),
    ({}, False),
])
def test_xcb_is_used_on_an_x11_session_or_when_asked_for(env, expected):
    assert qt_platform.will_use_xcb(env, "linux") is expected
    assert qt_platform.will_use_xcb(env, "darwin") is False


def test_a_missing_library_gives_the_apt_line_and_names_it():
    problem = qt_platform.platform_problem({"DISPLAY": ":0"}, load=refuse(MISSING_CURSOR))
    if qt_platform.xcb_library() is None:
        pytest.skip("this PySide6 has no xcb plugin library to check")
    assert problem is not None
    assert "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in problem
    assert "libxcb-cursor.so.0 is missing" in problem
    assert "plugin" not in problem  # Qt's words, not ours


def test_a_library_outside_the_three_is_added_to_the_line():
    text = qt_platform.advice("libxkbcommon-x11.so.0: cannot open shared object file: No such file")
    assert text.splitlines()[2].strip().endswith("libxcb-keysyms1 libxkbcommon-x11-0")


def test_nothing_to_say_when_the_library_loads_or_qt_is_not_on_x11():
    assert qt_platform.platform_problem({"DISPLAY": ":0"}, load=lambda path: object()) is None
    assert qt_platform.platform_problem({"QT_QPA_PLATFORM": "offscreen"}, load=refuse(MISSING_CURSOR)) is None


def test_the_app_exits_with_the_advice_instead_of_qt_aborting():
    """In a fresh interpreter (no QApplication yet), as `rnnviz` would start on an X11 display
    whose libraries are missing: exit status 1 and the apt-get line on stderr."""
    if qt_platform.xcb_library() is None:
        pytest.skip("this PySide6 has no xcb plugin library to check")
    code = textwrap.dedent(f"""
        import os
        os.environ.pop("QT_QPA_PLATFORM", None)
        os.environ["DISPLAY"] = ":4242"
        from rnnviz.app import main, qt_platform
        qt_platform.missing_library = lambda library, load=None: {MISSING_CURSOR!r}
        main.make_application()
        print("a QApplication was made")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in done.stderr
    assert "a QApplication was made" not in done.stdout
