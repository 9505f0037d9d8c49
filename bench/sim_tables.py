"""Render the markdown tables of docs/benchmarks.md from simulate reports.

    python bench/sim_tables.py docs/sim/*.json

Each report is the JSON that ``python -m annotator simulate … --report FILE`` writes. Reports run
with ``--ai none`` and ``--compare`` give the active-learning table (classifier accuracy at 50 …
800 human labels, mean ± std over seeds); reports run with ``--ai`` give the routing table
(human and auto labels, coverage, final label accuracy, true and audited precision of the
auto-accepted labels, and in how many runs the audit interval contains the true precision).
Reports run with ``--compare-finetune`` also give the fine-tuning table: both arms side by side
(mean ± std over seeds) and every fine-tuning job (labels, held-out accuracy vs its baseline,
McNemar p, promoted, accuracy on the gold test slice).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CHECKPOINTS = ("50", "100", "200", "400", "800")


def _cell(point: dict[str, float] | None) -> str:
    return "—" if not point else f"{point['mean']:.3f} ± {point['std']:.3f}"


def active_learning_table(reports: dict[str, dict[str, Any]]) -> str:
    lines = ["| data set | pool | strategy | " + " | ".join(f"@{n}" for n in CHECKPOINTS) + " |",
             "| --- | ---: | --- | " + " | ".join("---:" for _ in CHECKPOINTS) + " |"]
    for name, rep in reports.items():
        for strategy, row in rep.get("comparison", {}).items():
            cells = " | ".join(_cell(row["accuracy_at"].get(n)) for n in CHECKPOINTS)
            lines.append(f"| {name} | {rep['pool_size']:,} | {strategy} | {cells} |")
    needed = [f"- {name}: {rep['labels_needed'][b]['sentence']} (reached in "
              f"{rep['labels_needed'][b][rep['strategy']]['reached']} vs {rep['labels_needed'][b][b]['reached']} seeds)"
              for name, rep in reports.items() for b in rep.get("labels_needed", {})]
    return "\n".join(lines + [""] + needed)


def _ci_contains(run: dict[str, Any]) -> bool | None:
    est, truth = run["auto_label_precision_estimate"], run["auto_label_precision"]
    if truth is None or est.get("ci_low") is None:
        return None
    return est["ci_low"] <= truth <= est["ci_high"]


def _full(rep: dict[str, Any]) -> str:
    full = rep.get("human_labels_to_full_coverage")
    if not full:
        return "not reached"
    reached = f", {full['reached']} seeds" if "reached" in full else ""
    share = full["human_labels"] / rep["pool_size"]
    return (f"{full['human_labels']:.0f} ({share:.0%} of the pool; label acc. {full['label_accuracy']:.3f}, "
            f"{full['auto_labels']:.0f} auto{reached})")


def routing_table(reports: dict[str, dict[str, Any]]) -> str:
    lines = ["| data set | pool | AI | seeds | human labels | auto labels | coverage | final label acc. | "
             "auto precision (true) | audits | audit CI contains truth | human labels to label the whole pool |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, rep in reports.items():
        runs = [r for r in rep.get("runs", [rep]) if r.get("arm") != "without_finetune"]
        contains = [c for c in (_ci_contains(r) for r in runs) if c is not None]
        audits = sum(r["auto_label_precision_estimate"].get("audits") or 0 for r in runs) / max(1, len(runs))
        prec = "—" if rep["auto_label_precision"] is None else \
            f"{rep['auto_label_precision']:.3f} ± {rep.get('auto_label_precision_std', 0):.3f}"
        lines.append(
            f"| {name} | {rep['pool_size']:,} | {rep['ai']} | {len(runs)} | {rep['human_labels']:.0f} | "
            f"{rep['auto_labels']:.0f} | {rep['coverage']:.3f} | {rep['final_label_accuracy']:.3f} | {prec} | "
            f"{audits:.0f} | {sum(contains)}/{len(contains)} | {_full(rep)} |")
    return "\n".join(lines)


def _pm(row: dict[str, Any], key: str, fmt: str = ".3f") -> str:
    value = row.get(key)
    return "—" if value is None else f"{value:{fmt}} ± {row.get(key + '_std', 0):{fmt}}"


FINETUNE_COLUMNS = (("final_label_accuracy", "final label acc.", ".3f"), ("human_labels", "human labels", ".0f"),
                    ("auto_labels", "auto labels", ".1f"), ("coverage", "coverage", ".3f"),
                    ("auto_label_precision", "auto precision (true)", ".3f"),
                    ("judge_auroc", "judge AUROC", ".3f"), ("confidence_auroc", "fused-confidence AUROC", ".3f"),
                    ("best_confidence_auroc", "best raw-confidence AUROC", ".3f"),
                    ("classifier_accuracy", "probe test acc.", ".3f"),
                    ("final_model_accuracy", "ranking model test acc.", ".3f"),
                    ("finetune_trained", "versions trained", ".1f"), ("finetune_promoted", "promoted", ".1f"),
                    ("seconds", "seconds", ".0f"))


def finetune_table(reports: dict[str, dict[str, Any]]) -> str:
    cols = list(FINETUNE_COLUMNS)
    lines = ["| data set | arm | seeds | " + " | ".join(title for _, title, _ in cols) + " |",
             "| --- | --- | ---: | " + " | ".join("---:" for _ in cols) + " |"]
    jobs = ["| data set | seed | human labels | trained on | held-out n | held-out acc. | baseline acc. | "
            "McNemar p | promoted | test acc. | seconds |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for name, rep in reports.items():
        for arm, row in rep["finetune_comparison"]["arms"].items():
            cells = " | ".join(_pm(row, key, fmt) for key, _, fmt in cols)
            lines.append(f"| {name} | {arm} | {row['runs']} | {cells} |")
        for run in rep["runs"]:
            for j in (run.get("finetune") or {}).get("jobs", []):
                jobs.append(f"| {name} | {run['seed']} | {j['human_labels']} | {j.get('train_n')} | {j.get('heldout_n')} | "
                            f"{j.get('heldout_accuracy')} | {j.get('baseline_accuracy')} | {j.get('p_value')} | "
                            f"{'yes' if j.get('promoted') else 'no'} | {j.get('test_accuracy')} | {j['seconds']:.0f} |")
    return "\n".join(lines + [""] + jobs)


def main(paths: list[str]) -> None:
    reports = {Path(p).stem: json.loads(Path(p).read_text(encoding="utf-8")) for p in paths}
    plain = {k: v for k, v in reports.items() if v.get("ai", "none") == "none"}
    routed = {k: v for k, v in reports.items() if v.get("ai", "none") != "none"}
    if plain:
        print("### Active learning (`--ai none`)\n\n" + active_learning_table(plain) + "\n")
    if routed:
        print("### AI annotators and the router\n\n" + routing_table(routed) + "\n")
    tuned = {k: v for k, v in reports.items() if v.get("finetune_comparison")}
    if tuned:
        print("### With and without fine-tuning (`--compare-finetune`)\n\n" + finetune_table(tuned) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
