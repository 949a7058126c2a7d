"""OpenADR 3.1.0 with the Dutch NL-Flex profile (OpenADR DER profile v1.0.0), as a VEN.

fera_flex plays the VEN of a Service Provider whose resource group is a grid
node of a :class:`~fera_flex.ChargingProblem`:

1. read the DSO's **baseline event** (:func:`read_baseline_event`);
2. compute the flex the node can deliver below the baseline in every 2/4/6-hour
   block, exactly from its aggregate (:func:`available_flex`,
   :func:`block_flex_kw`), and report it (:func:`flex_delta_report`);
3. read a **FLEX event** (:func:`read_flex_event`, every profile rule checked)
   and put it into the problem as node limits (:func:`with_flex_dispatch`),
   schedule, and send the OCPP profiles the plan gives;
4. acknowledge (:func:`ack_report`) and report what was delivered
   (:func:`delivered_flex_report`).

Generic programmes get :func:`usage_forecast_report` and
:func:`regulation_report`. Bodies from a peer go through :func:`parse_event` /
:func:`parse_report` (size limit, strict JSON, the schema's model) before
anything reads them.

Modules: ``models`` (the OpenADR 3.1.0 objects, after the OpenAPI document,
and intervalPeriod inheritance), ``wire`` (reading untrusted bodies),
``events`` (the NL-Flex baseline and FLEX events), ``limits`` (a dispatch as
node limits), ``availability`` (the deliverable flex per block) and
``reports`` (everything a VEN writes).

Conventions
-----------
- **Sign**: consumption (offtake) is positive. ``ACTIVE_BASELINE`` is an
  offtake [kW]; ``FLEX``, the available flex and ``DELIVERED_FLEX`` are
  reductions below it [kW, >= 0]; a flex delta is minus the flex offered
  (<= 0); ``UP_REGULATION_AVAILABLE`` is how far the load can go down and
  ``DOWN_REGULATION_AVAILABLE`` how far up [kW, >= 0]; ``USAGE_FORECAST`` is
  energy per interval [kWh].
- **Units**: ``KW`` and ``KWH`` as the payload descriptors say; NL-Flex
  powers carry at most two decimals and are rounded *down* (never more flex
  than there is).
- **Time**: RFC 3339 datetimes with an offset (written in UTC, ``Z``) and
  ISO 8601 durations (``PT2H``, ``P1D``); an NL-Flex DELIVERED_FLEX value per
  15 minutes.

Examples
--------
>>> from fera_flex.standards.openadr import ack_report, to_json
>>> to_json(ack_report("flex-1", "8712423014022"))["resources"][0]["intervals"]
[{'id': 0, 'payloads': [{'type': 'ACK', 'values': [True]}]}]
"""

from fera_flex.standards.openadr._rules import NlFlexRuleError
from fera_flex.standards.openadr.availability import AvailableFlex, available_flex, block_flex_kw
from fera_flex.standards.openadr.events import (
    FlexDispatch,
    FlexInterval,
    NlFlexBaseline,
    read_baseline_event,
    read_flex_event,
)
from fera_flex.standards.openadr.limits import with_flex_dispatch
from fera_flex.standards.openadr.models import Event, Report
from fera_flex.standards.openadr.reports import (
    NlFlexDelta,
    ack_report,
    delivered_flex_report,
    flex_delta_report,
    offtake_profile,
    read_flex_delta_report,
    regulation_report,
    usage_forecast_report,
)
from fera_flex.standards.openadr.wire import MAX_BODY_BYTES, parse_event, parse_report, to_json

__all__ = [
    "MAX_BODY_BYTES",
    "AvailableFlex",
    "Event",
    "FlexDispatch",
    "FlexInterval",
    "NlFlexBaseline",
    "NlFlexDelta",
    "NlFlexRuleError",
    "Report",
    "ack_report",
    "available_flex",
    "block_flex_kw",
    "delivered_flex_report",
    "flex_delta_report",
    "offtake_profile",
    "parse_event",
    "parse_report",
    "read_baseline_event",
    "read_flex_delta_report",
    "read_flex_event",
    "regulation_report",
    "to_json",
    "usage_forecast_report",
    "with_flex_dispatch",
]
