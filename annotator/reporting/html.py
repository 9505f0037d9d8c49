"""The dashboard as HTML: the headline figures, the job list and the suspect labels as small
tables (shared with the app's Dashboard tab), and one self-contained report page with the
plotly.js library embedded (the machine may be offline: no CDN)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from annotator.reporting.data import Dashboard
from annotator.reporting.figures import FIGURE_TITLES, dashboard_figures
from annotator.routing.accuracy_text import estimate_sentence

CARD = "border:1px solid #e2e8f0;border-radius:10px;padding:8px 14px;min-width:130px;background:#fff"
JOB_COLUMNS = ("id", "kind", "status", "progress", "message", "created_at", "finished_at")
STYLE = """
body{font-family:Inter,ui-sans-serif,system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#0f172a}
h1{font-size:22px}h2{font-size:16px;margin-top:28px}
.dash-stats{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 12px}
.dash-stat{border:1px solid #e2e8f0;border-radius:10px;padding:8px 14px;min-width:120px}
.dash-stat b{display:block;font-size:20px}.dash-stat span{color:#64748b;font-size:12px}
.dash-advice{background:#eef2ff;border-radius:8px;padding:8px 12px}
table.dash-table{border-collapse:collapse;font-size:13px;width:100%}
table.dash-table td,table.dash-table th{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left}
"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def summary_html(d: Dashboard) -> str:
    """The headline numbers as cards; each carries its raw value in ``data-value`` (tests read it)."""
    est = d.audit_estimate or {}
    interval = "" if est.get("value") is None else f" ({_pct(est.get('ci_low'))}–{_pct(est.get('ci_high'))})"
    suspects = d.suspects or {}
    cards = [
        ("items", d.items, f"{d.items:,}", "items"),
        ("labelled", d.labelled, f"{d.labelled:,}", "items with a person's label"),
        ("answers", d.human_answers, f"{d.human_answers:,}", "answers people gave"),
        ("model-versions", d.model_versions, f"{d.model_versions:,}", "model versions"),
        ("audit-estimate", est.get("value"), _pct(est.get("value")) + interval,
         f"auto-label precision, {est.get('audits', 0)} audits"),
        *_judge_cards(d.judge),
        _fusion_card(fusion_of(d.calibration)),
        _dataset_accuracy_card(d.dataset_accuracy, ran=d.calibration is not None),
        ("suspects", suspects.get("found", 0), f"{suspects.get('found', 0):,} / {suspects.get('changed', 0):,}",
         "suspect labels found / changed by a person"),
    ]
    # Inline styles: the same block is shown in the app, which does not load the report's stylesheet.
    body = "".join(
        f'<div class="dash-stat" data-stat="{key}" data-value="{escape(str(raw))}" style="{CARD}">'
        f'<b style="display:block;font-size:20px">{escape(text)}</b>'
        f'<span style="color:#64748b;font-size:12px">{escape(label)}</span></div>' for key, raw, text, label in cards)
    advice = escape((d.stability or {}).get("advice", ""))
    return (f'<div class="dash-stats" id="dash-stats" style="display:flex;flex-wrap:wrap;gap:10px;margin:4px 0 10px">'
            f'{body}</div><p class="dash-advice" id="dash-advice" style="background:#eef2ff;border-radius:8px;'
            f'padding:8px 12px;margin:0"><b>Stopping signal:</b> {advice}</p>')


def _judge_cards(judge: dict[str, Any] | None) -> list[tuple[str, Any, str, str]]:
    """The judge's AUROC and, next to it, the best single raw confidence's (last AI run)."""
    judge = judge or {}
    auroc = judge.get("auroc")
    best = judge.get("best_confidence_auroc", judge.get("confidence_auroc"))
    name = judge.get("best_confidence") or "fused"
    n = judge.get("n_train", 0)
    note = f"{n} verdicts" if auroc is not None else (
        f"needs more verdicts ({n} so far)" if judge else "no AI run yet")
    return [
        ("judge-auroc", auroc, "—" if auroc is None else f"{auroc:.3f}", f"judge AUROC, out of fold ({note})"),
        ("confidence-auroc", best, "—" if best is None else f"{best:.3f}",
         f"best raw confidence AUROC ({name})"),
    ]


#: How each fusion rule (``routing.fusion.FUSIONS``) reads in a sentence.
FUSION_NAMES = {"best": "best single annotator", "mean": "average of the annotators", "stacker": "stacker"}


def fusion_of(calibration: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fusion record of a run's calibration (``calibration["ensemble"]["fusion"]``), or None."""
    return ((calibration or {}).get("ensemble") or {}).get("fusion") or None


def _rule_name(fusion: dict[str, Any], rule: str) -> str:
    name = FUSION_NAMES.get(rule, rule)
    if rule == "best" and fusion.get("best_annotator"):
        name += f" ({fusion['best_annotator']})"
    return name


def _fusion_card(fusion: dict[str, Any] | None) -> tuple[str, Any, str, str]:
    """Which rule makes the fused score and how far ahead it is (last AI run)."""
    if not fusion:
        return "fusion", None, "—", "fused score: no AI run yet"
    losses = fusion.get("oof_log_loss") or {}
    chosen = fusion["choice"]
    note = f"fused score, out-of-fold log loss {losses.get(chosen, float('nan')):.3f}"
    if fusion.get("runner_up") is not None and fusion.get("margin") is not None:
        note += f"; {FUSION_NAMES.get(fusion['runner_up'], fusion['runner_up'])} {fusion['margin']:+.3f}"
    return "fusion", chosen, _rule_name(fusion, chosen), note


def _sentence(est: dict[str, Any] | None) -> str:
    text = estimate_sentence(est)
    return text[:1].upper() + text[1:]


def _dataset_accuracy_card(est: dict[str, Any] | None, *, ran: bool) -> tuple[str, Any, str, str]:
    """The estimated accuracy of the dataset's labels (people's and auto-accepted AI labels) with
    its 95 % interval, from the random human-labelled items (last AI run)."""
    if est is None:
        return "dataset-accuracy", None, "—", "dataset accuracy: " + ("not estimated" if ran else "no AI run yet")
    target = "" if est.get("target") is None else f", target {_pct(est['target'])}"
    interval = f"{_pct(est.get('ci_low'))}–{_pct(est.get('ci_high'))}"
    if est.get("value") is None:
        return ("dataset-accuracy", None, "—", f"dataset accuracy: no random human-labelled item measures the "
                f"{est.get('auto', 0):,} AI labels ({interval}){target}")
    return ("dataset-accuracy", est["value"], f"{_pct(est['value'])} ({interval})",
            f"estimated dataset accuracy, {est.get('measured_on', 0):,} random human-labelled items{target}")


def fusion_html(fusion: dict[str, Any] | None) -> str:
    """The fusion rules tried on the last AI run, each with its out-of-fold log loss (nats per
    human label, lower is better), the chosen one marked; empty before any run."""
    if not fusion:
        return ""
    losses = fusion.get("oof_log_loss") or {}
    chosen = fusion.get("choice")
    rows = []
    for rule, loss in sorted(losses.items(), key=lambda kv: kv[1]):
        name = escape(_rule_name(fusion, rule))
        if rule == chosen:
            rows.append(f'<tr data-rule="{escape(rule)}" data-chosen="1"><td><b>{name}</b> ✓</td>'
                        f"<td>{loss:.4f}</td><td></td></tr>")
        else:
            rows.append(f'<tr data-rule="{escape(rule)}"><td>{name}</td><td>{loss:.4f}</td>'
                        f"<td>{loss - losses.get(chosen, loss):+.4f}</td></tr>")
    return (f'<div class="ann-fusion" data-choice="{escape(str(chosen))}"><p style="margin:4px 0">'
            f"<b>Fused score:</b> {escape(_rule_name(fusion, chosen))}, chosen by out-of-fold log loss on the "
            f"human labels (a more complex rule must win by more than noise, at least {fusion.get('tolerance', 0)}"
            f' nats per label).</p><table class="dash-table"><tr><th>rule</th><th>out-of-fold log loss</th>'
            f"<th>vs chosen</th></tr>{''.join(rows)}</table></div>")


def jobs_html(jobs: list[dict[str, Any]]) -> str:
    if not jobs:
        return '<p class="dash-empty">No jobs yet.</p>'
    head = "".join(f"<th>{c}</th>" for c in JOB_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(j.get(c)))}</td>" for c in JOB_COLUMNS) + "</tr>" for j in jobs)
    return f'<table class="dash-table" id="dash-jobs"><tr>{head}</tr>{rows}</table>'


def suspects_html(suspects: dict[str, Any], limit: int = 50) -> str:
    rows = (suspects or {}).get("suspects") or []
    if not rows:
        at = (suspects or {}).get("at")
        return f'<p class="dash-empty">{"No suspect labels found." if at else "No suspect search run yet."}</p>'
    body = "".join(
        f"<tr><td>{r['item_id']}</td><td>{escape(r['given'])}</td><td>{escape(r['model_label'])}</td>"
        f"<td>{r['p']:.2f}</td><td>{escape(r.get('status', ''))}</td><td>{escape(r.get('reason', ''))}</td></tr>"
        for r in rows[:limit])
    return ('<table class="dash-table" id="dash-suspects"><tr><th>item</th><th>given</th><th>model says</th>'
            f"<th>p</th><th>status</th><th>reason</th></tr>{body}</table>")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def render_report(d: Dashboard) -> str:
    """One HTML page: headline numbers, the six figures, the fused score and the estimated dataset
    accuracy of the last AI run, the suspect labels and the job list."""
    from plotly.offline import get_plotlyjs

    figures = dashboard_figures(d)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>annotator report: {escape(d.project)}</title><style>{STYLE}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>annotator report: {escape(d.project)}</h1><p>Generated {escape(d.generated_at)} UTC.</p>",
        summary_html(d),
    ]
    for key, fig in figures.items():
        parts.append(f"<h2>{escape(FIGURE_TITLES[key])}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{key}"))
    fusion = fusion_html(fusion_of(d.calibration))
    if fusion:
        parts += ["<h2>Fused score</h2>", fusion]
    if d.calibration is not None:  # an AI run: the dataset it left, and how accurate its labels are
        parts += ["<h2>Dataset accuracy</h2>", f'<p id="dataset-accuracy">{escape(_sentence(d.dataset_accuracy))}.</p>']
    parts += ["<h2>Suspect labels</h2>", suspects_html(d.suspects), "<h2>Jobs</h2>", jobs_html(d.jobs),
              "</body></html>"]
    return "\n".join(parts)


def write_report(d: Dashboard, out: str | Path) -> Path:
    """Write ``render_report(d)`` to ``out`` (parent folders created); returns the path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(d), encoding="utf-8")
    return path
