"""Import throughput: rows/s and peak memory for a large CSV through the real service.

    python bench/bench_import.py --rows 1000000

Prints one JSON line. The CSV is generated (short synthetic texts, a label column on 10 % of
rows, two metadata columns) into a temp directory; the import is one transaction.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.core.config import Settings  # noqa: E402
from annotator.importers import ImportSpec  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402

WORDS = np.array("the a film plot actor great bad boring scene music story long short funny sad dark".split())


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    chunk = 100_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        words = WORDS[rng.integers(len(WORDS), size=(n, 12))]
        texts = [" ".join(w) + f" #{start + i}" for i, w in enumerate(words)]
        labels = np.where(rng.random(n) < 0.1, rng.choice(["pos", "neg"], size=n), "")
        frame = pd.DataFrame({"text": texts, "label": labels, "source": "bench", "n": np.arange(start, start + n)})
        frame.to_csv(path, mode="a", header=start == 0, index=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "big.csv"
        make_csv(csv, args.rows)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        service = AnnotatorService.from_settings(Settings(data_dir=Path(tmp) / "data", demo=False))
        service.projects.create_project("bench", ["pos", "neg"])
        started = time.perf_counter()
        report = service.imports.import_file("bench", csv, ImportSpec(text_column="text", label_column="label"))
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "bench": "import", "rows": args.rows, "file_mb": round(csv.stat().st_size / 2**20, 1),
            "seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
            "items_added": report.items_added, "labels_imported": report.labels_imported,
            "peak_rss_mb": round(peak), "rss_before_import_mb": round(rss_before),
        }))
        service.close()


if __name__ == "__main__":
    main()
