"""The report's monitoring section: a monitor's state when one is given (``monitor=``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchpoint.report._base import Figure, Section

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext

__all__ = ["section_monitor"]

#: Looks shown in the table (the latest).
LAST_LOOKS = 7


def _state(m: Any) -> str:
    """One paragraph: what is watched, the estimate with its sequence, the alarm."""
    t = m.table
    last = len(t) - 1
    level = f"{1 - m.alpha:.0%}"
    text = (
        f"{m.metric} watched over {len(t)} looks: {t['estimate'][last]:.4g} so far "
        f"({level} confidence sequence {t['low'][last]:.4g} to {t['high'][last]:.4g}, valid "
        "however often it is looked at)."
    )
    if m.alarm:
        text += (
            f" ALARM: a {m.direction} since the baseline, first at look {m.alarm_look} "
            f"({t['time'][m.alarm_look - 1]}); the chance of a false alarm over all looks "
            f"is at most {m.alpha:g}."
        )
    elif m.baseline_interval is None:
        text += f" The alarm starts after the {m.baseline} baseline looks."
    else:
        lo, hi = m.baseline_interval
        text += f" No alarm: every look is consistent with the baseline ({lo:.4g} to {hi:.4g})."
    return text


def section_monitor(ctx: ReportContext) -> Section | None:
    """The monitor's state, its latest looks and (with figures) its chart."""
    m = getattr(ctx, "monitor", None)
    if m is None or m.n_looks == 0:
        return None
    t = m.table
    first = max(0, len(t) - LAST_LOOKS)
    rows = [
        [
            int(t["look"][i]),
            t["time"][i],
            int(t["n"][i]),
            t["rate"][i],
            t["estimate"][i],
            t["low"][i],
            t["high"][i],
            "yes" if t["alarm"][i] else "",
        ]
        for i in range(first, len(t))
    ]
    figures: list[Figure] = []
    if ctx.figures:
        from touchpoint.report._figures import SIDE, _new_axes, _svg

        ax = _new_axes((SIDE, 3.2))
        m.plot(ax=ax)
        figures.append(
            Figure(
                caption="Each look's value (points), the estimate so far with its anytime-valid "
                "confidence sequence (band), the baseline's range (dashed) and the alarm (red).",
                html=_svg(ax),
            )
        )
    return Section.from_table(
        "Monitoring",
        ["look", "time", "n", "rate", "estimate", "low", "high", "alarm"],
        rows,
        note=_state(m),
        figures=figures,
        caption=f"The latest {len(rows)} looks",
    )
