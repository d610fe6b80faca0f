"""The engine's commands and the app's: `rnnviz app`, `show`, `trace`, `train`, `gradcheck` and
`screenshot`. Each takes the parsed arguments and returns the exit status; a problem with the
arguments or files is a CliError (shown by `rnnviz.cli.main`). The app (Qt) is imported inside
the two commands that open it, so the engine's commands run where Qt is missing."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rnnviz.cli.errors import CliError
from rnnviz.engine import (
    ACTIVATIONS, ARCHITECTURES, LOSSES, Trainer, init_model, make_task, run, save_model, save_trace,
)
from rnnviz.engine.gradcheck import random_check
from rnnviz.engine.io.npz import check_writable, load_array
from rnnviz.engine.io.probe import CLI_OPTIONS, probe_model
from rnnviz.engine.model import Model


def cmd_app(args: argparse.Namespace) -> int:
    """`rnnviz app` (and `rnnviz` alone): the desktop app."""
    try:
        from rnnviz.app.main import run_app
    except ImportError as e:
        raise CliError(f"the desktop app is not available ({e})") from None
    return run_app(task=args.task)


def cmd_show(args: argparse.Namespace) -> int:
    """`rnnviz show --model`: the app on exactly that network and data, the guesses said first."""
    if args.targets and not args.inputs:
        raise CliError("--targets needs --inputs")
    model, x, y, said = open_model(args)
    if x is not None:
        try:  # the whole pass here, so that data that do not fit are one line, before any window opens
            run(model, x, y)
        except ValueError as e:
            raise CliError(f"{args.inputs}: {e}") from None
    say(said)
    try:
        from rnnviz.app.main import run_app
    except ImportError as e:
        raise CliError(f"the desktop app is not available ({e})") from None
    return run_app(model=model, inputs=x, targets=y, label=Path(args.model).name, report=said)


def cmd_screenshot(args: argparse.Namespace) -> int:
    """`rnnviz screenshot`: the main window rendered to a PNG without a display."""
    if not args.out.lower().endswith(".png"):
        raise CliError(f"--out must be a .png file, got {args.out!r}")
    if args.width > 8000 or args.height > 8000:
        raise CliError(f"--width and --height must be at most 8000, got {args.width}×{args.height}")
    try:
        from rnnviz.app.screenshot import ScreenshotSpec, render_screenshot
    except ImportError as e:
        raise CliError(f"the desktop app is not available ({e})") from None
    spec = ScreenshotSpec(
        out=args.out, task=args.task, step=args.step, mode=args.mode, width=args.width, height=args.height,
        theme=args.theme, presentation=args.presentation, architecture=args.architecture,
        activation=args.activation, hidden=args.hidden, steps=args.steps, seed=args.seed, select=args.select,
        rolled=args.rolled, hide_controls=args.hide_controls, fit=args.fit, cell=args.cell, gates=args.gates,
    )
    out = render_screenshot(spec)
    print(f"wrote {out} ({args.width}×{args.height})")
    return 0


def open_model(args: argparse.Namespace, steps: int | None = None) -> tuple[Model, np.ndarray, np.ndarray | None, list[str]]:
    """--model with --inputs (T, B, I) and --targets arranged as the engine reads them. What the
    file does not record (architecture, loss, an nn.RNN's nonlinearity, the inputs' layout) is
    guessed as the app's dialog guesses it (engine/io/probe.py) and said on stderr, one line each;
    the flags win. A shape that does not fit names the flag that would make it fit. Returns the
    model, x, y and the lines saying the guesses, for the command to print once the run is
    accepted (an error is then the one line on stderr)."""
    x = load_array(args.inputs, "inputs") if args.inputs else None
    y = load_array(args.targets, "targets") if args.targets else None
    nonlinearity = args.nonlinearity or args.activation
    if args.nonlinearity and args.activation and args.nonlinearity != args.activation:
        raise CliError(f"--nonlinearity {args.nonlinearity} and --activation {args.activation} disagree; give one")
    probe = probe_model(args.model, x, y, batch_first=args.batch_first)
    given = {"architecture": args.architecture, "loss": args.loss, "nonlinearity": nonlinearity, "batch_first": args.batch_first}
    said = []  # on stderr once everything fits (an error is then the one line, naming the flag that fits)
    for name, guess in probe.questions():
        if given[name] is None and (name != "batch_first" or x is not None):
            value = ("batch first (B, T, I)" if guess.value else "time-major (T, B, I)") if name == "batch_first" else guess.value
            said.append(f"{'layout' if name == 'batch_first' else name}: {value} ({guess.reason})")
    model = probe.build(architecture=args.architecture, loss=args.loss, nonlinearity=nonlinearity)
    if x is None:
        return model, x, None, said
    try:
        x = probe.arrange_inputs(x, args.batch_first)
    except ValueError as e:
        raise CliError(f"{args.inputs}: {e}") from None
    if y is not None:
        T = steps if steps and model.architecture == "one-to-many" else x.shape[0]
        try:
            y = probe.arrange_targets(y, np.empty((T, x.shape[1], 0)), architecture=model.architecture, loss=model.loss,
                                      batch_first=args.batch_first, options=CLI_OPTIONS)
        except ValueError as e:
            raise CliError(f"{args.targets}: {e}") from None
    return model, x, y, said


def say(lines: list[str]) -> None:
    """The guesses made for what a model file does not record, on stderr, one line each."""
    for line in lines:
        print(line, file=sys.stderr)


def cmd_trace(args: argparse.Namespace) -> int:
    """`rnnviz trace`: one forward and backward pass of a model file on given inputs, saved."""
    check_writable(args.out)
    model, x, targets, said = open_model(args, steps=args.steps)
    if args.loss_reduction:  # else what the model file records (mean for files that do not say)
        model.loss_reduction = args.loss_reduction
    try:
        trace = run(model, x, targets, steps=args.steps, tbptt=args.tbptt)
    except ValueError as e:
        raise CliError(f"{args.inputs}{' / ' + args.targets if args.targets else ''}: {e}") from None
    say(said)
    save_trace(trace, args.out)
    T, B, _ = trace.x.shape
    loss = f", loss {trace.loss:.6g}" if targets is not None else ""
    print(f"wrote {args.out}: T={T}, B={B}, H={trace.hidden_size}{loss}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """`rnnviz train`: train on a task or on a model file with its data; print the losses."""
    if args.model:
        if args.task:
            raise CliError("give either --task or --model, not both")
        if not (args.inputs and args.targets):
            raise CliError("--model needs --inputs and --targets")
        model, x, y, said = open_model(args)
        if args.cell and model.cell != args.cell:
            raise CliError(f"--cell {args.cell}, but {args.model} holds a {model.cell!r} model")
        defaults = dict(optimizer="adam", lr=0.01, iterations=500)
        x_val = y_val = None
        label = args.model
    else:
        if args.inputs or args.targets:
            raise CliError("--inputs and --targets go with --model")
        if args.nonlinearity or args.batch_first is not None:
            raise CliError("--nonlinearity, --batch-first and --time-major go with --model (with --task: --activation)")
        said: list[str] = []
        task = make_task(args.task or "sine", steps=args.steps, seed=args.seed, lag=args.lag)
        defaults = task.defaults
        cell = args.cell or "rnn"
        model = init_model(cell, task.input_size, args.hidden or defaults["hidden"], task.output_size,
                           activation=args.activation or (defaults["activation"] if cell == "rnn" else "tanh"),
                           architecture=task.architecture, loss=task.loss, seed=args.seed,
                           dtype=np.float32 if args.float32 else np.float64)
        model.extra_meta["task"] = task.name
        x, y, x_val, y_val = task.x_train, task.y_train, task.x_val, task.y_val
        label = f"task {task.name}"
    if args.float32:
        model = model.astype(np.float32)
    try:
        trainer = Trainer(model, x, y, optimizer=args.optimizer or defaults["optimizer"], lr=args.lr or defaults["lr"],
                          momentum=args.momentum, clip=args.clip, batch_size=args.batch_size, seed=args.seed,
                          tbptt=args.tbptt, x_val=x_val, y_val=y_val, on_divergence=args.on_divergence,
                          loss_reduction=args.loss_reduction, clip_mode=args.clip_mode, stateful=args.stateful,
                          adagrad_eps=args.adagrad_eps)
    except ValueError as e:
        raise CliError(str(e)) from None
    say(said)
    if args.out:
        check_writable(args.out)  # before training, not after it
    iterations = args.iterations or defaults["iterations"]
    progress = _Progress(iterations, enabled=sys.stderr.isatty())
    first = None
    result = None
    try:
        for _ in range(iterations):
            result = trainer.step()
            if result.warning is not None:  # --on-divergence warn: said once, training goes on
                print(f"rnnviz train: warning: {result.warning}", file=sys.stderr)
            if first is None:
                first = result.loss
            progress.update(result.iteration, result.loss)
    finally:
        progress.close()
    assert result is not None and first is not None
    cell = model.cell
    print(f"{label}: {model.hidden_size} hidden units{'' if cell == 'rnn' else ' (' + cell.upper() + ')'}, "
          f"{iterations} iterations of {trainer.optimizer_name}")
    print(f"first loss {first:.6g}")
    print(f"last loss  {result.loss:.6g}")
    if trainer.x_val is not None:
        print(f"held-out loss {trainer.validation_loss():.6g}")
    if args.out:
        save_model(model, args.out)
        print(f"wrote {args.out}")
    return 0


class _Progress:
    """A one-line progress bar on a terminal: [#####.....] 52% it 520/1000 loss 0.0123"""

    def __init__(self, total: int, enabled: bool, width: int = 30) -> None:
        self.total, self.enabled, self.width = total, enabled, width
        self._last = 0.0

    def update(self, i: int, loss: float) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and i != self.total):
            return
        self._last = now
        done = int(self.width * i / self.total)
        bar = "#" * done + "." * (self.width - done)
        sys.stderr.write(f"\r[{bar}] {100 * i // self.total:3d}% it {i}/{self.total} loss {loss:.6g}  ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """`rnnviz gradcheck`: BPTT against finite differences on random small models; exit 1 if off."""
    worst = 0.0
    rows = []
    cell = args.cell
    if cell != "rnn" and args.activation not in (None, "tanh"):
        raise CliError(f"{'an' if cell == 'lstm' else 'a'} {cell.upper()} has fixed nonlinearities; --activation {args.activation} applies to --cell rnn")
    acts = [args.activation] if args.activation else ACTIVATIONS
    for act in acts if cell == "rnn" else [cell]:
        for arch in [args.architecture] if args.architecture else ARCHITECTURES:
            for loss in [args.loss] if args.loss else LOSSES:
                if cell == "rnn":
                    errs = random_check(seed=args.seed, activation=act, architecture=arch, loss=loss)
                else:
                    errs = random_check(seed=args.seed, architecture=arch, loss=loss, cell=cell, T=4, B=2, I=2, H=3, O=2)
                w = max(errs.values())
                worst = max(worst, w)
                rows.append(f"{act:9s} {arch:13s} {loss:14s} worst {w:.2e} ({max(errs, key=errs.get)})")
    print("\n".join(rows))
    print(f"worst relative error {worst:.3e} ({'ok' if worst < 1e-6 else 'TOO LARGE'})")
    return 0 if worst < 1e-6 else 1
