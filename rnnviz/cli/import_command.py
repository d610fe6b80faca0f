"""`rnnviz import FILE`: what a time-series file (CSV or .npy) holds and what importing it would
do, as the app's import dialog shows it: each column and what it holds (a column that looks
like an index — dates, a row counter, years — is left off unless named in --columns), the
windows (training / held out, stride), the rows dropped and at which end, and the training
part's statistics. With --out, the windows are written as an .npz (x_train, y_train, x_val,
y_val: (T, N, C) each; mean, std: (C,)) for `rnnviz train --inputs/--targets` or your own code."""
from __future__ import annotations

import argparse

import numpy as np

from rnnviz.cli.errors import CliError
from rnnviz.engine.io.importers import SeriesFile, parse_columns, series_task
from rnnviz.engine.io.npz import check_writable, save_npz


def cmd_import(args: argparse.Namespace) -> int:
    """Print the columns and the import's summary, one part a line; write the windows with --out."""
    if args.out is not None and not args.out.lower().endswith(".npz"):
        raise CliError(f"--out must be an .npz file, got {args.out!r}")
    series = SeriesFile(args.file)
    columns = parse_columns(args.columns, series.names) if args.columns else None
    values, names, note = series.values(columns or None)
    task, summary = series_task(values, names, steps=args.steps, stride=args.stride, held_out=args.held_out,
                                normalise=not args.no_normalise, source=args.file, path=args.file, note=note)
    print(f"{args.file}: {series.n:,} rows, {len(series.names)} column{'s' if len(series.names) != 1 else ''}")
    for k in series.kinds:
        used = "used" if k.name in names else "left off"
        print(f"  {k.label()}  [{used}]")
    for part in summary.split("; "):
        print(part[:1].upper() + part[1:])
    if args.out is not None:
        check_writable(args.out)
        arrays = {"x_train": task.x_train, "y_train": task.y_train,
                  "mean": np.asarray(task.params["mean"]), "std": np.asarray(task.params["std"])}
        if task.x_val is not None:
            arrays.update(x_val=task.x_val, y_val=task.y_val)
        save_npz(args.out, arrays)
        print(f"wrote {args.out}")
    return 0
