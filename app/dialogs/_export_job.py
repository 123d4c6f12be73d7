"""What the export dialog needs besides widgets: per-format destination rules and the worker thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from llb_core.errors import LLBError
from llb_core.io import CancelledError
from llb_core.io.export import FORMATS, ExportOptions, MaskSequence, export

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormatInfo:
    """How the dialog presents one export format.

    Attributes:
        title: short name in the format list.
        suffixes: file extensions the format writes, the first being the default; () for a folder.
        bit_depth: the 8/16-bit choice applies.
        opacity: the overlay opacity applies.
        video_name: the YouTube-VOS video folder name applies.
        image_ext: the COCO image file extension applies.
        video: the format writes a video, where skipping frames changes timing.
    """

    title: str
    suffixes: tuple[str, ...] = ()
    bit_depth: bool = False
    opacity: bool = False
    video_name: bool = False
    image_ext: bool = False
    video: bool = False

    @property
    def is_folder(self) -> bool:
        """True when the format writes a folder, False when it writes one file."""
        return not self.suffixes


FORMAT_INFO: dict[str, FormatInfo] = {
    "davis": FormatInfo("DAVIS index PNGs"),
    "ytvos": FormatInfo("YouTube-VOS folder", video_name=True),
    "binary": FormatInfo("Binary mask PNGs, per object"),
    "alpha": FormatInfo("Soft alpha PNGs, per object", bit_depth=True),
    "cutout": FormatInfo("RGBA cutout PNGs", bit_depth=True),
    "prores": FormatInfo("ProRes 4444 video with alpha", (".mov",), bit_depth=True, video=True),
    "matte": FormatInfo("Greyscale matte video", (".mov", ".mkv"), bit_depth=True, video=True),
    "overlay": FormatInfo("Overlay preview video", (".mp4", ".mov"), opacity=True, video=True),
    "coco": FormatInfo("COCO instances JSON", (".json",), image_ext=True),
}
_ALL_SUFFIXES = {s for info in FORMAT_INFO.values() for s in info.suffixes}


def format_info(fmt: str) -> FormatInfo:
    """Presentation of `fmt`; a format llb_core gained since this table was written is shown as a folder."""
    if fmt not in FORMATS:
        raise KeyError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    return FORMAT_INFO.get(fmt, FormatInfo(fmt))


def fit_destination(path: Path, fmt: str) -> Path:
    """`path` adjusted to what `fmt` writes: a known file suffix for file formats, no suffix for folders."""
    info = format_info(fmt)
    if info.is_folder:
        return path.with_suffix("") if path.suffix.lower() in _ALL_SUFFIXES else path
    if path.suffix.lower() in info.suffixes:
        return path
    stem = path.with_suffix("") if path.suffix.lower() in _ALL_SUFFIXES else path
    return stem.with_name(stem.name + info.suffixes[0])


def describe_failure(err: BaseException, out: Path) -> str:
    """The message shown for an export that raised `err` while writing `out`."""
    if isinstance(err, LLBError):  # ExportError, WriteError, a missing source...: they name file and remedy
        return str(err)
    if isinstance(err, OSError):
        blocker = Path(err.filename) if err.filename else None
        if isinstance(err, FileExistsError | NotADirectoryError) and blocker is not None and blocker.is_file():
            reason = f"{blocker} is a file, where a folder is needed"
        else:
            reason = (err.strerror or str(err)) + (f" ({err.filename})" if err.filename else "")
        return (
            f"{out}: could not write the export: {reason}. Free disk space, check that you may write there, or "
            "choose another destination; the destination was left unchanged."
        )
    return f"{out}: the export stopped on an unexpected {type(err).__name__}: {err}. Please report this bug."


class ExportJob(QThread):
    """Runs `llb_core.io.export.export` off the GUI thread.

    Signals (delivered on the GUI thread): `progressed(done, total)` after each frame, then exactly one of
    `succeeded(Path)`, `failed(message)` or `cancelled(message)`.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal(str)

    def __init__(
        self, seq: MaskSequence, fmt: str, out: Path, options: ExportOptions, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.seq, self.fmt, self.out, self.options = seq, fmt, out, options
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Ask the export to stop after the current frame."""
        self.cancel_event.set()

    def run(self) -> None:
        try:
            path = export(self.seq, self.fmt, self.out, self.options, self.progressed.emit, self.cancel_event)
        except CancelledError as err:
            self.cancelled.emit(str(err))
        except Exception as err:  # every failure is logged and reported to the person, none is dropped
            if not isinstance(err, LLBError | OSError):
                log.exception("export of %s to %s failed", self.fmt, self.out)
            else:
                log.warning("export of %s to %s failed: %s", self.fmt, self.out, err)
            self.failed.emit(describe_failure(err, self.out))
        else:
            self.succeeded.emit(Path(path))
