"""Where an export lands: checked first, written beside the target, renamed into place at the end.

An export is written into ``.<name>.partial-<pid>-<id>`` in the target's parent folder and only
renamed to ``<name>`` once every file is complete, so an export that is interrupted (a crash,
kill -9, a full disk) leaves the previous export exactly as it was. Replacing a previous export
renames it aside (``.<name>.old-<pid>-<id>``), renames the new one in and deletes the old one; if
the second rename fails the old one is put back, and a run killed between the two renames is
repaired by the next export into the same place (the old folder is renamed back).

Every finished export holds a marker file (``MARKER``). A non-empty target is replaced only with
``overwrite=True`` and only when it holds that marker: a folder of the user's own files is never
deleted, with or without ``overwrite``. The check is repeated just before the swap, so files put
into the target while a long export ran are not swept away either. A file, the file-system root,
a system folder, the home folder itself or a folder the caller protects (the data folder) as the
target is refused with a clear error.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from annotator.core.errors import ConfigError, DiskFullError, ValidationError

#: The file that marks a folder as an annotator export (safe to replace with ``overwrite``).
MARKER = ".annotator-export.json"
#: Folders no export may be written into or replace (the folder itself; below it is fine).
SYSTEM_DIRS = frozenset(Path(p) for p in ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/opt", "/proc",
                                          "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/home",
                                          "/private", "/private/tmp", "/private/var", "/private/etc",
                                          "/System", "/Library", "/Applications", "/Users", "/Volumes"))
#: Folders nothing may be exported below at all: the system's own files and virtual file systems.
SYSTEM_TREES = tuple(Path(p) for p in ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys",
                                       "/usr", "/private/etc", "/System"))
#: A leftover whose writer cannot be asked whether it still runs (not POSIX) is stale after this long.
STALE_AFTER_S = 24 * 3600.0
#: errno values that mean the disk (or the user's quota on it) is full.
_DISK_FULL = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None)


def _refuse(target: Path, why: str) -> ValidationError:
    return ValidationError(f"Refusing to export into {target}: {why}.", expected="a new or empty folder of your own",
                           got=str(target), fix="pass --out with a folder of its own, e.g. --out exports/my-project")


def _sibling_name(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _siblings(target: Path, kind: str) -> list[Path]:
    pattern = f".{glob.escape(target.name)}.{kind}-*"
    return sorted(target.parent.glob(pattern)) if target.parent.is_dir() else []


def _writer_gone(leftover: Path) -> bool:
    """Whether the export that made ``leftover`` has ended (crashed or was killed): its pid, in the
    name, no longer runs. Another export into the same place may be running right now; its
    folders must not be taken from under it."""
    try:
        pid = int(leftover.name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return True  # not one of ours in the current naming: an old leftover
    if pid == os.getpid():
        return False  # another thread of this process (the UI exports in worker threads)
    if os.name != "posix":  # os.kill(pid, 0) would not just ask on Windows
        try:
            return time.time() - leftover.stat().st_mtime > STALE_AFTER_S
        except OSError:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # runs, as another user
    return False


def _recover(target: Path) -> None:
    """Finish what an interrupted export left: put back a previous export renamed aside, and
    delete half-written folders (they are never the only copy of anything)."""
    old = [p for p in _siblings(target, "old") if _writer_gone(p)]
    if old and not target.exists():
        newest = max(old, key=lambda p: p.stat().st_mtime)
        os.rename(newest, target)
        old.remove(newest)
    for leftover in [*old, *(p for p in _siblings(target, "partial") if _writer_gone(p))]:
        shutil.rmtree(leftover, ignore_errors=True)


def _resolve(out: str | Path, protected: Sequence[Path]) -> Path:
    """``out`` as an absolute path (a link to a folder followed, so the real folder is replaced,
    not the link), refused when it is the root, a system folder, the home folder or protected."""
    target = Path(out).expanduser().absolute()
    if target.is_symlink():
        target = target.resolve()
    resolved = target.resolve()
    try:
        homes = {Path.home(), Path.home().resolve()}
    except (RuntimeError, KeyError):  # no home folder known (a service account): nothing to protect
        homes = set()
    for path in {target, resolved}:
        if path.parent == path:
            raise _refuse(path, "it is the root of a file system")
        if path in SYSTEM_DIRS:
            raise _refuse(path, "it is a system folder")
        if any(path.is_relative_to(tree) for tree in SYSTEM_TREES):
            raise _refuse(path, "it is inside a system folder")
        if path in homes:
            raise _refuse(path, "it is your home folder itself")
        for folder in protected:
            if path in (Path(folder).expanduser().absolute(), Path(folder).expanduser().resolve()):
                raise _refuse(path, "it is the annotator's data folder (its database and models live there)")
    return target


def _check_replaceable(target: Path, *, overwrite: bool) -> None:
    """Raise unless ``target`` is missing, empty, or (with ``overwrite``) a previous export."""
    if target.exists() and not target.is_dir():
        raise ValidationError(f"The export target {target} is a file, not a folder.",
                              expected="a folder (the export writes a data file and README.md into it)",
                              got="a file" if target.is_file() else "a device, pipe or socket",
                              fix=f"pass --out with a folder name, e.g. --out {target.with_suffix('')}-export")
    if not target.is_dir():
        return
    try:
        names = sorted(p.name for p in target.iterdir())
    except OSError as e:
        raise ConfigError(f"The export target {target} cannot be read.", got=str(e),
                          fix="pass --out with a folder you can write to") from e
    if not names:
        return
    is_export = MARKER in names and (target / MARKER).is_file()
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if not overwrite:
        raise ValidationError(
            f"The export target {target} is not empty.", expected="a new or empty folder",
            got="a previous export" if is_export else f"files: {shown}",
            fix="pass --overwrite to replace that previous export" if is_export
            else "choose a new folder; an export never deletes files it did not write")
    if not is_export:
        raise ValidationError(
            f"The export target {target} holds files that no export wrote; --overwrite replaces only a previous "
            f"export (a folder with {MARKER}).", got=shown, fix="choose a new folder, or move those files away first")


def check_target(out: str | Path, *, overwrite: bool, protected: Sequence[Path] = ()) -> Path:
    """The absolute target folder, after checking that an export may land there.

    Args:
        out: the folder the user asked for (it may not exist yet).
        overwrite: allow replacing a folder that holds a previous export.
        protected: folders that may never be the target (the data folder).

    Raises:
        ValidationError: the target is a file, a system folder or the home folder, or a non-empty
            folder without ``overwrite`` (or, with it, one that is not a previous export).
    """
    target = _resolve(out, protected)
    try:
        _recover(target)
    except OSError as e:
        raise ConfigError(f"An interrupted earlier export beside {target} could not be cleaned up.", got=str(e),
                          fix=f"remove the hidden folders .{target.name}.partial-* / .old-* in {target.parent} "
                              "(keep the newest .old-* if the export itself is missing) and retry") from e
    _check_replaceable(target, overwrite=overwrite)
    return target


def _write_failure(target: Path, error: OSError) -> ConfigError | DiskFullError:
    """The clear error for an export that could not be written: a full disk named as such."""
    if error.errno in _DISK_FULL:
        return DiskFullError(f"The disk is full: the disk of {target.parent} has no space left, so the export was "
                             "not written (a previous export there is unchanged).", got=str(error),
                             fix=f"free space there (`df -h {target.parent}` shows how much is left), or pass "
                                 "--out on another disk, then retry")
    return ConfigError(f"The export could not be written beside {target}.", got=str(error),
                       fix="pass --out with a folder you can write to (its parent must be a writable folder)")


def _make_stage(target: Path) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = _sibling_name(target, "partial")
        stage.mkdir()
    except (FileExistsError, NotADirectoryError) as e:
        blocker = next((p for p in [target.parent, *target.parent.parents] if p.exists() and not p.is_dir()), None)
        raise ValidationError(f"The export target {target} cannot be created: {blocker or target.parent} is a file.",
                              expected="a path whose parents are folders", got=str(e),
                              fix="pass --out with a folder that is not inside a file") from e
    except OSError as e:
        raise _write_failure(target, e) from e
    return stage


@contextmanager
def staged_export(out: str | Path, *, overwrite: bool, about: dict[str, str] | None = None,
                  protected: Sequence[Path] = ()) -> Iterator[tuple[Path, Path]]:
    """Yield ``(stage, target)``: a fresh folder to write the export into, and the absolute folder
    it becomes; on success the stage replaces the target in one rename.

    ``about`` (project, format …) is written into the marker. On any error the half-written folder
    is deleted and ``out`` is left as it was; an ``OSError`` comes out as a ``DiskFullError`` (no
    space) or a ``ConfigError`` (cannot write there).

    Raises:
        ValidationError: as ``check_target``, or the target changed meanwhile into one that may not
            be replaced.
    """
    target = check_target(out, overwrite=overwrite, protected=protected)
    stage = _make_stage(target)
    try:
        yield stage, target
        marker = {"written_at": datetime.now(UTC).isoformat(timespec="seconds"), **(about or {})}
        (stage / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        # Files may have been put into the target while the export ran: check again at the swap.
        _check_replaceable(target, overwrite=overwrite)
        _swap_in(stage, target)
    except OSError as e:
        shutil.rmtree(stage, ignore_errors=True)
        raise _write_failure(target, e) from e
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap_in(stage: Path, target: Path) -> None:
    """Rename ``stage`` to ``target``; a previous export there is renamed aside first and deleted
    after (put back if the new one cannot be renamed in)."""
    if not target.exists():
        os.rename(stage, target)  # also over an empty folder, on POSIX
        return
    old = _sibling_name(target, "old")
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except OSError:
        os.rename(old, target)  # put the previous export back
        raise
    shutil.rmtree(old, ignore_errors=True)
