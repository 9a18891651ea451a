"""Attribution: exact Markov removal effects, heuristic models and Shapley values.

The Markov removal effect of a touchpoint is the relative drop in the
conversion probability when the touchpoint is removed from the journey graph,
every transition into it going to ``(null)`` instead (Anderson 2013; the
convention of ChannelAttribution and of DP6's marketing-attribution-models).
It is defined on the *touched paths*: journeys that convert with no
touchpoint before (``(start) > (conversion)``, direct conversions) are left
out of both probabilities, since no removal can change them,
``RE(s) = (P(conv) - P(conv | s removed)) / (P(conv) - P(direct))``. On logs
without direct conversions (ChannelAttribution's paths always have a
channel) this is ChannelAttribution's ``1 - P(conv | s removed) / P(conv)``.

Credit: by default :func:`attribution` spreads the conversions (and value)
of the touched journeys over all touchpoints by ``RE(s) / sum RE`` (the
field's allocation: ChannelAttribution's ``markov_model``, DP6's
``run_markov``; the ``markov_credit`` column of :class:`RemovalEffects`);
``allocation="journey"`` instead splits each touched converting journey over
the distinct touchpoints on its path in proportion to their removal effects,
so no touchpoint gets more than the converting journeys it touched. Direct
conversions are ``unattributed`` either way. Peers estimate
``P(conversion | s removed)`` by simulating journeys; here it is solved
exactly from the absorbing-chain equations.

For a single removed state ``s`` in a chain whose fundamental matrix
``N = (I - Q)^-1`` is small enough to hold, the solution is a rank-one update
(Sherman-Morrison) of the unremoved one: ``x'_start = x_start - N[start, s]
x_s / N[s, s]`` (the chance of converting minus the chance of reaching ``s``
times the chance of converting from there). For a set ``S`` of states (a
touchpoint in a higher-order model, a channel) the same identity holds with
``N[start, S] N[S, S]^-1 x_S`` (Woodbury). In larger chains (higher orders
over many channels, whose sparse LU fills in badly) every removal is
propagated at once from the start state until the probability mass still in
transit, a certified bound on the error, is below 1e-13.

References
----------
Anderson, E. (2013). *Channel attribution modeling using Markov chains* (the
removal effect); see also Archak, Mirrokni and Muthukrishnan (2010), Mining
advertiser-specific user behavior using adfactors, WWW '10.

Zhao, K., Mahboobi, S. H. and Bagheri, S. R. (2018). Shapley value methods for
attribution modeling in online advertising. arXiv:1804.05327 (the
"simplified" Shapley value over observed channel subsets).

Shapley, L. S. (1953). A value for n-person games. In *Contributions to the
Theory of Games II*, 307-317.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import StateKind
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.frames import format_path
from touchpoint._lib.stats import ConfidenceInterval, check_confidence
from touchpoint._lib.time import required_duration
from touchpoint._lib.types import DurationLike
from touchpoint.core._lazy import is_scan, pushdown
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.markov import _absorbing as _ab, _encoding as _tr
from touchpoint.markov._heuristics import (
    CREDIT_FUNCTIONS,
    CreditOptions,
    shapley_rate,
    split_by_weight,
)
from touchpoint.markov._model import MarkovModel, encoded_edges, fit_markov
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = [
    "ATTRIBUTION_METHODS",
    "ATTRIBUTION_MODELS",
    "Attribution",
    "RemovalEffects",
    "attribution",
    "removal_effects",
    "within_lookback",
]


@attrs.frozen(eq=False)
class RemovalEffects(TableResult):
    """Exact removal effects (see :func:`removal_effects`).

    Attributes
    ----------
    names : tuple of str
        What was removed, one entry per row.
    effect : numpy array
        ``(conversion_probability - without) / (conversion_probability -
        direct_probability)``: the share of the touched paths' conversion
        probability lost without the item.
    without : numpy array
        Conversion probability with that item removed.
    conversion_probability : float
        Conversion probability of the full chain.
    direct_probability : float
        Probability of ``(start) > (conversion)`` (converting with no touchpoint).
    n_conversions, value : float
        Observed conversions of touched journeys and their value, spread in
        proportion to ``effect`` in the table's ``markov_credit`` and
        ``markov_value`` columns (the field's allocation, the default Markov
        credit of :func:`attribution`).
    n_direct : int
        Conversions with no touchpoint before (left out of the above).
    replicates : numpy array or None
        Bootstrap replicates of ``effect`` (``n_resamples x len(names)``).
    states : str
        What was removed: ``"touchpoint"``, ``"stage"``, ``"channel"``,
        ``"group"`` (``groups=``) or ``"state"`` (``each_state=True``); the
        table's first column has this name.
    """

    names: tuple[str, ...]
    effect: NDArray[np.float64]
    without: NDArray[np.float64]
    conversion_probability: float
    n_conversions: float
    value: float
    states: str = "touchpoint"
    replicates: NDArray[np.float64] | None = attrs.field(default=None, repr=False)
    direct_probability: float = 0.0
    n_direct: int = 0

    @property
    def by(self) -> str:
        """Old name of :attr:`states` (deprecated)."""
        warnings.warn(
            "RemovalEffects.by is deprecated; use RemovalEffects.states.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.states

    @property
    def share(self) -> NDArray[np.float64]:
        """``effect / sum(effect)`` (the attribution weights)."""
        tot = self.effect.sum()
        return self.effect / tot if tot > 0 else np.zeros_like(self.effect)

    def confidence_interval(
        self,
        name: str,
        confidence_level: float = 0.95,
        method: Literal["percentile"] = "percentile",
    ) -> ConfidenceInterval:
        """Percentile bootstrap interval (over journeys) of one removal effect."""
        if self.replicates is None:
            msg = "no bootstrap replicates: call removal_effects(..., n_resamples=200)."
            raise ValidationError(msg)
        ck.choice("method", method, ("percentile",))
        conf = check_confidence(confidence_level)
        if name not in self.names:
            msg = f"unknown name {name!r}; the removal effects are for {list(self.names)[:20]}."
            raise ValidationError(msg)
        col = self.replicates[:, self.names.index(name)]
        lo, hi = np.nanquantile(col, [(1 - conf) / 2, 1 - (1 - conf) / 2])
        return ConfidenceInterval(float(lo), float(hi))

    def to_table(self, confidence_level: float = 0.95) -> Table:
        """Table sorted by effect: name, removal_effect, conversion_without, share, markov_credit,
        markov_value (and CI).

        ``markov_credit`` and ``markov_value`` are the touched conversions and
        their value times ``share``: the Markov credit of :func:`attribution`
        (``allocation="total"``). Called ``conversions`` and ``value`` before
        0.4 (still readable, with a DeprecationWarning).
        """
        cols: dict[str, Any] = {
            self.states: np.array(self.names, dtype=object),
            "removal_effect": self.effect,
            "conversion_without": self.without,
            "share": self.share,
            "markov_credit": self.share * self.n_conversions,
            "markov_value": self.share * self.value,
        }
        if self.replicates is not None:
            conf = check_confidence(confidence_level)
            q = np.nanquantile(self.replicates, [(1 - conf) / 2, 1 - (1 - conf) / 2], axis=0)
            cols["ci_low"], cols["ci_high"] = q[0], q[1]
        return Table(
            cols,
            title="removal effects",
            renamed={"conversions": "markov_credit", "value": "markov_value"},
        ).sort("removal_effect", descending=True)

    @property
    def table(self) -> Table:
        """:meth:`to_table` at 95%."""
        return self.to_table()

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bars of the positive removal effects, with intervals when bootstrapped.

        The chart :func:`touchpoint.plot.attribution_bars` draws; needs matplotlib.
        """
        from touchpoint._lib.charts import credit_bars

        t = self.table
        keep = np.asarray(t["removal_effect"], dtype=float) > 0
        ci = {c: np.asarray(t[c], dtype=float)[keep] for c in ("ci_low", "ci_high") if c in t}
        return credit_bars(
            [str(x) for x in np.asarray(t[t.columns[0]])[keep].tolist()],
            np.asarray(t["removal_effect"], dtype=float)[keep],
            low=ci.get("ci_low"),
            high=ci.get("ci_high"),
            ax=ax,
            xlabel="conversions lost without the touchpoint (removal effect)",
        )

    def __repr__(self) -> str:
        top = ", ".join(
            f"{n}={e:.3g}"
            for n, e in sorted(
                zip(self.names, self.effect.tolist(), strict=True), key=lambda x: -x[1]
            )[:5]
        )
        return (
            f"RemovalEffects(states={self.states!r}, n={len(self.names)}, "
            f"conversion_probability={self.conversion_probability:.4g}, top: {top})"
        )

    def _repr_html_(self) -> str:
        return self.table.to_html()


