"""Latency of "submit → next item" with several annotators labelling at once, each through its own
service instance (a separate app process) on one database.

    python bench/bench_team_load.py                       # 8 annotators on a SQLite file
    python bench/bench_team_load.py --annotators 32 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/bench_team_load.py --annotators 32 --services 4 --postgres ...   # 8 people per app process

The project has ``--items`` synthetic items, 20 % of them answered by 3 people (overlap), leases of
2 seconds; annotators skip 4 % of their items and abandon 4 % (the lease runs out), as in the load
test. Refits are off (the queue, the leases and the database are measured, not the classifier).
With ``--postgres`` the database's public schema is dropped and re-created first: pass a
throw-away database. Prints one JSON line: p50/p95/max in milliseconds, answers per second, and
the store's verdict (items over their required answers: must be 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.core.config import Settings  # noqa: E402
from annotator.embeddings import HashingEmbedder  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402
from annotator.simulate.team_load import run_team  # noqa: E402

LABELS = ["pos", "neg", "mixed"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--services", type=int, default=None,
                        help="service instances (app processes) the annotators share, round robin; default one each")
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--postgres", default=None, help="a throw-away PostgreSQL database URL")
    parser.add_argument("--deadline", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            from sqlalchemy import text

            from annotator.store import make_engine

            engine = make_engine(args.postgres)
            with engine.begin() as c:
                c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
            settings = Settings(data_dir=Path(tmp) / "data", database_url=args.postgres, demo=False)
        else:
            settings = Settings(data_dir=Path(tmp) / "data", demo=False)
        embedder = HashingEmbedder()
        first = AnnotatorService.from_settings(settings, embedder=embedder)
        first.projects.create_project("bench", LABELS, settings={
            "overlap_fraction": 0.2, "overlap_k": 3, "lease_minutes": 2.0 / 60, "refit_every": 1_000_000,
            "explore_fraction": 0.0})
        first.imports.import_records("bench", [{"text": f"synthetic ticket {i} " + "word " * (i % 9)}
                                       for i in range(args.items)])
        n_services = args.services or args.annotators
        instances = [first] + [AnnotatorService.from_settings(settings, embedder=embedder)
                               for _ in range(n_services - 1)]
        for svc in instances:
            svc.queue.pool("bench")
        services = [instances[k % n_services] for k in range(args.annotators)]
        required = first.team.required_answers("bench")
        target = args.items + sum(k - 1 for k in required.values())
        names = [f"p{k:02d}" for k in range(args.annotators)]
        t0 = time.perf_counter()
        run = run_team(services, "bench", names, labels=LABELS, target_answers=target, deadline_s=args.deadline)
        wall = time.perf_counter() - t0
        from sqlalchemy import func
        from sqlmodel import select

        from annotator.store import transaction
        from annotator.store.tables import Response, User

        with transaction(first.engine) as s:
            counts = s.exec(select(Response.item_id, func.count(func.distinct(Response.user_id)))
                            .join(User, User.id == Response.user_id)
                            .where(Response.status == "submitted", User.is_system == False)  # noqa: E712
                            .group_by(Response.item_id)).all()
        over = sum(1 for item_id, n in counts if n > required.get(int(item_id), 1))
        lat = np.asarray(run.latencies_ms)
        print(json.dumps({
            "bench": "team_load", "database": "postgresql" if args.postgres else "sqlite",
            "annotators": args.annotators, "services": n_services, "items": args.items, "answers": len(run.accepted),
            "finished": run.finished, "seconds": round(wall, 1),
            "answers_per_s": round(len(run.accepted) / wall, 1),
            "submit_to_next_ms": {"p50": round(float(np.percentile(lat, 50)), 1),
                                  "p95": round(float(np.percentile(lat, 95)), 1), "max": round(float(lat.max()), 1)},
            "refused_late_answers": len(run.refused), "skipped": run.skipped, "abandoned": run.abandoned,
            "items_over_required": over, "errors": len(run.errors),
        }))
        for svc in instances:
            svc.close()


if __name__ == "__main__":
    main()
