"""Does a stage feel the same on every channel? Omnibus tests with effect sizes and standouts.

References
----------
Kruskal, W. H. and Wallis, W. A. (1952). Use of ranks in one-criterion
variance analysis. JASA 47(260), 583-621.

Tomczak, M. and Tomczak, E. (2014). The need to report effect size estimates
revisited. Trends in Sport Sciences 21(1), 19-25 (epsilon-squared for H).

Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
JRSS B 57(1), 289-300.

Rao, J. N. K. and Scott, A. J. (1981). The analysis of categorical data from
complex sample surveys. JASA 76(374), 221-230.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.columns import factorize
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.stats import benjamini_hochberg, chi2_independence, two_sided_pvalue
from touchpoint.core._results import TableResult
from touchpoint.metrics._breakdown import (
    FloatArray,
    Metric,
    MetricSpec,
    _metric_values,
    _sorted_groups,
    as_table,
    cluster_codes,
    group_labels,
    metric_spec,
)
from touchpoint.metrics._core import Moments, nps_adjusted, two_proportion_z
from touchpoint.table import Table

if TYPE_CHECKING:
    from touchpoint.core._journey import Journey

__all__ = ["Consistency", "consistency"]


@attrs.frozen(kw_only=True)
class Consistency(TableResult):
    """Does each stage feel the same on every channel?

    Attributes
    ----------
    table : Table
        One row per stage: answers, channels compared, test, statistic, df,
        p-value, BH q-value, effect size (Cramér's V for chi-square,
        epsilon-squared for Kruskal-Wallis), ``consistent`` and the channels
        that stand out.
    detail : Table
        One row per stage and channel: n, score, difference from the rest of
        the stage, p-value, q-value and ``stands_out``.
    """

    table: Table
    detail: Table
    metric: str
    across: str
    within: str

    def to_text(self) -> str:
        """Plain-text rendering of the per-stage table."""
        return self.table.to_text()

    def _repr_html_(self) -> str:
        return self.table.to_html() + self.detail.to_html()

    def __repr__(self) -> str:
        recs = self.table.to_records()
        bad = [r[self.within] for r in recs if not r["consistent"]]
        return (
            f"Consistency({self.metric.upper()} across {self.across} within {self.within}: "
            f"{len(recs) - len(bad)} of {len(recs)} consistent"
            + (f"; differs in {', '.join(map(str, bad))}" if bad else "")
            + ")"
        )


def _chi2(counts: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Pearson chi-square of independence on a k x c table: (stat, df, p, Cramér's V)."""
    stat, df, p = chi2_independence(counts)
    if df == 0:
        return 0.0, 0.0, 1.0, 0.0
    kept = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    v = float(np.sqrt(stat / (kept.sum() * (min(kept.shape) - 1))))
    return stat, float(df), p, v