def _symbols_removed(model: MarkovModel) -> tuple[list[str], list[NDArray[np.bool_]]]:
    """Each symbol of the model's alphabet (every state containing it)."""
    names = list(model.alphabet)
    if model.order == 1:
        m = model.n_transient + 1
        pos = {s: i + 1 for i, s in enumerate(model.states[1:m])}
        masks = []
        names = [s for s in names if s in pos]  # symbols seen only after conversions
        for s in names:
            mask = np.zeros(m, dtype=bool)
            mask[pos[s]] = True
            masks.append(mask)
        return names, masks
    masks = [model._symbol_mask([s]) for s in names]
    seen = [i for i, mk in enumerate(masks) if mk.any()]
    return [names[i] for i in seen], [masks[i] for i in seen]


def _channels_removed(model: MarkovModel) -> tuple[list[str], list[NDArray[np.bool_]]]:
    """Each channel of the design (all its touchpoints at once)."""
    if not model.channels:
        msg = (
            "states='channel' needs the touchpoint -> channel map of a journey design "
            "(fit from a log with a design), or pass groups={channel: [touchpoints]}."
        )
        raise ValidationError(msg)
    inv: dict[str, list[str]] = {}
    for t, c in model.channels.items():
        if t in model.alphabet:
            inv.setdefault(c, []).append(t)
    masks = [model._symbol_mask(v) for v in inv.values()]
    seen = [i for i, mk in enumerate(masks) if mk.any()]
    return [list(inv)[i] for i in seen], [masks[i] for i in seen]


