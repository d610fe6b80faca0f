"""The command line's one error type: a problem with the arguments or files, which `main` shows as
one line on stderr (`rnnviz <command>: error: ...`) with exit status 2."""
from __future__ import annotations


class CliError(Exception):
    """A problem with the arguments or files, shown as one line on stderr."""
