"""Sequence machinery: teacher-forced loss, greedy decoding, exact match, and the seq2seq
architectures' contract (causality, padding, incremental decoding = re-running forward)."""
import pytest
import torch
from torch import nn

from modbench.archs import ARCHS, build_model
from modbench.contracts import SequenceIO
from modbench.masking import FrozenModel, MaskFilter, MaskSet
from modbench.seq2seq import decoder_input, exact_match, greedy_decode, sequence_accuracy, sequence_loss

CONTRACT = SequenceIO(src_vocab=9, tgt_vocab=5, max_src_len=6, max_tgt_len=8)
SEQ_ARCHS = [n for n in ARCHS.names() if "sequence" in ARCHS.get(n).factories]


def batch(seed=0, n=6):
    g = torch.Generator().manual_seed(seed)
    src_len = torch.randint(1, CONTRACT.max_src_len + 1, (n,), generator=g)
    src = torch.randint(1, CONTRACT.src_vocab, (n, CONTRACT.max_src_len), generator=g)
    src = src * (torch.arange(CONTRACT.max_src_len) < src_len[:, None])
    tgt_len = torch.randint(1, CONTRACT.max_tgt_len + 1, (n,), generator=g)
    tgt = torch.randint(1, CONTRACT.tgt_vocab, (n, CONTRACT.max_tgt_len + 1), generator=g)
    tgt = tgt * (torch.arange(CONTRACT.max_tgt_len + 1) < tgt_len[:, None])  # EOS (0) padded
    return src, src_len, tgt, tgt_len


def model_of(arch, seed=0):
    spec = ARCHS.get(arch)
    return build_model(spec, CONTRACT, spec.sizes["smoke"], init_seed=seed).eval()


class FixedLogits(nn.Module):
    """Returns given logits, whatever the input: to test the loss alone."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, src, src_len, tgt_in):
        return self.logits[:, : tgt_in.shape[1]]


def test_decoder_input_is_sos_then_the_target_shifted():
    tgt = torch.tensor([[3, 4, 0, 0]])
    assert decoder_input(tgt, sos=5).tolist() == [[5, 3, 4, 0]]


def test_loss_counts_each_token_and_the_eos_but_not_padding():
    src, src_len, tgt, tgt_len = batch()
    logits = torch.randn(len(tgt), tgt.shape[1], CONTRACT.tgt_vocab)
    base = sequence_loss(FixedLogits(logits), (src, src_len, tgt, tgt_len), CONTRACT.sos)
    # By hand: −log p(target) summed over positions 0..len (the EOS included), / batch.
    logp = logits.log_softmax(-1)
    by_hand = sum(-logp[b, t, tgt[b, t]] for b in range(len(tgt)) for t in range(int(tgt_len[b]) + 1))
    torch.testing.assert_close(base, by_hand / len(tgt))
    # Changing logits after each sequence's EOS changes nothing.
    changed = logits.clone()
    for b in range(len(tgt)):
        changed[b, int(tgt_len[b]) + 1 :] = 100.0
    torch.testing.assert_close(sequence_loss(FixedLogits(changed), (src, src_len, tgt, tgt_len), CONTRACT.sos), base)


def test_exact_match_needs_every_token_and_the_eos_exactly_there():
    tgt = torch.tensor([[1, 2, 0, 0]] * 4)
    tgt_len = torch.tensor([2] * 4)
    predicted = torch.tensor([
        [1, 2, 0, 3],  # right; what follows the EOS does not matter
        [1, 3, 0, 0],  # wrong token
        [1, 0, 0, 0],  # stops too early
        [1, 2, 2, 0],  # too long
    ])
    assert exact_match(predicted, tgt, tgt_len).tolist() == [True, False, False, False]


@pytest.mark.parametrize("arch", SEQ_ARCHS)
def test_logits_shape_and_causality(arch):
    model = model_of(arch)
    src, src_len, tgt, _ = batch()
    tgt_in = decoder_input(tgt, CONTRACT.sos)
    out = model(src, src_len, tgt_in)
    assert out.shape == (len(src), tgt_in.shape[1], CONTRACT.tgt_vocab)
    later = tgt_in.clone()
    later[:, 4:] = (later[:, 4:] + 1) % CONTRACT.tgt_vocab  # change only the future
    torch.testing.assert_close(model(src, src_len, later)[:, :4], out[:, :4])
    assert not torch.allclose(model(src, src_len, later)[:, 4:], out[:, 4:])


@pytest.mark.parametrize("arch", SEQ_ARCHS)
def test_source_padding_is_ignored(arch):
    model = model_of(arch)
    src, src_len, tgt, _ = batch()
    tgt_in = decoder_input(tgt, CONTRACT.sos)
    wider = torch.cat([src, torch.zeros(len(src), 3, dtype=torch.long)], 1)
    torch.testing.assert_close(model(wider, src_len, tgt_in), model(src, src_len, tgt_in))
    garbage = src.clone()
    garbage[torch.arange(src.shape[1]) >= src_len[:, None]] = 3  # junk beyond each length
    torch.testing.assert_close(model(garbage, src_len, tgt_in), model(src, src_len, tgt_in))


class ForwardOnly(nn.Module):
    """Hides an architecture's incremental decoding, to test the generic fallback."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, src, src_len, tgt_in):
        return self.inner(src, src_len, tgt_in)