def _states_removed(model: MarkovModel) -> tuple[list[str], list[NDArray[np.bool_]]]:
    """Each transient state of the chain on its own."""
    m = model.n_transient + 1
    names = [format_path(s) if isinstance(s, tuple) else str(s) for s in model.states[1:m]]
    masks = []
    for i in range(1, m):
        mask = np.zeros(m, dtype=bool)
        mask[i] = True
        masks.append(mask)
    return names, masks


def _items(
    model: MarkovModel, unit: str, groups: Mapping[str, Iterable[str]] | None
) -> tuple[list[str], list[NDArray[np.bool_]]]:
    """Names and transient-state masks of what is removed (``unit`` is the resolved kind)."""
    if unit == "group":
        assert groups is not None
        return [str(g) for g in groups], [model._symbol_mask(list(groups[g])) for g in groups]
    if unit == "state":
        return _states_removed(model)
    if unit == model.transition_counts.states:
        return _symbols_removed(model)
    if unit == "channel" and model.transition_counts.states == "touchpoint":
        return _channels_removed(model)
    msg = (
        f"states={unit!r} cannot be removed from a model whose states are "
        f"{model.transition_counts.states}s: fit the model with states={unit!r}, or pass "
        "groups={name: [symbols]}."
    )
    raise ValidationError(msg)


def _removal_unit(model: MarkovModel, states: str | None, groups: object, each_state: bool) -> str:
    """What one row of the result removes."""
    if states == "state":
        warnings.warn(
            "removal_effects(states='state') is deprecated; use each_state=True "
            "(states= names touchpoint, stage or channel everywhere).",
            DeprecationWarning,
            stacklevel=4,
        )
        each_state = True
    if groups is not None:
        return "group"
    if each_state:
        return "state"
    return states or model.transition_counts.states


@deprecated_params(renamed={"by": "states", "n_bootstrap": "n_resamples"})
@ck.validate_params(
    {
        "states": ck.Options(*_tr.STATE_KINDS, "state", None),
        "each_state": ck.Boolean(),
        "n_resamples": ck.Integer(0),
        "seed": ck.Seed(),
        "max_steps": ck.Integer(1, none=True),
    }
)
def removal_effects(
    model: MarkovModel,
    *,
    states: StateKind | None = None,
    groups: Mapping[str, Iterable[str]] | None = None,
    each_state: bool = False,
    n_resamples: int = 0,
    seed: int | None = 0,
    max_steps: int | None = None,
) -> RemovalEffects:
    """Exact removal effect of every touchpoint (or stage, channel, group or chain state).

    Parameters
    ----------
    model : MarkovModel
        A fitted chain.
    states : {"touchpoint", "stage", "channel"}, optional
        What is removed, in the words of :func:`fit_markov` and
        :func:`attribution`. Default: the model's own states (touchpoints,
        stages or channels, as fitted; in a higher-order model every state
        containing the symbol). ``"channel"`` on a touchpoint model removes
        all the touchpoints of each channel of the log's design at once.
    groups : mapping of name to touchpoints, optional
        Remove these sets instead (e.g. your own channel grouping).
    each_state : bool
        Remove each state of the chain on its own (in a higher-order model a
        state is a tuple of touchpoints); ``states="state"`` before 0.4.
    n_resamples : int
        Bootstrap replicates over journeys (resampled with replacement, the
        model refitted each time) for percentile intervals; 0 for none. Needs
        a model from :func:`fit_markov` (it keeps its log).
    seed : int or None
        Seed of the bootstrap (default 0: the same intervals every run; None for fresh
        randomness).
    max_steps : int, optional
        Count only conversions within this many transitions from start
        (ChannelAttribution's ``max_step``); None (default) is the exact
        infinite-horizon chain. The bootstrap ignores it.

    Returns
    -------
    RemovalEffects
        ``.table`` lists removal effect, conversion probability without,
        share and credited conversions and value.

    Notes
    -----
    ``RE(s) = (P(conv) - P(conv | s removed)) / (P(conv) - P(direct))`` with
    the transitions into ``s`` sent to ``(null)`` and ``P(direct)`` the
    probability of ``(start) > (conversion)``: the removal effect on the
    touched paths. Without direct conversions it is ChannelAttribution's
    ``1 - P(conv | s removed) / P(conv)``; with them, ChannelAttribution's
    formula would shrink every effect by the direct share. Exact: one
    sparse LU factorisation of ``I - Q`` is reused by every removal, each a
    Woodbury update of the unremoved solution (a solve of the size of the
    removed set); chains whose LU fills in past a memory bound propagate all
    removals together until the mass still in transit (a certified bound on
    the error) is below 1e-13. Probabilities are clipped into [0, 1].
    Self-loops do not change it (they only delay absorption).

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2, 3], ["ad", "site", "ad", "email", "site"],
    ...                               [0.0, 1, 0, 1, 0], outcome=[0, 1, 0, 1, 0])
    >>> re = tp.removal_effects(tp.fit_markov(log))
    >>> print(re.table.to_text())
    touchpoint  removal effect  conversion without  share  markov credit  markov value
    ad                   75.0%               16.7%  42.9%          0.857         0.857
    email                50.0%               33.3%  28.6%          0.571         0.571
    site                 50.0%               33.3%  28.6%          0.571         0.571
    """
    unit = _removal_unit(model, states, groups, each_state)
    names, masks = _items(model, unit, groups)
    q, r, _ = _ab.transient_blocks(model.transition_matrix, model.n_transient)
    if max_steps is not None:
        none = np.zeros(q.shape[0], dtype=bool)
        _, vals = _ab.propagate(q, r, [none, *masks], steps=max_steps)
        base, without = float(np.clip(vals[0], 0.0, 1.0)), np.clip(vals[1:], 0.0, 1.0)
    else:
        base, without = _ab.removal_probabilities(q, r, masks)
    direct = float(r[0])  # (start) > (conversion): no removal changes it
    effect = _effect(base, direct, without)
    tc = model.transition_counts
    replicates = None
    if n_resamples:
        replicates = _bootstrap(model, masks, n_resamples, seed)
    return RemovalEffects(
        names=tuple(names),
        effect=effect,
        without=without,
        conversion_probability=base,
        n_conversions=float(tc.n_conversions - tc.n_direct),
        value=float(tc.value - tc.direct_value),
        states=unit,
        replicates=replicates,
        direct_probability=direct,
        n_direct=tc.n_direct,
    )


