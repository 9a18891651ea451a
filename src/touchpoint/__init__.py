"""touchpoint: customer-journey modeling with honest statistics.

Touchpoints, stages and journeys (a :class:`Journey` is a networkx graph), a
validated columnar event log, CX metrics with confidence intervals, Markov
journey models, attribution and funnels.

Every public name is importable from here. Only the exceptions load with the
package; everything else loads on first use (PEP 562), from one map of public
name to defining module, read from the imports of ``__init__.pyi`` (which type
checkers read too), so the list of public names exists exactly once.

Examples
--------
>>> import touchpoint as tp
>>> j = tp.Journey(stages=tp.stages.CUSTOMER_LIFECYCLE)
>>> j.add_touchpoint(tp.Touchpoint("ad", stage="awareness"))
>>> len(j)
1
"""

from __future__ import annotations

import importlib
from typing import Any

from touchpoint._version import __version__
from touchpoint.exceptions import (
    DroppedRowsWarning,
    ScaleWarning,
    StatisticalWarning,
    TouchpointError,
    TouchpointWarning,
    UnknownStageError,
    UnknownTouchpointError,
    ValidationError,
)


def _public_map() -> dict[str, str]:
    """Public name -> defining module, from the ``X as X`` imports of ``__init__.pyi``."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).with_name("__init__.pyi").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            for alias in node.names:
                if node.module == "touchpoint":  # a submodule: from touchpoint import stages
                    out[alias.name] = f"touchpoint.{alias.name}"
                else:
                    out[alias.name] = node.module
    return out


_PUBLIC = _public_map()
_LAZY = {name: module for name, module in _PUBLIC.items() if name not in globals()}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'touchpoint' has no attribute {name!r}"
        raise AttributeError(msg)
    mod = importlib.import_module(module)
    value = mod if module == f"touchpoint.{name}" else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(_PUBLIC)  # noqa: PLE0605  (the names live once, in __init__.pyi)

# The eager names are re-exported through __all__ (ruff's F401 cannot see a computed one).
_EAGER = (
    DroppedRowsWarning,
    ScaleWarning,
    StatisticalWarning,
    TouchpointError,
    TouchpointWarning,
    UnknownStageError,
    UnknownTouchpointError,
    ValidationError,
    __version__,
)
