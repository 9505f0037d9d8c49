"""The fine-tuning seam: ``TextTrainer`` trains a text classifier into a directory and predicts
with one. ``TransformerTrainer`` is the real one (any AutoModelForSequenceClassification
checkpoint: the bundled MiniLM by default); ``RuleTrainer`` is the fake for tests.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from annotator.core.errors import ModelLoadError, ValidationError

ProgressFn = Callable[[int, int], None]


class FinetuneConfig(BaseModel):
    """Hyperparameters of one fine-tuning run (small defaults that fit a CPU)."""

    model: str = Field(description="Local path or hub id of the checkpoint to start from.")
    epochs: float = Field(default=2.0, gt=0)
    max_length: int = Field(default=128, ge=8, description="Tokens per text; longer texts are truncated.")
    batch_size: int = Field(default=16, ge=1)
    lr: float = Field(default=5e-5, gt=0)
    max_steps: int | None = Field(default=None, ge=1, description="Cap on optimiser steps (CPU time).")
    max_steps_cpu: int | None = Field(default=400, ge=1, description="Cap used when no GPU is present.")
    warmup_fraction: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 0
    device: str | None = Field(default=None, description="cuda | cpu; default cuda when available.")


class TextTrainer(Protocol):
    """Train into ``out_dir`` (which exists and is empty) and predict (n, k) probabilities from one."""

    def train(self, texts: Sequence[str], y: np.ndarray, weights: np.ndarray, label_names: Sequence[str],
              out_dir: Path, progress: ProgressFn | None = None) -> dict: ...

    def predict(self, model_dir: Path, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray: ...


class TransformerTrainer:
    """Fine-tune a sequence-classification transformer with a plain torch loop.

    Weighted cross-entropy (auto-accepted AI labels can count less than people's), AdamW with a
    linear warm-up/decay schedule, gradient clipping at 1.0; ``save_pretrained`` into ``out_dir``.
    """

    def __init__(self, config: FinetuneConfig):
        self.config = config
        self._loaded: tuple[str, object, object] | None = None  # (dir, tokenizer, model)

    def _device(self) -> str:
        import torch

        return self.config.device or ("cuda" if torch.cuda.is_available() else "cpu")

    def total_steps(self, n: int, device: str) -> int:
        c = self.config
        steps = max(1, math.ceil(c.epochs * math.ceil(n / c.batch_size)))
        cap = c.max_steps or (c.max_steps_cpu if device == "cpu" else None)
        return min(steps, cap) if cap else steps

    def train(self, texts: Sequence[str], y: np.ndarray, weights: np.ndarray, label_names: Sequence[str],
              out_dir: Path, progress: ProgressFn | None = None) -> dict:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        c = self.config
        if len(texts) == 0:
            raise ValidationError("Nothing to fine-tune on.", expected="labelled texts", got="0",
                                  fix="label some items first")
        device = self._device()
        torch.manual_seed(c.seed)
        try:
            tok = AutoTokenizer.from_pretrained(c.model)
            model = AutoModelForSequenceClassification.from_pretrained(
                c.model, num_labels=len(label_names), id2label=dict(enumerate(label_names)),
                label2id={n: i for i, n in enumerate(label_names)}, ignore_mismatched_sizes=True,
            )
        except OSError as e:
            raise ModelLoadError(f"Cannot load the fine-tuning checkpoint {c.model!r}.", got=str(e).splitlines()[0],
                                 fix="set finetune_model to a local folder with a transformers checkpoint "
                                     "(or a hub id when online)") from e
        model.to(device).train()
        total = self.total_steps(len(texts), device)
        opt = torch.optim.AdamW(model.parameters(), lr=c.lr)
        warm = int(total * c.warmup_fraction)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))
        y_t = torch.as_tensor(np.asarray(y, dtype=np.int64))
        w_t = torch.as_tensor(np.asarray(weights, dtype=np.float32))
        rng = np.random.default_rng(c.seed)
        started, step, losses = time.perf_counter(), 0, []
        while step < total:
            order = rng.permutation(len(texts))
            for start in range(0, len(order), c.batch_size):
                if step >= total:
                    break
                idx = order[start:start + c.batch_size]
                enc = tok([texts[i] for i in idx], truncation=True, max_length=c.max_length, padding=True,
                          return_tensors="pt").to(device)
                logits = model(**enc).logits
                loss_each = torch.nn.functional.cross_entropy(logits, y_t[idx].to(device), reduction="none")
                wb = w_t[idx].to(device)
                loss = (loss_each * wb).sum() / wb.sum().clamp_min(1e-8)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
                step += 1
                losses.append(float(loss.detach()))
                if progress:
                    progress(step, total)
        model.eval()
        model.save_pretrained(out_dir)
        tok.save_pretrained(out_dir)
        self._loaded = (str(out_dir), tok, model)
        return {"steps": step, "device": device, "train_seconds": round(time.perf_counter() - started, 2),
                "final_loss": round(float(np.mean(losses[-10:])), 4) if losses else None}

    def _load(self, model_dir: Path):  # noqa: ANN202
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if self._loaded is None or self._loaded[0] != str(model_dir):
            try:
                tok = AutoTokenizer.from_pretrained(model_dir)
                model = AutoModelForSequenceClassification.from_pretrained(model_dir).to(self._device()).eval()
            except OSError as e:
                raise ModelLoadError(f"Cannot load the model version in {model_dir}.", got=str(e).splitlines()[0],
                                     fix="the folder may have been moved or deleted; train a new version") from e
            self._loaded = (str(model_dir), tok, model)
        return self._loaded[1], self._loaded[2]

    def predict(self, model_dir: Path, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        import torch

        tok, model = self._load(model_dir)
        device = self._device()
        k = model.config.num_labels
        out = np.zeros((len(texts), k), dtype=np.float32)
        batch = 64
        with torch.inference_mode():
            for start in range(0, len(texts), batch):
                enc = tok(list(texts[start:start + batch]), truncation=True, max_length=self.config.max_length,
                          padding=True, return_tensors="pt").to(device)
                out[start:start + batch] = torch.softmax(model(**enc).logits.float(), dim=-1).cpu().numpy()
                if progress:
                    progress(min(start + batch, len(texts)), len(texts))
        return out


class RuleTrainer:
    """The fake trainer: "predicts" with ``rule(text) -> class index`` (or -1: no idea, uniform).

    Training only writes a config.json and counts steps (``sleep_s`` per step, to test
    cancellation and crashes at a checkpoint); ``fail_at`` raises at that step.
    """

    def __init__(self, rule: Callable[[str], int], *, steps: int = 5, sleep_s: float = 0.0, fail_at: int | None = None):
        self.rule = rule
        self.steps = steps
        self.sleep_s = sleep_s
        self.fail_at = fail_at

    def train(self, texts: Sequence[str], y: np.ndarray, weights: np.ndarray, label_names: Sequence[str],
              out_dir: Path, progress: ProgressFn | None = None) -> dict:
        for step in range(1, self.steps + 1):
            if self.fail_at == step:
                raise RuntimeError(f"RuleTrainer told to fail at step {step}")
            time.sleep(self.sleep_s)
            if progress:
                progress(step, self.steps)
        (out_dir / "config.json").write_text(json.dumps({"fake": "RuleTrainer", "id2label": dict(enumerate(label_names)),
                                                          "num_labels": len(label_names)}))
        return {"steps": self.steps, "device": "cpu"}

    def predict(self, model_dir: Path, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        k = json.loads((Path(model_dir) / "config.json").read_text())["num_labels"]
        out = np.full((len(texts), k), 1.0 / k, dtype=np.float32)
        for i, t in enumerate(texts):
            c = self.rule(t)
            if c >= 0:
                out[i] = 0.02 / max(1, k - 1)
                out[i, c] = 0.98
        return out
