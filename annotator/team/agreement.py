"""Agreement between raters: people, and AI annotators when asked, labelling the same items.

Every function takes a *ratings table*: shape (n_items, n_raters), one row per item, one column
per rater, each cell a label index in ``0 .. n_labels - 1`` or missing (``None`` / NaN: the rater
did not answer that item). A pandas DataFrame (columns = raters) or any nested sequence works;
``as_ratings`` turns it into a float array with NaN for missing.

Measures (all nominal):

- pairwise Cohen's kappa, on the items both raters answered (from the confusion matrix with numpy;
  the same figures as ``sklearn.metrics.cohen_kappa_score``);
- Fleiss' kappa over the items with ≥ 2 ratings, the number of ratings per item may vary;
- Krippendorff's alpha (the ``krippendorff`` package), which handles missing ratings natively;
- per label: the same on the one-vs-rest (label / not label) table;
- per rater: agreement with the others on shared items, and accuracy on items with a settled label.

Multi-label projects use ``multilabel_agreement_report`` over a binary tensor instead.
Undefined values (e.g. kappa when both raters only ever use one label) are NaN in tables and None
in the JSON-friendly reports.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from annotator.core.errors import AgreementError, NoOverlapError, NotEnoughRatersError

RatingsLike = pd.DataFrame | np.ndarray | Sequence[Sequence[int | float | None]]


# ---------------------------------------------------------------------------------------- input
def as_ratings(ratings: RatingsLike, n_labels: int | None = None) -> np.ndarray:
    """The ratings table as a float array (n_items, n_raters) with NaN for missing.

    Raises:
        AgreementError: a cell is not a whole label index in ``0 .. n_labels - 1``.
    """
    if isinstance(ratings, pd.DataFrame):
        ratings = ratings.to_numpy(dtype=object if (ratings.dtypes == object).any() else float, na_value=np.nan)
    values = np.asarray(ratings)
    if values.ndim != 2:
        raise AgreementError("A ratings table must be two-dimensional.", expected="shape (n_items, n_raters)",
                             got=f"shape {values.shape}")
    if values.dtype.kind in "biuf":
        out = values.astype(float)
    else:  # lists with None, object columns
        out = np.full(values.shape, np.nan)
        for (i, j), cell in np.ndenumerate(values):
            if cell is None or cell is pd.NA or (isinstance(cell, float) and math.isnan(cell)):
                continue
            try:
                out[i, j] = float(cell)
            except (TypeError, ValueError) as e:
                raise AgreementError(f"Rating {cell!r} (item row {i}, rater column {j}) is not a label index.",
                                     expected="an integer label index or None") from e
    given = out[~np.isnan(out)]
    bad = (given != np.round(given)) | (given < 0) | (given >= (n_labels if n_labels is not None else np.inf))
    if bad.any():
        raise AgreementError(
            f"Rating {given[bad][0]:g} is not a label index.",
            expected=f"integers in 0..{n_labels - 1}" if n_labels is not None else "integers ≥ 0",
            fix="map label names to their index in the project's label list, None where not answered",
        )
    return out


def _check_raters(r: np.ndarray) -> None:
    if r.shape[1] < 2:
        raise NotEnoughRatersError(
            "Agreement needs at least two raters.", got=f"{r.shape[1]} rater(s)",
            fix="let a second person (or, with include_ai, an AI annotator) answer some of the same items",
        )


def _overlap_rows(r: np.ndarray) -> np.ndarray:
    """Boolean (n_items,): items with at least two ratings."""
    rows = (~np.isnan(r)).sum(axis=1) >= 2
    if not rows.any():
        raise NoOverlapError(
            "No item was answered by two raters.", expected="items with ≥ 2 answers",
            got=f"{r.shape[0]} items, each answered at most once",
            fix="set an overlap in the project (some items answered by several people) and label again",
        )
    return rows


def label_counts(ratings: RatingsLike, n_labels: int) -> np.ndarray:
    """Per item, how many raters chose each label: int array (n_items, n_labels)."""
    r = as_ratings(ratings, n_labels)
    counts = np.zeros((r.shape[0], n_labels), dtype=np.int64)
    rows, _ = np.nonzero(~np.isnan(r))
    np.add.at(counts, (rows, r[~np.isnan(r)].astype(np.int64)), 1)
    return counts


def _none(x: float | None) -> float | None:
    """NaN → None, rounded, for JSON."""
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def ratings_from_answers(
    answers: Sequence[tuple[int, str, Sequence[str]]], labels: Sequence[str], *, multi_label: bool = False,
    raters: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[int], list[str], int]:
    """Answers (item_id, rater, label names) → a ratings table.

    Returns:
        (ratings, item_ids, raters, skipped): ``ratings`` is (n_items, n_raters) label indices with
        NaN for missing, or for ``multi_label`` (n_items, n_raters, n_labels) 0/1 with NaN where the
        rater did not answer; rows follow ``item_ids`` and columns ``raters``, both in first-seen
        order (``raters``, when given, fixes the columns first). ``skipped`` counts answers left out:
        empty, naming a label not in ``labels``, or (single-label) naming more than one. A later
        answer of the same rater to an item wins.
    """
    index = {name: k for k, name in enumerate(labels)}
    rows: dict[int, int] = {}
    cols: dict[str, int] = {str(name): j for j, name in enumerate(dict.fromkeys(raters or []))}
    # A project's answers repeat a few values: map each distinct value to its label indices once.
    codes: dict[tuple[str, ...], list[int] | None] = {}
    cell_rows: list[int] = []
    cell_cols: list[int] = []
    cell_ks: list[list[int]] = []
    skipped = 0
    for item_id, rater, value in answers:
        key = tuple(value)
        if key in codes:
            ks = codes[key]
        else:
            ks = codes[key] = _label_indices(key, index, multi_label=multi_label)
        if ks is None:
            skipped += 1
            continue
        cell_rows.append(rows.setdefault(int(item_id), len(rows)))
        cell_cols.append(cols.setdefault(str(rater), len(cols)))
        cell_ks.append(ks)
    if multi_label:
        ratings = np.full((len(rows), len(cols), len(labels)), np.nan)
        for i, j, ks in zip(cell_rows, cell_cols, cell_ks, strict=True):
            ratings[i, j] = 0.0
            ratings[i, j, ks] = 1.0
    else:
        ratings = np.full((len(rows), len(cols)), np.nan)
        if cell_ks:
            flat = np.asarray(cell_rows, dtype=np.int64) * len(cols) + np.asarray(cell_cols, dtype=np.int64)
            # A later answer of the same rater to an item wins: keep each cell's last occurrence.
            _, from_end = np.unique(flat[::-1], return_index=True)
            last = len(flat) - 1 - from_end
            ratings.flat[flat[last]] = np.asarray([ks[0] for ks in cell_ks], dtype=float)[last]
    return ratings, list(rows), list(cols), skipped


def _label_indices(value: tuple[str, ...], index: dict[str, int], *, multi_label: bool) -> list[int] | None:
    """The label indices of one answer's label names; None when it cannot be a rating: empty, a name
    not in ``index``, or (single-label) more than one name."""
    ks = [index.get(v) for v in value]
    if not ks or None in ks or (not multi_label and len(ks) > 1):
        return None
    return ks  # type: ignore[return-value] - no None left


def majority_labels(ratings: RatingsLike, *, min_ratings: int = 3) -> np.ndarray:
    """Per item, the label a strict majority chose, where at least ``min_ratings`` rated it.

    Args:
        ratings: (n_items, n_raters) label indices, NaN for missing.

    Returns:
        (n_items,) float: the majority label index, NaN where there is none.
    """
    r = as_ratings(ratings)
    out = np.full(r.shape[0], np.nan)
    if r.size == 0 or np.isnan(r).all():
        return out
    counts = label_counts(r, int(np.nanmax(r)) + 1)
    n = counts.sum(axis=1)
    top = counts.argmax(axis=1)
    ok = (n >= min_ratings) & (counts.max(axis=1) * 2 > n)
    out[ok] = top[ok]
    return out


def settled_labels(ratings: np.ndarray, reviewed: np.ndarray | None = None, *, min_ratings: int = 3
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each item's settled label: the reviewer's where there is one, else the raters' strict majority.

    Args:
        ratings: (n_items, n_raters) label indices, or multi-label (n_items, n_raters, n_labels) 0/1;
            NaN for missing.
        reviewed: (n_items,) or (n_items, n_labels), the reviewer's answer, NaN where none.
        min_ratings: raters an item needs for its majority to settle it.

    Returns:
        (settled, how): settled is (n_items,) or (n_items, n_labels) with NaN where not settled
        (multi-label: settled only when every label has a majority); how is (n_items,) int,
        0 = not settled, 1 = reviewer, 2 = majority.
    """
    ratings = np.asarray(ratings, dtype=float)
    if ratings.ndim == 3:
        majority = np.stack([majority_labels(ratings[:, :, k], min_ratings=min_ratings)
                             for k in range(ratings.shape[2])], axis=1).reshape(ratings.shape[0], ratings.shape[2])
        majority[np.isnan(majority).any(axis=1)] = np.nan
    else:
        majority = majority_labels(ratings, min_ratings=min_ratings)
    if reviewed is None:
        reviewed = np.full(majority.shape, np.nan)
    reviewed = np.asarray(reviewed, dtype=float).reshape(majority.shape)
    def per_item(x: np.ndarray) -> np.ndarray:  # (n_items, n_labels) view; single-label: one column
        return x if x.ndim == 2 else x[:, None]

    by_review = ~np.isnan(per_item(reviewed)).any(axis=1)
    by_majority = ~by_review & ~np.isnan(per_item(majority)).any(axis=1)
    settled = np.where(by_review[:, None] if majority.ndim == 2 else by_review, reviewed, majority)
    return settled, np.where(by_review, 1, np.where(by_majority, 2, 0))


