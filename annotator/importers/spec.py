"""What to read from a file: the one typed, validated-on-construction import configuration."""

from __future__ import annotations

from dataclasses import dataclass

from annotator.core.errors import ValidationError
from annotator.importers.bounds import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_COLUMNS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_MAX_ROWS,
    MAX_DEPTH_CEILING,
    ReadLimits,
)

#: The columns of every chunk ``read_chunks`` yields, in this order.
CHUNK_COLUMNS: tuple[str, ...] = ("row", "external_id", "text", "labels", "metadata", "split", "score")


@dataclass(frozen=True)
class ImportSpec:
    """Which columns of a file hold what, and the limits an import enforces.

    Attributes:
        text_column: the column with the text to label (required; stripped of surrounding whitespace).
        id_column: the column with the user's own ids (``external_id``); None = no ids.
        label_column: the column with existing labels; None = an unlabelled file.
        metadata_columns: columns copied into each item's ``metadata`` dict. None = every column
            that is not the text, id, label or split column; ``[]`` = no metadata.
        label_separator: separator of multi-label cells (``"a,b"``); ``""`` = never split.
            A cell holding a JSON list (``'["a","b"]'``) is always read as that list.
        encoding: the file's text encoding; None = UTF-8 (a BOM is dropped). A file that is not
            UTF-8 fails with the encoding charset_normalizer detects.
        chunk_rows: rows per yielded chunk (memory is bounded by this, not by the file size).
        max_text_chars: the longest text accepted, in characters.
        split_column: a column naming each row's split ("train", "test" …); None = no such column.
        split: which split of a ``DatasetDict`` folder or hub dataset to read; None = "train" (or
            the only split). Ignored for plain files.
        score_column: a column with each label's confidence in [0, 1] (a model's score, for labels
            imported as suggestions); None = no score.
        max_columns: the most columns a file may have (a hostile header fails fast).
        max_bytes: the most bytes read from one file, counted after decompression (a gzip bomb
            stops there; a compressed file is measured before its rows are read).
        max_line_bytes: the longest line of a CSV, TSV or JSONL file, in bytes (a file with no
            line breaks stops there rather than filling memory).
        max_rows: the most data rows one file may have (the first row past it is named).
        max_depth: the deepest nesting of a JSON / JSONL record ({"m": [1]} is 2 levels), at
            most ``MAX_DEPTH_CEILING``.

    The settings ``import_max_columns``, ``import_max_bytes``, ``import_max_line_bytes``,
    ``import_max_rows`` and ``import_max_depth`` give the last five (see ``from_settings``).
    """

    text_column: str
    id_column: str | None = None
    label_column: str | None = None
    metadata_columns: list[str] | None = None
    label_separator: str = ","
    encoding: str | None = None
    chunk_rows: int = 20_000
    max_text_chars: int = 1_000_000
    split_column: str | None = None
    split: str | None = None
    score_column: str | None = None
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_bytes: int = DEFAULT_MAX_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        if not isinstance(self.text_column, str) or not self.text_column:
            raise ValidationError("The text column is not set.", expected="the name of the column with the texts",
                                  got=repr(self.text_column), fix="pass --text-column NAME (or pick it in the form)")
        if isinstance(self.metadata_columns, str):
            # A plain string would be iterated letter by letter: a classic slip when wiring a CLI flag.
            raise ValidationError("metadata_columns must be a list of column names.",
                                  expected='a list such as ["product", "channel"]', got=repr(self.metadata_columns),
                                  fix="split the names on commas before building the ImportSpec")
        if not isinstance(self.chunk_rows, int) or self.chunk_rows < 1:
            raise ValidationError("chunk_rows must be a positive whole number.", got=repr(self.chunk_rows),
                                  fix="use the default 20000, or any value >= 1")
        if not isinstance(self.max_text_chars, int) or self.max_text_chars < 1:
            raise ValidationError("max_text_chars must be a positive whole number.", got=repr(self.max_text_chars),
                                  fix="use the default 1000000, or any value >= 1")
        for field_name in ("max_columns", "max_bytes", "max_line_bytes", "max_rows", "max_depth"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValidationError(f"{field_name} must be a positive whole number.", got=repr(value),
                                      fix=f"set ANNOTATOR_IMPORT_{field_name.upper()} to a value >= 1, or leave it "
                                      "out for the default")
        if self.max_depth > MAX_DEPTH_CEILING:
            raise ValidationError(f"max_depth may be at most {MAX_DEPTH_CEILING}.", got=repr(self.max_depth),
                                  fix="Python's JSON reader stops near 1,000 levels; use a value up to "
                                  f"{MAX_DEPTH_CEILING}")
        if not isinstance(self.label_separator, str):
            raise ValidationError("label_separator must be a string.", got=repr(self.label_separator),
                                  fix='use "," (the default), "|", ";", or "" to never split label cells')

    @property
    def limits(self) -> ReadLimits:
        """The byte, line, column and depth limits the readers enforce."""
        return ReadLimits(max_bytes=self.max_bytes, max_line_bytes=self.max_line_bytes,
                          max_columns=self.max_columns, max_depth=self.max_depth)

    @staticmethod
    def limits_from(settings: object) -> dict[str, int]:
        """The limit fields from a ``Settings`` (its ``import_max_*`` values), as keyword arguments
        for ``ImportSpec(...)``: ``ImportSpec(text_column="text", **ImportSpec.limits_from(settings))``."""
        return {name: getattr(settings, f"import_{name}")
                for name in ("max_columns", "max_bytes", "max_line_bytes", "max_rows", "max_depth")}

    @property
    def role_columns(self) -> dict[str, str]:
        """{role: column} for the columns given a job, e.g. {"text": "review", "label": "stars"}."""
        roles = {"text": self.text_column, "id": self.id_column, "label": self.label_column,
                 "split": self.split_column, "score": self.score_column}
        return {role: col for role, col in roles.items() if col}
