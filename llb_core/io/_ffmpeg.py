"""Thin helpers around the ffmpeg binary bundled with imageio-ffmpeg (probe, packet index, writer)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from llb_core.io._errors import ExportError, FrameSourceError

log = logging.getLogger(__name__)


def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    """What `probe` learns about the first video stream of a file.

    Attributes:
        width: coded width in pixels (before rotation).
        height: coded height in pixels (before rotation).
        fps: average frame rate.
        rotation: clockwise display rotation in degrees, one of 0, 90, 180, 270.
        start: container start time in seconds.
        codec: decoder name, e.g. "h264".
        pix_fmt: decoder pixel format, e.g. "yuv420p" or "yuv420p10le".
    """

    width: int
    height: int
    fps: float
    rotation: int
    start: float
    codec: str
    pix_fmt: str

    @property
    def display_size(self) -> tuple[int, int]:
        """(H, W) of decoded frames once rotation metadata is applied."""
        if self.rotation in (90, 270):
            return self.width, self.height
        return self.height, self.width

    @property
    def high_bit_depth(self) -> bool:
        """True if the stream stores more than 8 bits per sample."""
        return bool(re.search(r"(9|10|12|14|16)(le|be)$", self.pix_fmt))


_STREAM_RE = re.compile(
    r"Stream #\d+:\d+.*?: Video: (?P<codec>\w+).*?, (?P<pix>[a-z0-9_]+)(?:\(.*?\))?, "
    r"(?P<w>\d+)x(?P<h>\d+)"
)


def probe(path: Path) -> VideoInfo:
    """Read the header of a video file with `ffmpeg -i`.

    Raises:
        FrameSourceError: no video stream could be found (not a video, truncated header, ...).
    """
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, errors="replace", check=False
    )
    text = proc.stderr
    m = _STREAM_RE.search(text)
    if m is None:
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        tagged = [re.sub(r"^\[[^]]*\] ", "", ln) for ln in lines if ln.startswith("[")]
        last = (tagged or lines[-1:] or ["no output"])[0]
        raise FrameSourceError(
            f"{path}: not a readable video ({last}). Check the file is a complete video "
            "(re-export or re-download it), or convert it with ffmpeg to H.264 MP4."
        )
    fps = 0.0
    line = text[m.start() : text.find("\n", m.start())]
    for pat in (r"([\d.]+) fps", r"([\d.]+k?) tbr"):
        fm = re.search(pat, line)
        if fm and not fm.group(1).endswith("k"):
            fps = float(fm.group(1))
            break
    rot = 0
    rm = re.search(r"rotation of (-?[\d.]+) degrees", text)
    if rm:
        # ffmpeg reports the counter-clockwise angle; store the clockwise one, normalised.
        rot = int(round(-float(rm.group(1)))) % 360
    sm = re.search(r"start: (-?[\d.]+)", text)
    return VideoInfo(
        width=int(m.group("w")),
        height=int(m.group("h")),
        fps=fps,
        rotation=rot,
        start=float(sm.group(1)) if sm else 0.0,
        codec=m.group("codec"),
        pix_fmt=m.group("pix"),
    )


@dataclass(frozen=True)
class PacketIndex:
    """Frame timing of a video stream, read from its packets without decoding.

    Attributes:
        times: presentation time (seconds) of every frame, sorted; frame k is the k-th smallest.
        keyframes: sorted indices (presentation order) of frames stored as keyframes.
    """

    times: list[float]
    keyframes: list[int]


def packet_index(path: Path) -> PacketIndex:
    """List the video packets with `ffmpeg -c copy -f framecrc` (fast: no decoding).

    One packet is one frame for the codecs we meet (H.264/5, ProRes, VP9, AV1 in MP4/MOV/MKV).

    Raises:
        FrameSourceError: the packets cannot be read, or ffmpeg reports a truncated / corrupt file.
    """
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-copyts",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-f",
        "framecrc",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    tb: Fraction | None = None
    pts: list[int] = []
    key_pts: list[int] = []
    for line in proc.stdout.splitlines():
        if line.startswith("#tb 0:"):
            tb = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            parts = [p.strip() for p in line.split(",")]
            if len(parts) >= 3 and parts[2].lstrip("-").isdigit():
                pts.append(int(parts[2]))
                flags = next((p for p in parts[6:] if p.startswith("F=")), None)
                if flags is None or int(flags[2:], 16) & 1:  # framecrc omits F= for plain keyframes
                    key_pts.append(int(parts[2]))
    if proc.returncode != 0 or tb is None or not pts:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no packets"]
        raise FrameSourceError(
            f"{path}: cannot index the video packets ({tail[0]}). "
            "The file may be truncated or damaged; re-encode it with ffmpeg."
        )
    damage = re.search(r"(Packet corrupt[^\n]*|[^\n]*partial file[^\n]*|[^\n]*Truncated[^\n]*)", proc.stderr)
    if damage:
        raise FrameSourceError(
            f"{path}: the file is truncated or damaged (ffmpeg: {damage.group(1).strip()}). Re-download or "
            "re-copy it; to salvage the readable part, re-encode it with ffmpeg to a new file."
        )
    pts.sort()
    rank = {p: k for k, p in enumerate(pts)}
    return PacketIndex([float(p * tb) for p in pts], sorted({rank[p] for p in key_pts}))


class _StderrDrain(threading.Thread):
    """Collect a subprocess's stderr so the pipe never fills up and errors can be reported."""

    def __init__(self, stream: object) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for raw in iter(self._stream.readline, b""):  # type: ignore[attr-defined]
            self.lines.append(raw.decode("utf-8", "replace").rstrip())
            if len(self.lines) > 200:
                del self.lines[:100]

    def tail(self, n: int = 3) -> str:
        """The last `n` lines of stderr joined with ' | '."""
        return " | ".join(line for line in self.lines[-n:] if line) or "no message"


