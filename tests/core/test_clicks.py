"""The click-to-segment model: guidance maps, the simulated person, the network, sessions and the registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llb_core.interactive.clicks import Click, guidance_maps, iou, mask_box, next_click
from llb_core.interactive.session import ClickSession
from llb_core.model import CheckpointError, create_model, get_config, load_checkpoint, save_checkpoint, variant_names
from llb_core.model.clicknet import GUIDANCE_CHANNELS, ClickNet, init_from_vos
from llb_core.model.defaults import load_model
from llb_core.resources import resource


def channel(name: str) -> int:
    return GUIDANCE_CHANNELS.index(name)


def test_guidance_maps_place_clicks_box_and_previous():
    previous = np.zeros((40, 60), np.float32)
    previous[5:10, 5:10] = 0.7
    maps = guidance_maps((40, 60), [Click(30, 20, True), Click(50, 8, False)], (10, 12, 20, 30), previous, radius=3)
    assert maps.shape == (len(GUIDANCE_CHANNELS), 40, 60) and maps.dtype == np.float32
    assert maps[channel("positive"), 20, 30] == 1 and maps[channel("positive"), 20, 34] == 0
    assert maps[channel("positive"), 8, 50] == 0 and maps[channel("negative"), 8, 50] == 1
    assert maps[channel("box"), 12:30, 10:20].all() and maps[channel("box")].sum() == 18 * 10
    np.testing.assert_array_equal(maps[channel("previous")], previous)
    with pytest.raises(ValueError, match="previous mask"):
        guidance_maps((40, 60), [], None, np.zeros((10, 10), np.float32))


def test_simulated_person_clicks_the_centre_of_the_largest_error():
    truth = np.zeros((50, 80), bool)
    truth[10:31, 20:61] = True  # 21 x 41 rectangle, centre (40, 20)
    first = next_click(np.zeros_like(truth), truth)
    assert first is not None and first.positive
    assert abs(first.y - 20) <= 1 and 29 <= first.x <= 51  # on the ridge 10 px from every side
    prediction = truth.copy()
    prediction[35:50, 0:30] = True  # a large false positive region beside a small miss
    prediction[10:13, 20:23] = False
    click = next_click(prediction, truth)
    assert click is not None and not click.positive and 35 <= click.y < 50 and 0 <= click.x < 30
    assert next_click(truth, truth) is None
    assert iou(truth, truth) == 1.0 and iou(prediction, np.zeros_like(truth)) == 0.0
    assert mask_box(truth) == (20.0, 10.0, 61.0, 31.0) and mask_box(np.zeros_like(truth)) is None


def test_clicks_variant_is_registered_apart_from_the_video_models():
    assert "clicks" not in variant_names() and "clicks" in variant_names(None)
    assert get_config("clicks").spec.task == "clicks"


@pytest.fixture(scope="module")
def untrained() -> ClickNet:
    torch.manual_seed(0)
    model = create_model("clicks")
    assert isinstance(model, ClickNet)
    return model.eval()


def test_network_shapes_and_shared_frame_features(untrained):
    images = torch.rand(1, 3, 70, 90)
    guidance = torch.rand(3, len(GUIDANCE_CHANNELS), 70, 90)
    with torch.no_grad():
        levels = untrained.backbone_levels(images)
        shared = untrained.segment(levels, guidance, (70, 90))
        single = untrained(images, guidance[1:2])
    assert shared.shape == (3, 1, 70, 90)
    torch.testing.assert_close(shared[1:2], single)
    assert not torch.allclose(shared[0], shared[2])  # the guidance changes the answer


def test_decoder_starts_from_the_video_model(untrained):
    source = load_checkpoint(resource("weights/lwl-mobilenetv2.pt"))  # the clicks recipe's init
    model = create_model("clicks", pretrained_backbone=False)
    copied = init_from_vos(model, source)
    assert copied and all(name.startswith("decoder.") for name in copied)
    state, src = model.state_dict(), source.state_dict()
    first = "decoder.levels.layer4.transform.0.weight"
    keep = src[first].shape[1] - 1  # features and target encoding; the last source column is the prior
    torch.testing.assert_close(state[first][:, :keep], src[first][:, :keep])
    base = state[first].shape[1] - len(GUIDANCE_CHANNELS)
    torch.testing.assert_close(state[first][:, base + channel("previous")], src[first][:, keep])
    assert state[first][:, base + channel("positive")].abs().sum() == 0


def test_video_entry_points_refuse_a_click_checkpoint(tmp_path, untrained):
    path = save_checkpoint(untrained, tmp_path / "clicks.pt")
    with pytest.raises(CheckpointError, match="cannot propagate"):
        load_model(path)
    with pytest.raises(CheckpointError, match="'clicks' model, but a 'lwl'"):
        load_checkpoint(path, variant="lwl")


def test_session_computes_the_frame_once_and_answers_at_full_resolution(untrained, monkeypatch):
    frame = np.random.default_rng(0).integers(0, 256, (300, 1000, 3), dtype=np.uint8)
    calls = []
    real = untrained.backbone_levels
    monkeypatch.setattr(untrained, "backbone_levels", lambda x: calls.append(tuple(x.shape)) or real(x))
    session = ClickSession(untrained, frame, working_side=400, zoom=False)
    assert calls == [(1, 3, 120, 400)]
    first = session.predict([Click(500, 150)])
    second = session.predict([Click(500, 150), Click(100, 40, False)])
    assert first.shape == second.shape == (300, 1000) and first.dtype == bool
    assert len(calls) == 1  # clicks reuse the frame's features
    with pytest.raises(ValueError, match="previous mask"):
        session.predict([Click(1, 1)], previous=np.zeros((10, 10), bool))


def test_zoom_works_on_a_crop_around_the_object_and_keeps_the_rest(untrained):
    frame = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    session = ClickSession(untrained, frame, working_side=320, zoom=True)
    previous = np.zeros((480, 640), bool)
    previous[200:240, 300:340] = True
    window = session._zoom_window([Click(320, 220)], previous)
    assert window != session.full
    assert window.x0 <= 300 and window.x1 >= 340 and window.y0 <= 200 and window.y1 >= 240
    assert window.x1 - window.x0 < 200 and window.scale == 1.0  # at the frame's own resolution, not upscaled
    out = session.predict([Click(320, 220)], previous=previous)
    outside = np.ones_like(previous)
    outside[window.y0 : window.y1, window.x0 : window.x1] = False
    np.testing.assert_array_equal(out[outside], previous[outside])
    assert session.full.work_size == (240, 320)
    small = ClickSession(untrained, frame[:200, :300], working_side=320, zoom=True)
    inside = np.zeros((200, 300), bool)
    inside[100:140, 130:170] = True
    small.predict([Click(150, 120)], previous=inside)
    assert list(small._levels) == [small.full]  # a frame no larger than the working image is worked whole


def test_parts_nothing_points_at_are_dropped(untrained, monkeypatch):
    frame = np.zeros((100, 200, 3), np.uint8)
    session = ClickSession(untrained, frame, zoom=False)
    blobs = np.zeros((100, 200), np.float32)
    blobs[10:30, 10:30] = 0.9  # clicked
    blobs[60:80, 150:170] = 0.9  # a stray part
    blobs[60:80, 20:40] = 0.9  # overlaps the previous mask given
    monkeypatch.setattr(session, "probability", lambda *a, **k: blobs)
    previous = np.zeros((100, 200), bool)
    previous[70, 30] = True
    mask = session.predict([Click(20, 20), Click(160, 70, False)], previous=previous)
    assert mask[20, 20] and mask[70, 30] and not mask[70, 160]
    session.keep_clicked_parts = False
    assert session.predict([Click(20, 20)])[70, 160]
