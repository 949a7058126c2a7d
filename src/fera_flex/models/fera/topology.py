"""Grid topology: a tree of grid nodes with time-varying import/export limits.

FERA asks for grid topology and time-varying limits that OCPI lacks. A
:class:`GridTopology` is one tree (one root), each :class:`GridNode` carries
its capacities [kW] (a constant or a :class:`TimeSeries`; absent = unlimited),
optional per-phase current limits [A], and the EVSE uids attached to it.

Examples
--------
>>> topology = GridTopology.model_validate({"nodes": [
...     {"id": "trafo", "kind": "transformer", "import_capacity_kw": 400},
...     {"id": "feeder-1", "kind": "feeder", "parent": "trafo", "evse_uids": ["E1", "E2"]}]})
>>> topology.root.id, topology.node_of_evse("e2").id
('trafo', 'feeder-1')
>>> topology.parent_indices().tolist()
[-1, 0]
"""

from enum import StrEnum
from typing import Annotated, Self

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from fera_flex.models.fera._base import FeraModel, FiniteFloat, Identifier
from fera_flex.models.fera.series import TimeSeries

__all__ = ["Capacity", "GridNode", "GridTopology", "NodeKind", "Phase"]


class NodeKind(StrEnum):
    """What a grid node is."""

    TRANSFORMER = "transformer"
    FEEDER = "feeder"
    BUILDING_CONNECTION = "building_connection"
    CHARGING_STATION = "charging_station"
    OTHER = "other"


class Phase(StrEnum):
    """An AC phase."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


_NonNegative = Annotated[FiniteFloat, Field(ge=0)]
Capacity = _NonNegative | TimeSeries
"""A capacity [kW] or current limit [A]: a constant or a series over time (values >= 0)."""


class GridNode(FeraModel):
    """One node of the grid tree.

    Parameters
    ----------
    id : str
        Unique node id.
    kind : NodeKind
        Transformer, feeder, building connection, charging station, other.
    parent : str, optional
        Parent node id; absent for the root.
    import_capacity_kw, export_capacity_kw : float or TimeSeries, optional
        Limits on net consumption and net export through the node [kW];
        absent means unlimited.
    phase_current_limit_a : float or TimeSeries, optional
        Limit on the current of each phase through the node [A].
    voltage_v : float, default 230
        Line-to-neutral voltage at the node [V], for current limits.
    evse_uids : list of str
        OCPI EVSE uids attached directly to this node.
    evse_phases : dict, optional
        The phases each EVSE is wired to (phase rotation), by uid; EVSEs not
        listed use L1 (one phase) or all three, after their connector.
    """

    id: Identifier
    kind: NodeKind
    parent: Identifier | None = None
    import_capacity_kw: Capacity | None = None
    export_capacity_kw: Capacity | None = None
    phase_current_limit_a: Capacity | None = None
    voltage_v: Annotated[FiniteFloat, Field(gt=0)] = 230.0
    evse_uids: list[Identifier] = Field(default_factory=list)
    evse_phases: (
        dict[Identifier, Annotated[list[Phase], Field(min_length=1, max_length=3)]] | None
    ) = None

    @model_validator(mode="after")
    def _series_ranges_and_phases(self) -> Self:
        for name in ("import_capacity_kw", "export_capacity_kw", "phase_current_limit_a"):
            value = getattr(self, name)
            if isinstance(value, TimeSeries):
                value.check_range(name, low=0.0)
        attached = {uid.casefold() for uid in self.evse_uids}
        for uid, phases in (self.evse_phases or {}).items():
            if uid.casefold() not in attached:
                raise ValueError(f"evse_phases names EVSE {uid!r}, which is not in evse_uids")
            if len(set(phases)) != len(phases):
                raise ValueError(f"evse_phases[{uid!r}] repeats a phase: {phases}")
        return self


class GridTopology(FeraModel):
    """A grid as one tree of :class:`GridNode`.

    Validated as a whole: duplicate ids, an unknown parent, no root or two
    roots, a cycle, and an EVSE attached to two nodes are all reported in one
    error, each naming the node.
    """

    nodes: Annotated[list[GridNode], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_tree(self) -> Self:
        problems = _tree_problems(self.nodes)
        if problems:
            raise ValueError("grid topology is not one tree: " + "; ".join(problems))
        return self

    @property
    def root(self) -> GridNode:
        """The node without parent."""
        return next(node for node in self.nodes if node.parent is None)

    def node(self, node_id: str) -> GridNode:
        """The node with this id.

        Raises
        ------
        KeyError
            Naming the id, if there is none.
        """
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"grid topology has no node {node_id!r}")

    def node_of_evse(self, evse_uid: str) -> GridNode:
        """The node an EVSE is attached to (uid compared case-insensitively).

        Raises
        ------
        KeyError
            Naming the EVSE, if no node has it.
        """
        folded = evse_uid.casefold()
        for node in self.nodes:
            if any(uid.casefold() == folded for uid in node.evse_uids):
                return node
        raise KeyError(f"no grid node has EVSE {evse_uid!r}")

    def ordered(self) -> list[GridNode]:
        """The nodes root first, every parent before its children (breadth first)."""
        children: dict[str, list[GridNode]] = {}
        for node in self.nodes:
            if node.parent is not None:
                children.setdefault(node.parent, []).append(node)
        order = [self.root]
        for node in order:
            order.extend(children.get(node.id, []))
        return order

    def parent_indices(self) -> NDArray[np.int64]:
        """Parent position of each node in :meth:`ordered` (-1 for the root)."""
        order = self.ordered()
        position = {node.id: index for index, node in enumerate(order)}
        return np.array(
            [-1 if node.parent is None else position[node.parent] for node in order],
            dtype=np.int64,
        )

    def ancestors(self, node_id: str) -> list[GridNode]:
        """The node itself and every node above it, up to the root."""
        chain = [self.node(node_id)]
        while chain[-1].parent is not None:
            chain.append(self.node(chain[-1].parent))
        return chain


def _tree_problems(nodes: list[GridNode]) -> list[str]:
    problems = []
    ids: dict[str, GridNode] = {}
    for node in nodes:
        if node.id in ids:
            problems.append(f"duplicate node id {node.id!r}")
        ids[node.id] = node
    roots = [node.id for node in nodes if node.parent is None]
    if len(roots) != 1:
        problems.append(f"exactly one root (node without parent) is needed, found {roots}")
    for node in nodes:
        if node.parent is not None and node.parent not in ids:
            problems.append(f"node {node.id!r} has unknown parent {node.parent!r}")
    problems.extend(_cycles(ids))
    owner: dict[str, str] = {}
    for node in nodes:
        for uid in node.evse_uids:
            folded = uid.casefold()
            if folded in owner and owner[folded] != node.id:
                problems.append(
                    f"EVSE {uid!r} is attached to nodes {owner[folded]!r} and {node.id!r}"
                )
            elif folded in owner:
                problems.append(f"EVSE {uid!r} is listed twice on node {node.id!r}")
            owner[folded] = node.id
    return problems


def _cycles(ids: dict[str, GridNode]) -> list[str]:
    problems = []
    reported: set[str] = set()
    for start in ids:
        seen = [start]
        current = ids[start].parent
        while current is not None and current in ids:
            if current in seen:
                cycle = seen[seen.index(current) :]
                if not reported.intersection(cycle):
                    problems.append(f"nodes {' -> '.join([*cycle, current])} form a cycle")
                    reported.update(cycle)
                break
            seen.append(current)
            current = ids[current].parent
    return problems
