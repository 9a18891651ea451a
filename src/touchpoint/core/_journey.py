"""The domain model: stages, touchpoints and journeys.

A :class:`Journey` is a thin, validating wrapper around a
:class:`networkx.DiGraph`: one node per touchpoint (node attributes carry the
:class:`Touchpoint` fields) and weighted edges (``count`` and ``probability``).
The graph is the single source of truth; the wrapper only guards it.
"""

from __future__ import annotations

import html
import json
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import networkx as nx

from touchpoint.exceptions import (
    UnknownStageError,
    UnknownTouchpointError,
    ValidationError,
)

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["Journey", "Stage", "Touchpoint"]

Kind = Literal["digital", "physical", "hybrid"]
_KINDS = ("digital", "physical", "hybrid")
_JSON_FORMAT = "touchpoint.journey/1"


def _non_empty_str(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"'{attribute.name}' must be a non-empty string (got {value!r})."
        raise ValidationError(msg)


def _optional_str(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        msg = f"'{attribute.name}' must be None or a non-empty string (got {value!r})."
        raise ValidationError(msg)


@attrs.frozen(order=False)
class Stage:
    """A stage of the customer journey (awareness, purchase, loyalty, ...).

    Stages sort by ``order``, then by name.

    Parameters
    ----------
    name : str
        Unique name of the stage.
    order : int
        Position of the stage in the journey (smaller comes first).
    description : str
        Free text.

    Examples
    --------
    >>> a, b = Stage("purchase", 3), Stage("awareness", 1)
    >>> sorted([a, b])[0].name
    'awareness'
    >>> a
    Stage(name='purchase', order=3, description='')
    """

    name: str = attrs.field(validator=_non_empty_str)
    order: int = attrs.field(default=0, converter=int)
    description: str = attrs.field(default="", kw_only=True)

    def _key(self) -> tuple[int, str]:
        return (self.order, self.name)

    def __lt__(self, other: Stage) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: Stage) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: Stage) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: Stage) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self._key() >= other._key()


def _stage_name(value: Stage | str | None) -> str | None:
    return value.name if isinstance(value, Stage) else value


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value or {}))


