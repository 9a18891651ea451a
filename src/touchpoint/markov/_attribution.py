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

Credit: :func:`attribution` splits each touched converting journey's
conversion and value over the distinct touchpoints on its path in proportion
to their removal effects, so the credit adds up to the touched conversions
(the heuristic models' attributed total), no touchpoint gets more than the
converting journeys it touched, and direct conversions are ``unattributed``.
ChannelAttribution instead spreads the total over all channels by
``RE(s) / sum RE`` (the ``conversions`` column of :class:`RemovalEffects`,
here over the touched conversions only). Peers estimate
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

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import CreditUnit, StateKind
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.frames import format_path
from touchpoint._lib.stats import ConfidenceInterval, check_confidence
from touchpoint._lib.types import DurationLike
from touchpoint.core._lazy import is_scan, pushdown
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.markov import _absorbing as _ab, _encoding as _tr
from touchpoint.markov._model import MarkovModel, encoded_edges, fit_markov
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = ["ATTRIBUTION_MODELS", "Attribution", "RemovalEffects", "attribution", "removal_effects"]

ATTRIBUTION_MODELS = (
    "markov",
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position",
    "shapley",
)


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
        proportion to ``effect`` in the table (ChannelAttribution's allocation).
    n_direct : int
        Conversions with no touchpoint before (left out of the above).
    replicates : numpy array or None
        Bootstrap replicates of ``effect`` (``n_resamples x len(names)``).
    """

    names: tuple[str, ...]
    effect: NDArray[np.float64]
    without: NDArray[np.float64]
    conversion_probability: float
    n_conversions: float
    value: float
    by: str = "touchpoint"
    replicates: NDArray[np.float64] | None = attrs.field(default=None, repr=False)
    direct_probability: float = 0.0
    n_direct: int = 0

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
        """Table sorted by effect: name, removal_effect, without, share, conversions, value (and CI)."""
        cols: dict[str, Any] = {
            self.by: np.array(self.names, dtype=object),
            "removal_effect": self.effect,
            "conversion_without": self.without,
            "share": self.share,
            "conversions": self.share * self.n_conversions,
            "value": self.share * self.value,
        }
        if self.replicates is not None:
            conf = check_confidence(confidence_level)
            q = np.nanquantile(self.replicates, [(1 - conf) / 2, 1 - (1 - conf) / 2], axis=0)
            cols["ci_low"], cols["ci_high"] = q[0], q[1]
        return Table(cols, title="removal effects").sort("removal_effect", descending=True)

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
            f"RemovalEffects(by={self.by!r}, n={len(self.names)}, "
            f"conversion_probability={self.conversion_probability:.4g}, top: {top})"
        )

    def _repr_html_(self) -> str:
        return self.table.to_html()


def _items(
    model: MarkovModel, by: str, groups: Mapping[str, Iterable[str]] | None
) -> tuple[list[str], list[NDArray[np.bool_]]]:
    if groups is not None:
        names = [str(g) for g in groups]
        return names, [model._symbol_mask(list(groups[g])) for g in groups]
    if by == "touchpoint":
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
    if by == "channel":
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
    if by == "state":
        m = model.n_transient + 1
        names = [format_path(s) if isinstance(s, tuple) else str(s) for s in model.states[1:m]]
        masks = []
        for i in range(1, m):
            mask = np.zeros(m, dtype=bool)
            mask[i] = True
            masks.append(mask)
        return names, masks
    raise ck.error("states", "'touchpoint', 'channel' or 'state'", by)


@deprecated_params(renamed={"by": "states", "n_bootstrap": "n_resamples"})
@ck.validate_params(
    {
        "states": ck.Options("touchpoint", "channel", "state"),
        "n_resamples": ck.Integer(0),
        "seed": ck.Seed(),
        "max_steps": ck.Integer(1, none=True),
    }
)
def removal_effects(
    model: MarkovModel,
    *,
    states: CreditUnit = "touchpoint",
    groups: Mapping[str, Iterable[str]] | None = None,
    n_resamples: int = 0,
    seed: int | None = 0,
    max_steps: int | None = None,
) -> RemovalEffects:
    """Exact removal effect of every touchpoint (or channel, state or group).

    Parameters
    ----------
    model : MarkovModel
        A fitted chain.
    states : {"touchpoint", "channel", "state"}
        Remove each touchpoint (in a higher-order model: every state
        containing it), each channel (all its touchpoints; needs the log's
        design) or each state.
    groups : mapping of name to touchpoints, optional
        Remove these sets instead (e.g. your own channel grouping).
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
    formula would shrink every effect by the direct share. Exact: a rank-one (Sherman-Morrison) or
    Woodbury update of one dense inverse for chains up to
    2,500 transient states (``DENSE_LIMIT``); above, all removals are
    propagated together until the mass still in transit (a certified bound
    on the error) is below 1e-13 (a sparse LU fills in badly there). Self-loops do not change it (they only delay absorption).

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2, 3], ["ad", "site", "ad", "email", "site"],
    ...                               [0.0, 1, 0, 1, 0], outcome=[0, 1, 0, 1, 0])
    >>> re = tp.removal_effects(tp.fit_markov(log))
    >>> print(re.table.to_text())
    touchpoint  removal effect  conversion without  share  conversions  value
    ad                   75.0%               16.7%  42.9%        0.857  0.857
    email                50.0%               33.3%  28.6%        0.571  0.571
    site                 50.0%               33.3%  28.6%        0.571  0.571
    """
    names, masks = _items(model, states, groups)
    q, r, _ = _ab.transient_blocks(model.transition_matrix, model.n_transient)
    if max_steps is not None:
        none = np.zeros(q.shape[0], dtype=bool)
        _, vals = _ab.propagate(q, r, [none, *masks], steps=max_steps)
        base, without = float(vals[0]), np.clip(vals[1:], 0.0, 1.0)
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
        by="group" if groups is not None else states,
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
@attrs.frozen(eq=False)
class Attribution(TableResult):
    """Conversions and value credited to touchpoints (see :func:`attribution`)."""

    model: str
    table: Table
    per_journey: Table | None = attrs.field(default=None, repr=False)
    removal_effects: RemovalEffects | None = attrs.field(default=None, repr=False)
    unattributed: float = 0.0
    note: str = ""
    unattributed_value: float = 0.0
    conversion: str = ""

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
        col = self.table.columns[0]
        top = ", ".join(
            f"{n}={c:,.1f}"
            for n, c in zip(
                self.table[col][:5].tolist(), self.table["conversions"][:5].tolist(), strict=True
            )
        )
        return f"Attribution(model={self.model!r}, {len(self.table)} {col}s; top: {top})"

    def _repr_html_(self) -> str:
        return self.table.to_html()


def _check_position_weights(name: str, value: Any) -> None:
    w = ck.pair(name, value, low=0.0, high=1.0, ordered=False)
    if w[0] + w[1] > 1:
        ck.fail(name, "two shares >= 0 (first, last) summing to at most 1", value)


@deprecated_params(renamed={"by": "states", "n_bootstrap": "n_resamples"})
@ck.validate_params(
    {
        "model": ck.Options(*ATTRIBUTION_MODELS),
        "states": ck.Options("touchpoint", "channel", "stage"),
        "order": ck.Integer(1),
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
    log: EventLog,
    model: Literal[
        "markov", "first_touch", "last_touch", "linear", "time_decay", "position", "shapley"
    ] = "markov",
    *,
    states: StateKind = "touchpoint",
    order: int = 1,
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
    log : EventLog
        Journeys; conversion is ``log.converted()`` and value ``log.value()``
        (revenue is attributed, not just counts).
    model : str
        ``"markov"``: exact removal effects of an order-``order`` chain.
        ``"first_touch"`` / ``"last_touch"``: all credit to the first / last
        touch. ``"linear"``: equal credit per touch. ``"time_decay"``: weight
        ``2 ** (-(t_last - t) / half_life)``. ``"position"``: U-shaped,
        ``position_weights`` to the first and last touch, the rest shared by
        the middle (one touch gets all, two split evenly). ``"shapley"``:
        the simplified Shapley value of Zhao et al. (2018), exact over the
        observed channel subsets (see Notes).
    states : {"touchpoint", "channel", "stage"}
        What gets the credit; channels and stages come from the design (or
        an extra column), and the Markov chain is then built over them.
    order : int
        Markov chain order (``model="markov"``).
    per_journey : bool
        Also return credit per converting journey and touchpoint
        (``.per_journey``: journey, touchpoint, conversions, value). For the
        Markov model a journey's conversion is split over its distinct
        touchpoints in proportion to their removal effects.
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
        outcome, share; sorted by conversions), ``.per_journey`` if asked,
        ``.removal_effects`` for the Markov model, ``.unattributed``
        conversions (and ``.unattributed_value``) of journeys with no
        touchpoint before their conversion (direct conversions, e.g. a first
        purchase before any campaign; never spread over touchpoints) and
        ``.conversion``, which events define a conversion.

    Notes
    -----
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
    ad                  1.2     42  60.0%
    email               0.4      8  20.0%
    site                0.4     20  20.0%
    >>> att.conversion
    "a positive 'outcome' on an event"
    """
    if is_scan(log):  # a lazy scan (touchpoint.scan) counts in its engine
        return pushdown(log, "attribution", Attribution, locals())
    enc = _tr.encode(
        log,
        order=1,
        states=states,
        collapse_repeats=collapse_repeats,
        until_conversion=until_conversion,
    )
    k = len(enc.alphabet)
    conv = enc.converted
    value = enc.value
    lengths = np.bincount(enc.event_journey, minlength=enc.n_journeys)
    unattributed = float(np.sum(conv & (lengths == 0)))
    re: RemovalEffects | None = None
    note = ""
    weights: NDArray[np.float64] | None
    if model == "markov":
        m = fit_markov(
            log,
            order=order,
            states=states,
            collapse_repeats=collapse_repeats,
            until_conversion=until_conversion,
        )
        re = removal_effects(m, n_resamples=n_resamples, seed=seed, max_steps=max_steps)
        eff = dict(zip(re.names, re.effect.tolist(), strict=True))
        weights = _markov_journey_weights(enc, np.array([eff.get(s, 0.0) for s in enc.alphabet]))
        cj = conv[enc.event_journey].astype(np.float64)
        vj = np.where(conv, value, 0.0)[enc.event_journey]
        conversions = np.bincount(enc.events, weights=weights * cj, minlength=k).astype(np.float64)
        values = np.bincount(enc.events, weights=weights * vj, minlength=k).astype(np.float64)
        note = (
            "each touched conversion split over its journey's touchpoints by removal effect "
            "(Anderson 2013); conversions with no touchpoint before are unattributed"
        )
    elif model == "shapley" and shapley_value == "conversion_rate":
        phi = _shapley_rate(enc)
        tot_phi = phi.sum()
        share_by_sym = phi / tot_phi if tot_phi > 0 else np.zeros(k)
        total_c, total_v = float(conv.sum()), float(value[conv].sum())
        conversions = total_c * share_by_sym
        values = total_v * share_by_sym
        unattributed = 0.0
        note = "simplified Shapley with v(S) = sum of conversion rates of channel sets inside S"
        weights = _markov_journey_weights(enc, phi) if per_journey else None
    else:
        weights = _event_weights(enc, log, model, half_life, position_weights)
        cj = conv[enc.event_journey].astype(np.float64)
        vj = np.where(conv, value, 0.0)[enc.event_journey]
        conversions = np.bincount(enc.events, weights=weights * cj, minlength=k).astype(np.float64)
        values = np.bincount(enc.events, weights=weights * vj, minlength=k).astype(np.float64)
    tot = conversions.sum()
    cols: dict[str, Any] = {
        states: np.array(enc.alphabet, dtype=object),
        "conversions": conversions,
    }
    if log.outcome is not None:
        cols["value"] = values
    cols["share"] = conversions / tot if tot > 0 else np.zeros(k)
    table = Table(cols, title=f"{model} attribution").sort("conversions", descending=True)
    if states == "touchpoint" and log.conversions:  # conversion touchpoints are not credited
        table = table[~np.isin(table[states], np.array(log.conversions, dtype=object))]
    pj = None
    if per_journey and weights is not None:
        pj = _per_journey_table(log, enc, weights, states)
        if log.outcome is None:
            pj = Table({c: pj[c] for c in pj.columns if c != "value"}, title=pj.title)
    return Attribution(
        model=model,
        table=table,
        per_journey=pj,
        removal_effects=re,
        unattributed=unattributed,
        note=note,
        unattributed_value=float(value[conv & (lengths == 0)].sum()) if unattributed else 0.0,
        conversion=log.conversion_rule,
    )


