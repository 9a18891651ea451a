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


def _hits(scan: LogScan, ev: Any, full: Any) -> tuple[Any, Any, Any, Any]:
    """Per event: at a conversion touchpoint, converting (event-level outcome; under
    ``outcome_level="journey"`` only conversion touchpoints: the journey's value converts
    at its end); per journey (over the window ``full``): converted, its value."""
    import ibis

    s = scan.spec
    conv_tp = ev[TP].isin(list(s.conversions)) if s.conversions else ibis.literal(False)
    no_tp = ibis.literal(False)
    any_tp = conv_tp.cast("int64").max().over(full) > 0 if s.conversions else no_tp
    if s.outcome is None:
        return conv_tp, conv_tp, any_tp, ibis.literal(0.0)
    o = ev[OUT]
    if s.outcome_level == "event":
        hit = (o > 0).fill_null(False) | conv_tp
        conv = hit.cast("int64").max().over(full) > 0
        return conv_tp, hit, conv, o.fill_null(0.0).sum().over(full)
    jv = o.max().over(full)  # one value per journey (checked)
    return conv_tp, conv_tp, any_tp | (jv > 0).fill_null(False), jv.fill_null(0.0)


def events(scan: LogScan, states: str, *, until_conversion: bool, lags: int = 0) -> Any:
    """Numbered events with their symbol, kept mark and their journey's conversion and
    value (a table expression; one window pass: every window shares one ordering).

    With ``lags`` (only without conversion touchpoints, whose events are dropped from
    the middle of a path), the kept events are a prefix of each journey, so the symbols
    before them (``_tp_l1``...) and whether each is the last kept one (``_tp_last``) come
    from the same pass.
    """
    import ibis

    ev = scan._clean()
    keys = scan._order_keys(ev)
    full = ibis.window(group_by=ev[J], order_by=keys)  # ibis: the whole journey as frame
    cum = ibis.cumulative_window(group_by=ev[J], order_by=keys)
    conv_tp, hit, conv, value = _hits(scan, ev, full)
    kept = ~conv_tp
    s = scan.spec
    event_hits = s.conversions or (s.outcome is not None and s.outcome_level == "event")
    if until_conversion and event_hits:  # nothing after the first converting event
        h = hit.cast("int64")
        upto = h.sum().over(cum)
        kept = kept & ((upto - h) == 0)
    sym = _symbol(scan, ev, states)
    extra: dict[str, Any] = {}
    if lags:
        for m in range(1, lags + 1):
            extra[f"_tp_l{m}"] = sym.lag(m).over(full)
        last = ev[TP].lead(1).over(full).isnull()
        if until_conversion and event_hits:  # the next event is cut
            last = last | (upto > 0)
        extra["_tp_last"] = last
    return ev.mutate(
        _tp_pos=ibis.row_number().over(full),
        _tp_sym=sym,
        _tp_kept=kept,
        _tp_conv=conv,
        _tp_val=value,
        **extra,
    )


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


def _grouped(scan: LogScan, ev: Any, order: int, collapse_repeats: bool) -> list[dict[str, Any]]:
    """Kept events grouped by ``(lag_order..lag_1, symbol, is last, converted if last)``:
    each is the transition into its symbol and, when last, its journey's end; with the
    count and the summed journey value of the last ones."""
    import ibis

    lags: dict[str, Any]
    if "_tp_last" in ev.columns:  # one pass: lags and ends came with the events
        k = ev.filter(ev["_tp_kept"])
        lags = {f"_tp_l{m}": k[f"_tp_l{m}"] for m in range(1, order + 1)}
    else:
        k = ev.filter(ev["_tp_kept"]).select(J, "_tp_pos", "_tp_sym", "_tp_conv", "_tp_val")
        w = ibis.window(group_by=k[J], order_by=k["_tp_pos"])
        if collapse_repeats:
            prev = k["_tp_sym"].lag(1).over(w)
            k = k.filter(prev.isnull() | (prev != k["_tp_sym"]))
            w = ibis.window(group_by=k[J], order_by=k["_tp_pos"])
        lags = {f"_tp_l{m}": k["_tp_sym"].lag(m).over(w) for m in range(1, order + 1)}
        k = k.mutate(**lags, _tp_last=k["_tp_sym"].lead(1).over(w).isnull())
    last = k["_tp_last"]
    k = k.mutate(
        _tp_end=ibis.ifelse(last, k["_tp_conv"].cast("int64"), -1),
        _tp_v=ibis.ifelse(last & k["_tp_conv"], k["_tp_val"], 0.0),
    )
    q = k.group_by([*lags, "_tp_sym", "_tp_end"]).aggregate(
        _tp_n=k.count(), _tp_value=k["_tp_v"].sum()
    )
    rows: list[dict[str, Any]] = scan._query(
        lambda: q.to_pyarrow().to_pylist(), "counting transitions"
    )
    return rows


