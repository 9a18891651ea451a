"""What every export reader shares: loading files, unifying schemas, fields, building the log.

A reader describes its vendor with a :class:`Vendor` (which fields hold the ids,
the time, the event name, the traffic source, the page, the revenue) and calls
:func:`read_export`. Loading accepts a file, a folder of files, a glob, a list
of paths, or an already loaded arrow table / pandas / polars frame. Files are
Parquet or JSON lines, plain, gzipped (``.gz``) or in a zip of such files (the
shape of Amplitude's export). Several files are unified with arrow's schema
promotion (a field added in a later file is null before it; an integer widened
to a float is a float); a field whose types cannot be unified is refused, naming
it and the two files.
"""

from __future__ import annotations

import contextlib
import glob as _glob
import gzip
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    import pyarrow as pa


__all__ = ["TOUCHPOINTS", "Loaded", "Vendor", "field", "load", "times_ns"]

TouchpointKind = Literal["channel", "event_name", "page"]
TOUCHPOINTS = ("channel", "event_name", "page")
IDENTITIES = ("stitched", "device", "user")
SUFFIXES = (".parquet", ".pq", ".json", ".jsonl", ".ndjson", ".gz", ".zip")
#: Default session timeout where the vendor has no session id (GA4's and Segment's 30 min).
SESSION_GAP_NS = 30 * 60 * 10**9


@attrs.frozen
class Vendor:
    """Where a vendor's export keeps each role: candidate field paths, coalesced in order.

    A path is ``"a.b.c"`` (struct fields) or ``"param:key"`` (a GA4
    ``event_params`` entry). ``required`` fields must exist in every file.
    """

    name: str
    required: tuple[str, ...]
    anonymous: tuple[str, ...]
    user: tuple[str, ...]
    time: tuple[str, ...]
    time_unit: Literal["us", "s", "ms", "text"]
    event: tuple[str, ...]
    session: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    medium: tuple[str, ...] = ()
    campaign: tuple[str, ...] = ()
    page: tuple[str, ...] = ()
    revenue: tuple[str, ...] = ()
    currency: tuple[str, ...] = ()
    params_prefix: str = ""  # where params=[...] live: "param:" (GA4) or "properties."
    also: tuple[str, ...] = ()  # further fields the reader uses (Segment's "type")
    time_zone: str = "UTC"


@attrs.frozen
class Loaded:
    """An export as one arrow table, and where each row came from."""

    table: pa.Table | None  # None once the reader is done with it
    files: tuple[str, ...]
    starts: NDArray[np.int64]  # first row of each file

    def label(self, row: int) -> str:
        """``file <name>, row <k>`` (row within that file) for error messages."""
        k = int(np.searchsorted(self.starts, row, side="right")) - 1
        return f"file {self.files[k]!r}, row {row - int(self.starts[k])}"


# ------------------------------------------------------------------ loading
def _paths(source: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(source, str | Path):
        p = Path(source)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and _is_data(q))
        elif p.exists():
            found = [p]
        else:
            found = sorted(Path(q) for q in _glob.glob(str(source)) if _is_data(Path(q)))
        if not found:
            msg = f"no export files found at {str(source)!r} (expected {', '.join(SUFFIXES)})."
            raise FileNotFoundError(msg)
        return found
    return [q for s in source for q in _paths(s)]


def _is_data(p: Path) -> bool:
    return any(p.name.endswith(s) for s in SUFFIXES)


