"""Video exporters: ProRes 4444 alpha, matte videos, overlay preview, failure and cancel safety."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from io_helpers import decode_video, ffmpeg, stream_info

from llb_core.io import CancelledError, ExportError, ImageFolderSource, ObjectSpec, read_index_mask
from llb_core.io.export import ExportOptions, InMemorySequence, export, overlay_frame

PRORES_MAX_RGB_ERROR = 2  # 8-bit levels; measured max 2, mean < 0.05 (see llb_core/io/export/_video.py)


@pytest.fixture(scope="module")
def seq(bike: tuple[Path, Path]) -> InMemorySequence:
    src = ImageFolderSource(bike[0], fps=24)
    m0 = read_index_mask(bike[1] / "00000.png", src.size)
    masks = {0: m0, 1: np.roll(m0, 12, axis=1), 3: np.roll(m0, -20, axis=0)}
    objects = [ObjectSpec(1, "rider", (255, 0, 0)), ObjectSpec(2, "bike", (0, 255, 0))]
    return InMemorySequence(src, masks, objects)


def test_prores_4444_alpha_keeps_colours(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "prores", tmp_path / "cut.mov", ExportOptions(feather=3))
    info = stream_info(out)
    assert "prores (4444)" in info and "yuva444p" in info and "bt709" in info and "24 fps" in info
    got = decode_video(out, seq.size, "rgba")
    assert got.shape[0] == 4
    src = np.stack([seq.frame(i) for i in range(4)]).astype(int)
    err = np.abs(got[..., :3].astype(int) - src)
    assert err.max() <= PRORES_MAX_RGB_ERROR and err.mean() < 0.25
    from llb_core.io.export import combined_alpha

    for i in range(4):
        expected = np.rint(combined_alpha(seq, i, seq.objects, ExportOptions(feather=3)) * 255)
        assert np.abs(got[i, ..., 3].astype(int) - expected).max() <= 1


@pytest.mark.parametrize("depth", [8, 16])
def test_matte_ffv1_is_lossless(seq: InMemorySequence, tmp_path: Path, depth: int) -> None:
    out = export(seq, "matte", tmp_path / "m.mkv", ExportOptions(objects=(1,), bit_depth=depth))
    got = decode_video(out, seq.size, "gray" if depth == 8 else "gray16le")[..., 0]
    top = 255 if depth == 8 else 65535
    expected = np.stack([(seq.index_mask(i) == 1) * top for i in range(4)])
    np.testing.assert_array_equal(got, expected)


def test_matte_prores_within_one_level(seq: InMemorySequence, tmp_path: Path) -> None:
    out = export(seq, "matte", tmp_path / "m.mov", ExportOptions(feather=2))
    assert "prores" in stream_info(out)
    got = decode_video(out, seq.size, "gray")[..., 0].astype(int)
    from llb_core.io.export import combined_alpha

    expected = np.stack(
        [np.rint(combined_alpha(seq, i, seq.objects, ExportOptions(feather=2)) * 255) for i in range(4)]
    )
    assert np.abs(got - expected).max() <= 1


def test_overlay_preview_matches_blend_and_keeps_fps(data: Path, tmp_path: Path) -> None:
    clip = tmp_path / "street10.mp4"
    ffmpeg("-i", str(data / "videos" / "street.mp4"), "-frames:v", "10", "-c", "copy", str(clip))
    from llb_core.io import VideoFileSource

    with VideoFileSource(clip) as src:
        mask = np.zeros(src.size, np.uint8)
        mask[100:300, 200:400] = 1
        seq = InMemorySequence(src, {i: mask for i in range(0, 10, 2)})
        out = export(seq, "overlay", tmp_path / "o.mp4")
        info = stream_info(out)
        assert "h264" in info and "yuv420p" in info and "25 fps" in info
        got = decode_video(out, src.size).astype(int)
        assert got.shape[0] == 10
        for i in (0, 1):
            expected = overlay_frame(src.read(i), seq.index_mask(i), seq.objects, 0.5).astype(int)
            assert np.abs(got[i] - expected).mean() < 3.0
        # masked frame: green halved under object 1's colour (128, 0, 0); unmasked frame: untouched
        box = (slice(150, 250), slice(250, 350), 1)
        assert got[0][box].mean() < 0.6 * src.read(0)[box].mean()
        assert abs(got[1][box].mean() - src.read(1)[box].mean()) < 3


def test_encoder_failure_keeps_previous_file(
    seq: InMemorySequence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.mkv"
    out.write_bytes(b"previous export")
    import llb_core.io.export._video as video

    real = video.FfmpegWriter

    def broken(tmp: Path, size: tuple[int, int], fps: float, fmt: str, args: list[str], vf: str | None):
        return real(tmp, size, fps, fmt, [*args, "-no_such_option", "1"], vf)

    monkeypatch.setattr(video, "FfmpegWriter", broken)
    with pytest.raises(ExportError, match=r"ffmpeg (failed|stopped)"):
        export(seq, "matte", out)
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mkv"]


def test_cancel_removes_partial_video(seq: InMemorySequence, tmp_path: Path) -> None:
    out = tmp_path / "cut.mov"
    out.write_bytes(b"previous export")
    stop = threading.Event()
    with pytest.raises(CancelledError):
        export(seq, "prores", out, progress=lambda d, t: stop.set() if d == 2 else None, cancel=stop)
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mov"]


def test_video_formats_check_the_suffix(seq: InMemorySequence, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"writes a \.mov file"):
        export(seq, "prores", tmp_path / "cut.mp4")