def _totals(scan: LogScan) -> dict[str, Any]:
    """Journeys, conversions and the converting journeys' value (no window needed)."""
    import ibis

    s = scan.spec
    ev = scan._clean()
    conv_tp = ev[TP].isin(list(s.conversions)) if s.conversions else ibis.literal(False)
    hit = conv_tp if s.outcome is None else (ev[OUT] > 0).fill_null(False) | conv_tp
    if s.outcome is None:
        val = ev[J].count().cast("float64") * 0.0
    elif s.outcome_level == "event":
        val = ev[OUT].fill_null(0.0).sum()
    else:
        val = ev[OUT].max().fill_null(0.0)
    if s.conversions or s.outcome is not None:
        conv_any = ibis.ifelse(hit, 1, 0).max()
    else:  # nothing converts
        conv_any = ev[J].count() * 0
    g = ev.group_by(J).aggregate(_tp_conv=conv_any, _tp_val=val)
    conv = g["_tp_conv"] > 0
    q = g.aggregate(
        n=g.count(),
        n_conv=conv.cast("int64").sum(),
        value=ibis.ifelse(conv, g["_tp_val"], 0.0).sum(),
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
    one_pass = not scan.spec.conversions and not collapse_repeats
    ev = events(scan, states, until_conversion=until_conversion, lags=order if one_pass else 0)
    rows = _grouped(scan, ev, order, collapse_repeats)
    if one_pass:  # every journey keeps its first event: each has one end transition
        ends = [r for r in rows if r["_tp_end"] >= 0]
        n_conv = sum(int(r["_tp_n"]) for r in ends if r["_tp_end"] == 1)
        tot = {
            "n": sum(int(r["_tp_n"]) for r in ends),
            "n_conv": n_conv,
            "value": sum(float(r["_tp_value"] or 0.0) for r in ends),
        }
    else:
        tot = _totals(scan)
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

    with_states = {0: 0, 1: 0}  # journeys with a state, by conversion
    with_value = 0.0  # their value, converting ones
    for r in rows:
        n = float(r["_tp_n"])
        lag = [r[f"_tp_l{m}"] for m in range(1, order + 1)]
        keys.append(state(lag) * width + code[str(r["_tp_sym"])])
        counts.append(n)
        end = r["_tp_end"]
        if end >= 0:  # the last state of a journey: its end transition
            keys.append(state([r["_tp_sym"], *lag[: order - 1]]) * width + n_sym + (1 - end))
            counts.append(n)
            with_states[end] += int(n)
            with_value += float(r["_tp_value"] or 0.0)
    n_direct = int(tot["n_conv"]) - with_states[1]
    n_null = int(tot["n"]) - int(tot["n_conv"]) - with_states[0]
    start = radix**order - 1
    for conv, n in ((True, n_direct), (False, n_null)):
        if n:
            keys.append(start * width + (n_sym if conv else n_sym + 1))
            counts.append(float(n))
    value = float(tot["value"])
    direct_value = value - with_value if n_direct else 0.0
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
        value=value,
        states=states,
        direct_value=direct_value,
    )
