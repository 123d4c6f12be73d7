"""`ImageFolderSource`: a folder of numbered images (JPEG, PNG, TIFF; 8- or 16-bit) as a clip."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from llb_core.io._errors import FrameSourceError
from llb_core.io._source import DEFAULT_CACHE_FRAMES, FrameSource

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key that orders embedded numbers by value: "f2.png" < "f10.png"."""
    return tuple(int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name))


def list_images(folder: Path) -> list[Path]:
    """Image files directly in `folder` (hidden files skipped), in natural order."""
    files = [
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image_file(path: Path) -> np.ndarray:
    """Read an image as (H, W, 3) RGB, uint8 or uint16 as stored (alpha dropped, grey expanded).

    Raises:
        FrameSourceError: the file cannot be decoded or has an unsupported sample type.
    """
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise FrameSourceError(f"{path}: not a readable image. Replace the file or remove it from the folder.")
    if arr.dtype not in (np.uint8, np.uint16):
        raise FrameSourceError(
            f"{path}: {arr.dtype} samples are not supported; convert the images to 8- or 16-bit PNG/TIFF."
        )
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        return cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 with rounding (v / 257); uint8 passes through."""
    if frame.dtype == np.uint8:
        return frame
    return ((frame.astype(np.uint32) + 128) // 257).astype(np.uint8)


class ImageFolderSource(FrameSource):
    """Numbered images in one folder, in natural order ("2.png" before "10.png").

    Every image header is checked when opening: an empty folder, an unreadable file or images of
    different sizes raise `FrameSourceError` naming the files.

    Args:
        folder: the image folder.
        fps: frame rate to report (images carry none).
        cache_frames: LRU cache capacity in frames.
    """

    def __init__(self, folder: str | Path, fps: float = 24.0, cache_frames: int = DEFAULT_CACHE_FRAMES) -> None:
        super().__init__(Path(folder), cache_frames)
        if not self.path.is_dir():
            raise FrameSourceError(f"{self.path}: image folder not found. Check the path.")
        if fps <= 0:
            raise FrameSourceError(f"{self.path}: fps must be positive, got {fps}")
        self._files = list_images(self.path)
        if not self._files:
            raise FrameSourceError(
                f"{self.path}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))}). "
                "Point to the folder that holds the numbered frames."
            )
        self._fps = float(fps)
        sizes: dict[tuple[int, int], list[Path]] = {}
        self._depth: int | None = None
        for f in self._files:
            try:
                with Image.open(f) as im:
                    w, h = im.size
            except (UnidentifiedImageError, OSError) as err:
                raise FrameSourceError(
                    f"{f}: not a readable image ({err}). Replace the file or remove it from the folder."
                ) from err
            sizes.setdefault((h, w), []).append(f)
        if len(sizes) > 1:
            (h0, w0), first = max(sizes.items(), key=lambda kv: len(kv[1]))
            odd = [f"{p.name} ({w}x{h})" for (h, w), ps in sizes.items() if (h, w) != (h0, w0) for p in ps]
            raise FrameSourceError(
                f"{self.path}: images have different sizes: most are {w0}x{h0} but "
                f"{', '.join(odd[:5])}{' ...' if len(odd) > 5 else ''} differ. Resize or remove them so "
                "every frame has the same size."
            )
        (self._size,) = sizes.keys()

    @property
    def files(self) -> list[Path]:
        """The image files, in frame order."""
        return list(self._files)

    @property
    def num_frames(self) -> int:
        return len(self._files)

    @property
    def bit_depth(self) -> int:
        if self._depth is None:  # PIL reports 16-bit RGB PNGs as 8-bit, so decode the first frame
            self._depth = 16 if self._read_native(0).dtype == np.uint16 else 8
        return self._depth

    def frame_name(self, index: int) -> str:
        self._check(index)
        return self._files[index].stem

    def _read_native(self, index: int) -> np.ndarray:
        path = self._files[index]
        arr = read_image_file(path)
        if arr.shape[:2] != self._size:
            raise FrameSourceError(
                f"{path}: size {arr.shape[1]}x{arr.shape[0]} differs from the clip's "
                f"{self._size[1]}x{self._size[0]} (the file changed after opening). Reopen the clip."
            )
        return arr

    def _decode(self, index: int) -> np.ndarray:
        return to_uint8(self._read_native(index))

    def read16(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint16 RGB (8-bit files are scaled by 257)."""
        self._check(index)
        arr = self._read_native(index)
        return arr if arr.dtype == np.uint16 else arr.astype(np.uint16) * 257
