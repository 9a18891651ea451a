"""Markov journey models: estimation, exact absorbing-chain analysis, simulation.

A journey ``t1 > t2 > ... > tn`` is a walk ``(start) > t1 > ... > tn`` that ends
in one of two absorbing states, ``(conversion)`` or ``(null)`` (the journey
stopped without converting). :func:`fit_markov` estimates the transition
probabilities by counting (maximum likelihood, optionally with additive
smoothing); the conversion probability, the expected number of steps and the
removal effects then follow *exactly* from the absorbing-chain equations
(Kemeny and Snell 1960), solved with sparse LU factorisations rather than by
simulating journeys.

Higher orders use tuples of the last ``k`` touchpoints as states (shorter
tuples at the start of a journey). Counting is vectorised and mergeable:
``count_transitions(a) + count_transitions(b)`` equals
``count_transitions(a and b)``, so a log read in chunks (or counted on Dask)
gives the same model as one fit: see :class:`TransitionCounts`.

References
----------
Kemeny, J. G. and Snell, J. L. (1960). *Finite Markov Chains*. Van Nostrand,
chapter III (absorbing chains, fundamental matrix ``N = (I - Q)^-1``).

Anderson, T. W. and Goodman, L. A. (1957). Statistical inference about Markov
chains. *Annals of Mathematical Statistics* 28(1), 89-110 (likelihood-ratio
tests of the order of a chain and of homogeneity across samples).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import StateKind
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.frames import format_path
from touchpoint._lib.stats import ConfidenceInterval, check_confidence
from touchpoint.core._lazy import is_scan, pushdown
from touchpoint.core._results import ScalarResult, TableResult
from touchpoint.exceptions import UnknownTouchpointError, ValidationError
from touchpoint.markov import _absorbing as _ab, _encoding as _tr
from touchpoint.table import Table

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.axes import Axes
    from scipy import sparse

    from touchpoint.core._eventlog import EventLog

__all__ = [
    "CONVERSION",
    "NULL",
    "START",
    "MarkovModel",
    "TransitionCounts",
    "WhatIf",
    "count_transitions",
    "fit_markov",
]

#: At most this many journeys per :meth:`MarkovModel.simulate` call.
MAX_SIMULATED = 10**8
#: At most this many expected events per :meth:`MarkovModel.simulate` call (about 180
#: bytes each at the peak, so some 750 MB); larger samples are drawn in batches.
MAX_SIMULATED_EVENTS = 1 << 22

#: Label of the start state.
START = "(start)"
#: Label of the conversion (absorbing) state.
CONVERSION = "(conversion)"
#: Label of the null (drop-out, absorbing) state.
NULL = "(null)"

#: Chains with at most this many transient states get a dense fundamental matrix.

StateLabel = Any  # str for order 1 and the special states, tuple[str, ...] above


# ---------------------------------------------------------------------- counts
@attrs.frozen(eq=False)
class TransitionCounts(TableResult):
    """Mergeable transition counts of an order-``k`` journey chain.

    Counts add: ``count_transitions(a) + count_transitions(b)`` is the count
    of both logs (symbols are aligned by name), so chunks of a large log, or
    partitions counted on Dask workers, give exactly the model of one fit::

        total = sum(count_transitions(c) for c in log.iter_chunks(100_000))
        model = MarkovModel.from_counts(total)   # == fit_markov(log)

    Attributes
    ----------
    alphabet : tuple of str
        The symbols (touchpoints, stages or channels) that states are made of.
    order : int
        Chain order ``k``.
    src, outcome, count : numpy arrays
        One row per distinct transition: the source state's code, the emitted
        outcome (symbol code, ``K`` for conversion, ``K + 1`` for null) and
        how often it was seen. Codes are explained in ``touchpoint._transitions``.
    n_journeys, n_conversions : int
        Journeys counted and how many converted.
    value : float
        Total journey value (sum of ``outcome``) of the converting journeys.
    direct_value : float
        The part of ``value`` from journeys that converted with no touchpoint
        before (their only transition is ``(start) > (conversion)``).
    states : str
        What the symbols are: ``"touchpoint"``, ``"stage"`` or ``"channel"``.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 3, 3], ["ad", "site", "ad", "site", "ad"],
    ...                               [0.0, 1, 0, 0, 1], outcome=[0, 1, 0, 0, 0])
    >>> a = tp.count_transitions(log.select_journeys(np.array([True, False, False])))
    >>> b = tp.count_transitions(log.select_journeys(np.array([False, True, True])))
    >>> (a + b) == tp.count_transitions(log)
    True
    >>> (a + b).n_transitions, (a + b).n_journeys
    (8, 3)
    """

    alphabet: tuple[str, ...]
    order: int
    src: NDArray[np.int64]
    outcome: NDArray[np.int64]
    count: NDArray[np.float64]
    n_journeys: int
    n_conversions: int
    value: float
    states: str = "touchpoint"
    direct_value: float = 0.0

    @property
    def n_direct(self) -> int:
        """Journeys that converted with no touchpoint before (``(start) > (conversion)``)."""
        start = (len(self.alphabet) + 1) ** self.order - 1
        hit = (self.src == start) & (self.outcome == len(self.alphabet))
        return round(float(self.count[hit].sum()))

    @property
    def n_transitions(self) -> int:
        """Total number of transitions counted."""
        return round(float(self.count.sum()))

    @property
    def table(self) -> Table:
        """One row per distinct transition: ``from`` state, ``to`` (a symbol,
        ``(conversion)`` or ``(null)``) and ``count``."""
        k = len(self.alphabet)
        start_code = (k + 1) ** self.order - 1
        is_start = self.src == start_code
        src = np.full(len(self.src), START, dtype=object)
        if (~is_start).any():
            src[~is_start] = _label_array(_labels(self.src[~is_start], self.alphabet, self.order))
        names = np.array([*self.alphabet, CONVERSION, NULL], dtype=object)
        return Table(
            {"from": src, "to": names[self.outcome], "count": self.count},
            title="transition counts",
        )

    def _key(self) -> NDArray[np.int64]:
        return self.src * (len(self.alphabet) + 2) + self.outcome

    def _remap(self, alphabet: tuple[str, ...]) -> TransitionCounts:
        """The same counts over a larger alphabet (self's symbols first, in order)."""
        if alphabet == self.alphabet:
            return self
        old_k, new_k = len(self.alphabet), len(alphabet)
        pos = {s: i for i, s in enumerate(alphabet)}
        sym_map = np.array([pos[s] for s in self.alphabet] + [new_k], dtype=np.int64)
        d = _tr.digits(self.src, old_k, self.order)
        src = _tr.from_digits(sym_map[d], new_k)
        out_map = np.concatenate([sym_map[:-1], [new_k, new_k + 1]]).astype(np.int64)
        return attrs.evolve(self, alphabet=alphabet, src=src, outcome=out_map[self.outcome])

    def __add__(self, other: object) -> TransitionCounts:
        if isinstance(other, int) and other == 0:  # lets sum() start at 0
            return self
        if not isinstance(other, TransitionCounts):
            return NotImplemented
        if other.order != self.order or other.states != self.states:
            msg = (
                f"cannot add counts of order {other.order} over {other.states!r} to counts "
                f"of order {self.order} over {self.states!r}."
            )
            raise ValidationError(msg)
        alphabet = self.alphabet + tuple(s for s in other.alphabet if s not in self.alphabet)
        _tr.check_space(len(alphabet), self.order)
        a, b = self._remap(alphabet), other._remap(alphabet)
        width = len(alphabet) + 2
        keys = np.concatenate([a._key(), b._key()])
        uniq, inv = np.unique(keys, return_inverse=True)
        cnt = np.bincount(inv.ravel(), weights=np.concatenate([a.count, b.count])).astype(
            np.float64
        )
        return TransitionCounts(
            alphabet=alphabet,
            order=self.order,
            src=uniq // width,
            outcome=uniq % width,
            count=cnt,
            n_journeys=self.n_journeys + other.n_journeys,
            n_conversions=self.n_conversions + other.n_conversions,
            value=self.value + other.value,
            states=self.states,
            direct_value=self.direct_value + other.direct_value,
        )

    __radd__ = __add__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TransitionCounts):
            return NotImplemented
        if (self.order, self.states, set(self.alphabet)) != (
            other.order,
            other.states,
            set(other.alphabet),
        ):
            return False
        o = other._remap(self.alphabet) if other.alphabet != self.alphabet else other
        ka, kb = self._key(), o._key()
        ia, ib = np.argsort(ka), np.argsort(kb)
        return (
            bool(np.array_equal(ka[ia], kb[ib]) and np.allclose(self.count[ia], o.count[ib]))
            and self.n_journeys == other.n_journeys
            and self.n_conversions == other.n_conversions
            and math.isclose(self.value, other.value, rel_tol=1e-9, abs_tol=1e-9)
            and math.isclose(self.direct_value, other.direct_value, rel_tol=1e-9, abs_tol=1e-9)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"TransitionCounts(order={self.order}, states={self.states!r}, "
            f"symbols={len(self.alphabet):,}, distinct={len(self.src):,}, "
            f"transitions={self.n_transitions:,}, journeys={self.n_journeys:,})"
        )


