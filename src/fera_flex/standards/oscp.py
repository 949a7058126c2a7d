"""OSCP 2.0 capacity forecasts: limits into a problem, a plan's needs and compliance errors out.

The Open Smart Charging Protocol 2.0 (Open Charge Alliance, "OSCP 2.0 -
Specification", FINAL, 2020-10-12) lets a Capacity Provider (a DSO, a site's
energy management) give a Flexibility Provider (the SCSP or CSO running
fera_flex) the capacity of a *group* of assets as time blocks. This module
models the messages that carry them, with the specification's JSON keys:

- :class:`UpdateGroupCapacityForecast` (CP -> FP) and
  :class:`AdjustGroupCapacityForecast` (FP -> CP): ``group_id``, ``type``
  (:class:`CapacityForecastType`) and ``forecasted_blocks``, one or more
  :class:`ForecastedBlock` {``capacity``, ``phase``, ``unit``, ``start_time``,
  ``end_time``};
- :class:`GroupCapacityComplianceError` (FP -> CP): ``message`` and,
  optionally, the ``forecasted_blocks`` concerned. (The specification gives
  this message no ``group_id``; the group is named in the message text.)

Three functions connect them to fera_flex: :func:`with_forecast` reads a
forecast into a problem's node limits, :func:`adjust_forecast` writes the
capacity a plan needs as an adjust request, and :func:`compliance_error`
writes the error for the blocks that cannot be met.

OSCP 2.0 has no extension mechanism, so an unknown or misspelt key is an
error (a forecast whose blocks are silently dropped would lift the limit),
as are a missing key, a wrong type, a negative capacity, a time without a UTC
offset and a block that does not end after it starts; pydantic's
``ValidationError`` names the message, the field and the value.

Conventions
-----------
Sign: OSCP capacities are non-negative magnitudes. A CONSUMPTION (and
FALLBACK_CONSUMPTION) block is the most the group may import, a GENERATION
(and FALLBACK_GENERATION) block the most it may export; inside fera_flex
import is positive, export negative, and both limits are magnitudes too
(``node_capacity_kw``, ``export_capacity_kw``). OPTIMUM blocks are a Capacity
Optimizer's recommendation, not a limit, and are not read as one.

Units and phases of a block, as read by :func:`with_forecast` (the node's
line-to-neutral voltage ``node_voltage_v`` converts between power and current):

========================  =========================================================
``unit`` / ``phase``       limit in the problem
========================  =========================================================
KW or W, ALL               the group's total power [kW] (``/ 1000`` for W)
KW or W, ONE/TWO/THREE     that phase's power: a current limit ``P / V`` [A]
KW or W, UNKNOWN           both of the above (the block may mean either)
A, any phase               a per-phase current limit [A]
WH or KWH                  an error: energy is not a capacity
========================  =========================================================

A :class:`~fera_flex.scheduling.problem.ChargingProblem` carries one current
limit per node that holds on each of its three phases (in both directions), so
a limit given for one phase is applied to all three: conservative, never
looser than the block.

Time: blocks are put on the problem's grid conservatively: a block that covers
any part of a slot limits the whole slot, and where blocks overlap the lowest
capacity holds. A forecast only tightens: every slot keeps the lower of its
existing limit (a physical rating, an earlier forecast) and the blocks, and
slots no block covers keep their limit. To replace a forecast, read the new
one into the problem without the old one. The parts of blocks outside the
horizon are ignored (a CP typically sends the next 24 h, whatever the FP's
horizon).

Written blocks (:func:`adjust_forecast`) are on the plan's grid, equal
neighbouring slots merged, each capacity rounded *up* (KW to 0.1 W, W and A to
one decimal), so a CP that grants them grants at least what the plan needs.
KW and W blocks are the group's total power (phase ALL); A blocks the largest
current on any phase (phase ALL: the limit of every phase).

Examples
--------
>>> import numpy as np
>>> from fera_flex.scenarios import random_problem
>>> problem = random_problem(4, n_slots=8, seed=0)
>>> start = problem.grid.start.isoformat()
>>> forecast = UpdateGroupCapacityForecast.model_validate_json(
...     '{"group_id": "n0", "type": "CONSUMPTION", "forecasted_blocks": ['
...     f'{{"capacity": 7500, "phase": "ALL", "unit": "W", "start_time": "{start}",'
...     ' "end_time": "2100-01-01T00:00:00Z"}]}')
>>> limited = with_forecast(problem, forecast)
>>> float(limited.node_capacity_kw[0].max())
7.5
>>> UpdateGroupCapacityForecast.model_validate({**forecast.model_dump(), "groupId": "n0"})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for UpdateGroupCapacityForecast
groupId
  Extra inputs are not permitted [type=extra_forbidden, input_value='n0', input_type=str]
...
"""

