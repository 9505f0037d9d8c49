"""Hugging Face ``datasets`` sources: a ``save_to_disk`` folder, or a hub dataset id (streamed).

``datasets`` is imported inside the functions: it is slow to import and most imports are files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.core.errors import InputFileError
from annotator.importers.raw import RawBatch, RawSource, rebatch
from annotator.importers.validate import no_rows_error

#: Feature types whose cells are media, not text or JSON: left out of the columns on offer.
_MEDIA_FEATURES = frozenset({"Image", "Audio", "Video", "Pdf", "Nifti"})
_HUB_PREFIX = "hf://datasets/"


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return any((path / marker).is_file() for marker in ("dataset_info.json", "state.json", "dataset_dict.json"))


def pick_split(available: list[str], split: str | None, source: str) -> str:
    """The split to read: ``split`` if given, else "train", else the only split.

    Raises:
        InputFileError: listing the available splits when the choice is missing or ambiguous.
    """
    listed = ", ".join(repr(s) for s in available)
    if split is not None:
        if split in available:
            return split
        raise InputFileError(
            f"{source} has no split {split!r}.", expected=f"one of its splits: {listed}", got=repr(split),
            fix=f"pick one of {listed} (ImportSpec(split=...))",
        )
    if "train" in available:
        return "train"
    if len(available) == 1:
        return available[0]
    raise InputFileError(
        f"{source} holds several splits and none is called 'train'.", expected="one split to import",
        got=f"splits: {listed}", fix=f"pick one of {listed} (ImportSpec(split=...))",
    )


def _class_names(feature: Any) -> list[str] | None:
    """The names of a ``ClassLabel`` feature, or of a list of ``ClassLabel``s; else None."""
    names = getattr(feature, "names", None)
    if names and hasattr(feature, "int2str"):
        return list(names)
    inner = getattr(feature, "feature", None)  # Sequence(ClassLabel) / List(ClassLabel)
    return _class_names(inner) if inner is not None else None


def _batches(rows_and_dicts: Iterator[dict[str, list[Any]]], chunk_rows: int) -> Iterator[RawBatch]:
    """datasets' ``iter(batch_size=)`` dicts of lists → numbered ``RawBatch``es of ``chunk_rows``."""

    def numbered() -> Iterator[RawBatch]:
        first_row = 1
        for batch in rows_and_dicts:
            n = len(next(iter(batch.values()))) if batch else 0
            yield RawBatch(list(range(first_row, first_row + n)), dict(batch))
            first_row += n

    return rebatch(numbered(), chunk_rows)


def _source(ds: Any, name: str, fmt: str, chunk_rows: int, split_name: str | None,
            columns: list[str], wrap: Any = None) -> RawSource:
    """A ``RawSource`` over a ``Dataset`` or ``IterableDataset`` with known ``columns``."""
    features = getattr(ds, "features", None) or {}
    media = {c for c, f in features.items() if type(f).__name__ in _MEDIA_FEATURES}
    offered = [c for c in columns if c not in media]
    class_names = {c: names for c, f in features.items() if c in offered and (names := _class_names(f))}

    def iter_batches(keep: list[str] | None) -> Iterator[RawBatch]:
        # Selecting first means media and other unused columns are never decoded.
        selected = ds.select_columns(keep if keep is not None else offered)
        batches = _batches(selected.iter(batch_size=chunk_rows), chunk_rows)
        yield from (wrap(batches) if wrap else batches)

    return RawSource(name=name, fmt=fmt, columns=offered, iter_batches=iter_batches, class_names=class_names,
                     split_name=split_name)


def _empty_parts(path: Path) -> list[str]:
    """The folder itself or its split folders whose state.json lists no data files (0 rows)."""
    empty = []
    for state in [path / "state.json", *path.glob("*/state.json")]:
        try:
            files = json.loads(state.read_text(encoding="utf-8")).get("_data_files")
        except (OSError, ValueError):
            continue  # unreadable: let load_from_disk report it
        if files == []:
            empty.append(state.parent.name)
    return empty