def _read_json(data: bytes, name: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.json as pj

    if not data.strip():
        return pa.table({})
    try:
        return pj.read_json(io.BytesIO(data))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        msg = f"file {name!r} is not JSON lines that arrow can read: {exc}"
        raise ValidationError(msg) from None


def _read_file(
    p: Path, wanted: set[str] | None = None, required: Sequence[str] = ()
) -> list[tuple[str, pa.Table]]:
    import pyarrow.parquet as pq

    name = p.name
    if name.endswith((".parquet", ".pq")):
        # only the columns the reader uses: a real export carries many more (device, geo, items)
        names = pq.read_schema(p).names
        columns = None if wanted is None else [c for c in names if c in wanted]
        if not all(any(o.split(".")[0] in names for o in r.split("|")) for r in required):
            columns = None  # not this vendor's export: read it all, to say whose it is
        return [(name, pq.read_table(p, columns=columns))]
    if name.endswith(".zip"):
        out = []
        with zipfile.ZipFile(p) as zf:
            for member in sorted(zf.namelist()):
                if member.endswith("/"):
                    continue
                raw = zf.read(member)
                if member.endswith(".gz"):
                    raw = gzip.decompress(raw)
                out.append((f"{name}:{member}", _read_json(raw, f"{name}:{member}")))
        return out
    raw = p.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return [(name, _read_json(raw, name))]


def _from_object(source: Any) -> pa.Table | None:
    import pyarrow as pa

    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    mod = type(source).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(source, preserve_index=False)
    if mod.startswith("polars"):
        return source.to_arrow()
    return None


def load(source: Any, vendor: Vendor, params: Sequence[str] = ()) -> Loaded:
    """Read ``source`` into one arrow table, checking ``vendor``'s required fields per file.

    Parquet files are read for the columns the vendor's fields and ``params`` use only.
    """
    import pyarrow as pa

    table = _from_object(source)
    if table is not None:
        parts = [("(table)", table)]
    elif isinstance(source, str | Path) or (
        isinstance(source, Sequence) and all(isinstance(s, str | Path) for s in source)
    ):
        wanted = {
            path.split(".")[0]
            for path in [
                *_all_paths(vendor),
                *vendor.also,
                *(vendor.params_prefix + p for p in params),
            ]
            + [r for req in vendor.required for r in req.split("|")]
        }
        if vendor.params_prefix == "param:":
            wanted.add("event_params")
        parts = [part for p in _paths(source) for part in _read_file(p, wanted, vendor.required)]
    else:
        ck.fail("source", "a path, a list of paths, or an arrow / pandas / polars table", source)
    parts = [(n, t) for n, t in parts if t.num_columns or t.num_rows]
    if not parts:
        msg = f"{vendor.name}: the export holds no events."
        raise ValidationError(msg)
    for name, t in parts:
        _check_required(t.schema, vendor, name)
    try:
        merged = pa.concat_tables([t for _, t in parts], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise _drift_error(parts, exc) from None
    sizes = np.array([t.num_rows for _, t in parts], dtype=np.int64)
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    return Loaded(merged, tuple(n for n, _ in parts), starts)


def _flat_fields(schema: Any, prefix: str = "") -> dict[str, Any]:
    import pyarrow as pa

    out: dict[str, Any] = {}
    for f in schema:
        out[prefix + f.name] = f.type
        if pa.types.is_struct(f.type):
            out.update(_flat_fields(list(f.type), prefix + f.name + "."))
    return out


def _drift_error(parts: list[tuple[str, pa.Table]], exc: Exception) -> ValidationError:
    first_name, first = parts[0]
    base = _flat_fields(first.schema)
    for name, t in parts[1:]:
        for path, typ in _flat_fields(t.schema).items():
            if path in base and base[path] != typ:
                import pyarrow as pa

                try:
                    pa.concat_tables(
                        [
                            pa.table({"x": pa.nulls(0, base[path])}),
                            pa.table({"x": pa.nulls(0, typ)}),
                        ],
                        promote_options="permissive",
                    )
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                    return ValidationError(
                        f"schema drift: field {path!r} is {base[path]} in file {first_name!r} "
                        f"but {typ} in file {name!r}, and the two types do not unify; cast "
                        "one of them, or read the files separately."
                    )
    return ValidationError(f"schema drift between the export files: {exc}")


def _check_required(schema: Any, vendor: Vendor, name: str) -> None:
    import pyarrow as pa

    fields = _flat_fields(schema)
    missing = []
    for req in vendor.required:
        options = req.split("|")
        if not any(o in fields for o in options):
            missing.append(" or ".join(repr(o) for o in options))
    if missing:
        looks = _guess_vendor(fields)
        hint = f" It looks like a {looks} export: use tp.read_{looks}." if looks else ""
        msg = (
            f"file {name!r} is not a {vendor.name} export: required field(s) "
            f"{', '.join(missing)} missing.{hint}"
        )
        raise ValidationError(msg)
    for path in _all_paths(vendor):
        parts = path.split(".")
        for k in range(1, len(parts)):
            parent = ".".join(parts[:k])
            if parent in fields and not pa.types.is_struct(fields[parent]):
                msg = (
                    f"file {name!r}: field {parent!r} must be a record (struct) holding "
                    f"{parts[k]!r}, got {fields[parent]}."
                )
                raise ValidationError(msg)
    if vendor.params_prefix == "param:" and "event_params" in fields:
        _check_event_params(fields["event_params"], name)


def _check_event_params(typ: Any, name: str) -> None:
    import pyarrow as pa

    ok = (pa.types.is_list(typ) or pa.types.is_large_list(typ)) and pa.types.is_struct(
        typ.value_type
    )
    inner = {f.name: f.type for f in typ.value_type} if ok else {}
    ok = ok and "key" in inner and "value" in inner and pa.types.is_struct(inner["value"])
    if not ok:
        msg = (
            f"file {name!r}: field 'event_params' must be ARRAY<STRUCT<key STRING, value "
            f"STRUCT<string_value, int_value, float_value, double_value>>>, got {typ}."
        )
        raise ValidationError(msg)


_SIGNATURES = {
    "ga4": ("event_timestamp", "user_pseudo_id"),
    "segment": ("messageId",),
    "snowplow": ("domain_userid", "collector_tstamp"),
    "amplitude": ("amplitude_id", "event_type"),
    "mixpanel": ("properties.distinct_id",),
}


def _guess_vendor(fields: dict[str, Any]) -> str | None:
    for vendor, keys in _SIGNATURES.items():
        if all(k in fields for k in keys):
            return vendor
    return None


def _all_paths(vendor: Vendor) -> list[str]:
    roles = (
        vendor.anonymous,
        vendor.user,
        vendor.time,
        vendor.event,
        vendor.session,
        vendor.source,
        vendor.medium,
        vendor.campaign,
        vendor.page,
        vendor.revenue,
        vendor.currency,
    )
    return [p for role in roles for p in role if not p.startswith("param:")]


# ------------------------------------------------------------------- fields
def _struct_path(table: pa.Table, path: str) -> pa.ChunkedArray | None:
    import pyarrow.compute as pc

    parts = path.split(".")
    if parts[0] not in table.column_names:
        return None
    col = table.column(parts[0])
    for part in parts[1:]:
        typ = col.type
        names = [f.name for f in typ] if hasattr(typ, "num_fields") and typ.num_fields else []
        if part not in names:
            return None
        col = pc.struct_field(col, part)
    return col


#: The ``event_params`` index of the last table read (flattened once, then one filter per key).
_PARAMS: dict[str, Any] = {}


def _params_index(
    table: pa.Table,
) -> list[tuple[Any, NDArray[np.int64], NDArray[Any], dict[str, int]]]:
    """Per chunk: the flattened values, each entry's row, its key code and the key codes."""
    import pyarrow.compute as pc

    if _PARAMS.get("table") is table:
        index: list[Any] = _PARAMS["index"]
        return index
    index = []
    for chunk in table.column("event_params").chunks:
        flat = pc.list_flatten(chunk)
        parent = pc.list_parent_indices(chunk).to_numpy().astype(np.int64)
        keys = pc.dictionary_encode(pc.struct_field(flat, "key"))
        codes = keys.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        lookup = {k: i for i, k in enumerate(keys.dictionary.to_pylist())}
        index.append((pc.struct_field(flat, "value"), parent, codes, lookup))
    _PARAMS.clear()
    _PARAMS.update(table=table, index=index)
    return index


def clear_params_cache() -> None:
    """Forget the last table's ``event_params`` index (call when a read ends)."""
    _PARAMS.clear()


def _event_param(table: pa.Table, key: str) -> pa.ChunkedArray | None:
    """One ``event_params`` entry per row (null where absent; the last entry if repeated)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "event_params" not in table.column_names:
        return None
    index = _params_index(table)
    hits = [np.flatnonzero(codes == lookup.get(key, -2)) for _, _, codes, lookup in index]
    # the value fields this key uses anywhere (GA4 fills one of them per entry)
    names = [f.name for f in index[0][0].type] if index else []
    used = [
        name
        for name in names
        if any(
            len(w) and pc.take(pc.struct_field(v, name), pa.array(w)).null_count < len(w)
            for (v, _, _, _), w in zip(index, hits, strict=True)
        )
    ]
    if not used:
        return None
    out: dict[str, list[Any]] = {name: [] for name in used}
    for (value, parent, _, _), where, chunk in zip(
        index, hits, table.column("event_params").chunks, strict=True
    ):
        pos = np.full(len(chunk), -1, dtype=np.int64)
        pos[parent[where]] = where
        take = pa.array(pos, mask=pos < 0)
        for name in used:
            out[name].append(pc.take(pc.struct_field(value, name), take))
    return _coalesce_typed({k: pa.chunked_array(v) for k, v in out.items()})


def _coalesce_typed(cols: dict[str, pa.ChunkedArray]) -> pa.ChunkedArray:
    """GA4's value record as one column: string if any string, float if any float, else int."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "string_value" in cols:
        order = ["string_value", "int_value", "double_value", "float_value"]
        target = pa.string()
    elif "double_value" in cols or "float_value" in cols:
        order = ["double_value", "float_value", "int_value"]
        target = pa.float64()
    else:
        order = ["int_value"]
        target = pa.int64()
    present = [pc.cast(cols[k], target) for k in order if k in cols]
    return pc.coalesce(*present) if len(present) > 1 else present[0]


def field(table: pa.Table, paths: Iterable[str]) -> pa.ChunkedArray | None:
    """The first of ``paths`` present, row-wise coalesced with the later ones (None: none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = []
    for p in paths:
        col = _event_param(table, p[6:]) if p.startswith("param:") else _struct_path(table, p)
        if col is not None and not pa.types.is_null(col.type):
            found.append(col)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    target = found[0].type
    if any(c.type != target for c in found):
        target = pa.string() if any(pa.types.is_string(c.type) for c in found) else pa.float64()
    return pc.coalesce(*(pc.cast(c, target) for c in found))


def _strings(col: pa.ChunkedArray | None, n: int) -> pa.Array:
    """A string column (empty strings as null); all-null when absent."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if col is None:
        return pa.nulls(n, pa.string())
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _shared(arr: pa.Array) -> NDArray[Any]:
    """An object array of a few shared Python strings (the event log codes them by identity)."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(arr)
    table: NDArray[Any] = np.array([*enc.dictionary.to_pylist(), None], dtype=object)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    out: NDArray[Any] = table[codes]
    return out


def page_path(col: pa.ChunkedArray | None, n: int) -> pa.Array:
    """URL paths of page URLs (scheme, host, query and fragment removed)."""
    import pyarrow.compute as pc

    arr = _strings(col, n)
    arr = pc.replace_substring_regex(arr, r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*", "")
    arr = pc.replace_substring_regex(arr, r"[?#].*$", "")
    return pc.if_else(pc.equal(arr, ""), "/", arr)


# --------------------------------------------------------------------- time
def times_ns(
    col: pa.ChunkedArray, unit: str, loaded: Loaded, name: str, on_error: str
) -> NDArray[np.int64]:
    """Event times as int64 UTC nanoseconds (``INT64_MIN`` where missing or bad)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from touchpoint._lib.timeparse import parse_time

    nat = np.iinfo(np.int64).min
    arr = col.combine_chunks()
    if unit in ("us", "s", "ms") and pa.types.is_string(arr.type):
        # BigQuery's JSON export writes INT64 as strings
        with contextlib.suppress(pa.ArrowInvalid):
            arr = pc.cast(arr, pa.int64())
    if pa.types.is_timestamp(arr.type):
        values = arr.cast(pa.timestamp("ns", tz=arr.type.tz)).cast(pa.int64())
        out = values.fill_null(nat).to_numpy().copy()
        bad = np.zeros(len(out), dtype=bool)
    elif unit in ("us", "s", "ms") and (
        pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)
    ):
        scale = {"us": 10**3, "ms": 10**6, "s": 10**9}[unit]
        raw = (
            arr.cast(pa.float64()).fill_null(np.nan).to_numpy()
            if pa.types.is_floating(arr.type)
            else None
        )
        if raw is None:
            ints = arr.cast(pa.int64()).fill_null(0).to_numpy()
            limit = np.iinfo(np.int64).max // scale
            bad = np.abs(ints) > limit
            out = np.where(bad, nat, ints * scale)
            bad |= ~arr.is_valid().to_numpy(zero_copy_only=False)
        else:
            scaled = np.round(raw * scale)
            bad = ~np.isfinite(scaled) | (np.abs(scaled) >= 2**63)
            out = np.where(bad, nat, np.nan_to_num(scaled)).astype(np.int64)
    else:
        parsed = parse_time(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object))
        bad = parsed.missing | parsed.bad | parsed.out_of_range | parsed.empty
        if parsed.values.dtype.kind != "M":
            bad[:] = True
        out = np.where(bad, nat, parsed.values.view(np.int64))
    if bad.any() and on_error == "raise":
        row = int(np.argmax(bad))
        msg = (
            f"{loaded.label(row)}: field {name!r}: missing or unparseable timestamp "
            f"{arr[row].as_py()!r}. Fix the export or pass on_error='drop' to drop and count "
            "bad rows."
        )
        raise ValidationError(msg)
    out[bad] = nat
    result: NDArray[np.int64] = out.astype(np.int64)
    return result
