"""S2 (EN 50491-12-2): battery offers as FRBC and PEBC messages, the CEM's instructions read back.

fera_flex plays the S2 Resource Manager of a grid node or of one charging
session (:class:`S2Resource`) towards a Customer Energy Manager: it sends the
node's battery offer (:func:`fera_flex.flexibility.battery_offer`) as

- FRBC (Fill Rate Based Control, :mod:`~fera_flex.standards.s2.frbc`): a
  storage filled by one actuator, and a target profile carrying the offer's
  cumulative-energy band; the CEM steers with FRBC.Instructions;
- PEBC (Power Envelope Based Control, :mod:`~fera_flex.standards.s2.pebc`),
  the simpler alternative: power constraints and an energy constraint; the
  CEM limits with power envelopes;

and reads the instructions back as a :class:`~fera_flex.models.fera.FlexibilityDispatch`
for :func:`fera_flex.disaggregate`, refusing (:class:`~fera_flex.errors.InputError`
naming the message, the field and the value) whatever leaves the offer, so
every dispatch read is deliverable. Messages are ``s2-python``'s own classes
(the ``s2`` extra, imported when first needed); received ones may also be
JSON, parsed by its ``S2Parser``.

Conventions
-----------
- **Sign**: consumption positive, production negative (S2's and fera_flex's).
- **Power**: W on the wire (kW inside), the resource's total power in one
  CommodityQuantity: ``ELECTRIC.POWER.3_PHASE_SYMMETRIC`` (three phases
  alike, the value the total) or, for a single-phase session, the phase's
  ``ELECTRIC.POWER.L1`` / ``L2`` / ``L3``.
- **Fill level** (FRBC): energy drawn from the grid [kWh], from the window's
  start for a node, since plug-in for a session; fill rates in kWh per
  second (power [kW] / 3600).
- **Durations** in ms (S2 ``Duration``); **times** ISO 8601 with an offset
  (S2 ``DateTimeStamp``, written in UTC with ``Z`` by ``s2-python``).
- **ISPs**: the offer's slots (the problem's, or coarser ones of a
  resampled offer); S2 profiles hold at most 288 elements.

Examples
--------
One car needing 22 kWh over four hours, its node's battery offer as FRBC,
and a CEM that runs the operation mode at the baseline's power, then one
that runs it at full power throughout:

>>> from datetime import datetime, timedelta, timezone
>>> import uuid
>>> import numpy as np
>>> import fera_flex as ff
>>> from fera_flex.flexibility import battery_offer
>>> from s2python.frbc import FRBCInstruction
>>> grid = ff.TimeGrid(datetime(2026, 3, 2, 18, tzinfo=timezone.utc), timedelta(hours=1), 4)
>>> problem = ff.ChargingProblem.from_arrays(
...     grid=grid, arrival_slot=[0], departure_slot=[4], energy_kwh=[22.0],
...     power_max_kw=11.0, node_of_session=[0], node_parent=[-1],
...     node_capacity_kw=np.inf, price_eur_per_kwh=[0.3, 0.2, 0.25, 0.3])
>>> offer = battery_offer(problem, 0)
>>> sent = frbc_export(S2Resource.of_node(problem, offer))
>>> last = sent.fill_level_target_profile.elements[-1].fill_level_range
>>> last.start_of_range, last.end_of_range  # the need by departure [kWh]
(22.0, 22.0)
>>> def instruction(slot, factor):
...     return FRBCInstruction(
...         message_id=uuid.uuid4(), id=uuid.uuid4(), actuator_id=sent.actuator_id,
...         operation_mode=sent.operation_mode_id, operation_mode_factor=factor,
...         execution_time=grid.start + timedelta(hours=slot), abnormal_condition=False)
>>> band = offer.power_max_kw - offer.power_min_kw
>>> at_baseline = (offer.baseline_kw - offer.power_min_kw) / band
>>> dispatch = read_frbc_instructions(sent, [instruction(t, f) for t, f in enumerate(at_baseline)])
>>> bool(np.allclose(dispatch.power_kw, offer.baseline_kw))
True
>>> try:
...     read_frbc_instructions(sent, [instruction(0, 1.0)])
... except ff.InputError as error:
...     print(error.field, error.value)
...     print(error.reason)
operation_mode_factor 1.0
the fill level at the end of ISP 2 (2026-03-02T21:00:00+00:00) would be 33 kWh,
outside the offer's band [11, 22] kWh
"""

from fera_flex.standards.s2.frbc import FrbcExport, frbc_export, read_frbc_instructions
from fera_flex.standards.s2.pebc import PebcExport, pebc_export, read_pebc_instructions
from fera_flex.standards.s2.resource import S2Resource

__all__ = [
    "FrbcExport",
    "PebcExport",
    "S2Resource",
    "frbc_export",
    "pebc_export",
    "read_frbc_instructions",
    "read_pebc_instructions",
]