@pytest.mark.parametrize("arch", SEQ_ARCHS)
def test_incremental_decoding_equals_rerunning_forward(arch):
    model = model_of(arch, seed=3)
    src, src_len, _, _ = batch(seed=1, n=16)
    fast = greedy_decode(model, src, src_len, steps=9, sos=CONTRACT.sos)
    slow = greedy_decode(ForwardOnly(model), src, src_len, steps=9, sos=CONTRACT.sos)
    assert torch.equal(fast, slow)


@pytest.mark.parametrize("arch", SEQ_ARCHS)
def test_masked_incremental_decoding_uses_the_mask(arch):
    """Through FrozenModel, `start`/`step` see the masked weights, exactly as forward does."""
    model = model_of(arch, seed=3)
    masked = MaskFilter().select(model)
    g = torch.Generator().manual_seed(0)
    masks = MaskSet({n: torch.rand(model.get_parameter(n).shape, generator=g) > 0.3 for n in masked})
    bound = FrozenModel(model, masked).forward_with(masks)
    src, src_len, _, _ = batch(seed=2, n=16)
    fast = greedy_decode(bound, src, src_len, steps=9, sos=CONTRACT.sos)
    slow = greedy_decode(lambda *a: bound(*a), src, src_len, steps=9, sos=CONTRACT.sos)
    assert torch.equal(fast, slow)
    unmasked = greedy_decode(model, src, src_len, steps=9, sos=CONTRACT.sos)
    assert not torch.equal(fast, unmasked)


def test_accuracy_of_a_model_that_knows_the_answers():
    """A fabricated model that emits the reference scores 1; one that is off by one token, 0."""
    src, src_len, tgt, tgt_len = batch(n=10)
    key = lambda row: tuple(row[row > 0].tolist())  # the tokens, whatever the padding width
    answers = {key(s): t for s, t in zip(src, tgt)}
    assert len(answers) == len(src)

    class Oracle(nn.Module):
        def __init__(self, shift=0):
            super().__init__()
            self.shift = shift

        def forward(self, s, s_len, tgt_in):
            rows = torch.stack([answers[key(r)] for r in s])[:, : tgt_in.shape[1]]
            rows = torch.where(rows > 0, (rows + self.shift - 1) % (CONTRACT.tgt_vocab - 1) + 1, rows)
            return nn.functional.one_hot(rows, CONTRACT.tgt_vocab).float()

    data = (src, src_len, tgt, tgt_len)
    assert sequence_accuracy(Oracle(), data, CONTRACT.sos, batch_size=3) == 1.0
    assert sequence_accuracy(Oracle(shift=1), data, CONTRACT.sos, batch_size=3) == 0.0
