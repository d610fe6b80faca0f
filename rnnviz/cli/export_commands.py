"""`rnnviz export …`: pictures, animations, traces and histories from a script.

    rnnviz export view      --task sine --mode forward --step 5 --out view.png|view.svg
    rnnviz export animation --task sine --out anim.gif|anim.mp4 --speed 5 --passes both
    rnnviz export trace     --task sine --out t.npz|t.json        (or --model M.npz --inputs X.npy)
    rnnviz export history   --task sine --iterations 200 --out h.csv
    rnnviz export plot      --name loss --task sine --iterations 100 --out p.png|p.svg

Errors are one line on stderr and exit status 2, as for every rnnviz command (cli.main). The
app is imported inside the functions that use it: `export history` trains with the engine alone.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from rnnviz.cli.errors import CliError
from rnnviz.cli.parser import PLOT_NAMES
from rnnviz.engine import Trainer, init_model, make_task
from rnnviz.engine.io.export import save_history_csv

MAX_ITERATIONS = 1_000_000


def _check_common(args) -> None:
    if not 0 <= args.iterations <= MAX_ITERATIONS:
        raise CliError(f"--iterations must lie in 0..{MAX_ITERATIONS:,}, got {args.iterations}")
    if getattr(args, "model", None):
        if args.task:
            raise CliError("give either --task or --model, not both")
    elif getattr(args, "inputs", None) or getattr(args, "targets", None):
        raise CliError("--inputs and --targets go with --model")
    if getattr(args, "targets", None) and not args.inputs:
        raise CliError("--targets needs --inputs")
    for side in ("width", "height"):
        if getattr(args, side, 0) and getattr(args, side) > 8000:
            raise CliError(f"--{side} must be at most 8000, got {getattr(args, side)}")


def _session(args, app: bool):
    """The app's session for the arguments, trained `--iterations` first (errors: CliError)."""
    if app:
        from rnnviz.app.main import make_application

        make_application()
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    changes = {k: getattr(args, k) for k in ("hidden", "activation", "cell") if getattr(args, k, None) is not None}
    if changes.get("cell", "rnn") != "rnn" and changes.get("activation", "tanh") != "tanh":
        raise CliError(f"--activation {changes['activation']} applies to --cell rnn; an LSTM / GRU uses σ and tanh")
    config = NetworkConfig(task=args.task or "sine", architecture=args.architecture, seed=args.seed, steps=args.steps, **changes)
    try:
        session = Session(config)
    except ValueError as e:
        raise CliError(str(e)) from None
    errors: list[str] = []
    session.error.connect(errors.append)
    if getattr(args, "model", None):
        notes: list[str] = []
        session.message.connect(notes.append)
        session.load_model_file(args.model)
        if not errors and args.inputs:
            session.load_inputs_file(args.inputs, args.targets)
        elif not errors and notes and "random inputs" in notes[-1]:
            # say it on the terminal too: a picture of random inputs must not pass for real data
            print(f"rnnviz export: note: {args.model}: the model's inputs do not fit the task's, so it is shown on "
                  "random inputs; give --inputs X.npy to use yours", file=sys.stderr)
        if errors:
            session.shutdown()
            raise CliError(errors[-1])
    controller = None
    if args.iterations or getattr(args, "name", None):
        from rnnviz.app.state.training import TrainingController

        controller = TrainingController(session)
        controller.failed.connect(lambda msg, _t: errors.append(msg))
        ok, why = controller.can_train()
        if args.iterations and not ok:
            session.shutdown()
            raise CliError(f"cannot train: {why}")
        for _ in range(args.iterations):
            controller.step()
            if errors:
                controller.shutdown()
                session.shutdown()
                raise CliError(errors[-1])
    return session, controller


def _view(session, args):
    from rnnviz.app.views.unrolled.view import UnrolledView

    session.set_theme(args.theme)
    session.set_presentation(args.presentation)
    view = UnrolledView(session)
    view.resize(args.width, args.height)
    view.show()  # offscreen: lays out at the asked size, so the view follows the active step
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    if getattr(args, "gates", False):
        view.set_gates_shown(True)
    if getattr(args, "rolled", False):
        view.set_rolled(True, animate=False)
    if args.fit:
        view.fit_to_window()
    return view


def cmd_export(args: argparse.Namespace) -> int:
    if args.what is None:
        raise CliError("choose what to export: view, animation, trace, history or plot")
    _check_common(args)
    return {"view": _export_view, "animation": _export_animation, "trace": _export_trace,
            "history": _export_history, "plot": _export_plot}[args.what](args)


