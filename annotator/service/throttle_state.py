"""The failed-login throttle's records in the database (``login_failure``), shared by every process
of the app and kept across restarts: the ``ThrottleState`` the accounts service gives its throttles.

Each call is one short transaction of its own (a login is not a unit of work with anything else).
``update`` runs ``transaction(serialized=True)`` and locks the key's row (``store.throttle``), so
concurrent processes counting failures of one name or address never lose one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from annotator import store
from annotator.auth.throttle import Change, ThrottleRecord
from annotator.store import throttle as throttle_q
from annotator.store.tables import LoginFailure


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _record(row: LoginFailure) -> ThrottleRecord | None:
    if row.failures <= 0:
        return None  # a row just made by locked_failure, or one a change emptied
    return ThrottleRecord(failures=row.failures, last_failure=row.last_failure.timestamp(),
                          locked_until=row.locked_until.timestamp())


class DbThrottleState:
    """Throttle records in table ``login_failure`` under ``prefix`` + key.

    Args:
        engine: the app's database.
        prefix: keeps the throttles apart in one table (``"name:"``, ``"address:"``).
    Times: the throttle's clock seconds, taken as epoch seconds (UTC) in the table.
    """

    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine, self.prefix = engine, prefix

    def read(self, key: str) -> ThrottleRecord | None:
        with store.transaction(self.engine) as s:
            row = throttle_q.get_failure(s, self.prefix + key)
            return _record(row) if row is not None else None

    def update(self, key: str, change: Change) -> ThrottleRecord | None:
        with store.transaction(self.engine, serialized=True) as s:
            row = throttle_q.locked_failure(s, self.prefix + key)
            new = change(_record(row))
            if new is None:
                throttle_q.delete_failure(s, row.key)
                return None
            throttle_q.save_failure(s, row, failures=new.failures, last_failure=_time(new.last_failure),
                                    locked_until=_time(new.locked_until))
            return new

    def purge(self, before: float) -> None:
        with store.transaction(self.engine) as s:
            throttle_q.purge_failures(s, _time(before), self.prefix)
