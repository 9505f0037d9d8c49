"""Plotly figures of the dashboard, one function per figure, each drawing a ``Dashboard`` series.

An empty series gives an empty figure with a one-line note in it (never an error): a new project
has no AI run, no audit and no model version yet.
"""

from __future__ import annotations

from typing import Any

from annotator.reporting.data import ROUTES, Dashboard

#: Figure key → title (the tab's plot labels, the report's headings and the figures' own titles).
FIGURE_TITLES: dict[str, str] = {
    "learning_curve": "Learning curve: classifier accuracy on held-out human labels",
    "reliability": "Reliability diagram (last AI run, calibrated)",
    "routes": "Route mix per AI run and coverage over time",
    "audits": "Audit estimate over time (precision of auto labels, 95 % interval)",
    "stability": "Stopping signal: pool predictions changed per refit",
    "labels_per_hour": "Labels per hour",
}
ROUTE_COLORS = {"auto": "#10b981", "audit": "#f59e0b", "verify": "#6366f1", "blind": "#94a3b8"}
LINE_COLORS = ["#6366f1", "#f59e0b", "#10b981", "#ef4444", "#0ea5e9", "#a855f7"]
FONT = {"family": "Inter, ui-sans-serif, system-ui, sans-serif", "size": 13}


def _layout(fig: Any, key: str, subtitle: str = "", **axes: Any) -> Any:
    title: dict[str, Any] = {"text": FIGURE_TITLES[key], "font": {"size": 15}}
    if subtitle:  # a note or the advice, under the title (plotly ≥ 6)
        title["subtitle"] = {"text": subtitle, "font": {"size": 12, "color": "#475569"}}
    fig.update_layout(
        title=title, template="plotly_white", height=430,
        margin={"l": 56, "r": 24, "t": 92 if subtitle else 64, "b": 100}, font=FONT,
        legend={"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0, "font": {"size": 12}}, **axes,
    )
    return fig


def _empty(key: str, note: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=note, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 13, "color": "#64748b"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, key)


def learning_curve_figure(d: Dashboard) -> Any:
    import plotly.graph_objects as go

    curve = d.learning_curve or {}
    points = curve.get("points") or []
    if not points:
        return _empty("learning_curve", "No model version yet, and too few labels to cross-validate.")
    fig = go.Figure()
    kinds = list(dict.fromkeys(p["kind"] for p in points))
    for colour, kind in zip(LINE_COLORS * 4, kinds):
        pts = [p for p in points if p["kind"] == kind]
        text = [f"v{p['version']}" + (" (promoted)" if p["promoted"] else "") if p["version"] is not None else ""
                for p in pts]
        fig.add_trace(go.Scatter(
            x=[p["n_labels"] for p in pts], y=[p["accuracy"] for p in pts], mode="lines+markers", name=str(kind),
            text=text, line={"color": colour, "width": 2},
            marker={"size": [12 if p["promoted"] else 8 for p in pts],
                    "symbol": ["star" if p["promoted"] else "circle" for p in pts]},
            hovertemplate="%{x} labels<br>accuracy %{y:.3f}<br>%{text}<extra>%{fullData.name}</extra>"))
    return _layout(fig, "learning_curve", _wrap(curve.get("note", "")), xaxis={"title": "labels trained on"},
                   yaxis={"title": "accuracy", "range": [0, 1.02]})


def reliability_plot(calibration: dict[str, dict[str, Any] | None]) -> Any:
    """A plotly reliability diagram without title or layout: per annotator (name → its calibration
    dict with ``reliability`` bins), accuracy against calibrated confidence per bin, marker area by
    the bin's item count, and the diagonal of perfect calibration. The fused ensemble is drawn in black."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", hoverinfo="skip",
                             line={"color": "#94a3b8", "dash": "dash", "width": 1.5}))
    colours = iter(LINE_COLORS * 4)
    for name, c in calibration.items():
        points = (c or {}).get("reliability") or []
        if not points:
            continue
        ensemble = name == "ensemble"
        counts = [p["count"] for p in points]
        top = max(counts) or 1
        fig.add_trace(go.Scatter(
            x=[p["confidence"] for p in points], y=[p["accuracy"] for p in points], mode="lines+markers",
            name="ensemble (fused)" if ensemble else name, customdata=counts,
            line={"color": "#0f172a" if ensemble else next(colours), "width": 3 if ensemble else 2},
            marker={"size": [7 + 11 * (n / top) ** 0.5 for n in counts]},
            hovertemplate="confidence %{x:.2f}<br>accuracy %{y:.2f}<br>%{customdata} items"
                          "<extra>%{fullData.name}</extra>"))
    return fig


def reliability_figure(d: Dashboard) -> Any:
    calibration = d.calibration or {}
    if not any((c or {}).get("reliability") for c in calibration.values()):
        return _empty("reliability", "No AI run yet: run the AI annotators to see their calibration.")
    return _layout(reliability_plot(calibration), "reliability",
                   xaxis={"title": "confidence (calibrated)", "range": [0, 1.02]},
                   yaxis={"title": "accuracy", "range": [0, 1.02]})


def routes_figure(d: Dashboard) -> Any:
    """Left: items per route for each AI run (stacked bars, one per run). Right: coverage over time."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if not d.route_runs and not d.coverage:
        return _empty("routes", "No labels and no AI run yet.")
    fig = make_subplots(rows=1, cols=2, column_widths=[0.38, 0.62], horizontal_spacing=0.12)
    runs = [f"run {i + 1}<br>{(r['at'] or '')[5:16].replace('T', ' ')}" for i, r in enumerate(d.route_runs)]
    for route in ROUTES:
        fig.add_trace(go.Bar(x=runs, y=[r[route] for r in d.route_runs], name=route, marker_color=ROUTE_COLORS[route],
                             hovertemplate=f"{route}: %{{y}} items<extra>%{{x}}</extra>"), row=1, col=1)
    if d.coverage:
        xs = [p["at"] for p in d.coverage]
        fig.add_trace(go.Scatter(x=xs, y=[p["human"] / max(d.items, 1) for p in d.coverage], mode="lines",
                                 name="covered: people", line={"color": "#0f172a", "width": 2, "shape": "hv"}),
                      row=1, col=2)
        fig.add_trace(go.Scatter(x=xs, y=[p["coverage"] for p in d.coverage], mode="lines",
                                 name="covered: people + auto AI", line={"color": "#10b981", "width": 3, "shape": "hv"}),
                      row=1, col=2)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category", row=1, col=1)
    fig.update_yaxes(title_text="items routed", row=1, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=1, col=2)
    fig.update_yaxes(title_text="share of items labelled", range=[0, 1.02], tickformat=".0%", row=1, col=2)
    return _layout(fig, "routes")


def audits_figure(d: Dashboard) -> Any:
    import plotly.graph_objects as go

    if not d.audits:
        return _empty("audits", "No audit answered yet: audits are served to people once the AI auto-accepts labels.")
    n = [p["audits"] for p in d.audits]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=n + n[::-1], y=[p["ci_high"] for p in d.audits] + [p["ci_low"] for p in d.audits][::-1],
                             fill="toself", fillcolor="rgba(99,102,241,0.18)", line={"width": 0},
                             name="95 % interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=n, y=[p["value"] for p in d.audits], mode="lines+markers", name="estimate",
                             customdata=[p["at"] for p in d.audits], line={"color": "#6366f1", "width": 2},
                             hovertemplate="%{x} audits<br>precision %{y:.3f}<br>%{customdata}<extra></extra>"))
    return _layout(fig, "audits", xaxis={"title": "audits answered (cumulative)"},
                   yaxis={"title": "precision of auto labels", "range": [0, 1.02]})


