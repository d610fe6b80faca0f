"""Render a fixed set of pictures with `rnnviz screenshot` and `rnnviz export view`, and compare
two such sets pixel for pixel.

A refactoring that should change nothing on screen is checked like this:

    python bench/compare_pictures.py render /tmp/before      # on the old commit
    python bench/compare_pictures.py render /tmp/after       # on the new one
    python bench/compare_pictures.py compare /tmp/before /tmp/after

`compare` prints one line per case and exits 1 if any picture differs (or is missing).
Each case is rendered in a fresh process, as a user's command would be.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# name -> the arguments after `rnnviz`; "{out}" is replaced by the picture's path
CASES: dict[str, list[str]] = {
    "sine-forward": ["screenshot", "--task", "sine", "--step", "5", "--out", "{out}"],
    "sine-backward": ["screenshot", "--task", "sine", "--mode", "backward", "--step", "7", "--out", "{out}"],
    "ar-forward": ["screenshot", "--task", "ar", "--out", "{out}"],
    "hello-backward-dark": ["screenshot", "--task", "hello", "--mode", "backward", "--step", "2",
                            "--select", "W_hh:2", "--theme", "dark", "--out", "{out}"],
    "sum-select-h": ["screenshot", "--task", "sum", "--select", "h:2", "--out", "{out}"],
    "parity-fit": ["screenshot", "--task", "parity", "--fit", "--out", "{out}"],
    "wave-contrast": ["screenshot", "--task", "wave", "--theme", "contrast", "--out", "{out}"],
    "xor-forward": ["screenshot", "--task", "xor", "--out", "{out}"],
    "echo-lstm-gates": ["screenshot", "--cell", "lstm", "--task", "echo", "--step", "5", "--gates",
                        "--select", "gate:f:5:1", "--out", "{out}"],
    "echo-gru-gates-backward": ["screenshot", "--cell", "gru", "--task", "echo", "--step", "4", "--gates",
                                "--mode", "backward", "--out", "{out}"],
    "sine-rolled": ["screenshot", "--task", "sine", "--rolled", "--out", "{out}"],
    "sine-presentation": ["screenshot", "--task", "sine", "--presentation", "--width", "1280",
                          "--height", "720", "--out", "{out}"],
    "sine-presentation-hidden": ["screenshot", "--task", "sine", "--presentation", "--hide-controls",
                                 "--out", "{out}"],
    "sine-many-to-one-relu": ["screenshot", "--task", "sine", "--architecture", "many-to-one",
                              "--activation", "relu", "--hidden", "5", "--out", "{out}"],
    "export-view-sine": ["export", "view", "--task", "sine", "--step", "4", "--out", "{out}"],
    "export-view-backward-dark": ["export", "view", "--task", "hello", "--mode", "backward", "--step", "3",
                                  "--theme", "dark", "--out", "{out}"],
    "export-view-lstm-gates": ["export", "view", "--task", "echo", "--cell", "lstm", "--gates", "--out", "{out}"],
    "export-view-rolled": ["export", "view", "--task", "sine", "--rolled", "--out", "{out}"],
    "export-view-presentation-fit": ["export", "view", "--task", "sine", "--steps", "60", "--presentation",
                                     "--fit", "--out", "{out}"],
}


def render(folder: Path, only: list[str] | None = None) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, args in CASES.items():
        if only and name not in only:
            continue
        out = folder / f"{name}.png"
        cmd = [sys.executable, "-m", "rnnviz", *[a.replace("{out}", str(out)) for a in args]]
        done = subprocess.run(cmd, capture_output=True, text=True,
                              env={**_env(), "QT_QPA_PLATFORM": "offscreen"})
        status = "ok" if done.returncode == 0 else f"FAILED ({done.stderr.strip()[-300:]})"
        failed += done.returncode != 0
        print(f"{name:32s} {status}")
    return 1 if failed else 0


def _env() -> dict[str, str]:
    import os
    return dict(os.environ)


def compare(a: Path, b: Path) -> int:
    from PIL import Image, ImageChops

    differing = 0
    for name in CASES:
        pa, pb = a / f"{name}.png", b / f"{name}.png"
        if not pa.exists() or not pb.exists():
            print(f"{name:32s} MISSING ({pa if not pa.exists() else pb})")
            differing += 1
            continue
        ia, ib = Image.open(pa).convert("RGBA"), Image.open(pb).convert("RGBA")
        if ia.size != ib.size:
            print(f"{name:32s} DIFFERENT SIZE {ia.size} vs {ib.size}")
            differing += 1
            continue
        box = ImageChops.difference(ia, ib).getbbox()
        if box is None:
            print(f"{name:32s} identical {ia.size[0]}×{ia.size[1]}")
        else:
            diff = ImageChops.difference(ia, ib).convert("L")
            n = sum(1 for v in diff.getdata() if v)
            print(f"{name:32s} DIFFERS: {n} pixels in {box}")
            differing += 1
    print(f"{len(CASES) - differing} identical, {differing} different")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="render every case into a folder")
    r.add_argument("folder", type=Path)
    r.add_argument("--only", nargs="*", help="render only these cases")
    c = sub.add_parser("compare", help="compare two rendered folders pixel for pixel")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "render":
        return render(args.folder, args.only)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