def _effect(base: float, direct: float, without: NDArray[np.float64]) -> NDArray[np.float64]:
    """Removal effects on the touched paths: ``(base - without) / (base - direct)``."""
    touched = base - direct
    if not touched > 1e-15:
        return np.zeros_like(without)
    return np.clip((base - without) / touched, 0.0, 1.0)


def _bootstrap(
    model: MarkovModel, masks: list[NDArray[np.bool_]], n_boot: int, seed: int | None
) -> NDArray[np.float64]:
    if model.source is None:
        msg = (
            "bootstrap intervals need the journeys: fit the model with tp.fit_markov(log) "
            "(a model built from counts alone, or from a lazy scan, cannot be resampled by "
            "journey: fit it to scan.collect())."
        )
        raise ValidationError(msg)
    log, params = model.source
    enc = _tr.encode(log, **params)
    tc = model.transition_counts
    edge = encoded_edges(tc, enc)
    rng = np.random.default_rng(seed)
    nj = enc.n_journeys
    tj = enc.journey
    out = np.empty((n_boot, len(masks)))
    from touchpoint._lib.progress import track

    for b in track(range(n_boot), desc="bootstrap removal effects", unit="resample"):
        w = np.bincount(rng.integers(0, nj, nj), minlength=nj).astype(np.float64)
        cnt = np.bincount(edge, weights=w[tj], minlength=len(tc.src)).astype(np.float64)
        m_b = MarkovModel.from_counts(attrs.evolve(tc, count=cnt), smoothing=model.smoothing)
        q, r, _ = _ab.transient_blocks(m_b.transition_matrix, m_b.n_transient)
        base, without = _ab.removal_probabilities(q, r, masks)
        out[b] = _effect(base, float(r[0]), without) if base - r[0] > 1e-15 else np.nan
    return out


# ------------------------------------------------------------- attribution
ATTRIBUTION_METHODS: tuple[str, ...] = ("markov", *CREDIT_FUNCTIONS)
#: Old name of :data:`ATTRIBUTION_METHODS` (the methods were called models before 0.4).
ATTRIBUTION_MODELS = ATTRIBUTION_METHODS

Allocation = Literal["total", "journey"]
Method = Literal[
    "markov", "first_touch", "last_touch", "linear", "time_decay", "position", "shapley"
]

_ALLOCATION_LABEL = {
    "total": "touched conversions spread by removal effect share (ChannelAttribution, DP6)",
    "journey": "each converting journey split over its own touchpoints by removal effect",
}