import math
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Self

import numpy as np
from numpy.typing import NDArray
from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, Strict, model_validator

from fera_flex import units
from fera_flex._time import from_epoch_s
from fera_flex.errors import InputError
from fera_flex.models._scalars import FiniteNumber, require_order
from fera_flex.models._wire import WireModel
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.verify import DEFAULT_TOLERANCE, phase_currents_a

__all__ = [
    "AdjustGroupCapacityForecast",
    "CapacityForecastType",
    "ForecastedBlock",
    "ForecastedBlockUnit",
    "GroupCapacityComplianceError",
    "GroupCapacityForecast",
    "PhaseIndicator",
    "UpdateGroupCapacityForecast",
    "adjust_forecast",
    "compliance_error",
    "with_forecast",
]


class CapacityForecastType(StrEnum):
    """What a capacity forecast limits (``type`` of a group capacity forecast)."""

    CONSUMPTION = "CONSUMPTION"  # the most the group may import
    GENERATION = "GENERATION"  # the most the group may export
    FALLBACK_CONSUMPTION = "FALLBACK_CONSUMPTION"  # import limit while the CP is offline
    FALLBACK_GENERATION = "FALLBACK_GENERATION"  # export limit while the CP is offline
    OPTIMUM = "OPTIMUM"  # a Capacity Optimizer's recommendation, not a limit


class PhaseIndicator(StrEnum):
    """The phase(s) a block's capacity is for."""

    UNKNOWN = "UNKNOWN"
    ONE = "ONE"
    TWO = "TWO"
    THREE = "THREE"
    ALL = "ALL"


