"""The dashboard and the HTML report: figure data from what the service reads out of the store,
plotly figures built from that data, and one self-contained HTML page. No gradio, no sessions."""

from annotator.reporting.data import Dashboard, build_dashboard, stopping_advice
from annotator.reporting.figures import FIGURE_TITLES, dashboard_figures
from annotator.reporting.html import render_report, write_report

__all__ = [
    "FIGURE_TITLES", "Dashboard", "build_dashboard", "dashboard_figures", "render_report", "stopping_advice",
    "write_report",
]
