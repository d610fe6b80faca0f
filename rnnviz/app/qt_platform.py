"""Before Qt loads its X11 platform plugin (xcb): are the system libraries it needs there?

On Linux the PySide6 wheels bring Qt but not every X11 library Qt's xcb plugin links against;
a fresh Debian/Ubuntu lacks `libxcb-cursor0`, `libxcb-icccm4` and `libxcb-keysyms1`. Qt then
aborts the process (qFatal) with a message that names the plugin, not the fix. So before the
QApplication is built we load the plugin's library ourselves: the dynamic loader's error names
the first missing library, and the person gets the one line that installs them all.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Callable, Mapping

# what Qt's xcb plugin needs beyond a desktop's usual X11 libraries (Debian/Ubuntu names)
DEBIAN_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1")
APT_LINE = "sudo apt-get install -y " + " ".join(DEBIAN_PACKAGES)

# the Debian package that holds a library, for the ones the loader may name
_PACKAGE_OF = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def will_use_xcb(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will pick its X11 plugin: asked for by name, or the default on an X11 session."""
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return bool(env.get("DISPLAY")) and env.get("XDG_SESSION_TYPE") != "wayland"


def xcb_library() -> Path | None:
    """Path of the PySide6 wheel's libQt6XcbQpa (the xcb plugin's body), without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "lib" / "libQt6XcbQpa.so.6"
    return path if path.exists() else None


def missing_library(library: Path, load: Callable[[str], object] = ctypes.CDLL) -> str | None:
    """The loader's complaint when `library` cannot load (None when it loads)."""
    try:
        load(str(library))
    except OSError as e:
        return str(e)
    return None


def advice(complaint: str) -> str:
    """What to tell the person, from the loader's complaint."""
    m = re.search(r"([\w.+-]+\.so[\w.]*): cannot open shared object file", complaint)
    name = m.group(1) if m else None
    package = _PACKAGE_OF.get(name or "")
    extra = f" {package}" if package and package not in DEBIAN_PACKAGES else ""
    what = f"{name} is missing" if name else complaint.strip().splitlines()[0]
    return (f"rnnviz cannot open a window: Qt's X11 support needs system libraries that are not "
            f"installed ({what}).\nOn Debian/Ubuntu install them with:\n    {APT_LINE}{extra}\n"
            f"(Other systems: install the xcb-cursor, xcb-icccm and xcb-keysyms libraries.)")


def platform_problem(env: Mapping[str, str] | None = None,
                     load: Callable[[str], object] = ctypes.CDLL) -> str | None:
    """A message naming the fix when Qt's X11 plugin would fail to load, else None."""
    if not will_use_xcb(os.environ if env is None else env):
        return None
    library = xcb_library()
    if library is None:
        return None
    complaint = missing_library(library, load)
    return None if complaint is None else advice(complaint)
