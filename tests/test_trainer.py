import pytest
import torch
import torch.nn.functional as F
from torch import nn

from modbench.errors import ModbenchError
from modbench.masking import FrozenModel, MaskConfig, MaskFilter, binarize, train_mask


def image_batch(n, generator):
    x = torch.randn(n, 1, 5, 5, generator=generator)
    return x, (x.mean((1, 2, 3)) > 0).long()


def ce(forward, batch):
    x, y = batch
    return F.cross_entropy(forward(x), y)


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_frozen_model_parameters_and_buffers_are_bit_identical(conv_bn_model):
    before = snapshot(conv_bn_model)
    conv_bn_model.train()  # train-mode BatchNorm would update running stats in place
    masked = MaskFilter(mask_biases=True).select(conv_bn_model)
    frozen = FrozenModel(conv_bn_model, masked)
    train_mask(frozen, ce, image_batch, MaskConfig(steps=5, batch_size=8), 0)
    after = conv_bn_model.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), key
    assert "norm.running_mean" in before and "norm.num_batches_tracked" in before


def test_only_logits_receive_gradients(conv_bn_model):
    frozen = FrozenModel(conv_bn_model, MaskFilter().select(conv_bn_model))
    logits = train_mask(frozen, ce, image_batch, MaskConfig(steps=3, batch_size=8),
                        0)
    assert all(p.grad is None for p in conv_bn_model.parameters())
    # and the logits moved away from their initial value
    assert any(not torch.all(l == 2.0) for l in logits.values())


def test_default_filter_skips_biases_and_embeddings():
    model = nn.ModuleDict({"embedding": nn.Embedding(5, 3), "proj": nn.Linear(3, 2), "norm": nn.LayerNorm(2)})
    assert MaskFilter().select(model) == ["proj.weight", "norm.weight"]
    assert MaskFilter(mask_biases=True).select(model) == ["proj.weight", "proj.bias", "norm.weight", "norm.bias"]
    lstm = nn.LSTM(3, 4)
    assert MaskFilter().select(lstm) == ["weight_ih_l0", "weight_hh_l0"]


def test_same_seed_same_masks_other_seed_differs(conv_bn_model):
    frozen = FrozenModel(conv_bn_model, MaskFilter().select(conv_bn_model))
    cfg = MaskConfig(steps=20, batch_size=8, lr=0.2)

    def masks(seed):
        return binarize(train_mask(frozen, ce, image_batch, cfg, seed))

    a, b, c = masks(1), masks(1), masks(2)
    assert all(torch.equal(a.masks[n], b.masks[n]) for n in a.names)
    logits_a = train_mask(frozen, ce, image_batch, cfg, 1)
    logits_c = train_mask(frozen, ce, image_batch, cfg, 2)
    assert any(not torch.equal(logits_a[n], logits_c[n]) for n in logits_a)


def test_regulariser_removes_weights_the_task_does_not_need(needed_and_harmful):
    # y depends on x[:, 0] only: the weight on x[:, 1] is useless and must be dropped,
    # the weight on x[:, 0] kept.
    frozen, mse, batch = needed_and_harmful
    logits = train_mask(frozen, mse, batch, MaskConfig(steps=300, batch_size=32, beta=1e-2), 0)
    assert binarize(logits).masks["weight"].tolist() == [[True, False]]


def test_each_chunk_gets_its_own_mask_sample():
    # With k samples and a batch of identical rows, the per-chunk outputs differ only through
    # the masks: record the distinct outputs seen in one step.
    model = nn.Linear(64, 1, bias=False)
    seen = []

    def loss(forward, b):
        out = forward(b[0])
        seen.append(out.detach().clone())
        return out.sum()

    frozen = FrozenModel(model, ["weight"])  # the loop path, whose chunks this loss observes one by one
    train_mask(frozen, loss, lambda n, g: (torch.ones(n, 64),), MaskConfig(steps=1, batch_size=8, n_samples=4, init=0.0),
               0)
    assert len(seen) == 4 and all(len(s) == 2 for s in seen)
    assert len({s[0].item() for s in seen}) > 1  # different samples across chunks


def vector_batch(n, generator):
    x = torch.randn(n, 6, generator=generator)
    return x, (x[:, 0] > x[:, 1]).long()


@pytest.mark.parametrize("kind", ["mlp", "conv_bn"])
def test_vectorised_and_looped_mask_training_agree(kind, conv_bn_model):
    """vmap over the k samples computes the loop's samples, losses and gradients."""
    if kind == "mlp":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1)
            model, batch = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2)), vector_batch
    else:
        model, batch = conv_bn_model.eval(), image_batch
    names = MaskFilter(mask_biases=True).select(model)
    cfg = MaskConfig(steps=20, batch_size=16, n_samples=4)
    vectorised, looped = FrozenModel(model, names, vectorise=True), FrozenModel(model, names)
    a = train_mask(vectorised, ce, batch, cfg, 0)
    b = train_mask(looped, ce, batch, cfg, 0)
    assert vectorised.vectorise is True
    assert any(not torch.all(l == 2.0) for l in a.values())  # the logits did move
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-5)