@attrs.frozen(eq=False)
class Attribution(TableResult):
    """Conversions and value credited to touchpoints (see :func:`attribution`).

    Attributes
    ----------
    method : str
        The attribution method (``"markov"``, ``"last_touch"``, ...).
    table : Table
        One row per touchpoint (or channel, stage; the column is named by
        ``states``): ``conversions`` credited by this method, ``value`` when the
        log has an outcome, ``share`` of the credited conversions.
    allocation : str
        Markov only: ``"total"`` or ``"journey"`` (empty for the other methods).
    states : str
        What got the credit: ``"touchpoint"``, ``"channel"`` or ``"stage"``.
    lookback : float or None
        The lookback window in seconds (the log's unit for numeric times).
    """

    method: str
    table: Table
    per_journey: Table | None = attrs.field(default=None, repr=False)
    removal_effects: RemovalEffects | None = attrs.field(default=None, repr=False)
    unattributed: float = 0.0
    note: str = ""
    unattributed_value: float = 0.0
    conversion: str = ""
    allocation: str = ""
    states: str = "touchpoint"
    lookback: float | None = None

    @property
    def model(self) -> str:
        """Old name of :attr:`method`."""
        return self.method

    @property
    def label(self) -> str:
        """What the ``conversions`` column means, in words (one label per quantity)."""
        if self.method == "markov":
            return f"Markov credit ({self.allocation} allocation: {_ALLOCATION_LABEL[self.allocation]})"
        return f"{self.method.replace('_', ' ')} credit"

    def credit(self, name: str) -> float:
        """Conversions credited to one touchpoint (0 for one the table does not list)."""
        col = self.table[self.states]
        hit = col == name
        return float(self.table["conversions"][hit][0]) if hit.any() else 0.0

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bars of each touchpoint's share of the credit (needs matplotlib)."""
        from touchpoint._lib.charts import credit_bars

        t = self.table
        keep = np.asarray(t["share"], dtype=float) != 0
        return credit_bars(
            [str(x) for x in np.asarray(t[t.columns[0]])[keep].tolist()],
            np.asarray(t["share"], dtype=float)[keep],
            ax=ax,
            xlabel=f"share of the credit ({self.model})",
        )

    def __repr__(self) -> str:
        col = self.states
        top = ", ".join(
            f"{n}={c:,.1f}"
            for n, c in zip(
                self.table[col][:5].tolist(), self.table["conversions"][:5].tolist(), strict=True
            )
        )
        alloc = f", allocation={self.allocation!r}" if self.allocation else ""
        return f"Attribution(method={self.method!r}{alloc}, {len(self.table)} {col}s; top: {top})"

    def _repr_html_(self) -> str:
        return self.table.to_html()


def _check_position_weights(name: str, value: Any) -> None:
    w = ck.pair(name, value, low=0.0, high=1.0, ordered=False)
    if w[0] + w[1] > 1:
        ck.fail(name, "two shares >= 0 (first, last) summing to at most 1", value)


@attrs.frozen
class _Spec:
    """The path conventions and method options of one attribution call."""

    method: str
    states: str
    order: int
    allocation: str
    collapse_repeats: bool
    until_conversion: bool
    max_steps: int | None
    shapley_value: str
    options: CreditOptions
    lookback: float | None
    model: MarkovModel | None = None  # a fitted model given as the data

    def encode(self, log: EventLog) -> _tr.EncodedJourneys:
        return _tr.encode(
            log,
            order=1,
            states=self.states,
            collapse_repeats=self.collapse_repeats,
            until_conversion=self.until_conversion,
        )

    def fit(self, log: EventLog) -> MarkovModel:
        if self.model is not None and self.lookback is None:
            return self.model  # the user's own fit (its smoothing too)
        return fit_markov(
            log,
            order=self.order,
            states=self.states,  # type: ignore[arg-type]
            collapse_repeats=self.collapse_repeats,
            until_conversion=self.until_conversion,
        )


@attrs.frozen
class _Credit:
    """Credited conversions and value per symbol, and what produced them."""

    conversions: NDArray[np.float64]
    values: NDArray[np.float64]
    weights: NDArray[np.float64] | None  # per kept event, its journey share (None: none)
    note: str = ""
    removal: RemovalEffects | None = None
    all_conversions: bool = False  # credit spreads all conversions (nothing unattributed)


