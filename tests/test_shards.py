"""Sharded weight training (modbench.shards): the parts' summed gradient is the batch's, and the
bits do not depend on how the parts are dealt over processes."""
import pytest
import torch
from torch import nn

from modbench import harness
from modbench.config import TrainConfig
from modbench.errors import ModbenchError
from modbench.shards import ShardedGradient, split_batch, updates_buffers
from modbench.training import train_weights


class DropoutNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden, self.drop, self.out = nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.hidden(x))))


def mean_loss(model, batch):  # module level: it pickles to the helper processes
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def failing_loss(model, batch):
    """Fails on a part whose first input is negative (the second part below, a helper's)."""
    if float(batch[0][0, 0]) < 0:
        raise ValueError("a broken part")
    return mean_loss(model, batch)


def sample(n, generator):
    return torch.randn(n, 4, generator=generator), torch.randint(3, (n,), generator=generator)


def test_parts_are_consecutive_and_their_shares_sum_to_one():
    batch = (torch.arange(10), torch.arange(10) * 2)
    parts = split_batch(batch, 3)
    assert [p[0].tolist() for p, _ in parts] == [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]
    assert [p[1].tolist() for p, _ in parts][1] == [6, 8, 10, 12]
    assert sum(share for _, share in parts) == pytest.approx(1.0)
    with pytest.raises(ModbenchError, match="smaller than train.shards"):
        split_batch(batch, 11)


def test_the_parts_summed_gradient_is_the_whole_batchs():
    """Mean losses weighted by each part's share of the rows: Σ_j share_j ∇L(part_j) = ∇L(batch)
    (equal up to float rounding: the sum runs in another order)."""
    torch.manual_seed(0)
    model = DropoutNet().eval()  # no dropout: one function for both
    batch = sample(12, torch.Generator().manual_seed(1))
    mean_loss(model, batch).backward()
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    gradient = ShardedGradient(model, mean_loss, 3, 1, torch.device("cpu"))
    loss = gradient(batch)
    for p, g in zip(model.parameters(), expected):
        torch.testing.assert_close(p.grad, g)
    torch.testing.assert_close(loss, mean_loss(model, batch))


def _trained(shards: int, processes: int, loss=mean_loss) -> list[torch.Tensor]:
    torch.manual_seed(0)  # init, and the global generator the part seeds are drawn from
    model = DropoutNet()
    cfg = TrainConfig(steps=15, lr=1e-2, batch_size=8, shards=shards)
    train_weights(model, loss, sample, cfg, torch.Generator().manual_seed(2), processes=processes)
    return [p.detach().clone() for p in model.parameters()]


def test_two_processes_give_the_bits_of_one_computing_the_parts_in_turn():
    """Each part keeps its own dropout stream, and the parts' gradients are summed in part order
    wherever they were computed."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # helpers compute at one thread; so must the reference
    try:
        alone = _trained(2, 1)
        pooled = _trained(2, 2)
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(a, b) for a, b in zip(alone, pooled))
    # and sharding is part of the numbers: one part (one dropout stream, one sum) trains otherwise
    assert not all(torch.equal(a, b) for a, b in zip(alone, _trained(1, 1)))


def test_a_failing_helper_raises_one_error_instead_of_hanging():
    def sample_with_negative_second_half(n, generator):
        x, y = sample(n, generator)
        x[n // 2 :, 0] = -1.0  # the second part, computed by the helper
        x[: n // 2, 0] = 1.0
        return x, y

    torch.manual_seed(0)
    cfg = TrainConfig(steps=2, batch_size=8, shards=2)
    with pytest.raises(ModbenchError, match="training helper process failed.*a broken part"):
        train_weights(DropoutNet(), failing_loss, sample_with_negative_second_half, cfg,
                      torch.Generator().manual_seed(2), processes=2)


def test_a_network_with_running_statistics_computes_its_parts_in_one_process():
    """Parts in parallel processes would race on BatchNorm's shared running statistics."""
    bn = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    assert updates_buffers(bn) and not updates_buffers(DropoutNet())
    gradient = ShardedGradient(bn, lambda m, b: m(b[0]).sum(), 2, 2, torch.device("cpu"))
    assert gradient.helpers == []


def test_unsharded_training_keeps_the_run_ids_of_committed_results():
    """train.shards 1 is left out of the id (results from before sharding still verify); any other
    count is part of it."""
    base = harness.RunSpec("fnn", "double_add", "smoke", 0)
    one = harness.prepare(harness.RunSpec("fnn", "double_add", "smoke", 0, overrides=(("train.shards", 1),)))
    two = harness.prepare(harness.RunSpec("fnn", "double_add", "smoke", 0, overrides=(("train.shards", 2),)))
    assert one.run_id == harness.prepare(base).run_id != two.run_id
    assert two.config["train"]["shards"] == 2


def test_a_shard_count_outside_the_batch_is_one_clear_error():
    with pytest.raises(ModbenchError, match="train.shards must be between 1 and the batch size 8"):
        TrainConfig(batch_size=8, shards=9)
