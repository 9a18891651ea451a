"""Every attribution method side by side, and what a conversion costs under each.

:func:`compare_attribution` runs :func:`~touchpoint.attribution` once per
method (so each column equals what ``attribution`` gives for it) and, with a
spend table, divides each channel's cost by its credited conversions (cost per
conversion) and its credited value by its cost (ROAS), with percentile
bootstrap intervals over journeys: journeys are resampled with replacement
and the credit recomputed (the Markov chain refitted) in each replicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import StateKind
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.stats import check_confidence
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.markov import _absorbing as _ab, _encoding as _tr
from touchpoint.markov._attribution import (
    ATTRIBUTION_METHODS,
    Attribution,
    _effect,
    _items,
    attribution,
    within_lookback,
)
from touchpoint.markov._heuristics import CREDIT_FUNCTIONS, CreditOptions
from touchpoint.markov._model import MarkovModel, encoded_edges, fit_markov
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = ["AttributionComparison", "compare_attribution"]

#: Methods compared by default.
DEFAULT_METHODS = ("markov", "shapley", "first_touch", "last_touch", "linear", "position")


@attrs.frozen(eq=False)
class AttributionComparison(TableResult):
    """Several attribution methods side by side (see :func:`compare_attribution`).

    Attributes
    ----------
    table : Table
        One row per touchpoint (or channel, stage), one column of credited
        conversions per method (named by the method), sorted by the first.
    attributions : dict of str to Attribution
        The full result of each method (``attributions["markov"].table`` is
        ``tp.attribution(log, "markov").table``).
    spend : Table or None
        With a spend table: per method and channel its cost, credited
        conversions and value, ``cost_per_conversion`` and ``roas`` with
        bootstrap intervals (``cpa_low``, ``cpa_high``, ``roas_low``,
        ``roas_high``).
    states : str
        What got the credit.
    """

    table: Table
    attributions: Mapping[str, Attribution] = attrs.field(repr=False)
    spend: Table | None = attrs.field(default=None, repr=False)
    states: str = "touchpoint"
    confidence_level: float = 0.95

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods compared, in column order."""
        return tuple(self.attributions)

    def __repr__(self) -> str:
        return (
            f"AttributionComparison(methods={list(self.methods)}, "
            f"{len(self.table)} {self.states}s, spend={self.spend is not None})"
        )

    def plot(self, ax: Axes | None = None, *, top: int = 12) -> Axes:
        """Grouped horizontal bars: each method's credited conversions per touchpoint.

        Needs matplotlib; returns the Axes.
        """
        from touchpoint._lib.charts import new_axes

        t = self.table.head(top)
        names = [str(n) for n in t[self.states].tolist()]
        ax = new_axes(ax, (7.0, 0.35 * len(names) * max(1, len(self.methods)) / 2 + 1.5))
        height = 0.8 / max(1, len(self.methods))
        y = np.arange(len(names), dtype=float)
        for i, m in enumerate(self.methods):
            ax.barh(y + i * height, np.asarray(t[m], dtype=float), height=height, label=m)
        ax.set_yticks(y + 0.4 - height / 2, labels=names)
        ax.invert_yaxis()
        ax.set_xlabel("credited conversions")
        ax.legend(title="method", fontsize="small")
        ax.set_title(f"Attribution by method ({self.states})")
        return ax


def _spend_by_unit(spend: Any, unit: str) -> dict[str, float]:
    """Total cost per channel of a spend table (periods summed)."""
    if isinstance(spend, Mapping) and all(ck.is_number(v) for v in spend.values()):
        cols: dict[str, Any] = {unit: list(spend), "cost": list(spend.values())}
    elif isinstance(spend, Mapping):
        cols = dict(spend)
    elif hasattr(spend, "to_dict") and hasattr(spend, "columns"):
        cols = {str(c): list(spend[c]) for c in spend.columns}
    else:
        raise ck.error(
            "spend", "a mapping {channel: cost} or a table (channel, period, cost)", spend
        )
    key = unit if unit in cols else "channel" if "channel" in cols else None
    if key is None or "cost" not in cols:
        msg = f"'spend' needs a {unit!r} (or 'channel') column and a 'cost' column; got {sorted(cols)}."
        raise ValidationError(msg)
    out: dict[str, float] = {}
    for row, (name, cost) in enumerate(zip(cols[key], cols["cost"], strict=True)):
        if not (ck.is_number(cost) and np.isfinite(float(cost)) and float(cost) >= 0):
            msg = f"'spend' row {row} ({key}={name!r}): cost must be a number >= 0, got {cost!r}."
            raise ValidationError(msg)
        out[str(name)] = out.get(str(name), 0.0) + float(cost)
    return out


