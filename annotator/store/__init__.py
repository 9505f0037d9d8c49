"""Persistence: SQLModel tables, engine and migrations, and the query functions.

Only this package opens database sessions. Query functions take a ``Session`` from
``transaction(engine)`` and never commit; the service decides the unit of work.
"""

from annotator.store.engine import check_connection, make_engine, migrate, transaction
from annotator.store.tables import Item, Job, ModelVersion, Project, Response, Suggestion, User

__all__ = [
    "Item", "Job", "ModelVersion", "Project", "Response", "Suggestion", "User",
    "check_connection", "make_engine", "migrate", "transaction",
]