def test_an_lstm_cannot_be_vmapped_and_takes_the_loop():
    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.out = nn.LSTM(6, 8, batch_first=True), nn.Linear(8, 2)

        def forward(self, x):  # [batch, 6] -> [batch, 2]
            return self.out(self.lstm(x.unsqueeze(1))[0][:, -1])

    model = LastStep()
    frozen = FrozenModel(model, MaskFilter().select(model), vectorise=True)
    logits = train_mask(frozen, ce, vector_batch, MaskConfig(steps=3, batch_size=8), 0)
    assert frozen.vectorise is False
    assert all(torch.isfinite(l).all() for l in logits.values())


def test_batch_not_divisible_by_samples_is_a_clear_error():
    with pytest.raises(ModbenchError, match="divisible"):
        MaskConfig(batch_size=10, n_samples=4)


def test_unknown_masked_name_is_a_clear_error(conv_bn_model):
    with pytest.raises(ModbenchError, match="not parameters"):
        FrozenModel(conv_bn_model, ["conv.nonexistent"])


def test_functional_masking_matches_in_place_reference(conv_bn_model):
    conv_bn_model.eval()
    masked = MaskFilter().select(conv_bn_model)
    g = torch.Generator().manual_seed(3)
    masks = {n: (torch.rand(conv_bn_model.get_parameter(n).shape, generator=g) > 0.5) for n in masked}
    x = torch.randn(4, 1, 5, 5, generator=g)
    from modbench.masking import MaskSet
    out = FrozenModel(conv_bn_model, masked).forward_with(MaskSet(masks))(x)
    import copy
    reference = copy.deepcopy(conv_bn_model)
    with torch.no_grad():
        for n, m in masks.items():
            reference.get_parameter(n).mul_(m)
    torch.testing.assert_close(out, reference(x))


def test_learning_rate_drops_tenfold_after_each_listed_step(monkeypatch):
    """TrainConfig.lr_decay_at: the paper code's step schedule (gamma 0.1)."""
    from modbench import training

    seen = []
    monkeypatch.setattr(training, "weight_step",
                        lambda model, opt, loss, batch, clip: seen.append(opt.param_groups[0]["lr"]) or torch.zeros(()))
    model = torch.nn.Linear(2, 1)
    cfg = training.TrainConfig(steps=6, lr=1.0, batch_size=1, lr_decay_at=(2, 4))
    training.train_weights(model, None, lambda n, g: (torch.zeros(n, 2),), cfg, torch.Generator())
    assert seen == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01])


def test_freed_memory_is_kept_where_glibc_allocates():
    import platform

    from modbench.masking.memory import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")


def test_the_cosine_schedule_falls_from_the_rate_to_zero_and_constant_stays():
    from modbench.masking.trainer import set_scheduled_lr

    logit = torch.zeros(3, requires_grad=True)
    optimiser = torch.optim.Adam([logit], lr=1.0)
    rates = {}
    for schedule in ("constant", "cosine"):
        cfg = MaskConfig(steps=4, batch_size=8, lr=0.2, lr_schedule=schedule)
        rates[schedule] = []
        for step in range(cfg.steps):
            set_scheduled_lr(optimiser, cfg, step)
            rates[schedule].append(optimiser.param_groups[0]["lr"])
    assert rates["constant"] == [0.2] * 4
    # 0.2 · ½(1 + cos(π s / 4)) for s = 0..3: 0.2, 0.2·(2 + √2)/4, 0.1, 0.2·(2 − √2)/4
    assert rates["cosine"] == pytest.approx([0.2, 0.2 * (2 + 2**0.5) / 4, 0.1, 0.2 * (2 - 2**0.5) / 4])


def test_an_unknown_schedule_is_refused_in_one_line():
    with pytest.raises(ModbenchError, match="unknown mask lr_schedule 'linear'; choose one of constant, cosine"):
        MaskConfig(lr_schedule="linear")


def test_a_forward_that_edits_its_weights_fails_mask_training_with_the_reason():
    """Masks assume a frozen network; a forward that shrinks its weight in place trained masks
    for another network and the run finished ok."""
    import pytest
    from torch import nn

    from modbench.errors import FrozenWeightsChanged
    from modbench.masking import FrozenModel, MaskConfig, train_mask

    class SelfEditing(nn.Linear):
        def forward(self, x):
            with torch.no_grad():
                self.bias.mul_(0.999)  # unmasked: the functional call hands it the frozen tensor itself
            return super().forward(x)

    model = SelfEditing(3, 1)
    frozen = FrozenModel(model, ["weight"])
    sample = lambda n, g: (torch.randn(n, 3, generator=g), torch.zeros(n, 1))  # noqa: E731
    loss = lambda forward, batch: ((forward(batch[0]) - batch[1]) ** 2).mean()  # noqa: E731
    with pytest.raises(FrozenWeightsChanged, match="tensors changed during mask training"):
        train_mask(frozen, loss, sample, MaskConfig(steps=3, batch_size=8), seed=0)
    untouched = FrozenModel(nn.Linear(3, 1), ["weight"])
    train_mask(untouched, loss, sample, MaskConfig(steps=3, batch_size=8), seed=0)  # no error: unchanged
