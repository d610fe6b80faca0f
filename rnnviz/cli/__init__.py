"""The `rnnviz` command line: `main` parses the arguments (`parser`), runs the command
(`commands`: app, trace, train, gradcheck, screenshot; `export_commands`: export) and turns
every error into one line on stderr with exit status 2."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from rnnviz.cli.commands import cmd_app, cmd_gradcheck, cmd_screenshot, cmd_show, cmd_trace, cmd_train
from rnnviz.cli.errors import CliError
from rnnviz.cli.export_commands import cmd_export
from rnnviz.cli.import_command import cmd_import
from rnnviz.cli.parser import build_parser
from rnnviz.engine import FileFormatError, NonFiniteError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "app": cmd_app, "show": cmd_show, "trace": cmd_trace, "train": cmd_train, "gradcheck": cmd_gradcheck,
    "screenshot": cmd_screenshot, "export": cmd_export, "import": cmd_import,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run `rnnviz` with argv (default sys.argv[1:]); returns the exit status."""
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