class ForecastedBlockUnit(StrEnum):
    """The unit of a block's capacity."""

    A = "A"
    W = "W"
    KW = "KW"
    WH = "WH"
    KWH = "KWH"


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> object:
    """Let through datetimes and RFC 3339 date-time strings (no epoch numbers, no bare dates)."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2026-03-02T08:00:00Z")


_Capacity = Annotated[FiniteNumber, Field(ge=0.0)]
_DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
_Text = Annotated[str, Strict(), Field(min_length=1)]


class OscpModel(WireModel):
    """Base of the OSCP 2.0 messages: snake_case keys as in the specification, no unknown keys."""

    model_config = ConfigDict(extra="forbid")


class ForecastedBlock(OscpModel):
    """One time block of a capacity forecast.

    Attributes
    ----------
    capacity : float
        The capacity, >= 0, in ``unit`` [A, W or kW].
    phase : PhaseIndicator
        The phase(s) it is for.
    unit : ForecastedBlockUnit
        Its unit.
    start_time, end_time : datetime
        The block ``[start_time, end_time)``; RFC 3339 with a UTC offset.
    """

    capacity: _Capacity
    phase: PhaseIndicator
    unit: ForecastedBlockUnit
    start_time: _DateTime
    end_time: _DateTime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        require_order("start_time", self.start_time, "end_time", self.end_time)
        return self


class GroupCapacityForecast(OscpModel):
    """The fields the Update and Adjust group capacity forecasts share.

    Attributes
    ----------
    group_id : str
        The group of assets the forecast is for.
    type : CapacityForecastType
        What the capacities limit.
    forecasted_blocks : list of ForecastedBlock
        One or more blocks.
    """

    group_id: _Text
    type: CapacityForecastType
    forecasted_blocks: list[ForecastedBlock] = Field(min_length=1)


class UpdateGroupCapacityForecast(GroupCapacityForecast):
    """The capacity a Capacity Provider gives a group (CP -> FP, and FP -> CO)."""


class AdjustGroupCapacityForecast(GroupCapacityForecast):
    """The capacity a Flexibility Provider asks for a group (FP -> CP)."""


class GroupCapacityComplianceError(OscpModel):
    """A Flexibility Provider cannot comply with a capacity forecast (FP -> CP).

    Attributes
    ----------
    message : str
        Why, in words.
    forecasted_blocks : list of ForecastedBlock, optional
        The blocks concerned (one or more when present).
    """

    message: _Text
    forecasted_blocks: list[ForecastedBlock] | None = Field(default=None, min_length=1)


_EXPORT_TYPES = (CapacityForecastType.GENERATION, CapacityForecastType.FALLBACK_GENERATION)
_ROUND_UP_DECIMALS = {ForecastedBlockUnit.KW: 4, ForecastedBlockUnit.W: 1, ForecastedBlockUnit.A: 1}


def with_forecast(
    problem: ChargingProblem,
    forecast: GroupCapacityForecast,
    *,
    nodes: Mapping[str, int | str] | None = None,
) -> ChargingProblem:
    """The problem with a capacity forecast's blocks as limits of the group's node.

    Parameters
    ----------
    problem : ChargingProblem
        The problem to limit (not changed).
    forecast : UpdateGroupCapacityForecast or AdjustGroupCapacityForecast
        The forecast, of a limit type (not OPTIMUM).
    nodes : mapping of str to int or str, optional
        Group id -> node (index or id); without it the group id is a node id.

    Returns
    -------
    ChargingProblem
        A new problem: the node's import (CONSUMPTION types) or export
        (GENERATION types) limit, and its per-phase current limit where a
        block needs one, lowered to the blocks (see the module notes).

    Raises
    ------
    InputError
        For an OPTIMUM forecast, a block in WH or KWH, or a group without a node.
    """
    k, export = _target(problem, forecast, nodes, "with_forecast")
    power_kw = np.full(problem.n_slots, np.inf)
    current_a = np.full(problem.n_slots, np.inf)
    for _, slots, limits in _block_limits(problem, k, forecast):
        for kind, value in limits if slots is not None else ():
            limit = power_kw if kind == "kw" else current_a
            limit[slots] = np.minimum(limit[slots], value)
    capacity = "export_capacity_kw" if export else "node_capacity_kw"
    changes = {capacity: _lowered(getattr(problem, capacity), k, power_kw)}
    if np.isfinite(current_a).any():
        changes["phase_current_max_a"] = _lowered(problem.phase_current_max_a, k, current_a)
    return problem.replace(**changes)


def adjust_forecast(
    plan: ChargingPlan,
    group_id: str,
    *,
    node: int | str | None = None,
    forecast_type: CapacityForecastType | str = CapacityForecastType.CONSUMPTION,
    unit: ForecastedBlockUnit | str = ForecastedBlockUnit.KW,
) -> AdjustGroupCapacityForecast:
    """The capacity a plan needs at a node, as the AdjustGroupCapacityForecast that asks for it.

    Schedule the problem without the CP's forecast (or with a looser one) to
    learn what the sessions would need, and send this to ask for it.

    Parameters
    ----------
    plan : ChargingPlan
        The plan; its problem's non-EV load counts too.
    group_id : str
        The OSCP group.
    node : int or str, optional
        The group's node (index or id); the node with id ``group_id`` when omitted.
    forecast_type : CapacityForecastType or str
        CONSUMPTION (or FALLBACK_CONSUMPTION): the import the plan needs;
        GENERATION (or FALLBACK_GENERATION): the export it needs.
    unit : {'KW', 'W', 'A'}
        KW or W: total power over all phases; A: the largest current on any
        phase (both written with phase ALL).

    Returns
    -------
    AdjustGroupCapacityForecast
        One block per run of equal slots over the whole horizon, capacities
        rounded up.

    Raises
    ------
    InputError
        For an OPTIMUM type, an energy unit or an unknown node.
    """
    where = "adjust_forecast"
    if not isinstance(plan, ChargingPlan):
        raise InputError(where, "plan", type(plan).__name__, "must be a ChargingPlan")
    problem = plan.problem
    kind = _forecast_type(where, forecast_type)
    k = problem.node_index(group_id if node is None else node)
    sign = -1.0 if kind in _EXPORT_TYPES else 1.0
    unit = _capacity_unit(where, "unit", unit)
    if unit is ForecastedBlockUnit.A:
        ev_a, base_a = phase_currents_a(problem, plan.power_kw)
        need = (sign * (ev_a[:, k] + base_a[k])).max(axis=0)
    else:
        need = sign * plan.node_load_kw[k]
        if unit is ForecastedBlockUnit.W:
            need = units.w_from_kw(need)
    decimals = _ROUND_UP_DECIMALS[unit]
    capacity = [_round_up(value, decimals) for value in np.maximum(need, 0.0)]
    edges = problem.grid.edges_s
    runs = np.flatnonzero(np.diff(capacity)) + 1
    firsts, stops = np.r_[0, runs], np.r_[runs, len(capacity)]
    blocks = [
        ForecastedBlock(
            capacity=capacity[first],
            phase=PhaseIndicator.ALL,
            unit=unit,
            start_time=from_epoch_s(edges[first]),
            end_time=from_epoch_s(edges[stop]),
        )
        for first, stop in zip(firsts, stops, strict=True)
    ]
    return AdjustGroupCapacityForecast(group_id=group_id, type=kind, forecasted_blocks=blocks)


def compliance_error(
    problem: ChargingProblem,
    forecast: UpdateGroupCapacityForecast,
    *,
    nodes: Mapping[str, int | str] | None = None,
    plan: ChargingPlan | None = None,
) -> GroupCapacityComplianceError | None:
    """The GroupCapacityComplianceError for the blocks of a forecast that cannot be met, or None.

    A block cannot be met when, in a slot it touches, the node's non-EV load
    (``base_load_kw`` of its subtree, which no plan controls) alone exceeds
    it, or, with ``plan`` (one the FP is already committed to), when the
    plan's load through the node does. A plan scheduled under the forecast
    (:func:`with_forecast`) always complies; sessions it leaves short are the
    FP's own matter (see :attr:`ChargingPlan.unmet_causes`) and a reason for
    an :func:`adjust_forecast` request, not a compliance error.

    Parameters
    ----------
    problem : ChargingProblem
        The problem without the forecast (its base load and voltages are used).
    forecast : UpdateGroupCapacityForecast
        The forecast, of a limit type.
    nodes : mapping of str to int or str, optional
        Group id -> node, as in :func:`with_forecast`.
    plan : ChargingPlan, optional
        A committed plan on the same grid to check as well.

    Returns
    -------
    GroupCapacityComplianceError or None
        The blocks that cannot be met, unchanged, with the reasons; None
        when every block can be.

    Raises
    ------
    InputError
        As :func:`with_forecast`, or for a plan of another problem's grid or shape.
    """
    where = "compliance_error"
    k, export = _target(problem, forecast, nodes, where)
    sign = -1.0 if export else 1.0
    net_kw = np.zeros((problem.n_sessions, problem.n_slots))
    if plan is not None:
        if not isinstance(plan, ChargingPlan) or plan.problem.grid != problem.grid:
            raise InputError(where, "plan", plan, "must be a ChargingPlan on the problem's grid")
        if plan.problem.session_ids != problem.session_ids:
            raise InputError(where, "plan", plan, "must be a plan of the problem's sessions")
        net_kw = plan.power_kw
    ev_a, base_a = phase_currents_a(problem, net_kw)
    base_kw = problem.node_base_load_kw[k]
    loads = [("the non-EV load alone", sign * base_kw, sign * base_a[k])]
    if plan is not None:
        plan_kw = problem.node_loads_kw(net_kw)[k] + base_kw
        loads.append(("the plan's load", sign * plan_kw, (sign * (ev_a[:, k] + base_a[k])).max(0)))
    failing, reasons = [], []
    for block, slots, limits in _block_limits(problem, k, forecast):
        reason = None if slots is None else _first_breach(block, slots, limits, loads)
        if reason is not None:
            failing.append(block)
            reasons.append(reason)
    if not failing:
        return None
    listed = "; ".join(reasons[:5]) + ("; ..." if len(reasons) > 5 else "")
    message = (
        f"cannot comply with {len(failing)} of {len(forecast.forecasted_blocks)} "
        f"{forecast.type.value} blocks of group {forecast.group_id!r}: {listed}"
    )
    return GroupCapacityComplianceError(message=message, forecasted_blocks=failing)


# ---------------------------------------------------------------------------- helpers


def _target(
    problem: ChargingProblem,
    forecast: GroupCapacityForecast,
    nodes: Mapping[str, int | str] | None,
    where: str,
) -> tuple[int, bool]:
    """The node index of the forecast's group and whether the forecast limits export."""
    if not isinstance(problem, ChargingProblem):
        raise InputError(where, "problem", type(problem).__name__, "must be a ChargingProblem")
    if not isinstance(forecast, GroupCapacityForecast):
        raise InputError(
            where, "forecast", type(forecast).__name__, "must be an OSCP group capacity forecast"
        )
    message = type(forecast).__name__
    _forecast_type(message, forecast.type)
    group = forecast.group_id
    if nodes is None:
        if group not in problem.node_ids:
            raise InputError(
                message, "group_id", group, "is no node id of the problem: pass nodes={group: node}"
            )
        node: int | str = group
    elif group in nodes:
        node = nodes[group]
    else:
        raise InputError(message, "group_id", group, "is not in the nodes mapping")
    return problem.node_index(node), forecast.type in _EXPORT_TYPES


