"""Render an evaluation (the dict from :func:`kinlink.eval.harness.evaluate`) as files.

``write_report(report, out_dir)`` writes ``report.md`` (tables), ``report.json`` (every
figure, including the curves and histograms, so results can be re-plotted or
compared across runs) and PNG plots per data set and task: a precision-recall curve
with every method, and a match-weight histogram (true pairs vs others) per method.
kinlink is always the first row/series; when it could not run, its row says why.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

TASK_TITLES = {"link": "Tracing request → case linkage", "dedupe": "Duplicates among cases"}


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "dataset"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def _unavailable_row(method: dict[str, Any], width: int) -> list[str]:
    reason = method.get("reason") or "; ".join((method.get("errors") or {}).values()) or "no result"
    text = ("unavailable: " if not method.get("available") else "failed: ") + reason
    return [f"**{method['label']}**", text.replace("|", "/")] + [""] * (width - 2)


def _link_rows(ds: dict[str, Any]) -> list[list[str]]:
    rows = []
    for method in ds["methods"]:
        link = method.get("link")
        if not link:
            rows.append(_unavailable_row(method, 10))
            continue
        at = link["at_decision"]
        rows.append(
            [
                f"**{method['label']}**",
                _f(link["recall_at"]["1"]),
                _f(link["recall_at"]["5"]),
                _f(link["recall_at"]["10"]),
                _f(at["precision"]),
                _f(at["recall"]),
                _f(at["f1"]),
                f"{_f(link['best_f1']['f1'])} (≥ {_f(link['best_f1']['threshold'], 3)})",
                _f(link["pr_auc"]),
                _f(link["n_scored_pairs"]),
            ]
        )
    return rows


def _dedupe_rows(ds: dict[str, Any]) -> list[list[str]]:
    rows = []
    for method in ds["methods"]:
        dd = method.get("dedupe")
        if not dd:
            rows.append(_unavailable_row(method, 10))
            continue
        pw, b3 = dd["pairwise"], dd["bcubed"]
        rows.append(
            [
                f"**{method['label']}**",
                _f(pw["precision"]),
                _f(pw["recall"]),
                _f(pw["f1"]),
                _f(b3["precision"]),
                _f(b3["recall"]),
                _f(b3["f1"]),
                f"{_f(dd['best_f1']['f1'])} (≥ {_f(dd['best_f1']['threshold'], 3)})",
                _f(dd["pr_auc"]),
                _f(dd["n_clusters"]),
            ]
        )
    return rows


def _blocking_rows(ds: dict[str, Any]) -> list[list[str]]:
    rows = []
    for method in ds["methods"]:
        if not method.get("available"):
            continue
        for task in ("link", "dedupe"):
            block = method.get(f"blocking_{task}")
            if block is None:
                continue
            if not block.get("applicable"):
                rows.append([f"**{method['label']}**", task, "no blocking stage", "", ""])
                continue
            rows.append(
                [
                    f"**{method['label']}**",
                    task,
                    _f(block["n_candidate_pairs"]),
                    _f(block["pair_completeness"]),
                    _f(block["reduction_ratio"], 4),
                ]
            )
    return rows


def _culture_table(
    ds: dict[str, Any], section: str, getter: Any, label: str, count_key: str
) -> list[str]:
    methods = [mm for mm in ds["methods"] if mm.get(section)]
    if not methods:
        return []
    cultures = sorted({c for mm in methods for c in mm[section].get("by_culture", {})})
    if len(cultures) < 2 and cultures == ["febrl"]:
        return []
    header = ["culture", count_key] + [mm["label"] for mm in methods]
    rows = []
    for culture in cultures:
        first = methods[0][section]["by_culture"].get(culture, {})
        row = [culture, _f(first.get(count_key))]
        for mm in methods:
            fig = mm[section]["by_culture"].get(culture)
            row.append(_f(getter(fig)) if fig else "n/a")
        rows.append(row)
    return [f"*{label}*", "", *_table(header, rows)]


def render_markdown(report: dict[str, Any], figures: dict[str, list[str]] | None = None) -> str:
    """The report as Markdown; ``figures`` maps data set name -> PNG file names to embed."""
    figures = figures or {}
    out = [
        "# kinlink evaluation report",
        "",
        f"- date: {report.get('date')}",
        f"- kinlink version: {report.get('kinlink_version')}",
        f"- command: `{report.get('command') or 'kinlink.eval.harness.evaluate(...)'}`",
        f"- machine: {report['machine']['platform']}, Python {report['machine']['python']}",
        "",
        "How to read this: *recall@k* is the share of tracing requests (whose child is",
        "registered as a case) with the true case among the top k candidates. Pairwise",
        "P/R/F1 are at each method's own decision (table below); recall counts every true",
        "pair in the data, including those lost by blocking. *Best F1* is the highest F1",
        "over all score thresholds (an oracle figure: what tuning could reach). *PR-AUC*",
        "is step-wise average precision. Duplicate figures come from each method's",
        "clusters; B³ = B-cubed. Primero's score is a relative score (divided by the top",
        "hit of each query), not a probability: it is thresholded as is.",
        "",
    ]
    if report["datasets"]:
        rules = []
        for method in report["datasets"][0]["methods"]:
            rules.append([method["label"], method["score_kind"], method["decision_rule"]])
        out += ["## Methods", "", *_table(["method", "score", "decision"], rules)]
    for ds in report["datasets"]:
        out += [f"## {ds['name']}", "", ds.get("description") or "", ""]
        cultures = ", ".join(f"{k} {v:,}" for k, v in ds["records_per_culture"].items())
        out += _table(
            ["records", "cases", "tracing requests", "children / entities", "records per culture"],
            [
                [
                    _f(ds["n_records"]),
                    _f(ds["n_cases"]),
                    _f(ds["n_tracing_requests"]),
                    _f(ds["n_entities"]),
                    cultures,
                ]
            ],
        )
        if "link" in ds["tasks"]:
            out += [f"### {TASK_TITLES['link']}", ""]
            out += _table(
                [
                    "method",
                    "R@1",
                    "R@5",
                    "R@10",
                    "P",
                    "R",
                    "F1",
                    "best F1 (threshold)",
                    "PR-AUC",
                    "scored pairs",
                ],
                _link_rows(ds),
            )
        if "dedupe" in ds["tasks"]:
            out += [f"### {TASK_TITLES['dedupe']}", ""]
            out += _table(
                [
                    "method",
                    "pair P",
                    "pair R",
                    "pair F1",
                    "B³ P",
                    "B³ R",
                    "B³ F1",
                    "best pair F1 (threshold)",
                    "PR-AUC",
                    "clusters",
                ],
                _dedupe_rows(ds),
            )
        blocking = _blocking_rows(ds)
        if blocking:
            out += ["### Blocking", ""]
            out += _table(
                ["method", "task", "candidate pairs", "pair completeness", "reduction ratio"],
                blocking,
            )
        per_culture: list[str] = []
        if "link" in ds["tasks"]:
            per_culture += _culture_table(
                ds,
                "link",
                lambda f: f["recall_at"]["1"],
                "Linkage recall@1",
                "n_requests_with_true_case",
            )
            per_culture += _culture_table(
                ds,
                "link",
                lambda f: f["at_decision"]["f1"],
                "Linkage F1 at decision",
                "n_true_pairs",
            )
        if "dedupe" in ds["tasks"]:
            per_culture += _culture_table(
                ds, "dedupe", lambda f: f["bcubed"]["f1"], "Duplicates B³ F1", "n_records"
            )
            per_culture += _culture_table(
                ds,
                "dedupe",
                lambda f: f["pairwise"]["f1"],
                "Duplicates pairwise F1",
                "n_true_pairs",
            )
        if per_culture:
            out += ["### Per naming culture", "", *per_culture]
        resources = []
        for method in ds["methods"]:
            for stage, cost in (method.get("resources") or {}).items():
                resources.append(
                    [
                        method["label"],
                        stage,
                        _f(cost["seconds"], 2),
                        _f(cost["peak_rss_mib"], 0),
                        _f(cost["start_rss_mib"], 0),
                    ]
                )
        if resources:
            out += ["### Time and peak memory", ""]
            out += [
                "Peak RSS is the whole process's peak during the stage (it includes what",
                "earlier stages left allocated; compare with the RSS at the stage's start).",
                "",
            ]
            out += _table(
                ["method", "stage", "seconds", "peak RSS (MiB)", "RSS at start (MiB)"], resources
            )
        for name in figures.get(ds["name"], []):
            out += [f"![{name}]({name})", ""]
    return "\n".join(out).rstrip() + "\n"


# -- plots ------------------------------------------------------------------------------


def plot_pr_curves(ds: dict[str, Any], task: str, path: Path) -> bool:
    """One precision-recall curve per method for one data set and task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [(mm["label"], mm[task]["curve"]) for mm in ds["methods"] if mm.get(task)]
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(6, 4.5))
    drawn = 0
    for label, curve in series:
        if curve["recall"]:
            drawn += 1
            # a method with one or two distinct scores (exact match) is a point, not a line
            marker = "o" if len(curve["recall"]) < 3 else None
            ax.plot(curve["recall"], curve["precision"], marker=marker, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall (of all true pairs)")
    ax.set_ylabel("precision")
    ax.set_title(f"{ds['name']}: {TASK_TITLES[task]}")
    if drawn:
        ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_histograms(ds: dict[str, Any], task: str, path: Path) -> bool:
    """Per method: distribution of match weight (or score) for true pairs vs other pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [
        mm
        for mm in ds["methods"]
        if mm.get(task)
        and mm[task]["histogram"]["edges"]
        and not mm[task]["histogram"].get("constant")
    ]
    if not methods:
        return False
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.6), squeeze=False)
    for ax, mm in zip(axes[0], methods, strict=True):
        hist = mm[task]["histogram"]
        edges = hist["edges"]
        widths = [b - a for a, b in itertools.pairwise(edges)]
        ax.bar(
            edges[:-1],
            hist["non_match"],
            width=widths,
            align="edge",
            alpha=0.6,
            label="not the same child",
        )
        ax.bar(edges[:-1], hist["match"], width=widths, align="edge", alpha=0.6, label="same child")
        ax.set_yscale("symlog")
        ax.set_title(mm["label"])
        ax.set_xlabel(hist["axis"])
    axes[0][0].set_ylabel("pairs")
    axes[0][0].legend(loc="upper left", fontsize="small")
    fig.suptitle(f"{ds['name']}: {TASK_TITLES[task]}, scored pairs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_report(report: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.json`` and the PNG plots; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    figures: dict[str, list[str]] = {}
    for ds in report["datasets"]:
        for task in ds["tasks"]:
            for kind, plot in (("pr", plot_pr_curves), ("weights", plot_histograms)):
                name = f"{_slug(ds['name'])}-{task}-{kind}.png"
                if plot(ds, task, out / name):
                    figures.setdefault(ds["name"], []).append(name)
                    paths[name] = out / name
    paths["json"] = out / "report.json"
    paths["json"].write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(render_markdown(report, figures), "utf-8")
    return paths


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a ``report.json`` back (for notebooks and comparisons across runs)."""
    return json.loads(Path(path).read_text("utf-8"))
