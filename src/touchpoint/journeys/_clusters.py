"""Journey clustering: a mixture of first-order Markov chains fitted by EM.

Each cluster is a Markov chain over the touchpoints with a start state and an end
state (Cadez, Heckerman, Meek, Smyth & White 2003, "Model-based clustering and
visualization of navigation patterns on a web site", the MSNBC study). A journey
enters as its vector of transition counts (start -> first, ..., last -> end), so
the E step is one sparse product ``N @ log(theta).T`` over all journeys and the M
step one ``N.T @ R``. The number of clusters is chosen by held-out likelihood:
3-fold cross-validation, the smallest ``k`` whose held-out log-likelihood is
within two (paired) standard errors of the best. Cadez et al. chose ``k`` by
held-out predictive likelihood too; unlike BIC it needs no parameter count for
sparse transition matrices, whose zero cells are not free parameters.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.journeys._common import START
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from scipy.sparse import csr_matrix

    from touchpoint.core._eventlog import EventLog

__all__ = ["JourneyClusters", "adjusted_rand_index", "cluster_journeys"]

END_STATE = "(end)"
#: Pseudo-transitions per state row, spread like the pooled chain (a Dirichlet prior).
PRIOR_WEIGHT = 1.0
FOLDS = 3
SE_RULE = 2.0
MAX_ITER = 300
TOL = 1e-6


def adjusted_rand_index(a: Any, b: Any) -> float:
    """Hubert & Arabie's adjusted Rand index of two labelings (1 = same partition).

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> round(adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]), 4)
    0.2424
    """
    from scipy.special import comb

    a, b = np.asarray(a), np.asarray(b)
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=np.int64)
    np.add.at(table, (ia.ravel(), ib.ravel()), 1)
    sum_cells = float(comb(table, 2).sum())
    sum_a = float(comb(table.sum(axis=1), 2).sum())
    sum_b = float(comb(table.sum(axis=0), 2).sum())
    total = float(comb(len(a), 2))
    expected = sum_a * sum_b / total if total else 0.0
    top = (sum_a + sum_b) / 2
    if top == expected:
        return 1.0
    return (sum_cells - expected) / (top - expected)


@attrs.frozen(kw_only=True, eq=False)
class JourneyClusters(TableResult):
    """Journeys grouped by how they move (see :func:`cluster_journeys`).

    Attributes
    ----------
    k : int
        Clusters.
    labels : numpy.ndarray
        Per journey (in the log's journey order), its cluster ``1..k`` (the most
        probable one); clusters are numbered by size, largest first.
    membership : numpy.ndarray
        Per journey and cluster, the posterior probability (rows sum to 1).
    table : Table
        Per cluster: ``cluster``, ``journeys``, ``share``, ``converted``,
        ``conversion`` with ``ci_low`` / ``ci_high`` (Wilson, 95%),
        ``mean_events``, ``certainty`` (mean membership probability of its
        journeys) and ``characteristic`` (the transitions most over-represented
        in it, with their share of its transitions against the share overall).
    stability : float
        Mean adjusted Rand index between the clustering and clusterings fitted
        to bootstrap resamples of the journeys (NaN when ``n_resamples=0``).
    selection : Table
        Per candidate ``k``: the held-out log-likelihood per journey and its
        paired standard error against the best (``k="auto"``).
    log_likelihood : float
        Of the final fit.
    """

    k: int
    labels: NDArray[np.int64]
    membership: NDArray[np.float64]
    table: Table
    stability: float
    selection: Table
    log_likelihood: float
    journey_ids: NDArray[Any]
    _log_theta: NDArray[np.float64]
    _log_pi: NDArray[np.float64]
    _names: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"JourneyClusters(k={self.k}, journeys={len(self.labels):,}, "
            f"stability={self.stability:.3g})"
        )

    def _repr_html_(self) -> str:
        return f"<div><strong>{html.escape(repr(self))}</strong>{self.table.to_html()}</div>"

    def assign(self, log: EventLog) -> NDArray[np.int64]:
        """The most probable cluster (``1..k``) of each journey of another log.

        Touchpoints the fitted log never had are treated as unseen transitions
        (the smallest probability of the fit).
        """
        out: NDArray[np.int64] = np.argmax(self.probabilities(log), axis=1).astype(np.int64) + 1
        return out

    def probabilities(self, log: EventLog) -> NDArray[np.float64]:
        """Membership probabilities of each journey of ``log`` (journeys x clusters)."""
        n_states = len(self._names) + 2
        remap = np.array(
            [self._names.index(t) if t in self._names else -1 for t in log.touchpoint_names],
            dtype=np.int64,
        )
        counts = _count_matrix(log, n_states, remap)
        floor = float(self._log_theta[np.isfinite(self._log_theta)].min())
        lt = np.where(np.isfinite(self._log_theta), self._log_theta, floor)
        return _posterior(np.asarray(counts @ lt.T) + self._log_pi)[1]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Cluster sizes and conversion with intervals. Needs matplotlib."""
        from touchpoint.journeys._draw import cluster_bars

        return cluster_bars(self, ax=ax)