def _export_view(args) -> int:
    from rnnviz.app.io import export as ex
    from rnnviz.app.screenshot import place_playhead
    ex.check_suffix(args.out, (".png", ".svg"), "the view")
    session, controller = _session(args, app=True)
    try:
        try:
            place_playhead(session, args.mode, args.step)
        except ValueError as e:
            raise CliError(str(e)) from None
        view = _view(session, args)
        out = ex.export_view(view, args.out, args.width, args.height)
        view.close()
    finally:
        _close(session, controller)
    print(f"wrote {out} ({args.width}×{args.height}, {args.mode} pass, step {session.frame.active})")
    return 0


def _export_animation(args) -> int:
    from rnnviz.app.io import export as ex

    ext = ex.check_suffix(args.out, (".gif", ".mp4"), "an animation")
    if ext == ".mp4":
        ok, why = ex.video_available()
        if not ok:
            raise CliError(why)
    session, controller = _session(args, app=True)
    try:
        view = _view(session, args)
        n = len(ex.animation_positions(session.T, args.passes))
        progress = _progress(n)
        out = ex.export_animation(session, view, args.out, args.width, args.height, args.speed, args.passes, progress)
        view.close()
    finally:
        _close(session, controller)
    print(f"wrote {out} ({n} frames at {args.speed:g} steps/s, {args.width}×{args.height})")
    return 0


def _progress(n: int):
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> bool:
        sys.stderr.write(f"\rframe {done}/{total}" + ("\n" if done == total else ""))
        sys.stderr.flush()
        return True

    return report


def _export_trace(args) -> int:
    from rnnviz.app.io import export as ex

    ex.check_suffix(args.out, (".npz", ".json"), "a trace")
    session, controller = _session(args, app=False)
    try:
        trace = session.trace
        out = ex.export_trace(trace, args.out)
    finally:
        _close(session, controller)
    loss = f", loss {trace.loss:.6g}" if trace.targets is not None else ""
    print(f"wrote {out}: T={trace.T}, B={trace.B}, H={trace.hidden_size}{loss}")
    return 0


def _export_history(args) -> int:
    """Trains with the engine Trainer (no Qt), as `rnnviz train` does, and writes its history."""
    if not args.out.lower().endswith(".csv"):
        raise CliError(f"{args.out}: the training history can be saved as .csv")
    if args.iterations < 1:
        raise CliError("--iterations must be at least 1 for a history")
    task = make_task(args.task or "sine", steps=args.steps, seed=args.seed)
    d = task.defaults
    if args.architecture and args.architecture != task.architecture:
        raise CliError(f"task {task.name} is {task.architecture}; --architecture {args.architecture} is for the app's view")
    cell = args.cell
    if cell != "rnn" and args.activation not in (None, "tanh"):
        raise CliError(f"--activation {args.activation} applies to --cell rnn; an LSTM / GRU uses σ and tanh")
    activation = (args.activation or d["activation"]) if cell == "rnn" else "tanh"
    model = init_model(cell, task.input_size, args.hidden or d["hidden"], task.output_size, activation=activation,
                       architecture=task.architecture, loss=task.loss, seed=args.seed, dtype=np.float64)
    trainer = Trainer(model, task.x_train, task.y_train, optimizer=args.optimizer or d["optimizer"], lr=args.lr or d["lr"],
                      seed=args.seed, x_val=task.x_val, y_val=task.y_val, on_divergence=args.on_divergence)
    for _ in range(args.iterations):
        result = trainer.step()  # stop: a DivergenceError ends the command with its one line, nothing written
        if result.warning is not None:  # --on-divergence warn: said once, training goes on
            print(f"rnnviz export history: warning: {result.warning}", file=sys.stderr)
    out = save_history_csv(trainer.history, args.out)
    print(f"wrote {out}: {len(trainer.history.loss)} iterations of {trainer.optimizer_name} on task {task.name}, "
          f"last loss {trainer.history.loss.last():.6g}")
    return 0


def _export_plot(args) -> int:
    from rnnviz.app.io import export as ex

    ex.check_suffix(args.out, (".png", ".svg"), "a plot")
    session, controller = _session(args, app=True)
    try:
        from PySide6.QtWidgets import QApplication

        from rnnviz.app.views.plots import PLOTS

        session.set_theme(args.theme)
        cls = dict(PLOTS)[PLOT_NAMES[args.name]]
        panel = cls(session, controller)
        panel.resize(900, 560)  # the exporter scales the picture to --width
        panel.show()
        QApplication.processEvents()
        panel.draw()
        panel.move_cursor()
        QApplication.processEvents()
        out = ex.export_plot(panel, args.out, args.width)
        panel.close()
    finally:
        _close(session, controller)
    print(f"wrote {out} (plot {args.name}, after {args.iterations} iterations)")
    return 0


def _close(session, controller) -> None:
    if controller is not None:
        controller.shutdown()
    session.shutdown()
