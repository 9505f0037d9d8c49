"""Time of the dashboard's data, the HTML report and a suspect-label search on a big pool; and
how well the search finds injected slips.

    python bench/bench_dashboard.py [--items 20000] [--labelled 2000] [--slips 0.05] [--repeats 3]

A ticket project (3 topics, the fake hashing embedder: no model needed) with ``--labelled`` items
labelled by one person, ``--slips`` of them with a wrong label, and one run of the cheap AI
annotators. Prints one JSON line: seconds of ``service.quality.dashboard`` (median), ``write_report`` and
``find_suspects``, the report's size, and the suspects' precision / recall against the slips.
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

from annotator.core.config import Settings  # noqa: E402
from annotator.embeddings import HashingEmbedder  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402

TOPICS = {
    "billing": "refund invoice charged payment card price receipt subscription vat plan".split(),
    "bug": "crash error freezes broken fails blank slow glitch exception hangs".split(),
    "account": "password login email profile delete locked username 2fa signin reset".split(),
}
LABELS = list(TOPICS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--labelled", type=int, default=2_000)
    parser.add_argument("--slips", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        service = AnnotatorService.from_settings(
            Settings(data_dir=Path(tmp) / "d", models_dir=Path(tmp) / "m", demo=False), embedder=HashingEmbedder())
        service.projects.create_project("b", LABELS, settings={"refit_every": 200})
        rows = [{"external_id": str(i), "text": f"{' '.join(rng.sample(TOPICS[LABELS[i % 3]], 4))} "
                 f"{rng.choice(TOPICS[LABELS[(i + 1) % 3]]) if i % 5 == 0 else ''} #{i}"} for i in range(args.items)]
        service.imports.import_records("b", rows)
        ids = []
        p = 0
        while len(ids) < args.labelled:
            ids += [(r["item_id"], int(r["external_id"])) for r in service.browse.browse("b", page=p, page_size=500).rows]
            p += 1
        ids = ids[: args.labelled]
        slips = set(rng.sample([i for i, _ in ids], int(args.slips * len(ids))))
        by_label: dict[str, list[int]] = {}
        for item_id, ext in ids:
            label = LABELS[(ext % 3 + 1) % 3] if item_id in slips else LABELS[ext % 3]
            by_label.setdefault(label, []).append(item_id)
        for label, chunk in by_label.items():
            service.browse.bulk_label("b", "ana", chunk, [label])
        service.queue.refit_now("b")
        service.ai.run_ai("b", "knn,classifier")
        t0 = time.perf_counter()
        suspects = service.quality.find_suspects("b")
        t_suspects = time.perf_counter() - t0
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            service.quality.dashboard("b")
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        path = service.quality.write_report("b", Path(tmp) / "r.html")
        t_report = time.perf_counter() - t0
        found = {s.item_id for s in suspects}
        service.close()
        print(json.dumps({
            "items": args.items, "labelled": args.labelled, "slips": len(slips),
            "dashboard_s": round(statistics.median(times), 3), "report_s": round(t_report, 3),
            "report_mb": round(path.stat().st_size / 1e6, 2) if path.exists() else None,
            "find_suspects_s": round(t_suspects, 3), "suspects": len(found),
            "precision": round(len(found & slips) / max(len(found), 1), 3),
            "recall": round(len(found & slips) / max(len(slips), 1), 3),
        }))


if __name__ == "__main__":
    main()
