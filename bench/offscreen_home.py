"""Imported first by the benchmarks that start the app: Qt draws offscreen, and the app's
settings and recovery files go to a temporary folder, never the person's."""
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HOME = tempfile.mkdtemp(prefix="rnnviz-bench-")
os.environ.setdefault("RNNVIZ_DATA_DIR", os.path.join(HOME, "data"))
os.environ.setdefault("RNNVIZ_CONFIG_DIR", os.path.join(HOME, "config"))
