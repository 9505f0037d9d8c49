"""Time of the Team tab's figures (service.team.team_overview: agreement, per-person figures, overlap)
on a big project, with and without the AI annotators as raters.

    python bench/bench_team_tab.py [--items 50000] [--people 8] [--overlap 0.1] [--repeats 3]

Builds a file SQLite database with ``--items`` items, each answered by one of ``--people`` people
(round robin) and an ``--overlap`` share answered by three (about 20 % of those three answers
disagree), every item with one AI suggestion, and every answer timed (``seconds_spent``). Prints
one JSON line: median seconds of ``team_overview`` without and with AI raters, the number of
answers, overlapping items and raters.
"""

from __future__ import annotations

import argparse
import json
import random
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

LABELS = ["a", "b", "c"]


def _median(fn, repeats: int) -> tuple[float, object]:  # noqa: ANN001
    runs, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - started)
    return round(statistics.median(runs), 4), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--overlap", type=float, default=0.1, help="share of items answered by three people")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False)
        engine = store.make_engine(f"sqlite:///{Path(tmp) / 'team.db'}")
        store.migrate(engine)
        n = args.items
        with store.transaction(engine) as s:
            p = project_q.create_project(s, name="big", task_type="single-label",
                                         labels=[{"name": name} for name in LABELS], guidelines="", settings={})
            people = [project_q.get_or_create_user(s, f"p{j}").id for j in range(args.people)]
            ids = item_q.insert_items(s, p.id, [{"text": f"item {i}", "text_hash": str(i), "metadata": {}}
                                                for i in range(n)])
            truth = [rng.randrange(len(LABELS)) for _ in ids]
            rows = []
            for k, iid in enumerate(ids):
                raters = 3 if rng.random() < args.overlap else 1
                for r in range(raters):
                    value = truth[k] if rng.random() > 0.2 * (raters > 1) else rng.randrange(len(LABELS))
                    rows.append({"item_id": iid, "user_id": people[(k + r) % len(people)], "value": [LABELS[value]],
                                 "status": "submitted", "source": "human", "route": "manual",
                                 "seconds_spent": rng.uniform(2, 20)})
            response_q.insert_responses(s, rows)
            response_q.insert_suggestions(s, [
                {"item_id": iid, "agent": "classifier", "agent_version": "1", "value": [LABELS[truth[k]]],
                 "scores": {}, "score": 0.9} for k, iid in enumerate(ids)])
        service = AnnotatorService(settings, engine)
        people_s, plain = _median(lambda: service.team.team_overview("big"), args.repeats)
        ai_s, with_ai = _median(lambda: service.team.team_overview("big", include_ai=True), args.repeats)
        service.close()
    print(json.dumps({"bench": "team_tab", "items": n, "answers": len(rows), "people": args.people,
                      "overlap_items": plain["agreement"]["overlap_items"],
                      "krippendorff_alpha": plain["agreement"]["krippendorff_alpha"],
                      "team_overview_s": people_s, "team_overview_with_ai_s": ai_s,
                      "raters_with_ai": len(with_ai["agreement"]["raters"])}))


if __name__ == "__main__":
    main()
