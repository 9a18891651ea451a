"""Order-``k`` transition counts as window and group-by queries (internal).

The engine numbers each journey's events by time (ties in input order), marks
the converting events (a positive outcome, or a conversion touchpoint; under
``outcome_level="journey"`` the journey's value on its last event), keeps the
events that are states (not conversion touchpoints; with ``until_conversion``
none after the first converting event; with ``collapse_repeats`` no repeat of
the previous state), and counts ``(last k symbols, next symbol)`` pairs with
``lag``. Three small grouped results come back: inner transitions, journey
ends and per-conversion totals; they are coded here exactly as
:mod:`touchpoint.markov._encoding` codes an in-memory log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint.exceptions import ValidationError
from touchpoint.scan._scan import OUT, RN, TP, J, LogScan, extra_name

if TYPE_CHECKING:
    from touchpoint.markov._model import TransitionCounts

_RESERVED = ("(start)", "(conversion)", "(null)")


def _symbol(scan: LogScan, ev: Any, states: str) -> Any:
    """The state symbol of each event: its touchpoint, or an extra column's text."""
    import ibis

    if states == "touchpoint":
        return ev[TP].cast("string")
    if states not in scan.spec.extra:
        msg = (
            f"states={states!r} on a scan needs an extra column {states!r} (a design "
            "cannot be given to a scan); list it in extra= when scanning."
        )
        raise ValidationError(msg)
    col = ev[extra_name(states)]
    return ibis.ifelse(col.isnull(), ibis.literal("None"), col.cast("string"))


def _hits(scan: LogScan, ev: Any) -> tuple[Any, Any, Any]:
    """Per event: converting, at a conversion touchpoint; per journey: its value."""
    import ibis

    s = scan.spec
    conv_tp = ev[TP].isin(list(s.conversions)) if s.conversions else ibis.literal(False)
    if s.outcome is None:
        return conv_tp, conv_tp, ibis.literal(0.0)
    o = ev[OUT]
    if s.outcome_level == "event":
        return (o > 0).fill_null(False) | conv_tp, conv_tp, o.fill_null(0.0)
    # journey level: one value per journey (checked), on its last event
    jw = ibis.window(group_by=ev[J])
    jv = o.max().over(jw)
    last = ev["_tp_pos"] == ev[J].count().over(jw) - 1
    return (last & (jv > 0).fill_null(False)) | conv_tp, conv_tp, ibis.ifelse(last, jv, 0.0)


def events(scan: LogScan, states: str, *, until_conversion: bool) -> Any:
    """Numbered events with their symbol, hit and kept marks (a table expression)."""
    import ibis

    ev = scan._clean()
    w = ibis.window(group_by=ev[J], order_by=scan._order_keys(ev))
    ev = ev.mutate(_tp_pos=ibis.row_number().over(w), _tp_sym=_symbol(scan, ev, states))
    hit, conv_tp, value = _hits(scan, ev)
    ev = ev.mutate(_tp_hit=hit.cast("int64"), _tp_ctp=conv_tp, _tp_val=value)
    w = ibis.window(group_by=ev[J], order_by=ev["_tp_pos"])
    cum = ibis.cumulative_window(group_by=ev[J], order_by=ev["_tp_pos"])
    kept = ~ev["_tp_ctp"]
    if until_conversion:
        kept = kept & ((ev["_tp_hit"].sum().over(cum) - ev["_tp_hit"]) == 0)
    conv = ev["_tp_hit"].max().over(ibis.window(group_by=ev[J]))
    del w
    return ev.mutate(_tp_kept=kept, _tp_conv=conv)


def alphabet(scan: LogScan, states: str) -> tuple[str, ...]:
    """The symbols in the in-memory log's order.

    Touchpoints: by first appearance in input order among all rows with a
    touchpoint (the reader codes them before dropping bad rows), kept if a
    valid row has them; integer touchpoints sorted. Extra columns: sorted text.
    """
    clean = scan._clean()
    if states != "touchpoint":
        ev = clean.mutate(_tp_sym=_symbol(scan, clean, states))
        q = ev.select("_tp_sym").distinct()
        rows = scan._query(lambda: q.to_pyarrow().column(0).to_pylist(), "listing states")
        return tuple(sorted(str(r) for r in rows))
    names = clean.select(TP).distinct()
    is_int = scan._schema[scan.spec.touchpoint].is_integer()
    if is_int or scan._row_order is None:
        rows = scan._query(lambda: names.to_pyarrow().column(0).to_pylist(), "listing touchpoints")
        return tuple(str(r) for r in sorted(rows))
    base = scan._base()
    ok = base[TP].notnull()
    if scan._schema[scan.spec.touchpoint].is_string():
        ok = ok & (base[TP].strip() != "")
    first = base.filter(ok).group_by(TP).aggregate(_tp_first=base[RN].min())
    q = first.semi_join(names, TP).order_by("_tp_first").select(TP)
    rows = scan._query(lambda: q.to_pyarrow().column(0).to_pylist(), "listing touchpoints")
    return tuple(str(r) for r in rows)


