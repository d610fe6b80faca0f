"""Test configuration: Qt runs headless and the tests never touch the person's settings.

pyproject.toml's [tool.pytest.ini_options] adds the rest: every warning and every Qt warning
fails the test that caused it, and a test hung for two minutes prints every thread's stack."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

# never touch the person's settings or app-data folder: sessions' recovery file and QSettings
# (recent files, window layout) go to a temporary folder for the whole test run
import tempfile as _tempfile

_TEST_HOME = _tempfile.mkdtemp(prefix="rnnviz-tests-")
os.environ.setdefault("RNNVIZ_DATA_DIR", os.path.join(_TEST_HOME, "data"))
os.environ.setdefault("RNNVIZ_CONFIG_DIR", os.path.join(_TEST_HOME, "config"))