# ------------------------------------------------------------------------------------- measures
def kappa_from_confusion(confusion: np.ndarray) -> float:
    """Cohen's kappa from a confusion matrix (n_classes, n_classes) of counts: rows rater a's label,
    columns rater b's, over the classes either rater used.

    The same arithmetic as ``sklearn.metrics.cohen_kappa_score`` (unweighted), in the same order, so
    the figures are identical; NaN where undefined (no items, or both raters used one label only).
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    sum0 = confusion.sum(axis=0)
    sum1 = confusion.sum(axis=1)
    total = sum0.sum()
    if total == 0:
        return float("nan")
    expected = np.outer(sum0, sum1) / total
    w_mat = np.ones(confusion.shape, dtype=np.float64)
    np.fill_diagonal(w_mat, 0)
    denominator = (w_mat * expected).sum()
    if denominator == 0:
        return float("nan")
    return float(1 - (w_mat * confusion).sum() / denominator)


def _confusion(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Confusion matrix (n_used, n_used) of two label-index vectors (n_items,) without NaN, over the
    labels either used, in label order (as sklearn's ``confusion_matrix`` without ``labels``)."""
    a, b = a.astype(np.int64), b.astype(np.int64)
    k = int(max(a.max(), b.max())) + 1
    full = np.bincount(a * k + b, minlength=k * k).reshape(k, k)
    used = (full.sum(axis=0) + full.sum(axis=1)) > 0
    return full[np.ix_(used, used)]


