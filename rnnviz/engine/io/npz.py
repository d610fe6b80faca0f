"""Reading and writing `.npz` / `.npy` files safely: the file checks (exists, not empty, not too
large, no Python objects, numeric and finite arrays, a JSON `meta`), atomic writing, and the
`FileFormatError` every loader answers with, naming the file and the problem.

Every reader opens files with allow_pickle=False: nothing is unpickled or evaluated.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

try:  # POSIX: a writer holds its temporary file with flock (see _hold)
    import fcntl
except ImportError:  # Windows
    fcntl = None

from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.model import ARCHITECTURES, LOSS_REDUCTIONS, LOSSES

# a damaged .npy header is parsed by NumPy with Python's tokenizer: these escape as well
HEADER_ERRORS = (SyntaxError, tokenize.TokenError, TypeError, OverflowError, MemoryError)
MAX_ELEMENTS = 50_000_000  # no array in a file we read may claim more than this (400 MB of float64)
MAX_FILE_BYTES = 2_000_000_000


class FileFormatError(ValueError):
    """A file could not be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# low-level reading ---------------------------------------------------------------------------
def check_file(path: str | os.PathLike) -> Path:
    """The path, once it is a non-empty file no larger than MAX_FILE_BYTES."""
    p = Path(path)
    if not p.exists():
        raise FileFormatError(p, "no such file")
    if p.is_dir():
        raise FileFormatError(p, "is a folder, not a file")
    size = p.stat().st_size
    if size == 0:
        raise FileFormatError(p, "the file is empty")
    if size > MAX_FILE_BYTES:
        raise FileFormatError(p, f"the file is {size / 1e9:.1f} GB, more than rnnviz reads")
    return p


