"""The `rnnviz` command line: the app, and engine commands (trace, train, gradcheck)."""
from __future__ import annotations

import argparse
import sys
import time
from typing import NoReturn, Sequence

import numpy as np


class CliError(Exception):
    """A problem with the arguments or files, shown as one line on stderr."""


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {n}")
    return n


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def _unit_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return v


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr, `rnnviz train: error: ...`, exit 2
    (argparse's own error() prints the whole usage block first). Subparsers inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, LOSSES, OPTIMIZERS, TASKS

    parser = _Parser(
        prog="rnnviz",
        description="See, step by step, what a recurrent neural network computes. "
        "With no command, opens the app on the default demo (the sine task).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = sub.choices  # name -> subparser, so main() can report errors as "rnnviz <cmd>: error:"

    app = sub.add_parser("app", help="open the desktop app (the default)")
    app.add_argument("--task", choices=list(TASKS), default="sine")

    tr = sub.add_parser("trace", help="one forward and backward pass of a model, saved as a trace file",
                        description="Run one forward pass and BPTT of a model on given inputs and save the full trace (.npz).")
    tr.add_argument("--model", required=True, help="rnnviz model .npz, or a PyTorch nn.RNN+nn.Linear state dict (.npz with PyTorch key names, or .pt)")
    tr.add_argument("--inputs", required=True, help="inputs .npy: (T,B,I) or (T,I)")
    tr.add_argument("--targets", help="targets .npy: (T,B,O)/(T,O) for mse, integer (T,B)/(T,) for cross-entropy; many-to-one: (B,O)/(B,)")
    tr.add_argument("--steps", type=_positive_int, help="one-to-many: number of steps when the inputs hold only the first")
    tr.add_argument("--tbptt", type=_positive_int, help="truncated BPTT window k")
    tr.add_argument("--architecture", choices=ARCHITECTURES)
    tr.add_argument("--activation", choices=ACTIVATIONS)
    tr.add_argument("--loss", choices=LOSSES)
    tr.add_argument("--out", required=True, help="where to write the trace .npz")

    t = sub.add_parser("train", help="train on a built-in task or on your own data",
                       description="Train an RNN (vanilla, LSTM or GRU) and write the trained model. Either --task, or --model with --inputs and --targets.")
    t.add_argument("--cell", choices=("rnn", "lstm", "gru"), help="with --task: the cell (default rnn, the vanilla cell); "
                   "with --model: the file decides (an LSTM/GRU state dict or model file is one)")
    t.add_argument("--task", choices=list(TASKS), help="built-in task (default sine unless --model is given)")
    t.add_argument("--model", help="start from this model file instead of a task")
    t.add_argument("--inputs", help="inputs .npy (T,N,I) for --model")
    t.add_argument("--targets", help="targets .npy for --model")
    t.add_argument("--hidden", type=_positive_int, help="hidden units (task default otherwise)")
    t.add_argument("--steps", type=_positive_int, help="sequence length of the task")
    t.add_argument("--lag", type=int, default=3, help="echo task: how many steps back")
    t.add_argument("--activation", choices=ACTIVATIONS)
    t.add_argument("--architecture", choices=ARCHITECTURES, help="with --model: override its meta")
    t.add_argument("--loss", choices=LOSSES, help="with --model: override its meta")
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--lr", type=_positive_float)
    t.add_argument("--momentum", type=_unit_float, default=0.0)
    t.add_argument("--iterations", type=_positive_int)
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--clip", type=_positive_float, help="clip gradients to this global norm")
    t.add_argument("--tbptt", type=_positive_int, help="truncated BPTT window k")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--float32", action="store_true", help="train in float32 instead of float64")
    t.add_argument("--out", help="where to write the trained model .npz")

    sh = sub.add_parser("screenshot", help="render the app's main window to a PNG, headlessly",
                        description="Render the whole main window (view, transport, panels) to a PNG without a display.")
    sh.add_argument("--task", choices=list(TASKS), default="sine")
    sh.add_argument("--step", type=int, help="active time step (default: the end of the forward pass)")
    sh.add_argument("--mode", choices=("forward", "backward"), default="forward")
    sh.add_argument("--out", required=True, help="where to write the .png")
    sh.add_argument("--width", type=_positive_int, default=1600)
    sh.add_argument("--height", type=_positive_int, default=1000)
    sh.add_argument("--theme", choices=("light", "dark", "contrast"), default="light")
    sh.add_argument("--presentation", action="store_true", help="presentation mode: large, high contrast")
    sh.add_argument("--hide-controls", action="store_true", help="with --presentation: only the network and the inspector")
    sh.add_argument("--architecture", choices=ARCHITECTURES)
    sh.add_argument("--activation", choices=ACTIVATIONS)
    sh.add_argument("--hidden", type=_positive_int, help="hidden units (default 8)")
    sh.add_argument("--steps", type=_positive_int, help="sequence length T")
    sh.add_argument("--seed", type=int, default=0)
    sh.add_argument("--select", metavar="KIND:STEP[:UNIT]", help="select a node or weight copy, e.g. W_hh:3, h:2, y:4:0")
    sh.add_argument("--rolled", action="store_true", help="show the rolled (folded) network")
    sh.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn", help="the recurrent cell (default: vanilla rnn)")
    sh.add_argument("--gates", action="store_true", help="LSTM / GRU: expand the cells to show their gates")
    sh.add_argument("--fit", action="store_true", help="fit the whole unrolled network into the view (default: as the app opens, "
                    "as wide as readable, scrolled to the active step)")

    g = sub.add_parser("gradcheck", help="compare BPTT with finite differences on a random small model")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--activation", choices=ACTIVATIONS)
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn",
                   help="the cell to check (lstm, gru: fixed nonlinearities, --activation does not apply)")
    g.add_argument("--architecture", choices=ARCHITECTURES)
    g.add_argument("--loss", choices=LOSSES)

    from rnnviz.cli.export_commands import add_export_parser  # `rnnviz export view|animation|trace|history|plot`

    add_export_parser(sub, _positive_int, _positive_float)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0].startswith("--task"):
        argv = ["app", *argv]
    try:
        args, unknown = parser.parse_known_args(argv)
        command_parser = parser.commands.get(args.command, parser)
        if unknown:  # argparse would report these from the top-level parser, without the command
            command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        if args.command is None:
            parser.error(f"choose a command: {', '.join(parser.commands)}")
    except SystemExit as e:  # argparse already printed its one-line error (or --help)
        return int(e.code or 0)
    from rnnviz.engine import FileFormatError, NonFiniteError

    try:
        return COMMANDS[args.command](args)
    except (CliError, FileFormatError, NonFiniteError, ValueError) as e:
        print(f"rnnviz {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. --out in a folder that does not exist, or a full disk
        where = f"{e.filename}: " if e.filename else ""
        print(f"rnnviz {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnnviz {args.command}: interrupted", file=sys.stderr)
        return 130


def cmd_app(args: argparse.Namespace) -> int:
    try:
        from rnnviz.app.main import run_app
    except ImportError as e:
        raise CliError(f"the desktop app is not available ({e})") from None
    return run_app(task=args.task)


def cmd_screenshot(args: argparse.Namespace) -> int:
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


def _load_inputs(path: str, what: str) -> np.ndarray:
    from rnnviz.engine.io.files import load_array

    return load_array(path, what)


def cmd_trace(args: argparse.Namespace) -> int:
    from rnnviz.engine import load_any_model, run, save_trace
    from rnnviz.engine.io.files import check_writable

    check_writable(args.out)
    model = load_any_model(args.model, activation=args.activation, architecture=args.architecture, loss=args.loss)
    x = _load_inputs(args.inputs, "inputs")
    targets = _load_inputs(args.targets, "targets") if args.targets else None
    try:
        trace = run(model, x, targets, steps=args.steps, tbptt=args.tbptt)
    except ValueError as e:
        raise CliError(f"{args.inputs}{' / ' + args.targets if args.targets else ''}: {e}") from None
    save_trace(trace, args.out)
    T, B, _ = trace.x.shape
    loss = f", loss {trace.loss:.6g}" if targets is not None else ""
    print(f"wrote {args.out}: T={T}, B={B}, H={trace.hidden_size}{loss}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from rnnviz.engine import Trainer, load_any_model, make_task, save_model
    from rnnviz.engine.io.files import check_writable

    if args.model:
        if args.task:
            raise CliError("give either --task or --model, not both")
        if not (args.inputs and args.targets):
            raise CliError("--model needs --inputs and --targets")
        model = load_any_model(args.model, activation=args.activation, architecture=args.architecture, loss=args.loss)
        if args.cell and getattr(model, "cell", "rnn") != args.cell:
            raise CliError(f"--cell {args.cell}, but {args.model} holds a {getattr(model, 'cell', 'rnn')!r} model")
        x, y = _load_inputs(args.inputs, "inputs"), _load_inputs(args.targets, "targets")
        if x.ndim == 2:
            x = x[:, None, :]
        defaults = dict(optimizer="adam", lr=0.01, iterations=500)
        x_val = y_val = None
        label = args.model
    else:
        if args.inputs or args.targets:
            raise CliError("--inputs and --targets go with --model")
        task = make_task(args.task or "sine", steps=args.steps, seed=args.seed, lag=args.lag)
        defaults = task.defaults
        from rnnviz.engine.gated import init_model

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
                          tbptt=args.tbptt, x_val=x_val, y_val=y_val)
    except ValueError as e:
        raise CliError(str(e)) from None
    if args.out:
        check_writable(args.out)  # before training, not after it
    iterations = args.iterations or defaults["iterations"]
    progress = _Progress(iterations, enabled=sys.stderr.isatty())
    first = None
    result = None
    try:
        for _ in range(iterations):
            result = trainer.step()
            if first is None:
                first = result.loss
            progress.update(result.iteration, result.loss)
    finally:
        progress.close()
    assert result is not None and first is not None
    cell = getattr(model, "cell", "rnn")
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
    from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, LOSSES
    from rnnviz.engine.gradcheck import random_check

    worst = 0.0
    rows = []
    cell = getattr(args, "cell", "rnn")
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


COMMANDS = {"app": cmd_app, "trace": cmd_trace, "train": cmd_train, "gradcheck": cmd_gradcheck,
            "screenshot": cmd_screenshot}


def cmd_export(args: argparse.Namespace) -> int:
    from rnnviz.cli.export_commands import cmd_export as run_export

    return run_export(args)


COMMANDS["export"] = cmd_export
