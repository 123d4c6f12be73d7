"""Frame sources: image folders, video files, random access, errors, cache, model resolution."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from io_helpers import ffmpeg

from llb_core.io import (
    FrameCache,
    FrameSourceError,
    ImageFolderSource,
    VideoFileSource,
    extract_frames,
    model_size,
    natural_key,
    open_source,
    to_model_resolution,
)


def _write_rgb(path: Path, rgb: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


# -- image folders ---------------------------------------------------------------------------------


def test_image_folder_reads_davis_frames(data: Path) -> None:
    folder = data / "davis2016" / "JPEGImages" / "480p" / "dog"
    with open_source(folder, fps=30) as src:
        assert isinstance(src, ImageFolderSource)
        assert src.size == (480, 854) and src.num_frames == 60 and src.fps == 30
        frame = src.read(7)
        assert frame.shape == (480, 854, 3) and frame.dtype == np.uint8
        ref = cv2.cvtColor(cv2.imread(str(folder / "00007.jpg")), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(frame, ref)
        assert src.frame_name(7) == "00007"
        assert len(list(src)) == 60


def test_natural_sort_orders_numbers_by_value(tmp_path: Path) -> None:
    for k, name in enumerate(["f10.png", "f2.png", "f1.png"]):
        _write_rgb(tmp_path / name, np.full((4, 6, 3), k * 50, np.uint8))
    src = ImageFolderSource(tmp_path)
    assert [src.frame_name(i) for i in range(3)] == ["f1", "f2", "f10"]
    assert src.read(0)[0, 0, 0] == 100 and src.read(2)[0, 0, 0] == 0
    assert sorted(["a10", "a9", "a100"], key=natural_key) == ["a9", "a10", "a100"]


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_sixteen_bit_images_keep_precision(tmp_path: Path, ext: str) -> None:
    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (8, 10, 3), dtype=np.uint16)
    _write_rgb(tmp_path / f"00000.{ext}", rgb16)
    src = ImageFolderSource(tmp_path)
    assert src.bit_depth == 16
    np.testing.assert_array_equal(src.read16(0), rgb16)
    eight = src.read(0)
    assert eight.dtype == np.uint8
    np.testing.assert_array_equal(eight, np.rint(rgb16 / 257.0).astype(np.uint8))


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no frames here")
    with pytest.raises(FrameSourceError, match="no images found"):
        open_source(tmp_path)


def test_mixed_frame_sizes_name_the_odd_file(tmp_path: Path) -> None:
    for i in range(3):
        _write_rgb(tmp_path / f"{i:05d}.png", np.zeros((20, 30, 3), np.uint8))
    _write_rgb(tmp_path / "00003.png", np.zeros((20, 29, 3), np.uint8))
    with pytest.raises(FrameSourceError, match=r"different sizes.*00003\.png \(29x20\)"):
        open_source(tmp_path)


def test_unreadable_image_is_named(tmp_path: Path) -> None:
    _write_rgb(tmp_path / "00000.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "00001.jpg").write_text("not a jpeg")
    with pytest.raises(FrameSourceError, match=r"00001\.jpg: not a readable image"):
        open_source(tmp_path)


# -- video files -----------------------------------------------------------------------------------


def test_video_metadata_matches_known_values(data: Path) -> None:
    with open_source(data / "videos" / "street.mp4") as src:
        assert isinstance(src, VideoFileSource)
        assert (src.num_frames, src.size, src.fps) == (117, (480, 640), 25.0)
    with open_source(data / "videos" / "bedroom.mp4") as src:
        assert (src.num_frames, src.size, src.fps) == (200, (540, 960), 30.0)


def test_random_access_equals_sequential_decode(data: Path) -> None:
    """Seeks (keyframe and non-keyframe targets, backwards, near the end) give the exact frames."""
    path = data / "videos" / "bedroom.mp4"
    with VideoFileSource(path, cache_frames=0) as src:
        sequential = [src.read(i) for i in range(src.num_frames)]
    order = [150, 3, 199, 77, 76, 120, 1, 0, 198, 45, 100, 61]
    with VideoFileSource(path, cache_frames=0, forward_window=2) as src:
        for i in order:
            np.testing.assert_array_equal(src.read(i), sequential[i], err_msg=f"frame {i}")
    # consecutive frames really differ, so an off-by-one seek could not pass
    assert all(not np.array_equal(sequential[i], sequential[i + 1]) for i in (0, 44, 76, 149))


def test_random_access_on_short_gops_with_b_frames(short_clip: Path, tmp_path: Path) -> None:
    """Many keyframes: seeks land inside GOPs, forward jumps across keyframes seek too."""
    gop = tmp_path / "gop.mp4"
    ffmpeg(
        "-i",
        str(short_clip),
        "-vf",
        "scale=320:240",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "8",
        "-keyint_min",
        "8",
        "-sc_threshold",
        "0",
        "-bf",
        "2",
        str(gop),
    )
    with VideoFileSource(gop, cache_frames=0) as src:
        assert src._keyframes == list(range(0, 40, 8))
        sequential = [src.read(i) for i in range(src.num_frames)]
    with VideoFileSource(gop, cache_frames=0, forward_window=1) as src:
        for i in [21, 39, 9, 8, 7, 30, 16, 17, 2, 35]:
            np.testing.assert_array_equal(src.read(i), sequential[i], err_msg=f"frame {i}")


def test_cache_is_bounded_and_serves_hits(short_clip: Path) -> None:
    with VideoFileSource(short_clip, cache_frames=5) as src:
        for i in range(0, 40, 3):
            src.read(i)
        assert len(src.cache) == 5
        first = src.read(39)
        assert src.read(39) is first  # served from cache, no decode
    cache = FrameCache(2)
    for i in range(3):
        cache.put(i, np.zeros(1))
    assert 0 not in cache and 1 in cache and 2 in cache


def test_rotation_metadata_is_honoured(short_clip: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "rot.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(short_clip), "-c", "copy", str(rotated))
    with VideoFileSource(short_clip) as plain, VideoFileSource(rotated) as rot:
        assert rot.size == (640, 480) and plain.size == (480, 640)
        expected = np.rot90(plain.read(5), k=1)  # +90 display rotation = counter-clockwise
        np.testing.assert_array_equal(rot.read(5), expected)


def test_text_file_renamed_mp4_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video\n" * 20)
    with pytest.raises(FrameSourceError, match=r"holiday\.mp4: not a readable video"):
        open_source(fake)


def test_truncated_mp4_is_a_clear_error(short_clip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(short_clip.read_bytes()[: short_clip.stat().st_size // 2])
    with pytest.raises(FrameSourceError, match=r"cut\.mp4: not a readable video \(.*moov"):
        open_source(cut)


@pytest.mark.parametrize("keep", [1 / 2, 2 / 3])
def test_truncated_faststart_mp4_is_a_clear_error(short_clip: Path, tmp_path: Path, keep: float) -> None:
    """With the index at the front ffmpeg can still list packets; the damage must still be reported."""
    fast = tmp_path / "fast.mp4"
    ffmpeg("-i", str(short_clip), "-c", "copy", "-movflags", "+faststart", str(fast))
    cut = tmp_path / "cut_fast.mp4"
    cut.write_bytes(fast.read_bytes()[: int(fast.stat().st_size * keep)])
    with pytest.raises(FrameSourceError, match=r"cut_fast\.mp4: the file is truncated or damaged"):
        open_source(cut)


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FrameSourceError, match="no such file or folder"):
        open_source(tmp_path / "nope.mp4")


# -- helpers ---------------------------------------------------------------------------------------


def test_model_resolution_downscales_only_large_frames() -> None:
    assert model_size((2160, 3840), 480) == (480, 853)
    assert model_size((480, 854), 480) == (480, 854)
    assert model_size((240, 320), 480) == (240, 320)
    big = np.zeros((960, 1708, 3), np.uint8)
    big[:, 854:] = 200
    small = to_model_resolution(big, 480)
    assert small.shape == (480, 854, 3) and small[0, 0, 0] == 0 and small[0, -1, 0] == 200
    tiny = np.zeros((100, 100, 3), np.uint8)
    assert to_model_resolution(tiny, 480) is tiny


def test_extract_frames_png_is_lossless(short_clip: Path, tmp_path: Path) -> None:
    with VideoFileSource(short_clip) as src:
        trimmed = _FirstFrames(src, 6)
        out = extract_frames(trimmed, tmp_path / "frames", "png")
        back = ImageFolderSource(out)
        assert back.num_frames == 6
        for i in range(6):
            np.testing.assert_array_equal(back.read(i), src.read(i))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_extract_frames_cancel_leaves_nothing(short_clip: Path, tmp_path: Path) -> None:
    from llb_core.io import CancelledError

    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)

    with VideoFileSource(short_clip) as src, pytest.raises(CancelledError):
        extract_frames(src, tmp_path / "frames", "jpg", progress=progress, cancel=lambda: len(calls) >= 3)
    assert calls == [1, 2, 3]
    assert list(tmp_path.iterdir()) == []


class _FirstFrames:
    """The first n frames of a source (keeps extraction tests short)."""

    def __init__(self, src: VideoFileSource, n: int) -> None:
        self._src, self.num_frames, self.path = src, n, src.path

    def read(self, i: int) -> np.ndarray:
        return self._src.read(i)

    def frame_name(self, i: int) -> str:
        return self._src.frame_name(i)


def test_image_folder_changed_after_open_is_detected(tmp_path: Path) -> None:
    for i in range(2):
        _write_rgb(tmp_path / f"{i}.png", np.zeros((8, 8, 3), np.uint8))
    src = ImageFolderSource(tmp_path, cache_frames=0)
    _write_rgb(tmp_path / "1.png", np.zeros((9, 8, 3), np.uint8))
    with pytest.raises(FrameSourceError, match=r"1\.png: size 8x9 differs"):
        src.read(1)


def test_ten_bit_prores_reads_at_16_bits(short_clip: Path, tmp_path: Path) -> None:
    pro = tmp_path / "pro.mov"
    ffmpeg(
        "-i",
        str(short_clip),
        "-frames:v",
        "3",
        "-vf",
        "scale=320:240",
        "-c:v",
        "prores_ks",
        "-profile:v",
        "3",
        "-pix_fmt",
        "yuv422p10le",
        str(pro),
    )
    with VideoFileSource(pro) as src:
        assert src.bit_depth == 16 and src.num_frames == 3
        deep = src.read16(2)
        assert deep.dtype == np.uint16 and deep.shape == (240, 320, 3)
        assert np.any(deep % 257 != 0)  # real >8-bit precision, not scaled 8-bit values
        assert np.abs(deep / 257.0 - src.read(2)).max() <= 1.5


def test_4k_clip_gives_model_sized_frames(short_clip: Path, tmp_path: Path) -> None:
    uhd = tmp_path / "uhd.mp4"
    ffmpeg(
        "-i",
        str(short_clip),
        "-frames:v",
        "2",
        "-vf",
        "scale=3840:2160",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        str(uhd),
    )
    with open_source(uhd, cache_frames=2) as src:
        assert src.size == (2160, 3840)
        frame = src.read(1)
        small = to_model_resolution(frame, 480)
        assert small.shape == (480, 853, 3)
        assert abs(float(small.mean()) - float(frame.mean())) < 1.0  # same picture, just smaller
