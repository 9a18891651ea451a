"""Attribution of a scan from grouped paths (internal).

The engine reduces the journeys to their distinct state paths (after the
conversion cut and, if asked, collapsed repeats) with, per path and
conversion, the number of journeys and their summed value. Every rule-based
model and the Markov model's per-journey split credit a journey by its path
alone, so crediting each distinct path once, weighted by its journeys, gives
the in-memory credit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint.core._eventlog import EventLog
from touchpoint.scan._markov import alphabet, events
from touchpoint.scan._scan import J, LogScan, cannot_push

if TYPE_CHECKING:
    from touchpoint.markov._attribution import Attribution


def grouped_paths(
    scan: LogScan, states: str, *, collapse_repeats: bool, until_conversion: bool
) -> list[dict[str, Any]]:
    """Rows ``(path, conv, n, value)``: distinct state paths per conversion, counted."""
    import ibis

    ev = events(scan, states, until_conversion=until_conversion)
    if collapse_repeats:  # repeats are those of the kept events: a window over them
        k = ev.filter(ev["_tp_kept"])
        w = ibis.window(group_by=k[J], order_by=k["_tp_pos"])
        prev = k["_tp_sym"].lag(1).over(w)
        k = k.mutate(_tp_kept=prev.isnull() | (prev != k["_tp_sym"]))
        cut = ev.filter(~ev["_tp_kept"])
        ev = k.union(cut.select(*k.columns))
    kept = ev["_tp_kept"]
    if scan.engine == "duckdb":
        path = ev["_tp_sym"].collect(where=kept, order_by=ev["_tp_pos"])
    else:  # engines without ordered aggregation (Spark): sort (position, symbol) pairs
        pairs = ibis.struct({"p": ev["_tp_pos"], "s": ev["_tp_sym"]})
        path = pairs.collect(where=kept).sort().map(lambda x: x.s)
    g = ev.group_by(J).aggregate(
        _tp_path=path, _tp_conv=ev["_tp_conv"].cast("int64").max(), _tp_val=ev["_tp_val"].max()
    )
    q = g.group_by(["_tp_path", "_tp_conv"]).aggregate(
        _tp_n=g.count(), _tp_value=g["_tp_val"].sum()
    )
    rows: list[dict[str, Any]] = scan._query(
        lambda: q.to_pyarrow().to_pylist(), "grouping journey paths"
    )
    return rows


def _rule(scan: LogScan) -> str:
    """The log's conversion rule in words (as ``EventLog.conversion_rule``)."""
    s = scan.spec
    empty = np.empty(0, dtype=np.int32)
    log = EventLog(
        journey=empty,
        journey_ids=np.empty(0, dtype=object),
        touchpoint=empty.copy(),
        touchpoint_names=s.conversions,
        timestamp=np.empty(0),
        outcome=None if s.outcome is None else np.empty(0),
        conversions=s.conversions,
        columns={"outcome": s.outcome} if s.outcome is not None else None,
        outcome_level=s.outcome_level,
    )
    return log.conversion_rule


def attribution(scan: LogScan, model: str = "markov", **kw: Any) -> Attribution:
    """:func:`touchpoint.attribution` of a scan, from grouped paths."""
    from touchpoint.markov import _attribution as at, _encoding as _tr
    from touchpoint.markov._model import fit_markov
    from touchpoint.table import Table

    states = kw["states"]
    if model == "time_decay":
        raise cannot_push("attribution(model='time_decay')", "it needs every event's time")
    if kw["per_journey"]:
        raise cannot_push("attribution(per_journey=True)", "it lists every journey")
    if model == "shapley" and kw["shapley_value"] != "conversions":
        raise cannot_push("attribution(shapley_value='conversion_rate')")
    if kw["n_resamples"]:
        raise cannot_push("attribution(n_resamples=...)", "the bootstrap resamples journeys")
    paths = {"collapse_repeats": kw["collapse_repeats"], "until_conversion": kw["until_conversion"]}
    names = alphabet(scan, states)
    rows = grouped_paths(scan, states, **paths)
    code = {s: i for i, s in enumerate(names)}
    seqs = [[code[str(v)] for v in (r["_tp_path"] or [])] for r in rows]
    lengths = np.array([len(p) for p in seqs], dtype=np.int64)
    conv = np.array([bool(r["_tp_conv"]) for r in rows], dtype=bool)
    n = np.array([r["_tp_n"] for r in rows], dtype=np.float64)
    value = np.array([r["_tp_value"] or 0.0 for r in rows], dtype=np.float64)
    ev = np.array([c for p in seqs for c in p], dtype=np.int64)
    ej = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    empty = np.empty(0, dtype=np.int64)
    enc = _tr.EncodedJourneys(
        alphabet=names,
        order=1,
        src=empty,
        outcome=empty,
        lengths=lengths,
        converted=conv,
        value=value,
        n_journeys=len(rows),
        events=ev,
        event_journey=ej,
        event_index=np.arange(len(ev), dtype=np.int64),
    )
    re = None
    note = ""
    if model == "markov":
        m = fit_markov(scan, order=kw["order"], states=states, **paths)  # type: ignore[arg-type]
        re = at.removal_effects(m, max_steps=kw["max_steps"])
        eff = dict(zip(re.names, re.effect.tolist(), strict=True))
        weights = at._markov_journey_weights(enc, np.array([eff.get(s, 0.0) for s in names]))
        note = (
            "each touched conversion split over its journey's touchpoints by removal effect "
            "(Anderson 2013); conversions with no touchpoint before are unattributed"
        )
    else:
        weights = at._event_weights(enc, None, model, None, kw["position_weights"])  # type: ignore[arg-type]
    cj = np.where(conv, n, 0.0)[ej]
    vj = np.where(conv, value, 0.0)[ej]
    k = len(names)
    conversions = np.bincount(ev, weights=weights * cj, minlength=k).astype(np.float64)
    values = np.bincount(ev, weights=weights * vj, minlength=k).astype(np.float64)
    direct = conv & (lengths == 0)
    tot = conversions.sum()
    cols: dict[str, Any] = {states: np.array(names, dtype=object), "conversions": conversions}
    if scan.spec.outcome is not None:
        cols["value"] = values
    cols["share"] = conversions / tot if tot > 0 else np.zeros(k)
    table = Table(cols, title=f"{model} attribution").sort("conversions", descending=True)
    if states == "touchpoint" and scan.spec.conversions:
        table = table[~np.isin(table[states], np.array(scan.spec.conversions, dtype=object))]
    unattributed = float(n[direct].sum())
    return at.Attribution(
        model=model,
        table=table,
        per_journey=None,
        removal_effects=re,
        unattributed=unattributed,
        note=note,
        unattributed_value=float(value[direct].sum()) if unattributed else 0.0,
        conversion=_rule(scan),
    )
