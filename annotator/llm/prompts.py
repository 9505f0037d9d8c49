"""Few-shot completion prompts with kNN demonstrations (LLMaAA-style), and their hashes.

A prompt is a plain completion, not a chat: a task line naming every label (with its
description), up to ``n_demos`` demonstrations ``Text: …\\nLabel: …`` and the item itself,
ending in ``Label:`` so that each label name is a continuation whose log-likelihood can be
scored. The demonstrations are the human-labelled items nearest to the item by embedding dot
product, balanced over labels when the context allows it, most similar last (closest to the
item, where tiny models attend most).

``prompt_hash`` = sha256(template + model id); it goes into every suggestion's provenance and
into the cache key, so editing ``assets/prompts/classify.txt`` invalidates old scores.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.annotators.base import LabelContext
from annotator.core.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "prompts"
DEFAULT_TEMPLATE = "classify"
DEFAULT_N_DEMOS = 4
DEFAULT_MAX_CHARS = 400  # per text (item and each demo): keeps a 4-demo prompt near 500 tokens
_FIELDS = ("label_names", "label_lines", "demos", "text")
_WS = re.compile(r"\s+")


def load_template(name: str = DEFAULT_TEMPLATE, prompts_dir: Path = PROMPTS_DIR) -> str:
    """The template text of ``assets/prompts/<name>.txt`` (or of a path ending in .txt)."""
    path = Path(name) if str(name).endswith(".txt") else prompts_dir / f"{name}.txt"
    try:
        template = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"Prompt template {path} cannot be read.", expected="a UTF-8 text file",
                          got=type(e).__name__, fix=f"restore it from git, or pick one of {sorted(p.stem for p in prompts_dir.glob('*.txt'))}") from e
    missing = [f for f in _FIELDS if "{" + f + "}" not in template]
    if missing:
        raise ConfigError(f"Prompt template {path} lacks a field.", expected=", ".join("{" + f + "}" for f in _FIELDS),
                          got="missing " + ", ".join(missing), fix="add the missing fields to the template")
    return template


def prompt_hash(template: str, model_id: str) -> str:
    """sha256 hex of the template and the model id: the prompt's identity in provenance and caches."""
    return hashlib.sha256(f"{template}\0{model_id}".encode()).hexdigest()


def clean_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """One line (whitespace collapsed) of at most ``max_chars`` characters, "…" marking a cut."""
    text = _WS.sub(" ", str(text)).strip()
    if len(text) > max_chars:
        text = text[: max(1, max_chars - 1)].rstrip() + "…"
    return text


def select_demos(item_embeddings: np.ndarray, context: LabelContext, n_demos: int = DEFAULT_N_DEMOS) -> list[list[int]]:
    """Indices into ``context`` of each item's demonstrations, least similar first.

    Args:
        item_embeddings: (n, d) embeddings of the items (L2-normalised, like the context's).
        context: the human-labelled items, ``embeddings`` (m, d) and ``labels`` (m,).
        n_demos: at most this many demonstrations per item.

    Returns:
        n lists of at most ``n_demos`` indices. Each label present in the context gets an equal
        share of its nearest items (``n_demos // labels present``, at least one while slots
        remain); leftover slots go to the nearest items overall. The list is ordered by
        similarity ascending, so the most similar demonstration sits right before the item.
    """
    n, m = len(item_embeddings), len(context.labels)
    if n_demos <= 0 or m == 0:
        return [[] for _ in range(n)]
    labels = np.asarray(context.labels, dtype=np.int64)
    present = np.unique(labels)
    quota = max(1, n_demos // len(present))
    out: list[list[int]] = []
    for start in range(0, n, 1024):  # bounded (chunk × m) similarity blocks
        sims = np.asarray(item_embeddings[start:start + 1024], dtype=np.float32) @ np.asarray(context.embeddings, dtype=np.float32).T
        for sim in sims:
            order = np.argsort(-sim, kind="stable")
            chosen: list[int] = []
            # nearest labels first, so that with more labels than slots the closest classes show
            by_label = {int(lab): order[labels[order] == lab][:quota] for lab in present}
            for lab in sorted(by_label, key=lambda lab: -sim[by_label[lab][0]]):
                chosen.extend(int(i) for i in by_label[lab][: n_demos - len(chosen)])
            if len(chosen) < n_demos:
                taken = set(chosen)
                chosen.extend(int(i) for i in order if int(i) not in taken)
                chosen = chosen[:n_demos]
            out.append(sorted(chosen, key=lambda i: sim[i]))
    return out


@dataclass(frozen=True)
class PromptBuilder:
    """Renders the classify template for items in a given context.

    Attributes:
        template: the template text (see ``load_template``).
        n_demos: at most this many kNN demonstrations per item.
        max_chars: character budget for each text, the item's and each demo's.
    """

    template: str
    n_demos: int = DEFAULT_N_DEMOS
    max_chars: int = DEFAULT_MAX_CHARS

    @classmethod
    def from_name(cls, name: str = DEFAULT_TEMPLATE, **kwargs) -> PromptBuilder:  # noqa: ANN003
        return cls(load_template(name), **kwargs)

    def header(self, context: LabelContext) -> tuple[str, str]:
        descriptions = list(context.label_descriptions) + [""] * context.n_labels
        names = ", ".join(context.label_names)
        lines = "\n".join(f"- {name}: {clean_text(desc, 200)}" if desc and desc.strip() else f"- {name}"
                          for name, desc in zip(context.label_names, descriptions))
        return names, lines

    def render(self, text: str, demos: Sequence[tuple[str, str]], context: LabelContext) -> str:
        """One prompt; ``demos`` are (text, label name) pairs in display order. Ends in "Label:"."""
        names, lines = self.header(context)
        demo_block = "".join(f"Text: {clean_text(t, self.max_chars)}\nLabel: {lab}\n\n" for t, lab in demos)
        # str.format does not re-read braces inside substituted values, so any text is safe here
        return self.template.format(label_names=names, label_lines=lines, demos=demo_block,
                                    text=clean_text(text, self.max_chars)).rstrip()

    def build(self, texts: Sequence[str], embeddings: np.ndarray | None, context: LabelContext) -> list[str]:
        """(n,) prompts, one per item, each with its nearest human-labelled items as demonstrations."""
        if embeddings is None or len(context.labels) == 0 or np.asarray(context.embeddings).size == 0:
            picks: list[list[int]] = [[] for _ in texts]
        else:
            picks = select_demos(np.asarray(embeddings), context, self.n_demos)
        names = context.label_names
        return [self.render(text, [(context.texts[i], names[int(context.labels[i])]) for i in pick], context)
                for text, pick in zip(texts, picks, strict=True)]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(model_id: str, prompt_sha: str, prompt_text: str, label_names: Sequence[str], scoring: str = "") -> str:
    """Key of one item's scores: model id, prompt hash, the labels and scoring mode, and the hash of
    the rendered prompt (item text *and* its demonstrations, so a changed context never serves
    stale scores)."""
    labels = "\x1f".join(label_names)
    return f"{model_id}|{prompt_sha[:16]}|{text_hash(labels + chr(0) + scoring + chr(0) + prompt_text)}"
