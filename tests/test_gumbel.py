import torch

from modbench.masking import deterministic_mask, sample_hard_mask


def test_forward_values_are_exactly_zero_or_one():
    logits = torch.linspace(-4, 4, 10_001, requires_grad=True)
    mask = sample_hard_mask(logits, torch.Generator().manual_seed(0))
    assert set(mask.detach().unique().tolist()) <= {0.0, 1.0}
    # exactly, not approximately: the ST term must not perturb the forward value
    assert torch.equal(mask.detach(), mask.detach().round())


def test_straight_through_gradient_equals_sigmoid_gradient():
    logits = torch.randn(500, generator=torch.Generator().manual_seed(1)).requires_grad_()
    mask = sample_hard_mask(logits, torch.Generator().manual_seed(2), tau=1.0)
    weights = torch.randn(500, generator=torch.Generator().manual_seed(3))
    (mask * weights).sum().backward()
    # Recompute the same noise and the soft sample's derivative by hand.
    uniform = torch.empty(500).uniform_(generator=torch.Generator().manual_seed(2))
    z = logits.detach() + torch.log(uniform.clamp(1e-7, 1 - 1e-7)) - torch.log1p(-uniform.clamp(1e-7, 1 - 1e-7))
    expected = weights * torch.sigmoid(z) * (1 - torch.sigmoid(z))
    torch.testing.assert_close(logits.grad, expected, rtol=1e-4, atol=1e-6)
    # and the hard value is the sign of the same z
    assert torch.equal(mask.detach(), (z > 0).float())


def test_keep_rate_matches_sigmoid_of_logit():
    # Logistic noise: P(l + noise > 0) = σ(l).
    for value in (-2.0, 0.0, 2.0):
        logits = torch.full((200_000,), value)
        mask = sample_hard_mask(logits, torch.Generator().manual_seed(4))
        assert abs(mask.mean().item() - torch.sigmoid(torch.tensor(value)).item()) < 0.005


def test_same_generator_seed_same_mask_and_different_seed_differs():
    logits = torch.zeros(1000)
    a = sample_hard_mask(logits, torch.Generator().manual_seed(5))
    b = sample_hard_mask(logits, torch.Generator().manual_seed(5))
    c = sample_hard_mask(logits, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_deterministic_mask_keeps_logits_at_or_above_zero():
    logits = torch.tensor([-1.0, -1e-9, 0.0, 1e-9, 3.0])
    assert deterministic_mask(logits).tolist() == [False, False, True, True, True]