def _methods_constraint(name: str, value: Any) -> None:
    del name
    _check_methods(value)


@deprecated_params(renamed={"models": "methods"})
@ck.validate_params(
    {
        "methods": ck.Custom(_methods_constraint, "magic", [], ["linear", "magic"], 5),
        "states": ck.Options(*_tr.STATE_KINDS),
        "lookback": ck.Duration(none=True),
        "n_resamples": ck.Integer(0),
        "seed": ck.Seed(),
        "confidence_level": ck.CONFIDENCE,
    }
)
def compare_attribution(
    data: EventLog | MarkovModel,
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    spend: Any = None,
    states: StateKind = "touchpoint",
    lookback: Any = None,
    n_resamples: int = 200,
    seed: int | None = 0,
    confidence_level: float = 0.95,
) -> AttributionComparison:
    """Attribution methods side by side, with cost per conversion and ROAS given spend.

    Parameters
    ----------
    data : EventLog or MarkovModel
        Journeys (see :func:`attribution`).
    methods : sequence of str
        Attribution methods (``tp.ATTRIBUTION_METHODS``); default Markov,
        Shapley, first touch, last touch, linear and position. Each runs with
        :func:`attribution`'s defaults (Markov: order 1, total allocation).
    spend : mapping or table, optional
        Cost per channel: ``{channel: cost}`` or a table with a column named
        like ``states`` (or ``channel``), a ``cost`` column and optionally a
        ``period`` column (costs of a channel are summed over its periods: give
        the spend of the span the log covers).
    states : {"touchpoint", "channel", "stage"}
        What gets the credit (and what the spend is per).
    lookback : duration, optional
        Lookback window applied to every method (see :func:`attribution`).
    n_resamples, seed, confidence_level
        Bootstrap replicates over journeys for the cost per conversion and
        ROAS intervals (0: none), their seed and level.

    Returns
    -------
    AttributionComparison
        ``.table`` (credited conversions, one column per method),
        ``.attributions`` (each method's :class:`Attribution`), ``.spend``
        (cost per conversion and ROAS with intervals) and ``.plot()``.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2, 3], ["ad", "site", "ad", "email", "site"],
    ...                               [0.0, 1, 0, 1, 0], outcome=[0, 50, 0, 20, 0])
    >>> cmp = tp.compare_attribution(log, ["markov", "last_touch"], spend={"ad": 10.0},
    ...                              n_resamples=0)
    >>> print(cmp.table.to_text())
    touchpoint  markov  last touch
    ad           0.857           0
    site         0.571           1
    email        0.571           1
    >>> round(float(cmp.spend["cost_per_conversion"][0]), 2)
    11.67
    """
    methods = _check_methods(methods)
    atts = {
        m: attribution(data, m, states=states, lookback=lookback)  # type: ignore[arg-type]
        for m in methods
    }
    unit = next(iter(atts.values())).states
    names = _union_names(atts, unit)
    cols: dict[str, Any] = {unit: np.array(names, dtype=object)}
    for m, att in atts.items():
        cols[m] = np.array([att.credit(n) for n in names])
    table = Table(cols, title="attribution by method").sort(methods[0], descending=True)
    spend_table = None
    if spend is not None:
        cost = _spend_by_unit(spend, unit)
        unknown = sorted(set(cost) - set(names))
        if unknown:
            msg = (
                f"'spend' names {unknown[:5]} that are not {unit}s of the log "
                f"(its {unit}s: {sorted(names)[:20]}); spend is per {unit} (states={unit!r})."
            )
            raise ValidationError(msg)
        log = data.source[0] if isinstance(data, MarkovModel) and data.source else data
        if isinstance(log, MarkovModel):
            msg = "spend needs the journeys: pass the log (or a model from tp.fit_markov)."
            raise ValidationError(msg)
        if lookback is not None:
            log = within_lookback(log, float(next(iter(atts.values())).lookback or 0.0))
        spend_table = _spend_table(
            log, atts, cost, unit, n_resamples=n_resamples, seed=seed, conf=confidence_level
        )
    return AttributionComparison(
        table=table,
        attributions=atts,
        spend=spend_table,
        states=unit,
        confidence_level=check_confidence(confidence_level),
    )


def _check_methods(methods: Any) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = (methods,)
    if not isinstance(methods, Sequence | tuple | list):
        raise ck.error("methods", f"attribution methods from {ATTRIBUTION_METHODS}", methods)
    out = tuple(methods)
    if not out:
        raise ck.error("methods", "at least one attribution method", methods)
    for m in out:
        if m not in ATTRIBUTION_METHODS:
            raise ck.error("methods", f"attribution methods from {ATTRIBUTION_METHODS}", m)
    return out


