"""The LWL few-shot learner against exact solutions of its quadratic loss (float64)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from llb_core.model.induction import FewShotLearner, InstanceL2Norm, apply_filter

N, B, C, D, H, W, K = 3, 1, 4, 2, 6, 7, 3


def make_problem(seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, B, C, H, W, generator=g, dtype=torch.float64)
    y = torch.randn(N, B, D, H, W, generator=g, dtype=torch.float64)
    w = 0.5 + torch.rand(N, B, D, H, W, generator=g, dtype=torch.float64)
    v = torch.tensor([[0.5], [0.3], [0.2]], dtype=torch.float64)
    return x, y, w, v


def make_learner(s: float) -> FewShotLearner:
    return FewShotLearner(feature_dim=C, label_dim=D, filter_size=K, init_reg=s).double()


def ridge_solution(x, y, w, v, lam) -> torch.Tensor:
    """Solve the normal equations of L directly: per label channel d,
    (P^T S_d^2 P + lam I) tau_d = P^T S_d^2 y_d with P the 3x3 patches and S_d = sqrt(v_t) W_t,d."""
    patches = F.unfold(x[:, 0], K, padding=K // 2).transpose(1, 2).reshape(-1, C * K * K)  # (N*H*W, C*K*K)
    taus = []
    for d in range(D):
        s2 = (w[:, 0, d] * v[:, 0, None, None].sqrt()).pow(2).reshape(-1)  # (N*H*W,)
        a = patches.T @ (s2[:, None] * patches) + lam * torch.eye(C * K * K, dtype=x.dtype)
        taus.append(torch.linalg.solve(a, patches.T @ (s2 * y[:, 0, d].reshape(-1))))
    return torch.stack(taus).reshape(1, D, C, K, K)


def test_step_length_is_the_exact_line_minimum():
    x, y, w, v = make_problem()
    learner = make_learner(0.3)
    sw = learner.residual_weights(w, v)
    tau = 0.1 * torch.randn(B, D, C, K, K, dtype=torch.float64)
    for _ in range(4):
        new_tau, alpha, pred = learner.step(tau, x, y, sw)
        torch.testing.assert_close(pred, apply_filter(x, new_tau))  # carried by linearity, not recomputed
        g = (tau - new_tau) / alpha  # the gradient direction used
        grid = torch.linspace(0, 3 * alpha.item(), 3001, dtype=torch.float64)
        losses = torch.stack([learner.loss(tau - a * g, x, y, sw) for a in grid]).squeeze(1)
        best = grid[losses.argmin()]
        assert abs(best - alpha.item()) <= 2 * (grid[1] - grid[0])
        assert learner.loss(new_tau, x, y, sw) <= losses.min() + 1e-12
        # g is really the gradient of L at tau
        t = tau.clone().requires_grad_(True)
        (auto_g,) = torch.autograd.grad(learner.loss(t, x, y, sw).sum(), t)
        torch.testing.assert_close(g, auto_g)
        tau = new_tau


def test_loss_never_increases_and_converges_to_ridge_regression():
    x, y, w, v = make_problem(1)
    learner = make_learner(0.5)
    sw = learner.residual_weights(w, v)
    tau = learner.initial_filter(B, like=x)
    previous = learner.loss(tau, x, y, sw).item()
    for _ in range(400):
        tau, _, _ = learner.step(tau, x, y, sw)
        current = learner.loss(tau, x, y, sw).item()
        assert current <= previous + 1e-12
        previous = current
    exact = ridge_solution(x, y, w, v, learner.reg.item())
    assert torch.linalg.norm(tau - exact) / torch.linalg.norm(exact) < 1e-3


@pytest.mark.parametrize("case", ["temporal", "importance"])
def test_zero_weights_remove_a_sample(case):
    x, y, w, v = make_problem(2)
    learner = make_learner(0.5)
    if case == "temporal":
        v = torch.tensor([[0.7], [0.3], [0.0]], dtype=torch.float64)
    else:
        w = w.clone()
        w[2] = 0.0
    full = learner(x, y, w, v, iterations=400)
    without = learner(x[:2], y[:2], w[:2], v[:2], iterations=400)
    torch.testing.assert_close(full, without, rtol=1e-6, atol=1e-9)
    # ... and the sample matters when its weight is not zero
    v_on = torch.tensor([[0.5], [0.3], [0.2]], dtype=torch.float64)
    w_on = w.clone()
    w_on[2] = 1.0
    assert (learner(x, y, w_on, v_on, iterations=400) - without).abs().max() > 1e-3


def test_importance_weights_enter_squared_and_temporal_weights_linearly():
    x, y, w, v = make_problem(3)
    learner = make_learner(0.5)
    torch.testing.assert_close(learner(x, y, -w, v, iterations=300), learner(x, y, w, v, iterations=300))
    # Scaling all temporal weights by c is the same as dividing lambda by c.
    scaled = learner(x, y, w, 4 * v, iterations=400)
    other = make_learner(0.25)
    torch.testing.assert_close(scaled, other(x, y, w, v, iterations=400), rtol=1e-4, atol=1e-6)
    exact = ridge_solution(x, y, w, v, other.reg.item())
    assert torch.linalg.norm(scaled - exact) / torch.linalg.norm(exact) < 1e-3


def test_carried_predictions_give_the_recomputed_fit():
    """The fit carries x (*) tau from step to step (two convolutions a step); recomputing it each step (three)
    gives the same filter, from zeros and from a warm start, and in float32 as the engine runs it."""
    x, y, w, v = make_problem(5)
    learner = make_learner(0.5)
    sw = learner.residual_weights(w, v)
    for start in (None, 0.1 * torch.randn(B, D, C, K, K, dtype=torch.float64)):
        tau = learner.initial_filter(B, like=x) if start is None else start
        for _ in range(20):
            tau, _, _ = learner.step(tau, x, y, sw)  # pred recomputed every step
        torch.testing.assert_close(learner(x, y, w, v, tau=start, iterations=20), tau)
        f32 = learner.float()(x.float(), y.float(), w.float(), v.float(), tau=start, iterations=20)
        torch.testing.assert_close(f32.double(), tau, rtol=1e-4, atol=1e-6)
        learner.double()


def test_predict_applies_the_filter():
    x, y, w, v = make_problem(4)
    learner = make_learner(0.5)
    tau = learner(x, y, w, v, iterations=5)
    torch.testing.assert_close(learner.predict(x[0], tau), apply_filter(x[:1], tau)[0])


def test_instance_l2_norm_sets_the_rms():
    norm = InstanceL2Norm(scale=0.01)
    x = torch.randn(3, 8, 5, 5) * torch.tensor([1.0, 10.0, 100.0])[:, None, None, None]
    rms = norm(x).pow(2).mean(dim=(1, 2, 3)).sqrt()
    torch.testing.assert_close(rms, torch.full((3,), 0.01), rtol=1e-4, atol=0)
