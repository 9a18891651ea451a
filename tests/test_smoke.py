"""Import-level checks: the package imports fast and exposes its public names."""

import subprocess
import sys

import touchpoint as tp


def test_public_names_exist():
    for name in tp.__all__:
        assert hasattr(tp, name), name


def test_import_does_not_load_heavy_modules():
    code = (
        "import sys, touchpoint; "
        "bad = [m for m in ('pandas', 'polars', 'matplotlib', 'scipy.stats', 'pyarrow') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
