"""Mask files: DAVIS palette PNGs, greyscale 0/255 PNGs, per-object binary folders, soft masks.

Conventions: an index mask is (H, W) uint8 with 0 = background and k = object id; a soft mask is
(H, W) float32 in [0, 1] for one object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from llb_core.io._atomic import atomic_write_png
from llb_core.io._errors import MaskFileError


def _bit(value: int, k: int) -> int:
    return (value >> k) & 1


def davis_palette() -> list[int]:
    """The DAVIS / PASCAL VOC palette as a flat list of 768 ints (index -> R, G, B).

    Index 0 is black, 1 dark red (128, 0, 0), 2 dark green (0, 128, 0), 3 olive (128, 128, 0), ...
    Each colour spreads the index's bits over the high bits of the three channels.
    """
    flat: list[int] = []
    for idx in range(256):
        rgb = [0, 0, 0]
        for level in range(8):
            for ch in range(3):
                rgb[ch] |= _bit(idx, 3 * level + ch) << (7 - level)
        flat.extend(rgb)
    return flat


DAVIS_PALETTE: tuple[int, ...] = tuple(davis_palette())


def palette_colour(obj_id: int) -> tuple[int, int, int]:
    """RGB colour of `obj_id` in the DAVIS palette."""
    return DAVIS_PALETTE[3 * obj_id], DAVIS_PALETTE[3 * obj_id + 1], DAVIS_PALETTE[3 * obj_id + 2]


def _open(path: Path) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
        return im
    except FileNotFoundError as err:
        raise MaskFileError(f"{path}: mask file not found.") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise MaskFileError(f"{path}: not a readable image ({err}). Re-export the mask as PNG.") from err


def read_index_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an index mask from a palette PNG (index = object id) or a greyscale 0/255 PNG (-> 0/1).

    RGB images are accepted when every colour is a DAVIS palette colour.

    Args:
        path: the mask file.
        size: expected (H, W); a mismatch raises.

    Returns:
        (H, W) uint8 index mask.

    Raises:
        MaskFileError: unreadable file, wrong size, or colours that are not object ids.
    """
    path = Path(path)
    im = _open(path)
    if size is not None and (im.height, im.width) != tuple(size):
        raise MaskFileError(
            f"{path}: mask is {im.width}x{im.height} but the frames are {size[1]}x{size[0]}. "
            "Resize the mask to the frame size (nearest-neighbour) or fix the export that made it."
        )
    if im.mode == "P":
        return np.array(im, dtype=np.uint8)
    if im.mode in ("L", "1", "LA"):
        grey = np.array(im.convert("L"))
        return (grey >= 128).astype(np.uint8)
    if im.mode in ("RGB", "RGBA"):
        rgb = np.array(im.convert("RGB")).astype(np.int32)
        code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        pal = np.array(DAVIS_PALETTE, np.int32).reshape(256, 3)
        pal_code = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
        lookup = {int(c): i for i, c in reversed(list(enumerate(pal_code)))}
        values, inverse = np.unique(code, return_inverse=True)
        ids = [lookup.get(int(v), -1) for v in values]
        if -1 in ids:
            bad = values[ids.index(-1)]
            raise MaskFileError(
                f"{path}: colour #{int(bad):06x} is not a DAVIS palette colour, so it maps to no object. "
                "Save masks as palette PNGs (index = object id) or greyscale 0/255."
            )
        return np.array(ids, np.uint8)[inverse.reshape(code.shape)]
    raise MaskFileError(
        f"{path}: unsupported image mode {im.mode!r} for a mask. Save it as a palette or 8-bit greyscale PNG."
    )


def write_index_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write a (H, W) uint8 index mask as a DAVIS palette PNG, atomically."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"index mask must be (H, W) uint8, got {mask.shape} {mask.dtype} for {path}")
    im = Image.fromarray(mask, mode="P")
    im.putpalette(list(DAVIS_PALETTE))
    atomic_write_png(path, im)


def write_binary_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write a (H, W) bool / 0-1 mask as an 8-bit greyscale 0/255 PNG, atomically."""
    atomic_write_png(path, (np.asarray(mask) > 0).astype(np.uint8) * 255)


def read_soft_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an 8- or 16-bit greyscale PNG as a (H, W) float32 soft mask in [0, 1].

    Raises:
        MaskFileError: unreadable file, wrong size or not greyscale.
    """
    path = Path(path)
    im = _open(path)
    if size is not None and (im.height, im.width) != tuple(size):
        raise MaskFileError(
            f"{path}: soft mask is {im.width}x{im.height} but the frames are "
            f"{size[1]}x{size[0]}. Re-export it at the frame size."
        )
    if im.mode == "L":
        return np.asarray(im, np.float32) / 255.0
    if im.mode.startswith("I;16") or im.mode == "I":
        return np.asarray(im, np.float32) / 65535.0
    raise MaskFileError(f"{path}: soft masks must be 8- or 16-bit greyscale PNGs, not mode {im.mode!r}.")


def quantize_alpha(alpha: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """(H, W) float alpha in [0, 1] -> uint8 (bit_depth 8) or uint16 (16), rounded."""
    if bit_depth not in (8, 16):
        raise ValueError(f"bit depth must be 8 or 16, got {bit_depth}")
    top = 255 if bit_depth == 8 else 65535
    out = np.rint(np.clip(alpha, 0.0, 1.0) * top)
    return out.astype(np.uint8 if bit_depth == 8 else np.uint16)


def write_soft_mask(path: str | Path, alpha: np.ndarray, bit_depth: int = 8) -> None:
    """Write a (H, W) soft mask (float in [0, 1], or already-quantised uint8/uint16) as greyscale PNG."""
    alpha = np.asarray(alpha)
    if alpha.dtype in (np.uint8, np.uint16):
        atomic_write_png(path, alpha)
    else:
        atomic_write_png(path, quantize_alpha(alpha, bit_depth))


_NUM_RE = re.compile(r"(\d+)(?!.*\d)")


def frame_number(path: str | Path) -> int | None:
    """The last number in a file's stem ("frame_00012.png" -> 12), or None."""
    m = _NUM_RE.search(Path(path).stem)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class MaskIssue:
    """One problem found in one mask file."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def check_index_mask(
    path: Path, size: tuple[int, int], object_ids: set[int] | None
) -> tuple[np.ndarray | None, MaskIssue | None]:
    """Read and validate one index mask.

    Args:
        path: the mask file.
        size: expected (H, W).
        object_ids: ids allowed in the mask (None: any id).

    Returns:
        (mask, None) when valid, else (None, issue) with a message naming the remedy.
    """
    try:
        mask = read_index_mask(path, size)
    except MaskFileError as err:
        return None, MaskIssue(path, str(err).removeprefix(f"{path}: "))
    if object_ids is not None:
        unknown = sorted(set(np.unique(mask).tolist()) - set(object_ids) - {0})
        if unknown:
            return None, MaskIssue(
                path,
                f"holds object id(s) {unknown} that are not declared objects "
                f"({sorted(object_ids) or 'none'}). Declare the objects first or fix the mask.",
            )
    return mask, None
