"""Exports of what the app shows: the unrolled view (PNG, SVG), each plot (PNG, SVG), the
forward/backward animation (GIF, MP4), the trace (NPZ, JSON) and the training history (CSV).

Everything here draws what the views draw (it never recomputes the math) and writes atomically:
a failure midway leaves any previous file as it was. Problems end in an `ExportError` whose
message names the file and says what went wrong; callers show it (GUI) or print it (CLI).
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter

from rnnviz.engine.io.export import ExportError, save_history_csv, save_trace_json, write_bytes_atomic
from rnnviz.engine.io.traces import save_trace
from rnnviz.engine.trace import Trace

__all__ = [
    "ExportError", "MAX_SIDE", "PASSES", "animation_positions", "export_animation", "export_gif", "export_mp4",
    "export_plot", "export_trace", "export_view", "has_history", "video_available",
]

MAX_SIDE = 8000  # pixels: larger pictures are refused (memory), as in `rnnviz screenshot`
PASSES = ("forward", "backward", "both")
VIDEO_HINT = "pip install 'rnnviz[video]'"

Progress = Callable[[int, int], bool]  # (done, total) -> keep going?


def _check_size(width: int, height: int) -> tuple[int, int]:
    width, height = int(width), int(height)
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ExportError(f"the size must lie between 1 and {MAX_SIDE} pixels a side, got {width}×{height}")
    return width, height


def check_suffix(path: str | os.PathLike, allowed: tuple[str, ...], what: str) -> str:
    """The path's extension, lower case, if it is one of `allowed`; else an ExportError naming `what`."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        raise ExportError(f"{path}: {what} can be saved as {' or '.join(allowed)}, not {ext or 'a file without extension'}")
    return ext


def _image_bytes(img: QImage, fmt: str = "PNG") -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    if not img.save(buf, fmt):
        raise ExportError(f"could not encode the picture as {fmt}")
    buf.close()
    return bytes(data.data())


# the unrolled view ---------------------------------------------------------------------------
def view_svg_bytes(view, width: int, height: int, title: str = "rnnviz") -> bytes:
    """The diagram as SVG, drawn by the view's `render`: arrows and outlines as <path>, labels and
    numbers as <text>, the coloured cell strips as one rectangle per cell (see _VectorPainter)."""
    from PySide6.QtSvg import QSvgGenerator

    width, height = _check_size(width, height)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(width, height))
    gen.setViewBox(QRectF(0, 0, width, height))
    gen.setTitle(title)
    gen.setDescription("The unrolled recurrent network, exported by rnnviz")
    p = _VectorPainter(gen)
    try:
        view.render(p, QRectF(0, 0, width, height))
    finally:
        p.end()
    buf.close()
    return bytes(data.data())


class _VectorPainter(QPainter):
    """A painter for SVG output: a part of an image drawn into a rectangle (how the view paints
    its coloured cell strips) becomes one filled rectangle per pixel, i.e. real vector cells.
    (Qt's SVG engine would embed the whole image and ignore the part asked for.) The view's
    items are Python, so their `painter.drawImage(...)` calls reach this override."""

    def drawImage(self, *args):  # noqa: N802 (Qt's name)
        if len(args) == 3 and isinstance(args[0], QRectF) and isinstance(args[1], QImage) and isinstance(args[2], QRectF):
            target, img, src = args
            sx, sy = int(src.left()), int(src.top())
            nw, nh = max(1, int(round(src.width()))), max(1, int(round(src.height())))
            if nw * nh <= 20_000:
                cw, ch = target.width() / nw, target.height() / nh
                self.save()
                self.setPen(Qt.NoPen)
                for j in range(nh):
                    for i in range(nw):
                        c = img.pixelColor(min(sx + i, img.width() - 1), min(sy + j, img.height() - 1))
                        self.fillRect(QRectF(target.left() + i * cw, target.top() + j * ch, cw, ch), c)
                self.restore()
                return
            return super().drawImage(target, img.copy(src.toRect()))
        return super().drawImage(*args)


def export_view(view, path: str | os.PathLike, width: int, height: int) -> Path:
    """The unrolled view as .png (width × height pixels) or .svg (a width × height canvas)."""
    ext = check_suffix(path, (".png", ".svg"), "the view")
    width, height = _check_size(width, height)
    if ext == ".png":
        data = _image_bytes(view.render_image(width, height))
    else:
        data = view_svg_bytes(view, width, height)
    return write_bytes_atomic(path, data)