@deprecated_params(renamed={"by": "states", "n_bootstrap": "n_resamples", "model": "method"})
@ck.validate_params(
    {
        "method": ck.Options(*ATTRIBUTION_METHODS),
        "states": ck.Options(*_tr.STATE_KINDS),
        "order": ck.Integer(1),
        "allocation": ck.Options("total", "journey"),
        "lookback": ck.Duration(none=True),
        "per_journey": ck.Boolean(),
        "n_resamples": ck.Integer(0),
        "seed": ck.Seed(),
        "half_life": ck.Duration(none=True),
        "position_weights": ck.Custom(_check_position_weights, (0.7, 0.7), (-0.1, 0.2)),
        "collapse_repeats": ck.Boolean(),
        "until_conversion": ck.Boolean(),
        "max_steps": ck.Integer(1, none=True),
        "shapley_value": ck.Options("conversions", "conversion_rate"),
    }
)
def attribution(
    data: EventLog | MarkovModel,
    method: Method = "markov",
    *,
    states: StateKind = "touchpoint",
    order: int = 1,
    allocation: Allocation = "total",
    lookback: Any = None,
    per_journey: bool = False,
    n_resamples: int = 0,
    seed: int | None = 0,
    half_life: DurationLike | None = None,
    position_weights: tuple[float, float] = (0.4, 0.4),
    collapse_repeats: bool = False,
    until_conversion: bool = True,
    max_steps: int | None = None,
    shapley_value: Literal["conversions", "conversion_rate"] = "conversions",
) -> Attribution:
    """Credit each touchpoint (or channel, stage) with conversions and value.

    Parameters
    ----------
    data : EventLog or MarkovModel
        Journeys; conversion is ``log.converted()`` and value ``log.value()``
        (revenue is attributed, not just counts). A model from
        :func:`~touchpoint.fit_markov` stands for its log, with its order,
        states and path conventions (which then override the keywords).
    method : str
        ``"markov"``: exact removal effects of an order-``order`` chain.
        ``"first_touch"`` / ``"last_touch"``: all credit to the first / last
        touch. ``"linear"``: equal credit per touch. ``"time_decay"``: weight
        ``2 ** (-(t_last - t) / half_life)``. ``"position"``: U-shaped,
        ``position_weights`` to the first and last touch, the rest shared by
        the middle (one touch gets all, two split evenly). ``"shapley"``:
        the simplified Shapley value of Zhao et al. (2018), exact over the
        observed channel subsets (see Notes). Called ``model`` before 0.4
        (still accepted, with a DeprecationWarning).
    states : {"touchpoint", "channel", "stage"}
        What gets the credit; channels and stages come from the design (or
        an extra column), and the Markov chain is then built over them.
    order : int
        Markov chain order (``method="markov"``).
    allocation : {"total", "journey"}
        Markov only. ``"total"`` (default, the field's allocation, as
        ChannelAttribution's ``markov_model`` and DP6's ``run_markov``): the
        conversions (and value) of the touched journeys, spread over the
        touchpoints by ``RE / sum RE``. ``"journey"``: each converting
        journey's conversion split over its own distinct touchpoints in
        proportion to their removal effects (no touchpoint gets more than the
        conversions it touched).
    lookback : timedelta, numpy.timedelta64, str or float, optional
        Touches more than this long before the journey's conversion (for a
        journey that does not convert: before its last event) are dropped
        before any method runs, so they get no credit; a converting journey
        left with no touch is unattributed. Float: the log's time unit.
    per_journey : bool
        Also return credit per converting journey and touchpoint
        (``.per_journey``: journey, touchpoint, conversions, value). Markov
        needs ``allocation="journey"`` for it.
    n_resamples, seed
        Bootstrap replicates (0: none) and their seed (default 0, the same every run;
        None for fresh randomness) for intervals of the Markov removal effects.
    half_life : timedelta, numpy.timedelta64 or float, optional
        Time-decay half-life (default 7 days; 7 units for float times).
    position_weights : (float, float)
        First- and last-touch shares of the position model.
    collapse_repeats, until_conversion : bool
        Path conventions (see :func:`~touchpoint.count_transitions`): by
        default repeated touches count (``collapse_repeats=False``) and each
        converting journey is cut at its first conversion.
    max_steps : int, optional
        Markov only: conversions within this many transitions (default: no limit).
    shapley_value : {"conversions", "conversion_rate"}
        Worth of a channel set ``T`` in the Shapley game ``v(S) = sum over
        T inside S of w(T)``: its conversions (Zhao et al. 2018, default) or
        its conversion rate (conversions / journeys with exactly that set,
        as in DP6's ``run_shapley``); credit is then scaled to the observed
        conversions and value. The rate variant needs at most 62 channels.

    Returns
    -------
    Attribution
        ``.table`` (touchpoint, conversions, value when the log has an
        outcome, share; sorted by conversions), ``.label`` (what the
        conversions column means), ``.per_journey`` if asked,
        ``.removal_effects`` for the Markov method, ``.unattributed``
        conversions (and ``.unattributed_value``) of journeys with no
        touchpoint before their conversion (direct conversions, e.g. a first
        purchase before any campaign; never spread over touchpoints) and
        ``.conversion``, which events define a conversion.

    Notes
    -----
    With the default ``allocation="total"`` the Markov credit of a
    touchpoint equals the ``markov_credit`` and ``markov_value`` columns of
    :func:`removal_effects` and, on logs without direct conversions,
    ChannelAttribution's Markov conversions (exactly: it simulates, this
    solves the chain) and DP6's removal effects. Value is spread by the same
    shares (ChannelAttribution's value column uses a value-weighted removal
    effect instead).

    The simplified Shapley value (Zhao et al. 2018) takes the coalition
    value ``v(S)`` to be the conversions of journeys whose set of touched
    channels lies inside ``S``; the Shapley value of that game is exactly
    ``phi_c = sum over observed channel sets T containing c of conv(T) / |T|``,
    i.e. each converting journey's credit split evenly over its distinct
    channels. It needs no enumeration of ``2^n`` coalitions, so it is exact
    for any number of channels. Any game of this additive form (a sum of
    unanimity games) has Shapley value ``sum_{T containing c} w(T) / |T|``,
    which gives the ``"conversion_rate"`` variant over the observed sets.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2, 3], ["ad", "site", "ad", "email", "site"],
    ...                               [0.0, 1, 0, 1, 0], outcome=[0, 50, 0, 20, 0])
    >>> print(tp.attribution(log, "last_touch").table.to_text())
    touchpoint  conversions  value  share
    email                 1     20  50.0%
    site                  1     50  50.0%
    ad                    0      0   0.0%
    >>> att = tp.attribution(log, "markov")
    >>> print(att.table.to_text())
    touchpoint  conversions  value  share
    ad                0.857     30  42.9%
    email             0.571     20  28.6%
    site              0.571     20  28.6%
    >>> att.allocation, att.conversion
    ('total', "a positive 'outcome' on an event")
    """
    if is_scan(data):  # a lazy scan (touchpoint.scan) counts in its engine
        opts = {k: v for k, v in locals().items() if k != "data"}
        opts["model"] = opts.pop("method")
        return pushdown(data, "attribution", Attribution, opts)
    log, spec = _resolve(
        data,
        _Spec(
            method=method,
            states=states,
            order=order,
            allocation=allocation,
            collapse_repeats=collapse_repeats,
            until_conversion=until_conversion,
            max_steps=max_steps,
            shapley_value=shapley_value,
            options=CreditOptions(half_life=half_life, position_weights=position_weights),
            lookback=None,
        ),
        per_journey,
    )
    if lookback is not None:
        window = required_duration(lookback, "lookback", datetime=log.is_datetime)
        spec = attrs.evolve(spec, lookback=window)
    if spec.lookback is not None:
        log = within_lookback(log, spec.lookback)
    enc = spec.encode(log)
    credit = _credit(log, enc, spec, n_resamples=n_resamples, seed=seed, per_journey=per_journey)
    return _result(log, enc, spec, credit, per_journey=per_journey)


