"""S2 FRBC (Fill Rate Based Control): a battery offer as a storage, and the CEM's instructions.

Export (:func:`frbc_export`), per :class:`~fera_flex.standards.s2.S2Resource`:

- **FRBC.SystemDescription**: a storage whose fill level is the energy the
  resource draws [kWh] (its ``fill_level_range`` spans every level the offer
  allows), and one actuator with one operation mode whose power range is the
  offer's power band [W] and whose fill rate is that power per second
  [kWh/s] (factor 0 the band's low end, 1 its high end). FRBC operation
  modes do not vary in time, so one system description is sent per stretch
  of ISPs with the same band, each ``valid_from`` the stretch's start, all
  with the same actuator and operation mode ids. An operation mode at factor
  ``f`` then draws ``low + f (high - low)`` of the band *valid at that time*:
  every factor in [0, 1] at every moment is within the band, nothing needs
  narrowing, and an instruction that lasts into the next stretch keeps its
  factor there (a CEM plans with the description valid in each of its time
  steps, as S2's ``valid_from`` says).
- **FRBC.StorageStatus**: the fill level at the window's start (0 for a
  node; for a session the energy its baseline drew before the window).
- **FRBC.FillLevelTargetProfile**: one element per ISP, its range the
  offer's cumulative-energy band at the ISP's end (plus the fill level at
  the window's start). A CEM that checks the fill level at the end of each
  time step against the elements of that step (as S2 profile-steering
  planners do) meets exactly the offer; one that keeps the fill level in
  range throughout each element meets a part of it. For a session whose
  window runs to its departure, the last element is its need by departure
  (drawn from the grid: ``energy_min_kwh / charge_efficiency``) up to the
  most it may take.

Import (:func:`read_frbc_instructions`): instructions for our actuator and
operation mode, each lasting until the next one's execution time (before
the first, the resource follows its baseline), with a factor in [0, 1] and
an execution time in the window (``abnormal_condition`` changes nothing:
the operation mode is a normal one). Execution times need not fall on ISP
boundaries: each ISP gets the mean power of what is instructed in it. That
mean lies in the ISP's band (a band is an interval, the same throughout the
ISP) and the energy at every ISP end is the instructed one, so the averaged
profile is deliverable exactly when the instructed one is. Every ISP end's
fill level must lie in the offer's band; the dispatch is the node load per
problem slot (a resampled offer's activation lifted to the slots,
:meth:`~fera_flex.flexibility.NodeOffer.lifted`).
"""

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Any

import numpy as np

from fera_flex.errors import InputError
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.standards.s2._wire import elapsed_ms, overlap_ms, received, s2, slot_times
from fera_flex.standards.s2.resource import S2Resource
from fera_flex.units import w_from_kw

__all__ = ["FrbcExport", "frbc_export", "read_frbc_instructions"]

_S_PER_H = 3600.0


@dataclass(frozen=True, eq=False)
class FrbcExport:
    """The FRBC messages of a resource, kept to read the CEM's instructions.

    Attributes
    ----------
    resource : S2Resource
    id : str
        Names the export in the dispatches read from it (``offer_id``).
    actuator_id, operation_mode_id : uuid.UUID
    system_descriptions : tuple of FRBCSystemDescription
        One per stretch of ISPs with the same power band.
    storage_status : FRBCStorageStatus
    fill_level_target_profile : FRBCFillLevelTargetProfile
    """

    resource: S2Resource
    id: str
    actuator_id: uuid.UUID
    operation_mode_id: uuid.UUID
    system_descriptions: tuple[Any, ...]
    storage_status: Any
    fill_level_target_profile: Any

    @property
    def messages(self) -> tuple[Any, ...]:
        """Every message, in the order to send them."""
        return (*self.system_descriptions, self.storage_status, self.fill_level_target_profile)