def _first_breach(
    block: ForecastedBlock,
    slots: slice,
    limits: list[tuple[str, float]],
    loads: list[tuple[str, NDArray, NDArray]],
) -> str | None:
    """Why a block cannot be met (the first load above one of its limits), or None."""
    for kind, value in limits:
        for what, load_kw, load_a in loads:
            peak = float((load_kw if kind == "kw" else load_a)[slots].max())
            if peak > value + DEFAULT_TOLERANCE:
                unit = "kW" if kind == "kw" else "A per phase"
                return (
                    f"{block.start_time.isoformat()}..{block.end_time.isoformat()}: "
                    f"{what} reaches {peak:.6g} {unit}, above {value:.6g}"
                )
    return None


def _forecast_type(where: str, value: object) -> CapacityForecastType:
    try:
        kind = CapacityForecastType(value)
    except ValueError:
        raise InputError(where, "type", value, "is not an OSCP CapacityForecastType") from None
    if kind is CapacityForecastType.OPTIMUM:
        raise InputError(where, "type", kind.value, "an OPTIMUM is a recommendation, not a limit")
    return kind


def _capacity_unit(where: str, field: str, value: object) -> ForecastedBlockUnit:
    try:
        unit = ForecastedBlockUnit(value)
    except ValueError:
        raise InputError(where, field, value, "is not an OSCP ForecastedBlockUnit") from None
    if unit in (ForecastedBlockUnit.WH, ForecastedBlockUnit.KWH):
        raise InputError(where, field, unit.value, "an energy unit cannot be a capacity (A, W, KW)")
    return unit


