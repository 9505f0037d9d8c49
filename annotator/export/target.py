"""Where an export lands: checked first, written beside the target, renamed into place at the end.

An export is written into ``.<name>.partial-<id>`` in the target's parent folder and only renamed to
``<name>`` once every file is complete, so an export that is interrupted (a crash, kill -9, a full
disk) leaves the previous export exactly as it was. Replacing a previous export renames it aside
(``.<name>.old-<id>``), renames the new one in and deletes the old one; a run killed between the
two renames is repaired by the next export (the old folder is put back).

Every finished export holds a marker file (``MARKER``). A non-empty target is replaced only with
``overwrite=True`` and only when it holds that marker: a folder of the user's own files is never
deleted. A file, the file-system root, a system folder or the home folder itself as the target is
refused with a clear error.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from annotator.core.errors import ValidationError

#: The file that marks a folder as an annotator export (safe to replace with ``overwrite``).
MARKER = ".annotator-export.json"
#: Folders no export may be written into or replace.
SYSTEM_DIRS = frozenset(Path(p) for p in ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/opt", "/proc",
                                          "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/home"))


def _siblings(target: Path, kind: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{kind}-*")) if target.parent.is_dir() else []


def _recover(target: Path) -> None:
    """Finish what an interrupted export left: put back a previous export renamed aside, and
    delete half-written folders (they are never the only copy of anything)."""
    old = _siblings(target, "old")
    if old and not target.exists():
        os.rename(old[-1], target)
        old = old[:-1]
    for leftover in [*old, *_siblings(target, "partial")]:
        shutil.rmtree(leftover, ignore_errors=True)


def check_target(out: str | Path, *, overwrite: bool) -> Path:
    """The absolute target folder, after checking that an export may land there.

    Raises:
        ValidationError: the target is a file, a system folder or the home folder, or a non-empty
            folder without ``overwrite`` (or, with it, one that is not a previous export).
    """
    target = Path(out).expanduser().absolute()
    resolved = target.resolve()
    if resolved in SYSTEM_DIRS or resolved == Path.home().resolve() or resolved.parent == resolved:
        raise ValidationError(f"Refusing to export into {resolved}.", expected="a new or empty folder of your own",
                              got="a system folder or the home folder itself",
                              fix="pass --out with a folder of its own, e.g. --out exports/my-project")
    if target.exists() and not target.is_dir():
        raise ValidationError(f"The export target {target} is a file, not a folder.",
                              expected="a folder (the export writes a data file and README.md into it)",
                              fix=f"pass --out with a folder name, e.g. --out {target.with_suffix('')}-export")
    _recover(target)
    if target.is_dir() and any(target.iterdir()):
        is_export = (target / MARKER).is_file()
        if not overwrite:
            raise ValidationError(
                f"The export target {target} is not empty.", expected="a new or empty folder",
                got="a previous export" if is_export else "files: " + ", ".join(sorted(p.name for p in target.iterdir())[:5]),
                fix="pass --overwrite to replace that previous export" if is_export
                else "choose a new folder; an export never deletes files it did not write")
        if not is_export:
            raise ValidationError(
                f"The export target {target} holds files that no export wrote; --overwrite replaces only a previous "
                "export.", got=", ".join(sorted(p.name for p in target.iterdir())[:5]),
                fix="choose a new folder, or move those files away first")
    return target


@contextmanager
def staged_export(out: str | Path, *, overwrite: bool, about: dict[str, str] | None = None) -> Iterator[Path]:
    """Yield a fresh folder to write the export into; on success it replaces ``out`` in one rename.

    ``about`` (project, format …) is written into the marker. On any error the half-written folder
    is deleted and ``out`` is left as it was.

    Raises:
        ValidationError: as ``check_target``.
    """
    target = check_target(out, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        yield stage
        marker = {"written_at": datetime.now(UTC).isoformat(timespec="seconds"), **(about or {})}
        (stage / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _swap_in(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap_in(stage: Path, target: Path) -> None:
    if not target.exists():
        os.rename(stage, target)
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except OSError:
        os.rename(old, target)  # put the previous export back
        raise
    shutil.rmtree(old, ignore_errors=True)
