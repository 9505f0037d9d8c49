"""Time of one browse page (annotator.store.browse) on a big pool, for every filter the page offers.

    python bench/bench_browse.py [--items 50000] [--repeats 3]

Builds a file SQLite database with ``--items`` items (every 10th answered by one person), then
times ``page_item_ids`` for each filter case. Prints one JSON line: the median seconds per case
and the slowest case. The page must answer well under a second at 50k items.
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
from annotator.store import browse as browse_q  # noqa: E402
from annotator.store import items as item_q  # noqa: E402
from annotator.store import projects as project_q  # noqa: E402
from annotator.store import responses as response_q  # noqa: E402

CASES: list[dict] = [
    {}, {"query": "cat"}, {"query": "item 4999 "}, {"status": "unlabelled"}, {"status": "labelled"},
    {"label": "a"}, {"annotator": "ana"}, {"metadata": {"channel": "email"}}, {"status": "flagged"},
    {"order": "newest"}, {"own": "ana"}, {"own": "ana", "label": "a"},  # an annotator's own view (teams)
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = store.make_engine(f"sqlite:///{Path(tmp) / 'browse.db'}")
        store.migrate(engine)
        n = args.items
        with store.transaction(engine) as s:
            p = project_q.create_project(s, name="big", task_type="single-label",
                                         labels=[{"name": "a"}, {"name": "b"}], guidelines="", settings={})
            ana = project_q.get_or_create_user(s, "ana")
            ids = item_q.insert_items(s, p.id, [
                {"text": f"item {i} {'cat' if i % 2 else 'dog'}", "text_hash": str(i),
                 "metadata": {"channel": "chat" if i % 3 else "email"}} for i in range(n)])
            response_q.insert_responses(s, [
                {"item_id": iid, "user_id": ana.id, "value": ["ab"[k % 2]], "status": "submitted",
                 "source": "human", "route": "manual"} for k, iid in enumerate(ids[::10])])
            pid = p.id
        seconds: dict[str, float] = {}
        for case in [*CASES, {"offset": n - 60}]:
            kw = dict(case)
            order, offset = kw.pop("order", "id"), kw.pop("offset", 0)
            runs = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                with store.transaction(engine) as s:
                    browse_q.page_item_ids(s, pid, browse_q.BrowseFilters(**kw), offset=offset, limit=50, order=order)
                runs.append(time.perf_counter() - started)
            seconds[json.dumps(case, sort_keys=True)] = round(statistics.median(runs), 4)
        engine.dispose()
    slowest = max(seconds, key=seconds.get)
    print(json.dumps({"bench": "browse_page", "items": n, "median_s": seconds, "slowest_case": slowest,
                      "slowest_s": seconds[slowest]}))


if __name__ == "__main__":
    main()
