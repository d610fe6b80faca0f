"""The README's two set-up commands: the first installs and starts the app, the second installs
the test extra and runs the tests, and `.ci/run` runs that second command verbatim, so that what
CI checks is what a newcomer types."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> tuple[str, str]:
    """The README's first two ```sh blocks, each one command line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(?:sh|bash)\n(.*?)^```", readme, re.S | re.M)
    assert len(blocks) >= 2, "the README should open with two ```sh blocks: set up and start; set up and test"
    commands = []
    for block in blocks[:2]:
        lines = [line for line in block.strip().splitlines() if line.strip()]
        assert len(lines) == 1, f"a set-up block should be one command line to copy, not:\n{block}"
        commands.append(lines[0].strip())
    return commands[0], commands[1]


def steps(command: str) -> list[list[str]]:
    """`a && b && c` as its steps, each split into words the way the shell would."""
    return [shlex.split(step) for step in command.split("&&")]


def installs(step: list[str]) -> str | None:
    """What a `pip install` step installs (the last argument), or None for any other step."""
    if Path(step[0]).name == "pip" and "install" in step:
        return step[-1]
    return None


def test_first_command_installs_the_package_and_starts_rnnviz():
    first, _ = setup_commands()
    parts = steps(first)
    assert parts[0][:3] == ["python3", "-m", "venv"]
    assert [installs(p) for p in parts].count(".") == 1, f"{first!r} should pip install the package itself"
    last = parts[-1]
    assert len(last) == 1 and last[0] == f"{parts[0][3]}/bin/rnnviz", f"{first!r} should end by starting rnnviz"
    # and `rnnviz` is the command the package installs
    assert re.search(r'^rnnviz\s*=\s*"rnnviz\.', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)


def test_second_command_installs_the_test_extra_and_runs_pytest():
    _, second = setup_commands()
    parts = steps(second)
    assert parts[0][:3] == ["python3", "-m", "venv"]
    assert ".[test]" in [installs(p) for p in parts], f"{second!r} should pip install '.[test]'"
    assert parts[-1][:3] == [f"{parts[0][3]}/bin/python", "-m", "pytest"], f"{second!r} should end by running pytest"


def test_ci_runs_the_readme_test_command_verbatim():
    _, second = setup_commands()
    ci = ROOT / ".ci" / "run"
    run_lines = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
    assert second in run_lines, f".ci/run should run the README's test command verbatim:\n  {second}\nit runs:\n  " + \
        "\n  ".join(run_lines)
    assert run_lines[-1] == second, ".ci/run should end with the README's test command (its exit status is CI's)"
    assert "set -euo pipefail" in run_lines, ".ci/run should stop at the first failing step"
    assert os.access(ci, os.X_OK), ".ci/run should be executable"
