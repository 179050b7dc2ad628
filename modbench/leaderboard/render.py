"""A built board as README.md (Markdown), leaderboard.csv, leaderboard.tex and index.html.

Tables go through tabulate (github, latex_booktabs, html); the CSV through the csv module,
since tabulate has no quoting CSV format. No dates or paths beyond those given: the same
results and seed give byte-identical files.
"""
from __future__ import annotations

import csv
import html
import io

from tabulate import tabulate

from modbench.leaderboard import analyzer
from modbench.leaderboard.tables import ALPHA, Board, Row, three_places as _num
from modbench.score_specs import SCORES
from modbench.stats import MIN_SEEDS_TO_RANK
from modbench.sweep import unconverged_betas

HEADERS = ["score", "arch", "from", "seeds", "mean", "null", "random init", "IQM", "95% CI", "tier", "converged",
           "undecided"]
PAIR_HEADERS = ["score", "A", "B", "mean B − A", "Welch p (Holm)", "Mann–Whitney p (Holm)"]


def md_escape(text: str) -> str:
    """Text from result files as literal Markdown: a name cannot add a column (|), format, link
    or inject HTML."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
    return "".join(f"\\{c}" if c in "\\|*`[]~" else c for c in text)  # "_" in a word is literal in GFM


def csv_cell(text: object) -> object:
    """A text cell a spreadsheet will not run: a leading =, +, -, @ (or tab, CR) gets a quote
    prefix (OWASP's rule for CSV injection); numbers pass as they are."""
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


PLANTED_HEADERS = [*HEADERS[:5], "answer", *HEADERS[5:]]


def _planted(board: Board, task: str) -> bool:
    """A planted task: its scores have known answers (the ground-truth section shows them)."""
    return any(r.answer is not None for r in board.rows if r.task == task)


def _cells(row: Row) -> list[str]:
    ci = "–" if row.ci is None else f"[{row.ci[0]:.3f}, {row.ci[1]:.3f}]"
    tier = ("n/a" if not row.ranked else "not conv." if not row.n_seeds and row.n_unconverged
            else "–" if row.tier is None else str(row.tier))
    extra = [f"+{n} {what}" for n, what in ((row.n_null, "null"), (row.n_unconverged, "not conv.")) if n]
    seeds = f"{row.n_seeds} ({', '.join(extra)})" if extra else str(row.n_seeds)
    random_init = ("–" if not row.random_init_seeds else "not learned" if row.random_init is None
                   else f"{row.random_init:.3f}")
    return [row.score, row.arch, row.origin, seeds, _num(row.mean), _num(row.null), random_init, _num(row.iqm), ci,
            tier, row.converged, _num(row.undecided)]


def declared_legend(kinds: list[str]) -> str:
    """The legend's sentence on described and lower-is-better scores, from the declarations of
    these task kinds (modbench.score_specs)."""
    declared = list({s.name: s for kind in kinds for s in SCORES.get(kind)}.values())
    described = [s.name for s in declared if not s.ranked]
    lower = [s.name for s in declared if not s.higher_is_better and s.ranked]
    text = ""
    if described:
        text += (f"\"n/a\": described, not ranked ({', '.join(described)}): sharing has no better direction (less "
                 "sharing is specialisation on addmul, more is reuse on double addition), and per-class values are "
                 "detail of their ranked means. ")
    return text + (f"Lower is better for {', '.join(lower)}; " if lower else "") + "higher for every other score."


def _legend(board: Board) -> list[str]:
    c = board.collection
    versions = ", ".join(f"{t} {v}" for t, v in sorted(c.task_versions.items()))
    lines = [
        f"Tier **{c.tier}**, trainer version {c.trainer_version}, task versions: {versions}.",
        f"Mean and IQM over seeds with a 95% percentile-bootstrap CI. Tier 1 = best, from pairwise Welch's t "
        f"tests Holm-corrected across the task's table (α = {ALPHA}); entries that cannot be told apart share a "
        f"tier. \"–\": fewer than {MIN_SEEDS_TO_RANK} seeds (shown, not ranked). \"null\": seeds where the "
        "network, or its control mask, does not perform a sub-function, so the score has no value (each result "
        "file says why). " + declared_legend(sorted({e.kind for e in c.entries})),
        "\"converged\": seeds whose masks meet the task family's convergence criterion (few undecided logits, "
        "decisions settled over the last quarter of each mask stage, a control mask within 2 points of the unmasked "
        "network; README, \"Mask convergence\"); \"undecided\": the mean over seeds of the largest share of a stage's "
        "logits with keep-probability in (0.1, 0.9). \"not conv.\": seeds whose score comes from masks that miss the "
        "criterion: stored, never ranked or gated on; a row whose seeds all miss it shows their values with tier "
        "\"not conv.\" (each result file says why in score_notes). \"null\": the same score from random masks with "
        "each learned sub-function mask's number of weights in every tensor (control mask kept; mean of 3 draws per "
        "seed, then over seeds): a score its null matches needs no modules, only sparsity; \"–\" for results from "
        "before nulls were computed. \"random init\": the same score from the same run on the architecture's "
        "untrained network (the random-model control of Lepori et al., NeurIPS 2023; `modbench run --random-init`), "
        "mean over its seeds: a score it matches is the architecture's, not what training made of it; \"not "
        "learned\": the score is undefined there, because the untrained network does not perform the sub-functions "
        "its score needs (e.g. P_specialize); \"–\": no control run (a task whose weights train with its "
        "masks, such as transfer, has no untrained network to mask, so none).",
    ]
    if c.hardware:
        lines.append("Computed on: " + "; ".join(f"{md_escape(h)}, {n} result(s)" for h, n in c.hardware.items())
                     + ". Numbers reproduce bit for bit on one CPU type and torch build (README, \"What reproduces "
                     "where\").")
    if c.failed:
        lines.append(f"{len(c.failed)} failed run(s) left out, e.g. `{c.failed[0].as_posix()}`.")
    return lines


def _groups_md(board: Board) -> list[str]:
    lines = ["## Across tasks: Friedman test and Nemenyi rank groups", ""]
    for group in board.groups:
        lines.append(f"**{md_escape(', '.join(group.archs))}** on {len(group.cells)} cell(s) "
                     f"({md_escape('; '.join(f'{task}: {score}' for task, score in group.cells))}).")
        lines.append("")
        if group.result is None:
            lines += [f"No test: {group.note}.", ""]
            continue
        r = group.result
        claimed = r.p_value < ALPHA
        lines.append(f"Friedman χ² = {r.statistic:.3f}, p = {r.p_value:.3g}; Nemenyi critical difference "
                     f"{r.critical_difference:.3f}" + ("." if claimed else " (no groups claimed: p ≥ α)."))
        lines.append("")
        table = [[md_escape(a), f"{rank:.2f}", str(g) if claimed else "1"]
                 for a, rank, g in sorted(zip(group.archs, r.average_ranks, r.groups), key=lambda t: t[1])]
        lines += [tabulate(table, ["arch", "average rank", "group"], tablefmt="github"), ""]
    return lines


GROUND_TRUTH_TITLE = "Ground truth: planted modules and the analyzer track"
GROUND_TRUTH_TEXT = (
    "Networks whose modules are known by construction (`modbench ls tasks`: planted_*), so each score has a known "
    "answer (\"answer\"), the value masks that find the planted modules give. Rows marked [method] are mask methods "
    "other than the reference trainer on the same networks and seeds, ranked with the same tests.")
CURVES_TITLE = "Modularity against density (β sweeps)"
CURVES_TEXT = (
    "Each score's area under its score-vs-density curve over the densities the sweep reached, divided by their span "
    "(the curve's mean height; `modbench sweep`, DESIGN.md). Described, not ranked: sweeps of different "
    "architectures reach different densities.")


def _task_groups(board: Board) -> tuple[list[str], list[str]]:
    """The board's tasks split into ordinary and planted ones (the latter get an answer column)."""
    tasks = board.collection.tasks()
    return [t for t in tasks if not _planted(board, t)], [t for t in tasks if _planted(board, t)]


def _curve_tables(board: Board) -> list[tuple[str, str, list[list[str]]]]:
    """Per sweep: its name, what it spans, and a row per score (score, area); names raw."""
    tables = []
    for c in board.curves:
        densities = [p["density"] for p in c["points"] if p.get("density") is not None]
        span = f"{min(densities):.3f}–{max(densities):.3f}" if densities else "–"
        unsettled = [f"{beta:g}" for beta in unconverged_betas(c)]
        settled = f" Not every mask converged at β {', '.join(unsettled)}." if unsettled else " Every mask converged."
        tables.append((f"{c['task']} / {c['arch']} / {c['tier']}", f"{len(c['points'])} β values, densities {span}.{settled}",
                       [[score, _num(area)] for score, area in c["area_under_curve"].items()]))
    return tables


def markdown(board: Board, command: str) -> str:
    lines = ["# modbench leaderboard", "", f"Generated by `{command}`; do not edit by hand.", ""]
    lines += [*_legend(board), ""]
    ordinary, planted = _task_groups(board)
    for task in ordinary:
        lines += [f"## {md_escape(task)}", "", *_task_md(board, task, HEADERS, _cells)]
    if planted:
        lines += [f"## {GROUND_TRUTH_TITLE}", "", GROUND_TRUTH_TEXT, ""]
        rows = [[*map(md_escape, r[:2]), *r[2:]] for r in analyzer.analyzer_rows(board)]
        lines += [f"### {analyzer.TITLE}", "", analyzer.DESCRIPTION, "",
                  tabulate(rows, analyzer.HEADERS, tablefmt="github", disable_numparse=True), ""]
        for task in planted:
            lines += [f"### {md_escape(task)}", "", *_task_md(board, task, PLANTED_HEADERS, _planted_cells)]
    if board.curves:
        lines += [f"## {CURVES_TITLE}", "", CURVES_TEXT, ""]
        for name, detail, rows in _curve_tables(board):
            rows = [[md_escape(score), area] for score, area in rows]
            lines += [f"**{md_escape(name)}**: {detail}", "",
                      tabulate(rows, ["score", "area under curve"], tablefmt="github", disable_numparse=True), ""]
    lines += _groups_md(board)
    return "\n".join(lines).rstrip() + "\n"


def _planted_cells(row: Row) -> list[str]:
    cells = _cells(row)
    return [*cells[:5], _num(row.answer), *cells[5:]]


def _task_md(board: Board, task: str, headers: list[str], cells_of) -> list[str]:
    # names come from result files: escaped; the numbers and brackets are ours
    rows = [[*map(md_escape, cells[:3]), *cells[3:]] for cells in (cells_of(r) for r in board.rows if r.task == task)]
    lines = [tabulate(rows, headers, tablefmt="github", disable_numparse=True), ""]
    pairs = [[md_escape(p.score), md_escape(p.a), md_escape(p.b), f"{p.difference:+.3f}", f"{p.welch:.3g}",
              f"{p.mannwhitney:.3g}"]
             for p in board.pairs if p.task == task]
    if pairs:
        lines += ["Pairwise tests:", "", tabulate(pairs, PAIR_HEADERS, tablefmt="github", disable_numparse=True), ""]
    return lines


def csv_text(board: Board) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["task", "score", "arch", "from", "seeds", "null_seeds", "unconverged_seeds", "mean", "null",
                     "iqm", "ci_low", "ci_high", "tier", "converged", "undecided", "answer", "random_init",
                     "random_init_seeds"])
    for r in board.rows:
        ci = r.ci or (None, None)
        writer.writerow([*map(csv_cell, (r.task, r.score, r.arch, r.origin)), r.n_seeds, r.n_null, r.n_unconverged,
                         *("" if v is None else f"{v:.6g}" for v in (r.mean, r.null, r.iqm, *ci)),
                         "" if r.tier is None else r.tier, r.converged, "" if r.undecided is None else f"{r.undecided:.4g}",
                         "" if r.answer is None else f"{r.answer:.6g}",
                         "" if r.random_init is None else f"{r.random_init:.6g}", r.random_init_seeds])
    return out.getvalue()