def open_saved_dataset(path: Path, *, encoding: str | None = None, chunk_rows: int,
                       split: str | None = None) -> RawSource:
    """A ``save_to_disk`` folder, streamed from its memory-mapped Arrow files in batches.

    A ``DatasetDict`` reads ``split`` (default "train", or its only split); ``split`` of the
    chunks is then that split's name unless the spec names a split column.
    """
    del encoding  # Arrow stores UTF-8
    import datasets

    name = path.name
    empty = _empty_parts(path)
    if empty:
        # datasets cannot load a saved dataset with no rows (it has no Arrow files at all).
        raise no_rows_error(name, detail="no Arrow data in " + ", ".join(empty))
    try:
        loaded = datasets.load_from_disk(str(path))
    except (OSError, ValueError) as e:
        raise InputFileError(
            f"{name} looks like a datasets.save_to_disk folder but cannot be loaded.",
            expected="a folder written by Dataset.save_to_disk or DatasetDict.save_to_disk",
            got=f"{type(e).__name__}: {str(e)[:300]}", fix="save the dataset again, or export it to Parquet",
        ) from e
    split_name = None
    if isinstance(loaded, datasets.DatasetDict):
        split_name = pick_split(list(loaded), split, name)
        loaded = loaded[split_name]
    label = f"{name} (split {split_name!r})" if split_name else name
    if loaded.num_rows == 0:
        raise no_rows_error(label, list(loaded.column_names))
    return _source(loaded, label, "hf-disk", chunk_rows, split_name, list(loaded.column_names))


def _hub_error(repo: str, error: Exception) -> InputFileError:
    local = "" if Path(repo).exists() else f"; there is no local file or folder {repo!r} either, so it was read as a hub id"
    return InputFileError(
        f"Could not load the Hugging Face hub dataset {repo!r}: the machine looks offline, or the hub "
        "cannot be reached, or the dataset does not exist.",
        expected="a hub dataset that can be downloaded (this needs internet), or a local file or folder",
        got=f"{type(error).__name__}: {str(error)[:300]}{local}",
        fix=f"on a machine with internet run datasets.load_dataset({repo!r}).save_to_disk('folder') and import "
            "that folder, or export the data to a CSV, JSONL or Parquet file and import the file",
    )


def open_hub_dataset(source: str, *, encoding: str | None = None, chunk_rows: int,
                     split: str | None = None) -> RawSource:
    """A hub dataset ``owner/name`` (or ``hf://datasets/owner/name``), streamed (nothing is
    downloaded up front). Any hub or network failure becomes one ``InputFileError``."""
    del encoding
    import datasets

    repo = source.removeprefix(_HUB_PREFIX)
    try:
        loaded = datasets.load_dataset(repo, streaming=True)
    except Exception as e:  # noqa: BLE001 - the hub raises many types (offline, HTTP, not found, auth)
        raise _hub_error(repo, e) from e
    split_name = None
    if isinstance(loaded, (datasets.IterableDatasetDict, datasets.DatasetDict)):
        split_name = pick_split(list(loaded), split, repo)
        loaded = loaded[split_name]
    label = f"{repo} (split {split_name!r})" if split_name else repo

    def guarded(batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
        try:
            yield from batches
        except Exception as e:  # noqa: BLE001 - the connection can drop mid-stream
            raise _hub_error(repo, e) from e

    columns = list(loaded.column_names or [])
    if not columns:
        # Some streamed datasets only learn their columns from the first record.
        try:
            first = next(iter(loaded.take(1)), None)
        except Exception as e:  # noqa: BLE001
            raise _hub_error(repo, e) from e
        if first is None:
            raise no_rows_error(label)
        columns = list(first)
    return _source(loaded, label, "hf-hub", chunk_rows, split_name, columns, wrap=guarded)