def check_header_size(p: Path, name: str, shape: tuple[int, ...], dtype: np.dtype | None = None) -> None:
    """Refuse an array header that claims more than MAX_ELEMENTS values (before reading them)."""
    n = 1
    for d in shape:
        n *= int(d)
    if n > MAX_ELEMENTS:
        raise FileFormatError(p, f"array {name!r} claims shape {shape} ({n:,} values), too large to be real")
    if dtype is not None and n * dtype.itemsize > 8 * MAX_ELEMENTS:
        raise FileFormatError(p, f"array {name!r} claims {n:,} values of {dtype.itemsize:,} bytes each, too large to be real")


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an .npz archive, checked for size before reading, never unpickled."""
    p = check_file(path)
    if not zipfile.is_zipfile(p):
        raise FileFormatError(p, "is not an .npz archive (not a zip file)")
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise FileFormatError(p, f"holds {info.filename!r}, which is not a NumPy array")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(f))
                    if dtype.hasobject:
                        raise FileFormatError(p, f"array {info.filename[:-4]!r} holds Python objects, which rnnviz never unpickles")
                    check_header_size(p, info.filename[:-4], shape, dtype)
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileFormatError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, NotImplementedError, RuntimeError,
            *HEADER_ERRORS) as e:
        raise FileFormatError(p, f"is damaged or not a valid .npz archive ({short_error(e)})") from None


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """One array from a .npy file (or the single array of an .npz), never unpickled."""
    p = check_file(path)
    if zipfile.is_zipfile(p):
        arrays = read_npz(p)
        if len(arrays) != 1:
            raise FileFormatError(p, f"holds {len(arrays)} arrays ({', '.join(arrays)}); expected one")
        return next(iter(arrays.values()))
    try:
        with open(p, "rb") as f:
            version = np.lib.format.read_magic(f)
            shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                               else np.lib.format.read_array_header_2_0(f))
            if dtype.hasobject:
                raise FileFormatError(p, "holds Python objects, which rnnviz never unpickles")
            check_header_size(p, "array", shape, dtype)
        return np.load(p, allow_pickle=False)
    except FileFormatError:
        raise
    except (ValueError, OSError, EOFError, *HEADER_ERRORS) as e:
        raise FileFormatError(p, f"is not a valid .npy file ({short_error(e)})") from None


ANSI_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROMISES_A_LIST = re.compile(r"\b(two|three|several|these|the following) (options|steps|ways|choices)\b", re.IGNORECASE)


def short_error(e: Exception, limit: int = 160) -> str:
    """A library's error as one clean line for a FileFormatError: ANSI colour codes stripped, the
    first line only, of which the whole first sentences that fit in `limit` characters (never a
    sentence cut in the middle; a first sentence too long to fit ends at a word with "…"), and
    none from a sentence that announces a list on ("you have two options", "...:") onwards."""
    text = ANSI_CODES.sub("", str(e)).strip()
    if not text:
        return type(e).__name__
    line = text.splitlines()[0].strip()
    sentences = re.split(r"(?<=[.!?])\s+", line)
    kept = ""
    for s in sentences:
        # a sentence that announces a list ("you have two options", "...:") is cut off from its list
        if len(kept) + len(s) + 1 > limit or PROMISES_A_LIST.search(s) or s.endswith(":"):
            break
        kept = f"{kept} {s}".strip()
    if kept == line:
        return line
    if kept:
        return kept.rstrip(".")
    if len(line) <= limit:  # one sentence: whole, even when it ends in ':'
        return line.rstrip(":")
    return line[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def check_numeric(p: Path, name: str, arr: np.ndarray, *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """arr, once it holds real numbers (finite ones unless finite=False) in ndim dimensions."""
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == bool:
        raise FileFormatError(p, f"{name!r} has dtype {arr.dtype}; expected real numbers")
    if ndim is not None and arr.ndim != ndim:
        raise FileFormatError(p, f"{name!r} has shape {arr.shape}; expected {ndim} dimension{'s' if ndim != 1 else ''}")
    if finite and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise FileFormatError(p, f"{name!r} holds a non-finite value ({arr[tuple(bad)]}) at index {tuple(int(i) for i in bad)}")
    return arr


# atomic writing --------------------------------------------------------------------------------
def check_writable(path: str | os.PathLike) -> None:
    """Raise an OSError naming `path` when it cannot be a file we write: a folder, or in a
    folder that does not exist. Call it before long work whose result goes there."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder; give a file name", str(path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(2, f"the folder {parent} does not exist", str(path))


# An interrupted save (the app killed mid-write) leaves its temporary file behind; the name says
# it is rnnviz's own: ".<name>.rnnviz-tmp-<pid>-<12 hex digits>", beside the file it was for.
TMP_MARK = ".rnnviz-tmp-"
TMP_NAME = re.compile(r"^\..+\.rnnviz-tmp-[0-9]+-[0-9a-f]{12}$")
STALE_SECONDS = 5.0  # a temporary this old that nobody holds is left from an interrupted save


def temporary_name(path: str | os.PathLike) -> str:
    """The name of a new temporary file for writing `path` (unique, recognisable by TMP_NAME)."""
    return f".{Path(path).name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(6)}"


def is_temporary(name: str) -> bool:
    """Whether a file name is one of write_atomic's temporary files."""
    return TMP_NAME.match(name) is not None


def _hold(fd: int) -> bool:
    """Take an exclusive lock on an open file without waiting; False when another process (or
    another open file here) holds it. The lock goes with the process: a killed writer frees it.
    Where there is no flock (Windows) it answers True: an open file cannot be deleted there."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: the age rule alone decides
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike, min_age: float = STALE_SECONDS) -> list[Path]:
    """Delete the temporary files interrupted saves left in `folder`, and only those: the name
    matches TMP_NAME, it is a plain file (not a link), unchanged for `min_age` seconds, and no
    running writer holds its lock (two rnnviz saving into one folder leave each other's alone).
    Never raises; returns the files deleted."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not is_temporary(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat(follow_symlinks=False).st_mtime < min_age:
                continue
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _hold(fd):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # in use (Windows) or not ours to delete: leave it
            pass
        finally:
            os.close(fd)
    return removed


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename in `folder` durable (POSIX: fsync the folder). Windows cannot open a folder
    to sync it and some file systems refuse: then nothing is done, the rename has happened."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, write: Any) -> None:
    """Call write(file) on a temporary file in the same folder, then replace `path` with it, so
    a failure midway leaves any previous file untouched. The temporary is named by
    temporary_name() and locked while written; those that interrupted saves left in the folder
    are removed first (remove_stale_temporaries), and the folder is synced after the rename."""
    path = Path(path)
    check_writable(path)
    folder = path.parent
    remove_stale_temporaries(folder)
    tmp = folder / temporary_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as e:  # name the file asked for, not the temporary one
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        f = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    try:
        with f:
            _hold(f.fileno())  # held until closed: another rnnviz's cleanup leaves it alone
            # created private (0600); give it the permissions a plain open() would (an existing
            # file keeps its own), so a saved model is as readable as any other file.
            try:
                mode = path.stat().st_mode & 0o7777
            except OSError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(tmp, mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
            if os.name == "nt":
                f.close()  # Windows renames no open file
            os.replace(tmp, path)
        fsync_folder(folder)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """np.savez of the arrays, written atomically."""
    write_atomic(path, lambda f: np.savez(f, **arrays))


# meta ------------------------------------------------------------------------------------------
def read_meta(p: Path, data: dict[str, np.ndarray]) -> dict:
    """The JSON object in a file's `meta` array (a 0-d string)."""
    if "meta" not in data:
        raise FileFormatError(p, "missing 'meta' (a JSON string with cell, activation, architecture, loss)")
    raw = data["meta"]
    if raw.shape != () or raw.dtype.kind not in "US":
        raise FileFormatError(p, f"'meta' must be a JSON string, got an array of {raw.dtype} with shape {raw.shape}")
    text = raw.item()
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise FileFormatError(p, f"'meta' is not valid JSON ({e.msg} at position {e.pos})") from None
    if not isinstance(meta, dict):
        raise FileFormatError(p, "'meta' must be a JSON object")
    return meta


def read_settings(p: Path, meta: dict, overrides: dict) -> dict:
    """activation, architecture and loss from overrides or meta, each one of the known choices;
    and the loss reduction over time steps (files written before it existed: mean, as then)."""
    choices = {"activation": ACTIVATIONS, "architecture": ARCHITECTURES, "loss": LOSSES}
    out = {}
    for key, allowed in choices.items():
        value = overrides.get(key) or meta.get(key)
        if value is None:
            raise FileFormatError(p, f"meta does not say the {key}; pass --{key} ({'|'.join(allowed)})")
        if value not in allowed:
            raise FileFormatError(p, f"unknown {key} {value!r}; expected one of {', '.join(allowed)}")
        out[key] = value
    reduction = overrides.get("loss_reduction") or meta.get("loss_reduction", "mean")
    if reduction not in LOSS_REDUCTIONS:
        raise FileFormatError(p, f"unknown loss_reduction {reduction!r}; expected one of {', '.join(LOSS_REDUCTIONS)}")
    out["loss_reduction"] = reduction
    return out


# input and target arrays --------------------------------------------------------------------
def load_array(path: str | os.PathLike, what: str = "inputs") -> np.ndarray:
    """A numeric array (inputs or targets) from .npy/.npz; checked for dtype and finiteness."""
    p = Path(path)
    arr = read_npy(p)
    return check_numeric(p, what, arr)