def _event_weights(
    enc: _tr.EncodedJourneys,
    log: EventLog,
    model: str,
    half_life: Any,
    position_weights: tuple[float, float],
) -> NDArray[np.float64]:
    """Per kept event, its share of its journey's credit (shares sum to 1 per journey)."""
    j = enc.event_journey
    n_ev = len(j)
    lengths = np.bincount(j, minlength=enc.n_journeys)
    starts = np.zeros(enc.n_journeys + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    pos: NDArray[np.int64] = np.arange(n_ev) - starts[j]
    length: NDArray[np.int64] = lengths[j]
    if model == "first_touch":
        return np.asarray(pos == 0, dtype=np.float64)
    if model == "last_touch":
        return np.asarray(pos == length - 1, dtype=np.float64)
    if model == "linear":
        return np.asarray(1.0 / length, dtype=np.float64)
    if model == "position":
        w_first, w_last = (float(x) for x in position_weights)
        middle = (1.0 - w_first - w_last) / np.maximum(length - 2, 1)
        w = np.where(pos == 0, w_first, np.where(pos == length - 1, w_last, middle))
        w = np.where(length == 2, 0.5, w)
        return np.where(length == 1, 1.0, w)
    if model == "time_decay":
        from touchpoint._lib.time import required_duration, seconds

        hl = required_duration(
            half_life if half_life is not None else _default_half_life(log),
            "half_life",
            datetime=log.is_datetime,
        )
        tk = seconds(log.timestamp[enc.event_index])
        last = np.full(enc.n_journeys, -np.inf)
        np.maximum.at(last, j, tk)
        w = np.exp2(-(last[j] - tk) / hl)
        tot = np.bincount(j, weights=w, minlength=enc.n_journeys)
        return w / tot[j]
    if model == "shapley":
        # simplified Shapley (Zhao et al. 2018): split evenly over distinct symbols
        first_of_sym = _first_occurrence(enc)
        distinct = np.bincount(j[first_of_sym], minlength=enc.n_journeys)
        return np.where(first_of_sym, 1.0 / np.maximum(distinct[j], 1), 0.0)
    msg = f"unknown attribution model {model!r}."
    raise ValidationError(msg)


def _shapley_rate(enc: _tr.EncodedJourneys) -> NDArray[np.float64]:
    """phi_c = sum over observed channel sets T containing c of rate(T) / |T|."""
    k = len(enc.alphabet)
    if k > 62:
        msg = f"shapley_value='conversion_rate' supports at most 62 channels (got {k})."
        raise ValidationError(msg)
    first = _first_occurrence(enc)
    bits = np.zeros(enc.n_journeys, dtype=np.int64)
    np.add.at(bits, enc.event_journey[first], np.left_shift(1, enc.events[first]))
    has = enc.lengths > 0
    sets, inv = np.unique(bits[has], return_inverse=True)
    inv = inv.ravel()
    n_t = np.bincount(inv, minlength=len(sets))
    c_t = np.bincount(inv, weights=enc.converted[has].astype(np.float64), minlength=len(sets))
    rate = c_t / n_t
    members = (sets[:, None] >> np.arange(k)[None, :]) & 1
    size = members.sum(axis=1)
    return np.asarray((rate / np.maximum(size, 1)) @ members, dtype=np.float64)


def _default_half_life(log: EventLog) -> Any:
    import datetime as dt

    return dt.timedelta(days=7) if log.is_datetime else 7.0


def _first_occurrence(enc: _tr.EncodedJourneys) -> NDArray[np.bool_]:
    """Mask of each symbol's first event within its journey."""
    n_ev = len(enc.events)
    width = len(enc.alphabet) + 1
    key = enc.event_journey * width + enc.events
    order = np.argsort(key, kind="stable")
    sk = key[order]
    first = np.ones(n_ev, dtype=bool)
    first[1:] = sk[1:] != sk[:-1]
    out = np.zeros(n_ev, dtype=bool)
    out[order[first]] = True
    return out


def _markov_journey_weights(
    enc: _tr.EncodedJourneys, effect_by_sym: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per event: the journey's credit split over distinct symbols by removal effect."""
    first = _first_occurrence(enc)
    w = np.where(first, effect_by_sym[enc.events], 0.0)
    tot = np.bincount(enc.event_journey, weights=w, minlength=enc.n_journeys)
    # a journey whose touchpoints all have zero effect (e.g. beyond max_steps): equal split
    distinct = np.bincount(enc.event_journey[first], minlength=enc.n_journeys)
    even = np.where(first, 1.0 / np.maximum(distinct[enc.event_journey], 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot[enc.event_journey] > 0, w / tot[enc.event_journey], even)


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
