"""I/O benchmark: decode throughput, random-scrub latency and memory, export throughput per format.

Usage (from the repository root):

    python benchmarks/bench_io.py [--loops 10] [--scrub 60] [--export-frames 60]

A long clip is made in a temporary folder by looping ../shared/data/videos/bedroom.mp4 (stream copy, so
it decodes like the original); nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llb_core.io import VideoFileSource, extract_frames, open_source  # noqa: E402
from llb_core.io._ffmpeg import ffmpeg_exe  # noqa: E402
from llb_core.io.export import FORMATS, ExportOptions, InMemorySequence, combined_alpha, export  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def rss_mib() -> float:
    """Current resident set size of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_long_clip(src: Path, loops: int, out: Path) -> Path:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            str(loops - 1),
            "-i",
            str(src),
            "-c",
            "copy",
            str(out),
        ],
        check=True,
    )
    return out


def bench_decode(path: Path, scrub: int) -> None:
    t0 = time.perf_counter()
    src = VideoFileSource(path)
    t_open = time.perf_counter() - t0
    n = src.num_frames
    h, w = src.size
    print(f"clip: {path.name}, {n} frames, {w}x{h}, {src.fps:g} fps; open + packet index {t_open:.2f} s")
    rss0 = rss_mib()
    t0 = time.perf_counter()
    for i in range(n):
        src.read(i)
    dt = time.perf_counter() - t0
    rss_seq = rss_mib()
    print(
        f"sequential decode: {n / dt:7.1f} frames/s ({dt:.1f} s); RSS {rss0:.0f} -> {rss_seq:.0f} MiB "
        f"(cache {src.cache.capacity} frames = {src.cache.capacity * h * w * 3 / 2**20:.0f} MiB max)"
    )
    rng = np.random.default_rng(0)
    targets = rng.integers(0, n, scrub)
    times = []
    for i in targets:
        t0 = time.perf_counter()
        src.read(int(i))
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1000
    print(
        f"random scrub ({scrub} reads over the clip): {scrub / ms.sum() * 1000:6.1f} reads/s, median "
        f"{np.median(ms):.0f} ms, p90 {np.percentile(ms, 90):.0f} ms; RSS {rss_mib():.0f} MiB, "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )
    neighbours = []
    for i in targets[:10]:
        base = int(min(i, n - 20))
        src.read(base)
        t0 = time.perf_counter()
        for j in range(base + 1, base + 11):
            src.read(j)
        neighbours.append((time.perf_counter() - t0) / 10)
    print(f"step-forward after a seek (play from a scrub point): {1 / np.mean(neighbours):6.1f} frames/s")
    src.close()


def bench_extracted(path: Path, scrub: int, out_dir: Path) -> None:
    src = VideoFileSource(path)
    t0 = time.perf_counter()
    folder = extract_frames(src, out_dir / "frames", "jpg", jpeg_quality=95)
    dt = time.perf_counter() - t0
    print(f"extract {src.num_frames} frames to JPEG q95: {src.num_frames / dt:6.1f} frames/s")
    src.close()
    imgs = open_source(folder, cache_frames=0)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for i in rng.integers(0, imgs.num_frames, scrub):
        imgs.read(int(i))
    dt = time.perf_counter() - t0
    print(f"random scrub on extracted frames: {scrub / dt:6.1f} reads/s ({dt / scrub * 1000:.0f} ms/read)")


def synthetic_masks(size: tuple[int, int], n: int) -> tuple[dict[int, np.ndarray], dict]:
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    masks, soft = {}, {}
    for i in range(n):
        m = np.zeros(size, np.uint8)
        cx = w * (0.3 + 0.2 * np.sin(i / 10))
        m[((xx - cx) ** 2 + (yy - h / 2) ** 2) < (h / 4) ** 2] = 1
        m[(yy > h * 0.6) & (xx > w * 0.6)] = 2
        masks[i] = m
        soft[(i, 1)] = np.clip((h / 4 - np.sqrt((xx - cx) ** 2 + (yy - h / 2) ** 2)) / 8 + 0.5, 0, 1).astype(np.float32)
    return masks, soft


def bench_export(path: Path, frames: int, out_dir: Path) -> None:
    full = open_source(path, cache_frames=frames)

    class Head(InMemorySequence):
        @property
        def num_frames(self) -> int:
            return frames

    masks, soft = synthetic_masks(full.size, frames)
    seq = Head(full, masks, soft=soft)
    for i in range(frames):  # decode once so export timings exclude source decoding
        full.read(i)
    targets = {
        "davis": "davis",
        "ytvos": "ytvos",
        "binary": "binary",
        "alpha": "alpha",
        "cutout": "cutout",
        "prores": "cut.mov",
        "matte": "matte.mkv",
        "overlay": "overlay.mp4",
        "coco": "coco.json",
    }
    print(f"export of {frames} frames of {full.size[1]}x{full.size[0]}, 2 objects (frames pre-decoded):")
    for fmt in FORMATS:
        for opts, label in ((ExportOptions(), ""), (ExportOptions(grow=3, feather=4), " grow 3 feather 4")):
            if label and fmt not in ("alpha", "prores"):
                continue
            t0 = time.perf_counter()
            export(seq, fmt, out_dir / (label.replace(" ", "_") + targets[fmt]), opts)
            dt = time.perf_counter() - t0
            print(f"  {fmt + label:26s} {frames / dt:7.1f} frames/s")
    # ProRes colour tolerance on these frames
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            str(out_dir / "cut.mov"),
            "-vf",
            "scale=in_color_matrix=bt709:in_range=tv:flags=accurate_rnd+full_chroma_int",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgba",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    h, w = full.size
    got = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 4).astype(int)
    ref = np.stack([full.read(i) for i in range(frames)]).astype(int)
    err = np.abs(got[..., :3] - ref)
    alpha = np.stack([np.rint(combined_alpha(seq, i, seq.objects, ExportOptions()) * 255) for i in range(frames)])
    aerr = np.abs(got[..., 3] - alpha)
    print(
        f"ProRes 4444 round trip (BT.709 limited range, 10-bit): RGB max {err.max()} levels, mean "
        f"{err.mean():.3f}, 99.99th pct {np.percentile(err, 99.99):.0f}; alpha max {aerr.max():.0f}"
    )
    full.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=10, help="copies of bedroom.mp4 in the long clip")
    ap.add_argument("--scrub", type=int, default=60, help="random reads")
    ap.add_argument("--export-frames", type=int, default=60)
    args = ap.parse_args()
    clip = DATA / "videos" / "bedroom.mp4"
    if not clip.exists():
        print(f"benchmark data missing: {clip}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        bench_decode(clip, args.scrub)
        bench_decode(make_long_clip(clip, args.loops, tmpd / "long.mp4"), args.scrub)
        bench_extracted(clip, args.scrub, tmpd)
        bench_export(clip, args.export_frames, tmpd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