def latex(board: Board) -> str:
    parts = [f"% Generated by modbench leaderboard; tier {board.collection.tier}. Needs \\usepackage{{booktabs}}."]
    for task in board.collection.tasks():
        rows = [_cells(r) for r in board.rows if r.task == task]
        parts += [f"% {task}", tabulate(rows, HEADERS, tablefmt="latex_booktabs", disable_numparse=True)]
    return "\n".join(parts) + "\n"


def html_page(board: Board, command: str) -> str:
    """The Markdown board's tables as one page (tabulate's "html" format escapes every cell)."""
    def table(rows: list[list[str]], headers: list[str]) -> str:
        return tabulate(rows, headers, tablefmt="html", disable_numparse=True)

    body = ["<h1>modbench leaderboard</h1>", f"<p>Generated by <code>{html.escape(command)}</code>.</p>"]
    body += [f"<p>{html.escape(line.replace('**', ''))}</p>" for line in _legend(board)]
    ordinary, planted = _task_groups(board)
    for task in ordinary:
        body += [f"<h2>{html.escape(task)}</h2>", table([_cells(r) for r in board.rows if r.task == task], HEADERS)]
    if planted:
        body += [f"<h2>{html.escape(GROUND_TRUTH_TITLE)}</h2>", f"<p>{html.escape(GROUND_TRUTH_TEXT)}</p>",
                 f"<h3>{html.escape(analyzer.TITLE)}</h3>", f"<p>{html.escape(analyzer.DESCRIPTION)}</p>",
                 table(analyzer.analyzer_rows(board), analyzer.HEADERS)]
        for task in planted:
            body += [f"<h3>{html.escape(task)}</h3>",
                     table([_planted_cells(r) for r in board.rows if r.task == task], PLANTED_HEADERS)]
    if board.curves:
        body += [f"<h2>{html.escape(CURVES_TITLE)}</h2>", f"<p>{html.escape(CURVES_TEXT)}</p>"]
        for name, detail, rows in _curve_tables(board):
            body += [f"<p><b>{html.escape(name)}</b>: {html.escape(detail)}</p>",
                     table(rows, ["score", "area under curve"])]
    style = "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>modbench leaderboard</title>"
            f"<style>{style}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def render_all(board: Board, command: str) -> dict[str, str]:
    return {"README.md": markdown(board, command), "leaderboard.csv": csv_text(board),
            "leaderboard.tex": latex(board), "index.html": html_page(board, command)}
