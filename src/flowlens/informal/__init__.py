"""Informal-channel volume under de-risking scenarios.

Three estimators give each corridor's baseline informal flow per unit of recorded
flow: from the cost of formal transfer (:func:`baseline_from_costs`, after Freund
and Spatafora 2008), from the gap between what migrants would send and what is
recorded (:func:`baseline_from_gap`), or measured where the data has informal
channels (:func:`baseline_observed`). A :class:`DeRiskingScenario` says which
corridors lose formal capacity, when and how much, with its behavioural
parameters as priors; :func:`estimate_informal` runs a vectorised Monte Carlo and
returns formal, informal, lost and total flow with intervals per corridor and
period, per receiving country and per scenario; :func:`sensitivity` says which
parameter drives the interval, and :func:`derisking_exposure` which receiving
countries lose most if one sending country's banks de-risk. :func:`derisking_effect`
reads a past event in recorded data: the drop against a counterfactual, and the
informal flow it implies.
"""

from flowlens.informal._baseline import (
    ANNUAL_AMOUNT_DEFAULT,
    SHARE_REMITTING_DEFAULT,
    CostModel,
    baseline_from_costs,
    baseline_from_gap,
    baseline_observed,
)
from flowlens.informal._estimate import InformalEstimate, estimate_informal
from flowlens.informal._exposure import derisking_exposure
from flowlens.informal._priors import Fixed, Prior, Split, Triangular, Uniform
from flowlens.informal._recorded import DeRiskingEffect, derisking_effect, read_derisking_events
from flowlens.informal._scenario import (
    COST_ELASTICITY_DEFAULT,
    COST_INCREASE_DEFAULT,
    FORMALISATION_SPLIT_DEFAULT,
    PREMIUM_RESPONSE_DEFAULT,
    SPLIT_DEFAULT,
    WITHDRAWN_DEFAULT,
    DeRiskingScenario,
)
from flowlens.informal._scenario_file import BaselineChoice, ScenarioFile, read_scenario_file
from flowlens.informal._sensitivity import sensitivity

__all__ = [
    "ANNUAL_AMOUNT_DEFAULT",
    "COST_ELASTICITY_DEFAULT",
    "COST_INCREASE_DEFAULT",
    "FORMALISATION_SPLIT_DEFAULT",
    "PREMIUM_RESPONSE_DEFAULT",
    "SHARE_REMITTING_DEFAULT",
    "SPLIT_DEFAULT",
    "WITHDRAWN_DEFAULT",
    "BaselineChoice",
    "CostModel",
    "DeRiskingEffect",
    "DeRiskingScenario",
    "Fixed",
    "InformalEstimate",
    "Prior",
    "ScenarioFile",
    "Split",
    "Triangular",
    "Uniform",
    "baseline_from_costs",
    "baseline_from_gap",
    "baseline_observed",
    "derisking_effect",
    "derisking_exposure",
    "estimate_informal",
    "read_derisking_events",
    "read_scenario_file",
    "sensitivity",
]
