"""Exports: final labels with provenance, written as datasets with a quality card."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from annotator import store
from annotator.core.errors import (
    ValidationError,
)
from annotator.core.schema import (
    TaskType,
)
from annotator.export import ExportResult, write_export
from annotator.export.posttraining import POSTTRAINING_FORMATS
from annotator.export.target import staged_export
from annotator.export.writers import FORMATS, push_dataset
from annotator.routing.accuracy_text import card_sentence
from annotator.service.part import ServicePart, project_settings
from annotator.store import labels as label_q
from annotator.store import projects as project_q
from annotator.store.tasks import iter_task_rows

log = logging.getLogger(__name__)

#: Values of the export's ``label_source`` and ``status`` columns a filter may name.
EXPORT_SOURCES = ("human", "bulk", "import", "agent")
EXPORT_STATUSES = ("submitted", "auto", "unlabelled")


def _choices(option: str, given: Sequence[str] | None, allowed: Sequence[str]) -> set[str] | None:
    """The filter's values as a set (None: no filter), or a ValidationError naming the unknown one."""
    if not given:
        return None
    values = {v.strip() for v in given if v.strip()}
    unknown = sorted(values - set(allowed))
    if unknown:
        raise ValidationError(f"Unknown {option} value {unknown[0]!r}.", expected=", ".join(allowed),
                              fix=f"pass e.g. {option} {allowed[0]}")
    return values


def _moved(result: ExportResult, target: Path) -> ExportResult:
    """``result`` with its paths in ``target``, where the staged folder was renamed to."""
    return replace(result, out_dir=target, data_path=target / result.data_path.name,
                   card_path=target / result.card_path.name)