def _count_matrix(
    log: EventLog, n_states: int, remap: NDArray[np.int64] | None = None
) -> csr_matrix:
    """Journeys x (state pairs) transition counts; states: touchpoints, start, end.

    ``remap`` maps the log's touchpoint codes to the model's (-1: unknown, counted
    as a transition to and from the end state so that it costs the floor probability).
    """
    from scipy.sparse import csr_matrix

    start, end = n_states - 2, n_states - 1
    tp = log.touchpoint.astype(np.int64)
    if remap is not None:
        tp = np.where(remap[tp] >= 0, remap[tp], end)
    off = log.offsets
    nonempty = np.flatnonzero(np.diff(off) > 0)
    same = log.journey[1:] == log.journey[:-1]
    src = np.concatenate([tp[:-1][same], np.full(len(nonempty), start), tp[off[nonempty + 1] - 1]])
    dst = np.concatenate([tp[1:][same], tp[off[nonempty]], np.full(len(nonempty), end)])
    row = np.concatenate([log.journey[1:][same], nonempty, nonempty]).astype(np.int64)
    data = np.ones(len(row))
    return csr_matrix(
        (data, (row, src * n_states + dst)), shape=(log.n_journeys, n_states * n_states)
    )


def _prior(counts: csr_matrix, n_states: int) -> NDArray[np.float64]:
    """Pooled transition probabilities per state row (flattened), a little mass on
    every allowed cell so that no transition is impossible."""
    total = np.asarray(counts.sum(axis=0)).ravel().reshape(n_states, n_states) + 1e-3
    total[:, n_states - 2] = 0.0  # nothing goes back to start
    total[n_states - 1, :] = 0.0  # nothing leaves the end
    rows = total.sum(axis=1, keepdims=True)
    return np.where(rows > 0, total / np.where(rows > 0, rows, 1), 0.0).ravel()