def cohen_kappa(a: Sequence[float], b: Sequence[float]) -> tuple[float, int]:
    """Cohen's kappa of two raters on the items both answered.

    Computed from the confusion matrix with numpy (``kappa_from_confusion``): the same figure as
    ``sklearn.metrics.cohen_kappa_score`` without its ~5–20 ms of argument checks per call.

    Args:
        a, b: shape (n_items,), label indices with NaN for missing.

    Returns:
        (kappa, number of items both answered); kappa is NaN when undefined (both used one label).

    Raises:
        NoOverlapError: no item was answered by both.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    n = int(both.sum())
    if n == 0:
        raise NoOverlapError("These two raters answered no item in common.", fix="give them overlapping items")
    return kappa_from_confusion(_confusion(a[both], b[both])), n


def pairwise_cohen_kappa(ratings: RatingsLike, raters: Sequence[str] | None = None) -> pd.DataFrame:
    """Cohen's kappa for every pair of raters that share at least one item.

    Args:
        ratings: (n_items, n_raters).
        raters: n_raters names; default the DataFrame's columns or "0", "1", …

    Returns:
        One row per pair: ``rater_a``, ``rater_b``, ``items`` (answered by both), ``kappa``
        (NaN where undefined), ``agreement`` (share of those items with the same label).

    Raises:
        NotEnoughRatersError, NoOverlapError: fewer than two raters, or no pair shares an item.
    """
    names = _names(ratings, raters)
    r = as_ratings(ratings)
    _check_raters(r)
    rows = []
    for i in range(r.shape[1]):
        for j in range(i + 1, r.shape[1]):
            both = ~np.isnan(r[:, i]) & ~np.isnan(r[:, j])
            if not both.any():
                continue
            kappa, n = cohen_kappa(r[:, i], r[:, j])
            rows.append({"rater_a": names[i], "rater_b": names[j], "items": n, "kappa": kappa,
                         "agreement": float((r[both, i] == r[both, j]).mean())})
    if not rows:
        _overlap_rows(r)  # items with ≥ 2 ratings exist only if some pair overlaps: this raises
    return pd.DataFrame(rows, columns=["rater_a", "rater_b", "items", "kappa", "agreement"])


def fleiss_kappa_from_counts(counts: np.ndarray) -> float:
    """Fleiss' kappa from a count table (n_items, n_labels): raters per item and label.

    Items with fewer than two ratings are left out; the number of ratings may vary between items
    (each item's observed agreement uses its own count, label shares pool all ratings; with a
    constant count this is Fleiss 1971 exactly). NaN when chance agreement is 1 (one label only).
    """
    counts = np.asarray(counts, dtype=float)
    n_i = counts.sum(axis=1)
    keep = n_i >= 2
    if not keep.any():
        raise NoOverlapError("No item has two ratings.", fix="let several raters answer the same items")
    counts, n_i = counts[keep], n_i[keep]
    p_i = ((counts * (counts - 1)).sum(axis=1)) / (n_i * (n_i - 1))
    p_bar = p_i.mean()
    p_j = counts.sum(axis=0) / n_i.sum()
    p_e = float((p_j ** 2).sum())
    if np.isclose(p_e, 1.0):
        return float("nan")
    return float((p_bar - p_e) / (1 - p_e))


def fleiss_kappa(ratings: RatingsLike, n_labels: int) -> float:
    """Fleiss' kappa over the items of ``ratings`` (n_items, n_raters) with ≥ 2 ratings."""
    r = as_ratings(ratings, n_labels)
    _check_raters(r)
    return fleiss_kappa_from_counts(label_counts(r, n_labels)[_overlap_rows(r)])


