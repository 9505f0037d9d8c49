"""The estimated dataset accuracy in words: one sentence for the command line and the AI tab, one
for the dataset card, both from the dict an AI run records (``pipeline.dataset_estimate``:
``value``, ``ci_low``, ``ci_high``, ``human``, ``auto``, ``human_accuracy``, ``confidence``,
``measured_on``, ``target``, ``bound``), and the boundary check of ``target_accuracy``."""

from __future__ import annotations

from typing import Any

from annotator.core.errors import ValidationError

#: Words that turn the dataset-accuracy target off.
OFF_WORDS = ("off", "none", "")
TARGET_ACCURACY_RANGE = (0.5, 1.0)  # both open: 0.5 is a coin toss, 1.0 leaves the AI no error at all


def parse_target_accuracy(value: float | str | None) -> float | None:
    """A target accuracy as typed (a number strictly between 0.5 and 1, or "off" / "none" / empty
    for none) → the setting's value (None: off).

    Raises:
        ValidationError: anything else, with what was expected and an example.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() in OFF_WORDS:
            return None
        try:
            number = float(value.strip())
        except ValueError as e:
            raise _bad_target(value) from e
    else:
        number = float(value)
    low, high = TARGET_ACCURACY_RANGE
    if not low < number < high:  # also refuses NaN
        raise _bad_target(value)
    return number


def _bad_target(value: Any) -> ValidationError:
    return ValidationError(
        "Cannot use this target accuracy of the dataset.", got=repr(value),
        expected="a share of correct labels strictly between 0.5 and 1, or off",
        fix="pass e.g. 0.95 (95 % of the finished dataset's labels right), or off to route by precision alone")


def _num(x: float) -> str:
    return f"{x:.3f}"


def _human(h: float) -> str:
    return f"{h:g}"


def _target(est: dict[str, Any]) -> str:
    target = est.get("target")
    return "no target set" if target is None else f"target {float(target):g}"


def _bound(est: dict[str, Any]) -> str:
    """How the lower end was bounded, where it is not the default anytime bound (valid over every
    AI run's look): the one-look bound says that the repeated runs are not corrected for."""
    return "; one-look bound: repeated AI runs not corrected for" if est.get("bound") == "clopper-pearson" else ""


def estimate_sentence(est: dict[str, Any] | None) -> str:
    """One line on the dataset's estimated accuracy after an AI run, or why there is none, e.g.
    "estimated dataset accuracy 0.968 (95 % interval 0.944–0.984, from 120 random human-labelled
    items; target 0.95)"."""
    if est is None:
        return "no estimate of the dataset accuracy yet: no AI run has recorded one (run the AI annotators)"
    human, auto, h = int(est.get("human", 0)), int(est.get("auto", 0)), float(est.get("human_accuracy", 1.0))
    if auto == 0:
        return (f"estimated dataset accuracy {_num(est['ci_low'])}: all {human:,} labels are people's, assumed "
                f"right at {_human(h)}; the AI accepted none ({_target(est)})")
    if est.get("value") is None:
        return (f"no estimate of the dataset accuracy: none of the random human-labelled items falls where the "
                f"{auto:,} AI labels were accepted, so it is only known to lie in {_num(est['ci_low'])}–"
                f"{_num(est['ci_high'])}; label more items from the random slice or the audits ({_target(est)})")
    return (f"estimated dataset accuracy {_num(est['value'])} ({round(100 * est.get('confidence', 0.95)):d} % "
            f"interval {_num(est['ci_low'])}–{_num(est['ci_high'])}, from {int(est['measured_on']):,} random "
            f"human-labelled items{_effective(est)}; {human:,} people's and {auto:,} AI labels; "
            f"{_target(est)}{_bound(est)}){_auto_precision(est)}{forecast_sentence(est)}")


def _effective(est: dict[str, Any]) -> str:
    """The random items' effective number after the reweighting, where it is smaller than their count."""
    ap = est.get("auto_precision") or {}
    effective, items = ap.get("effective"), ap.get("measured_on")
    if effective is None or items is None or effective > items - 0.5:
        return ""
    return f", {effective:,.0f} effective once weighted to the AI labels' confidences"


def _auto_precision(est: dict[str, Any]) -> str:
    """The AI labels' measured precision and the bound the router certified, which sets how many it
    may accept: more random labels (the random slice) raise the bound towards the measured value."""
    ap = est.get("auto_precision") or {}
    if ap.get("value") is None or ap.get("lower") is None:
        return ""
    return (f"; the AI labels' precision measured {_num(ap['value'])}, certified ≥ {_num(ap['lower'])} at "
            f"{round(100 * ap.get('confidence', 0.95)):d} %")


def forecast_sentence(est: dict[str, Any] | None) -> str:
    """The forecast of more human labels before the AI may take every open item (``routing.forecast``),
    as a clause starting with "; ", or "" without one."""
    fc = (est or {}).get("forecast")
    if not fc:
        return ""
    open_items = int(fc["open_items"])
    if not fc.get("reachable", int(fc["more_labels"]) < open_items):
        return (f"; forecast: at the precision measured now the AI cannot take the {open_items:,} open items for "
                f"the target before people label them all")
    more = int(fc["more_labels"])
    if more == 0:
        return "; forecast: the random items already vouch for every open item, so the next AI run may take them"
    return (f"; forecast: about {more:,} more human labels, and the AI may take the other {open_items - more:,} "
            f"open items (it needs ≥ {_num(fc['required_now'])} certified on them now, has ≥ "
            f"{_num(fc['certified_now'])})")


def card_sentence(est: dict[str, Any] | None) -> str | None:
    """The dataset card's statement of the labels' estimated accuracy, e.g. "0.968 (95 % interval
    0.944–0.984), measured on 120 random human-labelled items; people's labels assumed right at 1";
    None without an estimate (no AI run recorded one)."""
    if est is None:
        return None
    human, auto, h = int(est.get("human", 0)), int(est.get("auto", 0)), float(est.get("human_accuracy", 1.0))
    level = round(100 * est.get("confidence", 0.95))
    counts = f" (as of the last AI run: {human:,} labels by people, {auto:,} auto-accepted AI labels)"
    if auto == 0:
        return f"{_num(est['ci_low'])}: every label is a person's; people's labels assumed right at {_human(h)}{counts}"
    if est.get("value") is None:
        return (f"not measured: no random human-labelled item falls where the AI labels were accepted; it lies in "
                f"{_num(est['ci_low'])}–{_num(est['ci_high'])}; people's labels assumed right at {_human(h)}{counts}")
    return (f"{_num(est['value'])} ({level} % interval {_num(est['ci_low'])}–{_num(est['ci_high'])}{_bound(est)}), "
            f"measured on {int(est['measured_on']):,} random human-labelled items; people's labels assumed right at "
            f"{_human(h)}{counts}")