def _resolve(
    data: EventLog | MarkovModel, spec: _Spec, per_journey: bool
) -> tuple[EventLog, _Spec]:
    """The log behind ``data`` and the spec (a fitted model's settings win)."""
    if spec.method == "markov" and per_journey and spec.allocation != "journey":
        msg = (
            "per_journey=True with method='markov' needs allocation='journey' (the default "
            "'total' allocation spreads all touched conversions and does not split journeys)."
        )
        raise ValidationError(msg)
    if not isinstance(data, MarkovModel):
        return data, spec
    if data.source is None:
        msg = (
            "attribution of a MarkovModel needs its journeys: fit it with tp.fit_markov(log) "
            "(a model built from counts alone has no log), or call removal_effects(model), "
            "whose markov_credit column is the Markov credit."
        )
        raise ValidationError(msg)
    log, params = data.source
    return log, attrs.evolve(
        spec,
        model=data,
        order=int(params["order"]),
        states=str(params["states"]),
        collapse_repeats=bool(params["collapse_repeats"]),
        until_conversion=bool(params["until_conversion"]),
    )


def within_lookback(log: EventLog, lookback: float) -> EventLog:
    """The log without touches older than ``lookback`` before each journey's reference time.

    The reference is the journey's first converting event (a positive outcome
    or a conversion touchpoint), or its last event when it does not convert.
    """
    from touchpoint._lib.time import seconds

    t = seconds(log.timestamp)
    hit = np.zeros(log.n_events, dtype=bool)
    if log.outcome is not None:
        hit |= np.nan_to_num(log.outcome) > 0
    for c in log.conversions:
        if c in log.touchpoint_names:
            hit |= log.touchpoint == log.touchpoint_code(c)
    ref = t[np.maximum(log.offsets[1:] - 1, 0)] if log.n_events else np.zeros(0)
    hp = np.flatnonzero(hit)
    if hp.size:
        jh = log.journey[hp]
        first = np.ones(hp.size, dtype=bool)
        first[1:] = jh[1:] != jh[:-1]
        ref = ref.copy()
        ref[jh[first]] = t[hp[first]]
    keep = t >= ref[log.journey] - lookback
    return log if keep.all() else log.select(keep)