@deprecated_params(renamed={"journey": "design"}, positional=("across", "within"))
@ck.validate_params(
    {
        "metric": ck.Options("nps", "csat", "ces"),
        "across": ck.Text(),
        "within": ck.Text(),
        "column": ck.Text(none=True),
        "alpha": ck.ALPHA,
        "min_answers": ck.Integer(1),
    }
)
def consistency(
    responses: Any,
    metric: Metric = "csat",
    *,
    across: str = "channel",
    within: str = "stage",
    column: str | None = None,
    cluster: str | None = "auto",
    design: Journey | None = None,
    alpha: float = 0.05,
    min_answers: int = 5,
    **options: Any,
) -> Consistency:
    """Test, per stage, whether a CX metric differs between channels.

    Proportions use a chi-square test of independence (CSAT: satisfied or
    not; NPS: detractor/passive/promoter) with Cramér's V; CES answers use
    Kruskal-Wallis with epsilon-squared ``H / (n - 1)``. A channel *stands
    out* when its answers differ from the rest of the stage (two-proportion
    z for CSAT, z on NPS, Mann-Whitney U for CES) after Benjamini-Hochberg
    over all stage-channel cells; stages are *consistent* when the
    omnibus q-value is at least ``alpha``.

    Parameters
    ----------
    responses : Table, mapping or DataFrame
        Survey answers.
    metric : {"csat", "nps", "ces"}
    across, within : str
        Columns (or "stage"/"channel" looked up in ``design``).
    cluster : str or None
        Column of the respondent of each answer (``"auto"``: the first of
        :data:`~touchpoint.metrics.RESPONDENT_COLUMNS` present). With several
        answers per respondent every statistic is divided by the stage's
        design effect (Rao and Scott 1981, first order: the cluster-robust
        variance of the stage's mean over its simple-random-sample variance,
        at least 1), so a customer's answers are not counted as independent.
        This is conservative when respondents answer on several channels.
    min_answers : int
        Channels with fewer answers in a stage are left out of its test.
    **options
        The metric's scale and bands (as for :func:`breakdown`).

    Examples
    --------
    >>> res = consistency({"stage": ["buy"] * 80, "channel": ["web"] * 40 + ["app"] * 40,
    ...                    "csat": [5] * 36 + [1] * 4 + [5] * 16 + [1] * 24})
    >>> res.to_records()[0]["consistent"], res.to_records()[0]["stands_out"]
    (False, 'web, app')
    """
    spec = metric_spec(metric, options)
    table = as_table(responses)
    x = _metric_values(table, spec, column)
    within_lab = factorize(_obj(group_labels(table, within, design)))
    across_lab = factorize(_obj(group_labels(table, across, design)))
    keep = (within_lab.codes >= 0) & (across_lab.codes >= 0) & ~np.isnan(x)
    cl = cluster_codes(table, cluster)
    w_order = _sorted_groups(within_lab.uniques, within, design)
    rows: list[dict[str, Any]] = []
    detail: list[dict[str, Any]] = []
    for s in w_order.tolist():
        sel = keep & (within_lab.codes == s)
        xs, cs = x[sel], across_lab.codes[sel]
        counts = np.bincount(cs, minlength=len(across_lab.uniques))
        chans = [c for c in np.argsort(-counts, kind="stable").tolist() if counts[c] >= min_answers]
        if len(chans) < 2:
            continue
        in_ch = np.isin(cs, chans)
        xs, cs = xs[in_ch], cs[in_ch]
        deff = 1.0 if cl is None else _design_effect(spec, xs, cl[sel][in_ch])
        stat, df, p, eff, test = _omnibus(spec, xs, cs, chans, deff)
        stage_name = within_lab.uniques[s]
        rows.append(
            {
                within: stage_name,
                "n": len(xs),
                "channels": len(chans),
                "test": test,
                "statistic": stat,
                "df": df,
                "pvalue": p,
                "effect_size": eff,
            }
        )
        for c in chans:
            mine = cs == c
            score, rest_score, pc = _versus_rest(spec, xs[mine], xs[~mine], deff)
            detail.append(
                {
                    within: stage_name,
                    across: across_lab.uniques[c],
                    "n": int(mine.sum()),
                    "score": score,
                    "difference": score - rest_score,
                    "pvalue": pc,
                }
            )
    cols_main = (within, "n", "channels", "test", "statistic", "df", "pvalue", "effect_size")
    cols_detail = (within, across, "n", "score", "difference", "pvalue")
    main_t = _records_table(rows, cols_main)
    det_t = _records_table(detail, cols_detail)
    q = benjamini_hochberg(main_t["pvalue"].astype(np.float64))
    qd = benjamini_hochberg(det_t["pvalue"].astype(np.float64))
    stands = np.nan_to_num(qd, nan=1.0) < alpha
    det_t = det_t.with_column("qvalue", qd).with_column("stands_out", stands)
    out_names = []
    for r in rows:
        m = np.flatnonzero((det_t[within] == r[within]) & stands)
        m = m[np.argsort(qd[m], kind="stable")]  # the clearest first
        out_names.append(", ".join(str(v) for v in det_t[across][m].tolist()))
    main_t = (
        main_t.with_column("qvalue", q)
        .with_column("consistent", ~(np.nan_to_num(q, nan=1.0) < alpha))
        .with_column("stands_out", np.array(out_names, dtype=object))
    )
    main_t.title = f"{metric.upper()} consistency across {across} within {within}"
    det_t.title = f"{metric.upper()} by {within} and {across}"
    return Consistency(table=main_t, detail=det_t, metric=metric, across=across, within=within)


def _obj(values: NDArray[Any]) -> NDArray[Any]:
    return values if values.dtype == object else values.astype(object)


