"""Caches of LLM scores: any ``MutableMapping[str, list[float]]``; a dict in memory, this on disk.

Keys come from ``annotator.llm.prompts.cache_key`` (model id, prompt hash, rendered-prompt hash);
values are one item's (k,) probabilities. The store-level cache can replace both: the
annotators only need ``get`` / ``__setitem__``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path

LLMCache = MutableMapping[str, list[float]]


class JsonlCache(MutableMapping[str, list[float]]):
    """An append-only JSON-lines file mirrored in memory.

    Every ``cache[key] = value`` appends one line and flushes, so a run that dies half-way keeps
    every item it finished; the last line of a key wins on reload, and a torn last line (a crash
    mid-write) is skipped.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._data: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        if self.path.exists():
            with self.path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        row = json.loads(line)
                        self._data[str(row["k"])] = [float(v) for v in row["v"]]
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn line from an interrupted write
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __getitem__(self, key: str) -> list[float]:
        return self._data[key]

    def __setitem__(self, key: str, value: list[float]) -> None:
        value = [float(v) for v in value]
        with self._lock:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"k": key, "v": value}) + "\n")
            self._data[key] = value

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]
            self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for k, v in self._data.items():
                f.write(json.dumps({"k": k, "v": v}) + "\n")
        tmp.replace(self.path)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)