# plots -----------------------------------------------------------------------------------------
def export_plot(panel, path: str | os.PathLike, width: int | None = None) -> Path:
    """A plot panel (rnnviz.app.views.plots) as .png (`width` pixels wide, the height following the
    plot's proportions) or .svg, with pyqtgraph's exporters."""
    import pyqtgraph.exporters as pge

    ext = check_suffix(path, (".png", ".svg"), "a plot")
    canvas = getattr(panel, "canvas", panel)
    item = canvas.ci if hasattr(canvas, "ci") else canvas
    if ext == ".png":
        exporter = pge.ImageExporter(item)
        if width is not None:
            w = _check_size(width, 1)[0]
            exporter.parameters()["width"] = w  # the height follows the aspect ratio
            if exporter.parameters()["height"] > MAX_SIDE:
                raise ExportError(f"{path}: a plot {w} pixels wide would be taller than {MAX_SIDE} pixels")
        img = exporter.export(toBytes=True)
        if img is None or img.isNull():
            raise ExportError(f"{path}: the plot could not be drawn (is it empty?)")
        data = _image_bytes(img)
    else:
        data = _pyqtgraph_svg(item)
    return write_bytes_atomic(path, data)


def _pyqtgraph_svg(item) -> bytes:
    """pyqtgraph's SVGExporter, whose coordinate fix-up cannot parse the closing "Z" that Qt 6
    writes at the end of closed paths (a ViewBox's background rectangle): those are dropped
    (the paths already end on their first point) while the export runs."""
    import sys

    import pyqtgraph.exporters  # noqa: F401 (loads the module; the package re-exports the class by the same name)

    mod = sys.modules["pyqtgraph.exporters.SVGExporter"]

    original = mod.correctCoordinates

    def tolerant(node, defs, item, options):
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            if "Z" in d or "z" in d:
                path.setAttribute("d", " ".join(t for t in d.split() if t not in ("Z", "z")))
        return original(node, defs, item, options)

    mod.correctCoordinates = tolerant
    try:
        return mod.SVGExporter(item).export(toBytes=True)
    except (ValueError, IndexError) as e:
        raise ExportError(f"pyqtgraph could not write this plot as SVG ({e}); export it as PNG") from None
    finally:
        mod.correctCoordinates = original


# animation -------------------------------------------------------------------------------------
def animation_positions(T: int, passes: str = "both") -> list[int]:
    """Timeline positions of the forward pass (0..T), the backward pass (T+1..2T) or both."""
    if passes not in PASSES:
        raise ExportError(f"passes must be one of {', '.join(PASSES)}, got {passes!r}")
    if passes == "forward":
        return list(range(0, T + 1))
    if passes == "backward":
        return list(range(T, 2 * T + 1))  # from the finished forward pass down to step 1
    return list(range(0, 2 * T + 1))


def frames(session, view, positions: list[int], width: int, height: int,
           progress: Progress | None = None) -> Iterator[QImage]:
    """The view at each timeline position; the session's position is restored afterwards.
    Stops early (raising ExportError) when `progress` returns False."""
    width, height = _check_size(width, height)
    was, playing = session.position, session.playing
    if playing:
        session.pause()
    try:
        for i, pos in enumerate(positions):
            if progress is not None and progress(i, len(positions)) is False:
                raise ExportError("cancelled")
            session.set_position(pos)
            yield view.render_image(width, height)
        if progress is not None:
            progress(len(positions), len(positions))
    finally:
        session.set_position(was)
        if playing:
            session.play()


def _to_pil(img: QImage):
    from PIL import Image

    img = img.convertToFormat(QImage.Format_RGB888)
    w, h = img.width(), img.height()
    return Image.frombuffer("RGB", (w, h), bytes(img.constBits()), "raw", "RGB", img.bytesPerLine(), 1).copy()


def frame_duration_ms(speed: float) -> int:
    """Milliseconds per frame for `speed` time steps per second (one frame per step)."""
    if not speed or speed <= 0 or speed != speed:
        raise ExportError(f"the speed must be a positive number of steps per second, got {speed}")
    return max(20, int(round(1000.0 / speed)))  # GIF viewers clamp faster frames to 100 ms