def krippendorff_alpha(ratings: RatingsLike, n_labels: int) -> float:
    """Krippendorff's alpha, nominal, of ``ratings`` (n_items, n_raters); missing cells allowed.

    NaN when undefined (every rating the same label).
    """
    import krippendorff

    r = as_ratings(ratings, n_labels)
    _check_raters(r)
    _overlap_rows(r)
    if n_labels < 2:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        try:
            # The package wants raters × items ("coders × units").
            return float(krippendorff.alpha(reliability_data=r.T, level_of_measurement="nominal",
                                            value_domain=list(range(n_labels))))
        except ValueError as e:
            raise AgreementError("Krippendorff's alpha cannot be computed on these ratings.", got=str(e)) from e


#: Chance-corrected measures over a whole table, chosen by name (Fleiss, Krippendorff).
MEASURES: dict[str, Callable[[RatingsLike, int], float]] = {
    "fleiss_kappa": fleiss_kappa,
    "krippendorff_alpha": krippendorff_alpha,
}


def _mean_kappa(pairs: pd.DataFrame) -> float:
    k = pairs["kappa"].to_numpy(dtype=float)
    return float(np.nanmean(k)) if np.isfinite(k).any() else float("nan")


def per_label_agreement(ratings: RatingsLike, labels: Sequence[str]) -> pd.DataFrame:
    """Agreement on each label alone: one-vs-rest (this label or not) on the overlapping items.

    Args:
        ratings: (n_items, n_raters), label indices into ``labels``.

    Returns:
        One row per label: ``label``, ``ratings`` (how often raters chose it on overlapping items),
        ``fleiss_kappa``, ``krippendorff_alpha``, ``mean_pairwise_kappa`` (NaN where undefined).
    """
    r = as_ratings(ratings, len(labels))
    _check_raters(r)
    r = r[_overlap_rows(r)]
    rows = []
    for k, label in enumerate(labels):
        binary = np.where(np.isnan(r), np.nan, (r == k).astype(float))
        rows.append({"label": label, "ratings": int(np.nansum(binary)), **_binary_measures(binary)})
    return pd.DataFrame(rows)


def _binary_measures(binary: np.ndarray) -> dict[str, float]:
    """Fleiss, Krippendorff and mean pairwise kappa of a 0/1 table (n_items, n_raters)."""
    out = {name: fn(binary, 2) for name, fn in MEASURES.items()}
    out["mean_pairwise_kappa"] = _mean_kappa(pairwise_cohen_kappa(binary))
    return out


