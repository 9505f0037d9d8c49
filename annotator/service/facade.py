"""The one facade that the UI and the CLI call: construction, lifecycle and one part per concern.

Typical use::

    settings = Settings(data_dir="annotator-data")
    svc = AnnotatorService.from_settings(settings)
    svc.projects.create_project("reviews", labels=["pos", "neg"])
    svc.imports.import_file("reviews", "reviews.csv", ImportSpec(text_column="text"))
    item = svc.queue.next_item("reviews", user="ana")
    svc.queue.submit("reviews", "ana", item.item_id, ["pos"])

Each part owns the units of work (transactions) of its concern; everything below the service is
plain functions and the store.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from annotator import store
from annotator.core.config import Settings
from annotator.embeddings import Embedder
from annotator.service.accounts import AccountsService
from annotator.service.ai import AIService
from annotator.service.browse import BrowseService
from annotator.service.embeddings import EmbeddingsService
from annotator.service.exports import ExportsService
from annotator.service.imports import ImportsService
from annotator.service.jobs import JobsService
from annotator.service.models import ModelsService
from annotator.service.projects import ProjectsService
from annotator.service.quality import QualityService
from annotator.service.queue import QueueService
from annotator.service.review import ReviewService
from annotator.service.spans import SpansService
from annotator.service.tasks import TasksService
from annotator.service.team import TeamService


class AnnotatorService:
    """Facade over store, importers, embeddings, export and the label pools, one part per concern.

    Attributes:
        settings: the one typed Settings object.
        engine: the SQLAlchemy engine every part's transactions use.
        embeddings, projects, imports, exports, queue, ai, tasks, browse, review, quality, team,
        accounts, jobs, models, spans: the parts (see each module's docstring).
    """

    def __init__(self, settings: Settings, engine: Engine, *, embedder: Embedder | None = None):
        self.settings = settings
        self.engine = engine
        self.embeddings = EmbeddingsService(self, embedder=embedder)
        self.projects = ProjectsService(self)
        self.imports = ImportsService(self)
        self.exports = ExportsService(self)
        self.queue = QueueService(self)
        self.ai = AIService(self)
        self.tasks = TasksService(self)
        self.browse = BrowseService(self)
        self.review = ReviewService(self)
        self.quality = QualityService(self)
        self.team = TeamService(self)
        self.accounts = AccountsService(self)
        self.jobs = JobsService(self)
        self.models = ModelsService(self)
        self.spans = SpansService(self)

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None) -> AnnotatorService:
        """Create the data directory, connect, migrate the schema, and build the service."""
        if not settings.database_url:
            settings.ensure_data_dir()
        engine = store.make_engine(settings.resolved_database_url)
        store.migrate(engine)
        return cls(settings, engine, embedder=embedder)

    def close(self) -> None:
        """Stop the job consumer and the refit thread, then release the database connections."""
        self.jobs.stop()
        self.queue.shutdown()
        self.engine.dispose()
