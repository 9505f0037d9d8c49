"""What the login and the per-event role check cost: "label → next item" over HTTP, with and without auth.

    python bench/bench_auth.py [--items 2000] [--answers 150]

Serves the app twice on a temp data directory with the fake (hashing) embedder, once in single-user
mode and once in auth mode (an annotator with a password, logged in through ``POST /login``), and
times ``--answers`` calls (alternating the two apps) of the ``label_0`` event (save the answer, serve the next item) through
``POST /gradio_api/run/predict``. Also times a right and a wrong login (argon2id verify; the wrong
one without its throttle wait). Prints one JSON line, milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ui"))

import httpx  # noqa: E402

from annotator.core.config import Settings  # noqa: E402
from annotator.embeddings import HashingEmbedder  # noqa: E402
from annotator.core.errors import LoginRefusedError  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402
from annotator.ui import AnnotatorUI, auth  # noqa: E402

LABELS = ["billing", "bug", "account"]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


def serve_mode(tmp: Path, auth_mode: bool, items: int, embedder: HashingEmbedder) -> tuple:
    """A served app in one mode: (label call, closer, login timings)."""
    from conftest import free_port

    svc = AnnotatorService.from_settings(Settings(data_dir=tmp / ("auth" if auth_mode else "single"), demo=False),
                                         embedder=embedder)
    svc.projects.create_project("bench", LABELS)
    svc.imports.import_records("bench", [{"text": f"ticket {k} about {LABELS[k % 3]} and more words {k % 97}"}
                                 for k in range(items)])
    svc.queue.pool("bench")
    login_ms: dict[str, float] = {}
    if auth_mode:
        svc.accounts.add_user("ana", "annotator", "ana password")
        t = time.perf_counter()
        svc.accounts.login("ana", "ana password")
        login_ms["login_right_ms"] = round((time.perf_counter() - t) * 1000, 1)
        t = time.perf_counter()
        try:
            svc.accounts.login("ana", "wrong password")
        except LoginRefusedError:
            login_ms["login_wrong_ms_before_wait"] = round((time.perf_counter() - t) * 1000, 1)
        svc.accounts.login_throttle.record_success("ana")
    blocks = AnnotatorUI(svc, refresh_every=600).build()

    async def no_wait(_seconds: float) -> None:
        return None

    port = free_port()
    blocks.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, ssr_mode=False,
                  auth=auth.login_callable(svc, sleep=no_wait) if auth_mode else None)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    if auth_mode:
        assert client.post("/login", data={"username": "ana", "password": "ana password"}).status_code == 200
    index = {auth.event_key(f): i for i, f in blocks.fns.items() if f.fn is not None}
    session = uuid.uuid4().hex[:10]

    def call(key: str, data: list) -> None:
        r = client.post("/gradio_api/run/predict", json={"data": data, "fn_index": index[key], "session_hash": session})
        r.raise_for_status()

    call("load", ["bench", "ana"])

    def label() -> float:
        t = time.perf_counter()
        call("label_0", ["bench", "ana", None, [], False, False, "", False])
        return time.perf_counter() - t

    def close(answers: int) -> None:
        assert svc.queue.progress("bench").by_user == {"ana": answers}
        blocks.close()
        svc.close()

    return label, close, login_ms


def summary(times: list[float]) -> dict:
    return {"p50_ms": _pct(times, 0.5), "p95_ms": _pct(times, 0.95), "mean_ms": round(statistics.fmean(times) * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--answers", type=int, default=150)
    args = parser.parse_args()
    asyncio.set_event_loop(asyncio.new_event_loop())
    embedder = HashingEmbedder()
    with tempfile.TemporaryDirectory() as tmp:
        modes = {name: serve_mode(Path(tmp), name == "auth", args.items, embedder) for name in ("single_user", "auth")}
        times: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.answers):  # alternate the two apps, so machine load hits both alike
            for name, (label, _close, _login) in modes.items():
                times[name].append(label())
        for _label, close, _login in modes.values():
            close(args.answers)
    out = {name: {**summary(times[name]), **modes[name][2]} for name in modes}
    print(json.dumps({"bench": "auth", "items": args.items, "answers": args.answers, **out,
                      "overhead_p50_ms": round(out["auth"]["p50_ms"] - out["single_user"]["p50_ms"], 2)}))

if __name__ == "__main__":
    main()
