"""Which runtime computes a network's frozen per-frame parts on the CPU: PyTorch or OpenVINO.

The per-frame parts are the backbone with its adapters (`encode_frame`) and the decoder (`decode`); the few-shot
learner, label encoder and everything trained stay in PyTorch, the reference and the training path. OpenVINO
runs the same two graphs converted from the PyTorch modules for one input size, with its own fused CPU kernels
(and AMX/AVX-512 bf16 where the CPU has them). Which one is faster depends on the machine, so `runner_for`
times both on the run's real input size and keeps the faster; the decision and the converted graphs are
remembered in a cache folder, so the measurement happens once per machine, weights and size.

Naming legend: (h, w) network input, D target-encoding channels.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal, Protocol

import torch
from torch import nn

from llb_core.inference.settings import RUNTIMES, resolve_runtime
from llb_core.model import BackboneNet
from llb_core.model.llbnet import FrameFeatures, LLBNet

LEVEL_NAMES = ("layer1", "layer2", "layer3", "layer4")
CACHE_ENV = "LLB_CACHE_DIR"
log = logging.getLogger(__name__)


class FrameRunner(Protocol):
    """Computes a network's per-frame parts (see module docstring)."""

    name: str

    def encode_frame(self, images: torch.Tensor) -> FrameFeatures:
        """(1, 3, h, w) RGB in [0, 1] -> the frame's features, as `LLBNet.encode_frame`."""
        ...

    def decode(self, frame: FrameFeatures, target: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
        """Logits (1, 1, h, w) from the target encoding (1, D, h/16, w/16) and the prior (1, 1, h, w) or None."""
        ...


class TorchRunner:
    """The reference: the model's own methods."""

    name = "torch"

    def __init__(self, model: BackboneNet) -> None:
        self.model = model

    def encode_frame(self, images: torch.Tensor) -> FrameFeatures:
        return self.model.encode_frame(images)  # type: ignore[no-any-return]

    def decode(self, frame: FrameFeatures, target: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
        return self.model.decode(frame, target, prior)  # type: ignore[no-any-return,operator]


class _FrameGraph(nn.Module):
    """encode_frame as a graph: image (1, 3, h, w) -> levels layer1..layer4, induction[, transformer]."""

    def __init__(self, model: LLBNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = self.model.encode_frame(images)
        extra = () if f.transformer is None else (f.transformer,)
        return (*(f.levels[k] for k in LEVEL_NAMES), f.induction, *extra)


class _DecoderGraph(nn.Module):
    """decode as a graph: levels, target (1, D, h/16, w/16)[, prior (1, 1, h, w)] -> logits (1, 1, h, w)."""

    def __init__(self, model: LLBNet, size: tuple[int, int]) -> None:
        super().__init__()
        self.model = model
        self.size = size

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        levels = dict(zip(LEVEL_NAMES, inputs[:4], strict=True))
        prior = inputs[5] if len(inputs) > 5 else None
        return self.model.run_decoder(levels, self.size, inputs[4], prior)[0]


class OpenVinoRunner:
    """Both graphs compiled by OpenVINO for one input size (1, 3, h, w).

    Args:
        model: an `LLBNet` (lwl, joint, llb) in eval mode.
        size: (h, w) of the network input.
        dtype: torch.float32 or torch.bfloat16 (OpenVINO's inference precision).
        threads: CPU threads for OpenVINO.
        cache: folder for the converted graphs (None: convert in memory every time).
    """

    name = "openvino"

    def __init__(
        self, model: LLBNet, size: tuple[int, int], dtype: torch.dtype, threads: int, cache: Path | None
    ) -> None:
        ov = import_openvino()
        self.size = size
        self.has_prior = bool(model.config.location_prior)
        core = ov.Core()
        config = {
            "INFERENCE_PRECISION_HINT": "bf16" if dtype == torch.bfloat16 else "f32",
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
        }
        # no reference to the model is kept (runners are cached per model): the graphs hold their own weights
        frame_ir, decoder_ir = self._graphs(model, ov, core, cache)
        self.frame_request = core.compile_model(frame_ir, "CPU", config).create_infer_request()
        self.decoder_request = core.compile_model(decoder_ir, "CPU", config).create_infer_request()

    def _example(self, model: LLBNet) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """Inputs of the two graphs at this size, for tracing."""
        h, w = self.size
        image = torch.rand(1, 3, h, w)
        with torch.no_grad():
            f = model.encode_frame(image)
            levels = tuple(f.levels[k].clone() for k in LEVEL_NAMES)
        target = torch.zeros(1, model.config.label_dim, *levels[3].shape[-2:])
        prior = (torch.zeros(1, 1, h, w),) if self.has_prior else ()
        return (image,), (*levels, target, *prior)

    def _graphs(self, model: LLBNet, ov: object, core: object, cache: Path | None) -> tuple[object, object]:
        """The two converted graphs: read from `cache` when there, else converted (and saved there)."""
        folder = None if cache is None else cache / f"ov-{weights_digest(model)}-{self.size[0]}x{self.size[1]}"
        if folder is not None and (folder / "decoder.xml").is_file():
            with contextlib.suppress(RuntimeError):
                return core.read_model(folder / "frame.xml"), core.read_model(folder / "decoder.xml")  # type: ignore[attr-defined]
        frame_in, decoder_in = self._example(model)
        convert = ov.convert_model  # type: ignore[attr-defined]
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on its own deprecation, not about this model
            # share_weights=False: the graphs own copies, valid after the model is freed or changed
            frame_ir = convert(_FrameGraph(model), example_input=frame_in, share_weights=False)
            decoder_ir = convert(_DecoderGraph(model, self.size), example_input=decoder_in, share_weights=False)
        if folder is not None:
            _save_graphs(ov, folder, {"frame.xml": frame_ir, "decoder.xml": decoder_ir})
        return frame_ir, decoder_ir

    def encode_frame(self, images: torch.Tensor) -> FrameFeatures:
        out = self.frame_request.infer([images.float().contiguous().numpy()])
        # the request reuses its output buffers on the next call: copy what the memory bank may keep
        tensors = [torch.from_numpy(out[i].copy()) for i in range(len(out))]
        levels = dict(zip(LEVEL_NAMES, tensors[:4], strict=True))
        transformer = tensors[5] if len(tensors) > 5 else None
        return FrameFeatures(levels, tensors[4], transformer, (images.shape[-2], images.shape[-1]))

    def decode(self, frame: FrameFeatures, target: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
        inputs = [frame.levels[k].float().numpy() for k in LEVEL_NAMES] + [target.float().contiguous().numpy()]
        if self.has_prior:
            inputs.append((torch.zeros(1, 1, *self.size) if prior is None else prior.float().contiguous()).numpy())
        return torch.from_numpy(self.decoder_request.infer(inputs)[0].copy())


def _save_graphs(ov: object, folder: Path, graphs: dict[str, object]) -> None:
    """Write converted graphs into `folder` atomically (a temporary folder renamed); a cache that cannot be
    written is skipped: the graphs are then converted again next time."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return
    try:
        for name, graph in graphs.items():
            ov.save_model(graph, str(tmp / name), compress_to_fp16=False)  # type: ignore[attr-defined]
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def import_openvino() -> ModuleType:
    """The openvino module, imported with its telemetry package made unimportable first: OpenVINO's model converter
    sends usage reports over the network unless that package is missing (it then uses a no-op stub), and the app
    sends nothing anywhere. Every import of openvino in the project goes through here (ImportError if absent)."""
    if "openvino" not in sys.modules and "openvino_telemetry" not in sys.modules:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]
    import openvino

    return openvino


def openvino_available() -> bool:
    try:
        import_openvino()
    except ImportError:
        return False
    return True


@functools.cache
def _code_digest() -> str:
    """A hash of the code the graphs are traced from (llb_core/model and this module): a change there makes
    earlier converted graphs and measurements stale."""
    h = hashlib.sha1()
    here = Path(__file__).resolve()
    for path in sorted((here.parent.parent / "model").glob("*.py")) + [here]:
        h.update(path.read_bytes())
    return h.hexdigest()


def weights_digest(model: nn.Module) -> str:
    """A short hash of the model's tensors and of the code that traces them (the cache key of its converted
    graphs and of a measured choice)."""
    h = hashlib.sha1(_code_digest().encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def cache_folder() -> Path:
    """$LLB_CACHE_DIR, else $XDG_CACHE_HOME/llb-studio/runtime (~/.cache/llb-studio/runtime)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "llb-studio" / "runtime"


def machine_key(threads: int) -> str:
    """The CPU's model name, thread count and runtime versions: a measured choice is valid for these only."""
    name = "unknown cpu"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    versions = f"torch {torch.__version__}"
    if openvino_available():
        versions += f", openvino {import_openvino().__version__}"
    return f"{name}; {threads} threads; {versions}"


@dataclass(frozen=True)
class Measurement:
    """Median ms per frame (encode_frame + decode) of each runtime tried, and the one chosen."""

    chosen: str
    ms: dict[str, float]


def time_runner(runner: FrameRunner, model: LLBNet, size: tuple[int, int], dtype: torch.dtype, repeats: int) -> float:
    """Median ms of one frame's `encode_frame` + `decode` on random input of `size`, after one warm-up."""
    h, w = size
    image = torch.rand(1, 3, h, w)
    prior = torch.rand(1, 1, h, w)
    times = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
        for i in range(repeats + 1):
            start = time.perf_counter()
            frame = runner.encode_frame(image)
            target = torch.zeros(1, model.config.label_dim, *frame.induction.shape[-2:])
            runner.decode(frame, target, prior)
            if i:
                times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


class _Choices:
    """The measured choices, one JSON file in the cache folder: key -> {"chosen", "ms"}."""

    def __init__(self, folder: Path | None) -> None:
        self.path = None if folder is None else folder / "choices.json"

    def get(self, key: str) -> Measurement | None:
        if self.path is None:
            return None
        try:
            entry = json.loads(self.path.read_text())[key]
            return Measurement(str(entry["chosen"]), {str(k): float(v) for k, v in entry["ms"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, key: str, measurement: Measurement) -> None:
        if self.path is None:
            return
        from llb_core.io import atomic_write_text

        try:
            data = json.loads(self.path.read_text())
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        data[key] = {"chosen": measurement.chosen, "ms": measurement.ms}
        with contextlib.suppress(OSError):
            atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True))


# OpenVINO runners built in this process, per model (a session per run must not convert or measure again);
# None where PyTorch was chosen. Values never refer to their model, so a dropped model frees its entry.
_BUILT: weakref.WeakKeyDictionary[nn.Module, dict[tuple, tuple[OpenVinoRunner | None, Measurement | None]]] = (
    weakref.WeakKeyDictionary()
)


def is_prepared(model: BackboneNet, size: tuple[int, int], dtype: torch.dtype, runtime: str = "auto") -> bool:
    """Whether `runner_for` would return at once (no conversion or measurement) for these arguments in this
    process (the default cache folder): lets a caller say what it waits for on a first run."""
    runtime = resolve_runtime(runtime)
    if runtime == "torch" or not isinstance(model, LLBNet) or not openvino_available():
        return True
    return (runtime, size, dtype, torch.get_num_threads(), str(cache_folder())) in _BUILT.get(model, {})


def runner_for(
    model: BackboneNet,
    size: tuple[int, int],
    device: torch.device,
    dtype: torch.dtype,
    runtime: str = "auto",
    *,
    cache: Path | None | Literal["default"] = "default",
    repeats: int = 5,
) -> tuple[FrameRunner, Measurement | None]:
    """The runner for `model` at network input `size` (h, w), and the measurement behind an "auto" choice.

    "torch" always works; "openvino" needs the package (ValueError naming the remedy otherwise); "auto" uses
    PyTorch where nothing else applies (not a CPU, a model without these graphs such as JointFormer, OpenVINO
    missing) and otherwise times both and keeps the faster, remembered in `cache` per machine, weights, size
    and precision (the measurement is logged at INFO, a failed conversion at WARNING).
    """
    runtime = resolve_runtime(runtime)
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    exportable = isinstance(model, LLBNet) and device.type == "cpu" and dtype in (torch.float32, torch.bfloat16)
    if runtime == "torch" or (runtime == "auto" and not (exportable and openvino_available())):
        return TorchRunner(model), None
    if runtime == "openvino" and not exportable:
        raise ValueError(
            f"runtime 'openvino' runs the lwl/joint/llb networks on the CPU in fp32 or bf16 only "
            f"({type(model).__name__} on {device.type}, {dtype}); use runtime 'torch'"
        )
    if runtime == "openvino" and not openvino_available():
        raise ValueError("runtime 'openvino' needs the openvino package: pip install openvino (or use 'torch')")
    folder = cache_folder() if cache == "default" else cache
    threads = torch.get_num_threads()
    key = (runtime, size, dtype, threads, str(folder))
    built = _BUILT.setdefault(model, {})
    if key not in built:
        assert isinstance(model, LLBNet)
        if runtime == "openvino":
            built[key] = (OpenVinoRunner(model, size, dtype, threads, folder), None)
        else:
            built[key] = _measured(model, size, dtype, threads, folder, repeats)
    runner, measurement = built[key]
    return (TorchRunner(model) if runner is None else runner), measurement


def _measured(
    model: LLBNet,
    size: tuple[int, int],
    dtype: torch.dtype,
    threads: int,
    folder: Path | None,
    repeats: int,
) -> tuple[OpenVinoRunner | None, Measurement]:
    """Time PyTorch and OpenVINO (or reuse the remembered choice): the OpenVINO runner when it is the faster,
    else None (PyTorch)."""
    precision = "bf16" if dtype == torch.bfloat16 else "fp32"
    key = f"{machine_key(threads)}; {weights_digest(model)}; {size[0]}x{size[1]}; {precision}"
    choices = _Choices(folder)
    known = choices.get(key)
    if known is not None and known.chosen in ("torch", "openvino"):
        if known.chosen == "torch":
            return None, known
        return OpenVinoRunner(model, size, dtype, threads, folder), known
    candidates: dict[str, FrameRunner] = {"torch": TorchRunner(model)}
    try:
        candidates["openvino"] = OpenVinoRunner(model, size, dtype, threads, folder)
    except (RuntimeError, ValueError) as err:  # a graph OpenVINO cannot convert: PyTorch it is, said once
        log.warning("OpenVINO could not convert the network (%s); using PyTorch", err)
    ms = {name: time_runner(r, model, size, dtype, repeats) for name, r in candidates.items()}
    chosen = min(ms, key=ms.__getitem__)
    measurement = Measurement(chosen, ms)
    choices.put(key, measurement)
    timings = ", ".join(f"{n} {v:.0f} ms" for n, v in ms.items())
    log.info("runtime %s for %dx%d %s on this machine (per frame: %s)", chosen, size[1], size[0], precision, timings)
    runner = candidates[chosen]
    return (runner if isinstance(runner, OpenVinoRunner) else None), measurement
