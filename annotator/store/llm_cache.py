"""LLM results cached in the database: a ``MutableMapping[str, list[float]]`` over ``llm_score``.

The LLM annotators need only ``get`` and ``__setitem__`` (see ``annotator.llm.cache``); this is
the store's implementation, so that a re-run of the same model and prompt over the same items
costs nothing, on SQLite and PostgreSQL alike, and every process of a team shares it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from sqlalchemy.engine import Engine
from sqlmodel import delete, func, select

from annotator.store.engine import transaction
from annotator.store.tables import LLMScore


class StoreLLMCache(MutableMapping[str, list[float]]):
    """Scores by ``cache_key``; each write is its own small transaction, so an interrupted run
    keeps every item it finished. ``model`` is recorded beside each row."""

    def __init__(self, engine: Engine, model: str = ""):
        self.engine = engine
        self.model = model

    def __getitem__(self, key: str) -> list[float]:
        with transaction(self.engine) as s:
            row = s.get(LLMScore, key)
            if row is None:
                raise KeyError(key)
            return [float(v) for v in row.value]

    def __setitem__(self, key: str, value: list[float]) -> None:
        prompt_hash = key.split("|")[1] if key.count("|") >= 2 else ""
        with transaction(self.engine) as s:
            row = s.get(LLMScore, key)
            if row is None:
                s.add(LLMScore(key=key, model=self.model or key.split("|")[0][:200], prompt_hash=prompt_hash[:64],
                               value=[float(v) for v in value]))
            else:
                row.value = [float(v) for v in value]
                s.add(row)

    def __delitem__(self, key: str) -> None:
        with transaction(self.engine) as s:
            if s.get(LLMScore, key) is None:
                raise KeyError(key)
            s.exec(delete(LLMScore).where(LLMScore.key == key))

    def __iter__(self) -> Iterator[str]:
        with transaction(self.engine) as s:
            keys = list(s.exec(select(LLMScore.key)).all())
        return iter(keys)

    def __len__(self) -> int:
        with transaction(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(LLMScore)).one())
