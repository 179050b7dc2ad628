"""`modbench plot`: PNG figures of one or many result files (matplotlib, no display needed).

Per result: per-layer sharing (IoU and IoMin of each pair of sub-function masks, the paper's
Figure 3 view), the histogram of mask keep-probabilities σ(logit) per stage (converged masks
are bimodal), each stage's convergence against its task family's criterion, the accuracy of
every mask variant on every evaluation set, for addmul the paper's add/mul confusion per mask
(is the prediction the sum, the product, or neither?), and for class removal the confusion
differences D_c = C(mask without c) − C_ref (red: lost, blue: gained).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: works on machines without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from modbench import results  # noqa: E402
from modbench.io import safe_file_name  # noqa: E402
from modbench.leaderboard.collect import result_files  # noqa: E402


def sharing_figure(result: dict):
    """Grouped bars per masked layer: IoU and IoMin of each pair of masks, or None without pairs."""
    layers = {name: layer for name, layer in (result["layers"] or {}).items() if layer.get("pairs")}
    if not layers:
        return None
    pairs = [f"{p['a']}–{p['b']}" for p in next(iter(layers.values()))["pairs"]]
    fig, axes = plt.subplots(1, 2, figsize=(max(6, 1.2 * len(layers)), 3.5), sharey=True, squeeze=False)
    x = np.arange(len(layers))
    width = 0.8 / len(pairs)
    for ax, metric in zip(axes[0], ("iou", "iomin")):
        for i, pair in enumerate(pairs):
            ax.bar(x + i * width, [layer["pairs"][i][metric] or 0.0 for layer in layers.values()], width, label=pair)
        ax.set_xticks(x + width * (len(pairs) - 1) / 2, list(layers), rotation=60, ha="right", fontsize=7)
        ax.set_title(metric.replace("iou", "IoU").replace("iomin", "IoMin"))
        ax.set_ylim(0, 1)
    axes[0][0].legend(fontsize=7)
    return fig


def histogram_figure(result: dict):
    """Keep-probability histogram per mask stage, or None when the result has none."""
    histograms = (result["masks"] or {}).get("keep_probability_histogram") or {}
    if not histograms:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for stage, counts in histograms.items():
        counts = np.asarray(counts, dtype=float)
        edges = np.linspace(0, 1, len(counts) + 1)
        ax.stairs(counts / counts.sum(), edges, label=stage)
    ax.set_xlabel("keep probability σ(logit)")
    ax.set_ylabel("share of masked weights")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    return fig


def convergence_figure(result: dict):
    """Per mask stage: its undecided share and the IoU of its kept set over the last quarter of
    the stage, against the task family's thresholds (dashed; red bars miss them), or None
    without records."""
    convergence = result.get("convergence") or {}
    stages = convergence.get("stages") or {}
    if not stages:
        return None
    criterion = convergence["criterion"]
    fig, axes = plt.subplots(1, 2, figsize=(max(6, 0.9 * len(stages) + 3), 3.2), squeeze=False)
    x = np.arange(len(stages))
    panels = (("undecided", "undecided share: σ(logit) in (0.1, 0.9)", criterion["max_undecided"], 1),
              ("late_iou", "late IoU: kept set at 3/4 vs end", criterion["min_late_iou"], -1))
    for ax, (key, title, threshold, worse) in zip(axes[0], panels):  # worse: +1 above, −1 below the line
        values = [np.nan if c[key] is None else c[key] for c in stages.values()]
        ax.bar(x, values, color=["tab:red" if worse * (v - threshold) > 0 else "tab:blue" for v in values])
        ax.axhline(threshold, color="k", linestyle="--", linewidth=1)
        ax.set_xticks(x, list(stages), rotation=45, ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(title, fontsize=8)
    verdict = "converged" if convergence["converged"] else "not converged"
    axes[0][0].set_ylabel(verdict, fontsize=8)
    return fig


def accuracy_figure(result: dict):
    """Heat map: rows = mask variants, columns = evaluation sets, cells = accuracy."""
    accuracy = {v: cells for v, cells in (result["accuracy"] or {}).items() if isinstance(cells, dict) and cells}
    if not accuracy:
        return None
    columns = list(dict.fromkeys(c for cells in accuracy.values() for c in cells))
    matrix = np.array([[cells.get(c, np.nan) for c in columns] for cells in accuracy.values()])  # [variants, sets]
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * len(columns), 1 + 0.4 * len(accuracy)))
    ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="w" if value < 0.5 else "k")
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_yticks(range(len(accuracy)), list(accuracy))
    ax.set_title("accuracy: mask (row) × evaluation set (column)", fontsize=8)
    return fig


def operation_confusion_figure(result: dict):
    """addmul (paper_spec §3.6): per mask, the true operation (rows) against whether the
    prediction is the sum, the product or neither (columns)."""
    confusion = (result["details"] or {}).get("operation_confusion")
    if not confusion:
        return None
    masks = confusion["masks"]
    fig, axes = plt.subplots(1, len(masks), figsize=(2.6 * len(masks), 2.4), squeeze=False)
    for ax, (stage, matrix) in zip(axes[0], masks.items()):
        matrix = np.asarray(matrix)  # [true operation, predicted as]
        ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, f"{100 * value:.0f}", ha="center", va="center", fontsize=8, color="w" if value < 0.5 else "k")
        ax.set_xticks(range(matrix.shape[1]), confusion["columns"], fontsize=7)
        ax.set_yticks(range(matrix.shape[0]), confusion["rows"], fontsize=7)
        ax.set_title(f"mask: {stage}", fontsize=8)
    return fig


def confusion_difference_figure(result: dict):
    """Class removal (paper_spec §4.9): D_c = C(mask without c) − C_ref per class c, in points."""
    confusion = (result["details"] or {}).get("confusion")
    if not confusion or "control" not in confusion:
        return None
    reference = np.asarray(confusion["control"])
    stages = [s for s in confusion if s.startswith("without_")]
    columns = min(5, len(stages))
    rows = -(-len(stages) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns + 1, 2.3 * rows), squeeze=False,
                             layout="constrained")  # room for the shared colour bar
    for ax, stage in zip(axes.flat, stages):
        difference = 100 * (np.asarray(confusion[stage]) - reference)  # [true, predicted]
        image = ax.imshow(difference, vmin=-100, vmax=100, cmap="RdBu")
        ax.set_title(f"without class {stage.split('_', 1)[1]}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(stages):]:
        ax.axis("off")
    axes[0][0].set_ylabel("true class", fontsize=7)
    axes[-1][0].set_xlabel("predicted class", fontsize=7)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
    bar.set_label("change vs control mask [points]: red lost, blue gained", fontsize=7)
    return fig


FIGURES = {"sharing": sharing_figure, "mask_probabilities": histogram_figure, "convergence": convergence_figure,
           "accuracy": accuracy_figure,
           "operation_confusion": operation_confusion_figure, "confusion_difference": confusion_difference_figure}


def curve_figure(curve: dict):
    """Each score and the control mask's accuracy against the sub-function masks' density (a β sweep)."""
    from modbench.sweep import unconverged_betas

    points = sorted((p for p in curve["points"] if p.get("density") is not None), key=lambda p: p["density"])
    if len(points) < 2:
        return None
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    density = [p["density"] for p in points]
    for i, score in enumerate(curve["area_under_curve"]):
        values = [p["scores"].get(score) for p in points]
        if any(v is not None for v in values):  # 10 colours × 4 styles: a dozen scores stay apart
            ax.plot(density, [np.nan if v is None else v for v in values], marker="os^D"[i // 10 % 4],
                    linestyle=("-", "--", "-.", ":")[i // 10 % 4], label=score)
    control = [p.get("control_accuracy") for p in points]
    if any(v is not None for v in control):  # transfer has no control mask
        ax.plot(density, [np.nan if v is None else v for v in control], "k--", label="control accuracy")
    unsettled = unconverged_betas(curve)
    for p in points:
        settled = f", {p.get('converged')}/{p.get('seeds')} converged" if p["beta"] in unsettled else ""
        ax.annotate(f"β {p['beta']:g}{settled}", (p["density"], 0), fontsize=6, rotation=90, va="bottom")
    ax.set_xlabel("density of the sub-function masks")
    ax.set_ylabel("score")
    fig.legend(loc="outside right upper", fontsize=6)  # beside the axes: it hid points and β labels
    return fig


def _figure_stems(finished: list[tuple[Path, dict]], source: Path) -> list[str]:
    """task_arch_tier_seed per result; where results share it (a β sweep's runs, or several mask
    methods in one folder), each of them is named by its folder under `source` instead, so that
    no figure overwrites another's."""
    stems = [safe_file_name(r["task"]["name"], r["architecture"]["name"], r["tier"], f"seed{r['seeds']['run']}")
             for _, r in finished]
    shared = {stem for stem, n in Counter(stems).items() if n > 1}
    return [safe_file_name(*path.parent.relative_to(source).parts) if stem in shared else stem
            for (path, _), stem in zip(finished, stems)]


