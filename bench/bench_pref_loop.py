"""Human verdicts needed for correct final preferences: people + the judge learnt from them vs all-human.

    HF_HUB_OFFLINE=1 python bench/bench_pref_loop.py --pairs 300 --seeds 0,1,2 --batch 20 [--target 0.95]

The whole service on a temp SQLite project (MiniLM embeddings): a simulated person answers the
items the queue serves (``next_task``, audits and random picks included) with the side known to
be better (``annotator.tasks.demo_pairs``); after every ``--batch`` verdicts the ``bt-judge``
(Bradley–Terry on embeddings, ``judge --judge bt-judge``) is refitted, calibrated on the verdicts
and routed at ``--target`` precision. The loop ends when no item is left for people. Reported per
seed: human verdicts used, items auto-accepted, final accuracy of all preferences (people's are
right by construction), and the precision of the auto-accepted ones; all-human needs ``--pairs``
verdicts for 100 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.config import Settings  # noqa: E402
from annotator.routing import RoutingPolicy  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402
from annotator.tasks.demo_pairs import preference_pairs  # noqa: E402


def run(seed: int, n: int, batch: int, target: float) -> dict:
    pairs = preference_pairs(n, seed)
    truth = {p["prompt"]: p for p in pairs}
    with tempfile.TemporaryDirectory() as tmp:
        service = AnnotatorService.from_settings(Settings(data_dir=Path(tmp), demo=False))
        try:
            service.create_project("p", [], task_type="preference", settings={"seed": seed})
            service.import_records("p", [{"text": p["prompt"], "metadata": {"response_a": p["response_a"],
                                                                            "response_b": p["response_b"]}}
                                         for p in pairs])
            policy = RoutingPolicy(target_precision=target, audit_fraction=0.05)
            human, rounds, t0 = 0, 0, time.perf_counter()
            while True:
                answered = 0
                for _ in range(batch):
                    view = service.next_task("p", "sim")
                    if view is None:
                        break
                    pair = truth[view.prompt]
                    good = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
                    service.submit_task("p", "sim", view.item_id, choice="left" if view.left == good else "right")
                    answered += 1
                human += answered
                if answered == 0:
                    break
                rounds += 1
                try:
                    service.run_judge("p", "bt-judge", policy=policy)
                except Exception as e:  # noqa: BLE001 - too few verdicts of one side early on
                    if "at least two classes" not in str(e):
                        raise
            rows = list(service.final_labels("p"))
        finally:
            service.close()
    auto = [r for r in rows if r["label_source"] == "agent"]
    correct = sum(r["label"] == [truth[r["text"]]["better"]] for r in rows if r["label"])
    return {"seed": seed, "pairs": n, "human_verdicts": human, "human_share": round(human / n, 3),
            "auto_accepted": len(auto), "final_accuracy": round(correct / n, 4),
            "auto_precision": round(sum(r["label"] == [truth[r["text"]]["better"]] for r in auto) / len(auto), 4)
            if auto else None,
            "auto_by_kind": {k: sum(truth[r["text"]]["kind"] == k for r in auto) for k in ("arithmetic", "capital",
                                                                                           "relevance")},
            "rounds": rounds, "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--target", type=float, default=0.95)
    args = ap.parse_args()
    rows = [run(int(s), args.pairs, args.batch, args.target) for s in args.seeds.split(",")]
    for row in rows:
        print(json.dumps(row), flush=True)
    mean = lambda k: round(sum(r[k] for r in rows) / len(rows), 3)  # noqa: E731
    print(json.dumps({"mean_human_share": mean("human_share"), "mean_final_accuracy": mean("final_accuracy"),
                      "all_human_share": 1.0, "target": args.target, "seeds": len(rows)}))


if __name__ == "__main__":
    main()
