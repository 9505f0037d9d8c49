"""Between two rounds a prompt (and so the score cached for it) changes only where its
demonstrations really changed: new labels that are not among an item's nearest labelled items
leave its prompt byte for byte the same."""

from __future__ import annotations

import numpy as np

from annotator.annotators.base import LabelContext
from annotator.llm.prompts import PromptBuilder, load_template, select_demos


def _context(n: int, seed: int = 0, d: int = 16, prefix: str = "review") -> LabelContext:
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, d)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return LabelContext(label_names=["neg", "pos"], texts=[f"{prefix} number {k}" for k in range(n)],
                        embeddings=emb, labels=rng.integers(0, 2, n))


def test_a_prompt_changes_exactly_when_its_demonstrations_change():
    ctx, extra = _context(600), _context(50, seed=7, prefix="new review")
    grown = LabelContext(label_names=ctx.label_names, texts=[*ctx.texts, *extra.texts],
                         embeddings=np.vstack([ctx.embeddings, extra.embeddings]),
                         labels=np.concatenate([ctx.labels, extra.labels]))
    items, texts = _context(300, seed=3).embeddings, [f"item {k}" for k in range(300)]
    builder = PromptBuilder(load_template(), n_demos=4)
    before, after = builder.build(texts, items, ctx), builder.build(texts, items, grown)
    demos_before = [[ctx.texts[i] for i in d] for d in select_demos(items, ctx, 4)]
    demos_after = [[grown.texts[i] for i in d] for d in select_demos(items, grown, 4)]
    same_prompt = np.array([a == b for a, b in zip(before, after, strict=True)])
    same_demos = np.array([a == b for a, b in zip(demos_before, demos_after, strict=True)])
    assert (same_prompt == same_demos).all()
    print(f"prompts unchanged after 50 new labels on 600: {same_prompt.mean():.2f}")
    assert 0.5 < same_prompt.mean() < 1.0  # most stay (cache hits); those with a nearer new label change
