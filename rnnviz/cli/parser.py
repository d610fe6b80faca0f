"""The `rnnviz` command line's arguments: the argument types, and the parser of every command
(app, trace, train, screenshot, gradcheck, and export with its five kinds).

    rnnviz export view      --task sine --mode forward --step 5 --out view.png|view.svg
    rnnviz export animation --task sine --out anim.gif|anim.mp4 --speed 5 --passes both
    rnnviz export trace     --task sine --out t.npz|t.json        (or --model M.npz --inputs X.npy)
    rnnviz export history   --task sine --iterations 200 --out h.csv
    rnnviz export plot      --name loss --task sine --iterations 100 --out p.png|p.svg
"""
from __future__ import annotations

import argparse
from typing import NoReturn

import numpy as np

from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, LOSSES, OPTIMIZERS, TASKS
from rnnviz.engine.guards import ON_DIVERGENCE

PLOT_NAMES = {"loss": "loss", "hidden": "hidden-time", "hidden-time": "hidden-time",
              "hidden-training": "hidden-training", "gradients": "gradients", "predictions": "predictions",
              "weights": "weights"}  # --name of `rnnviz export plot` -> the app's plot key


def positive_int(text: str) -> int:
    """An argument type: a whole number ≥ 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {n}")
    return n


def positive_float(text: str) -> float:
    """An argument type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def unit_float(text: str) -> float:
    """An argument type: a number in [0, 1) (e.g. a momentum)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return v


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr, `rnnviz train: error: ...`, exit 2
    (argparse's own error() prints the whole usage block first). Subparsers inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The `rnnviz` parser with every command's subparser; `parser.commands` maps a command's name
    to its subparser."""
    parser = OneLineErrorParser(
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
    tr.add_argument("--steps", type=positive_int, help="one-to-many: number of steps when the inputs hold only the first")
    tr.add_argument("--tbptt", type=positive_int, help="truncated BPTT window k")
    tr.add_argument("--architecture", choices=ARCHITECTURES, help="default: guessed from the targets, else the file's meta")
    tr.add_argument("--activation", choices=ACTIVATIONS)
    tr.add_argument("--loss", choices=LOSSES, help="default: guessed from the targets (class indices: cross-entropy; "
                    "nll for a model that ends in LogSoftmax), else the file's meta")
    add_model_reading(tr)
    tr.add_argument("--loss-reduction", choices=("mean", "sum"),
                    help="the per-step losses averaged over time steps (PyTorch) or summed (min-char-rnn); "
                         "default: what the model file records (mean when it does not say)")
    tr.add_argument("--out", required=True, help="where to write the trace .npz")

    sh_m = sub.add_parser("show", help="open the app on a model file (rnnviz .npz, PyTorch state dict .pt / .npz)",
                          description="Open the desktop app on exactly the network in a model file, with your inputs "
                          "and targets. What the file does not record is guessed and said on stderr, one line each.")
    sh_m.add_argument("--model", required=True, help="rnnviz model .npz, or a PyTorch nn.RNN / nn.LSTM / nn.GRU + nn.Linear "
                      "state dict (.pt, or .npz with PyTorch key names)")
    sh_m.add_argument("--inputs", help="inputs .npy: (T,B,I), (B,T,I) with --batch-first, or (T,I); default: random inputs")
    sh_m.add_argument("--targets", help="targets .npy (needs --inputs)")
    sh_m.add_argument("--architecture", choices=ARCHITECTURES, help="default: guessed from the targets, else the file's meta")
    sh_m.add_argument("--activation", choices=ACTIVATIONS)
    sh_m.add_argument("--loss", choices=LOSSES, help="default: guessed from the targets, else the file's meta")
    add_model_reading(sh_m)

    t = sub.add_parser("train", help="train on a built-in task or on your own data",
                       description="Train an RNN (vanilla, LSTM or GRU) and write the trained model. Either --task, or --model with --inputs and --targets.")
    t.add_argument("--cell", choices=("rnn", "lstm", "gru"), help="with --task: the cell (default rnn, the vanilla cell); "
                   "with --model: the file decides (an LSTM/GRU state dict or model file is one)")
    t.add_argument("--task", choices=list(TASKS), help="built-in task (default sine unless --model is given)")
    t.add_argument("--model", help="start from this model file instead of a task")
    t.add_argument("--inputs", help="inputs .npy (T,N,I) for --model")
    t.add_argument("--targets", help="targets .npy for --model")
    t.add_argument("--hidden", type=positive_int, help="hidden units (task default otherwise)")
    t.add_argument("--steps", type=positive_int, help="sequence length of the task")
    t.add_argument("--lag", type=int, default=3, help="echo task: how many steps back")
    t.add_argument("--activation", choices=ACTIVATIONS)
    t.add_argument("--architecture", choices=ARCHITECTURES, help="with --model: default guessed from the targets, else its meta")
    t.add_argument("--loss", choices=LOSSES, help="with --model: default guessed from the targets, else its meta")
    add_model_reading(t)
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--lr", type=positive_float)
    t.add_argument("--momentum", type=unit_float, default=0.0)
    t.add_argument("--iterations", type=positive_int)
    t.add_argument("--batch-size", type=positive_int)
    t.add_argument("--clip", type=positive_float, help="clip gradients to this threshold (see --clip-mode)")
    t.add_argument("--clip-mode", choices=("norm", "value"), default="norm",
                   help="norm: scale all gradients so their global norm is at most --clip (PyTorch's clip_grad_norm_, "
                        "default); value: clip every gradient entry to [-clip, clip] (np.clip, as min-char-rnn)")
    t.add_argument("--loss-reduction", choices=("mean", "sum"),
                   help="the per-step losses averaged over time steps (PyTorch) or summed (min-char-rnn); "
                        "the loss and every gradient scale with it; default: the model file's (mean when it "
                        "does not say, and for a task); written into the --out model file")
    t.add_argument("--stateful", action="store_true",
                   help="carry the hidden state from one batch to the next (min-char-rnn's hprev), batches in order, "
                        "no gradient across; it starts from h_0 again when the data start over")
    t.add_argument("--adagrad-eps", choices=("outside", "inside"), default="outside",
                   help="Adagrad's epsilon outside the square root, g/(sqrt(s)+1e-10) (PyTorch, default), "
                        "or inside, g/sqrt(s+1e-8) (min-char-rnn)")
    t.add_argument("--on-divergence", choices=ON_DIVERGENCE, default="stop",
                   help="when the loss, a weight or a gradient blows up: stop with an error (default), or warn once "
                        "on stderr and go on")
    t.add_argument("--tbptt", type=positive_int, help="truncated BPTT window k")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--float32", action="store_true", help="train in float32 instead of float64")
    t.add_argument("--out", help="where to write the trained model .npz")

    sh = sub.add_parser("screenshot", help="render the app's main window to a PNG, headlessly",
                        description="Render the whole main window (view, transport, panels) to a PNG without a display.")
    sh.add_argument("--task", choices=list(TASKS), default="sine")
    sh.add_argument("--step", type=int, help="active time step (default: the end of the forward pass)")
    sh.add_argument("--mode", choices=("forward", "backward"), default="forward")
    sh.add_argument("--out", required=True, help="where to write the .png")
    sh.add_argument("--width", type=positive_int, default=1600)
    sh.add_argument("--height", type=positive_int, default=1000)
    sh.add_argument("--theme", choices=("light", "dark", "contrast"), default="light")
    sh.add_argument("--presentation", action="store_true", help="presentation mode: large, high contrast")
    sh.add_argument("--hide-controls", action="store_true", help="with --presentation: only the network and the inspector")
    sh.add_argument("--architecture", choices=ARCHITECTURES)
    sh.add_argument("--activation", choices=ACTIVATIONS)
    sh.add_argument("--hidden", type=positive_int, help="hidden units (default 8)")
    sh.add_argument("--steps", type=positive_int, help="sequence length T")
    sh.add_argument("--seed", type=int, default=0)
    sh.add_argument("--select", metavar="KIND:STEP[:UNIT]", help="select a node or weight copy, e.g. W_hh:3, h:2, y:4:0")
    sh.add_argument("--rolled", action="store_true", help="show the rolled (folded) network")
    sh.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn", help="the recurrent cell (default: vanilla rnn)")
    sh.add_argument("--gates", action="store_true", help="LSTM / GRU: expand the cells to show their gates")
    sh.add_argument("--fit", action="store_true", help="fit the whole unrolled network into the view (default: as the app opens, "
                    "as wide as readable, scrolled to the active step)")

    im = sub.add_parser("import", help="what importing a time series (CSV / .npy) would do; --out writes its windows",
                        description="Show each column of a time-series file and what it holds (a column that looks "
                        "like an index is left off unless named in --columns), the windows (aligned to the end: the "
                        "newest rows are kept), the rows dropped and the training part's statistics.")
    im.add_argument("file", help="a CSV or .npy file")
    im.add_argument("--columns", help="names or 1-based numbers, comma-separated (default: the columns of plain values)")
    im.add_argument("--steps", type=positive_int, help="window length (default: from the series' length, at most 20)")
    im.add_argument("--stride", type=positive_int, help="rows between training windows: 1 = every window "
                    "(default: side by side when that gives 32 windows, else 1)")
    im.add_argument("--held-out", type=unit_float, default=0.2, help="the newest fraction held out (default 0.2)")
    im.add_argument("--no-normalise", action="store_true", help="keep the values as they are (default: z-score "
                    "with the training part's mean and std)")
    im.add_argument("--out", help="write the windows to this .npz (x_train, y_train, x_val, y_val, mean, std)")

    g = sub.add_parser("gradcheck", help="compare BPTT with finite differences on a random small model")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--activation", choices=ACTIVATIONS)
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn",
                   help="the cell to check (lstm, gru: fixed nonlinearities, --activation does not apply)")
    g.add_argument("--architecture", choices=ARCHITECTURES)
    g.add_argument("--loss", choices=LOSSES)

    add_export_parser(sub)
    return parser


