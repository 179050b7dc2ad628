import math

import numpy as np
import pytest
import torch
from scipy import stats

from modbench.masking import MaskNoise, deterministic_mask, masked_weights, sample_hard_mask
from modbench.masking import kernels
from modbench.masking.gumbel import UNIFORM_EPS


def test_forward_values_are_exactly_zero_or_one():
    logits = torch.linspace(-4, 4, 10_001, requires_grad=True)
    mask = sample_hard_mask(logits, MaskNoise(0).logistic(logits.shape))
    assert set(mask.detach().unique().tolist()) <= {0.0, 1.0}
    # exactly, not approximately: the ST term must not perturb the forward value
    assert torch.equal(mask.detach(), mask.detach().round())


def test_straight_through_gradient_equals_sigmoid_gradient():
    logits = torch.randn(500, generator=torch.Generator().manual_seed(1)).requires_grad_()
    noise = MaskNoise(2).logistic((500,))
    weights = torch.randn(500, generator=torch.Generator().manual_seed(3))
    mask = sample_hard_mask(logits, noise, tau=1.0)
    (mask * weights).sum().backward()
    z = logits.detach() + noise
    expected = weights * torch.sigmoid(z) * (1 - torch.sigmoid(z))
    torch.testing.assert_close(logits.grad, expected, rtol=1e-5, atol=1e-7)
    assert torch.equal(mask.detach(), (z > 0).float())


def test_fused_masked_weights_match_the_reference():
    k, shape = 3, (64, 32)
    for tau in (1.0, 0.5):
        logits = 3 * torch.randn(shape, generator=torch.Generator().manual_seed(4))
        weight = torch.randn(shape, generator=torch.Generator().manual_seed(5))
        upstream = torch.randn(k, *shape, generator=torch.Generator().manual_seed(6))
        uniform = MaskNoise(7).uniform((k, *shape))
        noise = torch.logit(uniform, eps=UNIFORM_EPS)
        ref_logits, ref_weight = logits.clone().requires_grad_(), weight.clone().requires_grad_()
        reference = torch.stack([ref_weight * sample_hard_mask(ref_logits, n, tau) for n in noise])
        (reference * upstream).sum().backward()
        fused_logits, fused_weight = logits.clone().requires_grad_(), weight.clone().requires_grad_()
        fused = torch.stack(masked_weights(fused_logits, fused_weight, uniform, tau))
        (fused * upstream).sum().backward()
        # z > 0 and u > σ(−l) are the same event; rounding could split them only at the boundary,
        # where these seeds put no sample
        assert torch.equal(fused.detach(), reference.detach())
        torch.testing.assert_close(fused_logits.grad, ref_logits.grad, rtol=1e-4, atol=1e-6)
        # the weight's gradient, Σ_j upstream_j ⊙ mask_j (transfer trains weights and masks)
        torch.testing.assert_close(fused_weight.grad, ref_weight.grad, rtol=1e-6, atol=1e-6)


def test_fused_gradient_is_finite_at_extreme_noise_and_logits():
    logits = torch.tensor([-200.0, -5.0, 0.0, 5.0, 200.0]).requires_grad_()
    weight = torch.ones(5)
    uniform = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0], [0.9999999, 0.5, 0.5, 0.5, 0.9999999]])
    out = masked_weights(logits, weight, uniform)
    assert out[0].tolist() == [0.0] * 5  # u = 0 is logistic noise −∞: every weight dropped
    # logit(1 − 1e-7) ≈ 16 cannot rescue l = −200; u = 0.5 is noise 0: keep iff l > 0
    assert out[1].tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    sum(o.sum() for o in out).backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[2] == pytest.approx(0.25)  # σ'(0) from the second sample only


def test_float64_takes_the_reference_path():
    logits = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    out = masked_weights(logits, torch.ones(4, dtype=torch.float64), torch.full((2, 4), 0.7, dtype=torch.float64))
    assert out[0].dtype == torch.float64 and out[0].tolist() == [1.0] * 4


def test_noise_is_logistic_and_keep_rate_matches_sigmoid_of_logit():
    noise = MaskNoise(8).logistic((400_000,))
    assert abs(noise.mean().item()) < 0.02
    assert abs(noise.var().item() - math.pi**2 / 3) < 0.05
    for value in (-2.0, 0.0, 2.0):  # P(l + noise > 0) = σ(l)
        mask = sample_hard_mask(torch.full((400_000,), value), noise)
        assert abs(mask.mean().item() - torch.sigmoid(torch.tensor(value)).item()) < 0.005


def test_same_seed_same_noise_and_different_seed_differs():
    assert torch.equal(MaskNoise(5).uniform((1000,)), MaskNoise(5).uniform((1000,)))
    assert not torch.equal(MaskNoise(5).uniform((1000,)), MaskNoise(6).uniform((1000,)))


def test_deterministic_mask_keeps_logits_at_or_above_zero():
    logits = torch.tensor([-1.0, -1e-9, 0.0, 1e-9, 3.0])
    assert deterministic_mask(logits).tolist() == [False, False, True, True, True]


