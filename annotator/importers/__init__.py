"""Read the user's labelled or unlabelled files into a stream of validated, normalised chunks.

No database here: the service stores the chunks inside one transaction, so a bad row anywhere in
the file changes nothing. Typical use::

    spec = ImportSpec(text_column="text", id_column="id", label_column="label")
    for chunk in read_chunks("reviews.csv", spec):   # DataFrames with CHUNK_COLUMNS
        check_labels(chunk["labels"], project_labels)
        ...

Modules, one job each: ``spec`` (ImportSpec), ``formats`` (detection + file readers), ``hf``
(datasets folders and hub ids), ``encoding`` (decoding errors that name the right encoding),
``values`` (cell conversion), ``validate`` (columns, texts, ids, labels), ``normalize`` (raw
batch → chunk), ``reader`` (the entry points).
"""

from __future__ import annotations

from annotator.importers.formats import FORMATS, detect_format
from annotator.importers.reader import preview, read_chunks
from annotator.importers.spec import CHUNK_COLUMNS, ImportSpec
from annotator.importers.validate import check_labels
from annotator.importers.values import json_safe, parse_labels

__all__ = [
    "CHUNK_COLUMNS", "FORMATS", "ImportSpec", "check_labels", "detect_format", "json_safe", "parse_labels",
    "preview", "read_chunks",
]
