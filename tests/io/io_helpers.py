"""Helpers shared by the I/O tests (a uniquely named module: `conftest` names clash across folders)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np


def ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg quietly, failing the test on error."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def decode_video(path: Path, size: tuple[int, int], pix_fmt: str = "rgb24") -> np.ndarray:
    """All frames of a video as (N, H, W, C) with BT.709 limited-range -> RGB conversion, exact rounding.

    pix_fmt: "rgb24", "rgba", "gray", "gray16le".
    """
    channels, dtype = {
        "rgb24": (3, np.uint8),
        "rgba": (4, np.uint8),
        "gray": (1, np.uint8),
        "gray16le": (1, np.dtype("<u2")),
    }[pix_fmt]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(path)]
    if pix_fmt in ("rgb24", "rgba"):
        cmd += ["-vf", "scale=in_color_matrix=bt709:in_range=tv:flags=accurate_rnd+full_chroma_int"]
    cmd += ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    h, w = size
    return np.frombuffer(raw, dtype).reshape(-1, h, w, channels)


def stream_info(path: Path) -> str:
    """ffmpeg's description of a file's streams (for codec / colour-tag checks)."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return proc.stderr
