"""The reports a VEN sends: NL-Flex flex deltas, ACK, DELIVERED_FLEX; forecasts and regulation.

NL-Flex (OpenADR DER profile v1.0.0) reports describe the resource group as a
whole (one resource ``AGGREGATED_REPORT``) and are signed by the Service
Provider: ``clientName`` is its EAN13 code.

- :func:`flex_delta_report` answers a baseline event: ``ACTIVE_FLEX_DELTA``
  and ``RESERVED_FLEX_DELTA`` [kW], each **<= 0** (minus the flex offered,
  e.g. :attr:`AvailableFlex.offered_kw`), one interval with id 0;
- :func:`ack_report` acknowledges a FLEX event (``ACK`` = ``true``);
- :func:`delivered_flex_report` states, after the fact, per event interval
  and per 15 minutes, how far the group's mean offtake stayed below
  ``ACTIVE_BASELINE`` [kW, >= 0] (from a measured or planned profile).

Generic OpenADR 3.1.0 reports, one interval per slot (the resource's
``intervalPeriod`` gives the first start and the slot length; later
intervals follow on):

- :func:`usage_forecast_report`: ``USAGE_FORECAST``, the planned energy per
  slot [kWh], consumption positive;
- :func:`regulation_report`: ``UP_REGULATION_AVAILABLE`` (how far the load
  can go *down*, i.e. up-regulation of the grid) and
  ``DOWN_REGULATION_AVAILABLE`` (how far it can go up) around the plan [kW,
  >= 0], the per-slot room of the node's deliverable box offer
  (:func:`fera_flex.flexibility.box_offer`): every profile inside it can be
  delivered.

Every power is rounded **down** to 0.01 kW (a report never claims more flex
than there is); datetimes are RFC 3339 in UTC, durations ISO 8601.

Examples
--------
>>> report = flex_delta_report("baseline-7", "8712423014022", active_flex_kw=12.345)
>>> [(p.type, p.values) for p in report.resources[0].intervals[0].payloads]
[('ACTIVE_FLEX_DELTA', [-12.34]), ('RESERVED_FLEX_DELTA', [0.0])]
>>> read_flex_delta_report(report).active_kw
12.34
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from fera_flex.errors import InputError
from fera_flex.flexibility import box_offer
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.standards.openadr._rules import check_ean13, floor_hundredth, power_value, require
from fera_flex.standards.openadr.events import FlexDispatch
from fera_flex.standards.openadr.models import (
    Interval,
    IntervalPeriod,
    Report,
    ReportPayloadDescriptor,
    ReportResource,
    ValuesMap,
    format_duration,
)
from fera_flex.standards.openadr.wire import MAX_BODY_BYTES, parse_report
from fera_flex.timeseries import Profile, TimeGrid

__all__ = [
    "AGGREGATED_REPORT",
    "NlFlexDelta",
    "ack_report",
    "delivered_flex_report",
    "flex_delta_report",
    "offtake_profile",
    "read_flex_delta_report",
    "regulation_report",
    "usage_forecast_report",
]

AGGREGATED_REPORT = "AGGREGATED_REPORT"
"""The resource name of a report on the sum of several resources."""

QUARTER_HOUR = timedelta(minutes=15)
"""The resolution of DELIVERED_FLEX values."""

_DELTAS = ("ACTIVE_FLEX_DELTA", "RESERVED_FLEX_DELTA")


@dataclass(frozen=True)
class NlFlexDelta:
    """The flex a flex delta report offers, as positive magnitudes [kW].

    Attributes
    ----------
    event_id, client_name : str
    active_kw, reserved_kw : float
        Minus ``ACTIVE_FLEX_DELTA`` (the group's ACTIVE_AVAILABLE_FLEX) and
        minus ``RESERVED_FLEX_DELTA``.
    """

    event_id: str
    client_name: str
    active_kw: float
    reserved_kw: float


def flex_delta_report(
    event_id: str,
    client_name: str,
    active_flex_kw: float,
    reserved_flex_kw: float = 0.0,
    report_name: str | None = None,
) -> Report:
    """The NL-Flex flex delta report answering a baseline event.

    Parameters
    ----------
    event_id : str
        The baseline event's id.
    client_name : str
        The Service Provider's EAN13 (the VEN's name).
    active_flex_kw, reserved_flex_kw : float
        The flex offered on the active and the reserved part [kW], >= 0;
        rounded down to 0.01 kW and written negated.
    """
    where = "flex_delta_report"
    check_ean13(where, client_name)
    payloads = []
    for payload_type, value in zip(_DELTAS, (active_flex_kw, reserved_flex_kw), strict=True):
        if not _finite(value) or value < 0:
            raise InputError(where, payload_type, value, "the flex offered must be a number >= 0")
        payloads.append(ValuesMap(type=payload_type, values=[-floor_hundredth(value) + 0.0]))
    return _report(
        event_id, client_name, report_name, _DELTAS, "KW", [Interval(id=0, payloads=payloads)]
    )


def read_flex_delta_report(
    message: Report | str | bytes | dict, max_bytes: int = MAX_BODY_BYTES
) -> NlFlexDelta:
    """The flex offered by an NL-Flex flex delta report (the BL's side), with its rules checked.

    Raises
    ------
    NlFlexRuleError
        Naming the field and value that break a rule of the profile.
    """
    report = message if isinstance(message, Report) else parse_report(message, max_bytes)
    where = f"NL-Flex flex delta report for event {report.event_id!r}"
    check_ean13(where, report.client_name)
    names = [resource.resource_name for resource in report.resources]
    require(
        where, "resources", names, names == [AGGREGATED_REPORT], "must be one AGGREGATED_REPORT"
    )
    intervals = report.resources[0].intervals
    ids = [interval.id for interval in intervals]
    require(where, "resources[0].intervals", ids, ids == [0], "must be one interval with id 0")
    payloads = intervals[0].payloads
    kinds = sorted(payload.type for payload in payloads)
    require(
        where,
        "resources[0].intervals[0].payloads",
        kinds,
        kinds == list(_DELTAS),
        "must carry one ACTIVE_FLEX_DELTA and one RESERVED_FLEX_DELTA",
    )
    values = {}
    for payload in payloads:
        value = power_value(payload.values[0]) if len(payload.values) == 1 else None
        field = f"resources[0].intervals[0].payloads[{payload.type}]"
        ok = value is not None and value <= 0
        require(where, field, payload.values, ok, "must be one number <= 0 of kW, two decimals")
        values[payload.type] = -value + 0.0
    return NlFlexDelta(
        report.event_id,
        report.client_name,
        values["ACTIVE_FLEX_DELTA"],
        values["RESERVED_FLEX_DELTA"],
    )


def ack_report(event_id: str, client_name: str, report_name: str | None = None) -> Report:
    """The NL-Flex acknowledgment of a FLEX event (``ACK`` = ``true``)."""
    check_ean13("ack_report", client_name)
    interval = Interval(id=0, payloads=[ValuesMap(type="ACK", values=[True])])
    return _report(event_id, client_name, report_name, (), None, [interval])


def delivered_flex_report(
    dispatch: FlexDispatch,
    baseline_kw: float,
    offtake_kw: Profile,
    client_name: str,
    report_name: str | None = None,
) -> Report:
    """NL-Flex DELIVERED_FLEX: per event interval and 15 minutes, the baseline minus the offtake.

    Parameters
    ----------
    dispatch : FlexDispatch
        The FLEX event reported on: one report interval per event interval,
        with its id and period.
    baseline_kw : float
        ``ACTIVE_BASELINE`` [kW].
    offtake_kw : Profile
        The group's offtake [kW] over the event's intervals (measured, or
        planned: :func:`offtake_profile`).
    client_name : str
        The Service Provider's EAN13.

    Returns
    -------
    Report
        Values ``max(baseline - mean offtake, 0)`` rounded down to 0.01 kW
        (an offtake above the baseline delivered nothing).
    """
    where = "delivered_flex_report"
    check_ean13(where, client_name)
    if not isinstance(offtake_kw, Profile):
        raise InputError(where, "offtake_kw", type(offtake_kw).__name__, "must be a Profile")
    if not _finite(baseline_kw):
        raise InputError(where, "baseline_kw", baseline_kw, "must be a finite number of kW")
    intervals = []
    for interval in dispatch.intervals:
        quarters, rest = divmod(interval.end - interval.start, QUARTER_HOUR)
        grid = TimeGrid(interval.start, QUARTER_HOUR, quarters)
        if (
            rest
            or offtake_kw.start_s > grid.start_s
            or (offtake_kw.end_s is not None and offtake_kw.end_s < grid.end_s)
        ):
            raise InputError(
                where,
                "offtake_kw",
                f"{offtake_kw.start.isoformat()} .. {offtake_kw.end}",
                f"must cover interval id={interval.id} in whole quarter hours",
            )
        mean = offtake_kw.resample(grid).values
        delivered = [floor_hundredth(max(baseline_kw - value, 0.0)) for value in mean]
        intervals.append(
            Interval(
                id=interval.id,
                interval_period=_period(interval.start, interval.end - interval.start),
                payloads=[ValuesMap(type="DELIVERED_FLEX", values=delivered)],
            )
        )
    return _report(
        dispatch.event_id, client_name, report_name, ("DELIVERED_FLEX",), "KW", intervals
    )


def offtake_profile(
    plan: ChargingPlan, node: int | str, base_load_included: bool = False
) -> Profile:
    """A plan's offtake through a node [kW] as a Profile: its EV load (plus its non-EV load)."""
    return Profile.from_grid(plan.problem.grid, _offtake_kw(plan, node, base_load_included))


def _offtake_kw(plan: ChargingPlan, node: int | str, base_load_included: bool) -> np.ndarray:
    problem = plan.problem
    k = problem.node_index(node)
    load = problem.node_loads_kw(plan.power_kw)[k]
    return load + problem.node_base_load_kw[k] if base_load_included else load


def usage_forecast_report(
    plan: ChargingPlan,
    node: int | str,
    event_id: str,
    client_name: str,
    resource_name: str = AGGREGATED_REPORT,
    report_name: str | None = None,
    base_load_included: bool = False,
) -> Report:
    """``USAGE_FORECAST``: the plan's energy through a node per slot [kWh], consumption positive."""
    problem = plan.problem
    energy = _offtake_kw(plan, node, base_load_included) * problem.grid.dt_h
    values = {"USAGE_FORECAST": [round(float(e), 3) + 0.0 for e in energy]}
    return _slot_report(
        problem.grid, 0, event_id, client_name, resource_name, report_name, values, "KWH"
    )


def regulation_report(
    problem: ChargingProblem,
    node: int | str,
    event_id: str,
    client_name: str,
    plan: ChargingPlan | None = None,
    window: tuple[int, int] | None = None,
    resource_name: str = AGGREGATED_REPORT,
    report_name: str | None = None,
) -> Report:
    """``UP_`` / ``DOWN_REGULATION_AVAILABLE`` per slot [kW, >= 0] around the plan (see above)."""
    offer = box_offer(problem, node, plan, window)
    up = np.maximum(offer.baseline_kw - offer.power_min_kw, 0.0)
    down = np.maximum(offer.power_max_kw - offer.baseline_kw, 0.0)
    values = {
        "UP_REGULATION_AVAILABLE": [floor_hundredth(v) for v in up],
        "DOWN_REGULATION_AVAILABLE": [floor_hundredth(v) for v in down],
    }
    return _slot_report(
        problem.grid,
        offer.window[0],
        event_id,
        client_name,
        resource_name,
        report_name,
        values,
        "KW",
    )


def _slot_report(grid, first, event_id, client_name, resource_name, report_name, values, units):
    """One interval per slot from ``first`` on, the resource's period giving start and length."""
    start = grid.start + timedelta(seconds=first * grid.step_s)
    n = len(next(iter(values.values())))
    intervals = [
        Interval(id=k, payloads=[ValuesMap(type=t, values=[v[k]]) for t, v in values.items()])
        for k in range(n)
    ]
    resource = ReportResource(
        resource_name=resource_name,
        interval_period=_period(start, timedelta(seconds=grid.step_s)),
        intervals=intervals,
    )
    descriptors = [
        ReportPayloadDescriptor(
            object_type="REPORT_PAYLOAD_DESCRIPTOR",
            payload_type=t,
            reading_type="FORECAST",
            units=units,
        )
        for t in values
    ]
    return Report(
        event_id=event_id,
        client_name=client_name,
        report_name=report_name,
        payload_descriptors=descriptors,
        resources=[resource],
    )


def _report(event_id, client_name, report_name, payload_types, units, intervals) -> Report:
    descriptors = [
        ReportPayloadDescriptor(
            object_type="REPORT_PAYLOAD_DESCRIPTOR", payload_type=t, units=units
        )
        for t in payload_types
    ]
    return Report(
        event_id=event_id,
        client_name=client_name,
        report_name=report_name,
        payload_descriptors=descriptors or None,
        resources=[ReportResource(resource_name=AGGREGATED_REPORT, intervals=intervals)],
    )


def _period(start: datetime, duration: timedelta) -> IntervalPeriod:
    return IntervalPeriod(start=start, duration=format_duration(duration))


def _finite(value) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
    )