def _block_limits(
    problem: ChargingProblem, k: int, forecast: GroupCapacityForecast
) -> Iterator[tuple[ForecastedBlock, slice | None, list[tuple[str, float]]]]:
    """Each block with its slots (None outside the horizon) and limits: ('kw' or 'a', value).

    An UNKNOWN-phase block in W or KW has two limits: the total power and a
    per-phase current.
    """
    message = type(forecast).__name__
    volts = float(problem.node_voltage_v[k])
    for index, block in enumerate(forecast.forecasted_blocks):
        unit = _capacity_unit(message, f"forecasted_blocks[{index}].unit", block.unit)
        limits = []
        if unit is ForecastedBlockUnit.A:
            limits.append(("a", block.capacity))
        else:
            power_kw = (
                block.capacity
                if unit is ForecastedBlockUnit.KW
                else units.kw_from_w(block.capacity)
            )
            if block.phase in (PhaseIndicator.ALL, PhaseIndicator.UNKNOWN):
                limits.append(("kw", power_kw))
            if block.phase is not PhaseIndicator.ALL:  # one phase's power
                limits.append(("a", units.current_a_from_kw(power_kw, volts, phases=1)))
        yield block, _slots(problem, block), limits


def _slots(problem: ChargingProblem, block: ForecastedBlock) -> slice | None:
    """The slots a block touches (any part of them), or None when it lies outside the horizon."""
    grid = problem.grid
    origin, step = grid.start, timedelta(seconds=grid.step_s)
    first = max((block.start_time - origin) // step, 0)
    stop = min(-((origin - block.end_time) // step), grid.n)
    return slice(first, stop) if first < stop else None


def _lowered(limits: NDArray[np.float64], k: int, row: NDArray[np.float64]) -> NDArray:
    """``limits`` (m, T) with node ``k``'s row lowered to ``row`` where that is lower."""
    lowered = np.array(limits, dtype=np.float64)
    lowered[k] = np.minimum(lowered[k], row)
    return lowered


def _round_up(value: float, decimals: int) -> float:
    """The smallest number with ``decimals`` decimals not below ``value``."""
    scale = 10**decimals
    return math.ceil(units.exact_decimal(value) * scale) / scale
