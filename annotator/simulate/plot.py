"""Learning-curve plot (plotly HTML, self-contained) written next to the JSON report."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_learning_curves(report: dict[str, Any], path: Path) -> Path:
    """One line per strategy: mean classifier accuracy vs human labels, with a ±1 std band."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for strategy, entry in (report.get("comparison") or {}).items():
        curve = entry["learning_curve"]
        x = [p["human_labels"] for p in curve]
        y = [p["classifier_accuracy"] for p in curve]
        sd = [p["classifier_accuracy_std"] for p in curve]
        figure.add_trace(go.Scatter(x=x + x[::-1], y=[a + s for a, s in zip(y, sd)] + [a - s for a, s in
                                    zip(y[::-1], sd[::-1])], fill="toself", opacity=0.15, line={"width": 0},
                                    showlegend=False, hoverinfo="skip", name=f"{strategy} ±1 sd"))
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines", name=strategy))
    figure.update_layout(
        title=f"Classifier accuracy on the held-out slice ({len(report.get('seeds', []))} seeds)",
        xaxis_title="human labels", yaxis_title="accuracy", template="plotly_white",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(path, include_plotlyjs=True, full_html=True)
    return path
