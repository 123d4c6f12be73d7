"""Image backbones giving four feature levels, with torchvision-compatible parameter names.

Naming legend: level `layer1`..`layer4` = strides 4, 8, 16, 32 (with `dilated=True` the last level stays
at stride 16 and uses dilated convolutions instead, as in DeepLabV3). Inputs are RGB images (B, 3, H, W)
normalised with the backbone's `input_mean` / `input_std` (those of its ImageNet weights); the model
normalises, see `BackboneNet.normalize`.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from llb_core.model._weights import (
    EFFICIENTNET_LITE2_IMAGENET,
    MOBILENET_V2_IMAGENET,
    RESNET50_IMAGENET,
    PretrainedFile,
    WeightsError,
    compare_state,
    load_state_dict,
    locate_weights,
)

LEVELS = ("layer1", "layer2", "layer3", "layer4")
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # the input normalisation of torchvision's ImageNet weights
IMAGENET_STD = (0.229, 0.224, 0.225)


def run_levels(
    blocks: nn.Sequential | nn.ModuleList, x: torch.Tensor, level_end: dict[str, int], levels: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    """Run `blocks` in order on `x` up to the last block of the deepest level asked for; `level_end`: level ->
    index of its last block. Returns {level: that block's output} for `levels`."""
    out: dict[str, torch.Tensor] = {}
    ends = {index: name for name, index in level_end.items() if name in levels}
    for index in range(max(ends) + 1):
        x = blocks[index](x)
        if index in ends:
            out[ends[index]] = x
    return out


class ConvBNAct(nn.Sequential):
    """Conv, BatchNorm, optional ReLU6 (torchvision's Conv2dNormActivation layout: keys 0 and 1)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        *,
        kernel: int = 3,
        stride: int = 1,
        groups: int = 1,
        dilation: int = 1,
        act: bool = True,
    ) -> None:
        pad = (kernel - 1) // 2 * dilation
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, pad, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear projection, residual when shapes match."""

    def __init__(self, cin: int, cout: int, *, stride: int, expand: int, dilation: int = 1) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, kernel=1))
        layers += [
            ConvBNAct(hidden, hidden, stride=stride, groups=hidden, dilation=dilation),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


# (expansion t, channels c, repeats n, first stride s), as in the MobileNetV2 paper.
_MBV2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
# Index in `features` of the last block of each level.
_MBV2_LEVEL_END = {"layer1": 3, "layer2": 6, "layer3": 13, "layer4": 17}


class MobileNetV2(nn.Module):
    """MobileNetV2 (width 1.0) with four output levels and the ImageNet head kept for checks.

    Args:
        dilated: run blocks 14-17 at stride 16 with dilation 2 (output stride 16): `layer4` gets 320
            channels at stride 16 instead of stride 32.
    """

    pretrained_file: PretrainedFile = MOBILENET_V2_IMAGENET
    title = "MobileNetV2"  # as people write it
    input_mean, input_std = IMAGENET_MEAN, IMAGENET_STD

    def __init__(self, *, dilated: bool = False) -> None:
        super().__init__()
        self.dilated = dilated
        blocks: list[nn.Module] = [ConvBNAct(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in _MBV2_SETTINGS:
            for i in range(n):
                index = len(blocks)
                stride = s if i == 0 else 1
                dilation = 1
                if dilated and index >= 14:
                    # The stride-2 block becomes stride 1; the blocks after it see twice the field.
                    dilation = 1 if stride == 2 else 2
                    stride = 1
                blocks.append(InvertedResidual(cin, c, stride=stride, expand=t, dilation=dilation))
                cin = c
        blocks.append(ConvBNAct(cin, 1280, kernel=1))  # features.18: only used by the ImageNet head
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))
        self.channels = {"layer1": 24, "layer2": 32, "layer3": 96, "layer4": 320}
        self.strides = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 16 if dilated else 32}

    def forward(self, x: torch.Tensor, levels: tuple[str, ...] = LEVELS) -> dict[str, torch.Tensor]:
        """Features per level: (B, 3, H, W) -> {level: (B, C_level, H / stride, W / stride)}."""
        return run_levels(self.features, x, _MBV2_LEVEL_END, levels)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (B, 1000); only meaningful with `dilated=False` (as trained)."""
        x = self.features(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class Bottleneck(nn.Module):
    """ResNet-50 bottleneck block (torchvision layout)."""

    def __init__(self, cin: int, width: int, *, stride: int, dilation: int, downsample: bool) -> None:
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if downsample else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + identity)


class ResNet50(nn.Module):
    """ResNet-50, the paper's backbone, for users who bring torchvision-layout ImageNet weights.

    Args:
        dilated: `layer4` at stride 16 with dilation 2 instead of stride 32.
    """

    pretrained_file: PretrainedFile = RESNET50_IMAGENET
    title = "ResNet-50"  # as people write it
    input_mean, input_std = IMAGENET_MEAN, IMAGENET_STD

    def __init__(self, *, dilated: bool = False) -> None:
        super().__init__()
        self.dilated = dilated
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for index, (width, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))):
            dilation = 1
            if dilated and index == 3:
                stride, dilation = 1, 2
            layer = [Bottleneck(cin, width, stride=stride, dilation=1, downsample=True)]
            layer += [
                Bottleneck(width * 4, width, stride=1, dilation=dilation, downsample=False) for _ in range(blocks - 1)
            ]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layer))
            cin = width * 4
        self.fc = nn.Linear(2048, 1000)
        self.channels = {"layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048}
        self.strides = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 16 if dilated else 32}

    def forward(self, x: torch.Tensor, levels: tuple[str, ...] = LEVELS) -> dict[str, torch.Tensor]:
        """Features per level: (B, 3, H, W) -> {level: (B, C_level, H / stride, W / stride)}."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        out: dict[str, torch.Tensor] = {}
        last = max(LEVELS.index(name) for name in levels)
        for name in LEVELS[: last + 1]:
            x = getattr(self, name)(x)
            if name in levels:
                out[name] = x
        return out

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (B, 1000)."""
        x = self.forward(x)["layer4"]
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class LiteBlock(nn.Module):
    """EfficientNet-Lite block (MBConv without squeeze-excitation, ReLU6): optional 1x1 expansion, k x k
    depthwise, 1x1 linear projection, residual when shapes match. Parameter names follow the published
    weights' `_blocks.N` layout (`_expand_conv`, `_bn0`, `_depthwise_conv`, `_bn1`, `_project_conv`, `_bn2`)."""

    batchnorm_pairs = (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2"))

    def __init__(self, cin: int, cout: int, *, kernel: int, stride: int, expand: int, dilation: int = 1) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.expands = expand != 1
        if self.expands:
            self._expand_conv = nn.Conv2d(cin, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=LITE_BN_EPS)
        pad = (kernel - 1) // 2 * dilation
        self._depthwise_conv = nn.Conv2d(
            hidden, hidden, kernel, stride, pad, dilation=dilation, groups=hidden, bias=False
        )
        self._bn1 = nn.BatchNorm2d(hidden, eps=LITE_BN_EPS)
        self._project_conv = nn.Conv2d(hidden, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=LITE_BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expands else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.use_residual else y


LITE_BN_EPS = 1e-3  # the published weights' BatchNorm epsilon (TensorFlow's default)
# EfficientNet-Lite2 stages: (kernel, channels, repeats, first stride, expansion): width x1.1 and depth x1.2 of
# EfficientNet-B0's stages, the first and last stage unrepeated, stem (32) and head (1280) fixed.
_LITE2_SETTINGS = (
    (3, 16, 1, 1, 1),
    (3, 24, 3, 2, 6),
    (5, 48, 3, 2, 6),
    (3, 88, 4, 2, 6),
    (5, 120, 4, 1, 6),
    (5, 208, 5, 2, 6),
    (3, 352, 1, 1, 6),
)
_LITE2_LEVEL_END = {"layer1": 3, "layer2": 6, "layer3": 14, "layer4": 20}  # index in `_blocks`
_LITE2_DILATED_FROM = 15  # the stride-2 block that starts the stride-32 stage


class EfficientNetLite2(nn.Module):
    """EfficientNet-Lite2 (ImageNet top-1 77.6 %, 6.1 M parameters) with four output levels: `layer1` 24
    channels at stride 4, `layer2` 48 at 8, `layer3` 120 at 16, `layer4` 352 at 32 (16 with `dilated`).

    Args:
        dilated: run blocks 15-20 at stride 16 with dilation 2 (output stride 16).
    """

    pretrained_file: PretrainedFile = EFFICIENTNET_LITE2_IMAGENET
    title = "EfficientNet-Lite2"  # as people write it
    input_mean, input_std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)  # RGB scaled to [-1, 1], the TF-Lite models' input
    batchnorm_pairs = (("_conv_stem", "_bn0"), ("_conv_head", "_bn1"))  # for `fold_batchnorm`

    def __init__(self, *, dilated: bool = False) -> None:
        super().__init__()
        self.dilated = dilated
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=LITE_BN_EPS)
        blocks: list[nn.Module] = []
        cin = 32
        for kernel, cout, repeats, first_stride, expand in _LITE2_SETTINGS:
            for i in range(repeats):
                index = len(blocks)
                stride = first_stride if i == 0 else 1
                dilation = 1
                if dilated and index >= _LITE2_DILATED_FROM:
                    dilation = 1 if stride == 2 else 2
                    stride = 1
                blocks.append(LiteBlock(cin, cout, kernel=kernel, stride=stride, expand=expand, dilation=dilation))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)  # the ImageNet head, for checks only
        self._bn1 = nn.BatchNorm2d(1280, eps=LITE_BN_EPS)
        self._fc = nn.Linear(1280, 1000)
        self.channels = {"layer1": 24, "layer2": 48, "layer3": 120, "layer4": 352}
        self.strides = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 16 if dilated else 32}

    def forward(self, x: torch.Tensor, levels: tuple[str, ...] = LEVELS) -> dict[str, torch.Tensor]:
        """Features per level: (B, 3, H, W) -> {level: (B, C_level, H / stride, W / stride)}."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        return run_levels(self._blocks, x, _LITE2_LEVEL_END, levels)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (B, 1000) of inputs normalised with `input_mean` / `input_std`."""
        x = self.forward(x)["layer4"]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


Backbone = MobileNetV2 | ResNet50 | EfficientNetLite2
BACKBONES: dict[str, type[Backbone]] = {
    "mobilenet_v2": MobileNetV2,
    "resnet50": ResNet50,
    "efficientnet_lite2": EfficientNetLite2,
}


def build_backbone(name: str, *, dilated: bool) -> Backbone:
    """A randomly initialised backbone by name (a key of `BACKBONES`)."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}")
    return BACKBONES[name](dilated=dilated)


def load_pretrained(backbone: Backbone, weights: str | os.PathLike | None = None) -> str:
    """Load ImageNet weights into `backbone` strictly; returns the path used.

    Raises:
        WeightsError: the file is missing, damaged, or its keys or shapes do not match the backbone.
    """
    path = locate_weights(backbone.pretrained_file, weights)
    state = load_state_dict(path)
    missing, unexpected, wrong = compare_state(backbone.state_dict(), state)
    if missing or unexpected or wrong:
        raise WeightsError(
            f"{path}: does not fit a {type(backbone).__name__} backbone "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]})"
        )
    backbone.load_state_dict(state, strict=True)
    return str(path)