class ExportsService(ServicePart):
    """Exports (``svc.exports``): the final label of every item (the one settlement rule), written
    as HF datasets / parquet / JSONL / CSV or SFT / DPO / ratings, with a dataset card."""

    def export(
        self, project: str, *, fmt: str, out: str | Path, only: str | None = None,
        sources: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
        push_to_hub: str | None = None, hub_token: str | None = None, overwrite: bool = False,
        csv_raw_formulas: bool = False,
    ) -> ExportResult:
        """Export every item (or a filtered subset) with its final label and provenance.

        The files are written beside ``out`` and renamed into place when complete
        (``export.target``): an interrupted export leaves the previous one intact.

        Args:
            overwrite: replace ``out`` when it holds a previous export (never a folder of other files).
            csv_raw_formulas: CSV: keep cells starting with ``= + - @`` raw instead of prefixing ``'``.
            only: "human" keeps labels a person gave or confirmed; "labelled" keeps any labelled item.
            sources: keep rows whose label_source is in this list (human, bulk, import, agent).
            statuses: keep rows whose status is in this list (submitted, auto, unlabelled).
        """
        if only not in (None, "human", "labelled"):
            raise ValidationError(f"Unknown filter --only {only!r}.", expected="human | labelled")
        with store.transaction(self.engine) as s:
            spans = project_q.get_project(s, project).task_type == TaskType.spans
        if spans:  # jsonl | hf | spacy with character offsets and per-span provenance (svc.spans)
            return self._svc.spans.export(project, fmt=fmt, out=out, only=only, overwrite=overwrite)
        keep_sources = _choices("--source", sources, EXPORT_SOURCES)
        keep_status = _choices("--status", statuses, EXPORT_STATUSES)

        def keep(row: dict[str, Any]) -> bool:
            if only == "human" and not row["verified"]:
                return False
            if only == "labelled" and row["label"] is None:
                return False
            if keep_sources is not None and row["label_source"] not in keep_sources:
                return False
            return keep_status is None or row["status"] in keep_status

        if fmt in POSTTRAINING_FORMATS:  # sft | dpo | ratings
            return self.export_posttraining(project, fmt=fmt, out=out, keep=keep, overwrite=overwrite,
                                            csv_raw_formulas=csv_raw_formulas)
        if fmt not in FORMATS:
            raise ValidationError(f"Unknown export format {fmt!r}.", expected=" | ".join([*FORMATS, *POSTTRAINING_FORMATS]),
                                  fix="pass --format with one of those")
        if push_to_hub and fmt != "hf":  # before writing: the export would land and then the push fail
            raise ValidationError("push_to_hub needs --format hf.", got=f"--format {fmt}",
                                  fix="re-run with --format hf --push-to-hub REPO")
        quality = self._quality_statement(project)
        agreement = self._svc.quality.card_agreement(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            labels = [lab["name"] for lab in proj.labels]
            with staged_export(out, overwrite=overwrite, about={"project": proj.name, "format": fmt},
                               protected=[self.settings.data_dir]) as (stage, target):
                result = write_export(
                    label_q.iter_final_labels(s, proj.id), fmt=fmt, out_dir=stage, project_name=proj.name,
                    labels=labels, multi_label=proj.task_type == TaskType.multi_label, keep=keep, quality=quality,
                    agreement=agreement, push_to_hub=None, hub_token=hub_token, csv_raw_formulas=csv_raw_formulas,
                )
        result = _moved(result, target)
        if push_to_hub:
            push_dataset(result.data_path, fmt, push_to_hub, hub_token)
        return result

    def _quality_statement(self, project: str) -> dict[str, Any]:
        """What is measured about the labels' quality, for the dataset card: the blind audits'
        precision of the auto-accepted labels and the last AI run's estimate of the whole dataset's
        accuracy (``ai.dataset_accuracy``), each where it exists."""
        quality: dict[str, Any] = {}
        estimate = self._svc.ai.audit_estimate(project)
        if estimate.audits:
            quality.update({
                "Precision of auto-accepted AI labels (blind audits)":
                    f"{estimate.value:.1%} (95 % interval {estimate.ci_low:.1%}–{estimate.ci_high:.1%}, "
                    f"{estimate.audits} audited items)",
                "How it is measured": "a random slice of the AI labels that were auto-accepted is labelled by a "
                                      "person with the AI label hidden; the interval is Clopper–Pearson",
            })
        accuracy = card_sentence(self._svc.ai.dataset_accuracy(project))
        if accuracy is not None:
            quality["Estimated accuracy of the labels"] = accuracy
            quality["How the accuracy is estimated"] = (
                "people's labels count as right at the stated rate; the AI labels' precision is measured only on "
                "items people labelled at random (the random calibration slice of the queue), "
                "scored out of fold; the interval is Clopper–Pearson")
        return quality

    def final_labels(self, project: str) -> Iterator[dict[str, Any]]:
        """Every item's final label with provenance (rows of ``store.labels.EXPORT_COLUMNS``)."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            for chunk in label_q.iter_final_labels(s, pid):
                yield from chunk

    def export_posttraining(
        self, project: str, *, fmt: str, out: str | Path, keep: Callable[[dict[str, Any]], bool] | None = None,
        min_rating: float | None = None, overwrite: bool = False, csv_raw_formulas: bool = False,
    ) -> ExportResult:
        """SFT chat JSONL, DPO pairs or a ratings table with provenance and a dataset card
        (``annotator.export.posttraining``); ``export(fmt="sft"|"dpo"|"ratings")`` lands here.
        Written beside ``out`` and renamed in, like ``export``; ``overwrite`` and
        ``csv_raw_formulas`` (the ratings ``data.csv``) mean the same as there."""
        from annotator.export.posttraining import write_posttraining

        quality = self._quality_statement(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            settings = project_settings(proj)
            with staged_export(out, overwrite=overwrite, about={"project": proj.name, "format": fmt},
                               protected=[self.settings.data_dir]) as (stage, target):
                result = write_posttraining(
                    iter_task_rows(s, proj.id), fmt=fmt, out_dir=stage, project_name=proj.name,
                    task_type=proj.task_type, labels=[lab["name"] for lab in proj.labels],
                    scale=(settings.rating_min, settings.rating_max), min_rating=min_rating, keep=keep,
                    quality=quality, csv_raw_formulas=csv_raw_formulas,
                )
        return _moved(result, target)
