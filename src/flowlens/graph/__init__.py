"""The corridor graph: who sends how much to whom, how exposed each receiving country is,
what sending costs against SDG target 10.c, and how corridors change over time.

- :class:`CorridorGraph` (``_graph``): the graph of a panel and its measures;
- ``_sdg``: the cost of sending per corridor and its volume-weighted summary;
- ``_series``: a graph per period, changes per corridor, inflows against another series.

Examples
--------
>>> import flowlens as fl
>>> panel = fl.corridor_panel(fl.load_flows(fl.load_sample("flows")), freq="year")
>>> fl.graph.CorridorGraph.from_panel(panel).top_corridors(1).select("origin", "destination").row(0)
('USA', 'MEX')
"""

from __future__ import annotations

from flowlens.graph._graph import CorridorGraph
from flowlens.graph._sdg import SDG_10C_AVERAGE_PCT, SDG_10C_CORRIDOR_MAX_PCT
from flowlens.graph._series import corridor_changes, graphs_by_period, inflow_context

__all__ = [
    "SDG_10C_AVERAGE_PCT",
    "SDG_10C_CORRIDOR_MAX_PCT",
    "CorridorGraph",
    "corridor_changes",
    "graphs_by_period",
    "inflow_context",
]
