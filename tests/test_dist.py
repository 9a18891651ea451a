"""Release readiness: the built sdist and wheel are complete and work in a fresh venv.

Builds both distributions (wheel from the sdist, as ``make dist`` and PyPI
uploads do), runs ``twine check``, installs the wheel into a brand-new virtual
environment (no access to this checkout) and runs a short tour there. This
catches files missing from the wheel, e.g. the bundled sample data.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import touchpoint as tp

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import subprocess, sys
import touchpoint as tp
assert "site-packages" in tp.__file__, tp.__file__   # not the checkout
log, surveys, journey = tp.datasets.load_sample()
assert log.n_journeys > 1000 and len(journey.stages) == 7 and len(surveys) > 100
out = subprocess.run([sys.executable, "-m", "touchpoint", "--version"], capture_output=True,
                     text=True, check=True)
print(out.stdout.strip())
"""

#: Runs every python block of docs/tour.md (path in argv[1]) in one namespace.
RUN_TOUR = """
import re, sys
import matplotlib
matplotlib.use("Agg")
text = open(sys.argv[1], encoding="utf-8").read()
ns = {"__name__": "__tour__"}
for block in re.findall(r"^```python[^\\n]*\\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
    exec(compile(block, "tour.md", "exec"), ns)
print("tour ok")
"""


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    wheel = next(out.glob("*.whl"))
    sdist = next(out.glob("*.tar.gz"))
    return wheel, sdist


@pytest.mark.slow
def test_version_has_one_source_and_a_changelog_section(dists):
    wheel, sdist = dists
    assert f"-{tp.__version__}-" in wheel.name
    assert sdist.name.endswith(f"-{tp.__version__}.tar.gz")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog or f"## [{tp.__version__}]" in changelog


@pytest.mark.slow
def test_twine_check(dists):
    pytest.importorskip("twine")
    wheel, sdist = dists
    out = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        check=False,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_distributions_contain_everything(dists):
    wheel, sdist = dists
    names = set(zipfile.ZipFile(wheel).namelist())
    src = ROOT / "src"
    expected = {
        p.relative_to(src).as_posix()
        for p in src.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    missing = expected - names
    assert not missing, f"missing from the wheel: {sorted(missing)}"
    assert "touchpoint/py.typed" in names
    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    for required in ("mkdocs.yml", "docs/index.md", "docs/tour.md", "CHANGELOG.md", "LICENSE"):
        assert required in members, required


@pytest.mark.slow
def test_wheel_installs_into_fresh_venv_and_runs_the_tour(dists, tmp_path):
    wheel, _ = dists
    # the fresh environment must not see this checkout through PYTHONPATH
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    install = subprocess.run(
        [
            *(str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"),
            f"{wheel}[pandas,plot]",  # what the tour uses
        ],
        env=env,
        capture_output=True,
        check=False,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    run = subprocess.run(
        [str(py), "-c", CHECK],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"touchpoint {tp.__version__}"
    tour = subprocess.run(
        [str(py), "-c", RUN_TOUR, str(ROOT / "docs" / "tour.md")],
        env=env | {"TOUCHPOINT_PROGRESS": "0"},
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=180,
    )
    assert tour.returncode == 0, tour.stderr[-3000:]
    assert tour.stdout.strip().endswith("tour ok")
