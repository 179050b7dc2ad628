import math

import torch

from modbench.masking import LogisticNoise, deterministic_mask, masked_weight, sample_hard_mask


def test_forward_values_are_exactly_zero_or_one():
    logits = torch.linspace(-4, 4, 10_001, requires_grad=True)
    mask = sample_hard_mask(logits, LogisticNoise(0).sample(logits.shape))
    assert set(mask.detach().unique().tolist()) <= {0.0, 1.0}
    # exactly, not approximately: the ST term must not perturb the forward value
    assert torch.equal(mask.detach(), mask.detach().round())


def test_straight_through_gradient_equals_sigmoid_gradient():
    logits = torch.randn(500, generator=torch.Generator().manual_seed(1)).requires_grad_()
    noise = LogisticNoise(2).sample((500,))
    weights = torch.randn(500, generator=torch.Generator().manual_seed(3))
    mask = sample_hard_mask(logits, noise, tau=1.0)
    (mask * weights).sum().backward()
    z = logits.detach() + noise
    expected = weights * torch.sigmoid(z) * (1 - torch.sigmoid(z))
    torch.testing.assert_close(logits.grad, expected, rtol=1e-5, atol=1e-7)
    assert torch.equal(mask.detach(), (z > 0).float())


def test_fused_masked_weight_matches_the_reference():
    for tau in (1.0, 0.5):
        logits = torch.randn(64, 32, generator=torch.Generator().manual_seed(4))
        weight = torch.randn(64, 32, generator=torch.Generator().manual_seed(5))
        upstream = torch.randn(64, 32, generator=torch.Generator().manual_seed(6))
        noise = LogisticNoise(7).sample((64, 32))
        ref_logits = logits.clone().requires_grad_()
        reference = weight * sample_hard_mask(ref_logits, noise.clone(), tau)
        (reference * upstream).sum().backward()
        fused_logits = logits.clone().requires_grad_()
        fused = masked_weight(fused_logits, weight, noise.clone(), tau)
        (fused * upstream).sum().backward()
        assert torch.equal(fused.detach(), reference.detach())
        torch.testing.assert_close(fused_logits.grad, ref_logits.grad, rtol=1e-5, atol=1e-7)


def test_noise_is_logistic_and_keep_rate_matches_sigmoid_of_logit():
    noise = LogisticNoise(8).sample((400_000,))
    assert abs(noise.mean().item()) < 0.02
    assert abs(noise.var().item() - math.pi**2 / 3) < 0.05
    for value in (-2.0, 0.0, 2.0):  # P(l + noise > 0) = σ(l)
        mask = sample_hard_mask(torch.full((400_000,), value), noise)
        assert abs(mask.mean().item() - torch.sigmoid(torch.tensor(value)).item()) < 0.005


def test_same_seed_same_noise_and_different_seed_differs():
    assert torch.equal(LogisticNoise(5).sample((1000,)), LogisticNoise(5).sample((1000,)))
    assert not torch.equal(LogisticNoise(5).sample((1000,)), LogisticNoise(6).sample((1000,)))


def test_deterministic_mask_keeps_logits_at_or_above_zero():
    logits = torch.tensor([-1.0, -1e-9, 0.0, 1e-9, 3.0])
    assert deterministic_mask(logits).tolist() == [False, False, True, True, True]
