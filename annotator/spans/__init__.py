"""Spans of text with a label (entities, PII, evidence): validation against the text, tokens and
IOB tags for export, and span-level agreement between raters. Plain domain code: no UI, no store."""

from annotator.spans.agreement import PairAgreement, pairwise_span_agreement, span_f1
from annotator.spans.model import Span, SpanProblem, check_spans, parse_spans, validate_spans
from annotator.spans.suggest import ParsedSpans, SpacySpanSuggester, parse_llm_spans
from annotator.spans.tokens import Token, from_iob, snap_to_tokens, to_iob, tokenize

__all__ = [
    "PairAgreement", "ParsedSpans", "SpacySpanSuggester", "Span", "SpanProblem", "Token", "check_spans", "from_iob",
    "pairwise_span_agreement", "parse_llm_spans", "parse_spans", "snap_to_tokens", "span_f1", "to_iob", "tokenize",
    "validate_spans",
]