def _counts_from_encoded(enc: _tr.EncodedJourneys, states: str) -> TransitionCounts:
    width = len(enc.alphabet) + 2
    space = (len(enc.alphabet) + 1) ** enc.order * width
    keys, cnt = _tr.count_keys(enc.src * width + enc.outcome, space)
    return TransitionCounts(
        alphabet=enc.alphabet,
        order=enc.order,
        src=keys // width,
        outcome=keys % width,
        count=cnt.astype(np.float64),
        n_journeys=enc.n_journeys,
        n_conversions=int(enc.converted.sum()),
        value=float(enc.value[enc.converted].sum()),
        states=states,
        direct_value=float(enc.value[enc.converted & (enc.lengths == 0)].sum()),
    )


@ck.validate_params(
    {
        "order": ck.Integer(1),
        "states": ck.Options(*_tr.STATE_KINDS),
        "collapse_repeats": ck.Boolean(),
        "until_conversion": ck.Boolean(),
    }
)
def count_transitions(
    log: EventLog,
    *,
    order: int = 1,
    states: StateKind = "touchpoint",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
) -> TransitionCounts:
    """Count the order-``k`` transitions of a log (vectorised; mergeable with ``+``).

    Parameters
    ----------
    log : EventLog
        The journeys. A journey converts when ``log.converted()`` says so.
    order : int
        Chain order: states are the last ``order`` symbols.
    states : {"touchpoint", "stage", "channel"}
        What a state is made of; stages and channels come from the log's
        design (or an extra column of that name).
    collapse_repeats : bool
        Merge runs of the same symbol (``ad > ad > site`` becomes ``ad > site``).
        Off by default; at order 1 this changes expected steps but not
        conversion probabilities or removal effects (a self-loop only delays
        absorption).
    until_conversion : bool
        Cut each converting journey after its first converting event (the
        path *to* the conversion). Events at the log's conversion touchpoints
        are never states: reaching one is the ``(conversion)`` state.

    Returns
    -------
    TransitionCounts

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2], ["ad", "site", "ad"], [0.0, 1, 0],
    ...                               outcome=[0, 1, 0])
    >>> tp.count_transitions(log)
    TransitionCounts(order=1, states='touchpoint', symbols=2, distinct=4, transitions=5, journeys=2)
    """
    if is_scan(log):  # a lazy scan (touchpoint.scan) counts in its engine
        return pushdown(log, "count_transitions", TransitionCounts, locals())
    keys, alphabet, converted, lengths = _tr.transition_keys(
        log,
        order=order,
        states=states,
        collapse_repeats=collapse_repeats,
        until_conversion=until_conversion,
    )
    width = len(alphabet) + 2
    space = (len(alphabet) + 1) ** order * width
    uniq, cnt = _tr.count_keys(keys, space)
    total = direct = 0.0
    if log.outcome is not None:  # the value of the converting journeys, from valued events only
        valued = np.flatnonzero(~np.isnan(log.outcome))
        jv = log.journey[valued]
        vals = np.nan_to_num(log.outcome[valued])
        total = float(vals[converted[jv]].sum())
        direct = float(vals[(converted & (lengths == 0))[jv]].sum())
    return TransitionCounts(
        alphabet=alphabet,
        order=order,
        src=uniq // width,
        outcome=uniq % width,
        count=cnt.astype(np.float64),
        n_journeys=log.n_journeys,
        n_conversions=int(converted.sum()),
        value=total,
        states=states,
        direct_value=direct,
    )


