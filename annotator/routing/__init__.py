"""Calibration, fusion, routing and audits: plain functions and small dataclasses."""

from annotator.routing.audit import PrecisionEstimate, clopper_pearson, estimate_precision
from annotator.routing.calibration import Ensemble, expected_calibration_error, fit_ensemble, reliability
from annotator.routing.router import Routes, RoutingPolicy, choose_thresholds, route_items

__all__ = ["Ensemble", "PrecisionEstimate", "Routes", "RoutingPolicy", "choose_thresholds", "clopper_pearson",
           "estimate_precision", "expected_calibration_error", "fit_ensemble", "reliability", "route_items"]
