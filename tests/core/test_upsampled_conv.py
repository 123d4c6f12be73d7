"""The decoder's last step computed on the coarse grid gives the reference logits exactly, borders included."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from llb_core.model import create_model
from llb_core.model.decoder import upsampled_conv


@pytest.mark.parametrize(("cout", "h", "w"), [(1, 40, 72), (3, 7, 9), (2, 2, 3)])
def test_phase_convolution_equals_convolving_the_upsampled_map(cout, h, w):
    torch.manual_seed(cout)
    conv = torch.nn.Conv2d(8, cout, 3, 1, 1)
    x = torch.randn(2, 8, h, w)
    with torch.no_grad():
        reference = conv(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))
        fast = upsampled_conv(x, conv)
    assert fast.shape == reference.shape == (2, cout, 2 * h, 2 * w)
    assert torch.allclose(fast, reference, atol=1e-5)


def test_the_decoder_gives_the_same_logits_in_training_and_inference_mode():
    torch.manual_seed(0)
    model = create_model("lwl", decoder_widths=(32, 16, 16, 8), location_prior=True)
    image = torch.rand(1, 3, 96, 160)
    with torch.no_grad():
        frame = model.encode_frame(image)
        target = torch.randn(1, model.config.label_dim, 6, 10)
        prior = torch.rand(1, 1, 96, 160)
        model.train()  # the reference path: upsample, then convolve
        reference = model.decode(frame, target, prior)
        model.eval()
        fast = model.decode(frame, target, prior)
    assert torch.allclose(fast, reference, atol=1e-4)