def export_gif(session, view, path: str | os.PathLike, width: int, height: int, speed: float = 3.0,
               passes: str = "both", loop: bool = True, progress: Progress | None = None) -> Path:
    """An animated GIF of the passes, one frame per timeline position, `speed` steps/s."""
    try:
        from PIL import Image
    except ImportError:
        raise ExportError("GIF export needs Pillow: pip install pillow") from None
    duration = frame_duration_ms(speed)
    pos = animation_positions(session.T, passes)
    images = [_to_pil(img) for img in frames(session, view, pos, width, height, progress)]
    # one palette for the whole animation (the colour scale is shared by every frame)
    # (built from the first, a middle and the last frame, so both passes' colours are in it)
    picks = [images[0], images[len(images) // 2], images[-1]]
    w, h = picks[0].size
    sheet = Image.new("RGB", (w, h * len(picks)))
    for i, im in enumerate(picks):
        sheet.paste(im, (0, i * h))
    palette = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quantized = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    buf = io.BytesIO()
    kw = {"loop": 0} if loop else {}
    quantized[0].save(buf, format="GIF", save_all=True, append_images=quantized[1:], duration=duration,
                      disposal=1, optimize=False, **kw)
    return write_bytes_atomic(path, buf.getvalue())


def video_available() -> tuple[bool, str]:
    try:
        import imageio.v2  # noqa: F401
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False, f"MP4 export needs imageio and imageio-ffmpeg: {VIDEO_HINT}"
    return True, ""


def export_mp4(session, view, path: str | os.PathLike, width: int, height: int, speed: float = 3.0,
               passes: str = "both", progress: Progress | None = None) -> Path:
    """An H.264 MP4 of the passes at `speed` steps/s. Width and height are rounded down to even
    numbers (the codec needs them). Slow speeds repeat frames so players get ≥ 10 frames/s."""
    ok, why = video_available()
    if not ok:
        raise ExportError(why)
    import numpy as np
    import imageio.v2 as iio

    frame_duration_ms(speed)
    width, height = _check_size(width, height)
    width, height = max(2, width - width % 2), max(2, height - height % 2)
    repeat = max(1, int(round(10.0 / speed)))
    fps = speed * repeat
    pos = animation_positions(session.T, passes)
    target = Path(path)
    with tempfile.TemporaryDirectory(prefix="rnnviz-video-") as tmp:
        tmp_file = os.path.join(tmp, "out.mp4")
        writer = iio.get_writer(tmp_file, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=7,
                                pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error")
        try:
            for img in frames(session, view, pos, width, height, progress):
                a = np.asarray(_to_pil(img))
                for _ in range(repeat):
                    writer.append_data(a)
        finally:
            writer.close()
        with open(tmp_file, "rb") as f:
            data = f.read()
    return write_bytes_atomic(target, data)


def export_animation(session, view, path: str | os.PathLike, width: int, height: int, speed: float = 3.0,
                     passes: str = "both", progress: Progress | None = None) -> Path:
    ext = check_suffix(path, (".gif", ".mp4"), "an animation")
    if ext == ".gif":
        return export_gif(session, view, path, width, height, speed, passes, progress=progress)
    return export_mp4(session, view, path, width, height, speed, passes, progress=progress)


# trace and history -------------------------------------------------------------------------------
def export_trace(trace: Trace | None, path: str | os.PathLike) -> Path:
    """The trace as the engine's .npz trace file or as JSON (see rnnviz.engine.io.export)."""
    ext = check_suffix(path, (".npz", ".json"), "a trace")
    if trace is None:
        raise ExportError(f"{path}: there is no trace to export")
    if ext == ".json":
        return save_trace_json(trace, path)
    with tempfile.TemporaryDirectory(prefix="rnnviz-trace-") as tmp:  # save_trace, then an atomic copy
        save_trace(trace, os.path.join(tmp, "t.npz"))
        with open(os.path.join(tmp, "t.npz"), "rb") as f:
            return write_bytes_atomic(path, f.read())


def has_history(controller) -> bool:
    """Whether a TrainingController has trained at least one iteration (a history to export)."""
    return controller is not None and controller.trainer is not None and len(controller.trainer.history.loss) > 0


def export_history(controller, path: str | os.PathLike) -> Path:
    """The training history of a TrainingController as CSV (paused first: the worker must not
    append while the file is written)."""
    check_suffix(path, (".csv",), "the training history")
    if controller is None or controller.trainer is None:
        raise ExportError(f"{path}: there is no training history yet: train the network first")
    if controller.running:
        controller.pause(wait=True)  # an iteration can outlast pause()'s short wait
    return save_history_csv(controller.trainer.history, path)

