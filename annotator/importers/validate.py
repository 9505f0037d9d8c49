"""Validation at the import boundary: columns that exist, texts that are usable, ids that are
unique, labels the project knows. Each failure is one error that says what was expected, what
came, and how to fix it."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence

from annotator.core.errors import InputFileError, UnknownLabelError, ValidationError
from annotator.importers.spec import ImportSpec

_SHOW_ROWS = 5  # rows listed in a row-level error; the count says how many there are
_SHOW_LABELS = 10

#: The flag (CLI) and spec field that set each column role, for the "fix" line.
_ROLE_FLAGS = {"text": "--text-column", "id": "--id-column", "label": "--label-column",
               "split": "--split-column", "metadata": "--metadata-columns",
               "score": "--score-column"}


def closest_column(name: str, columns: Sequence[str]) -> str | None:
    """The column ``name`` most likely meant: same name ignoring case/spaces, else difflib's best."""
    folded = {c.strip().casefold(): c for c in columns}
    if name.strip().casefold() in folded:
        return folded[name.strip().casefold()]
    matches = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    if matches:
        return matches[0]
    # Case differences weigh heavily in difflib's ratio ("Review_Text" vs "review_text").
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[matches[0]] if matches else None


def _list_columns(columns: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f" … ({len(columns)} in all)" if len(columns) > limit else "")


def resolve_columns(columns: Sequence[str], spec: ImportSpec, source: str) -> list[str]:
    """Check every column ``spec`` names exists in ``columns``; return the columns to read.

    Returns:
        The needed columns in file order: the text, id, label and split columns, plus the metadata
        columns (all other columns when ``spec.metadata_columns`` is None).

    Raises:
        InputFileError: naming the missing column, its role, the columns that exist and the
            closest match.
    """
    wanted = [(role, col) for role, col in spec.role_columns.items()]
    wanted += [("metadata", col) for col in (spec.metadata_columns or [])]
    for role, col in wanted:
        if col in columns:
            continue
        guess = closest_column(col, columns)
        hint = f"did you mean {guess!r}? " if guess else ""
        flag = _ROLE_FLAGS[role]
        value = guess if guess else "NAME"
        if role == "metadata":
            fix = f"{hint}fix the name in {flag} (a comma-separated list), or leave it out to keep all other columns"
        else:
            fix = f"{hint}set the {role} column to one that exists ({flag} {value})"
        if len(columns) == 1 and any(sep in columns[0] for sep in (";", "\t", "|")):
            fix += f"; the whole header {columns[0]!r} was read as one column, so check the file's separator"
        raise InputFileError(
            f"Column {col!r} (the {role} column) not found in {source}.",
            expected=f"one of the file's columns: {_list_columns(columns)}", got=repr(col), fix=fix,
        )
    if spec.metadata_columns is not None:
        keep = set(spec.role_columns.values()) | set(spec.metadata_columns)
    else:
        keep = set(columns)
    return [c for c in columns if c in keep]


def no_rows_error(source: str, columns: Sequence[str] | None = None, detail: str | None = None) -> InputFileError:
    """The error for a file with nothing to import (0 bytes, or a header and no data rows)."""
    got = detail or (f"only a header: {_list_columns(columns)}" if columns else "no records")
    return InputFileError(f"{source} has no rows.", expected="at least one data row", got=got,
                          fix="check you picked the right file (or split), and that it was saved completely")


