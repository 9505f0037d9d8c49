"""The dataset card (README.md) written beside every export: counts, sources, measured quality."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CardStats:
    """Counts accumulated while rows stream past the writer."""

    project_name: str
    labels: list[str]
    multi_label: bool
    fmt: str
    n_rows: int = 0
    n_labelled: int = 0
    by_label: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)
    by_annotator: Counter = field(default_factory=Counter)
    by_route: Counter = field(default_factory=Counter)
    by_settled: Counter = field(default_factory=Counter)  # how each label was settled (store.labels)
    n_verified: int = 0

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.n_rows += 1
            if row.get("label") is None:
                continue
            self.n_labelled += 1
            self.by_label.update(row["label"])
            self.by_source[row.get("label_source") or "unknown"] += 1
            self.by_annotator[row.get("annotator") or "unknown"] += 1
            self.by_route[row.get("route") or "unknown"] += 1
            self.by_settled[row.get("settled_by") or "unknown"] += 1
            self.n_verified += bool(row.get("verified"))


_BREAKS = re.compile(r"[\r\n\t\x00-\x1f]+")


def md_text(value: Any) -> str:
    """``value`` as inert Markdown text: HTML escaped, table pipes, links and code backslashed,
    on one line (a label or user name can hold anything; the card must show it, not run it)."""
    text = html.escape(_BREAKS.sub(" ", str(value)), quote=True)
    return re.sub(r"([\\`\[\]|])", r"\\\1", text)


def _table(header: tuple[str, str], counts: Counter, total: int) -> str:
    lines = [f"| {header[0]} | {header[1]} | share |", "| --- | ---: | ---: |"]
    for key, n in counts.most_common():
        key = md_text(key)
        lines.append(f"| {key} | {n} | {n / total:.1%} |" if total else f"| {key} | {n} | – |")
    return "\n".join(lines)


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "–" if x is None else format(x, fmt)


def _agreement_section(agreement: dict[str, Any] | None) -> str:
    """The card's "Agreement" section from ``AnnotatorService.quality.agreement``'s dict ("" without one)."""
    if not agreement:
        return ""
    raters = agreement["raters"]
    macro = " (macro mean of the per-label yes/no figures)" if agreement.get("macro_over_labels") else ""
    accuracy = {row["rater"]: row for row in agreement.get("accuracy", [])}
    lines = [
        "## Agreement", "",
        f"Measured on **{agreement['overlap_items']} items** answered by two or more of the {len(raters)} raters "
        f"({', '.join(raters)}); Cohen's kappa on the items each pair shares.", "",
        "| measure | value |", "| --- | ---: |",
        f"| Krippendorff's alpha (nominal){macro} | {_num(agreement['krippendorff_alpha'])} |",
        f"| Fleiss' kappa{macro} | {_num(agreement['fleiss_kappa'])} |",
        f"| Mean pairwise Cohen's kappa{macro} | {_num(agreement['mean_pairwise_kappa'])} |",
        "", "Per label (this label or not, on the overlapping items):", "",
        "| label | ratings | Krippendorff's alpha | Fleiss' kappa |", "| --- | ---: | ---: | ---: |",
        *(f"| {md_text(row['label'])} | {row['ratings']} | {_num(row['krippendorff_alpha'])} | {_num(row['fleiss_kappa'])} |"
          for row in agreement["per_label"]),
        "", "Per rater:", "",
        "| rater | items | overlapping items | agreement with the others | mean kappa | accuracy on settled items |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in agreement["per_rater"]:
        acc = accuracy.get(row["rater"], {})
        settled = f"{_num(acc.get('accuracy'), '.1%')} ({acc.get('settled_items', 0)})" if acc else "–"
        lines.append(f"| {md_text(row['rater'])} | {row['items']} | {row['overlap_items']} | {_num(row['agreement'], '.1%')} "
                     f"| {_num(row['mean_kappa'])} | {settled} |")
    by = agreement.get("settled_by") or {}
    lines += ["", f"Settled items: {agreement.get('settled_items', 0)} (by a reviewer: {by.get('reviewer', 0)}, "
              f"by a strict majority of at least three raters: {by.get('majority', 0)}). Undefined values (a label "
              "nobody or everybody chose) are shown as –.", "", ""]
    return "\n".join(lines)


def render_card(stats: CardStats, quality: dict[str, Any], agreement: dict[str, Any] | None = None) -> str:
    """Markdown with a YAML header the Hugging Face hub understands.

    Args:
        quality: measured quality statements, one bullet each (audit precision, estimated dataset
            accuracy), shown as inert text.
        agreement: the people's agreement (``AnnotatorService.quality.agreement``); adds an "Agreement" section.
    """
    task = "multi-label" if stats.multi_label else "single-label"
    label_counts = Counter({label: stats.by_label.get(label, 0) for label in stats.labels})
    label_counts.update({k: v for k, v in stats.by_label.items() if k not in label_counts})
    people = sum(n for source, n in stats.by_source.items() if source in ("human", "bulk"))
    imported = stats.by_source.get("import", 0)
    agents = sum(n for source, n in stats.by_source.items() if source == "agent")
    quality_lines = [f"- {md_text(key)}: {md_text(value)}" for key, value in quality.items()] or ([
        "- No blind audit of AI labels exists for this export yet; no AI label was auto-accepted without one. "
        "The agreement between raters is measured below.",
    ] if agreement else [
        "- No audit or agreement measurement exists for this export yet: labels given by people are taken as "
        "they are, and no AI label was auto-accepted without one.",
    ])
    return f"""---
task_categories:
- text-classification
pretty_name: {json.dumps(html.escape(stats.project_name))}
tags:
- annotator
- provenance
---

# {md_text(stats.project_name)}

Exported by **annotator** ({task} text classification, format `{stats.fmt}`).

## Counts

- Items: {stats.n_rows}
- Labelled: {stats.n_labelled} ({(stats.n_labelled / stats.n_rows if stats.n_rows else 0):.1%})
- Labelled by people in the app: {people} (verified by a person: {stats.n_verified})
- Imported with the source file: {imported}
- Labelled by AI agents without a person: {agents}

## Label distribution

{_table(("label", "items"), label_counts, stats.n_labelled)}

## Who labelled

{_table(("annotator or agent", "items"), stats.by_annotator, stats.n_labelled)}

## Routes

{_table(("route", "items"), stats.by_route, stats.n_labelled)}

## How each label was settled

{_table(("settled by", "items"), stats.by_settled, stats.n_labelled)}

`reviewer`: a reviewer's decision; `single`: one person's answer; `majority`: a strict majority of the
people who answered; `newest`: people disagreed without a majority, the newest answer stands until a
reviewer decides; `import`: the source file's label; `auto`: an AI label the router accepted.

## Label quality

{chr(10).join(quality_lines)}

{_agreement_section(agreement)}## Columns

`item_id`, `external_id`, `text`, `metadata` (JSON), `split`, `label`, and provenance: `label_source`
(human | bulk | import | agent), `annotator` (person or `agent@version`), `route` (manual | verify |
blind | audit | auto | import), `confidence` (AI labels), `status`, `verified`, `query_strategy` and
`query_score` (why the item was shown), `comment`, `flagged`, `seconds_spent`, `labelled_at`, `created_at`,
`settled_by` (reviewer | majority | single | newest | import | auto) and `answers` (answers the item has: each person once, an imported label as one).
"""
