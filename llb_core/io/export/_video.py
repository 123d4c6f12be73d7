"""Video exporters: ProRes 4444 with alpha, greyscale matte video, H.264 overlay preview.

Colour handling is explicit: RGB -> Y'CbCr uses the BT.709 matrix into limited ("tv") range with
accurate rounding, and the streams are tagged bt709 / tv so players convert back the same way.
Measured on DAVIS and bedroom.mp4 frames (tests/io/test_export_video.py, benchmarks/bench_io.py), decoding
the ProRes 4444 back to RGB with the same matrix gives RGB within 2 levels of the source (max abs
difference over all pixels and channels; mean below 0.5), and alpha within 1 level.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from llb_core.io._atomic import atomic_path
from llb_core.io._ffmpeg import FfmpegWriter
from llb_core.io._masks import quantize_alpha
from llb_core.io._objects import ObjectSpec
from llb_core.io._progress import CancelFlag, ProgressFn
from llb_core.io.export._common import (
    ExportOptions,
    MaskSequence,
    check_file_out,
    combined_alpha,
    hard_index,
    iterate_frames,
    planned,
)
from llb_core.io.export._frames import PlannedSequence

BT709_TAGS = ["-color_range", "tv", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
RGB_TO_709 = "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int"
EVEN_PAD = "pad=ceil(iw/2)*2:ceil(ih/2)*2"


def _encode(
    out: Path,
    seq: PlannedSequence,
    in_pix_fmt: str,
    out_args: list[str],
    vf: str | None,
    frames: object,
    progress: ProgressFn | None,
    cancel: CancelFlag,
) -> Path:
    """Run one ffmpeg encode of the planned frames into a temp file beside `out`, renamed to `out` on success only.

    Frames the plan skips are left out of the stream, so the video is that much shorter than the clip.
    """
    with atomic_path(out) as tmp:
        writer = FfmpegWriter(tmp, seq.size, seq.fps, in_pix_fmt, out_args, vf)
        try:
            for i in iterate_frames(seq.plan.frames, progress, cancel, f"export to {out}"):
                writer.write(frames(i))  # type: ignore[operator]
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return out


def export_prores(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """`.mov` ProRes 4444 (yuva444p10le): the source RGB with the union matte as alpha channel.

    With opts.bit_depth 16 the 16-bit source is fed to the encoder (useful for >8-bit sources).
    """
    out = check_file_out(out, (".mov",), "prores")
    seq = planned(seq, opts)
    args = [
        "-c:v",
        "prores_ks",
        "-profile:v",
        "4444",
        "-pix_fmt",
        "yuva444p10le",
        "-alpha_bits",
        "16",
        "-vendor",
        "apl0",
        *BT709_TAGS,
    ]

    if opts.bit_depth == 16:

        def frame(i: int) -> np.ndarray:
            return np.dstack([seq.frame16(i), quantize_alpha(combined_alpha(seq, i, objects, opts), 16)])

        fmt = "rgba64le"
    else:

        def frame(i: int) -> np.ndarray:
            return np.dstack([seq.frame(i), quantize_alpha(combined_alpha(seq, i, objects, opts), 8)])

        fmt = "rgba"
    return _encode(out, seq, fmt, args, RGB_TO_709 + ",format=yuva444p10le", frame, progress, cancel)


def export_matte(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """Greyscale matte video of the union matte (white = selected objects).

    `.mkv`: FFV1 lossless, 8-bit `gray` or 16-bit `gray16le` (opts.bit_depth): reads back exactly.
    `.mov`: ProRes 422 HQ, limited range, matte in luma (within 1 level of the 8-bit matte).
    """
    out = check_file_out(out, (".mov", ".mkv"), "matte")
    seq = planned(seq, opts)
    depth = opts.bit_depth
    fmt = "gray" if depth == 8 else "gray16le"
    if out.suffix.lower() == ".mkv":
        args, vf = ["-c:v", "ffv1", "-level", "3", "-pix_fmt", fmt], None
    else:
        args = ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le", "-vendor", "apl0", *BT709_TAGS]
        vf = "scale=out_range=tv:flags=accurate_rnd," + EVEN_PAD + ",format=yuv422p10le"

    def frame(i: int) -> np.ndarray:
        return quantize_alpha(combined_alpha(seq, i, objects, opts), depth)

    return _encode(out, seq, fmt, args, vf, frame, progress, cancel)


def overlay_frame(rgb: np.ndarray, index: np.ndarray, objects: Sequence[ObjectSpec], opacity: float) -> np.ndarray:
    """(H, W, 3) uint8 preview: each object's colour blended over `rgb` where `index` == its id."""
    out = rgb.astype(np.float32)
    for obj in objects:
        sel = index == obj.id
        out[sel] = out[sel] * (1.0 - opacity) + np.array(obj.colour, np.float32) * opacity
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def export_overlay(
    seq: MaskSequence,
    out: Path,
    objects: Sequence[ObjectSpec],
    opts: ExportOptions,
    progress: ProgressFn | None = None,
    cancel: CancelFlag = None,
) -> Path:
    """`.mp4` H.264 (yuv420p, BT.709 limited range) preview with the object colours over the frames.

    Odd frame sizes are padded by one pixel (yuv420p needs even sizes).
    """
    out = check_file_out(out, (".mp4", ".mov"), "overlay")
    seq = planned(seq, opts)
    args = [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        *BT709_TAGS,
        "-movflags",
        "+faststart",
    ]

    def frame(i: int) -> np.ndarray:
        return overlay_frame(seq.frame(i), hard_index(seq, i, objects, opts), objects, opts.overlay_opacity)

    return _encode(out, seq, "rgb24", args, RGB_TO_709 + "," + EVEN_PAD + ",format=yuv420p", frame, progress, cancel)
