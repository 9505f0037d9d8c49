"""Model version directories: ``<models_dir>/<project>/<kind>/v<N>/``, written atomically.

A job writes everything into ``.tmp-v<N>-job<id>/`` and renames it to ``v<N>`` only when it is
complete; the version's database row is inserted after the rename. A crash leaves either a temp
dir or a ``v<N>`` without a row: neither counts as a version, and ``cleanup`` removes both.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from annotator.core.errors import ConflictError

_TMP = re.compile(r"^\.tmp-v(\d+)-job(\d+)$")
_VERSION = re.compile(r"^v(\d+)$")


def slug(name: str) -> str:
    """A project name as a folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "project"


class VersionDirs:
    def __init__(self, models_dir: Path, project: str, kind: str = "finetune"):
        self.root = Path(models_dir) / slug(project) / kind

    def path(self, version: int) -> Path:
        return self.root / f"v{version}"

    def temp(self, version: int, job_id: int) -> Path:
        """A fresh, empty temp directory for version ``version`` written by job ``job_id``."""
        tmp = self.root / f".tmp-v{version}-job{job_id}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        return tmp

    def commit(self, tmp: Path, version: int) -> Path:
        final = self.path(version)
        if final.exists():
            raise ConflictError(f"Model version folder {final} already exists.",
                                fix="another job wrote this version; submit the fine-tuning again")
        tmp.rename(final)  # atomic on one file system
        return final

    @staticmethod
    def discard(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def cleanup(self, known_versions: Iterable[int], active_jobs: Iterable[int] = ()) -> list[Path]:
        """Remove temp dirs of jobs not in ``active_jobs`` and, when no job is active, ``v<N>``
        folders without a database row (``known_versions``). Returns what was removed."""
        if not self.root.is_dir():
            return []
        known, active = set(known_versions), set(active_jobs)
        removed = []
        for p in self.root.iterdir():
            m = _TMP.match(p.name)
            v = _VERSION.match(p.name)
            if (m and int(m.group(2)) not in active) or (v and not active and int(v.group(1)) not in known):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        return removed