def check_texts(rows: Sequence[int], texts: Sequence[str | None], max_chars: int, source: str) -> None:
    """Reject empty texts and texts longer than ``max_chars``.

    Args:
        rows: (n,) row numbers of the chunk, for the message.
        texts: (n,) stripped texts; "" = empty or missing, None = not a string (a list or dict).

    Raises:
        ValidationError: for the first kind of problem found, naming up to 5 rows and the count
            in this chunk. Empty texts are never skipped silently: the user drops or fills them.
    """
    bad_type = [r for r, t in zip(rows, texts) if t is None]
    if bad_type:
        raise ValidationError(
            f"{_n(len(bad_type), 'row')} of {source} with a list or an object in the text column instead of a text.",
            expected="one string per row", got=_rows(bad_type),
            fix="point the text column at a column of strings, or flatten that field first",
        )
    empty = [r for r, t in zip(rows, texts) if not t]
    if empty:
        raise ValidationError(
            f"{_n(len(empty), 'row')} of {source} with an empty text (rows {rows[0]:,}–{rows[-1]:,} checked so far).",
            expected="a non-empty text on every row", got=f"empty or missing text in {_rows(empty)}",
            fix="drop these rows (or fill in their text) and import again; nothing has been imported",
        )
    long = [(r, len(t)) for r, t in zip(rows, texts) if t is not None and len(t) > max_chars]
    if long:
        detail = "; ".join(f"row {r:,}: {n:,} characters" for r, n in long[:_SHOW_ROWS])
        raise ValidationError(
            f"{_n(len(long), 'text')} in {source} longer than the limit of {max_chars:,} characters.",
            expected=f"texts of at most {max_chars:,} characters", got=detail,
            fix="split long texts into several rows, or raise the limit: max_text_chars in the ImportSpec, "
                "ANNOTATOR_MAX_TEXT_CHARS in the environment (Settings.max_text_chars)",
        )


def _n(count: int, noun: str) -> str:
    """"1 row", "7 rows"."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def _rows(rows: Sequence[int]) -> str:
    """"row 3", or "rows 3, 5, 8, 9, 12 … (40 in all)"."""
    shown = ", ".join(f"{r:,}" for r in rows[:_SHOW_ROWS])
    more = f" … ({len(rows):,} in all)" if len(rows) > _SHOW_ROWS else ""
    return ("row " if len(rows) == 1 else "rows ") + shown + more


class DuplicateIds:
    """Remembers the ids seen so far in one file (a set of strings, nothing else) and rejects repeats."""

    def __init__(self, source: str, column: str) -> None:
        self.source = source
        self.column = column
        self.seen: set[str] = set()

    def check(self, rows: Sequence[int], ids: Sequence[str | None]) -> None:
        """Add this chunk's ids (None = no id, allowed); raise if any was seen before in the file.

        Raises:
            ValidationError: listing up to 5 repeated ids with the rows where they repeat.
        """
        repeats: list[tuple[int, str]] = []
        seen = self.seen
        for row, ext in zip(rows, ids):
            if ext is None:
                continue
            if ext in seen:
                repeats.append((row, ext))
            else:
                seen.add(ext)
        if repeats:
            shown = "; ".join(f"{ext!r} again at row {row:,}" for row, ext in repeats[:_SHOW_ROWS])
            more = f" … ({len(repeats)} repeats in rows {rows[0]:,}–{rows[-1]:,})" if len(repeats) > _SHOW_ROWS else ""
            raise ValidationError(
                f"{_n(len(repeats), 'id')} in the id column {self.column!r} of {self.source} used more than once.",
                expected="a unique id on every row", got=shown + more,
                fix="make the ids unique (or drop the duplicate rows), or import without --id-column",
            )


def check_labels(values: Iterable[list[str] | None], allowed: Sequence[str]) -> None:
    """Raise if any label in ``values`` is not one of ``allowed``.

    Args:
        values: per-row label lists (None = unlabelled), e.g. a chunk's ``labels`` column.
        allowed: the project's label names.

    Raises:
        UnknownLabelError: listing up to 10 unknown labels with their counts (and a close allowed
            label where one exists), and the allowed labels.
    """
    allowed_set = set(allowed)
    unknown: Counter[str] = Counter()
    for labels in values:
        if labels:
            unknown.update(name for name in labels if name not in allowed_set)
    if not unknown:
        return
    shown = []
    for name, count in unknown.most_common(_SHOW_LABELS):
        guess = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.75)
        shown.append(f"{name!r} ×{count:,}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    more = f" … and {len(unknown) - _SHOW_LABELS} more" if len(unknown) > _SHOW_LABELS else ""
    raise UnknownLabelError(
        f"{_n(len(unknown), 'label value')} not among the labels of this project.",
        expected="one of: " + (", ".join(repr(a) for a in allowed) or "(the project has no labels)"),
        got=", ".join(shown) + more,
        fix="add them with --add-labels, or map/remove them in the file",
    )
