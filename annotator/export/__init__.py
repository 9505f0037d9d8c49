"""Export labelled items with provenance: HF datasets, parquet, JSONL, CSV, plus a dataset card."""

from annotator.export.card import CardStats, render_card
from annotator.export.writers import FORMATS, ExportResult, write_export

__all__ = ["FORMATS", "CardStats", "ExportResult", "render_card", "write_export"]