def _dedupe(counts: csr_matrix) -> tuple[csr_matrix, NDArray[np.float64], NDArray[np.int64]]:
    """Distinct rows of ``counts``, how many journeys each stands for, and per journey its row.

    Rows are matched by two random projections (equal vectors, equal projections;
    unequal ones collide with probability ~0).
    """
    rng = np.random.default_rng(12345)
    proj = np.asarray(counts @ rng.random((counts.shape[1], 2)))
    _, first, inverse, weights = np.unique(
        np.round(proj, 9), axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    return counts[first], weights.astype(np.float64), inverse.ravel().astype(np.int64)


def _m_step(
    counts: csr_matrix,
    resp: NDArray[np.float64],
    prior: NDArray[np.float64],
    n_states: int,
    prior_weight: float = PRIOR_WEIGHT,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``resp`` already carries each row's journey weight."""
    k = resp.shape[1]
    expected = np.asarray(counts.T @ resp).T + prior_weight * prior  # k x pairs
    cube = expected.reshape(k, n_states, n_states)
    rows = cube.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_theta = np.log(np.where(rows > 0, cube / rows, 0.0)).reshape(k, -1)
    sizes = resp.sum(axis=0) + 1e-9
    return log_theta, np.log(sizes / sizes.sum())


def _scores(
    counts: csr_matrix, log_theta: NDArray[np.float64], log_pi: NDArray[np.float64]
) -> NDArray[np.float64]:
    finite = np.where(np.isfinite(log_theta), log_theta, 0.0)  # zero cells are never counted
    return np.asarray(counts @ finite.T) + log_pi


Fit = tuple[NDArray[np.float64], NDArray[np.float64], float]


def _posterior(s: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row-wise log-sum-exp of ``s`` and the normalised probabilities (one pass)."""
    top = s.max(axis=1, keepdims=True)
    e = np.exp(s - top)
    total = e.sum(axis=1, keepdims=True)
    return (top + np.log(total)).ravel(), e / total


def _seed(
    counts: csr_matrix,
    weights: NDArray[np.float64],
    k: int,
    *,
    prior: NDArray[np.float64],
    n_states: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Starting chains, k-means++ style: each seed journey is drawn with probability
    growing with how badly the seeds so far explain it (per transition)."""
    n = counts.shape[0]
    per_row = np.maximum(np.asarray(counts.sum(axis=1)).ravel(), 1.0)
    seeds = [int(rng.choice(n, p=weights / weights.sum()))]
    while len(seeds) < k:
        lt, _ = _m_step(counts[seeds], np.eye(len(seeds)) * 5.0, prior, n_states, 1.0)
        fit = _scores(counts, lt, np.zeros(len(seeds))).max(axis=1) / per_row
        gap = fit.max() - fit
        p = weights * gap**2
        if p.sum() <= 0:  # every row explained equally: any other row
            p = weights.copy()
            p[seeds] = 0.0
        if p.sum() <= 0:
            break
        seeds.append(int(rng.choice(n, p=p / p.sum())))
    lt, _ = _m_step(counts[seeds], np.eye(len(seeds)) * 5.0, prior, n_states, 1.0)
    if len(seeds) < k:  # fewer distinct rows than clusters: repeat the pooled chain
        lt = np.vstack([lt, np.repeat(np.log(np.maximum(prior, 1e-300))[None], k - len(seeds), 0)])
    _, resp = _posterior(_scores(counts, lt, np.full(k, -np.log(k))))
    return _m_step(counts, resp * weights[:, None], prior, n_states)


def _em(
    counts: csr_matrix,
    weights: NDArray[np.float64],
    k: int,
    *,
    prior: NDArray[np.float64],
    n_states: int,
    rng: np.random.Generator,
) -> Fit:
    """One EM run from a random start (:func:`_seed`)."""
    log_theta, log_pi = _seed(counts, weights, k, prior=prior, n_states=n_states, rng=rng)
    prev = -np.inf
    ll = prev
    for _ in range(MAX_ITER):
        norm, resp = _posterior(_scores(counts, log_theta, log_pi))
        ll = float(weights @ norm)
        log_theta, log_pi = _m_step(counts, resp * weights[:, None], prior, n_states)
        if ll - prev < TOL * max(abs(ll), 1.0):
            break
        prev = ll
    return log_theta, log_pi, ll


def _fit(
    counts: csr_matrix,
    weights: NDArray[np.float64],
    k: int,
    *,
    prior: NDArray[np.float64],
    n_states: int,
    rng: np.random.Generator,
    n_init: int,
) -> Fit:
    best: Fit | None = None
    for _ in range(n_init if k > 1 else 1):
        out = _em(counts, weights, k, prior=prior, n_states=n_states, rng=rng)
        if best is None or out[2] > best[2]:
            best = out
    assert best is not None
    return best


def _held_out(
    counts: csr_matrix,
    weights: NDArray[np.float64],
    ks: list[int],
    *,
    prior: NDArray[np.float64],
    n_states: int,
    rng: np.random.Generator,
    n_init: int,
) -> tuple[list[int], NDArray[np.float64], NDArray[np.float64]]:
    """Per candidate k and distinct row, the held-out log-likelihood (3-fold over journeys:
    each row's journeys are split among the folds at random) and the held-out weights.

    Stops early once two successive k fail to beat the best so far.
    """
    split = np.stack(
        [rng.multinomial(int(w), [1 / FOLDS] * FOLDS) for w in weights]
    )  # rows x folds
    out = []
    done: list[int] = []
    best, misses = -np.inf, 0
    for k in ks:
        ll = np.zeros((counts.shape[0], FOLDS))
        for f in range(FOLDS):
            train_w = weights - split[:, f]
            keep = train_w > 0
            lt, lp, _ = _fit(
                counts[keep],
                train_w[keep],
                k,
                prior=prior,
                n_states=n_states,
                rng=rng,
                n_init=n_init,
            )
            ll[:, f] = _posterior(_scores(counts, lt, lp))[0]
        out.append(ll)
        done.append(k)
        total = float((ll * split).sum())
        misses = misses + 1 if total <= best else 0
        best = max(best, total)
        if misses >= 2:
            break
    return done, np.stack(out), split.astype(np.float64)


def _choose_k(
    ll: NDArray[np.float64], split: NDArray[np.float64], ks: list[int]
) -> tuple[int, Table]:
    """The smallest k within ``SE_RULE`` paired standard errors of the best held-out fit."""
    n = split.sum()
    per = ll * split[None]  # k x rows x folds: summed log-lik of the held-out journeys
    means = per.sum(axis=(1, 2)) / n
    best = int(np.argmax(means))
    se = np.zeros(len(ks))
    for i in range(len(ks)):
        if i != best:
            d = ll[best] - ll[i]  # per held-out journey, repeated by its count
            mu = float((d * split).sum() / n)
            var = float((split * (d - mu) ** 2).sum() / max(n - 1, 1))
            se[i] = np.sqrt(var / n)
    ok = [i for i in range(len(ks)) if means[best] - means[i] <= SE_RULE * se[i]]
    chosen = ks[min(ok)]
    table = Table(
        {
            "k": np.array(ks, dtype=np.int64),
            "heldout_loglik": means,
            "se_vs_best": se,
            "chosen": np.array([k == chosen for k in ks]),
        },
        title="choice of k (held-out log-likelihood per journey)",
    )
    return chosen, table


@ck.validate_params(
    {
        "k": ck.Custom(
            lambda n, v: v == "auto" or ck.integer(n, v, low=1, high=50), "no such option", 0, 1.5
        ),
        "max_k": ck.Integer(1, 50),
        "seed": ck.Seed(),
        "n_init": ck.Integer(1, 100),
        "n_resamples": ck.Integer(0, 10_000),
        "sample": ck.Integer(2, none=True),
    }
)
def cluster_journeys(
    log: EventLog,
    k: int | str = "auto",
    *,
    seed: int = 0,
    max_k: int = 8,
    n_init: int = 4,
    n_resamples: int = 20,
    sample: int | None = 5000,
) -> JourneyClusters:
    """Cluster journeys with a mixture of first-order Markov chains (EM).

    Parameters
    ----------
    log : EventLog
        The events; each journey is one sequence.
    k : int or "auto"
        Clusters; ``"auto"`` tries ``1..max_k`` and keeps the smallest ``k`` whose
        3-fold held-out log-likelihood is within two paired standard errors of the best.
    seed : int
        Seed of the random starts, folds and resamples.
    max_k : int
        Largest ``k`` tried by ``"auto"``.
    n_init : int
        Random starts per fit; the best likelihood wins.
    n_resamples : int
        Bootstrap resamples for :attr:`~JourneyClusters.stability` (0: skip).
    sample : int, optional
        Choose ``k`` and measure stability on at most this many journeys drawn at
        random (None: all); the final fit always uses every journey.

    Returns
    -------
    JourneyClusters

    Examples
    --------
    >>> import touchpoint as tp
    >>> journeys = ["ad ad", "ad ad", "ad ad", "faq faq", "faq faq"]  # site, then ad or faq
    >>> rows = [(j, tp_) for j, s in enumerate(journeys) for t in s.split()
    ...         for tp_ in ("site", t)]
    >>> log = tp.EventLog.from_arrays([j for j, _ in rows], [t for _, t in rows],
    ...                               [float(i) for i in range(len(rows))])
    >>> cl = tp.cluster_journeys(log, k=2, n_resamples=0)
    >>> cl.labels.tolist()  # clusters are numbered by size
    [1, 1, 1, 2, 2]
    """
    if log.n_journeys < 2:
        msg = f"cluster_journeys() needs at least 2 journeys (the log has {log.n_journeys})."
        raise ValidationError(msg)
    rng = np.random.default_rng(seed)
    n_states = log.n_touchpoints + 2
    full = _count_matrix(log, n_states)
    prior = _prior(full, n_states)
    counts, weights, row_of = _dedupe(full)
    if sample is not None and log.n_journeys > sample:
        s_counts, s_weights, _ = _dedupe(
            full[np.sort(rng.choice(log.n_journeys, sample, replace=False))]
        )
    else:
        s_counts, s_weights = counts, weights
    if k == "auto" and log.n_journeys < 5 * FOLDS:
        chosen = 1  # too few journeys to hold any out
        selection = Table({"k": np.array([1]), "chosen": np.array([True])}, title="choice of k")
    elif k == "auto":
        ks = list(range(1, min(max_k, log.n_journeys) + 1))
        ks, ll_k, split = _held_out(
            s_counts,
            s_weights,
            ks,
            prior=prior,
            n_states=n_states,
            rng=rng,
            n_init=max(2, n_init // 2),
        )
        chosen, selection = _choose_k(ll_k, split, ks)
    else:
        chosen = int(k)
        selection = Table(
            {"k": np.array([chosen]), "chosen": np.array([True])}, title="choice of k"
        )
    log_theta, log_pi, ll = _fit(
        counts, weights, chosen, prior=prior, n_states=n_states, rng=rng, n_init=n_init
    )
    row_member = _posterior(_scores(counts, log_theta, log_pi))[1]
    order = np.argsort(-(row_member * weights[:, None]).sum(axis=0), kind="stable")  # by size
    log_theta, log_pi, row_member = log_theta[order], log_pi[order], row_member[:, order]
    member = row_member[row_of]
    labels = np.argmax(member, axis=1).astype(np.int64) + 1
    s_member = _posterior(_scores(s_counts, log_theta, log_pi))[1]
    stability = _stability(
        s_counts,
        s_weights,
        chosen,
        prior=prior,
        n_states=n_states,
        rng=rng,
        member=s_member,
        n_resamples=n_resamples,
    )
    table = _cluster_table(log, full, member, labels, n_states)
    return JourneyClusters(
        k=chosen,
        labels=labels,
        membership=member,
        table=table,
        stability=stability,
        selection=selection,
        log_likelihood=ll,
        journey_ids=log.journey_ids,
        log_theta=log_theta,
        log_pi=log_pi,
        names=log.touchpoint_names,
    )


def _stability(
    counts: csr_matrix,
    weights: NDArray[np.float64],
    k: int,
    *,
    prior: NDArray[np.float64],
    n_states: int,
    rng: np.random.Generator,
    member: NDArray[np.float64],
    n_resamples: int,
) -> float:
    """Mean ARI (over journeys) between the clustering and fits to bootstrap resamples."""
    if n_resamples == 0:
        return float("nan")
    if k == 1:
        return 1.0
    n = int(weights.sum())
    labels = np.repeat(np.argmax(member, axis=1), weights.astype(np.int64))
    aris = []
    for _ in range(n_resamples):
        w = rng.multinomial(n, weights / n).astype(np.float64)  # journeys drawn with replacement
        keep = w > 0
        lt, lp, _ = _fit(
            counts[keep], w[keep], k, prior=prior, n_states=n_states, rng=rng, n_init=2
        )
        again = np.argmax(_scores(counts, lt, lp), axis=1)
        aris.append(adjusted_rand_index(labels, np.repeat(again, weights.astype(np.int64))))
    return float(np.mean(aris))


def _cluster_table(
    log: EventLog,
    counts: csr_matrix,
    member: NDArray[np.float64],
    labels: NDArray[np.int64],
    n_states: int,
) -> Table:
    from touchpoint._lib.stats import proportion_ci

    k = member.shape[1]
    names = [*log.touchpoint_names, START, END_STATE]
    has_conv = log.outcome is not None or bool(log.conversions)
    conv = log.converted() if has_conv else np.zeros(log.n_journeys, dtype=bool)
    size = np.bincount(labels - 1, minlength=k)
    won = np.bincount(labels - 1, weights=conv.astype(np.float64), minlength=k)
    lo, hi = proportion_ci(won, size)
    lengths = np.diff(log.offsets)
    mean_events = np.bincount(
        labels - 1, weights=lengths.astype(np.float64), minlength=k
    ) / np.maximum(size, 1)
    certainty = np.bincount(labels - 1, weights=member.max(axis=1), minlength=k) / np.maximum(
        size, 1
    )
    trans = np.asarray(counts.T @ member).T  # k x pairs, expected transitions
    overall = trans.sum(axis=0) / max(trans.sum(), 1e-12)
    chars = []
    for c in range(k):
        share = trans[c] / max(trans[c].sum(), 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(
                (share > overall) & (share > 0.01), share * np.log(share / overall), 0.0
            )
        top = [i for i in np.argsort(-score)[:3].tolist() if score[i] > 0]
        chars.append(
            "; ".join(
                f"{names[i // n_states]} > {names[i % n_states]} ({share[i]:.0%} vs {overall[i]:.0%})"
                for i in top
            )
        )
    return Table(
        {
            "cluster": np.arange(1, k + 1, dtype=np.int64),
            "journeys": size.astype(np.int64),
            "share": size / max(len(labels), 1),
            "converted": won.astype(np.int64),
            "conversion": np.where(size > 0, won / np.maximum(size, 1), np.nan)
            if has_conv
            else np.full(k, np.nan),
            "ci_low": lo if has_conv else np.full(k, np.nan),
            "ci_high": hi if has_conv else np.full(k, np.nan),
            "mean_events": mean_events,
            "certainty": certainty,
            "characteristic": np.array(chars, dtype=object),
        },
        title="journey clusters",
    )