def stability_figure(d: Dashboard) -> Any:
    import plotly.graph_objects as go

    points = (d.stability or {}).get("points") or []
    advice = (d.stability or {}).get("advice", "")
    if not points:
        return _empty("stability", advice or "Not enough refits yet.")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[p["n_labels"] for p in points], y=[p["changed"] for p in points],
                         name="pool predictions changed", marker_color="#6366f1",
                         customdata=[p["kappa"] for p in points],
                         hovertemplate="refit at %{x} labels<br>changed %{y:.2%}<br>kappa %{customdata}<extra></extra>"))
    return _layout(fig, "stability", _wrap(advice), xaxis={"title": "labels at the refit", "type": "category"},
                   yaxis={"title": "share of pool items", "tickformat": ".1%", "rangemode": "tozero"})


def labels_per_hour_figure(d: Dashboard) -> Any:
    import plotly.graph_objects as go

    if not d.labels_per_hour:
        return _empty("labels_per_hour", "No answers from people yet.")
    hours = [(h["hour"] or "")[:13].replace("T", " ") + ":00" for h in d.labels_per_hour]
    fig = go.Figure(go.Bar(x=hours, y=[h["labels"] for h in d.labels_per_hour],
                           name="labels", marker_color="#6366f1",
                           hovertemplate="%{x}<br>%{y} labels<extra></extra>"))
    return _layout(fig, "labels_per_hour", xaxis={"title": "hour (UTC)", "type": "category"},
                   yaxis={"title": "labels given"})


def _wrap(text: str, width: int = 90) -> str:
    """Break a long note into lines for a figure's subtitle (plotly does not wrap text)."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))


FIGURES = {
    "learning_curve": learning_curve_figure, "reliability": reliability_figure, "routes": routes_figure,
    "audits": audits_figure, "stability": stability_figure, "labels_per_hour": labels_per_hour_figure,
}


def dashboard_figures(d: Dashboard) -> dict[str, Any]:
    """Figure key (``FIGURE_TITLES``) → plotly Figure, in display order."""
    return {key: make(d) for key, make in FIGURES.items()}