def frbc_export(resource: S2Resource) -> FrbcExport:
    """The FRBC messages of a resource's battery offer (see the module documentation).

    Raises
    ------
    InputError
        When the offer leaves the fill level no room to change (nothing to describe).
    """
    if not isinstance(resource, S2Resource):
        kind = type(resource).__name__
        raise InputError("frbc_export", "resource", kind, "must be an S2Resource")
    lib = s2()
    common, frbc = lib.common, lib.frbc
    offer, start = resource.offer, resource.fill_start_kwh
    low, high = start + offer.energy_min_kwh, start + offer.energy_max_kwh
    bottom, top = min(start, float(low.min())), max(start, float(high.max()))
    if not top > bottom:
        raise InputError(
            "frbc_export",
            "resource",
            f"{resource.kind} {resource.resource_id!r}",
            "its offer leaves the fill level no room to change: nothing to describe",
        )
    fill_range = common.NumberRange(start_of_range=bottom, end_of_range=top)
    quantity = common.CommodityQuantity(resource.commodity_quantity)
    since = "the window's start" if resource.kind == "node" else "plug-in"
    storage = frbc.FRBCStorageDescription(
        diagnostic_label=f"{resource.kind} {resource.resource_id}",
        fill_level_label=f"kWh drawn from the grid since {since}",
        provides_leakage_behaviour=False,
        provides_fill_level_target_profile=True,
        provides_usage_forecast=False,
        fill_level_range=fill_range,
    )
    actuator_id, mode_id = uuid.uuid4(), uuid.uuid4()
    grid = offer.grid
    descriptions = []
    for first, _ in resource.stretches():
        least, most = float(offer.power_min_kw[first]), float(offer.power_max_kw[first])
        element = frbc.FRBCOperationModeElement(
            fill_level_range=fill_range,
            fill_rate=common.NumberRange(
                start_of_range=least / _S_PER_H, end_of_range=most / _S_PER_H
            ),
            power_ranges=[
                common.PowerRange(
                    start_of_range=w_from_kw(least),
                    end_of_range=w_from_kw(most),
                    commodity_quantity=quantity,
                )
            ],
        )
        mode = frbc.FRBCOperationMode(
            id=mode_id,
            diagnostic_label="charging within the offer",
            elements=[element],
            abnormal_condition_only=False,
        )
        actuator = frbc.FRBCActuatorDescription(
            id=actuator_id,
            diagnostic_label=f"EV charging of {resource.kind} {resource.resource_id}",
            supported_commodities=[common.Commodity.ELECTRICITY],
            operation_modes=[mode],
            transitions=[],
            timers=[],
        )
        descriptions.append(
            frbc.FRBCSystemDescription(
                message_id=uuid.uuid4(),
                valid_from=grid.start + timedelta(seconds=first * grid.step_s),
                actuators=[actuator],
                storage=storage,
            )
        )
    _, slot_ms = slot_times(grid)
    profile = frbc.FRBCFillLevelTargetProfile(
        message_id=uuid.uuid4(),
        start_time=grid.start,
        elements=[
            frbc.FRBCFillLevelTargetProfileElement(
                duration=common.Duration.from_milliseconds(slot_ms),
                fill_level_range=common.NumberRange(start_of_range=float(a), end_of_range=float(b)),
            )
            for a, b in zip(low, high, strict=True)
        ],
    )
    status = frbc.FRBCStorageStatus(message_id=uuid.uuid4(), present_fill_level=start)
    return FrbcExport(
        resource=resource,
        id=str(uuid.uuid4()),
        actuator_id=actuator_id,
        operation_mode_id=mode_id,
        system_descriptions=tuple(descriptions),
        storage_status=status,
        fill_level_target_profile=profile,
    )


