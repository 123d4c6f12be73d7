"""Atomic file writes: temp file in the destination folder, fsync, then `os.replace`.

A reader (or a crash at any instant) sees either the previous file or the complete new one, never a
partial file.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from llb_core.errors import new_file_mode
from llb_core.io._errors import LlbIoError, WriteError


def _fsync_dir(folder: Path) -> None:
    """Flush a directory entry so a rename survives a power cut (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on clean exit it replaces `dest` atomically.

    The caller writes the complete file to the yielded path (any tool may do it, e.g. ffmpeg). On an
    exception the temporary file is removed and `dest` is left untouched; an `OSError` comes out as a
    `WriteError` naming `dest`.

    Args:
        dest: final path.
        suffix: suffix of the temporary name (default: that of `dest`, so encoders pick the format).
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.",
            suffix=(dest.suffix if suffix is None else suffix) or ".tmp",
            dir=dest.parent,
        )
    except OSError as err:
        raise _write_error(dest, err) from err
    os.fchmod(fd, new_file_mode())
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(err, OSError) and not isinstance(err, LlbIoError):
            raise _write_error(dest, err) from err
        raise
    _fsync_dir(dest.parent)


def _write_error(dest: Path, err: OSError) -> WriteError:
    """The one-line `WriteError` for an OS error met while writing `dest`."""
    failure = WriteError(
        f"{dest}: could not be written ({err}). Free disk space or check that "
        "the folder is writable; the previous version of the file is intact."
    )
    failure.dest, failure.reason = dest, str(err)
    return failure


def atomic_write_bytes(dest: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `dest` atomically (temp file + fsync + rename)."""
    with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()


def atomic_write_text(dest: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 `text` to `dest` atomically."""
    atomic_write_bytes(dest, text.encode("utf-8"))


def encode_png(image: Image.Image, compress_level: int = 1) -> bytes:
    """Encode a PIL image as PNG bytes (fast compression by default: masks compress well anyway)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def atomic_write_png(dest: str | os.PathLike[str], image: Image.Image | np.ndarray) -> None:
    """Write a PNG atomically.

    Args:
        dest: final path.
        image: a PIL image, or an array: (H, W) uint8 / uint16 greyscale, or (H, W, 3|4) uint8 /
            uint16 RGB(A) (colour arrays are encoded with OpenCV).
    """
    if isinstance(image, Image.Image):
        atomic_write_bytes(dest, encode_png(image))
        return
    arr = np.ascontiguousarray(image)
    if arr.ndim == 3 and arr.dtype in (np.uint8, np.uint16) and arr.shape[2] in (3, 4):
        import cv2  # faster than PIL for colour PNGs, and PIL cannot write 16-bit RGB(A)

        code = cv2.COLOR_RGB2BGR if arr.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        ok, buf = cv2.imencode(".png", cv2.cvtColor(arr, code), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise ValueError(f"OpenCV could not encode a {arr.shape} {arr.dtype} PNG for {dest}")
        atomic_write_bytes(dest, buf.tobytes())
        return
    if arr.dtype == np.uint16:
        pil = Image.fromarray(arr)  # 2-D: mode "I;16"
    elif arr.dtype == np.uint8:
        pil = Image.fromarray(arr)
    else:
        raise ValueError(f"cannot write a {arr.dtype} array as PNG ({dest}); use uint8 or uint16")
    atomic_write_bytes(dest, encode_png(pil))