def _kind_validator(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in _KINDS:
        msg = f"'{attribute.name}' must be one of {_KINDS} (got {value!r})."
        raise ValidationError(msg)


@attrs.frozen(eq=True)
class Touchpoint:
    """A moment where the customer meets the company.

    Hashable by ``name``; ``stage`` is stored as the stage's name.

    Parameters
    ----------
    name : str
        Unique name, as it appears in the event log.
    stage : Stage or str, optional
        The journey stage the touchpoint belongs to.
    channel : str, optional
        Channel (``"web"``, ``"store"``, ``"email"``, ...).
    kind : {"digital", "physical", "hybrid"}
        Digital or physical touchpoint.
    key : bool
        Whether this is a *key* touchpoint (one that decides the journey).
    attributes : mapping
        Any further JSON-serialisable attributes.

    Examples
    --------
    >>> t = Touchpoint("checkout", stage="purchase", channel="web")
    >>> t
    Touchpoint(name='checkout', stage='purchase', channel='web', kind='digital', key=False)
    >>> t == Touchpoint("checkout", stage=Stage("purchase", 3), channel="web")
    True
    """

    name: str = attrs.field(validator=_non_empty_str)
    stage: str | None = attrs.field(
        default=None, converter=_stage_name, validator=_optional_str, kw_only=True
    )
    channel: str | None = attrs.field(default=None, validator=_optional_str, kw_only=True)
    kind: Kind = attrs.field(default="digital", validator=_kind_validator, kw_only=True)
    key: bool = attrs.field(default=False, converter=bool, kw_only=True)
    attributes: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False, repr=False, kw_only=True
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, as used in JSON and in graph node attributes."""
        return {
            "name": self.name,
            "stage": self.stage,
            "channel": self.channel,
            "kind": self.kind,
            "key": self.key,
            "attributes": dict(self.attributes),
        }


_NODE_FIELDS = ("stage", "channel", "kind", "key", "attributes")


class Journey:
    """A customer journey: stages, touchpoints and the transitions between them.

    The truth is :attr:`graph`, a :class:`networkx.DiGraph` with one node per
    touchpoint (attributes ``stage``, ``channel``, ``kind``, ``key``,
    ``attributes``) and edges carrying ``count`` and ``probability`` (the share
    of the source's outgoing count). Stages live in ``graph.graph["stages"]``.

    Parameters
    ----------
    stages : iterable of Stage or str
        The stages (strings get ``order`` from their position).
    touchpoints : iterable of Touchpoint or str
        The touchpoints; each touchpoint's stage must be one of ``stages``.
    name : str
        Name of the journey.

    Examples
    --------
    >>> from touchpoint.stages import CUSTOMER_LIFECYCLE
    >>> j = Journey(stages=CUSTOMER_LIFECYCLE, name="shop")
    >>> j.add_touchpoint(Touchpoint("ad", stage="awareness", channel="social"))
    >>> j.add_touchpoint(Touchpoint("checkout", stage="purchase", channel="web"))
    >>> j.add_transition("ad", "checkout", count=3)
    >>> j.graph.edges["ad", "checkout"]
    {'count': 3, 'probability': 1.0}
    >>> j.add_transition("ad", "store")
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.UnknownTouchpointError: unknown touchpoint 'store' in add_transition(); \
known touchpoints: 'ad', 'checkout'. Add it first with add_touchpoint().
    """

    def __init__(
        self,
        stages: Iterable[Stage | str] = (),
        touchpoints: Iterable[Touchpoint | str] = (),
        name: str = "",
    ) -> None:
        self.graph: nx.DiGraph[str] = nx.DiGraph(name=name, stages={})
        for i, stage in enumerate(stages):
            self.add_stage(stage if isinstance(stage, Stage) else Stage(stage, i))
        for tp in touchpoints:
            self.add_touchpoint(tp)

    # -- basic properties -------------------------------------------------
    @property
    def name(self) -> str:
        """Name of the journey (``graph.graph["name"]``)."""
        return str(self.graph.graph.get("name", ""))

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages, sorted by order."""
        return tuple(sorted(self._stage_map().values()))

    @property
    def touchpoints(self) -> tuple[Touchpoint, ...]:
        """The touchpoints, in insertion order."""
        return tuple(self.touchpoint(n) for n in self.graph.nodes)

    def _stage_map(self) -> dict[str, Stage]:
        stages: dict[str, Stage] = self.graph.graph.setdefault("stages", {})
        return stages

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.graph

    def __iter__(self) -> Iterator[Touchpoint]:
        return iter(self.touchpoints)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Journey):
            return NotImplemented
        return (
            self.name == other.name
            and self.stages == other.stages
            and self.touchpoints == other.touchpoints
            and dict(self.graph.edges.items()) == dict(other.graph.edges.items())
        )

    __hash__ = None  # type: ignore[assignment]  # mutable container

    def __repr__(self) -> str:
        return (
            f"Journey(name={self.name!r}, stages={len(self.stages)}, "
            f"touchpoints={len(self)}, transitions={self.graph.number_of_edges()})"
        )

    # -- building ---------------------------------------------------------
    def add_stage(self, stage: Stage | str, order: int | None = None) -> None:
        """Add a stage (a :class:`Stage` or a name plus ``order``)."""
        if not isinstance(stage, Stage):
            stage = Stage(stage, len(self._stage_map()) if order is None else order)
        stages = self._stage_map()
        if stage.name in stages and stages[stage.name] != stage:
            msg = f"stage {stage.name!r} already exists with a different definition."
            raise ValidationError(msg)
        stages[stage.name] = stage

    def add_touchpoint(self, touchpoint: Touchpoint | str, **fields: Any) -> None:
        """Add a touchpoint; its stage must already be in the journey.

        ``fields`` are passed to :class:`Touchpoint` when a name is given.
        """
        if not isinstance(touchpoint, Touchpoint):
            touchpoint = Touchpoint(touchpoint, **fields)
        elif fields:
            touchpoint = attrs.evolve(touchpoint, **fields)
        if touchpoint.stage is not None and touchpoint.stage not in self._stage_map():
            known = ", ".join(repr(s.name) for s in self.stages) or "none"
            msg = (
                f"touchpoint {touchpoint.name!r} has unknown stage {touchpoint.stage!r}; "
                f"known stages: {known}. Add it first with add_stage()."
            )
            raise UnknownStageError(msg)
        if touchpoint.name in self.graph and self.touchpoint(touchpoint.name) != touchpoint:
            msg = f"touchpoint {touchpoint.name!r} already exists with a different definition."
            raise ValidationError(msg)
        data = touchpoint.to_dict()
        del data["name"]
        self.graph.add_node(touchpoint.name, **data)

    def _require(self, name: str, where: str) -> None:
        if name not in self.graph:
            known = ", ".join(repr(n) for n in list(self.graph.nodes)[:20])
            more = ", ..." if len(self) > 20 else ""
            msg = (
                f"unknown touchpoint {name!r} in {where}; known touchpoints: "
                f"{known or 'none'}{more}. Add it first with add_touchpoint()."
            )
            raise UnknownTouchpointError(msg)

    def add_transition(self, a: str, b: str, count: int = 1) -> None:
        """Record ``count`` moves from touchpoint ``a`` to ``b``.

        Both touchpoints must exist. Edge ``probability`` values of ``a`` are
        recomputed as ``count / sum of a's outgoing counts``.
        """
        self._require(a, "add_transition()")
        self._require(b, "add_transition()")
        if int(count) != count or count < 0:
            msg = f"'count' must be a non-negative integer (got {count!r})."
            raise ValidationError(msg)
        old = self.graph.edges[a, b]["count"] if self.graph.has_edge(a, b) else 0
        self.graph.add_edge(a, b, count=old + int(count), probability=0.0)
        self._renormalise(a)

    def _renormalise(self, a: str) -> None:
        out = self.graph.out_edges(a, data=True)
        total = sum(d["count"] for _, _, d in out)
        for _, _, d in out:
            d["probability"] = d["count"] / total if total else 0.0

    # -- queries ----------------------------------------------------------
    def touchpoint(self, name: str) -> Touchpoint:
        """The :class:`Touchpoint` called ``name`` (rebuilt from the graph)."""
        self._require(name, "touchpoint()")
        data = self.graph.nodes[name]
        return Touchpoint(name, **{k: data[k] for k in _NODE_FIELDS if k in data})

    def stage_of(self, name: str) -> Stage | None:
        """The :class:`Stage` of touchpoint ``name`` (``None`` when it has none)."""
        self._require(name, "stage_of()")
        stage = self.graph.nodes[name].get("stage")
        return None if stage is None else self._stage_map()[stage]

    def touchpoints_in(self, stage: Stage | str) -> tuple[Touchpoint, ...]:
        """The touchpoints of one stage.

        Examples
        --------
        >>> j = Journey(stages=["awareness", "purchase"], touchpoints=[
        ...     Touchpoint("ad", stage="awareness"), Touchpoint("pay", stage="purchase")])
        >>> [t.name for t in j.touchpoints_in("purchase")]
        ['pay']
        """
        name = _stage_name(stage)
        if name not in self._stage_map():
            msg = f"unknown stage {name!r}; known stages: {[s.name for s in self.stages]}."
            raise UnknownStageError(msg)
        return tuple(t for t in self.touchpoints if t.stage == name)

    def probability(self, a: str, b: str) -> float:
        """Share of ``a``'s outgoing transitions that go to ``b`` (0 if none)."""
        self._require(a, "probability()")
        self._require(b, "probability()")
        if not self.graph.has_edge(a, b):
            return 0.0
        return float(self.graph.edges[a, b]["probability"])

    def paths(
        self, source: str | None = None, target: str | None = None, cutoff: int | None = None
    ) -> list[tuple[str, ...]]:
        """Simple paths through the designed journey.

        Without ``source`` the paths start at every touchpoint without incoming
        transitions; without ``target`` they end at every touchpoint without
        outgoing transitions. ``cutoff`` limits the number of transitions.

        Examples
        --------
        >>> j = Journey(touchpoints=["ad", "site", "store", "buy"])
        >>> for a, b in [("ad", "site"), ("ad", "store"), ("site", "buy"), ("store", "buy")]:
        ...     j.add_transition(a, b)
        >>> j.paths()
        [('ad', 'site', 'buy'), ('ad', 'store', 'buy')]
        """
        g = self.graph
        sources = [source] if source is not None else [n for n in g if g.in_degree(n) == 0]
        targets = [target] if target is not None else [n for n in g if g.out_degree(n) == 0]
        for n in sources + targets:
            self._require(n, "paths()")
        out: list[tuple[str, ...]] = []
        for s in sources:
            out.extend(tuple(p) for p in nx.all_simple_paths(g, s, targets, cutoff=cutoff))
            if s in targets:
                out.append((s,))
        return sorted(set(out))

    def subgraph(self, stage: Stage | str | Iterable[Stage | str]) -> Journey:
        """A new Journey with only the touchpoints of the given stage(s)."""
        wanted = (
            {_stage_name(stage)}
            if isinstance(stage, Stage | str)
            else {_stage_name(s) for s in stage}
        )
        for w in wanted:
            if w not in self._stage_map():
                msg = f"unknown stage {w!r}; known stages: {[s.name for s in self.stages]}."
                raise UnknownStageError(msg)
        sub = Journey(
            stages=[s for s in self.stages if s.name in wanted],
            touchpoints=[t for t in self.touchpoints if t.stage in wanted],
            name=self.name,
        )
        for a, b, d in self.graph.edges(data=True):
            if a in sub and b in sub:
                sub.add_transition(a, b, count=d["count"])
        return sub

    # -- construction from data ------------------------------------------
    @classmethod
    def from_events(
        cls,
        log: EventLog,
        *,
        design: Journey | None = None,
        name: str = "",
    ) -> Journey:
        """Build a journey whose edges are the observed consecutive transitions.

        Parameters
        ----------
        log : EventLog
            The events; consecutive events of one journey form a transition.
        design : Journey, optional
            Stages and touchpoint definitions to use; defaults to the log's
            own design (``log.design``) or bare touchpoints.
        name : str
            Name of the new journey.

        Examples
        --------
        >>> from touchpoint import EventLog
        >>> log = EventLog.from_records(
        ...     [{"id": 1, "tp": "ad", "t": 0}, {"id": 1, "tp": "buy", "t": 1},
        ...      {"id": 2, "tp": "ad", "t": 0}, {"id": 2, "tp": "site", "t": 5}],
        ...     journey="id", touchpoint="tp", time="t")
        >>> j = Journey.from_events(log)
        >>> j.probability("ad", "buy"), j.graph.edges["ad", "site"]["count"]
        (0.5, 1)
        """
        import numpy as np

        design = design if design is not None else log.design
        names = log.touchpoint_names
        if design is not None:
            j = cls(stages=design.stages, name=name or design.name)
            for t in design.touchpoints:
                j.add_touchpoint(t)
        else:
            j = cls(name=name)
        for n in names:
            if n not in j:
                j.add_touchpoint(n)
        a, b = log.transition_pairs()
        k = len(names)
        if len(a):
            pair_counts = np.bincount(a.astype(np.int64) * k + b, minlength=k * k)
            for code in np.flatnonzero(pair_counts):
                src, dst = divmod(int(code), k)
                j.graph.add_edge(
                    names[src], names[dst], count=int(pair_counts[code]), probability=0.0
                )
            for n in j.graph.nodes:
                j._renormalise(n)
        return j

    # -- serialisation ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (format ``touchpoint.journey/1``)."""
        return {
            "format": _JSON_FORMAT,
            "name": self.name,
            "stages": [
                {"name": s.name, "order": s.order, "description": s.description}
                for s in self.stages
            ],
            "touchpoints": [t.to_dict() for t in self.touchpoints],
            "transitions": [
                {"source": a, "target": b, "count": int(d.get("count", 0))}
                for a, b, d in self.graph.edges(data=True)
            ],
        }

    def to_json(self, path: str | None = None, *, indent: int | None = 2) -> str:
        """Serialise to JSON (and write it to ``path`` when given).

        Examples
        --------
        >>> j = Journey(stages=["awareness"], touchpoints=[Touchpoint("ad", stage="awareness")])
        >>> Journey.from_json(j.to_json()) == j
        True
        """
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Journey:
        """Inverse of :meth:`to_dict`; validates every field, executes nothing."""
        if not isinstance(data, Mapping) or data.get("format") != _JSON_FORMAT:
            got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            msg = f"not a touchpoint journey document: 'format' must be {_JSON_FORMAT!r} (got {got!r})."
            raise ValidationError(msg)
        try:
            stages = [
                Stage(s["name"], s.get("order", i), description=s.get("description", ""))
                for i, s in enumerate(data.get("stages", []))
            ]
            tps = [
                Touchpoint(
                    t["name"],
                    stage=t.get("stage"),
                    channel=t.get("channel"),
                    kind=t.get("kind", "digital"),
                    key=t.get("key", False),
                    attributes=t.get("attributes") or {},
                )
                for t in data.get("touchpoints", [])
            ]
            j = cls(stages=stages, touchpoints=tps, name=str(data.get("name", "")))
            for e in data.get("transitions", []):
                j.add_transition(e["source"], e["target"], count=e.get("count", 1))
        except (KeyError, TypeError) as exc:
            if isinstance(exc, UnknownTouchpointError):
                raise
            msg = f"malformed journey document: {exc!r}."
            raise ValidationError(msg) from exc
        return j

    @classmethod
    def from_json(cls, text_or_path: str) -> Journey:
        """Load a journey from a JSON string or file path (plain JSON only)."""
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            with open(text_or_path, encoding="utf-8") as fh:
                text = fh.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"journey JSON is not valid JSON: {exc}."
            raise ValidationError(msg) from exc
        return cls.from_dict(data)

    def to_graphml(self, path: str) -> None:
        """Write the graph as GraphML (node attributes flattened; None becomes "")."""
        g: nx.DiGraph[str] = nx.DiGraph()
        g.graph["name"] = self.name
        for n, d in self.graph.nodes(data=True):
            g.add_node(
                n,
                stage=d.get("stage") or "",
                channel=d.get("channel") or "",
                kind=d.get("kind", "digital"),
                key=bool(d.get("key", False)),
                attributes=json.dumps(dict(d.get("attributes") or {})),
            )
        for a, b, d in self.graph.edges(data=True):
            g.add_edge(a, b, count=int(d["count"]), probability=float(d["probability"]))
        nx.write_graphml(g, path)

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                *(html.escape(str(x)) for x in (t.name, t.stage or "", t.channel or "", t.kind))
            )
            for t in self.touchpoints
        )
        return (
            f"<div><strong>Journey {html.escape(self.name)}</strong>: {len(self.stages)} stages, "
            f"{len(self)} touchpoints, {self.graph.number_of_edges()} transitions"
            "<table><thead><tr><th>touchpoint</th><th>stage</th><th>channel</th><th>kind</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
