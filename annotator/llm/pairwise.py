"""LLM-as-a-judge for post-training data: pairwise preferences (both orders) and ratings.

A judge prompt (``assets/prompts/judge_pairwise.txt``) shows a question and two answers and ends
in ``Better:``; the judge's verdict is the likelihood of " A" vs " B" after it (the local model
scores each option's log-likelihood, an endpoint returns its top log-probabilities).

Position bias (MT-Bench): small and large models alike prefer one position. Every pair is asked
in both orders, (a, b) and (b, a), and mapped back onto the original a / b:

- the two orders agree → the verdict is that side, with the mean of the two probabilities;
- they disagree (the judge followed the position, not the content) → half the mass goes to
  ``tie`` and the rest keeps the averaged a/b split, so the confidence is at most 0.5 and the
  router never auto-accepts such a verdict.

``PairwiseJudge`` is an ``AIAnnotator`` over the preference labels A / B / tie / both-bad, so the
service calibrates it on people's verdicts and routes and audits it exactly like a classifier.

Plug-in seam: ``OptionScorer`` (one method: option probabilities after each prompt), with the
local model, an OpenAI-compatible endpoint, and two fakes for tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from annotator.annotators.base import ItemBatch, LabelContext
from annotator.core.errors import ConfigError, ValidationError
from annotator.llm.cache import LLMCache
from annotator.llm.prompts import PROMPTS_DIR, cache_key, clean_text, prompt_hash
from annotator.tasks.definitions import PREFERENCE_LABELS

PAIRWISE_TEMPLATE = "judge_pairwise"
RATING_TEMPLATE = "judge_rating"
OPTIONS = ("A", "B")
#: Probability floor of each preference label, so calibration never takes the log of 0.
EPS = 1e-3


def load_judge_template(name: str, fields: Sequence[str]) -> str:
    path = Path(name) if str(name).endswith(".txt") else PROMPTS_DIR / f"{name}.txt"
    try:
        template = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"Judge prompt {path} cannot be read.", got=type(e).__name__,
                          fix="restore it from git (assets/prompts/)") from e
    missing = [f for f in fields if "{" + f + "}" not in template]
    if missing:
        raise ConfigError(f"Judge prompt {path} lacks a field.", expected=", ".join("{" + f + "}" for f in fields),
                          got="missing " + ", ".join(missing))
    return template


@runtime_checkable
class OptionScorer(Protocol):
    """Plug-in seam: how likely each option is as the continuation of each prompt."""

    name: str

    def option_probs(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        """(n, k) probabilities over ``options`` after each prompt; rows sum to 1."""
        ...


# ------------------------------------------------------------------------------------ verdicts


@dataclass(frozen=True)
class PairVerdicts:
    """Judge verdicts on n pairs.

    Attributes:
        proba: (n, 4) over PREFERENCE_LABELS (A, B, tie, both-bad), about the ORIGINAL a / b.
        p_ab: (n,) P(first shown is better) with a shown first.
        p_ba: (n,) P(first shown is better) with b shown first (NaN when not asked).
        consistent: (n,) bool, both orders name the same side (True when only one order was asked).
    """

    proba: np.ndarray
    p_ab: np.ndarray
    p_ba: np.ndarray
    consistent: np.ndarray

    @property
    def verdict(self) -> list[str]:
        return [PREFERENCE_LABELS[int(i)] for i in self.proba.argmax(axis=1)]

    @property
    def confidence(self) -> np.ndarray:
        return self.proba.max(axis=1)


def _smooth(proba: np.ndarray) -> np.ndarray:
    proba = np.maximum(proba, EPS)
    return proba / proba.sum(axis=1, keepdims=True)


def combine_orders(p_ab: np.ndarray, p_ba: np.ndarray) -> PairVerdicts:
    """Both orders → verdicts about a / b (see the module docstring).

    Args:
        p_ab: (n,) P(first better) when a was shown first: P(a better) by that order.
        p_ba: (n,) P(first better) when b was shown first: 1 - p_ba is P(a better) by that order.
    """
    p_ab = np.asarray(p_ab, dtype=np.float64)
    p_ba = np.asarray(p_ba, dtype=np.float64)
    a_by_second = 1.0 - p_ba
    p_a = (p_ab + a_by_second) / 2.0
    consistent = (p_ab - 0.5) * (a_by_second - 0.5) > 0
    proba = np.zeros((len(p_ab), len(PREFERENCE_LABELS)))
    proba[:, 0] = np.where(consistent, p_a, p_a / 2.0)
    proba[:, 1] = np.where(consistent, 1.0 - p_a, (1.0 - p_a) / 2.0)
    proba[:, 2] = np.where(consistent, 0.0, 0.5)
    return PairVerdicts(_smooth(proba), p_ab, p_ba, consistent)


def single_order(p_ab: np.ndarray) -> PairVerdicts:
    """The baseline without swapping: the verdict of the (a, b) order alone."""
    p_ab = np.asarray(p_ab, dtype=np.float64)
    proba = np.zeros((len(p_ab), len(PREFERENCE_LABELS)))
    proba[:, 0] = p_ab
    proba[:, 1] = 1.0 - p_ab
    return PairVerdicts(_smooth(proba), p_ab, np.full(len(p_ab), np.nan), np.ones(len(p_ab), dtype=bool))


def render_pair(template: str, prompt: str, first: str, second: str, max_chars: int = 600) -> str:
    return (template.rstrip("\n").replace("{prompt}", clean_text(prompt, max_chars))
            .replace("{first}", clean_text(first, max_chars)).replace("{second}", clean_text(second, max_chars)))


def judge_pairs(scorer: OptionScorer, pairs: Sequence[tuple[str, str, str]], *, swap: bool = True,
                template: str = PAIRWISE_TEMPLATE) -> PairVerdicts:
    """Verdicts on (prompt, response_a, response_b) triples, asking both orders when ``swap``."""
    text = load_judge_template(template, ("prompt", "first", "second"))
    if not pairs:
        empty = np.zeros(0)
        return PairVerdicts(np.zeros((0, len(PREFERENCE_LABELS))), empty, empty, np.zeros(0, dtype=bool))
    ab = [render_pair(text, p, a, b) for p, a, b in pairs]
    if not swap:
        return single_order(scorer.option_probs(ab, OPTIONS)[:, 0])
    ba = [render_pair(text, p, b, a) for p, a, b in pairs]
    probs = scorer.option_probs(ab + ba, OPTIONS)[:, 0]
    return combine_orders(probs[: len(pairs)], probs[len(pairs):])


def rate_responses(scorer: OptionScorer, items: Sequence[tuple[str, str]], criterion: str,
                   scale: tuple[int, int] = (1, 5), *, template: str = RATING_TEMPLATE) -> np.ndarray:
    """(n, hi-lo+1) probabilities of each score of ``criterion`` for (prompt, response) pairs."""
    lo, hi = scale
    if not 0 <= lo < hi <= 9:
        raise ValidationError("A judged rating scale must use one-digit scores.", got=f"{lo}..{hi}", expected="0..9")
    text = load_judge_template(template, ("prompt", "response", "criterion", "lo", "hi"))
    text = text.replace("{criterion}", criterion).replace("{lo}", str(lo)).replace("{hi}", str(hi))
    prompts = [text.rstrip("\n").replace("{prompt}", clean_text(p, 600)).replace("{response}", clean_text(r, 600))
               for p, r in items]
    return scorer.option_probs(prompts, [str(s) for s in range(lo, hi + 1)])


# ------------------------------------------------------------------------------------ the annotator


@dataclass
class PairwiseJudge:
    """AI annotator "llm-judge" for preference projects (see the module docstring).

    Attributes:
        scorer: the LLM behind it (``LocalOptionScorer``, ``EndpointOptionScorer``, or a fake).
        pairs: item text (the prompt) → (response_a, response_b); the service fills it from the store.
        swap: ask both orders (default) or only (a, b) (the baseline the bench compares).
    """

    scorer: OptionScorer
    pairs: Mapping[str, tuple[str, str]]
    swap: bool = True
    template: str = PAIRWISE_TEMPLATE
    name: str = "llm-judge"
    needs_text: bool = True
    version: str = field(init=False)

    def __post_init__(self) -> None:
        sha = prompt_hash(load_judge_template(self.template, ("prompt", "first", "second")), self.scorer.name)
        self.version = f"{self.scorer.name}@{sha[:8]}{'' if self.swap else '-noswap'}"

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k) over ``context.label_names`` (a subset of A, B, tie, both-bad), rows sum to 1."""
        names = list(context.label_names)
        unknown = [n for n in names if n not in PREFERENCE_LABELS]
        if unknown:
            raise ValidationError("The pairwise judge answers preference projects only.",
                                  got=f"label {unknown[0]!r}", expected=" | ".join(PREFERENCE_LABELS))
        missing = [t for t in batch.texts if t not in self.pairs]
        if missing:
            raise ValidationError(f"{len(missing)} items have no response pair for the judge.",
                                  got=repr(missing[0][:80]), fix="import response_a and response_b for every item")
        verdicts = judge_pairs(self.scorer, [(t, *self.pairs[t]) for t in batch.texts], swap=self.swap,
                               template=self.template)
        out = verdicts.proba[:, [PREFERENCE_LABELS.index(n) for n in names]]
        return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