class FfmpegWriter:
    """Pipe raw frames into ffmpeg, writing `tmp_path`; the caller renames it on success.

    Args:
        tmp_path: file ffmpeg writes (its suffix picks the container).
        size: (H, W) of the frames.
        fps: output frame rate.
        in_pix_fmt: raw input layout: "rgb24", "rgba", "gray", "gray16le", "rgba64le", ...
        out_args: codec / colour arguments placed before the output path.
        vf: optional filter graph.
    """

    def __init__(
        self,
        tmp_path: Path,
        size: tuple[int, int],
        fps: float,
        in_pix_fmt: str,
        out_args: list[str],
        vf: str | None = None,
    ) -> None:
        h, w = size
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            in_pix_fmt,
            "-s",
            f"{w}x{h}",
            "-framerate",
            _fps_arg(fps),
            "-i",
            "-",
        ]
        if vf:
            cmd += ["-vf", vf]
        cmd += [*out_args, str(tmp_path)]
        self.path = tmp_path
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        self._drain = _StderrDrain(self._proc.stderr)
        self._drain.start()

    def write(self, frame: np.ndarray) -> None:
        """Send one frame (layout matching `in_pix_fmt`)."""
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())  # type: ignore[union-attr]
        except (BrokenPipeError, OSError) as err:
            self._proc.wait()
            self._drain.join(timeout=5)
            raise ExportError(
                f"{self.path}: ffmpeg stopped while encoding ({self._drain.tail()}). "
                "Check free disk space and that the output folder is writable."
            ) from err

    def close(self) -> None:
        """Finish the stream and wait for ffmpeg; raise ExportError if it failed."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self._proc.stdin.close()  # type: ignore[union-attr]
        rc = self._proc.wait()
        self._drain.join(timeout=5)
        if rc != 0:
            raise ExportError(
                f"{self.path}: ffmpeg failed with code {rc} ({self._drain.tail()}). "
                "Check free disk space and that the output folder is writable."
            )

    def abort(self) -> None:
        """Kill ffmpeg (used on cancel or error); the caller removes the temp file."""
        with contextlib.suppress(OSError):
            self._proc.kill()
        with contextlib.suppress(OSError, ValueError):
            self._proc.stdin.close()  # type: ignore[union-attr]
        self._proc.wait()
        self._drain.join(timeout=5)


def _fps_arg(fps: float) -> str:
    """Exact rational for common NTSC rates (29.97 -> 30000/1001), else the decimal value."""
    for num in (24000, 30000, 60000):
        if abs(fps - num / 1001) < 1e-3:
            return f"{num}/1001"
    return f"{fps:.6g}"


def env_threads() -> str:
    """Decoder thread count for ffmpeg (`LLB_FFMPEG_THREADS`, default 0 = ffmpeg's choice)."""
    return os.environ.get("LLB_FFMPEG_THREADS", "0")
