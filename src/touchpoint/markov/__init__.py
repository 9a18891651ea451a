"""Markov journey models: transition counts, fitted chains, order selection and attribution.

:func:`count_transitions` counts (mergeable with ``+``), :func:`fit_markov` fits a
:class:`MarkovModel` with exact absorbing-chain analysis, :func:`select_order` and
:func:`compare_transitions` test orders and segments, :func:`removal_effects` and
:func:`attribution` credit touchpoints with conversions.
"""

from __future__ import annotations

from touchpoint.markov._attribution import (
    ATTRIBUTION_METHODS,
    ATTRIBUTION_MODELS,
    Attribution,
    RemovalEffects,
    attribution,
    removal_effects,
)
from touchpoint.markov._compare import AttributionComparison, compare_attribution
from touchpoint.markov._incrementality import Incrementality, incrementality
from touchpoint.markov._model import (
    CONVERSION,
    NULL,
    START,
    MarkovModel,
    TransitionCounts,
    WhatIf,
    count_transitions,
    fit_markov,
)
from touchpoint.markov._select import (
    OrderSelection,
    TransitionComparison,
    compare_transitions,
    select_order,
)

__all__ = [
    "ATTRIBUTION_METHODS",
    "ATTRIBUTION_MODELS",
    "CONVERSION",
    "NULL",
    "START",
    "Attribution",
    "AttributionComparison",
    "Incrementality",
    "MarkovModel",
    "OrderSelection",
    "RemovalEffects",
    "TransitionComparison",
    "TransitionCounts",
    "WhatIf",
    "attribution",
    "compare_attribution",
    "compare_transitions",
    "count_transitions",
    "fit_markov",
    "incrementality",
    "removal_effects",
    "select_order",
]
