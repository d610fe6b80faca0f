"""The `.rnnviz` session file: one zip holding `session.json` and `arrays.npz`.

This module only reads and writes the format (no Qt): `write_session(path, doc, arrays)` and
`read_session(path) -> (doc, arrays)`, where `doc` is plain JSON data and `arrays` a flat dict
of NumPy arrays. Reading checks the zip (members, sizes, zip bombs), then everything inside
(`session_schema.validate`: every key, type, range, array shape and dtype, and how the arrays
fit together) and raises `FileFormatError` naming the file and the problem; nothing is
unpickled or evaluated. Writing is atomic (`files.write_atomic`).
See README.md, "Session files", for the layout.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.engine.io.npz import FileFormatError, check_file, read_npz, write_atomic
from rnnviz.app.io.session_schema import FORMAT, VERSION, validate

SUFFIX = ".rnnviz"
MEMBERS = ("session.json", "arrays.npz")
MAX_JSON_BYTES = 20_000_000
MAX_ARRAYS_BYTES = 1_000_000_000  # what arrays.npz may inflate to
MAX_RATIO = 1100  # deflate tops out near 1032:1; a big member inflating more is a zip bomb
BOMB_BYTES = 50_000_000  # ... when it inflates to more than this


@dataclass
class SessionFile:
    doc: dict  # session.json, validated
    arrays: dict[str, np.ndarray]  # arrays.npz, validated


# writing -------------------------------------------------------------------------------------
def write_session(path: str | os.PathLike, doc: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write a session file atomically: a failure midway leaves any previous file untouched."""
    doc = {**doc, "format": FORMAT, "version": VERSION}
    text = json.dumps(doc, indent=1, allow_nan=False, sort_keys=True)
    buf = io.BytesIO()
    np.savez(buf, **arrays)

    def write(f) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("session.json", text)
            zf.writestr("arrays.npz", buf.getvalue())

    write_atomic(path, write)


# reading -------------------------------------------------------------------------------------
def read_session(path: str | os.PathLike) -> SessionFile:
    """Read and check a session file (FileFormatError naming the problem if it is not a valid one)."""
    p = check_file(path)
    if not zipfile.is_zipfile(p):
        raise FileFormatError(p, "is not an rnnviz session (not a zip file)")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            missing = [m for m in MEMBERS if m not in names]
            if missing:
                raise FileFormatError(p, f"is not an rnnviz session: missing {', '.join(missing)}")
            extra = [n for n in names if n not in MEMBERS]
            if extra or len(names) != len(MEMBERS):
                raise FileFormatError(p, f"holds unexpected members ({', '.join(extra) or 'duplicates'}); "
                                         f"a session holds exactly {' and '.join(MEMBERS)}")
            for info in infos:
                limit = MAX_JSON_BYTES if info.filename.endswith(".json") else MAX_ARRAYS_BYTES
                if info.file_size > limit:
                    raise FileFormatError(p, f"{info.filename} would inflate to {info.file_size:,} bytes, "
                                             f"more than rnnviz reads ({limit:,})")
                if info.file_size > BOMB_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise FileFormatError(p, f"{info.filename} inflates {info.file_size // max(info.compress_size, 1):,}"
                                             "-fold: refusing a zip bomb")
            raw_json = zf.read("session.json")
            raw_arrays = zf.read("arrays.npz")
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
            KeyError) as e:
        raise FileFormatError(p, f"is damaged ({str(e)[:160] or type(e).__name__})") from None
    try:
        doc = json.loads(raw_json.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as e:
        raise FileFormatError(p, f"session.json is not valid JSON ({str(e)[:160]})") from None
    arrays = _read_arrays(p, raw_arrays)
    validate(p, doc, arrays)
    return SessionFile(doc, arrays)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _read_arrays(p: Path, raw: bytes) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="rnnviz-session-") as tmp:
        inner = Path(tmp) / "arrays.npz"
        inner.write_bytes(raw)
        try:
            return read_npz(inner)
        except FileFormatError as e:
            raise FileFormatError(p, f"arrays.npz {e.problem}") from None
