"""Griffe extension: Sphinx roles in docstrings become cross-reference links on the site.

The docstrings are numpydoc and use Sphinx roles (``:func:`touchpoint.funnel```,
``:class:`~touchpoint.Journey```); mkdocstrings would print them as raw text.
After the package is loaded, every role is rewritten to an optional autorefs
link aimed at the target's *canonical* path (where it is defined), which is
the anchor mkdocstrings registers for it on whatever public page shows it.
Targets outside touchpoint (numpy, networkx) and ones the site does not
document become plain code, never raw role text. ``~`` shows the last name
only, as in Sphinx; ``:func:`title <target>``` keeps its title.

Used from ``mkdocs.yml`` (``extensions: [tools/griffe_sphinx_roles.py]``).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?P<kind>func|class|meth|attr|mod|data|obj|exc|const|type):`(?P<body>[^`]+)`"
)


def _resolve(root: Any, obj: Any, target: str) -> str | None:
    """Canonical path of ``target`` as seen from ``obj``, or None."""
    candidates = [target]
    parent = obj if obj.is_module or obj.is_class else obj.parent
    while parent is not None:
        candidates.append(f"{parent.path}.{target}")
        parent = parent.parent
    candidates.append(f"{root.path}.{target}")
    for path in candidates:
        if not path.startswith(root.path + ".") and path != root.path:
            continue
        try:
            found = root[path[len(root.path) + 1 :]] if path != root.path else root
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        try:
            return str(found.canonical_path)
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
    return None


def rewrite(text: str, root: Any, obj: Any) -> str:
    """``text`` with every role replaced by an autorefs link or plain code."""

    def one(m: re.Match[str]) -> str:
        body = m["body"].strip()
        title, _, target = body.partition(" <")
        if target:
            target = target.rstrip(">").strip()
        else:
            target, title = body, body
        short = title.startswith("~")
        target = target.lstrip("~.")
        title = title.lstrip("~.")
        if short:
            title = title.rsplit(".", 1)[-1]
        if m["kind"] in ("func", "meth") and not title.endswith(")"):
            title += "()"
        code = f"<code>{html.escape(title)}</code>"
        canonical = _resolve(root, obj, target)
        if canonical is None:
            return code
        return f'<autoref identifier="{html.escape(canonical)}" optional>{code}</autoref>'

    return ROLE.sub(one, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles once the whole package is loaded (aliases resolvable)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # noqa: ARG002 - the hook signature
        seen: set[int] = set()

        def walk(obj: Any) -> None:
            if id(obj) in seen or obj.is_alias:
                return
            seen.add(id(obj))
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = rewrite(obj.docstring.value, pkg, obj)
            for member in obj.members.values():
                if not member.is_alias:
                    walk(member)

        walk(pkg)
