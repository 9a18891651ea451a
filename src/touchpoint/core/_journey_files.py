"""Reading journey files: plain JSON (never code) and GraphML, every refusal named (internal).

JSON: a byte order mark is skipped; ``NaN``/``Infinity`` are refused naming
their field; a key given twice in one object is refused naming the key (JSON
parsers keep the last value silently); errors name the file. GraphML: the XML
parser's refusals (entity expansion, external entities: expat stops both) are
a :class:`~touchpoint.exceptions.ValidationError` naming the file.
"""

from __future__ import annotations

import json
import os
from typing import Any

import networkx as nx

from touchpoint.exceptions import ValidationError

__all__ = ["load_json", "read_graphml", "read_text"]


def read_graphml(path: str | os.PathLike[str]) -> Any:
    """``networkx.read_graphml``, its parser's refusals as a ValidationError naming the file.

    expat refuses entity expansion ("billion laughs") and external entities
    safely; what reaches the user is this message, not a raw ``ParseError``.
    """
    from xml.etree.ElementTree import ParseError

    from touchpoint._lib.csv import check_path

    check_path(path)
    try:
        return nx.read_graphml(path)
    except (ParseError, nx.NetworkXError, ValueError, KeyError) as exc:
        if isinstance(exc, ValidationError):
            raise
        msg = f"{os.fspath(path)!r} is not a readable GraphML journey file: {exc}."
        raise ValidationError(msg) from None


def read_text(path: str | os.PathLike[str]) -> str:
    """A journey file's text (UTF-8; a byte order mark, as Windows editors save, is skipped)."""
    from touchpoint._lib.csv import check_path

    check_path(path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return fh.read()
    except UnicodeDecodeError as exc:
        msg = f"{os.fspath(path)!r} is not a UTF-8 journey file: {exc}."
        raise ValidationError(msg) from None
    except OSError as exc:
        msg = f"cannot read journey file {os.fspath(path)!r}: {exc}."
        raise ValidationError(msg) from exc


class _Constant:
    """A ``NaN``/``Infinity`` met while parsing: refused once its field is known."""

    def __init__(self, name: str) -> None:
        self.name = name


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members; a key given twice is refused (JSON would keep the last)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKeyError(k)
        out[k] = v
    return out


def _find_constant(value: Any, where: str = "") -> tuple[str, str] | None:
    """The path and name of the first ``NaN``/``Infinity`` in a parsed document."""
    if isinstance(value, _Constant):
        return where or "the document", value.name
    items: Any = ()
    if isinstance(value, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    for path, v in items:
        found = _find_constant(v, path)
        if found is not None:
            return found
    return None


def load_json(text: str, source: str | None = None) -> Any:
    """``json.loads`` of plain JSON, every refusal naming the field and (``source``) the file.

    A byte order mark is skipped; ``NaN``/``Infinity`` are refused naming their
    field; a key given twice in one object is refused naming the key (JSON
    parsers keep the last value silently); too-deep nesting is invalid JSON.
    """
    what = f"journey file {source!r}" if source is not None else "journey JSON"
    try:
        doc = json.loads(
            text.removeprefix("\ufeff"), parse_constant=_Constant, object_pairs_hook=_unique_keys
        )
    except _DuplicateKeyError as exc:
        msg = f"{what}: key {exc.args[0]!r} is given twice in one object; keep one of them."
        raise ValidationError(msg) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        hint = ""
        if source is None and not text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
            hint = " (a str is JSON text; to read a file use tp.read_journey(path))"
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        msg = f"{what} is not valid JSON: {why}{hint}."
        raise ValidationError(msg) from None
    found = _find_constant(doc)
    if found is not None:
        msg = f"{what} is not plain JSON: {found[0]} is {found[1]}, which JSON has no number for."
        raise ValidationError(msg)
    return doc