def per_rater_agreement(ratings: RatingsLike, raters: Sequence[str] | None = None, *,
                        pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """How each rater agrees with the others on the items they share.

    ``pairs``: ``pairwise_cohen_kappa`` of the same table and names when the caller has it already
    (the report computes it once for both).

    Returns:
        One row per rater: ``rater``, ``items`` (answered), ``overlap_items`` (answered by them and
        at least one other), ``agreement`` (share of their (item, other rater) pairs with the same
        label), ``mean_kappa`` (mean Cohen's kappa with each partner), ``partners``.
    """
    names = _names(ratings, raters)
    r = as_ratings(ratings)
    if pairs is None:
        pairs = pairwise_cohen_kappa(r, names)
    answered = ~np.isnan(r)
    rows = []
    for j, name in enumerate(names):
        mine = pairs[(pairs.rater_a == name) | (pairs.rater_b == name)]
        others = np.delete(r, j, axis=1)
        same = (others == r[:, [j]]).sum(axis=1)  # NaN never equals: missing others do not count
        n_others = (~np.isnan(others)).sum(axis=1)
        shared = answered[:, j] & (n_others > 0)
        rows.append({
            "rater": name, "items": int(answered[:, j].sum()), "overlap_items": int(shared.sum()),
            "agreement": float(same[shared].sum() / n_others[shared].sum()) if shared.any() else float("nan"),
            "mean_kappa": _mean_kappa(mine) if len(mine) else float("nan"), "partners": len(mine),
        })
    return pd.DataFrame(rows)


def rater_accuracy(ratings: RatingsLike, settled: Sequence[float | None], raters: Sequence[str] | None = None
                   ) -> pd.DataFrame:
    """Each rater's accuracy on the items whose label is settled.

    Args:
        ratings: (n_items, n_raters).
        settled: (n_items,), the settled label index per item, None / NaN where not settled.

    Returns:
        One row per rater: ``rater``, ``settled_items`` (settled items they answered), ``correct``,
        ``accuracy`` (NaN where they answered no settled item).
    """
    names = _names(ratings, raters)
    r = as_ratings(ratings)
    gold = np.array([np.nan if s is None else float(s) for s in settled], dtype=float)
    if gold.shape != (r.shape[0],):
        raise AgreementError("The settled labels do not match the ratings table.",
                             expected=f"{r.shape[0]} entries (one per item)", got=f"{gold.shape[0]}")
    rows = []
    for j, name in enumerate(names):
        mask = ~np.isnan(r[:, j]) & ~np.isnan(gold)
        correct = int((r[mask, j] == gold[mask]).sum())
        rows.append({"rater": name, "settled_items": int(mask.sum()), "correct": correct,
                     "accuracy": correct / int(mask.sum()) if mask.any() else float("nan")})
    return pd.DataFrame(rows)


def _names(ratings: RatingsLike, raters: Sequence[str] | None) -> list[str]:
    if raters is not None:
        names = [str(x) for x in raters]
    elif isinstance(ratings, pd.DataFrame):
        names = [str(c) for c in ratings.columns]
    else:
        names = [str(j) for j in range(np.shape(ratings)[1])]
    if len(names) != np.shape(ratings)[1] or len(set(names)) != len(names):
        raise AgreementError("Rater names must be distinct, one per column.",
                             expected=f"{np.shape(ratings)[1]} names", got=", ".join(names))
    return names


# -------------------------------------------------------------------------------------- reports
def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (_none(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _summary(r: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    answered = ~np.isnan(r)
    return {"raters": list(names), "items_rated": int(answered.any(axis=1).sum()),
            "overlap_items": int((answered.sum(axis=1) >= 2).sum()), "ratings": int(answered.sum())}


def agreement_report(ratings: RatingsLike, labels: Sequence[str], raters: Sequence[str] | None = None, *,
                     settled: Sequence[float | None] | None = None) -> dict[str, Any]:
    """Every measure on a single-label ratings table, as a JSON-friendly dict (NaN → None).

    Args:
        ratings: (n_items, n_raters), label indices into ``labels``, None / NaN for missing.
        settled: optional (n_items,) settled label index per item, for each rater's accuracy.

    Returns:
        ``raters``, ``items_rated``, ``overlap_items`` (≥ 2 ratings), ``ratings``, ``fleiss_kappa``,
        ``krippendorff_alpha``, ``mean_pairwise_kappa``, ``pairwise`` (rows of
        ``pairwise_cohen_kappa``), ``per_label``, ``per_rater`` and, with ``settled``, ``accuracy``.
    """
    names = _names(ratings, raters)
    r = as_ratings(ratings, len(labels))
    _check_raters(r)
    _overlap_rows(r)
    pairs = pairwise_cohen_kappa(r, names)
    report: dict[str, Any] = {
        **_summary(r, names),
        **{name: _none(fn(r, len(labels))) for name, fn in MEASURES.items()},
        "mean_pairwise_kappa": _none(_mean_kappa(pairs)),
        "pairwise": _records(pairs),
        "per_label": _records(per_label_agreement(r, labels)),
        "per_rater": _records(per_rater_agreement(r, names, pairs=pairs)),
    }
    if settled is not None:
        report["accuracy"] = _records(rater_accuracy(r, settled, names))
    return report


def multilabel_agreement_report(binary: np.ndarray, labels: Sequence[str], raters: Sequence[str] | None = None, *,
                                settled: np.ndarray | None = None) -> dict[str, Any]:
    """Agreement for a multi-label project: each label as its own binary (chosen or not) question.

    Args:
        binary: (n_items, n_raters, n_labels), 1.0 where the rater chose the label, 0.0 where they
            answered the item without it, NaN where they did not answer the item.
        settled: optional (n_items, n_labels) 0/1 settled label set, NaN rows where not settled.

    Returns:
        As ``agreement_report``; ``fleiss_kappa``, ``krippendorff_alpha`` and the kappas are macro
        means over labels of the binary measures (labels where undefined are left out), and
        ``agreement`` / ``accuracy`` count an answer as agreeing when the whole label set matches.
    """
    binary = np.asarray(binary, dtype=float)
    if binary.ndim != 3 or binary.shape[2] != len(labels):
        raise AgreementError("A multi-label ratings tensor needs one slice per label.",
                             expected=f"shape (n_items, n_raters, {len(labels)})", got=f"shape {binary.shape}")
    answered = ~np.isnan(binary[:, :, 0])
    names = _names(binary[:, :, 0], raters)
    # Whole answers as one code per (item, rater): agreement on the exact label set.
    codes = np.where(answered, (np.nan_to_num(binary) * (2 ** np.arange(len(labels)))).sum(axis=2), np.nan)
    _check_raters(codes)
    _overlap_rows(codes)
    per_label, pair_kappas, rater_kappas = [], [], []
    for k, label in enumerate(labels):
        table = binary[:, :, k]
        rows = answered.sum(axis=1) >= 2
        row = {"label": label, "ratings": int(np.nansum(table[rows]))}
        row.update(_binary_measures(table))
        per_label.append(row)
        pair_kappas.append(pairwise_cohen_kappa(table, names)["kappa"].to_numpy(dtype=float))
        rater_kappas.append(per_rater_agreement(table, names)["mean_kappa"].to_numpy(dtype=float))
    per_label_frame = pd.DataFrame(per_label)
    pairs = pairwise_cohen_kappa(codes, names)  # agreement column = exact set matches
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        pairs["kappa"] = np.nanmean(np.vstack(pair_kappas), axis=0)
        per_rater = per_rater_agreement(codes, names)
        per_rater["mean_kappa"] = np.nanmean(np.vstack(rater_kappas), axis=0)
        macro = {c: float(np.nanmean(per_label_frame[c].to_numpy(dtype=float)))
                 for c in ("fleiss_kappa", "krippendorff_alpha", "mean_pairwise_kappa")}
    report: dict[str, Any] = {
        **_summary(codes, names), **{c: _none(v) for c, v in macro.items()},
        "pairwise": _records(pairs), "per_label": _records(per_label_frame), "per_rater": _records(per_rater),
        "macro_over_labels": True,
    }
    if settled is not None:
        settled = np.asarray(settled, dtype=float)
        weights = 2 ** np.arange(len(labels))
        gold = np.where(np.isnan(settled).any(axis=1), np.nan, (np.nan_to_num(settled) * weights).sum(axis=1))
        report["accuracy"] = _records(rater_accuracy(codes, gold.tolist(), names))
    return report