# ------------------------------------------------------------------------------------ scorers


@dataclass
class LocalOptionScorer:
    """Options scored by log-likelihood with the local model (``annotator.llm.local``), cached."""

    model: str = "smollm2"
    models_dir: Path = Path("models")
    device: str = "cpu"
    cache: LLMCache | None = field(default_factory=dict)
    on_progress: Callable[[int, int], None] | None = None
    name: str = field(init=False)

    def __post_init__(self) -> None:
        from annotator.llm.local import model_id_for

        self.name = model_id_for(self.model)
        self.stats = {"scored": 0, "cached": 0, "seconds": 0.0}
        self._llm: Any = None

    def option_probs(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        from annotator.llm.local import label_continuations, load_llm, score_prompts, softmax_rows

        out = np.empty((len(prompts), len(options)), dtype=np.float64)
        conts = None
        for i, prompt in enumerate(prompts):
            key = cache_key(self.name, "judge", prompt, options, "judge")
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None and len(hit) == len(options):
                out[i] = hit
                self.stats["cached"] += 1
            else:
                if self._llm is None:
                    self._llm = load_llm(self.model, Path(self.models_dir), device=self.device)
                if conts is None:
                    conts = label_continuations(self._llm.tokenizer, options)
                t0 = time.perf_counter()
                out[i] = softmax_rows(score_prompts(self._llm, [prompt], conts))[0]
                self.stats["seconds"] += time.perf_counter() - t0
                self.stats["scored"] += 1
                if self.cache is not None:
                    self.cache[key] = [float(v) for v in out[i]]
            if self.on_progress is not None:
                self.on_progress(i + 1, len(prompts))
        return out


@dataclass
class EndpointOptionScorer:
    """Options from an OpenAI-compatible server's top log-probabilities (``annotator.llm.endpoint``).

    An answer whose top tokens name no option counts as uniform (no evidence either way).
    """

    base_url: str = "http://127.0.0.1:8001/v1"
    model: str = "smollm2"
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    cache: LLMCache | None = field(default_factory=dict)
    name: str = field(init=False)

    def __post_init__(self) -> None:
        from annotator.llm.endpoint import EndpointLLMAnnotator

        self.name = self.model
        self._client = EndpointLLMAnnotator(base_url=self.base_url, model=self.model, api_key=self.api_key,
                                            timeout_s=self.timeout_s, max_retries=self.max_retries, cache=None)

    def option_probs(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        from annotator.llm.answers import label_probs_from_top_logprobs
        from annotator.llm.endpoint import _Unsupported

        out = np.full((len(prompts), len(options)), 1.0 / len(options))
        for i, prompt in enumerate(prompts):
            key = cache_key(self.name, "judge", prompt, options, "judge-endpoint")
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None and len(hit) == len(options):
                out[i] = hit
                continue
            try:
                top, _ = self._client._top_logprobs("completions", prompt)  # noqa: SLF001 - same package
            except _Unsupported:
                top, _ = self._client._top_logprobs("chat", prompt)  # noqa: SLF001
            probs = label_probs_from_top_logprobs(top, options)
            if probs is not None:
                out[i] = probs
                if self.cache is not None:
                    self.cache[key] = [float(v) for v in probs]
        return out


@dataclass
class FirstPositionScorer:
    """Fake: a judge that always prefers the first option shown (pure position bias)."""

    p_first: float = 0.9
    name: str = "fake-first-position"

    def option_probs(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        row = np.full(len(options), (1.0 - self.p_first) / max(len(options) - 1, 1))
        row[0] = self.p_first
        return np.tile(row, (len(prompts), 1))


_ANSWER = re.compile(r"^Answer ([AB]): (.*)$", re.MULTILINE)


@dataclass
class KnownAnswerScorer:
    """Fake: a consistent judge that prefers the shown answer found in ``good`` (the last
    question's answers in the prompt), with probability ``p``; 0.5 when neither or both are good."""

    good: set[str]
    p: float = 0.9
    name: str = "fake-known-answer"

    def option_probs(self, prompts: Sequence[str], options: Sequence[str]) -> np.ndarray:
        out = np.full((len(prompts), len(options)), 0.5)
        for i, prompt in enumerate(prompts):
            found = dict(_ANSWER.findall(prompt.rsplit("Question:", 1)[-1]))
            a_good, b_good = found.get("A") in self.good, found.get("B") in self.good
            if a_good != b_good:
                out[i, :2] = (self.p, 1 - self.p) if a_good else (1 - self.p, self.p)
        return out


# ------------------------------------------------------------------------------------ ratings


@dataclass(frozen=True)
class RatingVerdicts:
    """Judge ratings of n responses on c criteria.

    Attributes:
        expected: (n, c) expected score under the judge's distribution over the scale.
        best: (n, c) int, the most likely score.
        confidence: (n, c) probability of ``best``.
    """

    expected: np.ndarray
    best: np.ndarray
    confidence: np.ndarray


def judge_ratings(scorer: OptionScorer, items: Sequence[tuple[str, str]], criteria: Sequence[str],
                  scale: tuple[int, int] = (1, 5), *, template: str = RATING_TEMPLATE) -> RatingVerdicts:
    """Every (prompt, response) rated on every criterion (one prompt per criterion)."""
    lo, hi = scale
    points = np.arange(lo, hi + 1, dtype=np.float64)
    n, c = len(items), len(criteria)
    expected, best, conf = np.zeros((n, c)), np.zeros((n, c), dtype=np.int64), np.zeros((n, c))
    for j, criterion in enumerate(criteria):
        probs = rate_responses(scorer, items, criterion, scale, template=template) if n else np.zeros((0, len(points)))
        expected[:, j] = probs @ points
        best[:, j] = points[probs.argmax(axis=1)].astype(np.int64) if n else []
        conf[:, j] = probs.max(axis=1) if n else []
    return RatingVerdicts(expected, best, conf)


def rating_agreement(judged: np.ndarray, human: np.ndarray, criteria: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per criterion, how the judge's scores (n, c) match people's (n, c) on the same items:
    exact agreement of the scores, mean absolute error, and Spearman's rho (None when constant)."""
    from scipy.stats import spearmanr

    out: dict[str, dict[str, float]] = {}
    for j, criterion in enumerate(criteria):
        a, b = np.asarray(judged[:, j], dtype=np.float64), np.asarray(human[:, j], dtype=np.float64)
        rho = None
        if len(a) > 2 and np.ptp(a) > 0 and np.ptp(b) > 0:
            rho = round(float(spearmanr(a, b).statistic), 3)
        out[criterion] = {"n": int(len(a)), "exact": round(float((np.rint(a) == b).mean()), 3) if len(a) else None,
                          "mae": round(float(np.abs(a - b).mean()), 3) if len(a) else None, "spearman": rho}
    return out
