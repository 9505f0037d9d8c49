"""Pre-labelled span files: JSONL (or a JSON list) of records in the shapes other tools write.

Accepted records, one per line:

- ours / Prodigy / Argilla: ``{"text": …, "spans": [{"start", "end", "label"}, …]}`` (Prodigy's
  ``"answer": "reject" | "ignore"`` makes the record an unlabelled item, not an answer);
- spaCy's training data: ``{"text": …, "entities": [[start, end, label], …]}`` or the tuple
  ``[text, {"entities": [[start, end, label], …]}]``;
- doccano: ``{"text": …, "label": [[start, end, label], …]}`` or
  ``{"text": …, "entities": [{"start_offset", "end_offset", "label"}, …]}``.

The text is kept exactly as written, except surrounding whitespace, which is taken off with the
offsets moved to match (the other importers strip it too, and a span may not start in it). A
text with control characters or lone surrogates is refused rather than cleaned: cleaning would
move every later offset. Nothing here touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.errors import InputFileError, ValidationError
from annotator.importers.bounds import ReadLimits, check_size, line_too_long
from annotator.importers.sanitize import clean_str
from annotator.spans.formats import SPAN_KEYS, record_spans
from annotator.spans.model import Span

#: Prodigy's answers that mean "these spans are not an answer".
NOT_AN_ANSWER = ("reject", "ignore")


@dataclass
class SpanRecord:
    """One record read from a span file.

    Attributes:
        row: the line number (1-based; the position for a JSON list).
        text: the item text (surrounding whitespace taken off).
        spans: the record's spans with offsets into ``text``; None when the record holds no span
            answer (no span key, or a rejected Prodigy answer). ``[]`` is an answer: nothing here.
        external_id: the record's id, if any.
        metadata: the record's ``meta`` / ``metadata`` object.
        score: a suggestion's confidence in [0, 1], if given.
    """

    row: int
    text: str
    spans: list[Span] | None
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float | None = None


def _has_span_key(record: Mapping[str, Any]) -> bool:
    return any(record.get(k) is not None and (k != "label" or isinstance(record.get(k), list)) for k in SPAN_KEYS)


def _load(path: Path, encoding: str) -> list[tuple[int, Any]]:
    """(row, parsed JSON value) per non-empty line, or per element of a top-level JSON list."""
    try:
        raw = path.read_text(encoding=encoding)
    except FileNotFoundError as e:
        raise InputFileError(f"No file {path}.", fix="check the path") from e
    except UnicodeDecodeError as e:
        raise InputFileError(f"{path.name} is not valid {encoding} text.", got=str(e)[:120],
                             fix="pass --encoding with the file's encoding") from e
    except OSError as e:
        raise InputFileError(f"{path} cannot be read.", got=str(e)[:120], fix="check the path and permissions") from e
    stripped = raw.lstrip("\ufeff \t\r\n")
    try:
        if stripped.startswith("[") and not stripped.startswith("[\""):  # one JSON list of records
            value = json.loads(stripped)
            if isinstance(value, list) and all(isinstance(v, (dict, list)) for v in value):
                return [(k + 1, v) for k, v in enumerate(value)]
    except (json.JSONDecodeError, RecursionError):
        pass  # read it as JSONL instead, which names the bad line
    out = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except (json.JSONDecodeError, RecursionError) as e:
            raise InputFileError(f"Line {n} of {path.name} is not JSON.", expected="one JSON record per line",
                                 got=line[:80], fix="fix or remove that line") from e
    return out


def _as_record(row: int, value: Any) -> dict[str, Any]:
    """A record dict from a JSON value: spaCy's ``[text, {"entities": …}]`` tuple becomes one."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], Mapping):
        return {"text": value[0], **value[1]}
    if not isinstance(value, Mapping):
        raise ValidationError(f"Row {row} is not a record.", expected='{"text": …, "spans": [...]} per line',
                              got=repr(value)[:80], fix="write one JSON object per line")
    return dict(value)


def span_record(row: int, value: Any, *, text_key: str = "text", id_key: str | None = "id",
                max_text_chars: int = 1_000_000) -> SpanRecord:
    """One ``SpanRecord`` from a parsed line (offsets moved to the stripped text).

    Raises:
        ValidationError: no text, a text with characters an import would have to remove, or spans
            that are not a list of spans; each naming the row and the fix.
    """
    record = _as_record(row, value)
    text = record.get(text_key)
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"Row {row} has no text under {text_key!r}.", expected="a non-empty string",
                              got=repr(text)[:80], fix="add the text, or pass --text-column with its key")
    if len(text) > max_text_chars:
        raise ValidationError(f"Row {row}: the text has {len(text):,} characters.",
                              expected=f"at most {max_text_chars:,}", fix="split the text, or raise max_text_chars")
    if clean_str(text)[0] != text:
        raise ValidationError(f"Row {row}: the text holds NUL / control characters or lone surrogates.",
                              expected="plain text (removing them would move every span offset after them)",
                              fix="remove those characters and recompute the offsets")
    spans = None
    if _has_span_key(record) and str(record.get("answer", "accept")).lower() not in NOT_AN_ANSWER:
        lead = len(text) - len(text.lstrip())
        spans = [Span(s.start - lead, s.end - lead, s.label) for s in record_spans(record, row=row)]
    ext = record.get(id_key) if id_key else None
    meta = record.get("meta", record.get("metadata")) or {}
    score = record.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1):
        raise ValidationError(f"Row {row}: the score must be a number between 0 and 1.", got=repr(score)[:40],
                              fix="give the model's confidence in [0, 1], or leave the score out")
    return SpanRecord(row=row, text=text.strip(), spans=spans, external_id=None if ext is None else str(ext),
                      metadata=dict(meta) if isinstance(meta, Mapping) else {"meta": meta},
                      score=None if score is None else float(score))


def read_span_records(source: str | Path, *, text_key: str = "text", id_key: str | None = "id",
                      encoding: str | None = None, max_text_chars: int = 1_000_000,
                      limits: ReadLimits | None = None, max_rows: int | None = None) -> list[SpanRecord]:
    """Every record of a span file, in file order (see the module docstring for the shapes).

    ``limits`` (bytes of the file, longest line) are checked before the file is read, as for
    every import (``bounds.check_size``); ``max_rows`` caps the records.

    Raises:
        InputFileError: the file is missing, unreadable, over a limit, or a line is not JSON.
        ValidationError: a record is malformed (naming its row), or more than ``max_rows`` records.
    """
    path = Path(source)
    if limits is not None and path.is_file():
        check_size(path, limits)
        if limits.max_line_bytes is not None:
            _check_lines(path, limits.max_line_bytes)
    loaded = _load(path, encoding or "utf-8")
    if max_rows is not None and len(loaded) > max_rows:
        raise ValidationError(f"{path.name} holds {len(loaded):,} records.", expected=f"at most {max_rows:,} "
                              "(import_max_rows)", fix="split the file, or raise ANNOTATOR_IMPORT_MAX_ROWS")
    return [span_record(row, value, text_key=text_key, id_key=id_key, max_text_chars=max_text_chars)
            for row, value in loaded]


def _check_lines(path: Path, max_line_bytes: int) -> None:
    """Refuse a plain file with a line longer than ``max_line_bytes`` before it is read whole."""
    with path.open("rb") as f:
        for n, line in enumerate(iter(lambda: f.readline(max_line_bytes + 1), b""), start=1):
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                raise line_too_long(path.name, n, max_line_bytes)
