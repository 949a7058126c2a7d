"""S2 PEBC (Power Envelope Based Control): a battery offer as power constraints, envelopes back.

In PEBC the CEM does not steer the resource, it limits it: it sends power
envelopes (an upper and a lower limit over time) and the resource draws
what it wants within them. Export (:func:`pebc_export`):

- **PEBC.PowerConstraints**, one per stretch of ISPs with the same power
  band (``valid_from`` / ``valid_until`` the stretch): the upper and the
  lower limit may each be set anywhere in the band [W]; consequence
  ``DEFER`` (energy held back is drawn later, as EV charging does);
- **PEBC.EnergyConstraint** over the whole window: S2 defines
  ``upper_average_power`` / ``lower_average_power`` so that, times the
  period, they are the most and the least energy the resource will draw in
  it, so they are the offer's energy band at the window's end divided by
  its length [W]. (S2 then asks the CEM's envelopes to leave room for that
  much; the offer's cumulative band *within* the window has no PEBC message
  and is checked when an envelope is read.)

Import (:func:`read_pebc_instructions`): each instruction names one of our
power constraints valid at its execution time (in the window); its envelope
starts there, element after element, and must end in the window, its limits
within the allowed range everywhere they apply and the lower one not above
the upper. A later instruction replaces the earlier ones from its execution
time on; where no envelope applies, the offer's band does. fera_flex holds
one power per ISP, so an ISP's power must lie within every element that
covers part of it (elements need not fall on ISP boundaries: an ISP is
limited by all it meets). Within these per-ISP limits the resource then
chooses its profile: the one whose fill level stays closest to the
baseline's at every ISP end (held-back energy is caught up as soon as the
envelope allows), found by one pass forward (the fill levels the limits and
the offer's energy band leave reachable) and one back. An envelope that
leaves no profile within the offer's energy band is refused, naming the
ISP where it runs out.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from fera_flex.errors import InputError
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.standards.s2._wire import elapsed_ms, overlap_ms, received, s2, slot_times
from fera_flex.standards.s2.resource import S2Resource
from fera_flex.units import kw_from_w, w_from_kw

__all__ = ["PebcExport", "pebc_export", "read_pebc_instructions"]


@dataclass(frozen=True, eq=False)
class PebcExport:
    """The PEBC messages of a resource, kept to read the CEM's instructions.

    Attributes
    ----------
    resource : S2Resource
    id : str
        Names the export in the dispatches read from it (``offer_id``).
    power_constraints : tuple of PEBCPowerConstraints
        One per stretch of ISPs with the same power band.
    energy_constraint : PEBCEnergyConstraint
    """

    resource: S2Resource
    id: str
    power_constraints: tuple[Any, ...]
    energy_constraint: Any

    @property
    def messages(self) -> tuple[Any, ...]:
        """Every message, in the order to send them."""
        return (*self.power_constraints, self.energy_constraint)


def pebc_export(resource: S2Resource) -> PebcExport:
    """The PEBC messages of a resource's battery offer (see the module documentation)."""
    if not isinstance(resource, S2Resource):
        kind = type(resource).__name__
        raise InputError("pebc_export", "resource", kind, "must be an S2Resource")
    lib = s2()
    common, pebc = lib.common, lib.pebc
    offer, grid = resource.offer, resource.offer.grid
    quantity = common.CommodityQuantity(resource.commodity_quantity)
    constraints = []
    for first, stop in resource.stretches():
        boundary = common.NumberRange(
            start_of_range=w_from_kw(float(offer.power_min_kw[first])),
            end_of_range=w_from_kw(float(offer.power_max_kw[first])),
        )
        constraints.append(
            pebc.PEBCPowerConstraints(
                message_id=uuid.uuid4(),
                id=uuid.uuid4(),
                valid_from=grid.start + timedelta(seconds=first * grid.step_s),
                valid_until=grid.start + timedelta(seconds=stop * grid.step_s),
                consequence_type=pebc.PEBCPowerEnvelopeConsequenceType.DEFER,
                allowed_limit_ranges=[
                    pebc.PEBCAllowedLimitRange(
                        commodity_quantity=quantity,
                        limit_type=limit,
                        range_boundary=boundary,
                        abnormal_condition_only=False,
                    )
                    for limit in pebc.PEBCPowerEnvelopeLimitType
                ],
            )
        )
    hours = grid.n * grid.dt_h
    energy = pebc.PEBCEnergyConstraint(
        message_id=uuid.uuid4(),
        id=uuid.uuid4(),
        valid_from=grid.start,
        valid_until=grid.end,
        upper_average_power=w_from_kw(float(offer.energy_max_kwh[-1]) / hours),
        lower_average_power=w_from_kw(float(offer.energy_min_kwh[-1]) / hours),
        commodity_quantity=quantity,
    )
    return PebcExport(resource, str(uuid.uuid4()), tuple(constraints), energy)


