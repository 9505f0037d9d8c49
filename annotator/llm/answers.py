"""Reading an LLM's answer as label probabilities: top log-probabilities, free-text answers, votes.

Plain functions over strings and arrays (no server, no model), shared by the endpoint annotator and
the pairwise judge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

# Paraphrases of the template's first line for the vote variants (CoAnnotating): same task, other words.
INSTRUCTION_VARIANTS = (
    None,  # the template's own instruction
    "Assign one label to each text. The labels are: {label_names}.",
    "Read each text and answer with the single best label from: {label_names}.",
    "Which label fits each text best? Choose one of: {label_names}.",
    "Label each text with exactly one category out of: {label_names}.",
)
VOTE_PSEUDO_COUNT = 0.1  # per label: a unanimous vote is 0.98 (5 variants, 2 labels), never a hard 0 / 1
_MARKERS = str.maketrans({"Ġ": " ", "▁": " ", "Ċ": "\n"})  # BPE / SentencePiece space marks some servers leak
_STRIP = " \t\r\n\"'`.,;:!?()[]{}*<>"


def _norm(text: str) -> str:
    return text.translate(_MARKERS).strip(_STRIP).lower()


def label_probs_from_top_logprobs(top: Mapping[str, float], label_names: Sequence[str]) -> np.ndarray | None:
    """(k,) label probabilities from one position's top-N next-token log-probabilities.

    A top token counts for a label when the label's name starts with it (case and surrounding
    spaces / punctuation ignored): " pos" and " positive" both count for "positive". A token that
    several labels start with (" ne" for "negative" / "neutral") splits its mass evenly. A label
    none of whose tokens made the top N has at most the smallest listed probability; it gets half
    of that (or of the unlisted remainder when smaller), then the row is renormalised.

    Args:
        top: token text → natural-log probability, as the server returned them.
        label_names: (k,) the project's labels.

    Returns:
        (k,) float64 summing to 1, or None when no top token is the start of any label (the answer
        is not a label: garbage, a refusal, or a model that ignores the prompt).
    """
    names = [_norm(n) for n in label_names]
    mass = np.zeros(len(names), dtype=np.float64)
    listed = []
    for token, logprob in top.items():
        try:
            p = math.exp(float(logprob))
        except (TypeError, ValueError, OverflowError):
            continue
        if not math.isfinite(p):
            continue
        listed.append(p)
        t = _norm(str(token))
        if not t:
            continue  # whitespace / newline / punctuation alone: no label
        hits = [j for j, name in enumerate(names) if name.startswith(t)]
        for j in hits:
            mass[j] += p / len(hits)
    if not mass.any():
        return None
    remainder = max(1.0 - sum(listed), 0.0)
    floor = 0.5 * min(min(listed), remainder) if remainder > 0 else 0.5 * min(listed)
    mass[mass == 0] = max(floor, 1e-12)
    return mass / mass.sum()


def parse_label(answer: str, label_names: Sequence[str]) -> int | None:
    """Index of the label a free-text ``answer`` names, or None when it names none (or several).

    Reads the first line only: "positive", " Positive.", "Label: positive", "positive\nbecause…"
    and "I'd say positive" all name "positive"; "positive or negative" names two, so none.
    Longer names are matched first, so "very positive" is not also read as "positive".
    """
    names = [_norm(n) for n in label_names]
    first = _norm(answer.translate(_MARKERS).strip().split("\n", 1)[0])
    first = re.sub(r"^(label|answer|category)\s*[:=-]\s*", "", first).strip(_STRIP)
    if first in names:
        return names.index(first)
    found = set()
    for j in sorted(range(len(names)), key=lambda j: -len(names[j])):
        pattern = rf"(?<!\w){re.escape(names[j])}(?!\w)"
        if names[j] and re.search(pattern, first):
            found.add(j)
            first = re.sub(pattern, " ", first)  # "very positive" found: its "positive" is taken
    return found.pop() if len(found) == 1 else None


def vote_probs(votes: Sequence[int | None], k: int, pseudo_count: float = VOTE_PSEUDO_COUNT) -> np.ndarray | None:
    """(k,) vote shares of the variants' answers (None = no label), smoothed; None when no variant
    named a label."""
    counts = np.bincount([v for v in votes if v is not None], minlength=k).astype(np.float64)
    if counts.sum() == 0:
        return None
    return (counts + pseudo_count) / (counts.sum() + pseudo_count * k)


def variant_template(template: str, variant: int) -> str:
    """The template with its first line (the instruction) paraphrased for vote ``variant``.

    Variant 0 is the template itself; a template whose first line does not name
    ``{label_names}`` keeps its instruction (its variants differ in demonstration order only).
    """
    para = INSTRUCTION_VARIANTS[variant % len(INSTRUCTION_VARIANTS)]
    first, sep, rest = template.partition("\n")
    if para is None or "{label_names}" not in first:
        return template
    return para + sep + rest