def plot_results(source: Path, out: Path) -> list[Path]:
    """Write every figure that each finished result under `source` supports, and each β sweep's
    curve; returns the files."""
    from modbench.sweep import curve_files, load_curve

    written = []
    for path in curve_files([source]) if Path(source).is_dir() else []:
        curve = load_curve(path)
        fig = curve_figure(curve)
        if fig is None:
            continue
        fig.suptitle(f"{curve['task']} · {curve['arch']} · {curve['tier']}: scores against density", fontsize=9)
        target = out / f"{safe_file_name(curve['task'], curve['arch'], curve['tier'])}_density_curve.png"
        out.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=120)
        plt.close(fig)
        written.append(target)
    finished = [(path, r) for path, _ in result_files([source]) if (r := results.load(path))["status"] == "ok"]
    for (path, result), stem in zip(finished, _figure_stems(finished, Path(source))):
        for name, make in FIGURES.items():
            fig = make(result)
            if fig is None:
                continue
            fig.suptitle(f"{result['task']['name']} · {result['architecture']['name']} · seed {result['seeds']['run']}", fontsize=9)
            if fig.get_layout_engine() is None:
                fig.tight_layout()
            target = out / f"{stem}_{name}.png"  # a plain name: inside `out` whatever the result says
            out.mkdir(parents=True, exist_ok=True)
            fig.savefig(target, dpi=120)
            plt.close(fig)
            written.append(target)
    return written