def read_pebc_instructions(sent: PebcExport, instructions: Any) -> FlexibilityDispatch:
    """The dispatch the resource draws within PEBC envelopes (see the module documentation).

    Parameters
    ----------
    sent : PebcExport
        The export the instructions answer.
    instructions : PEBCInstruction, JSON text, bytes or dict, or a sequence of them

    Returns
    -------
    FlexibilityDispatch
        The resource's node load per problem slot of the window [kW]:
        ``fera_flex.disaggregate(sent.resource.problem, dispatch)``.

    Raises
    ------
    InputError
        Naming the instruction, the field and the value: unknown power
        constraints or ones not valid at the execution time, an execution
        time outside the window or shared, a repeated id, another commodity
        quantity, an element reaching past the window, a limit outside the
        allowed range or below the other, limits of one ISP that exclude
        each other, or an envelope that leaves no profile within the offer's
        energy band.
    """
    if not isinstance(sent, PebcExport):
        kind = type(sent).__name__
        raise InputError("read_pebc_instructions", "sent", kind, "must be a PebcExport")
    items = received(instructions, s2().pebc.PEBCInstruction, "PEBC.Instruction")
    offer = sent.resource.offer
    grid = offer.grid
    start_ms, slot_ms = slot_times(grid)
    timed = sorted(((_start_ms(sent, item), item) for item in items), key=lambda pair: pair[0])
    ids = set()
    for (before, _), (at_ms, item) in zip([(None, None), *timed], timed, strict=False):
        where = f"PEBC.Instruction {item.id}"
        if item.id in ids:
            raise InputError(where, "id", str(item.id), "is the id of another instruction")
        ids.add(item.id)
        if at_ms == before:
            moment = item.execution_time.isoformat()
            reason = "another instruction starts at the same moment"
            raise InputError(where, "execution_time", moment, reason)
    low_kw, high_kw = offer.power_min_kw.copy(), offer.power_max_kw.copy()
    ends = [at_ms for at_ms, _ in timed[1:]] + [start_ms + slot_ms * grid.n]
    touched = np.full(grid.n, -1)  # the last instruction whose envelope limits each ISP
    for k, ((at_ms, item), until_ms) in enumerate(zip(timed, ends, strict=True)):
        for field, begin, end, lower_w, upper_w in _elements(sent, item, at_ms):
            covered = overlap_ms(start_ms, slot_ms, grid.n, max(begin, at_ms), min(end, until_ms))
            isps = np.flatnonzero(covered > 0)
            for name, value, other, wrong in (
                ("lower_limit", lower_w, high_kw, kw_from_w(lower_w) > high_kw[isps]),
                ("upper_limit", upper_w, low_kw, kw_from_w(upper_w) < low_kw[isps]),
            ):
                if wrong.any():
                    t = int(isps[wrong][0])
                    raise InputError(
                        f"PEBC.Instruction {item.id}",
                        field + name,
                        value,
                        f"another element limits ISP {t} to {w_from_kw(other[t]):.6g} W the "
                        "other way (fera_flex holds one power per ISP)",
                    )
            low_kw[isps] = np.maximum(low_kw[isps], kw_from_w(lower_w))
            high_kw[isps] = np.minimum(high_kw[isps], kw_from_w(upper_w))
            touched[isps] = k
    power_kw = _closest_profile(sent, low_kw, high_kw, touched, timed)
    fine_grid, fine_kw = offer.lifted(power_kw)
    return FlexibilityDispatch(
        id=str(timed[0][1].id),
        node_id=offer.node_id,
        offer_id=sent.id,
        start=fine_grid.start,
        step_s=fine_grid.step_s,
        power_kw=fine_kw.tolist(),
    )


def _start_ms(sent: PebcExport, item: Any) -> int:
    """An instruction's execution time [ms], in the window and within its power constraints."""
    where = f"PEBC.Instruction {item.id}"
    grid = sent.resource.offer.grid
    at_ms = elapsed_ms(item.execution_time)
    if not grid.start_s * 1000 <= at_ms < grid.end_s * 1000:
        raise InputError(
            where,
            "execution_time",
            item.execution_time.isoformat(),
            f"outside the window [{grid.start.isoformat()}, {grid.end.isoformat()})",
        )
    envelopes = item.power_envelopes
    required = {  # s2-python gives these two a default instead of requiring them
        "power_constraints_id": isinstance(item.power_constraints_id, uuid.UUID),
        "power_envelopes": isinstance(envelopes, list)
        and all(isinstance(e, s2().pebc.PEBCPowerEnvelope) for e in envelopes),
    }
    for name, given in required.items():
        if not given:
            raise InputError(where, name, None, "is required")
    named = [c for c in sent.power_constraints if c.id == item.power_constraints_id]
    if not named:
        value = str(item.power_constraints_id)
        raise InputError(where, "power_constraints_id", value, "unknown power constraints")
    valid = named[0]
    if not elapsed_ms(valid.valid_from) <= at_ms < elapsed_ms(valid.valid_until):
        raise InputError(
            where,
            "power_constraints_id",
            str(item.power_constraints_id),
            f"valid from {valid.valid_from.isoformat()} until {valid.valid_until.isoformat()}, "
            f"not at the execution time {item.execution_time.isoformat()}",
        )
    return at_ms