def _grouped(
    scan: LogScan, ev: Any, order: int, collapse_repeats: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inner transitions ``(lag_k..lag_1 -> sym)`` and journey ends ``(sym, lags, conv)``."""
    import ibis

    k = ev.filter(ev["_tp_kept"]).select(J, "_tp_pos", "_tp_sym", "_tp_conv")
    w = ibis.window(group_by=k[J], order_by=k["_tp_pos"])
    if collapse_repeats:
        prev = k["_tp_sym"].lag(1).over(w)
        k = k.filter(prev.isnull() | (prev != k["_tp_sym"]))
        w = ibis.window(group_by=k[J], order_by=k["_tp_pos"])
    lags = {f"_tp_l{m}": k["_tp_sym"].lag(m).over(w) for m in range(1, order + 1)}
    k = k.mutate(**lags, _tp_next=k["_tp_sym"].lead(1).over(w))
    inner_keys = [*lags, "_tp_sym"]
    inner = k.group_by(inner_keys).aggregate(_tp_n=k.count())
    end_keys = ["_tp_sym", *list(lags)[: order - 1], "_tp_conv"]
    ends = k.filter(k["_tp_next"].isnull())
    ends = ends.group_by(end_keys).aggregate(_tp_n=ends.count())
    a = scan._query(lambda: inner.to_pyarrow().to_pylist(), "counting transitions")
    b = scan._query(lambda: ends.to_pyarrow().to_pylist(), "counting journey ends")
    return a, b


def _totals(scan: LogScan, ev: Any) -> dict[str, Any]:
    """Journeys, conversions, value; journeys with no state by conversion."""
    g = ev.group_by(J).aggregate(
        _tp_conv=ev["_tp_hit"].max(),
        _tp_val=ev["_tp_val"].sum(),
        _tp_len=ev["_tp_kept"].cast("int64").sum(),
    )
    conv = g["_tp_conv"] > 0
    empty = g["_tp_len"] == 0
    q = g.aggregate(
        n=g.count(),
        n_conv=conv.cast("int64").sum(),
        value=(g["_tp_val"] * conv.cast("float64")).sum(),
        direct_value=(g["_tp_val"] * (conv & empty).cast("float64")).sum(),
        n_direct=(conv & empty).cast("int64").sum(),
        n_null=(~conv & empty).cast("int64").sum(),
    )
    row: dict[str, Any] = scan._query(lambda: q.to_pyarrow().to_pylist()[0], "counting journeys")
    return {k: (v or 0) for k, v in row.items()}


def count_transitions(
    scan: LogScan,
    *,
    order: int = 1,
    states: str = "touchpoint",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
) -> TransitionCounts:
    """:func:`touchpoint.count_transitions` of a scan, counted in the engine."""
    from touchpoint.markov import _encoding as _tr
    from touchpoint.markov._model import TransitionCounts

    names = alphabet(scan, states)
    clash = [s for s in names if s in _RESERVED and s not in scan.spec.conversions]
    if clash:
        msg = (
            f"{states} {clash[0]!r} has the name of a Markov model state "
            f"({', '.join(map(repr, _RESERVED))} are reserved); rename it in the data."
        )
        raise ValidationError(msg)
    n_sym = len(names)
    _tr.check_space(n_sym, order)
    ev = events(scan, states, until_conversion=until_conversion)
    inner, ends = _grouped(scan, ev, order, collapse_repeats)
    tot = _totals(scan, ev)
    code = {s: i for i, s in enumerate(names)}
    radix, width = n_sym + 1, n_sym + 2
    keys: list[int] = []
    counts: list[float] = []

    def state(symbols: list[Any]) -> int:  # digit m: the symbol m events back (None: padding)
        s = 0
        for m in range(order - 1, -1, -1):
            v = symbols[m] if m < len(symbols) else None
            s = s * radix + (n_sym if v is None else code[str(v)])
        return s

    for r in inner:
        src = state([r[f"_tp_l{m}"] for m in range(1, order + 1)])
        keys.append(src * width + code[str(r["_tp_sym"])])
        counts.append(float(r["_tp_n"]))
    for r in ends:
        src = state([r["_tp_sym"], *[r[f"_tp_l{m}"] for m in range(1, order)]])
        keys.append(src * width + (n_sym if r["_tp_conv"] else n_sym + 1))
        counts.append(float(r["_tp_n"]))
    start = radix**order - 1
    for conv, n in ((True, tot["n_direct"]), (False, tot["n_null"])):
        if n:
            keys.append(start * width + (n_sym if conv else n_sym + 1))
            counts.append(float(n))
    uniq, inv = np.unique(np.asarray(keys, dtype=np.int64), return_inverse=True)
    cnt = np.bincount(inv.ravel(), weights=np.asarray(counts), minlength=len(uniq))
    return TransitionCounts(
        alphabet=names,
        order=order,
        src=uniq // width,
        outcome=uniq % width,
        count=cnt.astype(np.float64),
        n_journeys=int(tot["n"]),
        n_conversions=int(tot["n_conv"]),
        value=float(tot["value"]),
        states=states,
        direct_value=float(tot["direct_value"]),
    )
