"""`VideoFileSource`: frames of a video file decoded by the bundled ffmpeg, with exact random access."""

from __future__ import annotations

import bisect
import contextlib
import logging
import subprocess
from pathlib import Path

import numpy as np

from llb_core.io._errors import FrameSourceError
from llb_core.io._ffmpeg import VideoInfo, _StderrDrain, env_threads, ffmpeg_exe, packet_index, probe
from llb_core.io._source import DEFAULT_CACHE_FRAMES, FrameSource

log = logging.getLogger(__name__)


class _Decoder:
    """One ffmpeg process decoding forward from frame `first`, delivering raw frames on stdout."""

    def __init__(
        self, path: Path, first: int, seek_s: float | None, size: tuple[int, int], pix_fmt: str, bytes_per_sample: int
    ) -> None:
        h, w = size
        self.next_index = first
        self.frame_bytes = h * w * 3 * bytes_per_sample
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", env_threads()]
        if seek_s is not None and seek_s > 0:
            cmd += ["-ss", f"{seek_s:.6f}"]
        cmd += [
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-an",
            "-sn",
            "-dn",
            "-fps_mode",
            "passthrough",
            "-sws_flags",
            "accurate_rnd+full_chroma_int+bilinear",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=self.frame_bytes)
        self.drain = _StderrDrain(self.proc.stderr)
        self.drain.start()

    def read_raw(self) -> bytes | None:
        """The next frame's bytes, or None at end of stream."""
        data = self.proc.stdout.read(self.frame_bytes)  # type: ignore[union-attr]
        if len(data) < self.frame_bytes:
            return None
        self.next_index += 1
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdout.close()  # type: ignore[union-attr]
        self.proc.wait()
        self.drain.join(timeout=2)


class VideoFileSource(FrameSource):
    """Frames of a video file (any format the bundled ffmpeg reads).

    The frame count and each frame's presentation time come from the packet index (read once, without
    decoding). Y'CbCr -> RGB uses the stream's own matrix with full chroma interpolation and accurate
    rounding (8- and 16-bit reads agree within 1.5 levels). Rotation metadata is honoured (frames come
    out upright, `size` is the displayed size). Random access seeks with `-ss` to just before the
    frame's time, so frame `i` read at random equals frame `i` of a sequential decode; short forward
    jumps keep decoding the running stream instead.

    Args:
        path: the video file.
        cache_frames: LRU cache capacity in frames.
        forward_window: jumps forward of at most this many frames decode through instead of seeking
            (default: one second of video, at least 12 frames); longer jumps also decode through when
            no keyframe lies between (a seek would decode the same frames again).
    """

    def __init__(
        self, path: str | Path, cache_frames: int = DEFAULT_CACHE_FRAMES, forward_window: int | None = None
    ) -> None:
        super().__init__(Path(path), cache_frames)
        if not self.path.is_file():
            raise FrameSourceError(
                f"{self.path}: video file not found. Check the path, or relink the project to the moved file."
            )
        self.info: VideoInfo = probe(self.path)
        index = packet_index(self.path)
        self._times = index.times
        self._keyframes = index.keyframes or [0]
        self._fps = self.info.fps or (self._estimate_fps())
        self._size = self.info.display_size
        self._window = forward_window if forward_window is not None else max(12, round(self._fps))
        self._decoder: _Decoder | None = None

    def _estimate_fps(self) -> float:
        if len(self._times) > 1:
            return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)
        return 25.0

    @property
    def num_frames(self) -> int:
        return len(self._times)

    @property
    def bit_depth(self) -> int:
        return 16 if self.info.high_bit_depth else 8

    @property
    def keyframe_interval(self) -> float:
        """Mean frames per keyframe. Large values (long GOPs) make random seeks slow: a seek decodes
        from the previous keyframe; `extract_frames` then gives fast scrubbing."""
        return self.num_frames / max(len(self._keyframes), 1)

    def frame_time(self, index: int) -> float:
        """Presentation time of frame `index` in seconds from the start of the file."""
        self._check(index)
        return self._times[index] - self.info.start

    def _seek_time(self, index: int) -> float | None:
        """The `-ss` value that makes frame `index` the first frame ffmpeg outputs (None: from start)."""
        if index == 0:
            return None
        gap = self._times[index] - self._times[index - 1]
        return self._times[index] - self.info.start - 0.5 * gap

    def _continue_forward(self, position: int, target: int) -> bool:
        """True if decoding on from `position` reaches `target` no slower than a fresh seek would.

        A seek restarts at the last keyframe before `target`; if that is not past `position`, decoding
        on is strictly less work. Short hops (within the forward window) also decode on.
        """
        if target < position:
            return False
        if target - position <= self._window:
            return True
        k = bisect.bisect_right(self._keyframes, target) - 1
        return k < 0 or self._keyframes[k] <= position

    def _decode(self, index: int) -> np.ndarray:
        dec = self._decoder
        if dec is None or not self._continue_forward(dec.next_index, index):
            self._close_decoder()
            dec = self._decoder = _Decoder(self.path, index, self._seek_time(index), self._size, "rgb24", 1)
        h, w = self._size
        while True:
            data = dec.read_raw()
            if data is None:
                dec.proc.wait()
                msg = dec.drain.tail()
                self._close_decoder()
                raise FrameSourceError(
                    f"{self.path}: frame {index} of {self.num_frames} could not be decoded ({msg}). "
                    "The file is probably truncated or damaged; re-encode or re-download it."
                )
            frame = np.frombuffer(data, np.uint8).reshape(h, w, 3).copy()
            got = dec.next_index - 1
            if got == index:
                return frame
            frame.flags.writeable = False
            self.cache.put(got, frame)

    def read16(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint16 RGB; decoded at full precision for >8-bit video."""
        if not self.info.high_bit_depth:
            return super().read16(index)
        self._check(index)
        with self._lock:
            dec = _Decoder(self.path, index, self._seek_time(index), self._size, "rgb48le", 2)
            try:
                data = dec.read_raw()
            finally:
                dec.close()
        if data is None:
            raise FrameSourceError(
                f"{self.path}: frame {index} could not be decoded at 16 bits "
                f"({dec.drain.tail()}). The file may be damaged; re-encode it."
            )
        h, w = self._size
        return np.frombuffer(data, "<u2").reshape(h, w, 3).astype(np.uint16)

    def _close_decoder(self) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    def close(self) -> None:
        with self._lock:
            self._close_decoder()
        super().close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._close_decoder()