def read_frbc_instructions(sent: FrbcExport, instructions: Any) -> FlexibilityDispatch:
    """The dispatch that FRBC instructions ask of the resource (see the module documentation).

    Parameters
    ----------
    sent : FrbcExport
        The export the instructions answer.
    instructions : FRBCInstruction, JSON text, bytes or dict, or a sequence of them

    Returns
    -------
    FlexibilityDispatch
        The resource's node load per problem slot of the window [kW]:
        ``fera_flex.disaggregate(sent.resource.problem, dispatch)``.

    Raises
    ------
    InputError
        Naming the instruction, the field and the value: another actuator,
        an unknown operation mode, a factor outside [0, 1], an execution time
        outside the window or shared with another instruction, a repeated
        id, or a fill level that leaves the offer's band at an ISP end (the
        instruction then in force is named).
    """
    if not isinstance(sent, FrbcExport):
        kind = type(sent).__name__
        raise InputError("read_frbc_instructions", "sent", kind, "must be an FrbcExport")
    items = received(instructions, s2().frbc.FRBCInstruction, "FRBC.Instruction")
    offer = sent.resource.offer
    grid = offer.grid
    start_ms, slot_ms = slot_times(grid)
    end_ms = start_ms + slot_ms * grid.n
    timed, ids = [], set()
    for item in items:
        where = f"FRBC.Instruction {item.id}"
        if item.id in ids:
            raise InputError(where, "id", str(item.id), "is the id of another instruction")
        ids.add(item.id)
        if item.actuator_id != sent.actuator_id:
            wanted = f"must be the actuator {sent.actuator_id}"
            raise InputError(where, "actuator_id", str(item.actuator_id), wanted)
        if item.operation_mode != sent.operation_mode_id:
            wanted = f"unknown operation mode (ours: {sent.operation_mode_id})"
            raise InputError(where, "operation_mode", str(item.operation_mode), wanted)
        factor = item.operation_mode_factor
        if not (math.isfinite(factor) and 0.0 <= factor <= 1.0):
            raise InputError(where, "operation_mode_factor", factor, "must lie in [0, 1]")
        at_ms = elapsed_ms(item.execution_time)
        if not start_ms <= at_ms < end_ms:
            raise InputError(
                where,
                "execution_time",
                item.execution_time.isoformat(),
                f"outside the window [{grid.start.isoformat()}, {grid.end.isoformat()})",
            )
        timed.append((at_ms, item))
    timed.sort(key=lambda pair: pair[0])
    for (before, _), (at_ms, item) in pairwise(timed):
        if at_ms == before:
            raise InputError(
                f"FRBC.Instruction {item.id}",
                "execution_time",
                item.execution_time.isoformat(),
                "another instruction starts at the same moment",
            )
    least, width = offer.power_min_kw, offer.power_max_kw - offer.power_min_kw
    energy_kw_ms = overlap_ms(start_ms, slot_ms, grid.n, start_ms, timed[0][0]) * offer.baseline_kw
    ends = [at_ms for at_ms, _ in timed[1:]] + [end_ms]
    for (at_ms, item), until_ms in zip(timed, ends, strict=True):
        power = least + item.operation_mode_factor * width
        energy_kw_ms = energy_kw_ms + overlap_ms(start_ms, slot_ms, grid.n, at_ms, until_ms) * power
    power_kw = energy_kw_ms / slot_ms
    _check_fill(sent, power_kw, timed)
    fine_grid, fine_kw = offer.lifted(power_kw)
    return FlexibilityDispatch(
        id=str(timed[0][1].id),
        node_id=offer.node_id,
        offer_id=sent.id,
        start=fine_grid.start,
        step_s=fine_grid.step_s,
        power_kw=fine_kw.tolist(),
    )


def _check_fill(sent: FrbcExport, power_kw: np.ndarray, timed: list) -> None:
    """Every ISP end's fill level within the offer's band, else the instruction then in force."""
    offer, start = sent.resource.offer, sent.resource.fill_start_kwh
    drawn = np.cumsum(power_kw) * offer.grid.dt_h
    tol = 1e-9 * max(1.0, float(np.abs(offer.power_max_kw).max(initial=0.0)))
    outside = (drawn < offer.energy_min_kwh - tol) | (drawn > offer.energy_max_kwh + tol)
    if not outside.any():
        return
    k = int(np.flatnonzero(outside)[0])
    start_ms, slot_ms = slot_times(offer.grid)
    isp_end_ms = start_ms + (k + 1) * slot_ms
    item = [item for at_ms, item in timed if at_ms < isp_end_ms][-1]  # the baseline is inside
    moment = offer.grid.start + timedelta(seconds=(k + 1) * offer.grid.step_s)
    raise InputError(
        f"FRBC.Instruction {item.id}",
        "operation_mode_factor",
        item.operation_mode_factor,
        f"the fill level at the end of ISP {k} ({moment.isoformat()}) would be "
        f"{start + drawn[k]:.6g} kWh, outside the offer's band "
        f"[{start + offer.energy_min_kwh[k]:.6g}, {start + offer.energy_max_kwh[k]:.6g}] kWh",
    )
