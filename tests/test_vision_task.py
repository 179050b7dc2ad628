"""Vision tasks: the class-specificity formulas on hand-built confusion matrices, the
architectures, BatchNorm during mask training, and smoke runs of class_removal and mask_stability."""
import math

import pytest
import torch

from modbench import harness, results
from modbench.archs import ARCHS, build_model
from modbench.contracts import ImageIO
from modbench.masking import FrozenModel, MaskConfig, MaskFilter, train_mask
from modbench.scores import class_specificity
from modbench.tasks import TASKS

SOURCE = "generated:1000"


def test_relative_drop_and_other_target_share_by_hand():
    reference = torch.tensor([[0.8, 0.2, 0.0], [0.1, 0.9, 0.0], [0.0, 0.4, 0.6]])
    without_0 = torch.tensor([[0.2, 0.8, 0.0], [0.1, 0.9, 0.0], [0.0, 0.55, 0.45]])  # class 0: 0.8 → 0.2
    without_1 = torch.tensor([[0.8, 0.2, 0.0], [0.1, 0.9, 0.0], [0.0, 0.4, 0.6]])  # nothing moves
    scores, notes = class_specificity({"control": reference, "w0": without_0, "w1": without_1},
                                      {"w0": 0, "w1": 1}, chance=1 / 3)
    assert scores["relative_drop/0"] == pytest.approx(0.75)  # −(0.2 − 0.8) / 0.8
    # other classes: class 1 unchanged (0), class 2 −0.15/0.6 = −0.25; target −0.75 → share 1/3
    assert scores["other_target_share/0"] == pytest.approx((-0.25) / (-0.75))
    assert scores["relative_drop/1"] == 0.0 and scores["other_target_share/1"] is None
    assert "did not drop" in notes["other_target_share/1"]
    assert scores["relative_drop"] == pytest.approx(0.375) and scores["other_target_share"] == pytest.approx(1 / 3)


def test_a_class_the_control_mask_lost_gets_no_score():
    reference = torch.tensor([[0.9, 0.1], [0.7, 0.3]])  # class 1 at 0.3 < halfway from 0.5 to 1
    scores, notes = class_specificity({"control": reference, "w1": reference}, {"w1": 1}, chance=0.5)
    assert scores["relative_drop/1"] is None and "does not keep class 1" in notes["relative_drop/1"]


def test_an_improving_other_class_does_not_count_as_a_drop():
    reference = torch.eye(3) * 0.9 + 0.1 / 3
    changed = reference.clone()
    changed[0, 0], changed[1, 1] = 0.1, 0.99  # target drops, another class improves
    scores, _ = class_specificity({"control": reference, "w0": changed}, {"w0": 0}, chance=1 / 3)
    assert scores["other_target_share/0"] == 0.0  # min(…, 0): only drops count
    assert math.copysign(1.0, scores["other_target_share/0"]) == 1.0  # 0.0, never "-0.0" in a result file