def _union_names(atts: Mapping[str, Attribution], unit: str) -> list[str]:
    seen: dict[str, None] = {}
    for att in atts.values():
        for n in att.table[unit].tolist():
            seen.setdefault(str(n), None)
    return list(seen)


def _spend_table(
    log: EventLog,
    atts: Mapping[str, Attribution],
    cost: Mapping[str, float],
    unit: str,
    *,
    n_resamples: int,
    seed: int | None,
    conf: float,
) -> Table:
    """Cost per conversion and ROAS per method and channel, with bootstrap intervals."""
    enc = _tr.encode(log, order=1, states=unit)
    rng = np.random.default_rng(seed)
    nj = enc.n_journeys
    draws = [
        np.bincount(rng.integers(0, nj, nj), minlength=nj).astype(np.float64)
        for _ in range(n_resamples)
    ]
    alpha = (1 - conf) / 2
    rows: list[dict[str, Any]] = []
    index = {s: i for i, s in enumerate(enc.alphabet)}
    for m, att in atts.items():
        replicate = _replicator(log, enc, m, unit)
        reps = [replicate(w) for w in draws]
        for name, c in cost.items():
            credited = att.credit(name)
            hit = att.table[unit] == name
            value = (
                float(att.table["value"][hit][0])
                if "value" in att.table.columns and hit.any()
                else 0.0
            )
            row: dict[str, Any] = {
                "method": m,
                unit: name,
                "cost": c,
                "conversions": credited,
                "value": value,
                "cost_per_conversion": c / credited if credited > 0 else np.inf,
                "roas": value / c if c > 0 else np.nan,
            }
            i = index.get(name)
            if reps and i is not None:
                rc = np.array([r[0][i] for r in reps])
                rv = np.array([r[1][i] for r in reps])
                with np.errstate(divide="ignore", invalid="ignore"):
                    cpa = np.where(rc > 0, c / rc, np.inf)
                    roas = rv / c if c > 0 else np.full(len(rv), np.nan)
                q = [alpha, 1 - alpha]  # no interpolation: a replicate may give inf
                row["cpa_low"], row["cpa_high"] = np.quantile(cpa, q, method="inverted_cdf")
                row["roas_low"], row["roas_high"] = np.quantile(roas, q, method="inverted_cdf")
            else:
                row["cpa_low"] = row["cpa_high"] = row["roas_low"] = row["roas_high"] = np.nan
            rows.append(row)
    return Table.from_records(rows, title="cost per conversion and ROAS")


Replicate = Callable[[NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]]


def _replicator(log: EventLog, enc: _tr.EncodedJourneys, method: str, unit: str) -> Replicate:
    """A function of journey weights returning credited conversions and value per symbol."""
    conv = enc.converted
    value = np.where(conv, enc.value, 0.0)
    if method == "markov":
        return _markov_replicator(log, enc, unit)
    weights = CREDIT_FUNCTIONS[method](enc, log, CreditOptions())
    j = enc.event_journey
    k = len(enc.alphabet)

    def rule(w: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        ew = weights * w[j]
        c = np.bincount(enc.events, weights=ew * conv[j], minlength=k).astype(np.float64)
        v = np.bincount(enc.events, weights=ew * value[j], minlength=k).astype(np.float64)
        return c, v

    return rule


def _shares(effect: NDArray[np.float64], pos: NDArray[np.intp], k: int) -> NDArray[np.float64]:
    out = np.zeros(k)
    tot = effect.sum()
    if tot > 0:
        out[pos] = effect / tot
    return out


def _markov_replicator(log: EventLog, enc: _tr.EncodedJourneys, unit: str) -> Replicate:
    """Refit the chain on weighted journeys; total allocation of the touched conversions."""
    model = fit_markov(log, states=unit)  # type: ignore[arg-type]
    tc = model.transition_counts
    enc_k = _tr.encode(log, order=model.order, states=unit)
    edge = encoded_edges(tc, enc_k)
    names, masks = _items(model, tc.states, None)
    pos = np.array([enc.alphabet.index(n) for n in names], dtype=np.intp)
    touched = enc.converted & (enc.lengths > 0)
    tj = enc_k.journey
    k = len(enc.alphabet)

    def markov(w: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        cnt = np.bincount(edge, weights=w[tj], minlength=len(tc.src)).astype(np.float64)
        m_b = MarkovModel.from_counts(attrs.evolve(tc, count=cnt))
        q, r, _ = _ab.transient_blocks(m_b.transition_matrix, m_b.n_transient)
        base, without = _ab.removal_probabilities(q, r, masks)
        share = _shares(_effect(base, float(r[0]), without), pos, k)
        c = float(np.sum(w * touched))
        v = float(np.sum(w * np.where(touched, enc.value, 0.0)))
        return share * c, share * v

    return markov
