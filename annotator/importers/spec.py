"""What to read from a file: the one typed, validated-on-construction import configuration."""

from __future__ import annotations

from dataclasses import dataclass

from annotator.core.errors import ValidationError

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
    max_columns: int = 2_000

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
        if not isinstance(self.label_separator, str):
            raise ValidationError("label_separator must be a string.", got=repr(self.label_separator),
                                  fix='use "," (the default), "|", ";", or "" to never split label cells')

    @property
    def role_columns(self) -> dict[str, str]:
        """{role: column} for the columns given a job, e.g. {"text": "review", "label": "stars"}."""
        roles = {"text": self.text_column, "id": self.id_column, "label": self.label_column,
                 "split": self.split_column, "score": self.score_column}
        return {role: col for role, col in roles.items() if col}
