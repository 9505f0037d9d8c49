"""What every command group shares: the root Typer app, the common options and helpers that open
the service (imported lazily, so ``--help`` stays fast) and draw progress bars."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional

import typer

from annotator.core.config import Settings

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

app = typer.Typer(
    name="annotator", no_args_is_help=True, rich_markup_mode="markdown", pretty_exceptions_enable=False,
    help="People and AI label text together. Data lives in --data-dir (default ./annotator-data).",
)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", envvar="ANNOTATOR_DATA_DIR",
                                                 help="Data directory (database, caches).")]
DatabaseUrl = Annotated[Optional[str], typer.Option("--database-url", envvar="ANNOTATOR_DATABASE_URL",
                                                    help="SQLAlchemy URL; default SQLite in the data directory.")]
ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="Project name.")]


def make_settings(data_dir: Path | None, database_url: str | None, **extra: Any) -> Settings:
    """Settings from the command line's options; an option left out (None) keeps the environment's value."""
    kwargs = {k: v for k, v in {"data_dir": data_dir, "database_url": database_url, **extra}.items() if v is not None}
    return Settings(**kwargs)


def open_service(settings: Settings) -> AnnotatorService:
    """The service on these settings (imported here: ``--help`` must not load it)."""
    from annotator.service import AnnotatorService

    return AnnotatorService.from_settings(settings)


def progress_bar(desc: str, unit: str = "rows") -> tuple[Any, Callable[[int, int], None]]:
    """A tqdm bar and the service's ``progress(done, total)`` callback that moves it; close the bar."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, disable=not sys.stderr.isatty() and None)

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update
