"""Time of the review queue (service.review.queue, what the Review tab calls after each decision)
on a big project, and of one decision.

    python bench/bench_review_queue.py [--items 50000] [--repeats 3]

Builds a file SQLite database with ``--items`` items: every 5th answered by two people (every other
one of those disagreeing), every 100th flagged, every 200th with a review request. Prints one JSON
line: median seconds of the whole queue, of the first 10 entries (``limit=10``), of one decision (review_settle),
of the Review tab's first look (a new service: the queue assessed from scratch, one entry built) and of
"decision → next item" (what a reviewer waits for in the tab: review_settle of the item shown, then
``review_page(limit=1)``, the next item and the counts; ``decision_next_rebuilt_s``: the same with the
queue assessed from scratch and every entry built, as the tab did before it kept the queue), and the
queue length.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator import store  # noqa: E402
from annotator.core.config import Settings  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402
from annotator.store import items as item_q  # noqa: E402
from annotator.store import projects as project_q  # noqa: E402
from annotator.store import responses as response_q  # noqa: E402


def _median(fn, repeats: int) -> float:  # noqa: ANN001
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return round(statistics.median(runs), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False)
        engine = store.make_engine(f"sqlite:///{Path(tmp) / 'review.db'}")
        store.migrate(engine)
        n = args.items
        with store.transaction(engine) as s:
            p = project_q.create_project(s, name="big", task_type="single-label",
                                         labels=[{"name": "a"}, {"name": "b"}], guidelines="", settings={})
            ana, ben = project_q.get_or_create_user(s, "ana"), project_q.get_or_create_user(s, "ben")
            project_q.get_or_create_user(s, "rita", role="reviewer")
            ids = item_q.insert_items(s, p.id, [{"text": f"item {i}", "text_hash": str(i), "metadata": {}}
                                                for i in range(n)])
            rows = []
            for k, iid in enumerate(ids[::5]):
                rows.append({"item_id": iid, "user_id": ana.id, "value": ["a"], "status": "submitted",
                             "source": "human", "route": "manual", "flagged": k % 20 == 0})
                rows.append({"item_id": iid, "user_id": ben.id, "value": ["ab"[k % 2]], "status": "submitted",
                             "source": "human", "route": "manual"})
            response_q.insert_responses(s, rows)
        service = AnnotatorService(settings, engine)
        service.review.flag("big", ids[1::200], "suspect label: model says 'b' with p=0.9", score=0.9)
        first = _median(lambda: AnnotatorService(settings, engine).review_page("big", limit=1), args.repeats)
        queue = service.review.queue("big")
        full = _median(lambda: service.review.queue("big"), args.repeats)
        top = _median(lambda: service.review.queue("big", limit=10), args.repeats)
        todo = iter(e.item_id for e in queue)
        accept = _median(lambda: service.review.settle("big", "rita", next(todo), ["a"]), args.repeats)
        shown: list[int] = []
        decided: set[int] = set()

        def decide_then_next() -> None:
            if not shown:
                shown.append(service.review.page("big", limit=1)[0][0].item_id)
            item = shown.pop()
            service.review.settle("big", "rita", item, ["a"])
            decided.add(item)
            entries, _counts = service.review.page("big", limit=1)
            assert entries and entries[0].item_id not in decided, "a settled item came back"
            shown.append(entries[0].item_id)

        next_s = _median(decide_then_next, args.repeats * 5)

        def decide_then_rebuild() -> None:  # the former tab: the whole queue from scratch, every entry built
            item = shown.pop()
            service.review.settle("big", "rita", item, ["a"])
            decided.add(item)
            service.review._review_cache.clear()
            queue = service.review.queue("big")
            assert queue[0].item_id not in decided
            shown.append(queue[0].item_id)

        rebuild_s = _median(decide_then_rebuild, args.repeats)
        service.close()
    print(json.dumps({"bench": "review_queue", "items": n, "queued": len(queue), "queue_s": full,
                      "queue_top10_s": top, "accept_s": accept,
                      "first_look_s": first, "decision_next_s": next_s,
                      "decision_next_rebuilt_s": rebuild_s}))


if __name__ == "__main__":
    main()
