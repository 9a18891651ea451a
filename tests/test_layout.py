"""The package layout of DESIGN.md: one-way imports, no cycles, a light import, shims.

The import graph is read from the source with :mod:`ast` (every ``import`` and
``from ... import`` of a touchpoint module, inside functions too, except under
``if TYPE_CHECKING:``), so a lazy import cannot hide an upward arrow.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import networkx as nx
import pytest

import touchpoint as tp

SRC = Path(__file__).resolve().parents[1] / "src" / "touchpoint"

# Layer of each top-level part; an import may only point to a lower layer (or its own part).
LAYERS = {
    "_version": 0,
    "exceptions": 0,
    "_lib": 1,
    "table": 2,
    "core": 3,
    "stages": 4,
    "io": 4,
    "sources": 4,
    "datasets": 5,
    "metrics": 6,
    "markov": 6,
    "funnels": 6,
    "journeys": 6,
    "drivers": 7,
    "plot": 7,
    "dask": 7,
    "monitoring": 7,
    "scan": 7,
    "report": 8,
    "cli": 9,
    "__main__": 10,
}
SHIMS = {"model": "core", "events": "core", "dropoffs": "funnels", "explore": "funnels"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.update(a.name for a in child.names if a.name.startswith("touchpoint"))
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith(
                "touchpoint"
            ):
                assert child.module is not None
                for a in child.names:  # `from touchpoint.markov import _encoding` names a module
                    full = f"{child.module}.{a.name}"
                    is_mod = (SRC.parent / full.replace(".", "/")).with_suffix(".py").exists()
                    out.add(full if is_mod else child.module)
            visit(child)

    visit(tree)
    return out


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        if name.split(".")[1:2] and name.split(".")[1] in SHIMS:
            continue  # deprecated aliases sit outside the layering on purpose
        g.add_node(name)
        for target in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if target != "touchpoint" and target != name:
                g.add_edge(name, target)
    return g


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_import_graph_has_no_cycle():
    cycles = list(nx.simple_cycles(_graph()))
    assert cycles == []


def test_imports_point_down_and_families_stay_apart():
    bad = []
    for a, b in _graph().edges:
        pa, pb = _part(a), _part(b)
        if pa == pb or not pa:
            continue
        if LAYERS[pb] >= LAYERS[pa]:
            bad.append(f"{a} -> {b}")
    assert bad == [], "imports that point up or sideways:\n" + "\n".join(bad)


def test_every_module_belongs_to_a_layer():
    parts = {_part(m) for m in _graph().nodes} - {""}
    assert parts <= set(LAYERS)


def test_import_touchpoint_is_light():
    code = "import sys, touchpoint; print(sum(m.startswith('touchpoint') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) <= 12


def test_public_names_resolve_and_never_shadow_a_module():
    for name in tp.__all__:
        value = getattr(tp, name)
        if isinstance(value, types.ModuleType):
            assert name in {"datasets", "stages"}, name
    # importing the analysis subpackages must not rebind a public function
    for sub in ("core", "metrics", "markov", "funnels", "report"):
        importlib.import_module(f"touchpoint.{sub}")
    assert callable(tp.funnel) and callable(tp.attribution)
    assert not (SRC / "funnel.py").exists() and not (SRC / "attribution.py").exists()


def test_stub_and_runtime_agree():
    stub = ast.parse((SRC / "__init__.pyi").read_text(encoding="utf-8"))
    names = {
        a.asname or a.name for n in stub.body if isinstance(n, ast.ImportFrom) for a in n.names
    }
    assert names == set(tp.__all__)
    assert set(dir(tp)) >= names


@pytest.mark.parametrize(("old", "new"), sorted(SHIMS.items()))
def test_old_module_paths_warn_and_work(old, new):
    sys.modules.pop(f"touchpoint.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"touchpoint.{old} is deprecated"):
        mod = importlib.import_module(f"touchpoint.{old}")
    target = importlib.import_module(f"touchpoint.{new}")
    assert mod.__all__
    for name in mod.__all__:
        assert getattr(mod, name) is getattr(target, name)


def test_one_literal_alias_per_choice_set():
    """A choice set spelt inline in two places belongs in touchpoint._lib.choices."""
    import ast
    from collections import defaultdict

    where: dict[frozenset[object], list[str]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "choices.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Literal"
            ):
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                values = frozenset(i.value for i in items if isinstance(i, ast.Constant))
                if len(values) > 1:
                    where[values].append(f"{path.relative_to(SRC)}:{node.lineno}")
    repeated = {tuple(sorted(map(str, k))): v for k, v in where.items() if len(v) > 1}
    assert not repeated, repeated


def test_every_public_exception_is_exported():
    import touchpoint as tp
    import touchpoint.exceptions as exc

    public = {n for n in dir(exc) if not n.startswith("_") and isinstance(getattr(exc, n), type)}
    public = {n for n in public if issubclass(getattr(exc, n), (Exception, Warning))}
    assert public - set(tp.__all__) == set(), "catchable as tp.X"
    assert tp.InvalidParameterError is exc.InvalidParameterError


def test_no_function_is_over_100_lines_of_code():
    """Short functions with named phases: a function's lines, its docstring aside."""
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                n = node.end_lineno - node.lineno + 1
                first = node.body[0]
                if ast.get_docstring(node, clean=False) and isinstance(first, ast.Expr):
                    assert first.end_lineno is not None
                    n -= first.end_lineno - first.lineno + 1
                if n > 100:
                    long.append(f"{path.relative_to(SRC)}:{node.name} ({n} lines)")
    assert not long, long
