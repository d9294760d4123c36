"""flowlens: diaspora money flows as a corridor graph, on polars.

The public API is re-exported here; everything else is internal. Heavy optional
dependencies (networkx, scipy, plotting) are imported only by the functions that
need them.
"""

from typing import TYPE_CHECKING

from flowlens import freq, reference, schema
from flowlens._display import readable_tables
from flowlens._panelspec import PanelSpec, panel_spec
from flowlens.bilateral import (
    BilateralComparison,
    BilateralEstimate,
    RasResult,
    compare_bilateral,
    estimate_bilateral,
    ras,
)
from flowlens.engines import EngineValidationReport
from flowlens.errors import (
    FlowlensError,
    InputFormatError,
    MissingColumnError,
    OutputError,
    OutputExistsError,
    ParameterError,
    ReferenceDataError,
    SchemaError,
    ValidationFailedError,
)
from flowlens.export import write_frame
from flowlens.graph import CorridorGraph, corridor_changes, graphs_by_period, inflow_context
from flowlens.official import (
    OfficialTable,
    matrix_vintages,
    read_banxico_monthly,
    read_banxico_quarterly_by_country,
    read_knomad_annual,
    read_rpw_corridors,
    read_wb_bilateral_matrix,
    read_wb_migrant_stock,
)
from flowlens.official_series import HumanitarianFunding, read_ocha_fts, read_series
from flowlens.panel import corridor_panel
from flowlens.privacy import SuppressedPanel, audit_suppression, pseudonymize, suppress_small_cells
from flowlens.recognise import read_official
from flowlens.sample import load_sample, sample_path
from flowlens.surge import (
    SurgeResult,
    attribute_surges,
    detect_surges,
    evaluate_surges,
    event_study,
    level_shifts,
    read_crisis_events,
    score_events,
    surge_episodes,
)
from flowlens.validate import ValidationReport, load_flows
from flowlens.wdi import WdiTable, read_wdi

if TYPE_CHECKING:  # typed for users' checkers; imported on first use at run time
    from flowlens.brief import CrisisBrief, crisis_brief

__version__ = "0.1.0"

_LAZY_SUBMODULES = ("brief", "calendar", "informal", "orgs", "plot", "synth")
"""Imported on first use (``fl.synth.generate``, ``fl.plot.top_corridors``): they pull in
scipy or matplotlib."""


_LAZY_NAMES = {"CrisisBrief": "flowlens.brief", "crisis_brief": "flowlens.brief"}
"""Public names whose modules pull in scipy and matplotlib: imported on first use."""


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"flowlens.{name}")
    if name in _LAZY_NAMES:
        import importlib

        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    msg = f"module 'flowlens' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "BilateralComparison",
    "BilateralEstimate",
    "CorridorGraph",
    "CrisisBrief",
    "EngineValidationReport",
    "FlowlensError",
    "HumanitarianFunding",
    "InputFormatError",
    "MissingColumnError",
    "OfficialTable",
    "OutputError",
    "OutputExistsError",
    "PanelSpec",
    "ParameterError",
    "RasResult",
    "ReferenceDataError",
    "SchemaError",
    "SuppressedPanel",
    "SurgeResult",
    "ValidationFailedError",
    "ValidationReport",
    "WdiTable",
    "__version__",
    "attribute_surges",
    "audit_suppression",
    "compare_bilateral",
    "corridor_changes",
    "corridor_panel",
    "crisis_brief",
    "detect_surges",
    "estimate_bilateral",
    "evaluate_surges",
    "event_study",
    "freq",
    "graphs_by_period",
    "inflow_context",
    "level_shifts",
    "load_flows",
    "load_sample",
    "matrix_vintages",
    "panel_spec",
    "pseudonymize",
    "ras",
    "read_banxico_monthly",
    "read_banxico_quarterly_by_country",
    "read_crisis_events",
    "read_knomad_annual",
    "read_ocha_fts",
    "read_official",
    "read_rpw_corridors",
    "read_series",
    "read_wb_bilateral_matrix",
    "read_wb_migrant_stock",
    "read_wdi",
    "readable_tables",
    "reference",
    "sample_path",
    "schema",
    "score_events",
    "suppress_small_cells",
    "surge_episodes",
    "write_frame",
]