def _records_table(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> Table:
    out: dict[str, Any] = {}
    for c in cols:
        vals = [r[c] for r in rows]
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
        if vals and all(isinstance(v, int | float | np.number) for v in vals):
            arr = np.asarray(vals, dtype=np.float64 if c not in ("n", "channels") else np.int64)
        elif not vals and c in ("statistic", "df", "pvalue", "effect_size", "score", "difference"):
            arr = np.empty(0, dtype=np.float64)
        out[c] = arr
    return Table(out)


def _design_effect(spec: MetricSpec, xs: FloatArray, clusters: NDArray[np.int64]) -> float:
    """Cluster-robust over simple-random-sample variance of the stage's mean (at least 1).

    Of the tested quantity: the answer categories' ``y`` (NPS), the satisfied
    flag (CSAT) or the answers' ranks (CES, Kruskal-Wallis).
    """
    from scipy.stats import rankdata

    v = rankdata(xs) if spec.metric == "ces" else spec.value(xs)
    g = np.unique(clusters, return_inverse=True)[1].astype(np.int64)
    mom = Moments.one(np.asarray(v, dtype=np.float64), None, g)
    srs = float(mom.variance[0]) / len(v)
    if not srs > 0:
        return 1.0
    return max(1.0, float(mom.se(ddof=False)[0]) ** 2 / srs)


def _omnibus(
    spec: MetricSpec, xs: FloatArray, cs: NDArray[np.int64], chans: list[int], deff: float = 1.0
) -> tuple[float, float, float, float, str]:
    from scipy.special import chdtrc

    if spec.metric == "ces":
        from scipy.stats import kruskal

        groups = [xs[cs == c] for c in chans]
        if np.ptp(xs) == 0:
            return 0.0, float(len(chans) - 1), 1.0, 0.0, "Kruskal-Wallis"
        res = kruskal(*groups)
        h = float(res.statistic)
        df = float(len(chans) - 1)
        p = float(res.pvalue) if deff == 1.0 else float(chdtrc(df, h / deff))
        return h / deff, df, p, h / (len(xs) - 1), "Kruskal-Wallis"
    cat = spec.category(xs)
    ncat = 2 if spec.metric == "csat" else 3
    remap = {c: i for i, c in enumerate(chans)}
    rows = np.array([remap[c] for c in cs.tolist()], dtype=np.int64)
    counts = np.bincount(rows * ncat + cat, minlength=len(chans) * ncat).reshape(len(chans), ncat)
    stat, df, p, v = _chi2(counts.astype(np.float64))
    if deff != 1.0:
        stat = stat / deff
        p = float(chdtrc(df, stat)) if df > 0 else 1.0
    return stat, df, p, v, "chi-square" if deff == 1.0 else "chi-square (Rao-Scott)"


def _versus_rest(
    spec: MetricSpec, a: FloatArray, b: FloatArray, deff: float = 1.0
) -> tuple[float, float, float]:
    """(score of a, score of b, two-sided p of a vs b); sizes divided by the design effect."""
    na, nb = len(a) / deff, len(b) / deff
    if spec.metric == "csat":
        pa, pb = np.mean(spec.value(a)), np.mean(spec.value(b))
        _, p = two_proportion_z(np.array([pa]), np.array([na]), np.array([pb]), np.array([nb]))
        return 100 * float(pa), 100 * float(pb), float(p[0])
    if spec.metric == "nps":
        ya, yb = spec.value(a), spec.value(b)
        ca, sea = nps_adjusted(
            np.array([np.mean(ya > 0)]), np.array([np.mean(ya < 0)]), np.array([na])
        )
        cb, seb = nps_adjusted(
            np.array([np.mean(yb > 0)]), np.array([np.mean(yb < 0)]), np.array([nb])
        )
        z = (ca - cb) / np.hypot(sea, seb)
        sa, sb = 100 * float(np.mean(ya)), 100 * float(np.mean(yb))
        return sa, sb, float(two_sided_pvalue(z)[0])
    from scipy.stats import mannwhitneyu

    if np.ptp(np.concatenate([a, b])) == 0:
        return float(a.mean()), float(b.mean()), 1.0
    pv = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    if deff != 1.0:  # the normal score of the U test, shrunk by the design effect
        from scipy.special import ndtri

        z = float(ndtri(max(pv / 2, 1e-300))) / np.sqrt(deff)
        pv = float(two_sided_pvalue(z))
    return float(a.mean()), float(b.mean()), pv
