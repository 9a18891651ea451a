"""Every hostile-input case is classified by its outcome: error, drop or ok.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

#: The modules of error/drop/ok cases (moved from the former tests/test_hostile.py).
CLASSIFIED = [
    "core/test_csv_engines_agree.py",
    "core/test_input_roles_values.py",
    "core/test_journey_json_inputs.py",
    "core/test_missing_segments.py",
    "funnels/test_conformance_inputs.py",
    "funnels/test_funnel_inputs.py",
    "markov/test_markov_inputs.py",
    "metrics/test_metric_inputs.py",
    "report/test_names_in_output.py",
    "test_cli_errors.py",
    "test_dask_errors.py",
]


# ---------------------------------------------------------------------------------
# the suite's own bookkeeping: at least 250 cases, each classified
# ---------------------------------------------------------------------------------
def test_suite_size_and_classes():
    """At least 250 collected cases, each named by its outcome: error, drop or ok."""
    import pathlib

    here = pathlib.Path(__file__).parents[1]
    files = [here / f for f in CLASSIFIED]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        capture_output=True,
        text=True,
        check=True,
        cwd=here.parent,
    ).stdout
    cases = [line.split("::", 1)[1] for line in out.splitlines() if "::test_" in line]
    kinds = Counter(c.split("_")[1] for c in cases if not c.startswith("test_suite_"))
    assert set(kinds) == {"error", "drop", "ok"}, kinds
    assert sum(kinds.values()) >= 250, kinds
