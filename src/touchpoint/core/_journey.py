"""The domain model: stages, touchpoints and journeys.

A :class:`Journey` is a :class:`networkx.DiGraph`: one node per touchpoint
(node attributes carry the :class:`Touchpoint` fields) and weighted edges
(``count`` and ``probability``). Its domain methods validate; everything
networkx does with a graph it does with a journey.
"""

from __future__ import annotations

import copy
import html
import json
import math
import numbers
import os
import types
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import networkx as nx

from touchpoint._lib import checks as ck
from touchpoint.core._journey_files import load_json, read_graphml, read_text
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
        raise ck.error(attribute.name, "a non-empty string", value)


def _optional_str(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ck.error(attribute.name, "None or a non-empty string", value)


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
        raise ck.error(attribute.name, f"one of {_KINDS}", value)


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
_EDGE_FIELDS = ("count", "probability")
_GRAPH_FIELDS = ("name", "stages")
# graph attributes GraphML files carry for the format, not for the journey
_GRAPHML_ONLY = ("touchpoint_format", "node_default", "edge_default")
_FROZEN_MSG = "Frozen graph can't be modified"

if TYPE_CHECKING:
    from typing import TypeAlias

    from networkx.classes.graph import _NBunch
    from typing_extensions import Self

    _DiGraph: TypeAlias = nx.DiGraph[str]
else:  # networkx classes are not subscriptable at run time
    _DiGraph = nx.DiGraph


def _count(data: Mapping[str, Any]) -> int:
    """An edge's ``count``; an edge added with plain ``add_edge`` counts once."""
    return int(data.get("count", 1))


def _extras(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """The attributes networkx users added beside touchpoint's own fields."""
    return {k: v for k, v in data.items() if k not in known}


def _is_graph_data(value: object) -> bool:
    """Whether ``value`` is networkx graph input rather than an iterable of stages."""
    if isinstance(value, nx.Graph | Mapping) or hasattr(value, "shape"):
        return True
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(isinstance(v, list | tuple) for v in value)
    )


class _GraphAttributes(dict[str, Any]):
    """networkx's graph-attribute dict of a :class:`Journey` (``journey.graph``).

    Up to 0.1, ``journey.graph`` was the wrapped :class:`networkx.DiGraph`.
    Reading a graph method through it (``journey.graph.edges``) keeps working
    for one release with a DeprecationWarning and answers from the journey
    itself, which now *is* the graph.
    """

    _owner: Journey | None = None

    def __getattr__(self, name: str) -> Any:
        owner = self._owner
        if owner is None or name.startswith("_") or not hasattr(nx.DiGraph, name):
            msg = f"'dict' object has no attribute {name!r}"
            raise AttributeError(msg)
        warnings.warn(
            f"journey.graph.{name} is deprecated: a Journey is a networkx.DiGraph, use "
            f"journey.{name} (journey.graph is now networkx's graph-attribute dict).",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(owner, name)

    def __deepcopy__(self, memo: dict[int, Any]) -> _GraphAttributes:
        new = _GraphAttributes()
        memo[id(self)] = new
        if self._owner is not None and id(self._owner) in memo:  # deep copy of the journey
            new._owner = memo[id(self._owner)]
        for k, v in self.items():
            new[copy.deepcopy(k, memo)] = copy.deepcopy(v, memo)
        return new


class Journey(_DiGraph):
    """A customer journey: a :class:`networkx.DiGraph` of touchpoints.

    One node per touchpoint (node attributes ``stage``, ``channel``, ``kind``,
    ``key``, ``attributes``, the :class:`Touchpoint` fields) and edges carrying
    ``count`` and ``probability`` (the share of the source's outgoing count).
    The stages live in the graph attribute ``journey.graph["stages"]``.

    Every networkx algorithm, drawing function and reader/writer takes a
    journey directly. The domain methods (:meth:`add_stage`,
    :meth:`add_touchpoint`, :meth:`add_transition`) validate, and refuse
    unknown names; the plain networkx methods (``add_node``, ``add_edge``,
    ``subgraph``, ``copy``, ...) keep their networkx meaning. An edge added with
    plain ``add_edge`` counts as one transition until it gets a ``count``.
    Copies, subgraphs, reversed copies and ``nx.relabel_nodes`` results are
    journeys with the same stages.

    Parameters
    ----------
    stages : iterable of Stage or str
        The stages (strings get ``order`` from their position). Graph data
        (a networkx graph, a dict of dicts, an edge list, ...) given here
        instead, as networkx passes it, becomes ``incoming_graph_data``.
    touchpoints : iterable of Touchpoint or str
        The touchpoints; each touchpoint's stage must be one of ``stages``.
    name : str
        Name of the journey (``journey.graph["name"]``).
    incoming_graph_data : optional
        Anything :class:`networkx.DiGraph` accepts; nodes and edges are copied
        as they are (no validation).
    **attr
        Further graph attributes, as for :class:`networkx.DiGraph`.

    Examples
    --------
    >>> import networkx as nx
    >>> from touchpoint.stages import CUSTOMER_LIFECYCLE
    >>> j = Journey(stages=CUSTOMER_LIFECYCLE, name="shop")
    >>> j.add_touchpoint(Touchpoint("ad", stage="awareness", channel="social"))
    >>> j.add_touchpoint(Touchpoint("site", stage="consideration", channel="web"))
    >>> j.add_touchpoint(Touchpoint("checkout", stage="purchase", channel="web"))
    >>> j.add_transition("ad", "site", count=3)
    >>> j.add_transition("site", "checkout", count=1)
    >>> j.edges["ad", "site"]
    {'count': 3, 'probability': 1.0}
    >>> nx.shortest_path(j, "ad", "checkout")
    ['ad', 'site', 'checkout']
    >>> j.add_transition("ad", "store")
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.UnknownTouchpointError: unknown touchpoint 'store' in add_transition(); \
known touchpoints: 'ad', 'site', 'checkout'. Add it first with add_touchpoint().
    """

    graph_attr_dict_factory = _GraphAttributes

    def __init__(
        self,
        stages: Iterable[Stage | str] = (),
        touchpoints: Iterable[Touchpoint | str] = (),
        name: str = "",
        *,
        incoming_graph_data: Any = None,
        **attr: Any,
    ) -> None:
        if incoming_graph_data is None and _is_graph_data(stages):
            incoming_graph_data, stages = stages, ()
        super().__init__(incoming_graph_data, **attr)
        if isinstance(self.graph, _GraphAttributes):
            self.graph._owner = self
        if name or "name" not in self.graph:
            self.graph["name"] = name
        if not isinstance(self.graph.get("stages"), Mapping):
            self.graph["stages"] = {}
        for i, stage in enumerate(stages):
            self.add_stage(stage if isinstance(stage, Stage) else Stage(stage, i))
        for tp in touchpoints:
            self.add_touchpoint(tp)

    # -- basic properties -------------------------------------------------
    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages, sorted by order."""
        return tuple(sorted(self._stage_map().values()))

    @property
    def touchpoints(self) -> tuple[Touchpoint, ...]:
        """The touchpoints, in insertion order."""
        return tuple(self.touchpoint(n) for n in self.nodes)

    def _stage_map(self) -> Mapping[str, Stage]:
        # Copies share this mapping (networkx copies graph attributes shallowly),
        # so it is replaced on every change, never changed in place.
        stages = self.graph.get("stages")
        return stages if isinstance(stages, Mapping) else {}

    def to_directed_class(self) -> type[Journey]:
        """Directed copies (``to_directed``) of a journey are journeys."""
        return self.__class__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Journey):
            return NotImplemented
        return (
            self.name == other.name
            and self.stages == other.stages
            and self.touchpoints == other.touchpoints
            and dict(self.nodes.items()) == dict(other.nodes.items())
            and dict(self.edges.items()) == dict(other.edges.items())
            and _extras(self.graph, _GRAPH_FIELDS) == _extras(other.graph, _GRAPH_FIELDS)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable container

    def __repr__(self) -> str:
        return (
            f"Journey(name={self.name!r}, stages={len(self.stages)}, "
            f"touchpoints={len(self)}, transitions={self.number_of_edges()})"
        )

    __str__ = __repr__

    # -- building ---------------------------------------------------------
    def add_stage(self, stage: Stage | str, order: int | None = None) -> None:
        """Add a stage (a :class:`Stage` or a name plus ``order``)."""
        if nx.is_frozen(self):
            raise nx.NetworkXError(_FROZEN_MSG)
        stages = self._stage_map()
        if not isinstance(stage, Stage):
            stage = Stage(stage, len(stages) if order is None else order)
        if stage.name in stages and stages[stage.name] != stage:
            msg = f"stage {stage.name!r} already exists with a different definition."
            raise ValidationError(msg)
        self.graph["stages"] = {**stages, stage.name: stage}

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
        if touchpoint.name in self and self.touchpoint(touchpoint.name) != touchpoint:
            msg = f"touchpoint {touchpoint.name!r} already exists with a different definition."
            raise ValidationError(msg)
        data = touchpoint.to_dict()
        del data["name"]
        self.add_node(touchpoint.name, **data)

    def _require(self, name: str, where: str) -> None:
        if name not in self:
            known = ", ".join(repr(n) for n in list(self.nodes)[:20])
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
        c: object = count  # checked at run time whatever the annotation says
        if (
            isinstance(c, bool)
            or not isinstance(c, numbers.Real)
            or not math.isfinite(c)
            or not float(c).is_integer()
            or c < 0
        ):
            raise ck.error("count", "a non-negative integer", count)
        old = _count(self.edges[a, b]) if self.has_edge(a, b) else 0
        self.add_edge(a, b, count=old + int(count), probability=0.0)
        self._renormalise(a)

    def _renormalise(self, a: str) -> None:
        out = list(self.out_edges(a, data=True))
        total = sum(_count(d) for _, _, d in out)
        for _, _, d in out:
            d["probability"] = _count(d) / total if total else 0.0

    # -- queries ----------------------------------------------------------
    def touchpoint(self, name: str) -> Touchpoint:
        """The :class:`Touchpoint` called ``name`` (rebuilt from its node attributes)."""
        self._require(name, "touchpoint()")
        data = self.nodes[name]
        return Touchpoint(name, **{k: data[k] for k in _NODE_FIELDS if k in data})

    def stage_of(self, name: str) -> Stage | None:
        """The :class:`Stage` of touchpoint ``name`` (``None`` when it has none)."""
        self._require(name, "stage_of()")
        stage = self.nodes[name].get("stage")
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
        if not self.has_edge(a, b):
            return 0.0
        p = self.edges[a, b].get("probability")
        if p is None:  # an edge added with plain networkx add_edge
            total = sum(_count(d) for _, _, d in self.out_edges(a, data=True))
            return _count(self.edges[a, b]) / total if total else 0.0
        return float(p)

    def paths(
        self,
        source: str | None = None,
        target: str | None = None,
        cutoff: int | None = None,
        *,
        max_paths: int = 10_000,
    ) -> list[tuple[str, ...]]:
        """Simple paths through the designed journey.

        Without ``source`` the paths start at every touchpoint without incoming
        transitions; without ``target`` they end at every touchpoint without
        outgoing transitions. ``cutoff`` limits the number of transitions.
        The number of simple paths grows factorially with the number of
        connected touchpoints (a fully connected journey of 11 has almost a
        million between two of them), so at most ``max_paths`` are listed: more
        is an error saying to pass ``cutoff`` or raise ``max_paths``.

        Examples
        --------
        >>> j = Journey(touchpoints=["ad", "site", "store", "buy"])
        >>> for a, b in [("ad", "site"), ("ad", "store"), ("site", "buy"), ("store", "buy")]:
        ...     j.add_transition(a, b)
        >>> j.paths()
        [('ad', 'site', 'buy'), ('ad', 'store', 'buy')]
        """
        sources = [source] if source is not None else [n for n in self if self.in_degree(n) == 0]
        targets = [target] if target is not None else [n for n in self if self.out_degree(n) == 0]
        for n in sources + targets:
            self._require(n, "paths()")
        if len(self) and (not sources or not targets):
            end = (
                "no touchpoint without incoming transitions"
                if not sources
                else ("no touchpoint without outgoing transitions")
            )
            msg = (
                f"paths(): the journey has {end} (every touchpoint lies on a cycle, as in "
                "journeys observed from events), so there is no start or end to list paths "
                "between; pass source= and target=."
            )
            raise ValidationError(msg)
        if cutoff is not None:
            ck.integer("cutoff", cutoff, low=0)
        ck.integer("max_paths", max_paths, low=1)
        out: list[tuple[str, ...]] = []
        for s in sources:
            for p in nx.all_simple_paths(self, s, targets, cutoff=cutoff):
                out.append(tuple(p))
                if len(out) > max_paths:
                    msg = (
                        f"the journey has more than {max_paths} simple paths "
                        f"{'from ' + repr(s) if source is not None else ''}"
                        f"{' to ' + repr(target) if target is not None else ''}; pass "
                        "cutoff= (the most transitions per path) or a larger max_paths=."
                    )
                    raise ValidationError(msg)
            if s in targets:
                out.append((s,))
        return sorted(set(out))

    def _as_stages(self, value: object) -> list[Stage | str] | None:
        """``value`` as stages when it names stages and no touchpoint (old subgraph)."""

        def is_stage(v: object) -> bool:
            return isinstance(v, Stage) or (
                isinstance(v, str) and v in self._stage_map() and v not in self
            )

        if is_stage(value):
            return [value]  # type: ignore[list-item]  # checked by is_stage
        if isinstance(value, list | tuple | set | frozenset) and value:
            items = list(value)
            if all(is_stage(v) for v in items):
                return items
        return None

    def subgraph(self, nodes: _NBunch[str] | Stage | Iterable[Stage]) -> Self:
        """The subgraph view induced by ``nodes``, as :meth:`networkx.Graph.subgraph`.

        The view is a read-only journey with the same stages; ``.copy()`` makes
        it an independent one. Edges keep their attributes, so ``probability``
        stays the share in the whole journey.

        Stage names (that name no touchpoint) are still accepted, as in 0.1,
        with a DeprecationWarning: use :meth:`stage_subgraph` for that.

        Examples
        --------
        >>> j = Journey(touchpoints=["ad", "site", "buy"])
        >>> j.add_transition("ad", "site"); j.add_transition("site", "buy")
        >>> sub = j.subgraph(["ad", "site"])
        >>> type(sub).__name__, list(sub.edges)
        ('Journey', [('ad', 'site')])
        """
        stages = self._as_stages(nodes)
        if stages is not None:
            warnings.warn(
                "Journey.subgraph(stages) is deprecated: subgraph() takes nodes, as in "
                "networkx; use Journey.stage_subgraph(stages).",
                DeprecationWarning,
                stacklevel=2,
            )
            return self.stage_subgraph(stages)
        return super().subgraph(nodes)  # type: ignore[arg-type]  # stages handled above

    def stage_subgraph(self, stage: Stage | str | Iterable[Stage | str]) -> Self:
        """A new, independent journey with only the touchpoints of the given stage(s).

        Probabilities are recomputed inside the new journey.

        Examples
        --------
        >>> j = Journey(stages=["awareness", "purchase"], touchpoints=[
        ...     Touchpoint("ad", stage="awareness"), Touchpoint("mail", stage="awareness"),
        ...     Touchpoint("pay", stage="purchase")])
        >>> j.add_transition("ad", "mail"); j.add_transition("ad", "pay")
        >>> sub = j.stage_subgraph("awareness")
        >>> list(sub.nodes), sub.probability("ad", "mail")
        (['ad', 'mail'], 1.0)
        """
        wanted = (
            {_stage_name(stage)}
            if isinstance(stage, Stage | str)
            else {_stage_name(s) for s in stage}
        )
        for w in wanted:
            if w not in self._stage_map():
                msg = f"unknown stage {w!r}; known stages: {[s.name for s in self.stages]}."
                raise UnknownStageError(msg)
        sub = self.__class__(stages=[s for s in self.stages if s.name in wanted], name=self.name)
        sub.graph.update(_extras(self.graph, _GRAPH_FIELDS))
        sub.add_nodes_from(
            (n, dict(d)) for n, d in self.nodes(data=True) if d.get("stage") in wanted
        )
        sub.add_edges_from(
            (a, b, dict(d)) for a, b, d in self.edges(data=True) if a in sub and b in sub
        )
        for n in sub:
            sub._renormalise(n)
        return sub

    def reverse(self, copy: bool = True) -> Self:
        """The journey with every transition reversed, as :meth:`networkx.DiGraph.reverse`.

        A copy (the default) recomputes ``probability`` as the share of the new
        source's outgoing count; a view (``copy=False``) shows the edges as
        they are.
        """
        rev = super().reverse(copy=copy)
        if copy:
            for n in rev:
                rev._renormalise(n)
        return rev

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
        >>> j.probability("ad", "buy"), j.edges["ad", "site"]["count"]
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
                j.add_edge(names[src], names[dst], count=int(pair_counts[code]), probability=0.0)
            for n in j.nodes:
                j._renormalise(n)
        return j

    # -- serialisation ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (format ``touchpoint.journey/1``).

        Attributes added with networkx beside the touchpoint fields (node,
        edge or graph attributes) are kept under ``"data"``; an edge's
        ``probability`` is written only when it is not ``count`` over the
        source's outgoing count (as in a subgraph, which keeps the whole
        journey's shares).
        """
        touchpoints = []
        for n, d in self.nodes(data=True):
            item = self.touchpoint(n).to_dict()
            if extra := _extras(d, _NODE_FIELDS):
                item["data"] = extra
            touchpoints.append(item)
        transitions = []
        totals = {n: sum(_count(d) for _, _, d in self.out_edges(n, data=True)) for n in self}
        for a, b, d in self.edges(data=True):
            edge: dict[str, Any] = {"source": a, "target": b, "count": _count(d)}
            share = _count(d) / totals[a] if totals[a] else 0.0
            if "probability" in d and float(d["probability"]) != share:
                edge["probability"] = float(d["probability"])  # not the derived share
            if extra := _extras(d, _EDGE_FIELDS):
                edge["data"] = extra
            transitions.append(edge)
        out: dict[str, Any] = {
            "format": _JSON_FORMAT,
            "name": self.name,
            "stages": [
                {"name": s.name, "order": s.order, "description": s.description}
                for s in self.stages
            ],
            "touchpoints": touchpoints,
            "transitions": transitions,
        }
        if extra := _extras(self.graph, _GRAPH_FIELDS):
            out["data"] = extra
        return out

    def to_json(self, path: str | None = None, *, indent: int | None = 2) -> str:
        """Serialise to JSON (and write it to ``path`` when given).

        Examples
        --------
        >>> j = Journey(stages=["awareness"], touchpoints=[Touchpoint("ad", stage="awareness")])
        >>> Journey.from_json(j.to_json()) == j
        True
        """

        def refuse(value: object) -> object:
            msg = (
                f"cannot write {type(value).__name__} value {value!r} to journey JSON; "
                "node, edge and graph attributes must be JSON values."
            )
            raise ValidationError(msg)

        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=refuse)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Journey:
        """Inverse of :meth:`to_dict`; validates every field, executes nothing."""
        obj: object = data  # checked at run time whatever the annotation says
        if not isinstance(obj, Mapping):
            msg = (
                "not a touchpoint journey document: expected a JSON object with "
                f"'format': {_JSON_FORMAT!r} (got {type(data).__name__})."
            )
            raise ValidationError(msg)
        if data.get("format") != _JSON_FORMAT:
            got = data.get("format")
            msg = f"not a touchpoint journey document: 'format' must be {_JSON_FORMAT!r} (got {got!r})."
            raise ValidationError(msg)
        where = "the document"
        try:
            for key in ("stages", "touchpoints", "transitions"):
                if not isinstance(data.get(key, []), list):
                    where = f"{key!r}"
                    raise ck.error(key, "a list", data.get(key))
            stages = []
            for i, st in enumerate(data.get("stages", [])):
                where = f"stages[{i}]"
                order = st.get("order", i)
                if isinstance(order, bool) or not isinstance(order, int):
                    raise ck.error("order", "an integer", order)
                stages.append(Stage(st["name"], order, description=st.get("description", "")))
            tps = []
            for i, t in enumerate(data.get("touchpoints", [])):
                where = f"touchpoints[{i}]"
                tps.append(
                    Touchpoint(
                        t["name"],
                        stage=t.get("stage"),
                        channel=t.get("channel"),
                        kind=t.get("kind", "digital"),
                        key=t.get("key", False),
                        attributes=t.get("attributes") or {},
                    )
                )
            where = "the document"
            j = cls(stages=stages, touchpoints=tps, name=str(data.get("name", "")))
            j.graph.update(dict(data.get("data") or {}))
            for i, t in enumerate(data.get("touchpoints", [])):
                where = f"touchpoints[{i}]"
                j.nodes[t["name"]].update(dict(t.get("data") or {}))
            given: list[tuple[str, str, float]] = []
            for i, e in enumerate(data.get("transitions", [])):
                where = f"transitions[{i}]"
                j.add_transition(e["source"], e["target"], count=e.get("count", 1))
                j.edges[e["source"], e["target"]].update(dict(e.get("data") or {}))
                if e.get("probability") is not None:
                    p = float(e["probability"])
                    if not 0.0 <= p <= 1.0:
                        raise ck.error("probability", "a number in [0, 1]", e["probability"])
                    given.append((e["source"], e["target"], p))
            for a, b, p in given:  # as written (a subgraph keeps the whole journey's shares)
                j.edges[a, b]["probability"] = p
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            text = (
                str(exc) if isinstance(exc, UnknownTouchpointError | ValidationError) else repr(exc)
            )
            msg = f"malformed journey document, {where}: {text}".rstrip(".") + "."
            if isinstance(exc, UnknownTouchpointError):
                raise UnknownTouchpointError(msg) from exc
            raise ValidationError(msg) from exc
        return j

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> Journey:
        """Load a journey from JSON text, or from a file given as a path object.

        A ``str`` is always the JSON text itself and is never opened as a file,
        so content is never taken for a path; read a file with
        :func:`touchpoint.read_journey` or pass a :class:`pathlib.Path`. Only plain
        JSON is read: ``NaN``/``Infinity``, nesting deeper than Python can parse
        and malformed fields are a :class:`~touchpoint.ValidationError`.
        """
        source = None
        if isinstance(text_or_path, os.PathLike):
            source = os.fspath(text_or_path)
            text = read_text(text_or_path)
        elif isinstance(text_or_path, str):
            text = text_or_path
        else:
            raise ck.error("text_or_path", "JSON text (a str) or a path object", text_or_path)
        doc = load_json(text, source)
        if source is None:
            return cls.from_dict(doc)
        try:
            return cls.from_dict(doc)
        except ValidationError as exc:  # name the file too
            raise type(exc)(f"journey file {source!r}: {exc}") from None

    def to_graphml(self, path: str | os.PathLike[str]) -> None:
        """Write the journey as GraphML; :meth:`from_graphml` reads it back whole.

        GraphML holds scalars only, so ``stage`` and ``channel`` of ``None``
        are written as ``""``, the ``attributes`` mapping and the stages as
        JSON text. Further attributes added with networkx must be scalars.
        """
        g: nx.DiGraph[str] = nx.DiGraph()

        def scalars(where: str, data: Mapping[str, Any]) -> dict[str, Any]:
            out = {}
            for k, raw in data.items():
                v = raw.item() if hasattr(raw, "item") else raw  # numpy scalars
                if not isinstance(v, str | int | float | bool):
                    msg = f"cannot write {where} attribute {k!r} = {v!r} to GraphML (scalars only)."
                    raise ValidationError(msg)
                out[k] = v
            return out

        g.graph.update(scalars("graph", _extras(self.graph, _GRAPH_FIELDS)))
        g.graph["name"] = self.name
        g.graph["touchpoint_format"] = _JSON_FORMAT
        g.graph["stages"] = json.dumps(self.to_dict()["stages"], ensure_ascii=False)
        for n, d in self.nodes(data=True):
            t = self.touchpoint(n)
            g.add_node(
                n,
                **scalars(f"node {n!r}", _extras(d, _NODE_FIELDS)),
                stage=t.stage or "",
                channel=t.channel or "",
                kind=t.kind,
                key=t.key,
                attributes=json.dumps(dict(t.attributes), ensure_ascii=False),
            )
        for a, b, d in self.edges(data=True):
            g.add_edge(a, b, **scalars(f"edge {(a, b)!r}", {**d, "count": _count(d)}))
        nx.write_graphml(g, path)

    @classmethod
    def from_graphml(cls, path: str | os.PathLike[str]) -> Journey:
        """Read a journey written by :meth:`to_graphml` (or any GraphML digraph).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> j = Journey(stages=["awareness"], touchpoints=[Touchpoint("ad", stage="awareness")])
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "j.graphml"
        >>> j.to_graphml(p)
        >>> Journey.from_graphml(p) == j
        True
        """
        g = read_graphml(path)
        stages_text = g.graph.get("stages")
        try:
            stage_docs = json.loads(stages_text) if isinstance(stages_text, str) else []
            j = cls(
                stages=[
                    Stage(s["name"], s.get("order", i), description=s.get("description", ""))
                    for i, s in enumerate(stage_docs)
                ],
                name=str(g.graph.get("name", "")),
            )
            j.graph.update(
                {k: v for k, v in g.graph.items() if k not in (*_GRAPH_FIELDS, *_GRAPHML_ONLY)}
            )
            for n, node in g.nodes(data=True):
                d = dict(node)
                stage = d.pop("stage", "") or None
                if stage is not None and stage not in j._stage_map():
                    j.add_stage(stage)  # a GraphML file from elsewhere: stages as found
                attributes = d.pop("attributes", "")
                j.add_touchpoint(
                    Touchpoint(
                        str(n),
                        stage=stage,
                        channel=d.pop("channel", "") or None,
                        kind=d.pop("kind", "digital"),
                        key=d.pop("key", False),
                        attributes=json.loads(attributes) if attributes else {},
                    )
                )
                j.nodes[str(n)].update(d)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            msg = f"malformed journey GraphML {os.fspath(path)!r}: {exc!r}."
            raise ValidationError(msg) from exc
        j.add_edges_from((str(a), str(b), dict(d)) for a, b, d in g.edges(data=True))
        for n in j:
            if any("probability" not in d for _, _, d in j.out_edges(n, data=True)):
                j._renormalise(n)
        return j

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                *(html.escape(str(x)) for x in (t.name, t.stage or "", t.channel or "", t.kind))
            )
            for t in self.touchpoints
        )
        return (
            f"<div><strong>Journey {html.escape(self.name)}</strong>: {len(self.stages)} stages, "
            f"{len(self)} touchpoints, {self.number_of_edges()} transitions"
            "<table><thead><tr><th>touchpoint</th><th>stage</th><th>channel</th><th>kind</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