def test_the_papers_cnn_and_resnet110_sizes():
    cifar = ImageIO(3, 32, 32, 10)
    cnn = build_model(ARCHS.get("cnn"), cifar, ARCHS.get("cnn").sizes["paper"], 0)
    assert sum(p.numel() for p in cnn.parameters()) == 390_986  # "390k weights" (paper_spec §4.9)
    resnet = build_model(ARCHS.get("resnet"), cifar, ARCHS.get("resnet").sizes["paper"], 0)
    convs = [m for m in resnet.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    assert len(convs) + 1 == 110  # 109 3x3 convolutions and the classifier
    assert all(m.bias is None for m in convs)
    signal = ImageIO(1, 1, 40, 10)  # MNIST-1D: the same networks along the width
    for arch in ("cnn", "resnet"):
        model = build_model(ARCHS.get(arch), signal, ARCHS.get(arch).sizes["quick"], 0)
        assert model(torch.zeros(2, 1, 1, 40)).shape == (2, 10)


def test_each_architecture_takes_the_papers_mask_beta_for_it():
    """Paper_spec §4.9: β 3e-4 for the simple CNN, 2e-5 for ResNet-110 (v2 gave the ResNet 3e-4)."""
    task = TASKS.get("class_removal")(source=SOURCE)
    for tier in ("quick", "paper"):
        assert task.budget(tier, "cnn").mask.beta == 3e-4
        assert task.budget(tier, "resnet").mask.beta == 2e-5


def test_batchnorm_buffers_stay_untouched_and_its_affine_parameters_are_masked():
    task = TASKS.get("class_removal")(source=SOURCE)
    model = build_model(ARCHS.get("resnet"), task.contract, ARCHS.get("resnet").sizes["smoke"], 0).eval()
    masked = task.budget("smoke", "resnet").mask_filter.select(model)
    assert "stem.1.weight" in masked and "stem.1.bias" in masked  # BatchNorm γ and β
    before = {n: b.clone() for n, b in model.state_dict().items()}
    train_mask(FrozenModel(model, masked), lambda fn, b: task.loss(fn, b, None),
               lambda n, g: task.sample(None, n, g), MaskConfig(steps=3, batch_size=16), seed=0)
    assert all(torch.equal(before[n], t) for n, t in model.state_dict().items())
    assert MaskFilter(mask_biases=False).select(model) != masked


@pytest.fixture(scope="module")
def class_removal_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vision")
    run = harness.prepare(harness.RunSpec("cnn", "class_removal", "smoke", 0, source=SOURCE, workers=2))
    return harness.run_and_save(run, out), out


def test_class_removal_smoke_run(class_removal_run):
    result, out = class_removal_run
    assert result["status"] == "ok", result["error"]
    results.load(out / "class_removal/cnn/smoke/seed0/result.json")
    confusion = result["details"]["confusion"]
    assert set(confusion) == {"full", "control", *(f"without_{c}" for c in range(10))}
    for matrix in confusion.values():
        assert torch.tensor(matrix).sum(1).sub(1).abs().max() < 1e-5  # rows are distributions
    assert result["details"]["frozen_output_tensors"] == ["head.weight", "head.bias"]
    assert set(result["scores"]) == {*(f"{k}/{c}" for k in ("relative_drop", "other_target_share") for c in range(10)),
                                     "relative_drop", "other_target_share"}


def test_class_removal_freezes_the_classifier_mask_to_the_control_mask(class_removal_run):
    from modbench.masking.maskset import load_masks

    _, out = class_removal_run
    masks = load_masks(out / "class_removal/cnn/smoke/seed0/masks.safetensors")
    for c in range(10):
        for name in ("head.weight", "head.bias"):
            assert torch.equal(masks[f"without_{c}"].masks[name], masks["control"].masks[name])


def test_mask_stability_smoke_run(tmp_path):
    run = harness.prepare(harness.RunSpec("cnn", "mask_stability", "smoke", 0, source=SOURCE))
    assert run.config["arch_size"]["dropout"] is False  # the paper's stability sweep: no dropout
    assert tuple(run.config["arch_size"]["widths"]) == ARCHS.get("cnn").sizes["smoke"]["widths"]
    result = harness.run_and_save(run, tmp_path)
    assert result["status"] == "ok", result["error"]
    pairs = result["details"]["pairs"]
    assert len(pairs) == 5 and all(a != b for a, b in pairs)  # the smoke tier's 5 of the 10 drawn
    assert pairs == [list(p) for p in TASKS.get("mask_stability").drawn_pairs()[:5]]  # the task's, not the seed's
    assert set(result["accuracy"]) == {"full", "control", *(f"pair{i}_{s}" for i in range(5) for s in "ab")}
    ious = [v for v in result["details"]["iou"].values() if v is not None]
    assert result["scores"]["stability_iou"] == pytest.approx(sum(ious) / len(ious))
    assert all(0 <= v <= 1 for v in ious)
    draws = result["nulls"]["scores"]["stability_iou"]  # two random masks per pair of those sizes
    assert len(draws) == 3 and all(0 <= v <= 1 for v in draws)


def test_mask_stability_pairs_are_distinct_unordered_pairs():
    """v2 drew ordered pairs with repetition and got both (6, 4) and (4, 6): one sub-task twice."""
    pairs = TASKS.get("mask_stability").drawn_pairs()
    assert len(pairs) == 10 and all(a < b for a, b in pairs)
    assert len({frozenset(p) for p in pairs}) == 10


def test_the_quick_tier_trains_the_first_five_pairs_and_the_paper_tier_all_ten():
    """v3's 21 mask stages took a quick ResNet run about 1,500 s, over the tier's 20 minutes."""
    quick = harness.prepare(harness.RunSpec("resnet", "mask_stability", "quick", 0, source=SOURCE))
    paper = harness.prepare(harness.RunSpec("resnet", "mask_stability", "paper", 0, source=SOURCE))
    assert quick.task.subfunctions == tuple(f"pair{i}_{s}" for i in range(5) for s in "ab")
    assert len(paper.task.subfunctions) == 20 and paper.task.pairs() == TASKS.get("mask_stability").drawn_pairs()
    assert quick.task.pairs() == paper.task.pairs()[:5]
    assert quick.total_steps == quick.budget.train.steps + 11 * quick.budget.mask.steps  # control + 10 masks
    # each pair's sub-function trains on exactly its two classes
    a, b = quick.task.pairs()[4]
    _, y = quick.task.sample("pair4_b", 256, torch.Generator().manual_seed(0))
    assert set(y.tolist()) == {a, b}


def test_transfer_permutations_follow_the_paper():
    import numpy as np

    task = TASKS.get("transfer")(source=SOURCE)
    assert torch.equal(task.permutations["task0"], torch.arange(40))
    assert task.permutations["task3"].tolist() == np.random.RandomState(3).permutation(40).tolist()
    x, _ = task.sample("task2", 8, torch.Generator().manual_seed(0))
    x0, _ = task.sample("task0", 8, torch.Generator().manual_seed(0))  # the same examples, unpermuted
    assert torch.equal(x, x0[:, task.permutations["task2"]])


def test_a_later_task_keeps_the_earlier_tasks_weights_and_redraws_the_rest():
    from modbench.pipelines.transfer import train_task

    run = harness.prepare(harness.RunSpec("fnn", "transfer", "smoke", 0, source=SOURCE))
    model = build_model(run.arch, run.task.contract, run.budget.arch_size, 0)
    masked = run.budget.mask_filter.select(model)
    frozen = FrozenModel(model, masked)
    first = ["layers.0.weight", "layers.0.bias"]
    untouched = {n: p.detach().clone() for n, p in model.named_parameters()}
    used, before = train_task(run, frozen, frozen.params, "task0", 1, None, first)
    _, after = train_task(run, frozen, before, "task1", 2, used, first)
    assert all(torch.equal(p, untouched[n]) for n, p in model.named_parameters())  # the frozen network stays
    for name in masked:
        if name in first:  # the first layer is never kept: the permutation changes its job
            assert not torch.equal(after[name], before[name])
            continue
        keep = used.masks[name]
        assert torch.equal(after[name][keep], before[name][keep]), name  # frozen
        if (~keep).any():
            assert not torch.equal(after[name][~keep], before[name][~keep]), name  # re-initialised


# Only the tensors that read the pixels are reset (paper_spec §4.7: "the first layer"); every
# later weight, the LSTM's recurrent ones and its second layer included, is scored.
TRANSFER_LAYERS = {
    "fnn": (["layers.0.weight", "layers.0.bias"], ["layers.2.weight", "layers.4.weight", "layers.6.weight"]),
    "lstm": (["lstm.weight_ih_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"],
             ["lstm.weight_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "output.weight"]),
}


@pytest.mark.parametrize("arch", sorted(TRANSFER_LAYERS))
def test_transfer_smoke_run(tmp_path, arch):
    result = harness.run_and_save(harness.prepare(harness.RunSpec(arch, "transfer", "smoke", 0, source=SOURCE)), tmp_path)
    assert result["status"] == "ok", result["error"]
    first, hidden = TRANSFER_LAYERS[arch]
    assert result["details"]["first_layer"] == first
    assert set(result["details"]["shared_fraction"]) == {f"task{p}" for p in range(1, 6)}  # task0 has no past
    assert [k for k in result["scores"] if k.startswith("shared_fraction/")] == [f"shared_fraction/{n}" for n in hidden]
    for n in hidden:
        values = [s[n] for s in result["details"]["shared_fraction"].values()]
        assert result["scores"][f"shared_fraction/{n}"] == pytest.approx(sum(values) / len(values))


def test_confusion_of_a_constant_classifier_by_hand():
    task = TASKS.get("class_removal")(source=SOURCE)
    always_three = lambda x: torch.nn.functional.one_hot(torch.full((len(x),), 3), 10).float()  # noqa: E731
    confusion = task.confusion(always_three)
    expected = torch.zeros(10, 10)
    expected[:, 3] = 1.0  # every true class is predicted as 3
    assert torch.equal(confusion, expected)
    assert task.accuracy(always_three, None) == pytest.approx(float(task.class_shares()[3]))


def test_plot_draws_the_confusion_differences(class_removal_run, tmp_path):
    from modbench.plot import plot_results

    _, out = class_removal_run
    names = {p.name for p in plot_results(out, tmp_path)}
    assert "class_removal_cnn_smoke_seed0_confusion_difference.png" in names