def _credit(
    log: EventLog,
    enc: _tr.EncodedJourneys,
    spec: _Spec,
    *,
    n_resamples: int,
    seed: int | None,
    per_journey: bool,
) -> _Credit:
    """Dispatch to the method's credit."""
    if spec.method == "markov":
        return _markov_credit(log, enc, spec, n_resamples=n_resamples, seed=seed)
    if spec.method == "shapley" and spec.shapley_value == "conversion_rate":
        phi = shapley_rate(enc)
        tot_phi = phi.sum()
        share = phi / tot_phi if tot_phi > 0 else np.zeros(len(enc.alphabet))
        conv = enc.converted
        return _Credit(
            conversions=float(conv.sum()) * share,
            values=float(enc.value[conv].sum()) * share,
            weights=split_by_weight(enc, phi) if per_journey else None,
            note="simplified Shapley with v(S) = sum of conversion rates of channel sets inside S",
            all_conversions=True,
        )
    weights = CREDIT_FUNCTIONS[spec.method](enc, log, spec.options)
    credited, val = _spread(enc, weights)
    return _Credit(credited, val, weights)


def _spread(
    enc: _tr.EncodedJourneys, weights: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per symbol: the converting journeys' conversion and value times the events' weights."""
    k = len(enc.alphabet)
    conv = enc.converted
    cj = conv[enc.event_journey].astype(np.float64)
    vj = np.where(conv, enc.value, 0.0)[enc.event_journey]
    conversions = np.bincount(enc.events, weights=weights * cj, minlength=k).astype(np.float64)
    values = np.bincount(enc.events, weights=weights * vj, minlength=k).astype(np.float64)
    return conversions, values


def _markov_credit(
    log: EventLog, enc: _tr.EncodedJourneys, spec: _Spec, *, n_resamples: int, seed: int | None
) -> _Credit:
    """Removal effects of the fitted chain, allocated in total or per journey."""
    re = removal_effects(
        spec.fit(log), n_resamples=n_resamples, seed=seed, max_steps=spec.max_steps
    )
    eff = dict(zip(re.names, re.effect.tolist(), strict=True))
    by_sym = np.array([eff.get(s, 0.0) for s in enc.alphabet])
    weights = split_by_weight(enc, by_sym)
    if spec.allocation == "journey":
        conv, val = _spread(enc, weights)
        note = (
            "Markov credit, journey allocation: each touched conversion split over its "
            "journey's touchpoints by removal effect; conversions with no touchpoint before "
            "are unattributed"
        )
        return _Credit(conv, val, weights, note, re)
    tot = by_sym.sum()
    share = by_sym / tot if tot > 0 else np.zeros_like(by_sym)
    note = (
        "Markov credit, total allocation: touched conversions x RE / sum RE (as "
        "ChannelAttribution and DP6 do); conversions with no touchpoint before are unattributed"
    )
    return _Credit(share * re.n_conversions, share * re.value, None, note, re)


def _result(
    log: EventLog, enc: _tr.EncodedJourneys, spec: _Spec, credit: _Credit, *, per_journey: bool
) -> Attribution:
    """The credit table (conversion touchpoints left out) and the result."""
    k = len(enc.alphabet)
    conv = enc.converted
    direct = conv & (enc.lengths == 0)
    cols: dict[str, Any] = {
        spec.states: np.array(enc.alphabet, dtype=object),
        "conversions": credit.conversions,
    }
    if log.outcome is not None:
        cols["value"] = credit.values
    tot = credit.conversions.sum()
    cols["share"] = credit.conversions / tot if tot > 0 else np.zeros(k)
    title = f"{spec.method} attribution" + (
        f" ({spec.allocation} allocation)" if spec.method == "markov" else ""
    )
    table = Table(cols, title=title).sort("conversions", descending=True)
    if spec.states == "touchpoint" and log.conversions:  # conversions themselves: no credit
        table = table[~np.isin(table[spec.states], np.array(log.conversions, dtype=object))]
    pj = None
    if per_journey and credit.weights is not None:
        pj = _per_journey_table(log, enc, credit.weights, spec.states)
        if log.outcome is None:
            pj = Table({c: pj[c] for c in pj.columns if c != "value"}, title=pj.title)
    unattributed = 0.0 if credit.all_conversions else float(direct.sum())
    return Attribution(
        method=spec.method,
        table=table,
        per_journey=pj,
        removal_effects=credit.removal,
        unattributed=unattributed,
        note=credit.note,
        unattributed_value=float(enc.value[direct].sum()) if unattributed else 0.0,
        conversion=log.conversion_rule,
        allocation=spec.allocation if spec.method == "markov" else "",
        states=spec.states,
        lookback=spec.lookback,
    )


def _per_journey_table(
    log: EventLog, enc: _tr.EncodedJourneys, weights: NDArray[np.float64], by: str
) -> Table:
    conv = enc.converted
    j = enc.event_journey
    keep = conv[j] & (weights > 0)
    width = len(enc.alphabet)
    key = j[keep] * width + enc.events[keep]
    uniq, inv = np.unique(key, return_inverse=True)
    credit = np.bincount(inv.ravel(), weights=weights[keep])
    jj, ss = uniq // width, uniq % width
    return Table(
        {
            "journey": log.journey_ids[jj],
            by: np.array(enc.alphabet, dtype=object)[ss],
            "conversions": credit,
            "value": credit * enc.value[jj],
        },
        title="credit per journey",
    )
