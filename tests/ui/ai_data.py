"""Shared data for the AI-tab tests (browser and not): a 3-topic ticket project that people have
partly labelled, so the AI annotators have something to calibrate on. Not a test module."""

from __future__ import annotations

import random
import re

TOPICS = {
    "billing": ["refund", "invoice", "charged", "payment", "card", "price", "receipt", "subscription", "vat", "plan"],
    "bug": ["crash", "error", "freezes", "broken", "fails", "blank", "slow", "glitch", "exception", "hangs"],
    "account": ["password", "login", "email", "profile", "delete", "locked", "username", "2fa", "signin", "reset"],
}
LABELS = list(TOPICS)
CHEAP = ["knn", "zero-shot", "classifier"]


def tickets(n: int = 330, seed: int = 0) -> list[dict]:
    """Three clear topics; every fourth ticket mixes in two words of another topic (a harder item)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = LABELS[i % 3]
        words = rng.sample(TOPICS[label], 3)
        if i % 4 == 0:
            words = words[:2] + rng.sample(TOPICS[LABELS[(i + 1) % 3]], 2)
        rows.append({"external_id": f"r{i}", "text": f"ticket {i}: " + " ".join(words), "gold": label})
    return rows


def make_project(service, name: str, *, labelled: int,  # noqa: ANN001
                 classes: list[str] | None = None) -> dict[int, str]:
    """Create ``name``, import the tickets and label the first ``labelled`` of them (of ``classes``)
    through the service, as bulk answers by "ana". Returns the gold label of every item id."""
    rows = tickets()
    service.projects.create_project(name, LABELS)
    service.imports.import_records(name, [{"text": r["text"], "external_id": r["external_id"]} for r in rows])
    by_external = {r["external_id"]: r["gold"] for r in rows}
    page = service.browse.browse(name, page_size=500).rows
    gold = {r["item_id"]: by_external[r["external_id"]] for r in page}
    picked: dict[str, list[int]] = {}
    for r in page[:labelled]:
        if classes is None or gold[r["item_id"]] in classes:
            picked.setdefault(gold[r["item_id"]], []).append(r["item_id"])
    for label, ids in picked.items():
        service.browse.bulk_label(name, "ana", ids, [label])
    service.queue.wait_for_refit(name)
    return gold


def route_counts(routes_html: str) -> dict[str, int]:
    """The AI tab's route cards (``data-route`` / ``data-count``) → {route: count}."""
    return {m[0]: int(m[1]) for m in re.findall(r'data-route="(\w+)" data-count="(\d+)"', routes_html)}
