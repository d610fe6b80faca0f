"""`import rnnviz` loads neither torch nor Qt; rnnviz.trace() on NumPy data never does either,
and a torch object handed in is read without rnnviz importing torch itself."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = "sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'shiboken6', 'pyqtgraph'))"


def loaded_after(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint({HEAVY})"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_importing_rnnviz_loads_no_torch_and_no_qt():
    assert loaded_after("import rnnviz\nassert callable(rnnviz.show) and callable(rnnviz.trace)") == "[]"


def test_importing_the_api_package_loads_no_torch_and_no_qt():
    assert loaded_after("import rnnviz.api.network, rnnviz.api.show, rnnviz.api.headless, rnnviz.api.torch_modules") == "[]"


def test_a_headless_trace_of_an_rnnviz_model_loads_no_torch_and_no_qt():
    code = ("import rnnviz\nfrom rnnviz.engine import init_rnn, make_task\n"
            "task = make_task('sine')\n"
            "tr = rnnviz.trace(init_rnn(1, 4, 1), task.x_train, task.y_train, quiet=True)\nassert tr.loss > 0")
    assert loaded_after(code) == "[]"


def test_rnnviz_reads_a_torch_module_without_importing_torch_itself():
    # torch is imported by the caller only; rnnviz's modules never name it (the import-linter
    # contract api-reads-torch-objects checks the source, this the running interpreter)
    code = ("import builtins\nimport torch\n"
            "real = builtins.__import__\n"
            "def guard(name, globals=None, *a, **k):\n"
            "    if name.split('.')[0] == 'torch' and (globals or {}).get('__name__', '').startswith('rnnviz'):\n"
            "        raise AssertionError('rnnviz imported torch from ' + globals['__name__'])\n"
            "    return real(name, globals, *a, **k)\n"
            "builtins.__import__ = guard\n"
            "import rnnviz\n"
            "net = torch.nn.RNN(3, 4).double()\nfc = torch.nn.Linear(4, 2).double()\n"
            "tr = rnnviz.trace(net, torch.zeros(5, 2, 3), readout=fc, quiet=True)\nassert tr.h.shape == (6, 2, 4)")
    assert "torch" in loaded_after(code)
