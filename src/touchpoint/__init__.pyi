"""Type information for touchpoint's lazily loaded public names.

This stub is the one list of the public API: ``touchpoint/__init__.py`` reads
its imports at run time to build the lazy map (name -> defining module), and
type checkers read it for the names' types.
"""

from touchpoint import datasets as datasets, stages as stages
from touchpoint._lib.stats import ConfidenceInterval as ConfidenceInterval
from touchpoint._version import __version__ as __version__
from touchpoint.core import (
    EventLog as EventLog,
    Journey as Journey,
    LogSpec as LogSpec,
    Paths as Paths,
    Stage as Stage,
    Touchpoint as Touchpoint,
    ValidationIssue as ValidationIssue,
    ValidationReport as ValidationReport,
)
from touchpoint.drivers import (
    exit_points as exit_points,
    key_touchpoints as key_touchpoints,
    relative_weights as relative_weights,
    shapley_r2 as shapley_r2,
)
from touchpoint.exceptions import (
    DroppedRowsWarning as DroppedRowsWarning,
    InvalidParameterError as InvalidParameterError,
    MissingFileError as MissingFileError,
    OutcomeLevelWarning as OutcomeLevelWarning,
    ScaleWarning as ScaleWarning,
    StatisticalWarning as StatisticalWarning,
    TouchpointError as TouchpointError,
    TouchpointWarning as TouchpointWarning,
    UnknownStageError as UnknownStageError,
    UnknownTouchpointError as UnknownTouchpointError,
    ValidationError as ValidationError,
)
from touchpoint.funnels import (
    ChangePoint as ChangePoint,
    Conformance as Conformance,
    DropOff as DropOff,
    DropOffs as DropOffs,
    Funnel as Funnel,
    FunnelStep as FunnelStep,
    conformance as conformance,
    detect_dropoffs as detect_dropoffs,
    funnel as funnel,
    next_steps as next_steps,
    previous_steps as previous_steps,
)
from touchpoint.io import (
    read_csv as read_csv,
    read_journey as read_journey,
    read_parquet as read_parquet,
)
from touchpoint.journeys import (
    JourneyClusters as JourneyClusters,
    ProcessMap as ProcessMap,
    Retention as Retention,
    StepMatrix as StepMatrix,
    cluster_journeys as cluster_journeys,
    path_prefixes as path_prefixes,
    process_map as process_map,
    retention as retention,
    step_matrix as step_matrix,
)
from touchpoint.markov import (
    ATTRIBUTION_METHODS as ATTRIBUTION_METHODS,
    Attribution as Attribution,
    AttributionComparison as AttributionComparison,
    Incrementality as Incrementality,
    MarkovModel as MarkovModel,
    OrderSelection as OrderSelection,
    RemovalEffects as RemovalEffects,
    TransitionComparison as TransitionComparison,
    TransitionCounts as TransitionCounts,
    WhatIf as WhatIf,
    attribution as attribution,
    compare_attribution as compare_attribution,
    compare_transitions as compare_transitions,
    count_transitions as count_transitions,
    fit_markov as fit_markov,
    incrementality as incrementality,
    removal_effects as removal_effects,
    select_order as select_order,
)
from touchpoint.metrics import (
    CESResult as CESResult,
    Comparison as Comparison,
    Consistency as Consistency,
    CSATResult as CSATResult,
    NPSResult as NPSResult,
    RepeatRate as RepeatRate,
    ResponseTimes as ResponseTimes,
    breakdown as breakdown,
    ces as ces,
    compare_ces as compare_ces,
    compare_csat as compare_csat,
    compare_nps as compare_nps,
    consistency as consistency,
    csat as csat,
    nps as nps,
    repeat_rate as repeat_rate,
    response_times as response_times,
)
from touchpoint.monitoring import Monitor as Monitor, monitor as monitor
from touchpoint.scan import (
    LogScan as LogScan,
    scan_parquet as scan_parquet,
    scan_table as scan_table,
)
from touchpoint.sources import (
    CHANNEL_RULES as CHANNEL_RULES,
    ChannelRule as ChannelRule,
    Stitching as Stitching,
    read_amplitude as read_amplitude,
    read_ga4 as read_ga4,
    read_mixpanel as read_mixpanel,
    read_segment as read_segment,
    read_snowplow as read_snowplow,
    stitch_identities as stitch_identities,
)
from touchpoint.table import Table as Table