def add_model_reading(p: argparse.ArgumentParser) -> None:
    """What a PyTorch state dict does not record, for a command that reads --model (the command
    guesses each and says so on stderr; these flags win)."""
    p.add_argument("--nonlinearity", choices=("tanh", "relu"),
                   help="an nn.RNN's nonlinearity (a state dict does not record it; default tanh, PyTorch's)")
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--batch-first", dest="batch_first", action="store_const", const=True, default=None,
                        help="the inputs (and many-to-many targets) are (B, T, ...), as nn.RNN(batch_first=True) takes them")
    layout.add_argument("--time-major", dest="batch_first", action="store_const", const=False,
                        help="the inputs are (T, B, I), PyTorch's default (the default unless the shapes say otherwise)")


def add_export_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`rnnviz export view|animation|trace|history|plot` and their options."""
    ex = sub.add_parser("export", help="export the view, an animation, a trace, the training history or a plot",
                        description="Export what the app shows, headlessly, so docs and slides can be built by a script.")
    kinds = ex.add_subparsers(dest="what", metavar="WHAT")

    def network(p: argparse.ArgumentParser, model: bool = True) -> None:
        p.add_argument("--task", choices=list(TASKS), help="built-in task (default sine)")
        if model:
            p.add_argument("--model", help="show this model file (rnnviz .npz, PyTorch .npz/.pt) instead of a task")
            p.add_argument("--inputs", help="with --model: inputs .npy (T,I) or (T,N,I)")
            p.add_argument("--targets", help="with --model and --inputs: targets .npy")
        p.add_argument("--architecture", choices=ARCHITECTURES)
        p.add_argument("--activation", choices=ACTIVATIONS)
        p.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn", help="the recurrent cell (default: vanilla rnn)")
        p.add_argument("--hidden", type=positive_int, help="hidden units (task default otherwise)")
        p.add_argument("--steps", type=positive_int, help="sequence length T")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--iterations", type=int, default=0, help="train this many iterations first (default 0)")

    def look(p: argparse.ArgumentParser, width: int, height: int) -> None:
        p.add_argument("--width", type=positive_int, default=width)
        p.add_argument("--height", type=positive_int, default=height)
        p.add_argument("--theme", choices=("light", "dark", "contrast"), default="light")
        p.add_argument("--presentation", action="store_true", help="presentation mode: large, high contrast")
        p.add_argument("--fit", action="store_true", help="fit the whole network into the picture")
        p.add_argument("--gates", action="store_true", help="LSTM / GRU: expand the cells to show their gates")

    v = kinds.add_parser("view", help="the unrolled network as .png or .svg")
    network(v)
    look(v, 1400, 900)
    v.add_argument("--mode", choices=("forward", "backward"), default="forward")
    v.add_argument("--step", type=int, help="active time step (default: the end of the forward pass)")
    v.add_argument("--rolled", action="store_true", help="the rolled (folded) network")
    v.add_argument("--out", required=True, help="where to write the .png or .svg")

    a = kinds.add_parser("animation", help="the forward and backward passes as .gif or .mp4",
                         description="One frame per time step of the passes. MP4 needs the video extra: pip install 'rnnviz[video]'.")
    network(a)
    look(a, 960, 640)
    a.add_argument("--speed", "--fps", type=positive_float, default=3.0, dest="speed",
                   help="time steps per second (one frame per step; default 3)")
    a.add_argument("--passes", choices=("forward", "backward", "both"), default="both")
    a.add_argument("--out", required=True, help="where to write the .gif or .mp4")

    t = kinds.add_parser("trace", help="the trace of the shown sequence as .npz or .json")
    network(t)
    t.add_argument("--out", required=True, help="where to write the .npz or .json")

    h = kinds.add_parser("history", help="train on a task (engine Trainer, headless) and write the history as .csv")
    network(h, model=False)
    h.set_defaults(iterations=200)
    h.add_argument("--optimizer", choices=("sgd", "adam", "adagrad"))
    h.add_argument("--lr", type=positive_float)
    h.add_argument("--on-divergence", choices=ON_DIVERGENCE, default="stop",
                   help="when the loss, a weight or a gradient blows up: stop with an error and write nothing "
                        "(default), or warn once on stderr and go on")
    h.add_argument("--out", required=True, help="where to write the .csv")

    pl = kinds.add_parser("plot", help="one of the app's plots as .png or .svg")
    pl.add_argument("--name", required=True, choices=list(PLOT_NAMES))
    network(pl)
    pl.set_defaults(iterations=100)
    pl.add_argument("--width", type=positive_int, default=1000, help="PNG width in pixels (the height follows)")
    pl.add_argument("--theme", choices=("light", "dark", "contrast"), default="light")
    pl.add_argument("--out", required=True, help="where to write the .png or .svg")
    return ex