def _elements(sent: PebcExport, item: Any, at_ms: int):
    """``(field prefix, begin ms, end ms, lower W, upper W)`` of each envelope element, checked."""
    where = f"PEBC.Instruction {item.id}"
    offer = sent.resource.offer
    grid = offer.grid
    start_ms, slot_ms = slot_times(grid)
    end_ms = start_ms + slot_ms * grid.n
    least_w, most_w = w_from_kw(offer.power_min_kw), w_from_kw(offer.power_max_kw)
    tol_w = 1e-9 * max(1.0, float(np.abs(most_w).max(initial=0.0)))
    for k, envelope in enumerate(item.power_envelopes):
        prefix = f"power_envelopes[{k}]."
        if envelope.commodity_quantity.value != sent.resource.commodity_quantity:
            raise InputError(
                where,
                prefix + "commodity_quantity",
                envelope.commodity_quantity.value,
                f"must be {sent.resource.commodity_quantity}",
            )
        begin = at_ms
        for j, element in enumerate(envelope.power_envelope_elements):
            field = f"{prefix}power_envelope_elements[{j}]."
            end = begin + element.duration.root
            if end > end_ms:
                raise InputError(
                    where,
                    field + "duration",
                    element.duration.root,
                    f"reaches past the window's end ({grid.end.isoformat()})",
                )
            lower, upper = element.lower_limit, element.upper_limit
            if not lower <= upper:
                raise InputError(where, field + "lower_limit", lower, f"above upper_limit {upper}")
            isps = np.flatnonzero(overlap_ms(start_ms, slot_ms, grid.n, begin, end) > 0)
            for name, value in (("lower_limit", lower), ("upper_limit", upper)):
                outside = isps[(value < least_w[isps] - tol_w) | (value > most_w[isps] + tol_w)]
                if outside.size:
                    t = int(outside[0])
                    raise InputError(
                        where,
                        field + name,
                        value,
                        f"outside the allowed range [{least_w[t]:.6g}, {most_w[t]:.6g}] W "
                        f"of ISP {t}",
                    )
            yield field, begin, end, lower, upper
            begin = end


def _closest_profile(sent, low_kw, high_kw, touched, timed) -> np.ndarray:
    """The profile within per-ISP limits and the energy band whose fill level tracks the baseline's.

    Forward: the energies reachable at each ISP end; back: at each ISP end
    the reachable energy nearest the baseline's that the next ISP can still
    leave for the one chosen after it.
    """
    offer = sent.resource.offer
    dt_h = offer.grid.dt_h
    tol = 1e-9 * max(1.0, float(np.abs(offer.power_max_kw).max(initial=0.0)))
    n = offer.grid.n
    reach = np.zeros((n, 2))
    previous = (0.0, 0.0)
    for t in range(n):
        lowest = max(previous[0] + low_kw[t] * dt_h, offer.energy_min_kwh[t])
        highest = min(previous[1] + high_kw[t] * dt_h, offer.energy_max_kwh[t])
        if lowest > highest + tol:
            k = int(touched[: t + 1].max())
            item = timed[k][1]
            moment = offer.grid.start + timedelta(seconds=(t + 1) * offer.grid.step_s)
            raise InputError(
                f"PEBC.Instruction {item.id}",
                "power_envelopes",
                f"ISP {t}",
                f"no power within the envelopes keeps the energy to {moment.isoformat()} "
                f"within the offer's band [{offer.energy_min_kwh[t]:.6g}, "
                f"{offer.energy_max_kwh[t]:.6g}] kWh",
            )
        previous = (lowest, max(lowest, highest))
        reach[t] = previous
    baseline = np.cumsum(offer.baseline_kw) * dt_h
    energy = np.zeros(n)
    energy[-1] = np.clip(baseline[-1], *reach[-1])
    for t in range(n - 1, 0, -1):
        lowest = max(reach[t - 1, 0], energy[t] - high_kw[t] * dt_h)
        highest = min(reach[t - 1, 1], energy[t] - low_kw[t] * dt_h)
        energy[t - 1] = np.clip(baseline[t - 1], lowest, max(lowest, highest))
    return np.clip(np.diff(energy, prepend=0.0) / dt_h, low_kw, high_kw)
