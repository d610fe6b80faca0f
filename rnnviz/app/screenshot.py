"""Render the whole main window headlessly to a PNG (`rnnviz screenshot`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ScreenshotSpec:
    out: str
    task: str = "sine"
    step: int | None = None  # None: where the app opens (the finished forward pass)
    mode: str = "forward"
    width: int = 1600
    height: int = 1000
    theme: str = "light"
    presentation: bool = False
    architecture: str | None = None
    activation: str | None = None
    hidden: int | None = None
    steps: int | None = None
    seed: int = 0
    select: str | None = None  # "W_hh:3", "h:2", "h:2:1" (kind:step[:unit])
    rolled: bool = False
    hide_controls: bool = False
    fit: bool = False  # fit the whole network into the view instead of the app's readable default
    cell: str = "rnn"  # "rnn", "lstm" or "gru"
    gates: bool = False  # gated cells: show the gates (expanded)


def place_playhead(session, mode: str, step: int | None) -> None:
    """Put the timeline at `step` of the `mode` pass (None: the start of the backward pass, or
    where the app opens for forward). ValueError for a step outside the sequence."""
    if step is not None:
        if not 0 <= step <= session.T:
            raise ValueError(f"--step must lie in 0..{session.T} for this sequence, got {step}")
        session.go_to(mode, step)
    elif mode == "backward":
        session.set_mode("backward")


def parse_selection(text: str, T: int, model=None):
    """ "W_hh:3" -> Selection("W_hh", 3); "h:2:1" -> unit 1. ValueError with a clear message.
    With `model`, the kind must exist for its cell and the unit must lie within its vector."""
    from rnnviz.app.state.selection import Selection

    kinds = ("x", "h", "y", "W_xh", "W_hh", "W_hy", "c", "gate")
    if text.startswith("gate:"):  # "gate:f:3[:1]": the kind holds a colon
        text = "gate/" + text[5:]
    parts = text.split(":")
    gate = parts[0].startswith("gate/")
    if gate:
        if parts[0][5:] not in ("i", "f", "g", "o", "r", "z", "n"):
            raise ValueError(f"--select gate:NAME expects a gate i, f, g, o (LSTM) or r, z, n (GRU), got {text!r}")
        parts[0] = "gate:" + parts[0][5:]
    if len(parts) not in (2, 3) or (parts[0] not in kinds and not gate):
        raise ValueError(f"--select expects KIND:STEP[:UNIT] with KIND one of {', '.join(kinds)}, got {text!r}")
    try:
        t = int(parts[1])
        unit = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise ValueError(f"--select expects whole numbers for STEP and UNIT, got {text!r}") from None
    lo = 0 if parts[0] in ("h", "c") else 1
    if not lo <= t <= T:
        raise ValueError(f"--select step must lie in {lo}..{T} for {parts[0]}, got {t}")
    if model is not None:
        _check_selection_fits(parts[0], unit, model)
    return Selection(parts[0], t, unit)


def _check_selection_fits(kind: str, unit: int | None, model) -> None:
    cell = model.cell
    gates = {"lstm": "ifgo", "gru": "rzn"}.get(cell, "")
    name = {"lstm": "an LSTM", "gru": "a GRU"}.get(cell, "a vanilla RNN")
    if kind == "c" and cell != "lstm":
        raise ValueError(f"--select c needs an LSTM (--cell lstm); this network is {name}")
    if kind.startswith("gate:") and kind[5:] not in gates:
        have = f"its gates are {', '.join(gates)}" if gates else "it has no gates (--cell lstm or gru)"
        raise ValueError(f"--select {kind}: this network is {name}, {have}")
    size = {"x": model.input_size, "y": model.output_size}.get(kind, None if kind.startswith("W_") else model.hidden_size)
    if unit is not None and size is not None and not 0 <= unit < size:
        raise ValueError(f"--select unit must lie in 0..{size - 1} for {kind}, got {unit}")


def render_screenshot(spec: ScreenshotSpec) -> Path:
    """Build the session and window for `spec`, lay it out at the asked size, grab it, save it."""
    from rnnviz.app.main import make_application

    app = make_application()
    from PySide6.QtCore import QSize

    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    if spec.mode not in ("forward", "backward"):
        raise ValueError(f"--mode must be forward or backward, got {spec.mode!r}")
    if spec.cell != "rnn" and spec.activation not in (None, "tanh"):
        raise ValueError(f"--activation {spec.activation} applies to the vanilla cell; an {spec.cell.upper()} uses σ and tanh")
    config = NetworkConfig(task=spec.task, architecture=spec.architecture, seed=spec.seed, steps=spec.steps,
                           cell=spec.cell)
    changes = {}
    if spec.hidden is not None:
        changes["hidden"] = spec.hidden
    if spec.activation is not None:
        changes["activation"] = spec.activation
    from dataclasses import replace

    config = replace(config, **changes)
    session = Session(config)
    errors: list[str] = []
    session.error.connect(errors.append)
    window = MainWindow(session, allow_fullscreen=False)
    window.error_dialogs = False
    try:
        session.set_theme(spec.theme)
        session.set_presentation(spec.presentation)
        place_playhead(session, spec.mode, spec.step)
        if spec.select:
            session.select(parse_selection(spec.select, session.T, session.model))
        if spec.gates:
            window.view.set_gates_shown(True)
        window.resize(QSize(spec.width, spec.height))
        window.show()
        if spec.hide_controls:
            window.set_controls_hidden(True)
        for _ in range(3):
            app.processEvents()
        window.refresh_appearance()  # dock sizes for the final window size
        app.processEvents()
        if spec.rolled:
            window.set_rolled(True, animate=False)
        if spec.fit:
            window.view.fit_to_window()
        app.processEvents()
        image = window.grab().toImage()
        if image.width() != spec.width or image.height() != spec.height:
            from PySide6.QtCore import Qt

            image = image.scaled(spec.width, spec.height, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
        out = Path(spec.out)
        if not image.save(str(out), "PNG"):
            raise OSError(f"could not write {out}")
        if errors:
            raise ValueError(errors[-1])
        return out
    finally:
        window.close()
        session.shutdown()
        window.deleteLater()
        app.processEvents()
