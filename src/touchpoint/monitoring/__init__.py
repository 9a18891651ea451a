"""Monitoring: a rate or score watched look by look, valid however often one looks.

:func:`monitor` keeps per-look counts of a conversion rate, a funnel step rate or a
survey score, with an anytime-valid confidence sequence and a change alarm whose
false-alarm probability over unlimited looks is at most ``alpha``. It reads event
logs through the funnel matching, so it sits above the analysis families.
"""

from __future__ import annotations

from touchpoint.monitoring._monitor import Monitor, monitor

__all__ = ["Monitor", "monitor"]