# ----------------------------------------------------------------------- model
@attrs.frozen(eq=False)
class WhatIf(ScalarResult):
    """The effect of changed transition probabilities on the conversion probability."""

    before: float
    after: float
    changes: Mapping[tuple[Any, Any], tuple[float, float]]
    model: MarkovModel = attrs.field(repr=False)
    note: str = ""

    @property
    def change(self) -> float:
        """``after - before``."""
        return self.after - self.before

    def __repr__(self) -> str:
        return (
            f"WhatIf(before={self.before:.6g}, after={self.after:.6g}, change={self.change:+.6g})"
        )


@attrs.frozen(eq=False)
class MarkovModel(TableResult):
    """An absorbing Markov chain of journeys (build with :func:`fit_markov`).

    States are ``(start)``, the transient states (touchpoints, or tuples of
    the last ``order`` touchpoints), then the absorbing ``(conversion)`` and
    ``(null)``. ``counts`` and ``transition_matrix`` are scipy.sparse CSR
    matrices indexed like ``states``; every row of ``transition_matrix`` sums
    to 1 (absorbing states loop onto themselves).

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2, 3], ["ad", "site", "ad", "site", "ad"],
    ...                               [0.0, 1, 0, 1, 0], outcome=[0, 1, 0, 0, 0])
    >>> m = tp.fit_markov(log)
    >>> m.states
    ('(start)', 'ad', 'site', '(conversion)', '(null)')
    >>> m.probability("ad", "site"), m.probability("site", "(conversion)")
    (0.6666666666666666, 0.5)
    >>> round(m.conversion_probability(), 4)
    0.3333
    """

    states: tuple[StateLabel, ...]
    counts: sparse.csr_matrix = attrs.field(repr=False)
    transition_matrix: sparse.csr_matrix = attrs.field(repr=False)
    transition_counts: TransitionCounts = attrs.field(repr=False)
    smoothing: float = 0.0
    channels: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    codes: NDArray[np.int64] = attrs.field(repr=False, factory=lambda: np.empty(0, np.int64))
    source: Any = attrs.field(default=None, repr=False)
    # solved systems and lookups; never an argument, so attrs.evolve starts a fresh one
    _cache: dict[str, Any] = attrs.field(init=False, factory=dict, repr=False, eq=False)

    # ----------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        """Fields without the cache (a SuperLU factorisation neither pickles nor copies)."""
        return {a.name: getattr(self, a.name) for a in attrs.fields(type(self)) if a.init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_cache", {})

    # -------------------------------------------------------------- building
    @classmethod
    def from_counts(
        cls,
        counts: TransitionCounts,
        *,
        smoothing: float = 0.0,
        channels: Mapping[str, str] | None = None,
    ) -> MarkovModel:
        """Build the model from (possibly merged) :class:`TransitionCounts`.

        Parameters
        ----------
        counts : TransitionCounts
            From :func:`count_transitions`, possibly a sum of several.
        smoothing : float
            Additive (Dirichlet) pseudo-count added, in every row, to each
            outcome whose destination is a known state: every symbol that
            leads to an observed state, plus conversion and null (the start
            row gets symbols only). 0 gives the maximum-likelihood estimate.
        channels : mapping, optional
            Touchpoint -> channel, used by removal effects ``by="channel"``.
        """
        from scipy import sparse

        smoothing = float(smoothing)
        if not smoothing >= 0 or not math.isfinite(smoothing):
            raise ck.error("smoothing", "a non-negative number", smoothing)
        k_sym = len(counts.alphabet)
        order = counts.order
        radix = k_sym + 1
        top = radix**order
        start_code = top - 1
        src, out, cnt = counts.src, counts.outcome, counts.count
        codes = np.unique(src[src != start_code])
        emit = out < k_sym
        dst_codes = (src[emit] * radix + out[emit]) % top
        extra = np.setdiff1d(dst_codes, codes)
        if extra.size:
            codes = np.union1d(codes, extra)
        n = len(codes)
        conv_i, null_i = n + 1, n + 2

        rows, cols = _edge_cells(counts, codes)
        size = n + 3
        count_m = sparse.csr_matrix((cnt, (rows, cols)), shape=(size, size))
        count_m.sum_duplicates()
        prob_rows, prob_cols, prob_vals = rows, cols, cnt.astype(np.float64)
        if smoothing > 0:
            # every transient row (and start) x every symbol leading to a known state
            r_all = np.arange(n + 1, dtype=np.int64)
            r_codes = np.concatenate([[start_code], codes])
            cand = (r_codes[:, None] * radix + np.arange(k_sym)[None, :]) % top
            pos = np.searchsorted(codes, cand)
            pos_c = np.minimum(pos, max(n - 1, 0))
            known = (codes[pos_c] == cand) if n else np.zeros(cand.shape, dtype=bool)
            rr = np.repeat(r_all, k_sym).reshape(n + 1, k_sym)[known]
            cc = (pos_c + 1)[known]
            ab_r = np.repeat(r_all[1:], 2)
            ab_c = np.tile(np.array([conv_i, null_i]), n)
            prob_rows = np.concatenate([prob_rows, rr, ab_r])
            prob_cols = np.concatenate([prob_cols, cc, ab_c])
            prob_vals = np.concatenate(
                [prob_vals, np.full(len(rr) + len(ab_r), smoothing, dtype=np.float64)]
            )
        raw = sparse.csr_matrix((prob_vals, (prob_rows, prob_cols)), shape=(size, size))
        raw.sum_duplicates()
        tot = np.asarray(raw.sum(axis=1)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(tot > 0, 1.0 / tot, 0.0)
        p = sparse.csr_matrix(sparse.diags(scale) @ raw)
        absorbing = sparse.csr_matrix(
            (np.ones(2), (np.array([conv_i, null_i]), np.array([conv_i, null_i]))),
            shape=(size, size),
        )
        p = sparse.csr_matrix(p + absorbing)
        p.sort_indices()
        labels = _labels(codes, counts.alphabet, order)
        return cls(
            states=(START, *labels, CONVERSION, NULL),
            counts=count_m,
            transition_matrix=p,
            transition_counts=counts,
            smoothing=smoothing,
            channels=dict(channels or {}),
            codes=codes,
        )

    # ------------------------------------------------------------ properties
    @property
    def order(self) -> int:
        """Chain order."""
        return self.transition_counts.order

    @property
    def alphabet(self) -> tuple[str, ...]:
        """The symbols states are made of."""
        return self.transition_counts.alphabet

    @property
    def n_transient(self) -> int:
        """Number of transient states, not counting ``(start)``."""
        return len(self.states) - 3

    @property
    def n_transitions(self) -> int:
        """Transitions the model was estimated from."""
        return self.transition_counts.n_transitions

    def _index(self, label: StateLabel) -> int:
        lookup: dict[Any, int] | None = self._cache.get("index")
        if lookup is None:
            lookup = {s: i for i, s in enumerate(self.states)}
            self._cache["index"] = lookup
        key = tuple(label) if isinstance(label, list) else label
        try:
            return lookup[key]
        except (KeyError, TypeError):
            shown = ", ".join(repr(s) for s in self.states[:12])
            msg = f"unknown state {label!r}; the model has {shown}{'...' if len(self.states) > 12 else ''}."
            raise UnknownTouchpointError(msg) from None

    def probability(self, a: StateLabel, b: StateLabel) -> float:
        """Estimated probability of moving from state ``a`` to state ``b``."""
        return float(self.transition_matrix[self._index(a), self._index(b)])

    def count(self, a: StateLabel, b: StateLabel) -> int:
        """How often ``a > b`` was observed."""
        return int(self.counts[self._index(a), self._index(b)])

    def journey_transitions(
        self,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None:
        """Per counted transition: its journey, its row and its column in :attr:`counts`.

        None for a model built from counts alone (no journeys to go back to).
        """
        cached = self._cache.get("journey_transitions")
        if cached is not None or "journey_transitions" in self._cache:
            return cached
        out = None
        if self.source is not None:
            from touchpoint.markov import _encoding as _tr

            log, params = self.source
            enc = _tr.encode(log, **params)
            tc = self.transition_counts
            edge = encoded_edges(tc, enc)
            rows, cols = _edge_cells(tc, self.codes)
            out = (enc.journey.astype(np.int64), rows[edge], cols[edge])
        self._cache["journey_transitions"] = out
        return out

    def design_effect(self, a: StateLabel) -> float:
        """How much the journeys' own habits inflate the variance of ``a``'s transitions.

        The mean over ``a``'s outcomes of the cluster-robust variance (over
        journeys) of each transition share divided by its binomial variance
        (Rao and Scott's first-order design effect); 1 when every journey
        passes ``a`` once, larger when journeys repeat it and differ. 1 for a
        model built from counts alone.
        """
        return float(self._row_design(self._index(a))[0])

    def _row_design(self, i: int) -> tuple[float, NDArray[np.float64], NDArray[np.int64]]:
        """(design effect of row ``i``, variance-equivalent n per column, the columns)."""
        row = self.counts[i]
        n = float(row.sum())
        cols = row.indices.astype(np.int64)
        jt = self.journey_transitions()
        if jt is None or n == 0:
            return 1.0, np.full(len(cols), n), cols
        journey, r, c = jt
        mine = r == i
        jj, cc = journey[mine], c[mine]
        uj, ji = np.unique(jj, return_inverse=True)
        g = len(uj)
        nj = np.bincount(ji, minlength=g).astype(np.float64)
        if nj.max() <= 1:  # one transition per journey: independent, plainly binomial
            return 1.0, np.full(len(cols), n), cols
        n_star = np.empty(len(cols))
        deffs = []
        for t, col in enumerate(cols.tolist()):
            kj = np.bincount(ji, weights=(cc == col).astype(np.float64), minlength=g)
            p = float(kj.sum()) / n
            var_bin = p * (1 - p) / n
            var_cl = float(np.sum((kj - p * nj) ** 2)) / n**2 * (g / (g - 1) if g > 1 else 1.0)
            if var_bin > 0 and var_cl > 0:
                n_star[t] = min(n, p * (1 - p) / var_cl)
                deffs.append(var_cl / var_bin)
            else:
                n_star[t] = min(n, float(g))
        deff = max(1.0, float(np.mean(deffs))) if deffs else 1.0
        return deff, n_star, cols

    def confidence_interval(
        self,
        a: StateLabel,
        b: StateLabel,
        confidence_level: float = 0.95,
        method: Literal["wilson", "jeffreys", "agresti_coull", "exact", "dirichlet"] = "wilson",
    ) -> ConfidenceInterval:
        """Interval for the transition probability ``a > b``.

        ``"wilson"`` (default) and the other binomial methods treat the count
        of ``a > b`` out of all transitions leaving ``a`` as a proportion; for
        a model fitted from a log (:func:`fit_markov`) its variance is
        cluster-robust over journeys (the interval runs on the
        variance-equivalent number of transitions), so a journey that loops
        through ``a`` many times does not count as many independent customers.
        With two customer types that differ, the plain binomial interval
        covered 80% of ``P(a > a)``; see the Validation page. A model built
        from counts alone has no journeys: its intervals are binomial and miss
        in that case. ``"dirichlet"`` gives the equal-tailed credible interval
        of the marginal Beta of the Dirichlet posterior with the model's
        ``smoothing`` as prior pseudo-count (0.5, Jeffreys, when smoothing is 0),
        on the counts (not cluster-robust).
        """
        i, j = self._index(a), self._index(b)
        row = self.counts[i]
        n = float(row.sum())
        k = float(self.counts[i, j])
        if method == "dirichlet":
            from scipy.special import betaincinv

            conf = check_confidence(confidence_level)
            alpha = self.smoothing or 0.5
            support = int(np.count_nonzero(np.asarray(self.transition_matrix[i].todense())))
            support = max(support, row.nnz, 2)
            a_post = k + alpha
            b_post = n + alpha * support - a_post
            lo = float(betaincinv(a_post, b_post, (1 - conf) / 2))
            hi = float(betaincinv(a_post, b_post, 1 - (1 - conf) / 2))
            return ConfidenceInterval(lo, hi)
        from touchpoint._lib.stats import proportion_ci

        if k > 0 and n > 0:
            _, n_star, cols = self._row_design(i)
            at = np.flatnonzero(cols == j)
            if at.size:
                m = float(n_star[at[0]])
                k, n = k / n * m, m
        lo_a, hi_a = proportion_ci(k, n, confidence_level, method)
        return ConfidenceInterval(float(lo_a), float(hi_a))

    # ------------------------------------------------------------ likelihood
    @property
    def log_likelihood(self) -> float:
        """Log-likelihood of the counted transitions under the fitted probabilities."""
        c = self.counts.tocoo()
        p = np.asarray(self.transition_matrix[c.row, c.col]).ravel()
        return float(np.sum(c.data * np.log(p)))

    @property
    def n_parameters(self) -> int:
        """Free parameters: per row, the observed outcomes minus one."""
        per_row = np.diff(self.counts.indptr)
        return int(np.sum(np.maximum(per_row - 1, 0)))

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``-2 logL + 2 df``."""
        return -2 * self.log_likelihood + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``-2 logL + df log(transitions)``."""
        return -2 * self.log_likelihood + self.n_parameters * math.log(max(self.n_transitions, 1))

    # ------------------------------------------------------ absorbing chain
    def _q_r(self) -> tuple[Any, NDArray[np.float64], NDArray[np.float64]]:
        cached = self._cache.get("qr")
        if cached is None:
            cached = _ab.transient_blocks(self.transition_matrix, self.n_transient)
            self._cache["qr"] = cached
        return cached

    def _lu(self) -> Any:
        lu = self._cache.get("lu")
        if lu is None:
            lu = _ab.factorize(self._q_r()[0])
            self._cache["lu"] = lu
        return lu

    def _solve(self, b: NDArray[np.float64], *, transpose: bool = False) -> NDArray[np.float64]:
        """Solve ``(I - Q) x = b`` (or the transposed system) for the transient block."""
        return _ab.solve(self._q_r()[0], b, transpose=transpose, factor=self._lu)

    def _absorb(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        cached = self._cache.get("absorb")
        if cached is None:
            _, r_conv, r_null = self._q_r()
            both = self._solve(np.stack([r_conv, r_null], axis=1))
            # probabilities: rounding in long chains leaves them 1e-12 outside [0, 1]
            both = np.clip(both, 0.0, 1.0)
            cached = (both[:, 0].copy(), both[:, 1].copy())
            self._cache["absorb"] = cached
        return cached

    def conversion_probability(
        self, state: StateLabel | None = None, *, max_steps: int | None = None
    ) -> float:
        """Probability of ending in ``(conversion)``, from ``(start)`` or from ``state``.

        Exact: solves ``(I - Q) x = r`` with a sparse LU factorisation (Kemeny
        and Snell 1960, theorem 3.3.7). With ``max_steps`` it is the
        probability of converting within that many transitions (a finite sum
        of sparse products).
        """
        i = 0 if state is None else self._index(state)
        if i > self.n_transient:
            return 1.0 if self.states[i] == CONVERSION else 0.0
        if max_steps is not None:
            ck.integer("max_steps", max_steps, low=0)
            q, r, _ = self._q_r()
            none = np.zeros(q.shape[0], dtype=bool)
            return float(_ab.propagate(q, r, [none], start=i, tol=0.0, steps=max_steps)[1][0])
        return float(self._absorb()[0][i])

    def expected_steps(self, state: StateLabel | None = None) -> float:
        """Expected number of transitions until absorption (``N 1``), from start or ``state``.

        From ``(start)`` this is the mean journey length plus one (the final
        step into ``(conversion)`` or ``(null)``).
        """
        i = 0 if state is None else self._index(state)
        if i > self.n_transient:
            return 0.0
        t = self._cache.get("steps")
        if t is None:
            t = self._solve(np.ones(self.n_transient + 1))
            self._cache["steps"] = t
        return float(t[i])

    def fundamental_matrix(self) -> NDArray[np.float64]:
        """The fundamental matrix ``N = (I - Q)^-1`` (dense; only for small chains).

        ``N[i, j]`` is the expected number of visits to transient state ``j``
        starting from ``i``; rows and columns follow ``states[:-2]`` (start
        first). It is dense, so it is refused above 5,000 transient states;
        use :meth:`conversion_probability` and :meth:`expected_steps`, which
        never form it.
        """
        m = self.n_transient + 1
        if m > 5000:
            msg = (
                f"the fundamental matrix would be dense {m} x {m}; it is only formed for "
                "chains up to 5,000 transient states."
            )
            raise ValidationError(msg)
        return np.asarray(self._lu().solve(np.eye(m)), dtype=np.float64)

    def absorption_probabilities(self) -> Table:
        """Per transient state: probability of conversion and of null, and expected steps.

        Examples
        --------
        >>> import touchpoint as tp
        >>> log = tp.EventLog.from_arrays([1, 1, 2], ["ad", "site", "ad"], [0.0, 1, 0],
        ...                               outcome=[0, 1, 0])
        >>> print(tp.fit_markov(log).absorption_probabilities().to_text())
        state    conversion  null  expected steps
        (start)         0.5   0.5             2.5
        ad              0.5   0.5             1.5
        site            1.0   0.0             1.0
        """
        conv, null = self._absorb()
        self.expected_steps()  # fills the cache
        return Table(
            {
                "state": _label_array(self.states[: self.n_transient + 1]),
                "conversion": conv,
                "null": null,
                "expected_steps": self._cache["steps"],
            },
            title="absorption probabilities",
        )

    def stationary_distribution(self) -> Table:
        """Stationary distribution of the *restarting* chain.

        The absorbing chain itself is not ergodic, so touchpoint uses the
        standard renewal construction: every absorbed journey restarts at
        ``(start)``. That chain is irreducible (every state is reached from
        start and leads to absorption), and its stationary distribution is the
        expected visits per journey, ``N[start, :]`` plus one absorption,
        normalised (Kemeny and Snell 1960, section 4.4). It is the long-run
        share of time spent in each state.
        """
        e = np.zeros(self.n_transient + 1)
        e[0] = 1.0
        visits = self._solve(e, transpose=True)
        conv, null = self._absorb()
        w = np.concatenate([visits, [conv[0], null[0]]])
        return Table(
            {"state": _label_array(self.states), "probability": w / w.sum()},
            title="stationary distribution (restarting chain)",
        )

    @property
    def table(self) -> Table:
        """One row per transition with a probability: ``from``, ``to``, ``count``, ``probability``.

        Absorbing self-loops are left out (as in :meth:`to_networkx`).
        """
        p = self.transition_matrix.tocoo()
        keep = p.row <= self.n_transient
        rows, cols = p.row[keep], p.col[keep]
        labels = _label_array(self.states)
        return Table(
            {
                "from": labels[rows],
                "to": labels[cols],
                "count": np.asarray(self.counts[rows, cols]).ravel(),
                "probability": p.data[keep],
            },
            title="transitions",
        )

    def to_networkx(self) -> nx.DiGraph[Any]:
        """The chain as a weighted :class:`networkx.DiGraph` (edge attrs ``count``, ``probability``).

        Absorbing self-loops are left out. Node attribute ``kind`` is
        ``"start"``, ``"transient"``, ``"conversion"`` or ``"null"``.
        """
        import networkx as nx

        g: nx.DiGraph[Any] = nx.DiGraph()
        n = self.n_transient
        kinds = ["start"] + ["transient"] * n + ["conversion", "null"]
        for s, kind in zip(self.states, kinds, strict=True):
            g.add_node(s, kind=kind)
        p = self.transition_matrix.tocoo()
        keep = p.row <= n
        rows, cols, vals = p.row[keep], p.col[keep], p.data[keep]
        cnt = np.asarray(self.counts[rows, cols]).ravel()
        st = self.states
        g.add_edges_from(
            (st[a], st[b], {"probability": v, "count": int(c)})
            for a, b, v, c in zip(
                rows.tolist(), cols.tolist(), vals.tolist(), cnt.tolist(), strict=True
            )
        )
        return g

    # ------------------------------------------------------------- removal
    def _symbol_mask(self, symbols: Iterable[str]) -> NDArray[np.bool_]:
        """Transient states (start at 0, never removed) containing any of ``symbols``."""
        alphabet = self.alphabet
        pos = {s: i for i, s in enumerate(alphabet)}
        codes_ = []
        for s in symbols:
            if s not in pos:
                msg = f"unknown touchpoint {s!r}; the model's symbols are {list(alphabet)[:20]}."
                raise UnknownTouchpointError(msg)
            codes_.append(pos[s])
        d = self._digits()
        hit = np.isin(d, np.array(codes_, dtype=np.int64)).any(axis=1)
        return np.concatenate([[False], hit])

    def _digits(self) -> NDArray[np.int64]:
        d = self._cache.get("digits")
        if d is None:
            d = _tr.digits(self.codes, len(self.alphabet), self.order)
            self._cache["digits"] = d
        return d

    def _sequence_mask(self, sequence: Sequence[str]) -> NDArray[np.bool_]:
        seq = list(sequence)
        if len(seq) > self.order:
            msg = (
                f"a sequence of {len(seq)} touchpoints can only be removed from a model of "
                f"order >= {len(seq)} (this one has order {self.order})."
            )
            raise ValidationError(msg)
        pos = {s: i for i, s in enumerate(self.alphabet)}
        for s in seq:
            if s not in pos:
                msg = f"unknown touchpoint {s!r} in 'sequence'."
                raise UnknownTouchpointError(msg)
        d = self._digits()[:, ::-1]  # oldest first
        want = np.array([pos[s] for s in seq])
        hit = np.zeros(len(d), dtype=bool)
        for off in range(self.order - len(seq) + 1):
            hit |= (d[:, off : off + len(seq)] == want).all(axis=1)
        return np.concatenate([[False], hit])

    def conversion_probability_without(
        self,
        *,
        touchpoints: Iterable[str] = (),
        states: Iterable[StateLabel] = (),
        edges: Iterable[tuple[StateLabel, StateLabel]] = (),
        sequences: Iterable[Sequence[str]] = (),
    ) -> float:
        """Conversion probability from start with parts of the journey removed.

        Removing a state redirects every transition into it to ``(null)``
        (the removal-effect convention of Anderson 2013 and ChannelAttribution).
        ``touchpoints`` removes every state containing them (in a higher-order
        model, every tuple with that touchpoint); ``sequences`` removes states
        whose tuple contains that run of touchpoints; ``edges`` redirects one
        transition ``a > b`` to null. Solved exactly by a fresh sparse LU.
        """
        m = self.n_transient + 1
        removed = np.zeros(m, dtype=bool)
        tps = list(touchpoints)
        if tps:
            removed |= self._symbol_mask(tps)
        for s in states:
            i = self._index(s)
            if not 0 < i < m:
                msg = f"only transient states can be removed (got {s!r})."
                raise ValidationError(msg)
            removed[i] = True
        for seq in sequences:
            removed |= self._sequence_mask(seq)
        q, r, _ = self._q_r()
        edge_list = list(edges)
        if edge_list:
            q = q.tolil()
            for a, b in edge_list:
                i, j = self._index(a), self._index(b)
                if i >= m:
                    msg = f"edge {(a, b)!r} starts at an absorbing state."
                    raise ValidationError(msg)
                if j < m:
                    q[i, j] = 0.0
                else:
                    r = r.copy()
                    if self.states[j] == CONVERSION:
                        r[i] = 0.0
            q = q.tocsc()
        return _ab.solve_without(q, r, removed)

    # ----------------------------------------------------------- simulation
    @ck.validate_params(
        {"n": ck.Integer(1, MAX_SIMULATED), "seed": ck.Seed(), "max_steps": ck.Integer(1)}
    )
    def simulate(self, n: int, *, seed: int | None = 0, max_steps: int = 1000) -> EventLog:
        """Simulate ``n`` journeys from the chain (vectorised across journeys).

        Returns an :class:`~touchpoint.EventLog` with float timestamps (the
        step number), the emitted symbols as touchpoints and ``outcome`` 1 on
        the last event of converting journeys. Journeys still running after
        ``max_steps`` are cut and count as not converted. Fitting the result
        recovers the chain: ``fit_markov(m.simulate(10**5))`` is close to ``m``.

        Examples
        --------
        >>> import touchpoint as tp
        >>> log = tp.EventLog.from_arrays([1, 1, 2], ["ad", "site", "ad"], [0.0, 1, 0],
        ...                               outcome=[0, 1, 0])
        >>> sim = tp.fit_markov(log).simulate(1000, seed=1)
        >>> sim.n_journeys, round(float(sim.converted().mean()), 1)
        (1000, 0.5)
        """
        from touchpoint.core._eventlog import EventLog

        self._check_simulation_size(n, max_steps)
        rng = np.random.default_rng(seed)
        p = self.transition_matrix
        m = self.n_transient + 1
        # global cumulative probabilities: row r's entries live in (r, r + 1]
        sizes = np.diff(p.indptr)
        row_of = np.repeat(np.arange(p.shape[0]), sizes)
        csum = np.cumsum(p.data)
        starts = p.indptr[:-1]
        base = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0.0)
        rowtot = np.bincount(row_of, weights=p.data, minlength=p.shape[0])
        glob = row_of + (csum - base[row_of]) / rowtot[row_of]
        nonempty = sizes > 0
        glob[p.indptr[1:][nonempty] - 1] = np.flatnonzero(nonempty) + 1.0
        symbol = (self.codes % (len(self.alphabet) + 1)).astype(np.int64)
        sym_of_state = np.concatenate([[-1], symbol, [-1, -1]])
        cur = np.zeros(n, dtype=np.int64)
        alive = np.arange(n)
        jj: list[NDArray[np.int64]] = []
        ss: list[NDArray[np.int64]] = []
        tt: list[NDArray[np.float64]] = []
        converted = np.zeros(n, dtype=bool)
        for step in range(max_steps + 1):
            if not alive.size:
                break
            u = rng.random(alive.size)
            nxt = p.indices[np.searchsorted(glob, cur[alive] + u, side="right")]
            cur[alive] = nxt
            emitted = nxt < m
            jj.append(alive[emitted])
            ss.append(sym_of_state[nxt[emitted]])
            tt.append(np.full(int(emitted.sum()), float(step)))
            converted[alive[nxt == m]] = True
            alive = alive[emitted]
        j = np.concatenate(jj)
        s = np.concatenate(ss)
        t = np.concatenate(tt)
        order = np.lexsort((t, j))
        j, s, t = j[order], s[order], t[order]
        last = np.ones(len(j), dtype=bool)
        last[:-1] = j[1:] != j[:-1]
        outcome = np.where(last & converted[j], 1.0, np.nan)
        names = np.array(self.alphabet, dtype=object)
        return EventLog.from_arrays(j, names[s], t, outcome=outcome)

    def _check_simulation_size(self, n: int, max_steps: int) -> None:
        """Refuse a simulation expected to emit more than :data:`MAX_SIMULATED_EVENTS` events."""
        try:
            per = self.expected_steps() - 1.0  # events per journey (the last step absorbs)
        except (RuntimeError, ValueError, np.linalg.LinAlgError):
            per = math.inf
        per = min(per, float(max_steps)) if math.isfinite(per) else float(max_steps)
        if per > 0 and n * per > MAX_SIMULATED_EVENTS:
            most = max(int(MAX_SIMULATED_EVENTS / per), 1)
            ck.fail(
                "n",
                f"at most {most:,} journeys for this chain ({per:.3g} events per journey "
                f"expected, at most {MAX_SIMULATED_EVENTS:,} events per call); simulate "
                "in batches with different seeds",
                n,
            )

    def what_if(self, changes: Mapping[tuple[StateLabel, StateLabel], float]) -> WhatIf:
        """Change transition probabilities and see the conversion probability move.

        Each key ``(a, b)`` adds its value to ``P(a > b)`` (clipped to [0, 1]);
        the other transitions leaving ``a`` are rescaled proportionally so the
        row still sums to 1 (``P(a > c) * (1 - new) / (1 - old)``; if ``a > b``
        was the only way out, the freed mass goes to ``(null)``).

        Examples
        --------
        >>> import touchpoint as tp
        >>> log = tp.EventLog.from_arrays([1, 1, 2, 2], ["ad", "site", "ad", "site"],
        ...                               [0.0, 1, 0, 1], outcome=[0, 1, 0, 0])
        >>> w = tp.fit_markov(log).what_if({("site", "(conversion)"): +0.25})
        >>> w
        WhatIf(before=0.5, after=0.75, change=+0.25)
        """
        from scipy import sparse

        p = self.transition_matrix.tolil()
        done: dict[tuple[Any, Any], tuple[float, float]] = {}
        notes = []
        if not isinstance(changes, Mapping):
            raise ck.error("changes", "a mapping {(a, b): change}", changes)
        for key, delta in changes.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ck.error("changes", "keyed by (from_state, to_state) pairs", key)
            if not (ck.is_number(delta) and -1.0 <= float(delta) <= 1.0):
                raise ck.error("changes", "changes of probability: numbers in [-1, 1]", delta)
            a, b = key
            i, j = self._index(a), self._index(b)
            if i > self.n_transient:
                msg = f"cannot change transitions out of absorbing state {a!r}."
                raise ValidationError(msg)
            row = np.asarray(p[i].todense()).ravel()
            old = float(row[j])
            new = float(np.clip(old + float(delta), 0.0, 1.0))
            others = row.copy()
            others[j] = 0.0
            rest = others.sum()
            if rest > 0:
                others *= (1.0 - new) / rest
            else:
                others[len(self.states) - 1] = 1.0 - new
                notes.append(f"{a!r} had no other way out: {1 - new:.3g} now goes to (null)")
            others[j] = new
            nz = np.flatnonzero(others)
            p.rows[i] = nz.tolist()
            p.data[i] = others[nz].tolist()
            done[(a, b)] = (old, new)
        new_p = sparse.csr_matrix(p.tocsr())
        model = attrs.evolve(self, transition_matrix=new_p)
        try:
            after = model.conversion_probability()
        except (RuntimeError, np.linalg.LinAlgError, ValueError):
            after = math.nan
        if not math.isfinite(after):
            msg = (
                f"`changes` {dict(changes)!r} leave states that never reach (conversion) or "
                "(null) (a loop with probability 1): the chain no longer ends; keep some "
                "probability of leaving each state."
            )
            raise ValidationError(msg)
        return WhatIf(
            before=self.conversion_probability(),
            after=after,
            changes=done,
            model=model,
            note="; ".join(notes)
            or "other transitions out of each changed state rescaled proportionally",
        )

    def plot(self, ax: Axes | None = None, *, annotate: bool | None = None) -> Axes:
        """The transition matrix as a heatmap (rows: from, columns: to), states included.

        The chart :func:`touchpoint.plot.transition_heatmap` draws; needs matplotlib.
        """
        from touchpoint._lib.charts import heatmap

        names = [str(x) for x in self.states]
        matrix = np.asarray(self.transition_matrix.todense(), dtype=np.float64)
        return heatmap(names, matrix, ax=ax, annotate=annotate, title="Markov model")

    def __repr__(self) -> str:
        return (
            f"MarkovModel(order={self.order}, states={self.n_transient:,}+3, "
            f"transitions={self.n_transitions:,}, journeys={self.transition_counts.n_journeys:,}, "
            f"conversion_probability={self.conversion_probability():.4g})"
        )

    def _repr_html_(self) -> str:
        return self.absorption_probabilities().head(30).to_html()


def _labels(codes: NDArray[np.int64], alphabet: tuple[str, ...], order: int) -> list[StateLabel]:
    if order == 1:
        return [alphabet[c] for c in codes.tolist()]
    d = _tr.digits(codes, len(alphabet), order)[:, ::-1]
    names = [*alphabet, None]
    return [tuple(names[x] for x in row if x != len(alphabet)) for row in d.tolist()]


def _label_array(labels: Sequence[StateLabel]) -> NDArray[Any]:
    out = np.empty(len(labels), dtype=object)
    for i, s in enumerate(labels):
        out[i] = format_path(s) if isinstance(s, tuple) else s
    return out


def _channel_map(log: EventLog) -> dict[str, str]:
    if log.design is None:
        return {}
    ch = log.touchpoint_attribute("channel")
    return {
        t: str(c) for t, c in zip(log.touchpoint_names, ch.tolist(), strict=True) if c is not None
    }


def encoded_edges(tc: TransitionCounts, enc: _tr.EncodedJourneys) -> NDArray[np.intp]:
    """The row of ``tc`` (sorted by key) that each encoded transition of ``enc`` counts in."""
    width = len(tc.alphabet) + 2
    return np.searchsorted(tc.src * width + tc.outcome, enc.src * width + enc.outcome)


def _edge_cells(
    counts: TransitionCounts, codes: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row and column in the model's matrices of every distinct transition of ``counts``."""
    k_sym = len(counts.alphabet)
    radix = k_sym + 1
    top = radix**counts.order
    start_code = top - 1
    src, out = counts.src, counts.outcome
    n = len(codes)
    emit = out < k_sym

    def index(c: NDArray[np.int64]) -> NDArray[np.int64]:
        i = np.searchsorted(codes, c) + 1
        return np.where(c == start_code, 0, i).astype(np.int64)

    rows = index(src)
    cols = np.empty(len(src), dtype=np.int64)
    cols[emit] = index((src[emit] * radix + out[emit]) % top)
    cols[~emit] = np.where(out[~emit] == k_sym, n + 1, n + 2)
    return rows, cols


@deprecated_params(positional=("order", "smoothing", "states"))
@ck.validate_params(
    {
        "order": ck.Integer(1),
        "smoothing": ck.Number(0),
        "states": ck.Options(*_tr.STATE_KINDS),
        "collapse_repeats": ck.Boolean(),
        "until_conversion": ck.Boolean(),
    }
)
def fit_markov(
    log: EventLog,
    *,
    order: int = 1,
    smoothing: float = 0.0,
    states: StateKind = "touchpoint",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
) -> MarkovModel:
    """Fit an order-``k`` absorbing Markov chain to the journeys of a log.

    Parameters
    ----------
    log : EventLog
        The journeys; conversion per journey is ``log.converted()``.
    order : int
        States are tuples of the last ``order`` symbols (plain names at order 1).
    smoothing : float
        Additive pseudo-count (see :meth:`MarkovModel.from_counts`).
    states : {"touchpoint", "stage", "channel"}
        What a state is made of.
    collapse_repeats, until_conversion : bool
        Path conventions, see :func:`count_transitions`.

    Returns
    -------
    MarkovModel
        Equal to ``MarkovModel.from_counts(count_transitions(log, ...))``.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2], ["ad", "site", "ad", "email"],
    ...                               [0.0, 1, 0, 1], outcome=[0, 1, 0, 0])
    >>> m = tp.fit_markov(log, order=2)
    >>> m.states[1:-2]
    (('ad', 'site'), ('ad', 'email'), ('ad',))
    >>> m.conversion_probability()
    0.5
    """
    if is_scan(log):  # a lazy scan (touchpoint.scan) counts in its engine
        return pushdown(log, "fit_markov", MarkovModel, locals())
    counts = count_transitions(
        log,
        order=order,
        states=states,
        collapse_repeats=collapse_repeats,
        until_conversion=until_conversion,
    )
    model = MarkovModel.from_counts(counts, smoothing=smoothing, channels=_channel_map(log))
    return attrs.evolve(
        model,
        source=(
            log,
            {
                "order": order,
                "states": states,
                "collapse_repeats": collapse_repeats,
                "until_conversion": until_conversion,
            },
        ),
    )