def test_counter_stream_is_splitmix64():
    # Rosetta Code, "Pseudo-random numbers/Splitmix64": the first outputs for seed 1234567. Output
    # n of SplitMix64 seeded with s is mix(s + (n + 1)·γ), i.e. number n of the stream with key s + γ.
    reference = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431,
                 16408922859458223821]
    key = (1234567 + int(kernels.GAMMA)) % 2**64
    assert [int(kernels.mix64(np.uint64((key + n * int(kernels.GAMMA)) % 2**64))) for n in range(5)] == reference
    out = np.empty(5, dtype=np.float32)
    kernels.fill_uniform(np.uint64(key), np.uint64(0), out)
    assert out.tolist() == [(r >> 40) / 2**24 for r in reference]  # the top 24 bits, in [0, 1)


def test_draws_take_consecutive_blocks_of_the_stream():
    noise = MaskNoise(3)
    first, second = noise.uniform((1, 40)), noise.uniform((2, 20))
    assert torch.equal(torch.cat([first.flatten(), second.flatten()]), MaskNoise(3).uniform((80,)))


def test_counter_uniforms_pass_a_kolmogorov_smirnov_test():
    sample = MaskNoise(11).uniform((200_000,)).double().numpy()
    assert 0.0 <= sample.min() and sample.max() < 1.0
    assert stats.kstest(sample, "uniform").pvalue > 1e-3


def _outputs_and_gradients(shape, k, noise_seed, sample_fns):
    """(masked weights, logit gradient, weight gradient) of each `fn(logits, weight, draw)` on
    the same seeded logits, weights, upstream gradient and noise draw."""
    logits = 2 * torch.randn(shape, generator=torch.Generator().manual_seed(1))
    weight = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    upstream = torch.randn(k, *shape, generator=torch.Generator().manual_seed(3))
    draw = MaskNoise(noise_seed).draw((k, *shape))
    results = []
    for fn in sample_fns:
        l, w = logits.clone().requires_grad_(), weight.clone().requires_grad_()
        out = fn(l, w, draw)
        (out * upstream).sum().backward()
        results.append((out.detach(), l.grad, w.grad))
    return results, weight


def test_generated_noise_equals_the_same_noise_materialised():
    k = 4
    results, weight = _outputs_and_gradients((48, 40), k, 9, [
        lambda l, w, draw: masked_weights(l, w, draw, tau=0.7, stacked=True),
        lambda l, w, draw: masked_weights(l, w, draw.materialise(), tau=0.7, stacked=True),
    ])
    for generated, explicit in zip(*results):
        assert torch.equal(generated, explicit)
    assert 0 < results[0][0].count_nonzero() < k * weight.numel()  # some kept, some dropped


def test_the_reference_path_draws_the_same_numbers_as_the_kernels():
    logits = torch.randn(300, generator=torch.Generator().manual_seed(2))
    weight = torch.randn(300, generator=torch.Generator().manual_seed(3))
    draw = MaskNoise(4).draw((2, 300))
    fused = masked_weights(logits, weight, draw, stacked=True)  # float32: the kernels
    reference = masked_weights(logits.double(), weight.double(), draw, stacked=True)  # float64: torch
    assert reference.dtype == torch.float64
    # the same draw keeps the same weights (no sample sits exactly on its threshold here)
    assert torch.equal(fused != 0, reference != 0)


def test_the_torch_stream_is_the_kernels_stream_bit_for_bit():
    """stream.counter_uniform (int64 torch arithmetic, any device) against the numba kernel,
    including counters and keys past 2^63, where signed and unsigned arithmetic part ways."""
    from modbench.masking.stream import counter_uniform

    for key, first, n in [(12345, 0, 50_000), (2**64 - 1, 2**63 + 5, 4_000), (int(kernels.mix64(np.uint64(7))), 10**15, 3_000)]:
        out = np.empty(n, np.float32)
        kernels.fill_uniform(np.uint64(key), np.uint64(first), out)
        assert torch.equal(counter_uniform(key, first, n), torch.from_numpy(out))


@pytest.mark.parametrize("tau", [1.0, 0.6])
def test_the_device_generic_masked_weights_equal_the_cpu_kernels(tau):
    """The torch path (what a CUDA run computes) on the CPU: the same masks bit for bit, the
    same logit and weight gradients to rounding."""
    from modbench.masking.device_masks import DeviceMaskedWeights

    k = 4
    results, weight = _outputs_and_gradients((37, 29), k, 5, [
        lambda l, w, draw: masked_weights(l, w, draw, tau=tau, stacked=True),
        lambda l, w, draw: DeviceMaskedWeights.apply(l, w, draw, tau, True),
    ])
    (kernel_out, kernel_dl, kernel_dw), (torch_out, torch_dl, torch_dw) = results
    assert torch.equal(kernel_out, torch_out)
    assert torch.allclose(kernel_dl, torch_dl, rtol=1e-5, atol=1e-7) and torch.equal(kernel_dw, torch_dw)
    assert 0 < kernel_out.count_nonzero() < k * weight.numel()
